// The chunk-parallel SSD forward (Kernels/ssd_parallel.cu), selectable beside the fused scan of ssd.cu: the same inputs
// and ssd_prep tiles, then cross scores, chunk states per 256 tokens, state passing and the chunk scan as separate
// launches, each parallel over chunks. Shapes: x (T, H, P); dt (T, H); B, C (T, G, N); state (H, P, N); y (T, H, P).
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

/// <summary>
/// The kernels behind the chunked SSD forward: Fused (ssd_scan: a block per (32 channels, head) walks the chunks in
/// order, the state in registers) or Parallel (ssd_parallel.cu: mamba_ssm's pipeline, every phase but the state passing
/// parallel over chunks).
/// </summary>
public enum SsdKernel { Fused, Parallel }

public sealed unsafe partial class CudaBackend
{
    /// <summary>Tokens per state chunk of the parallel kernels (SSD_SQ): the state is passed, and kept in global memory, at this step.</summary>
    public const int SsdStateChunk = 256;

    /// <summary>The chunked SSD forward's kernels: Parallel (default: 0.30 / 0.90 / 3.23 ms at 2K / 8K / 32K on the 2.7B mixer, H100, build dbb4053) or Fused (0.43 / 1.56 / 6.03).</summary>
    public SsdKernel SsdVariant { get; set; } = SsdKernel.Parallel;

    /// <summary>
    /// Heads per block of ssd_chunk_state / ssd_chunk_scan (1 or 2): with 2 (where H/G is even) a block's two heads share
    /// its staged B tile and read the same C and score tiles (the second read an L1 hit). 1 is the default: faster on the
    /// H100 at 2.7B shapes (32K tokens 3.71 vs 4.28 ms, measured before the ldmatrix rework). A knob for benchmarks.
    /// </summary>
    public int SsdHeadsPerBlock
    {
        get => _ssdHeadsPerBlock;
        set => _ssdHeadsPerBlock = value is 1 or 2 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "the chunk-parallel SSD runs 1 or 2 heads per block");
    }

    private int _ssdHeadsPerBlock = 1;

    /// <summary>
    /// After ssd_prep: ssd_cross_scores_nK (the off-diagonal 64×64 score tiles inside each state chunk, bf16x3), ssd_chunk_state_nK
    /// (each state chunk's contribution from zero, into an (H, K, P, N) F32 buffer: N/256 of x's bytes), ssd_state_pass (the
    /// states entering each chunk, in place, and the final state into <paramref name="st"/>), ssd_chunk_scan_nK (y).
    /// Chunk state and scan blocks: (state chunk, 64 channels, hb heads), the heads fastest in the block index.
    /// </summary>
    private void ParallelScan(SsmInputs i, SsmParams p, Tensor st, Tensor y, int groups,
        (DeviceBuffer Cs, DeviceBuffer Bs, DeviceBuffer Cb) tiles, int np)
    {
        int t = y.Dim(0), heads = y.Dim(1), pDim = y.Dim(2), n = st.Dim(2);
        int chunks = (t + SsdKernelChunk - 1) / SsdKernelChunk, stateChunks = (t + SsdStateChunk - 1) / SsdStateChunk;
        int elems = pDim * n, hb = SsdHeadsPerBlock == 2 && heads / groups % 2 == 0 ? 2 : 1;
        string suffix = hb == 2 ? "_h2" : "";
        uint blocks = (uint)(stateChunks * ((pDim + SsdBlockChannels - 1) / SsdBlockChannels) * (heads / hb)), threads = (uint)(256 * hb);
        const int sub = SsdStateChunk / SsdKernelChunk;
        using var cross = Gpu.Allocate((long)chunks * groups * (sub - 1) * SsdKernelChunk * SsdKernelChunk * sizeof(float));
        using var states = Gpu.Allocate((long)stateChunks * heads * elems * sizeof(float));
        using var decay = Gpu.Allocate((long)stateChunks * heads * sizeof(float));
        uint rowTiles = (uint)(4 * SsdKernelChunk * PaddedWords(np) * sizeof(int));   // a chunk's C and B rows, hi and lo planes
        Gpu.Launch("ssd_parallel", $"ssd_cross_scores_n{np}", ((uint)(stateChunks * sub * (sub - 1) / 2), (uint)groups), 256, rowTiles,
            Address(i.B), i.Ldb, Address(i.C), i.Ldc, cross, t, groups, n);
        Gpu.Launch("ssd_parallel", $"ssd_chunk_state_n{np}{suffix}", (blocks, 1), threads, SsdChunkStateSharedBytes(np, hb),
            Address(i.X), i.Ldx, Address(i.Dt), i.Lddt, Address(i.A), Address(i.DtBias), tiles.Bs, states, decay,
            t, heads, pDim, groups, n, p.DtMin, p.DtMax);
        int vec = elems % 4 == 0 && Address(st) % 16 == 0 ? 4 : 1;   // float4 lanes where the rows allow
        Gpu.Launch("ssd_parallel", "ssd_state_pass", ((uint)((elems / vec + 255) / 256), (uint)heads), 256, 0,
            states, decay, Address(st), stateChunks, elems, vec == 4 ? 1 : 0);
        Gpu.Launch("ssd_parallel", $"ssd_chunk_scan_n{np}{suffix}", (blocks, 1), threads, SsdChunkScanSharedBytes(np, hb),
            Address(i.X), i.Ldx, Address(i.Dt), i.Lddt, Address(i.A), Address(i.DtBias), i.DAddress, i.DMode,
            tiles.Cs, tiles.Cb, cross, states, Address(y), t, heads, pDim, groups, n, p.DtMin, p.DtMax);
    }

    /// <summary>Head channels per block of the chunk state and scan (SSD_PW).</summary>
    private const int SsdBlockChannels = 64;

    /// <summary>32-bit words per shared-memory row of <paramref name="columns"/> BF16 values: pairs, padded by 4 words (SSD_QW, NW).</summary>
    private static int PaddedWords(int columns) => columns / 2 + 4;

    /// <summary>Words per head of the cumsum arrays: cum and dt' per state-chunk token, 8 warp totals.</summary>
    private const int SsdCumsumWords = 2 * SsdStateChunk + 8;

    /// <summary>
    /// Dynamic shared memory of ssd_chunk_state_n{np}, as SsdStatePlan in ssd_parallel.cu lays it out (32-bit words): one
    /// B tile (hi and lo planes, rows padded by 4 words), then per head the weighted x tile (hi, lo) and the cumsum arrays.
    /// </summary>
    private static uint SsdChunkStateSharedBytes(int np, int hb)
    {
        int qw = PaddedWords(SsdKernelChunk);
        int words = 2 * np * qw + hb * (2 * SsdBlockChannels * qw + SsdCumsumWords);
        return (uint)(words * sizeof(int));
    }

    /// <summary>
    /// Dynamic shared memory of ssd_chunk_scan_n{np}, as SsdScanPlan in ssd_parallel.cu lays it out (32-bit words), per
    /// head: the entering state and one x tile (hi and lo planes, rows padded by 4 words), the cumsum arrays.
    /// </summary>
    private static uint SsdChunkScanSharedBytes(int np, int hb)
    {
        int nw = PaddedWords(np), qw = PaddedWords(SsdKernelChunk);
        int words = 2 * SsdBlockChannels * nw + 2 * SsdBlockChannels * qw + SsdCumsumWords;
        return (uint)(hb * words * sizeof(int));
    }
}
