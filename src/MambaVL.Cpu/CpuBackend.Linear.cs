// MatMul (GEMM/GEMV) and embedding gather, plus the worker pool the parallel kernels share.
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Kernels;
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

    // x: (M, K) F32, w: (N, K) F32/F16/BF16, bias: (N) -> (M, N) F32.
    public unsafe Tensor MatMul(Tensor x, Tensor w, Tensor? bias = null)
    {
        Check.Rank(x, 2, "MatMul x"); Check.Rank(w, 2, "MatMul w");
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(0);
        if (w.Dim(1) != k) throw new ArgumentException($"MatMul: x {x} and w {w} disagree on K");
        if (bias != null && (bias.Rank != 1 || bias.Dim(0) != n)) throw new ArgumentException($"MatMul: bias {bias} is not ({n})");
        if (!GemmWeights.IsSupported(w.DType)) throw new NotSupportedException($"MatMul: weights {w} (expected F32, F16 or BF16)");
        x = AsContiguousF32(x);
        w = w.IsContiguous ? w : Contiguous(w);
        bias = bias is null ? null : AsContiguousF32(bias);
        var y = Tensor.Zeros(DType.F32, m, n);
        Gemm.MatMul(Pool, (float*)x.DataPointer, m, k, w.DataPointer, w.DType, n, bias is null ? null : (float*)bias.DataPointer,
            (float*)y.DataPointer, GemmWeights.Best);
        GC.KeepAlive(x); GC.KeepAlive(w); GC.KeepAlive(bias);
        return y;
    }

    // table: (V, D) F32/F16/BF16 -> (T, D) F32.
    public unsafe Tensor Embedding(Tensor table, ReadOnlySpan<int> ids)
    {
        Check.Rank(table, 2, "Embedding table");
        if (!GemmWeights.IsSupported(table.DType)) throw new NotSupportedException($"Embedding: table {table} (expected F32, F16 or BF16)");
        table = table.IsContiguous ? table : Contiguous(table);
        var y = Tensor.Zeros(DType.F32, ids.Length, table.Dim(1));
        Kernels.Embedding.Gather(table.DataPointer, table.DType, table.Dim(0), table.Dim(1), ids, (float*)y.DataPointer);
        GC.KeepAlive(table);
        return y;
    }

    private Tensor AsContiguousF32(Tensor t) => t.DType == DType.F32 ? (t.IsContiguous ? t : Contiguous(t)) : t.ToDType(DType.F32);
}
