// Reference Mamba-2 ops: the causal depthwise conv and the SSM recurrence, one token at a time, in double precision.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Reference;

public sealed partial class ReferenceBackend
{
    public Tensor CausalConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu)
    {
        int t = x.Dim(0), c = x.Dim(1), w = weight.Dim(1);
        Check.Shape(weight, "CausalConv1d weight", c, w);
        Check.Shape(convState, "CausalConv1d convState", c, w - 1);
        Check.F32Contiguous(convState, "CausalConv1d convState");
        float[] xs = x.ToFloatArray(), ws = weight.ToFloatArray(), bs = bias?.ToFloatArray() ?? new float[c];
        var st = convState.Span<float>();
        var y = new float[t * c];
        for (int ch = 0; ch < c; ch++)
        {
            // window: the W-1 stored inputs followed by this sequence's inputs for channel ch
            var window = new float[w - 1 + t];
            for (int k = 0; k < w - 1; k++) window[k] = st[ch * (w - 1) + k];
            for (int i = 0; i < t; i++) window[w - 1 + i] = xs[i * c + ch];
            for (int i = 0; i < t; i++)
            {
                double acc = bs[ch];
                for (int k = 0; k < w; k++) acc += (double)ws[ch * w + k] * window[i + k];
                y[i * c + ch] = silu ? Silu((float)acc) : (float)acc;
            }
            for (int k = 0; k < w - 1; k++) st[ch * (w - 1) + k] = window[t + k];
        }
        return Tensor.FromArray(y, t, c);
    }

    public Tensor CausalConv1dStep(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu)
    {
        int b = x.Dim(0), c = x.Dim(1), w = weight.Dim(1);
        Check.Shape(convState, "CausalConv1dStep convState", b, c, w - 1);
        var y = Tensor.Zeros(DType.F32, b, c);
        for (int i = 0; i < b; i++)
        {
            var stateRow = Contiguous(convState.Narrow(0, i, 1)).Reshape(c, w - 1);
            var yi = CausalConv1d(x.Narrow(0, i, 1), weight, bias, stateRow, silu);
            yi.Span<float>().CopyTo(y.Span<float>().Slice(i * c, c));
            stateRow.Span<float>().CopyTo(convState.Span<float>().Slice(i * c * (w - 1), c * (w - 1)));
        }
        return y;
    }

    public Tensor SsdScan(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, int chunkSize)
    {
        int t = x.Dim(0), h = x.Dim(1), pd = x.Dim(2), g = b.Dim(1), n = b.Dim(2);
        CheckSsmShapes(x, dt, b, c, p, state, t, h, pd, g, n);
        float[] xs = x.ToFloatArray(), dts = dt.ToFloatArray(), bs = b.ToFloatArray(), cs = c.ToFloatArray();
        var s = state.Span<float>();
        var y = new float[t * h * pd];
        var sd = new double[h * pd * n];
        for (int i = 0; i < sd.Length; i++) sd[i] = s[i];
        for (int ti = 0; ti < t; ti++)
            RecurrenceStep(xs, dts, bs, cs, p, sd, y, ti, h, pd, g, n);
        for (int i = 0; i < sd.Length; i++) s[i] = (float)sd[i];
        return Tensor.FromArray(y, t, h, pd);
    }

    public Tensor SsmStep(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state)
    {
        int bt = x.Dim(0), h = x.Dim(1), pd = x.Dim(2), g = b.Dim(1), n = b.Dim(2);
        Check.Shape(state, "SsmStep state", bt, h, pd, n);
        var y = Tensor.Zeros(DType.F32, bt, h, pd);
        for (int i = 0; i < bt; i++)
        {
            var st = Contiguous(state.Narrow(0, i, 1)).Reshape(h, pd, n);
            var yi = SsdScan(x.Narrow(0, i, 1), dt.Narrow(0, i, 1), b.Narrow(0, i, 1), c.Narrow(0, i, 1), p, st, 1);
            yi.Span<float>().CopyTo(y.Span<float>().Slice(i * h * pd, h * pd));
            st.Span<float>().CopyTo(state.Span<float>().Slice(i * h * pd * n, h * pd * n));
        }
        return y;
    }

    /// <summary>S = exp(dt·A)·S + dt·x⊗B; y = S·C + D·x for every head at token ti.</summary>
    private static void RecurrenceStep(float[] xs, float[] dts, float[] bs, float[] cs, SsmParams p, double[] s, float[] y,
        int ti, int h, int pd, int g, int n)
    {
        float[] a = p.A.ToFloatArray(), dtBias = p.DtBias.ToFloatArray();
        float[]? d = p.D?.ToFloatArray();
        int headsPerGroup = h / g;
        for (int hi = 0; hi < h; hi++)
        {
            int gi = hi / headsPerGroup;  // heads map to groups in contiguous blocks
            double dtv = Math.Clamp(Softplus(dts[ti * h + hi] + (double)dtBias[hi]), p.DtMin, p.DtMax);
            double decay = Math.Exp(dtv * a[hi]);
            for (int pi = 0; pi < pd; pi++)
            {
                double xv = xs[(ti * h + hi) * pd + pi], acc = 0;
                for (int ni = 0; ni < n; ni++)
                {
                    int si = (hi * pd + pi) * n + ni;
                    s[si] = decay * s[si] + dtv * xv * bs[(ti * g + gi) * n + ni];
                    acc += s[si] * cs[(ti * g + gi) * n + ni];
                }
                double skip = d == null ? 0 : d.Length == h ? d[hi] : d[hi * pd + pi];
                y[(ti * h + hi) * pd + pi] = (float)(acc + skip * xv);
            }
        }
    }

    private static void CheckSsmShapes(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state,
        int t, int h, int pd, int g, int n)
    {
        Check.Shape(dt, "SSM dt", t, h);
        Check.Shape(b, "SSM B", t, g, n);
        Check.Shape(c, "SSM C", t, g, n);
        Check.Shape(state, "SSM state", h, pd, n);
        Check.F32Contiguous(state, "SSM state");
        if (g <= 0 || h % g != 0) throw new ArgumentException($"SSM: {h} heads do not split into {g} groups");
        Check.Shape(p.A, "SSM A", h);
        Check.Shape(p.DtBias, "SSM dt_bias", h);
        if (p.D != null && p.D.Length != h && p.D.Length != (long)h * pd)
            throw new ArgumentException($"SSM: D {p.D} is neither ({h}) nor ({h}, {pd})");
        _ = x;
    }
}
