// MatMul (GEMM/GEMV) and embedding gather, plus the worker pool the parallel kernels share.
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;

namespace MambaVL.Cpu;

public sealed partial class CpuBackend
{
    private CpuThreadPool? _pool;

    /// <summary>The backend's worker pool (<see cref="Threads"/> threads, the caller included), created on first use.</summary>
    public CpuThreadPool Pool
    {
        get
        {
            if (_pool is { } pool) return pool;
            var created = new CpuThreadPool(Threads);
            var existing = Interlocked.CompareExchange(ref _pool, created, null);
            if (existing is null) return created;
            created.Dispose();
            return existing;
        }
    }

    public Tensor MatMul(Tensor x, Tensor w, Tensor? bias = null) => Ref.MatMul(x, w, bias);  // TODO: fast GEMM
    public Tensor Embedding(Tensor table, ReadOnlySpan<int> ids) => Ref.Embedding(table, ids);
}
