// The CUDA prefill scan: the chunked SSD kernels of Kernels/ssd.cu (tensor cores, bf16x3 products, fp32 accumulation),
// with the plain recurrence kept as the exact reference the selfcheck ties them to. Shapes: x (T, H, P); dt (T, H);
// B, C (T, G, N), each possibly a column slice of the in_proj output (rows strided, read in place); state (H, P, N).
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Tokens per chunk inside the kernel (SSD_Q): the model's chunk size does not change the result, only this does the work.</summary>
    public const int SsdKernelChunk = 64;

    /// <summary>The largest head dim and state size the chunked kernels take; beyond them SsdScan runs the recurrence.</summary>
    public const int SsdMaxHeadDim = 128, SsdMaxState = 256;

    /// <summary>
    /// <see cref="IBackend.SsdScan"/> as the plain recurrence (one step per token; exact, and slow for long prompts):
    /// the reference the selfcheck compares the chunked kernel with.
    /// </summary>
    public Tensor SsdScanRecurrence(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state) =>
        Recurrence(x, dt, b, c, p, state, step: false, "SsdScan");

    /// <summary>
    /// ssd_prep splits each chunk's C and B into bf16 hi/lo tiles and scores CB = C·Bᵀ once per group (every head of the
    /// group reads them); then, per <see cref="SsdVariant"/>, either ssd_scan_nK runs one block per (32 head channels, head)
    /// over the chunks in order, with the state in registers (2 output warps and np/64 state warps), writing y and the
    /// final state, or the chunk-parallel kernels do (<see cref="ParallelScan"/>).
    /// </summary>
    private Tensor ChunkedScan(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state)
    {
        const string op = "SsdScan";
        CheckSsmShapes(x, dt, b, c, op);
        int t = x.Dim(0), heads = x.Dim(1), pDim = x.Dim(2), groups = b.Dim(1), n = b.Dim(2);
        if (t == 0 || pDim > SsdMaxHeadDim || n > SsdMaxState || groups == 0 || heads % groups != 0)
            return SsdScanRecurrence(x, dt, b, c, p, state);   // empty, outside the kernels' sizes, or an error it reports
        var st = DeviceState(state, [heads, pDim, n], $"{op} state");
        var i = SsmOnDevice(x, dt, b, c, p, op);
        int np = n <= 64 ? 64 : n <= 128 ? 128 : 256;   // state columns padded with zeros to a kernel's size
        int chunks = (t + SsdKernelChunk - 1) / SsdKernelChunk;
        long tiles = (long)chunks * groups;
        var y = Empty(DType.F32, t, heads, pDim);
        // per (chunk, group): C and B as bf16 hi/lo planes (2 · Q · np · 2 bytes each) and the scores (Q · Q fp32)
        using var cs = Gpu.Allocate(tiles * 2 * SsdKernelChunk * np * 2);
        using var bs = Gpu.Allocate(tiles * 2 * SsdKernelChunk * np * 2);
        using var cb = Gpu.Allocate(tiles * SsdKernelChunk * SsdKernelChunk * sizeof(float));
        Gpu.Launch("ssd", "ssd_prep", ((uint)chunks, (uint)groups), 256, 0, Address(i.B), i.Ldb, Address(i.C), i.Ldc, cs, bs, cb, t, groups, n, np);
        if (SsdVariant == SsdKernel.Parallel)
            ParallelScan(i, p, st, y, groups, (cs, bs, cb), np);
        else
            Gpu.Launch("ssd", $"ssd_scan_n{np}", ((uint)((pDim + 31) / 32), (uint)heads), (uint)(32 * (2 + np / 64)), SsdSharedBytes(np),
                Address(i.X), i.Ldx, Address(i.Dt), i.Lddt, Address(i.A), Address(i.DtBias), i.DAddress, i.DMode,
                cs, bs, cb, Address(st), Address(y), t, heads, pDim, groups, n, p.DtMin, p.DtMax);
        return y;
    }

    /// <summary>
    /// Dynamic shared memory of ssd_scan_n{np}, as SsdPlan in ssd.cu lays it out (32-bit words): C and B tiles, the state,
    /// x and x·wgt (each as hi and lo planes, rows padded by 4 words), then four per-token float arrays.
    /// </summary>
    private static uint SsdSharedBytes(int np)
    {
        int nw = np / 2 + 4, qw = SsdKernelChunk / 2 + 4, ps = 32;
        int words = 2 * (SsdKernelChunk * nw + np * qw + ps * nw + 2 * ps * qw) + 4 * SsdKernelChunk;
        return (uint)(words * sizeof(int));
    }
}
