// The fast CPU backend: SIMD kernels (System.Runtime.Intrinsics, TensorPrimitives) over a fixed number of threads.
// Each op family lives in its own partial file and kernel class; the reference backend is the oracle for all of them.
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu;

public sealed partial class CpuBackend : IBackend, IDisposable
{
    private static readonly ReferenceBackend Ref = ReferenceBackend.Instance;

    /// <summary>Worker threads used by the parallel kernels (1 = run on the calling thread only).</summary>
    public int Threads { get; }

    public CpuBackend(int threads = 0)
    {
        Threads = threads > 0 ? threads : Environment.ProcessorCount;
    }

    public string Name => $"CPU ({CpuFeatures.Describe()}, {Threads}t)";

    /// <summary>Stops the worker threads (if any were started). The backend must not be used afterwards.</summary>
    public void Dispose() => _pool?.Dispose();
    public Device Device => Device.Cpu;

    public Tensor Zeros(DType dtype, params int[] shape) => Tensor.Zeros(dtype, shape);
    public Tensor Upload(Tensor host) => Ref.Upload(host);
    public float[] ToHost(Tensor t) => t.ToFloatArray();
    public Tensor Contiguous(Tensor t) => t.ContiguousCopy();
    public void Release(Tensor t) => t.ReleaseNative();
    public void CopyInto(Tensor source, Tensor destination) => destination.CopyFrom(source);
}

/// <summary>What the SIMD kernels can use on this machine.</summary>
public static class CpuFeatures
{
    public static bool Avx512 => System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
    public static bool Avx2 => System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    public static string Describe() => Avx512 ? "AVX-512" : Avx2 ? "AVX2" : "scalar";
}
