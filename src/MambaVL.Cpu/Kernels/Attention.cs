// Multi-head softmax attention (non-causal for the vision towers, causal with grouped-query heads for attention layers).
// Many queries: per kv head, keys are packed transposed (P, S₁₆) and values (S, P₁₆) once, both padded to whole 16-float
// vectors; then tasks of up to 32 queries of one head run, 4 rows at a time, two register-tiled small GEMMs (q·Kᵀ, p·V).
// Few queries (decode): packing would copy the whole cache per token, so each kv head's queries read K and V in place
// (F32 or BF16 rows), one pass over the cache rows for all of them (memory-bound, as decode attention is).
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;
using Tensor = MambaVL.Core.Tensors.Tensor;

namespace MambaVL.Cpu.Kernels;

public static unsafe class AttentionKernel
{
    private const int RowGroup = 4, TaskRows = 32;
    /// <summary>Up to this many query rows per kv head (T × queries per kv head) take the in-place decode path.</summary>
    public const int DirectRows = 8;

    /// <summary>See <see cref="Core.Ops.IBackend.Attention"/>.</summary>
    public static Tensor Run(CpuThreadPool pool, Tensor q, Tensor k, Tensor v, float scale, bool causal)
    {
        AttentionShapes.Check(q, k, v, out int t, out int s, out int hq, out int hkv, out int p);
        var o = Tensor.Zeros(DType.F32, t, hq, p);
        if (t == 0) return o;
        Tensor qs = KernelSupport.Rows(q, out long ldq);
        if (t * (hq / hkv) <= DirectRows)
        {
            Tensor kd = CacheRows(k, out long ldkd), vd = CacheRows(v, out long ldvd);
            var direct = new DirectBody
            {
                Q = KernelSupport.Ptr(qs), K = (byte*)kd.DataPointer, V = (byte*)vd.DataPointer, O = KernelSupport.Ptr(o),
                KType = kd.DType, VType = vd.DType, LdQ = ldq, LdK = ldkd, LdV = ldvd,
                T = t, S = s, Hq = hq, Hkv = hkv, P = p, Scale = scale, Causal = causal,
            };
            KernelSupport.For(pool, hkv, (long)t * hq * s * p, ref direct);
            GC.KeepAlive(qs); GC.KeepAlive(kd); GC.KeepAlive(vd);
            return o;
        }
        Tensor ks = KernelSupport.Rows(k, out long ldk), vs = KernelSupport.Rows(v, out long ldv);
        int sPad = Pad16(s), pPad = Pad16(p);
        float* keysT = KernelSupport.Alloc((long)hkv * p * sPad), values = KernelSupport.Alloc((long)hkv * s * pPad);
        try
        {
            var pack = new PackBody { K = KernelSupport.Ptr(ks), V = KernelSupport.Ptr(vs), LdK = ldk, LdV = ldv, KeysT = keysT, Values = values, S = s, P = p, SPad = sPad, PPad = pPad };
            KernelSupport.For(pool, hkv, (long)hkv * p * s, ref pack);
            int tasksPerHead = (t + TaskRows - 1) / TaskRows;
            var body = new QueryTaskBody
            {
                Q = KernelSupport.Ptr(qs), O = KernelSupport.Ptr(o), KeysT = keysT, Values = values, LdQ = ldq,
                T = t, S = s, Hq = hq, Hkv = hkv, P = p, SPad = sPad, PPad = pPad, TasksPerHead = tasksPerHead, Scale = scale, Causal = causal,
            };
            KernelSupport.For(pool, hq * tasksPerHead, (long)t * hq * s * p, ref body);
        }
        finally { KernelSupport.Free(keysT); KernelSupport.Free(values); }
        GC.KeepAlive(qs); GC.KeepAlive(ks); GC.KeepAlive(vs);
        return o;
    }

    private static int Pad16(int n) => (n + 15) / 16 * 16;

    /// <summary>K or V rows where they are when F32 or BF16 with contiguous (Hkv, P) rows (a KV cache view), else an F32 copy.</summary>
    private static Tensor CacheRows(Tensor t, out long rowStride)
    {
        if (t.DType != DType.BF16 || !t.InnerDimsContiguous) return KernelSupport.Rows(t, out rowStride);
        rowStride = t.RowStride;
        return t;
    }

    /// <summary>
    /// Index = kv head: its rows = T × (Hq/Hkv) queries (query head kvh·rep + r, row i) read each key and value row once,
    /// in place: scores (rows, S), a softmax per row over its visible keys, then Σ_j p_j·V_j into the outputs.
    /// </summary>
    private struct DirectBody : IParallelBody
    {
        public float* Q, O;
        public byte* K, V;          // F32 or BF16 rows (KType, VType), read in place
        public DType KType, VType;
        public long LdQ, LdK, LdV;  // in elements
        public int T, S, Hq, Hkv, P;
        public float Scale;
        public bool Causal;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]  // hot loops, called a few hundred times per token: skip tier 0
        public readonly void Invoke(int kvh)
        {
            int rep = Hq / Hkv, rows = T * rep;
            float* scores = KernelSupport.Alloc((long)rows * S), acc = KernelSupport.Alloc((long)rows * P);
            try
            {
                float** q = stackalloc float*[rows];
                for (int r = 0; r < rows; r++) q[r] = QueryRow(kvh, r);
                int s = S, p = P;
                long ldk = LdK, ldv = LdV, head = (long)kvh * P;
                if (KType == DType.BF16)
                    for (int j = 0; j < s; j++)
                        for (int r = 0; r < rows; r++) scores[(long)r * s + j] = Bf16Rows.Dot((ushort*)K + j * ldk + head, q[r], p);
                else
                    for (int j = 0; j < s; j++)
                        for (int r = 0; r < rows; r++)
                            scores[(long)r * s + j] = TensorPrimitives.Dot(new ReadOnlySpan<float>(q[r], p), new ReadOnlySpan<float>((float*)K + j * ldk + head, p));
                for (int r = 0; r < rows; r++) QueryTaskBody.Softmax(new Span<float>(scores + (long)r * s, s), Visible(r), Scale);
                new Span<float>(acc, rows * p).Clear();
                bool bf16 = VType == DType.BF16;
                for (int j = 0; j < s; j++)
                    for (int r = 0; r < rows; r++)
                    {
                        float w = scores[(long)r * s + j];
                        if (w == 0) continue;  // masked (causal) keys
                        float* o = acc + (long)r * p;
                        if (bf16) Bf16Rows.AddScaled((ushort*)V + j * ldv + head, w, o, p);
                        else TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)V + j * ldv + head, p), w, new ReadOnlySpan<float>(o, p), new Span<float>(o, p));
                    }
                for (int r = 0; r < rows; r++)
                {
                    var (h, i) = (kvh * rep + r % rep, r / rep);
                    new ReadOnlySpan<float>(acc + (long)r * P, P).CopyTo(new Span<float>(O + ((long)i * Hq + h) * P, P));
                }
            }
            finally { KernelSupport.Free(scores); KernelSupport.Free(acc); }
        }

        /// <summary>Row r = query row r / rep of query head kvh·rep + r % rep.</summary>
        private readonly float* QueryRow(int kvh, int r)
        {
            int rep = Hq / Hkv;
            return Q + r / rep * LdQ + (long)(kvh * rep + r % rep) * P;
        }

        private readonly int Visible(int r) => Causal ? r / (Hq / Hkv) + S - T + 1 : S;
    }

    private struct PackBody : IParallelBody
    {
        public float* K, V, KeysT, Values;
        public long LdK, LdV;
        public int S, P, SPad, PPad;

        /// <summary>KeysT[h] (P, SPad) = K[:, h, :]ᵀ and Values[h] (S, PPad) = V[:, h, :], zero padded.</summary>
        public readonly void Invoke(int h)
        {
            float* kt = KeysT + (long)h * P * SPad, vp = Values + (long)h * S * PPad;
            new Span<float>(kt, P * SPad).Clear();
            for (int j = 0; j < S; j++)
            {
                float* krow = K + j * LdK + (long)h * P;
                for (int c = 0; c < P; c++) kt[(long)c * SPad + j] = krow[c];
                var dst = new Span<float>(vp + (long)j * PPad, PPad);
                new ReadOnlySpan<float>(V + j * LdV + (long)h * P, P).CopyTo(dst);
                dst[P..].Clear();
            }
        }
    }

    private struct QueryTaskBody : IParallelBody
    {
        public float* Q, O, KeysT, Values;
        public long LdQ;
        public int T, S, Hq, Hkv, P, SPad, PPad, TasksPerHead;
        public float Scale;
        public bool Causal;

        /// <summary>Index = head · TasksPerHead + task: up to 32 query rows of one head, 4 at a time.</summary>
        public readonly void Invoke(int index)
        {
            int h = index / TasksPerHead, first = index % TasksPerHead * TaskRows, kvh = h / (Hq / Hkv);
            int last = Math.Min(first + TaskRows, T);
            float* scores = KernelSupport.Alloc((long)RowGroup * SPad), qGroup = KernelSupport.Alloc((long)RowGroup * P), oGroup = KernelSupport.Alloc((long)RowGroup * PPad);
            try
            {
                for (int i0 = first; i0 < last; i0 += RowGroup)
                    Group(h, kvh, i0, Math.Min(RowGroup, last - i0), scores, qGroup, oGroup);
            }
            finally { KernelSupport.Free(scores); KernelSupport.Free(qGroup); KernelSupport.Free(oGroup); }
        }

        /// <summary>Queries i0 .. i0+rows-1 (rows ≤ 4; missing rows are zeros and discarded).</summary>
        private readonly void Group(int h, int kvh, int i0, int rows, float* scores, float* qGroup, float* oGroup)
        {
            int visibleMax = Causal ? i0 + rows + S - T : S, width = Pad16(visibleMax);
            new Span<float>(qGroup, RowGroup * P).Clear();
            for (int r = 0; r < rows; r++) new ReadOnlySpan<float>(Q + (i0 + r) * LdQ + (long)h * P, P).CopyTo(new Span<float>(qGroup + r * P, P));
            new Span<float>(scores, RowGroup * SPad).Clear();
            Simd.AccumulateRows4(qGroup, P, P, KeysT + (long)kvh * P * SPad, SPad, scores, SPad, width);
            for (int r = 0; r < RowGroup; r++)
                Softmax(new Span<float>(scores + (long)r * SPad, width), r >= rows ? 0 : Causal ? i0 + r + S - T + 1 : S, Scale);
            new Span<float>(oGroup, RowGroup * PPad).Clear();
            Simd.AccumulateRows4(scores, SPad, visibleMax, Values + (long)kvh * S * PPad, PPad, oGroup, PPad, PPad);
            for (int r = 0; r < rows; r++)
                new ReadOnlySpan<float>(oGroup + r * PPad, P).CopyTo(new Span<float>(O + ((long)(i0 + r) * Hq + h) * P, P));
        }

        /// <summary>row[..visible] = softmax(row[..visible]·scale); the rest (masked keys, padding, missing rows) = 0.</summary>
        internal static void Softmax(Span<float> row, int visible, float scale)
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

/// <summary>
/// BF16 cache rows against F32 vectors without a conversion pass: BF16 is the top half of an F32, so widening 16 values
/// to 32 bits and shifting left by 16 gives them exactly, in registers.
/// </summary>
internal static unsafe class Bf16Rows
{
    /// <summary>Σ a[i]·b[i], a BF16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ushort* a, float* b, int n)
    {
        int i = 0;
        float sum = 0;
        if (Avx512F.IsSupported)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
                acc += Widen16(a + i) * Vector512.Load(b + i);
            sum = Vector512.Sum(acc);
        }
        else
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
                acc += Widen8(a + i) * Vector256.Load(b + i);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += Half16.BF16ToFloat(a[i]) * b[i];
        return sum;
    }

    /// <summary>o[i] += w·a[i], a BF16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddScaled(ushort* a, float w, float* o, int n)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var scale = Vector512.Create(w);
            for (; i + 16 <= n; i += 16)
                (Vector512.Load(o + i) + Widen16(a + i) * scale).Store(o + i);
        }
        else
        {
            var scale = Vector256.Create(w);
            for (; i + 8 <= n; i += 8)
                (Vector256.Load(o + i) + Widen8(a + i) * scale).Store(o + i);
        }
        for (; i < n; i++) o[i] += w * Half16.BF16ToFloat(a[i]);
    }

    // zero-extend 16-bit values to 32 bits (vpmovzxwd), then shift them into the top half
    private static Vector512<float> Widen16(ushort* a) => Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector256.Load(a)), 16).AsSingle();

    private static Vector256<float> Widen8(ushort* a) => Avx2.IsSupported
        ? Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Vector128.Load(a)), 16).AsSingle()
        : Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load(a).ToVector256Unsafe()), 16).AsSingle();
}
