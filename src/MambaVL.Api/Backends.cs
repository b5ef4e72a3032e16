// The backend a model runs on, by device name: "cpu" (the SIMD backend, with a thread count) or "cuda" / "cuda:N" (one
// GPU). The owner disposes what was opened (the CPU worker pool, or the GPU backend and its context).
using System.Globalization;
using MambaVL.Core.Ops;
using MambaVL.Cpu;
using MambaVL.Cuda;

namespace MambaVL;

public static class Backends
{
    public static (IBackend Backend, IDisposable Owner) Create(string device, int threads)
    {
        if (threads < 0) throw new ArgumentException($"--threads: {threads} is not a thread count (0 = all cores)");
        if (CudaIndex(device) is not int index)
        {
            var cpu = new CpuBackend(threads);
            return (cpu, cpu);
        }
        var gpu = CudaDevice.Open(index);
        var backend = new CudaBackend(gpu);
        return (backend, new Owners(backend, gpu));
    }

    /// <summary>null for "cpu"; the GPU index for "cuda" / "cuda:N".</summary>
    public static int? CudaIndex(string device) => device.ToLowerInvariant() switch
    {
        "cpu" => null,
        "cuda" or "gpu" => 0,
        var d when d.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(d[5..], NumberStyles.None, CultureInfo.InvariantCulture, out int i) => i,
        _ => throw new ArgumentException($"--device: '{device}' is not cpu, cuda or cuda:N"),
    };

    private sealed class Owners(params IDisposable[] items) : IDisposable
    {
        public void Dispose() { foreach (var item in items) item.Dispose(); }
    }
}
