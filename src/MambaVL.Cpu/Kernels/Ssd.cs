// The chunked SSD scan (mamba_ssm's ssd_minimal_discrete / Triton chunk pipeline) for one sequence on the CPU:
// per chunk of Q tokens, an intra-chunk masked "attention" term, the contribution of the incoming state, and the state update.
using System.Numerics.Tensors;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;
using Tensor = MambaVL.Core.Tensors.Tensor;

namespace MambaVL.Cpu.Kernels;

public static unsafe class Ssd
{
    /// <summary>
    /// The CPU never runs chunks longer than this, whatever the model's chunk size: the result does not depend on it,
    /// and the intra-chunk work (∝ chunk length) outweighs the per-chunk state passes well before the GPU's 256
    /// (measured on mamba2-130m shapes: 256 → 32 cut the scan's time by half).
    /// </summary>
    public const int MaxChunk = 32;

    /// <summary>See <see cref="IBackend.SsdScan"/>. x (T, H, P); dt (T, H); b, c (T, G, N); state (H, P, N) in place → (T, H, P).</summary>
    public static Tensor Scan(CpuThreadPool pool, Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, int chunkSize)
    {
        SsmCommon.CheckShapes("SsdScan", x, dt, b, c, out int t, out int h, out int pd, out int g, out int n);
        Core.Reference.Check.Shape(state, "SsdScan state", h, pd, n);
        Core.Reference.Check.F32Contiguous(state, "SsdScan state");
        if (chunkSize <= 0) throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "SsdScan: chunk size must be positive");
        var k = new SsmConstants(p, h, pd, "SsdScan");
        // x, dt, B and C are usually column slices of the in_proj output: read in place through their row strides
        Tensor xs = KernelSupport.Rows(x, out long ldx), dts = KernelSupport.Rows(dt, out long lddt),
            bs = KernelSupport.Rows(b, out long ldb), cs = KernelSupport.Rows(c, out long ldc);
        var y = Tensor.Zeros(DType.F32, t, h, pd);
        int q = Math.Min(Math.Min(chunkSize, MaxChunk), Math.Max(t, 1));
        var job = new ScanJob
        {
            X = KernelSupport.Ptr(xs), Dt = KernelSupport.Ptr(dts), B = KernelSupport.Ptr(bs), C = KernelSupport.Ptr(cs),
            Y = KernelSupport.Ptr(y), A = KernelSupport.Ptr(k.A), DtBias = KernelSupport.Ptr(k.DtBias),
            D = k.D == null ? null : KernelSupport.Ptr(k.D), DPerChannel = k.DPerChannel, DtMin = k.DtMin, DtMax = k.DtMax,
            LdX = ldx, LdDt = lddt, LdB = ldb, LdC = ldc, H = h, P = pd, G = g, N = n, Q = q, ScratchStride = 3 * q + q * q + q * n + 16,
        };
        job.Run(pool, KernelSupport.Ptr(state), t);
        k.KeepAlive(); GC.KeepAlive(xs); GC.KeepAlive(dts); GC.KeepAlive(bs); GC.KeepAlive(cs); GC.KeepAlive(state);
        return y;
    }

    /// <summary>All the pointers and sizes of one scan; the per-chunk phases are IParallelBody views of it.</summary>
    private struct ScanJob
    {
        public float* X, Dt, B, C, Y, A, DtBias, D;
        public bool DPerChannel;
        public float DtMin, DtMax;
        public long LdX, LdDt, LdB, LdC;  // row strides (floats per token) of x, dt, B and C
        public int H, P, G, N, Q, ScratchStride;
        public float* S;        // working states, (H, N, P): transposed so the inner loops run over P
        public float* Bt;       // this chunk's B transposed, (G, N, q)
        public float* Cb;       // this chunk's C·Bᵀ, (G, q, q), lower triangle only
        public float* Scratch;  // per head, ScratchStride floats
        public int T0, ChunkLen;

        public void Run(CpuThreadPool pool, float* state, int t)
        {
            S = KernelSupport.Alloc((long)H * N * P);
            Bt = KernelSupport.Alloc((long)G * N * Q);
            Cb = KernelSupport.Alloc((long)G * Q * Q);
            Scratch = KernelSupport.Alloc((long)H * ScratchStride);
            try
            {
                Transpose(state, S, H, P, N);
                for (T0 = 0; T0 < t; T0 += Q)
                {
                    ChunkLen = Math.Min(Q, t - T0);
                    TransposeB();
                    int rowBlocks = KernelSupport.BlockCount(ChunkLen, pool);
                    var cbPhase = new CbPhase { Job = this, RowBlocks = rowBlocks };
                    KernelSupport.For(pool, G * rowBlocks, (long)G * ChunkLen * ChunkLen * N / 2, ref cbPhase);
                    var headPhase = new HeadPhase { Job = this };
                    KernelSupport.For(pool, H, (long)H * ChunkLen * (ChunkLen + 2 * N) * P, ref headPhase);
                }
                Transpose(S, state, H, N, P);
            }
            finally { KernelSupport.Free(S); KernelSupport.Free(Bt); KernelSupport.Free(Cb); KernelSupport.Free(Scratch); }
        }

        /// <summary>src (heads, rows, cols) → dst (heads, cols, rows).</summary>
        private static void Transpose(float* src, float* dst, int heads, int rows, int cols)
        {
            for (int hi = 0; hi < heads; hi++)
            {
                float* s = src + (long)hi * rows * cols, d = dst + (long)hi * rows * cols;
                for (int r = 0; r < rows; r++)
                    for (int col = 0; col < cols; col++) d[(long)col * rows + r] = s[(long)r * cols + col];
            }
        }

        private void TransposeB()
        {
            for (int gi = 0; gi < G; gi++)
                for (int j = 0; j < ChunkLen; j++)
                {
                    float* src = B + (T0 + j) * LdB + (long)gi * N, dst = Bt + (long)gi * N * Q + j;
                    for (int ni = 0; ni < N; ni++) dst[(long)ni * Q] = src[ni];
                }
        }

        /// <summary>Rows [i0, i1) of CB_g: CB[i, j] = C_i · B_j for j ≤ i.</summary>
        public void ComputeCb(int gi, int i0, int i1)
        {
            for (int i = i0; i < i1; i++)
            {
                float* row = Cb + ((long)gi * Q + i) * Q;
                new Span<float>(row, i + 1).Clear();
                Simd.AccumulateRow(C + (T0 + i) * LdC + (long)gi * N, N, Bt + (long)gi * N * Q, Q, row, i + 1);
            }
        }

        /// <summary>One head over the current chunk: outputs for its tokens, then its state moved to the chunk's end.</summary>
        public void ProcessHead(int hi)
        {
            int q = ChunkLen, gi = hi / (H / G);
            float* scratch = Scratch + (long)hi * ScratchStride;
            float* dtp = scratch, cum = dtp + Q, coef = cum + Q, weights = coef + Q, cs = weights + (long)Q * Q;
            float* s = S + (long)hi * N * P, x0 = X + T0 * LdX + (long)hi * P;
            double acc = 0;
            for (int j = 0; j < q; j++)
            {
                dtp[j] = SsmCommon.DtPrime(Dt[(T0 + j) * LdDt + hi], DtBias[hi], DtMin, DtMax);
                acc += (double)dtp[j] * A[hi];
                cum[j] = (float)acc;  // in-chunk cumsum of dA = dt'·A: non-increasing, so every exponent below is ≤ 0
            }
            var dtpSpan = new Span<float>(dtp, q);
            var cumSpan = new Span<float>(cum, q);
            for (int i = 0; i < q; i++) PrepareRow(gi, i, dtpSpan, cumSpan, weights + (long)i * Q, cs + (long)i * N);
            WriteOutputs(hi, q, weights, cs, s, x0);
            UpdateState(gi, q, dtpSpan, cumSpan, coef, cs, s, x0);
        }

        /// <summary>
        /// Row i of the intra-chunk weights, w[i, j] = CB[i,j]·exp(cs_i − cs_j)·dt'_j for j ≤ i and 0 beyond (so blocks of
        /// rows can share a length), and C_i scaled by exp(cs_i) for the incoming state's contribution.
        /// </summary>
        private void PrepareRow(int gi, int i, Span<float> dtp, Span<float> cum, float* weightRow, float* cRow)
        {
            var w = new Span<float>(weightRow, i + 1);
            TensorPrimitives.Subtract(cum[i], cum[..(i + 1)], w);
            TensorPrimitives.Min(w, 0f, w);
            TensorPrimitives.Exp(w, w);
            TensorPrimitives.Multiply(w, new ReadOnlySpan<float>(Cb + ((long)gi * Q + i) * Q, i + 1), w);
            TensorPrimitives.Multiply(w, dtp[..(i + 1)], w);
            new Span<float>(weightRow + i + 1, Q - i - 1).Clear();
            TensorPrimitives.Multiply(new ReadOnlySpan<float>(C + (T0 + i) * LdC + (long)gi * N, N), MathF.Exp(Math.Min(cum[i], 0f)), new Span<float>(cRow, N));
        }

        /// <summary>y_i = Σ_{j≤i} w[i,j]·x_j + (C_i·exp(cs_i))·S_in + D·x_i, four tokens at a time.</summary>
        private void WriteOutputs(int hi, int q, float* weights, float* cs, float* s, float* x0)
        {
            long ldy = (long)H * P;
            float* y0 = Y + T0 * ldy + (long)hi * P;
            int i = 0;
            for (; i + 4 <= q; i += 4)
            {
                Simd.AccumulateRows4(weights + (long)i * Q, Q, i + 4, x0, LdX, y0 + i * ldy, ldy, P);
                Simd.AccumulateRows4(cs + (long)i * N, N, N, s, P, y0 + i * ldy, ldy, P);
            }
            for (; i < q; i++)
            {
                Simd.AccumulateRow(weights + (long)i * Q, i + 1, x0, LdX, y0 + i * ldy, P);
                Simd.AccumulateRow(cs + (long)i * N, N, s, P, y0 + i * ldy, P);
            }
            if (D == null) return;
            for (i = 0; i < q; i++)
            {
                var yRow = new Span<float>(y0 + i * ldy, P);
                var xRow = new ReadOnlySpan<float>(x0 + i * LdX, P);
                if (DPerChannel) TensorPrimitives.MultiplyAdd(xRow, new ReadOnlySpan<float>(D + (long)hi * P, P), yRow, yRow);
                else TensorPrimitives.MultiplyAdd(xRow, D[hi], yRow, yRow);
            }
        }

        /// <summary>S_out = exp(cs_last)·S_in + Σ_j exp(cs_last − cs_j)·dt'_j · B_j ⊗ x_j (S is (N, P)), four state rows at a time.</summary>
        private void UpdateState(int gi, int q, Span<float> dtp, Span<float> cum, float* coef, float* rows, float* s, float* x0)
        {
            float last = cum[q - 1];
            var u = new Span<float>(coef, q);
            TensorPrimitives.Subtract(last, cum, u);
            TensorPrimitives.Min(u, 0f, u);
            TensorPrimitives.Exp(u, u);
            TensorPrimitives.Multiply(u, dtp, u);
            var sAll = new Span<float>(s, N * P);
            TensorPrimitives.Multiply(sAll, MathF.Exp(Math.Min(last, 0f)), sAll);
            for (int ni = 0; ni < N; ni++)  // rows (N, q): B_j[n]·u_j, the coefficients of state row n
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(Bt + ((long)gi * N + ni) * Q, q), u, new Span<float>(rows + (long)ni * Q, q));
            int n0 = 0;
            for (; n0 + 4 <= N; n0 += 4) Simd.AccumulateRows4(rows + (long)n0 * Q, Q, q, x0, LdX, s + (long)n0 * P, P, P);
            for (; n0 < N; n0++) Simd.AccumulateRow(rows + (long)n0 * Q, q, x0, LdX, s + (long)n0 * P, P);
        }
    }

    private struct CbPhase : IParallelBody
    {
        public ScanJob Job;
        public int RowBlocks;

        public void Invoke(int index)
        {
            int gi = index / RowBlocks, block = index % RowBlocks;
            // rows grow in cost (triangle), so blocks are cut by area rather than by row count
            int n = Job.ChunkLen;
            int i0 = (int)(n * Math.Sqrt((double)block / RowBlocks)), i1 = (int)(n * Math.Sqrt((double)(block + 1) / RowBlocks));
            if (block == RowBlocks - 1) i1 = n;
            Job.ComputeCb(gi, i0, i1);
        }
    }

    private struct HeadPhase : IParallelBody
    {
        public ScanJob Job;
        public void Invoke(int index) => Job.ProcessHead(index);
    }
}
