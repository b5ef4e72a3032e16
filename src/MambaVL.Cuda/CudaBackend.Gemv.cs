// The decode-sized matrix product on CUDA (MatMul with M ≤ 8 rows): gemv.cu's warp-per-column kernel, the two
// alternatives of gemv_pipe.cu for BF16 weights and M ≤ 2 (the batch-1 decode), selected by GemvVariant so a run can
// compare them (`mambavl bench --device cuda --gemv vec|stream|ring`), and gemv_mma.cu's tensor-core kernel for BF16
// weights and 3 ≤ M ≤ 8 (batched decode), selected by GemvBatch (`--gemv-batch vec|mma`). Shapes a variant does not
// take run gemv_vec.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

/// <summary>
/// The kernel behind the decode GEMV for BF16 weights and M ≤ 2: Vec (gemv_vec: a warp per column, 4 loads in flight per
/// lane), Stream (gemv_stream: a warp per run of columns, 8 loads in flight without gaps), Ring (gemv_ring, the
/// default: the same walk, 11 or 15 loads per lane in flight by cp.async into shared memory). All three launch early
/// (CudaDevice.LaunchEarly).
/// </summary>
public enum GemvVariant { Vec, Stream, Ring }

/// <summary>
/// The kernel behind the decode GEMV for BF16 weights and 3 ≤ M ≤ 8 (a batch of sequences): Vec (gemv_vec on x rounded
/// to BF16 by a kernel before it: M sums per lane on the CUDA cores) or Mma (gemv_mma: tensor-core MMAs, x rounded as
/// it is read, weights loading before the kernel before has ended).
/// </summary>
public enum GemvBatchVariant { Vec, Mma }

public sealed partial class CudaBackend
{
    private const int GemvMaxRows = 8;  // GEMV_MAX_M in gemv.cu

    /// <summary>The kernel for BF16 decode products with M ≤ 2 (Ring: the fastest of the three on the H100, see PERFORMANCE.md).</summary>
    public GemvVariant GemvVariant { get; set; } = GemvVariant.Ring;

    /// <summary>The kernel for BF16 decode products with 3 ≤ M ≤ 8 (Mma: batch-8 decode 1438 vs 953 tok/s with Vec on an H200).</summary>
    public GemvBatchVariant GemvBatch { get; set; } = GemvBatchVariant.Mma;

    /// <summary>The decode-sized product (M ≤ 8): one pass over w at memory speed, bias fused.</summary>
    private void Gemv(Tensor x, long ldx, Tensor w, Tensor? bias, Tensor y)
    {
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(0);
        if (m == 0 || n == 0) return;
        ulong b = bias is null ? 0 : Address(Contiguous(F32(bias, "MatMul bias")));
        bool bf16 = w.DType == DType.BF16;
        bool vectors = k % 8 == 0 && ldx % 4 == 0 && Address(x) % 16 == 0 && Address(w) % 16 == 0;   // 16-byte loads of x and w
        if (bf16 && vectors && m <= 2 && GemvVariant != GemvVariant.Vec
            && (GemvVariant == GemvVariant.Stream ? GemvStream(x, ldx, w, b, y) : GemvRing(x, ldx, w, b, y)))
            return;
        if (bf16 && vectors && m > 2 && GemvBatch == GemvBatchVariant.Mma && GemvMma(x, ldx, w, b, y))
            return;
        // one wave of as many 8-warp blocks per SM as fit, each warp striding over the same number of columns
        var (blocks, _) = OneWave(n, Gpu.BlocksPerMultiprocessor("gemv", "gemv_vec", 256));
        if (!vectors)
        {
            Gpu.LaunchEarly("gemv", "gemv_scalar", (blocks, 1), 256, 0, Address(x), ldx, Address(w), b, Address(y), m, n, k, bf16 ? 1 : 0);
            return;
        }
        if (bf16 && m > 2)
        {
            // more rows: x rounded to BF16 once here rather than per weight in every warp
            using var xb = Gpu.Allocate((long)m * k * 2);
            Gpu.Launch("conversions", "f32_to_bf16", (Gpu.Blocks((long)m * k), 1), 256, 0, Address(x), xb.Pointer, (long)m * k, k, ldx);
            Gpu.LaunchEarly("gemv", "gemv_vec", (blocks, 1), 256, 0, xb.Pointer, (long)k, Address(w), b, Address(y), m, n, k, 1, 1);
            return;
        }
        Gpu.LaunchEarly("gemv", "gemv_vec", (blocks, 1), 256, 0, Address(x), ldx, Address(w), b, Address(y), m, n, k, bf16 ? 1 : 0, 0);
    }

    /// <summary>
    /// gemv_stream: one wave of 8-warp blocks (as many per SM as registers and x's shared copy allow), each warp a
    /// contiguous run of columns. Needs K % 256 == 0 and x (M, K) in 48 KB of shared memory; false when it does not apply.
    /// </summary>
    private bool GemvStream(Tensor x, long ldx, Tensor w, ulong bias, Tensor y)
    {
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(0);
        long shared = (long)m * k * sizeof(float);
        if (k % 256 != 0 || shared > 48 * 1024) return false;
        long perSm = Math.Max(1, Math.Min(Gpu.BlocksPerMultiprocessor("gemv_pipe", "gemv_stream", 256), 200 * 1024 / Math.Max(shared, 1)));
        var (blocks, columnsPerWarp) = OneWave(n, perSm);
        Gpu.LaunchEarly("gemv_pipe", "gemv_stream", (blocks, 1), 256, (uint)shared, Address(x), ldx, Address(w), bias, Address(y), m, n, k, columnsPerWarp);
        return true;
    }

    /// <summary>
    /// Whether NormMatMul folds the norm into the decode GEMV's prologue. Off by default: on the H100 the 2.7B decode ran
    /// 297 tok/s with it and 307 without (every block redoing the norm costs more than the norm kernel it saves).
    /// </summary>
    public bool FusedNormMatMul { get; set; }

    /// <summary>One counter: gemv_ring*_norm's last block writes the residual and resets it.</summary>
    private readonly DeviceBuffer _normCounter;

    /// <summary>
    /// The pre-norm projection. With FusedNormMatMul, for decode rows (M ≤ 2, BF16 w, K % 256 == 0, with the Ring GEMV) one kernel: each block
    /// normalises residual + x itself into its staged x, the last one writes the residual back; so the block's input
    /// projection follows the kernel before with no norm kernel between, its weights streaming while that one ends.
    /// Anything else runs the two ops (<see cref="NormMatMulComposition.Run"/>).
    /// </summary>
    public Tensor NormMatMul(Tensor residual, Tensor? x, Tensor norm, float eps, Tensor w, Tensor? bias = null) =>
        (FusedNormMatMul ? NormGemv(residual, x, norm, eps, w, bias) : null) ?? NormMatMulComposition.Run(this, residual, x, norm, eps, w, bias);

    /// <summary>NormMatMul as one gemv_ring*_norm launch, or null when the shapes, types or alignment do not fit it.</summary>
    private Tensor? NormGemv(Tensor residual, Tensor? x, Tensor norm, float eps, Tensor w, Tensor? bias)
    {
        bool shapes = residual.Rank == 2 && residual.Dim(0) is >= 1 and <= 2 && w.Rank == 2 && w.Dim(1) == residual.Dim(1) && w.Dim(1) % 256 == 0
            && norm.Length == residual.Dim(1) && (x is null || x.Shape.SequenceEqual(residual.Shape));
        if (GemvVariant != GemvVariant.Ring || !shapes || w.DType != DType.BF16 || residual.DType != DType.F32
            || residual.Storage is not CudaStorage || !residual.IsContiguous || Address(residual) % 16 != 0)
            return null;
        long ldx = 0;
        if (x != null) x = Rows(F32(x, "NormMatMul x"), out ldx);
        var g = Contiguous(F32(norm, "NormMatMul norm"));
        w = Contiguous(OnDevice(w, "NormMatMul w"));
        if (x != null && (ldx % 4 != 0 || Address(x) % 16 != 0) || Address(g) % 16 != 0 || Address(w) % 16 != 0) return null;
        int m = residual.Dim(0), k = residual.Dim(1), n = w.Dim(0);
        if (PlanRing(m, k, n, "_norm") is not { } plan) return null;
        ulong b = bias is null ? 0 : Address(Contiguous(F32(bias, "NormMatMul bias")));
        var y = Empty(DType.F32, m, n);
        Gpu.LaunchEarly("gemv_pipe", plan.Kernel, (plan.Blocks, 1), 256, plan.Shared, x is null ? 0UL : Address(x), ldx, Address(w), b, Address(y),
            m, n, k, plan.ColumnsPerWarp, Address(residual), Address(g), eps, _normCounter.Pointer);
        return y;
    }

    /// <summary>gemv_ring: as gemv_stream, with the loads in flight in a per-warp shared-memory ring. False when it does not fit.</summary>
    private bool GemvRing(Tensor x, long ldx, Tensor w, ulong bias, Tensor y)
    {
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(0);
        if (PlanRing(m, k, n, "") is not { } plan) return false;
        Gpu.LaunchEarly("gemv_pipe", plan.Kernel, (plan.Blocks, 1), 256, plan.Shared, Address(x), ldx, Address(w), bias, Address(y), m, n, k, plan.ColumnsPerWarp);
        return true;
    }

    private readonly record struct RingPlan(string Kernel, uint Shared, uint Blocks, int ColumnsPerWarp);

    /// <summary>
    /// The ring of 12 or 16 slots (kernel gemv_ring{12,16}{suffix}) that keeps more bytes in flight per SM (blocks per
    /// SM × warps × (depth − 1) × 512 B) with x (M, K) staged per block, and one wave of blocks over the N columns;
    /// null when K % 256 != 0 or x's copy leaves no room for a block. staticShared: the kernel's own __shared__ bytes.
    /// </summary>
    private RingPlan? PlanRing(int m, int k, int n, string suffix, long staticShared = 0)
    {
        if (k % 256 != 0 || n == 0) return null;
        (string Kernel, long Shared, long PerSm, long InFlight) best = default;
        foreach (int depth in (int[])[12, 16])
        {
            string kernel = $"gemv_ring{depth}{suffix}";
            long shared = 8L * depth * 512 + (long)m * k * sizeof(float);
            if (shared > 200 * 1024) continue;
            long perSm = Math.Min(Gpu.BlocksPerMultiprocessor("gemv_pipe", kernel, 256), Gpu.SharedBytesPerMultiprocessor / (shared + staticShared + 1024));
            long inFlight = perSm * 8 * (depth - 1) * 512;
            if (perSm > 0 && inFlight > best.InFlight) best = (kernel, shared, perSm, inFlight);
        }
        if (best.Kernel is null) return null;
        var (blocks, columnsPerWarp) = OneWave(n, best.PerSm);
        return new RingPlan(best.Kernel, (uint)best.Shared, blocks, columnsPerWarp);
    }

    /// <summary>
    /// At most one wave of 8-warp blocks (<paramref name="blocksPerSm"/> per SM), every warp taking the same number of
    /// the N columns (a last round with a fraction of the warps busy would run at a fraction of the bandwidth).
    /// </summary>
    private (uint Blocks, int ColumnsPerWarp) OneWave(int n, long blocksPerSm)
    {
        long wave = Gpu.Multiprocessors * blocksPerSm * 8, columnsPerWarp = (n + wave - 1) / wave;
        return ((uint)(((n + columnsPerWarp - 1) / columnsPerWarp + 7) / 8), (int)columnsPerWarp);
    }

    /// <summary>gemv_mma: tensor-core MMAs over a few rows of x (w 16-byte aligned, K % 8 == 0, x rows 16-byte aligned). False when no variant fits.</summary>
    private bool GemvMma(Tensor x, long ldx, Tensor w, ulong bias, Tensor y)
    {
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(0);
        if (PlanMma(m, k, n) is not { } plan) return false;
        Gpu.LaunchEarly("gemv_mma", plan.Kernel, (plan.Blocks, 1), 256, plan.Shared, Address(x), ldx, Address(w), bias, Address(y), m, n, k, plan.GroupsPerBlock);
        return true;
    }

    private readonly record struct MmaPlan(string Kernel, uint Shared, uint Blocks, int GroupsPerBlock);

    /// <summary>(T tiles of 16 columns per warp at once, ring depth D) of the gemv_mma_t{T}_d{D} kernels.</summary>
    private static readonly (int Tiles, int Depth)[] MmaKernels = [(1, 4), (1, 6), (1, 8), (1, 12), (2, 4), (2, 6), (2, 8)];

    /// <summary>
    /// The gemv_mma variant that keeps the most weight bytes in flight, as PlanRing: blocks per SM (registers; shared
    /// memory: 8 warps × D slots of T KB of w and M · 128 B of x, plus T × 4 KB of partial sums) × 8 warps ×
    /// min(D − 1, a warp's slots) × T KB, with one wave of blocks, each a run of groups of T tiles. Null when none fits.
    /// </summary>
    private MmaPlan? PlanMma(int m, int k, int n)
    {
        long tiles = (n + 15) / 16, slotsPerGroup = ((k + 31) / 32 + 7) / 8;   // a warp's k-blocks of 32 per group (at most)
        (MmaPlan Plan, long InFlight) best = default;
        foreach (var (t, d) in MmaKernels)
        {
            string kernel = $"gemv_mma_t{t}_d{d}";
            long shared = 16L * (8L * d * (64 * t + 8 * m) + 256 * t);   // as gemv_mma_body lays it out, in uint4
            if (shared > 200 * 1024) continue;
            long perSm = Math.Min(Gpu.BlocksPerMultiprocessor("gemv_mma", kernel, 256), Gpu.SharedBytesPerMultiprocessor / (shared + 1024));
            if (perSm == 0) continue;
            long groups = (tiles + t - 1) / t, wave = Gpu.Multiprocessors * perSm;
            long perBlock = (groups + wave - 1) / wave, blocks = (groups + perBlock - 1) / perBlock;
            long inFlight = blocks * 8 * Math.Min(d - 1, perBlock * slotsPerGroup) * t * 1024;
            if (inFlight > best.InFlight) best = (new MmaPlan(kernel, (uint)shared, (uint)blocks, (int)perBlock), inFlight);
        }
        return best.InFlight > 0 ? best.Plan : null;
    }
}
