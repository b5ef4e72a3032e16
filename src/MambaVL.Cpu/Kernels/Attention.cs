// Multi-head softmax attention (non-causal for the vision towers, causal with grouped-query heads for attention layers).
// Per head, keys are packed transposed once; then blocks of 4 queries run two register-tiled small GEMMs (q·Kᵀ, then p·V).
using System.Numerics.Tensors;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;
using Tensor = MambaVL.Core.Tensors.Tensor;

namespace MambaVL.Cpu.Kernels;

public static unsafe class AttentionKernel
{
    private const int QueryBlock = 4;

    /// <summary>See <see cref="Core.Ops.IBackend.Attention"/>.</summary>
    public static Tensor Run(CpuThreadPool pool, Tensor q, Tensor k, Tensor v, float scale, bool causal)
    {
        AttentionShapes.Check(q, k, v, out int t, out int s, out int hq, out int hkv, out int p);
        Tensor qs = KernelSupport.Rows(q, out long ldq), ks = KernelSupport.Rows(k, out long ldk), vs = KernelSupport.Rows(v, out long ldv);
        var o = Tensor.Zeros(DType.F32, t, hq, p);
        if (t == 0) return o;
        float* keysT = KernelSupport.Alloc((long)hkv * p * s);  // per kv head: (P, S)
        try
        {
            var pack = new PackKeysBody { K = KernelSupport.Ptr(ks), LdK = ldk, KeysT = keysT, S = s, P = p };
            KernelSupport.For(pool, hkv, (long)hkv * p * s, ref pack);
            int blocks = (t + QueryBlock - 1) / QueryBlock;
            var body = new HeadBlockBody
            {
                Q = KernelSupport.Ptr(qs), V = KernelSupport.Ptr(vs), O = KernelSupport.Ptr(o), KeysT = keysT,
                LdQ = ldq, LdV = ldv, T = t, S = s, Hq = hq, Hkv = hkv, P = p, Blocks = blocks, Scale = scale, Causal = causal,
            };
            KernelSupport.For(pool, hq * blocks, (long)t * hq * s * p, ref body);
        }
        finally { KernelSupport.Free(keysT); }
        GC.KeepAlive(qs); GC.KeepAlive(ks); GC.KeepAlive(vs);
        return o;
    }

    private struct PackKeysBody : IParallelBody
    {
        public float* K, KeysT;
        public long LdK;
        public int S, P;

        /// <summary>KeysT[h] (P, S) = K[:, h, :]ᵀ.</summary>
        public readonly void Invoke(int h)
        {
            float* dst = KeysT + (long)h * P * S;
            for (int j = 0; j < S; j++)
            {
                float* row = K + j * LdK + (long)h * P;
                for (int c = 0; c < P; c++) dst[(long)c * S + j] = row[c];
            }
        }
    }

    private struct HeadBlockBody : IParallelBody
    {
        public float* Q, V, O, KeysT;
        public long LdQ, LdV;
        public int T, S, Hq, Hkv, P, Blocks;
        public float Scale;
        public bool Causal;

        /// <summary>Index = head · Blocks + query block: up to 4 query rows of one head.</summary>
        public readonly void Invoke(int index)
        {
            int h = index / Blocks, i0 = index % Blocks * QueryBlock, kvh = h / (Hq / Hkv);
            int rows = Math.Min(QueryBlock, T - i0);
            int visibleMax = Causal ? i0 + rows - 1 + S - T + 1 : S;
            float* scores = KernelSupport.Alloc((long)QueryBlock * visibleMax);
            float* qBlock = KernelSupport.Alloc((long)QueryBlock * P);
            float* oBlock = KernelSupport.Alloc((long)QueryBlock * P);
            try
            {
                // the rows of q for this block (zeros past the last query), so the 4-row kernels always have 4 rows
                new Span<float>(qBlock, QueryBlock * P).Clear();
                for (int r = 0; r < rows; r++) new ReadOnlySpan<float>(Q + (i0 + r) * LdQ + (long)h * P, P).CopyTo(new Span<float>(qBlock + r * P, P));
                new Span<float>(scores, QueryBlock * visibleMax).Clear();
                Simd.AccumulateRows4(qBlock, P, P, KeysT + (long)kvh * P * S, S, scores, visibleMax, visibleMax);
                for (int r = 0; r < QueryBlock; r++)
                {
                    int visible = r >= rows ? 0 : Causal ? i0 + r + S - T + 1 : S;
                    Softmax(new Span<float>(scores + (long)r * visibleMax, visibleMax), visible, Scale);
                }
                new Span<float>(oBlock, QueryBlock * P).Clear();
                Simd.AccumulateRows4(scores, visibleMax, visibleMax, V + (long)kvh * P, LdV, oBlock, P, P);
                for (int r = 0; r < rows; r++)
                    new ReadOnlySpan<float>(oBlock + r * P, P).CopyTo(new Span<float>(O + ((long)(i0 + r) * Hq + h) * P, P));
            }
            finally { KernelSupport.Free(scores); KernelSupport.Free(qBlock); KernelSupport.Free(oBlock); }
        }

        /// <summary>row[..visible] = softmax(row[..visible]·scale); row[visible..] = 0 (masked keys, and padding rows).</summary>
        private static void Softmax(Span<float> row, int visible, float scale)
        {
            var live = row[..visible];
            row[visible..].Clear();
            if (visible == 0) return;
            TensorPrimitives.Multiply(live, scale, live);
            float max = TensorPrimitives.Max(live);
            TensorPrimitives.Subtract(live, max, live);
            TensorPrimitives.Exp(live, live);
            TensorPrimitives.Multiply(live, 1f / TensorPrimitives.Sum(live), live);
        }
    }
}
