// The decode step through the whole Mamba-2 block stack on CUDA (IBackend.MambaBlocksStep): one persistent kernel
// (mamba_blocks.cu) for one sequence, its weight streams never pausing at the blocks' small ops; shapes and placements
// it does not take, and FusedBlocksStep = false, run the per-block composition. The kernel reads the blocks' tensors
// through a device table of their addresses, built once per (weights, states) and kept, so a recorded step replays it.
using System.Runtime.InteropServices;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cuda.Interop;

namespace MambaVL.Cuda;

/// <summary>
/// The consumer of mamba_blocks' two products: Ring (gemv_ring's sums on the CUDA cores, any warp count) or Mma (the
/// tensor cores, blocks_mma.cuh: 8 warps; 342-346 vs 326-331 tok/s on the 2.7B shape, H100, PERFORMANCE.md).
/// </summary>
public enum BlocksProductKernel { Ring, Mma }

public sealed partial class CudaBackend
{
    private const int BlockTableFields = 13;        // MbLayer's pointers
    private const int BlockTablesKept = 256;         // distinct (weights, states) tables; more run the composition
    private const long BlocksStaticShared = 1024;    // the kernel's own __shared__ (672 B by NVRTC) and the driver's 1 KB, rounded up
    private readonly Dictionary<string, DeviceBuffer> _blockTables = [];
    private const int CooperativeLaunchTooLarge = 720;   // CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE
    private readonly DeviceBuffer _blocksBarrier;    // (2) uint32: arrivals, generation (mamba_blocks' grid barrier)
    private bool _blocksNotResident;                 // the driver refused a grid of one block per SM (e.g. a shared GPU)
    private DeviceBuffer? _blocksTrace;              // (2, layers, 8) uint64 clocks, when TraceBlocks
    private int _tracedLayers;

    /// <summary>
    /// Whether MambaBlocksStep runs the stack as the one mamba_blocks kernel where it fits (batch 1, BF16 projections),
    /// or block by block (to compare: `bench --blocks fused|ops`). On: 318 vs 315 tok/s from graphs, 316 vs 302 op by op
    /// (2.7B, H100; PERFORMANCE.md).
    /// </summary>
    public bool FusedBlocksStep { get; set; } = true;

    /// <summary>
    /// Warps per block of the mamba_blocks kernel: 8, or 16 (twice the warps, half the ring each: slower on the H100,
    /// 293 vs 317 tok/s, the phases' barriers dominate; kept to compare).
    /// </summary>
    public int BlocksWarps
    {
        get => _blocksWarps;
        set => _blocksWarps = value is 8 or 16 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "mamba_blocks runs 8 or 16 warps per block");
    }

    private int _blocksWarps = 8;

    /// <summary>
    /// The products' consumer inside mamba_blocks (`bench --blocks-products ring|mma`): Mma (default) runs
    /// mamba_blocks_mma8x48 (8 warps, whatever BlocksWarps says) where D and Dn ≤ 8192, else the CUDA-core kernels run.
    /// </summary>
    public BlocksProductKernel BlocksProducts { get; set; } = BlocksProductKernel.Mma;

    private const int BlocksMmaMaxK = 8192;   // MB_PACK_ROUNDS · 8 · 256 in blocks_mma.cuh: x packed in place, D and Dn at most this

    /// <summary>
    /// Whether mamba_blocks records SM clocks at 8 points of every layer in its first and last block (read back by
    /// BlocksPhaseCycles; `bench --blocks-trace`): where a token's time goes, for tuning. Off: the kernel skips it.
    /// </summary>
    public bool TraceBlocks { get; set; }

    /// <summary>Why the last MambaBlocksStep with FusedBlocksStep on ran the per-block composition (null: it ran the kernel).</summary>
    public string? BlocksFallback { get; private set; }

    public Tensor MambaBlocksStep(Tensor residual, IReadOnlyList<MambaBlockWeights> blocks, IReadOnlyList<Tensor> convStates, IReadOnlyList<Tensor> ssmStates)
    {
        MambaBlocksStepComposition.Check(blocks, convStates, ssmStates);
        BlocksFallback = "FusedBlocksStep is off";
        if (!FusedBlocksStep || PlanBlocks(residual, blocks, convStates, ssmStates) is not { } plan
            || BlocksTable(blocks, convStates, ssmStates) is not { } table)
            return MambaBlocksStepComposition.Run(this, residual, blocks, convStates, ssmStates);
        BlocksFallback = null;
        var d = plan.Dims;
        int dn = d.Heads * d.HeadDim;
        var h = Empty(DType.F32, 1, d.D);
        var zx = Empty(DType.F32, 1, d.InRows);
        var g = Empty(DType.F32, 1, dn);
        var partials = Empty(DType.F32, 1, d.Heads);
        try
        {
            Gpu.LaunchCooperative("mamba_blocks", plan.Kernel, (plan.Grid, 1), (uint)plan.Threads, plan.Shared, table.Pointer, DimsBytes(d), Address(residual),
                Address(h), Address(zx), Address(g), Address(partials), _blocksBarrier.Pointer, TraceBuffer(d.Layers));
        }
        catch (CudaException e) when (e.Code == CooperativeLaunchTooLarge)
        {
            _blocksNotResident = true;   // not a sticky error: the per-block kernels run now and from here on
            BlocksFallback = "the driver would not start one block on every SM at once";
            Release(h);
            h = MambaBlocksStepComposition.Run(this, residual, blocks, convStates, ssmStates);
        }
        Release(zx);
        Release(g);
        Release(partials);
        return h;
    }

    /// <summary>The trace buffer's address when TraceBlocks is on (made outside a recording), else 0.</summary>
    private ulong TraceBuffer(int layers)
    {
        if (!TraceBlocks || (Gpu.IsRecording && _tracedLayers != layers)) return 0;
        if (_tracedLayers != layers)
        {
            _blocksTrace?.Dispose();
            _blocksTrace = Gpu.Allocate(2L * layers * 8 * sizeof(ulong));
            _tracedLayers = layers;
        }
        return _blocksTrace!.Pointer;
    }

    /// <summary>
    /// The last traced launch (TraceBlocks): for its first and its last block, the mean SM cycles per layer of each phase:
    /// norm, in_proj, barrier, step, barrier, gate staging, out_proj, then barrier to the next layer (over layers − 1).
    /// Null before a traced launch.
    /// </summary>
    public double[][]? BlocksPhaseCycles()
    {
        if (_blocksTrace is null) return null;
        Gpu.Synchronize();
        var clocks = new ulong[2 * _tracedLayers * 8];
        Gpu.Read(_blocksTrace.Pointer, MemoryMarshal.AsBytes(clocks.AsSpan()));
        var phases = new double[2][];
        for (int b = 0; b < 2; b++)
        {
            phases[b] = new double[8];
            for (int l = 0; l < _tracedLayers; l++)
            {
                int at = (b * _tracedLayers + l) * 8;
                for (int p = 0; p < 7; p++) phases[b][p] += (long)(clocks[at + p + 1] - clocks[at + p]) / (double)_tracedLayers;
                if (l + 1 < _tracedLayers) phases[b][7] += (long)(clocks[at + 8] - clocks[at + 7]) / (double)(_tracedLayers - 1);
            }
        }
        return phases;
    }

    /// <summary>MbDims of mamba_blocks.cu: the shapes and constants every block shares.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct BlockDims(int D, int InRows, int Heads, int HeadDim, int Groups, int StateSize, int Width, int GateGroup,
        int DMode, int Layers, float NormEps, float GateEps, float DtMin, float DtMax);

    private static byte[] DimsBytes(BlockDims d) => MemoryMarshal.AsBytes(new ReadOnlySpan<BlockDims>(in d)).ToArray();

    private sealed record BlocksPlan(string Kernel, int Threads, uint Shared, uint Grid, BlockDims Dims);

    /// <summary>
    /// The launch for this stack, or null where the kernel does not take it (see mamba_blocks.cu's Needs), the reason in
    /// BlocksFallback.
    /// </summary>
    private BlocksPlan? PlanBlocks(Tensor residual, IReadOnlyList<MambaBlockWeights> blocks, IReadOnlyList<Tensor> convStates, IReadOnlyList<Tensor> ssmStates)
    {
        BlocksFallback = "the driver would not start one block on every SM at once";
        if (_blocksNotResident) return null;
        BlocksFallback = "the residual is not one contiguous, aligned F32 row on this device";
        if (!Resident(residual) || residual.DType != DType.F32 || residual.Rank != 2 || residual.Dim(0) != 1 || Address(residual) % 16 != 0) return null;
        BlocksFallback = "the first block's shapes are outside the kernel's limits";
        if (BlockShapes(blocks[0], ssmStates[0], residual.Dim(1)) is not { } dims) return null;
        dims = dims with { Layers = blocks.Count };
        for (int l = 0; l < blocks.Count; l++)
            if (BlockMismatch(blocks[l], convStates[l], ssmStates[l], dims) is { } why)
            {
                BlocksFallback = $"block {l}: {why}";
                return null;
            }
        BlocksFallback = "no ring depth fits this device's shared memory with one block per SM";
        int dn = dims.Heads * dims.HeadDim;
        long xs = Math.Max(Math.Max(dims.D, dn), 2L * dims.StateSize + 2L * dims.HeadDim) * sizeof(float);
        // the tensor-core products pack x in place up to BlocksMmaMaxK: wider models take the CUDA-core kernels
        bool mma = BlocksProducts == BlocksProductKernel.Mma && Math.Max(dims.D, dn) <= BlocksMmaMaxK;
        // the Mma kernel's partial sums (mb_mma_part_floats): ⌈max(N_in, D) / grid⌉ columns · 8 warps, a multiple of 4 floats
        long mmaPart = ((Math.Max(dims.InRows, dims.D) + Gpu.Multiprocessors - 1L) / Gpu.Multiprocessors * 8 + 3) / 4 * 4 * sizeof(float);
        // the kernels of mamba_blocks.cu, the chosen products and warps first, deepest ring first; the others after, for a
        // GPU with less shared memory per SM (an A100's 164 KB take the Mma kernel of 24 slots or 16 warps of 12)
        (bool Mma, int Warps, int Depth)[] ring = BlocksWarps == 8 ? [(false, 8, 48), (false, 16, 24), (false, 16, 12)] : [(false, 16, 24), (false, 16, 12), (false, 8, 48)];
        var candidates = mma ? [(true, 8, 48), (true, 8, 24), .. ring] : ring;
        foreach (var (tensorCores, warps, depth) in candidates)
        {
            long shared = warps * depth * 512L + (tensorCores ? mmaPart : 0) + xs;
            if (shared + BlocksStaticShared > Gpu.SharedBytesPerMultiprocessor) continue;
            string kernel = tensorCores ? $"mamba_blocks_mma{warps}x{depth}" : $"mamba_blocks{warps}x{depth}";
            // the grid barrier needs every block resident at once: one per SM, and the SM must hold one
            if (Gpu.ResidentBlocks("mamba_blocks", kernel, warps * 32, (uint)shared) < 1) continue;
            return new BlocksPlan(kernel, warps * 32, (uint)shared, (uint)Gpu.Multiprocessors, dims);
        }
        return null;
    }

    /// <summary>The shapes of the first block (D from the residual), or null where the kernel's limits exclude them.</summary>
    private static BlockDims? BlockShapes(MambaBlockWeights b, Tensor ssm, int d)
    {
        if (ssm.Rank != 4 || b.InProj.Rank != 2 || b.Step.ConvWeight.Rank != 2) return null;
        int heads = ssm.Dim(1), p = ssm.Dim(2), n = ssm.Dim(3), dn = heads * p, inRows = b.InProj.Dim(0);
        int bc = inRows - 2 * dn - heads, gate = b.Step.GateGroupSize, width = b.Step.ConvWeight.Dim(1);
        if (bc <= 0 || bc % (2 * n) != 0) return null;
        int groups = bc / (2 * n);
        int dMode = b.Step.Ssm.D is null ? 0 : b.Step.Ssm.D.Length == heads ? 1 : b.Step.Ssm.D.Length == dn ? 2 : -1;
        bool fits = d % 256 == 0 && dn % 256 == 0 && n % 4 == 0 && heads % groups == 0 && dMode >= 0
            && StepKernelTakes(dn, p, gate, width) && GateStagingTakes(dn, gate);
        return fits ? new BlockDims(d, inRows, heads, p, groups, n, width, gate, dMode, 0, b.NormEps, b.Step.NormEps, b.Step.Ssm.DtMin, b.Step.Ssm.DtMax) : null;
    }

    /// <summary>
    /// Null when one block's tensors are on this device, contiguous, of the first block's shapes, dtypes and constants;
    /// else what is not.
    /// </summary>
    private string? BlockMismatch(MambaBlockWeights b, Tensor conv, Tensor ssm, BlockDims d)
    {
        int dn = d.Heads * d.HeadDim, convDim = dn + 2 * d.Groups * d.StateSize;
        var s = b.Step;
        bool Vector(Tensor? t, long length) => t is null || (Resident(t) && t.DType == DType.F32 && t.Length == length);
        bool Matrix(Tensor w, int rows, int cols) => Resident(w) && w.DType == DType.BF16 && w.Rank == 2 && w.Dim(0) == rows && w.Dim(1) == cols && Address(w) % 16 == 0;
        if (BlockShapes(b, ssm, d.D) != d with { Layers = 0 }) return "its shapes or constants differ from the first block's";
        if (!Matrix(b.InProj, d.InRows, d.D) || !Matrix(b.OutProj, d.D, dn)) return "in_proj or out_proj is not a BF16 device matrix";
        if (!Vector(b.Norm, d.D) || !Vector(b.InProjBias, d.InRows) || !Vector(b.OutProjBias, d.D)) return "its norm or a bias is not an F32 device vector";
        if (!Vector(s.ConvWeight, (long)convDim * d.Width) || !Vector(s.ConvBias, convDim) || !Vector(s.Ssm.A, d.Heads)
            || !Vector(s.Ssm.DtBias, d.Heads) || !Vector(s.Ssm.D, d.DMode == 2 ? dn : d.Heads) || !Vector(s.GateNorm, dn))
            return "a step constant is not an F32 device tensor";
        if (!Vector(conv, (long)convDim * (d.Width - 1)) || conv.Rank != 3 || conv.Dim(0) != 1 || conv.Dim(1) != convDim) return "its conv state is not (1, C, W-1) F32 on this device";
        if (!Vector(ssm, (long)dn * d.StateSize) || ssm.Dim(0) != 1 || Address(ssm) % 16 != 0) return "its SSM state is not (1, H, P, N) F32 on this device";
        return null;
    }

    /// <summary>A contiguous tensor on this device (so its address can go into a table and stay valid).</summary>
    private bool Resident(Tensor t) => t.Storage is CudaStorage s && s.Device.Index == Gpu.Index && t.IsContiguous;

    /// <summary>
    /// The device table of every block's 13 addresses (MbLayer), made once per distinct set and kept (a recorded step's
    /// kernel reads it at every replay). Null while recording a step that has none yet (no host copy can be recorded)
    /// or once BlockTablesKept are held.
    /// </summary>
    private DeviceBuffer? BlocksTable(IReadOnlyList<MambaBlockWeights> blocks, IReadOnlyList<Tensor> convStates, IReadOnlyList<Tensor> ssmStates)
    {
        var entries = new ulong[blocks.Count * BlockTableFields];
        for (int l = 0; l < blocks.Count; l++)
        {
            var (b, s) = (blocks[l], blocks[l].Step);
            ulong Of(Tensor? t) => t is null ? 0UL : Address(t);
            ulong[] fields = [Of(b.Norm), Of(b.InProj), Of(b.InProjBias), Of(s.ConvWeight), Of(s.ConvBias), Of(convStates[l]), Of(s.Ssm.A),
                Of(s.Ssm.DtBias), Of(s.Ssm.D), Of(s.GateNorm), Of(ssmStates[l]), Of(b.OutProj), Of(b.OutProjBias)];
            fields.CopyTo(entries, l * BlockTableFields);
        }
        string key = Convert.ToHexString(MemoryMarshal.AsBytes(entries.AsSpan()));
        if (_blockTables.TryGetValue(key, out var table)) return table;
        BlocksFallback = Gpu.IsRecording ? "recording a step whose address table was never made" : $"{BlockTablesKept} address tables are held already";
        if (Gpu.IsRecording || _blockTables.Count >= BlockTablesKept) return null;
        table = Gpu.UploadBytes(MemoryMarshal.AsBytes(entries.AsSpan()));
        _blockTables[key] = table;
        return table;
    }
}
