// Depthwise causal conv over time (Mamba-2's xBC conv), vectorised over channels, with the (C, W-1) rolling state.
using System.Numerics.Tensors;
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;
using Tensor = MambaVL.Core.Tensors.Tensor;

namespace MambaVL.Cpu.Kernels;

public static unsafe class Conv1d
{
    /// <summary>See <see cref="IBackend.CausalConv1d"/>. x (T, C); weight (C, W); bias (C)?; convState (C, W-1) in place → (T, C).</summary>
    public static Tensor Causal(CpuThreadPool pool, Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu)
    {
        Check.Rank(x, 2, "CausalConv1d x"); Check.Rank(weight, 2, "CausalConv1d weight");
        int t = x.Dim(0), c = x.Dim(1), w = weight.Dim(1);
        Check.Shape(weight, "CausalConv1d weight", c, w);
        Check.Shape(convState, "CausalConv1d convState", c, w - 1);
        Check.F32Contiguous(convState, "CausalConv1d convState");
        if (bias != null) Check.Shape(bias, "CausalConv1d bias", c);
        Tensor xs = KernelSupport.Rows(x, out long ldx), ws = KernelSupport.F32(weight), bs = bias == null ? Tensor.Zeros(DType.F32, c) : KernelSupport.F32(bias);
        var y = Tensor.Zeros(DType.F32, t, c);
        float* history = KernelSupport.Alloc((long)(w - 1) * c), weightT = KernelSupport.Alloc((long)w * c);
        try
        {
            float* st = KernelSupport.Ptr(convState), wp = KernelSupport.Ptr(ws);
            for (int ch = 0; ch < c; ch++)
            {
                for (int k = 0; k < w - 1; k++) history[(long)k * c + ch] = st[(long)ch * (w - 1) + k];
                for (int k = 0; k < w; k++) weightT[(long)k * c + ch] = wp[(long)ch * w + k];
            }
            var body = new RowsBody
            {
                X = KernelSupport.Ptr(xs), History = history, WeightT = weightT, Bias = KernelSupport.Ptr(bs), Y = KernelSupport.Ptr(y),
                LdX = ldx, T = t, C = c, W = w, Silu = silu, Blocks = KernelSupport.BlockCount(t, pool),
            };
            KernelSupport.For(pool, body.Blocks, (long)t * c * w, ref body);
            // new state: the last W-1 inputs, which may reach back into the old state when T < W-1
            for (int k = 0; k < w - 1; k++)
            {
                float* src = body.InputRow(t - (w - 1) + k);
                for (int ch = 0; ch < c; ch++) st[(long)ch * (w - 1) + k] = src[ch];
            }
        }
        finally { KernelSupport.Free(history); KernelSupport.Free(weightT); }
        GC.KeepAlive(xs); GC.KeepAlive(ws); GC.KeepAlive(bs); GC.KeepAlive(convState);
        return y;
    }

    /// <summary>See <see cref="IBackend.CausalConv1dStep"/>: x (B, C); convState (B, C, W-1) in place → (B, C).</summary>
    public static Tensor Step(CpuThreadPool pool, Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu)
    {
        Check.Rank(x, 2, "CausalConv1dStep x");
        int b = x.Dim(0), c = x.Dim(1), w = weight.Dim(1);
        Check.Shape(convState, "CausalConv1dStep convState", b, c, w - 1);
        Check.F32Contiguous(convState, "CausalConv1dStep convState");
        Check.Shape(weight, "CausalConv1dStep weight", c, w);
        if (bias != null) Check.Shape(bias, "CausalConv1dStep bias", c);
        Tensor xs = KernelSupport.Rows(x, out long ldx), ws = KernelSupport.F32(weight), bs = bias == null ? Tensor.Zeros(DType.F32, c) : KernelSupport.F32(bias);
        var y = Tensor.Zeros(DType.F32, b, c);
        float* xp = KernelSupport.Ptr(xs), wp = KernelSupport.Ptr(ws), bp = KernelSupport.Ptr(bs), yp = KernelSupport.Ptr(y), sp = KernelSupport.Ptr(convState);
        var scratch = silu ? new float[c] : null;
        // A few thousand multiply-adds per sequence: one thread, per channel over its contiguous (W-1) window.
        for (int i = 0; i < b; i++)
        {
            float* xi = xp + i * ldx, yi = yp + (long)i * c, si = sp + (long)i * c * (w - 1);
            for (int ch = 0; ch < c; ch++)
            {
                float* window = si + (long)ch * (w - 1), wc = wp + (long)ch * w;
                // oldest input first, unfused, as the prefill kernel sums: a step equals a one-token prefill bit for bit
                float acc = bp[ch];
                for (int k = 0; k < w - 1; k++) acc += wc[k] * window[k];
                acc += wc[w - 1] * xi[ch];
                for (int k = 0; k < w - 2; k++) window[k] = window[k + 1];  // roll the window: drop the oldest input
                if (w > 1) window[w - 2] = xi[ch];
                yi[ch] = acc;
            }
            if (scratch != null) Simd.SiluInPlace(new Span<float>(yi, c), scratch);
        }
        GC.KeepAlive(xs); GC.KeepAlive(ws); GC.KeepAlive(bs); GC.KeepAlive(convState);
        return y;
    }

    private struct RowsBody : IParallelBody
    {
        public float* X, History, WeightT, Bias, Y;
        public long LdX;  // floats between rows of X (a column slice of a wider matrix reads in place)
        public int T, C, W, Blocks;
        public bool Silu;

        /// <summary>Input row r (C): x[r] for r ≥ 0, else the stored history row W-1+r.</summary>
        public readonly float* InputRow(int r) => r >= 0 ? X + r * LdX : History + (long)(W - 1 + r) * C;

        /// <summary>out[t] = bias + Σ_k wᵀ[k] ⊙ in[t-W+1+k], then optional SiLU, for the rows of one block.</summary>
        public readonly void Invoke(int block)
        {
            var (t0, t1) = KernelSupport.BlockRange(T, Blocks, block);
            float[]? scratch = Silu ? new float[C] : null;
            var bias = new ReadOnlySpan<float>(Bias, C);
            for (int t = t0; t < t1; t++)
            {
                var y = new Span<float>(Y + (long)t * C, C);
                bias.CopyTo(y);
                for (int k = 0; k < W; k++)
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(WeightT + (long)k * C, C), new ReadOnlySpan<float>(InputRow(t - W + 1 + k), C), y, y);
                if (scratch != null) Simd.SiluInPlace(y, scratch);
            }
        }
    }
}
