// Entry point of the CPU matrix product y = x·wᵀ + bias: picks the bandwidth-bound GEMV (few rows) or the packed,
// register-tiled GEMM (many rows) and splits the output over the thread pool.
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;

namespace MambaVL.Cpu.Kernels;

public static unsafe class Gemm
{
    /// <summary>Up to this many rows of x, W is streamed once by the GEMV kernel; above it the packed GEMM runs.</summary>
    public const int GemvMaxRows = 8;

    /// <summary>y = x·wᵀ + bias. x: (m, k) F32, w: (n, k) F32/F16/BF16, bias: (n) F32 or null, y: (m, n) F32; all contiguous.</summary>
    public static void MatMul(CpuThreadPool pool, float* x, int m, int k, void* w, DType wType, int n, float* bias, float* y, SimdLevel level)
    {
        if (!GemmWeights.IsSupported(wType)) throw new NotSupportedException($"MatMul weights of dtype {wType} (expected F32, F16 or BF16)");
        if (m == 0 || n == 0) return;
        if (level == SimdLevel.Scalar || m <= GemvMaxRows || k == 0)
        {
            // Contiguous blocks of W rows (multiples of 4), a few per thread so uneven threads even out.
            int perTask = Math.Max(4, (n + pool.Threads * 4 - 1) / (pool.Threads * 4) + 3 & ~3);
            var body = new GemvBody { X = x, M = m, K = k, W = w, WType = wType, N = n, Bias = bias, Y = y, RowsPerTask = perTask, Level = level };
            pool.ParallelFor((n + perTask - 1) / perTask, ref body);
            return;
        }
        // Tasks are groups of panels (big groups when N is wide) times slices of M (when N has few groups).
        int panels = (n + GemmPacked.PanelWidth(level) - 1) / GemmPacked.PanelWidth(level);
        int group = Math.Clamp(panels / (pool.Threads * 3), 1, GemmPacked.MaxGroupPanels), groups = (panels + group - 1) / group;
        int tileRows = GemmPacked.TileRows(level), tiles = (m + tileRows - 1) / tileRows;
        int splits = Math.Clamp((pool.Threads * 3 + groups - 1) / groups, 1, tiles);
        var packed = new PackedBody
        {
            X = x, M = m, K = k, W = w, WType = wType, N = n, Bias = bias, Y = y, Level = level,
            GroupPanels = group, Splits = splits, TilesPerSplit = (tiles + splits - 1) / splits, TileRows = tileRows,
        };
        pool.ParallelFor(groups * splits, ref packed);
    }

    private struct GemvBody : IParallelBody
    {
        public float* X, Bias, Y;
        public void* W;
        public DType WType;
        public int M, K, N, RowsPerTask;
        public SimdLevel Level;

        public readonly void Invoke(int index)
        {
            int j0 = index * RowsPerTask;
            Gemv.Rows(X, M, K, W, WType, N, Bias, Y, j0, Math.Min(N, j0 + RowsPerTask), Level);
        }
    }

    private struct PackedBody : IParallelBody
    {
        public float* X, Bias, Y;
        public void* W;
        public DType WType;
        public int M, K, N, GroupPanels, Splits, TilesPerSplit, TileRows;
        public SimdLevel Level;

        public readonly void Invoke(int index)
        {
            int group = index / Splits, split = index % Splits;
            int m0 = Math.Min(M, split * TilesPerSplit * TileRows), m1 = Math.Min(M, m0 + TilesPerSplit * TileRows);
            int n0 = group * GroupPanels * GemmPacked.PanelWidth(Level);
            if (m0 < m1) GemmPacked.Panels(X, K, W, WType, N, Bias, Y, n0, GroupPanels, m0, m1, Level);
        }
    }
}
