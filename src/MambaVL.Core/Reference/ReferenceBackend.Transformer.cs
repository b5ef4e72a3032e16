// Reference transformer ops: LayerNorm, activations, LayerScale, softmax attention and concatenation, in double
// precision with plain loops. The oracle for the fast kernels of the vision towers and the attention layers.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Reference;

public sealed partial class ReferenceBackend
{
    public Tensor LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps)
    {
        int d = x.Dim(-1);
        if (weight.Length != d || (bias != null && bias.Length != d))
            throw new ArgumentException($"LayerNorm: weight {weight} / bias {bias} do not match x {x}");
        float[] xs = x.ToFloatArray(), w = weight.ToFloatArray(), b = bias?.ToFloatArray() ?? new float[d];
        var y = new float[xs.Length];
        for (int start = 0; start < xs.Length; start += d)
        {
            double mean = 0, var = 0;
            for (int i = 0; i < d; i++) mean += xs[start + i];
            mean /= d;
            for (int i = 0; i < d; i++) var += (xs[start + i] - mean) * (xs[start + i] - mean);
            double inv = 1.0 / Math.Sqrt(var / d + eps);
            for (int i = 0; i < d; i++) y[start + i] = (float)((xs[start + i] - mean) * inv * w[i] + b[i]);
        }
        return Tensor.FromArray(y, x.ShapeArray);
    }

    public Tensor Activate(Tensor x, Activation kind)
    {
        float[] xs = x.ToFloatArray();
        for (int i = 0; i < xs.Length; i++) xs[i] = (float)Activated(xs[i], kind);
        return Tensor.FromArray(xs, x.ShapeArray);
    }

    /// <summary>The activation in double precision.</summary>
    public static double Activated(double v, Activation kind) => kind switch
    {
        Activation.Gelu => 0.5 * v * (1 + Erf(v / Math.Sqrt(2))),
        Activation.GeluTanh => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
        Activation.QuickGelu => v / (1 + Math.Exp(-1.702 * v)),
        Activation.Silu => v / (1 + Math.Exp(-v)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public Tensor SwiGlu(Tensor gate, Tensor up)
    {
        Check.SameShape(gate, up, "SwiGlu");
        float[] g = gate.ToFloatArray(), u = up.ToFloatArray();
        for (int i = 0; i < g.Length; i++) g[i] = (float)(Activated(g[i], Activation.Silu) * u[i]);
        return Tensor.FromArray(g, gate.ShapeArray);
    }

    public void ScaleColumnsInPlace(Tensor x, Tensor scale)
    {
        Check.F32Contiguous(x, "ScaleColumnsInPlace x");
        int d = x.Dim(-1);
        if (scale.Length != d) throw new ArgumentException($"ScaleColumnsInPlace: scale {scale} does not match x {x}");
        var xs = x.Span<float>(); float[] s = scale.ToFloatArray();
        for (int i = 0; i < xs.Length; i++) xs[i] *= s[i % d];
    }

    public Tensor Attention(Tensor q, Tensor k, Tensor v, float scale, bool causal)
    {
        AttentionShapes.Check(q, k, v, out int t, out int s, out int hq, out int hkv, out int p);
        float[] qs = q.ToFloatArray(), ks = k.ToFloatArray(), vs = v.ToFloatArray();
        var o = new float[t * hq * p];
        var scores = new double[s];
        for (int h = 0; h < hq; h++)
        {
            int kvh = h / (hq / hkv);
            for (int i = 0; i < t; i++)
            {
                int visible = causal ? i + s - t + 1 : s;
                double max = double.NegativeInfinity, sum = 0;
                for (int j = 0; j < visible; j++)
                {
                    double dot = 0;
                    for (int c = 0; c < p; c++) dot += (double)qs[(i * hq + h) * p + c] * ks[(j * hkv + kvh) * p + c];
                    scores[j] = dot * scale;
                    max = Math.Max(max, scores[j]);
                }
                for (int j = 0; j < visible; j++) { scores[j] = Math.Exp(scores[j] - max); sum += scores[j]; }
                for (int c = 0; c < p; c++)
                {
                    double acc = 0;
                    for (int j = 0; j < visible; j++) acc += scores[j] * vs[(j * hkv + kvh) * p + c];
                    o[(i * hq + h) * p + c] = (float)(acc / sum);
                }
            }
        }
        return Tensor.FromArray(o, t, hq, p);
    }

    public Tensor Rope(Tensor x, Tensor invFreq, int startPosition)
    {
        RopeShapes.Check(x, invFreq, out int t, out int h, out int p);
        float[] xs = x.ToFloatArray(), freq = invFreq.ToFloatArray();
        var y = new float[xs.Length];
        int half = p / 2;
        for (int ti = 0; ti < t; ti++)
            for (int i = 0; i < half; i++)
            {
                double angle = (float)(startPosition + ti) * freq[i];  // fp32 product, as torch.outer(t, inv_freq)
                double cos = Math.Cos(angle), sin = Math.Sin(angle);
                for (int hi = 0; hi < h; hi++)
                {
                    int at = (ti * h + hi) * p;
                    double a = xs[at + i], b = xs[at + i + half];
                    y[at + i] = (float)(a * cos - b * sin);
                    y[at + i + half] = (float)(b * cos + a * sin);
                }
            }
        return Tensor.FromArray(y, t, h, p);
    }

    public Tensor Concat(IReadOnlyList<Tensor> parts, int dim)
    {
        var shape = ConcatShape.Of(parts, dim, out int axis);
        var layout = Tensor.Zeros(DType.U8, shape);  // only its strides and offsets are used
        var y = new float[layout.Length];
        int offset = 0;
        foreach (var part in parts)
        {
            float[] values = part.ToFloatArray();
            int n = 0;
            ForEachIndex(layout.Narrow(axis, offset, part.Dim(axis)), off => y[off] = values[n++]);
            offset += part.Dim(axis);
        }
        return Tensor.FromArray(y, shape);
    }

    /// <summary>Calls <paramref name="visit"/> with the storage offset of every element of <paramref name="t"/>, in row-major order.</summary>
    private static void ForEachIndex(Tensor t, Action<long> visit)
    {
        var idx = new int[t.Rank];
        for (long n = 0; n < t.Length; n++)
        {
            long off = t.Offset;
            for (int d = 0; d < t.Rank; d++) off += idx[d] * t.Strides[d];
            visit(off);
            for (int d = t.Rank - 1; d >= 0; d--) { if (++idx[d] < t.Dim(d)) break; idx[d] = 0; }
        }
    }

    /// <summary>erf in double precision: its Taylor series below 3, the continued fraction of erfc above.</summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 3)
        {
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * sum; n++)
            {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            return Math.CopySign(2 / Math.Sqrt(Math.PI) * sum, x);
        }
        // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the tail
        double frac = ax;
        for (int n = 60; n >= 1; n--) frac = ax + n / 2.0 / frac;
        double erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / frac;
        return Math.CopySign(1 - erfc, x);
    }
}

/// <summary>Shape checks of <see cref="IBackend.Attention"/>, shared by the backends.</summary>
public static class AttentionShapes
{
    public static void Check(Tensor q, Tensor k, Tensor v, out int t, out int s, out int hq, out int hkv, out int p)
    {
        Reference.Check.Rank(q, 3, "Attention q"); Reference.Check.Rank(k, 3, "Attention k");
        Reference.Check.SameShape(k, v, "Attention k/v");
        (t, hq, p) = (q.Dim(0), q.Dim(1), q.Dim(2));
        (s, hkv) = (k.Dim(0), k.Dim(1));
        if (k.Dim(2) != p || hkv == 0 || hq % hkv != 0)
            throw new ArgumentException($"Attention: q {q} does not fit k/v {k} (head dims must match, query heads a multiple of kv heads)");
        if (t > s) throw new ArgumentException($"Attention: {t} queries but only {s} keys");
    }
}

/// <summary>Shape checks of <see cref="IBackend.Rope"/>, shared by the backends.</summary>
public static class RopeShapes
{
    public static void Check(Tensor x, Tensor invFreq, out int t, out int h, out int p)
    {
        Reference.Check.Rank(x, 3, "Rope x");
        (t, h, p) = (x.Dim(0), x.Dim(1), x.Dim(2));
        if (p % 2 != 0 || invFreq.Length != p / 2)
            throw new ArgumentException($"Rope: head dim {p} must be even and invFreq {invFreq} must hold {p / 2} frequencies");
    }
}

/// <summary>The result shape of <see cref="IBackend.Concat"/>, checking that the parts agree.</summary>
public static class ConcatShape
{
    public static int[] Of(IReadOnlyList<Tensor> parts, int dim, out int axis)
    {
        if (parts.Count == 0) throw new ArgumentException("Concat of no tensors");
        int rank = parts[0].Rank;
        axis = dim < 0 ? dim + rank : dim;
        if (axis < 0 || axis >= rank) throw new ArgumentException($"Concat: dim {dim} is outside rank {rank}");
        var shape = parts[0].ShapeArray;
        shape[axis] = 0;
        foreach (var part in parts)
        {
            bool fits = part.Rank == rank;
            for (int d = 0; fits && d < rank; d++) fits = d == axis || part.Dim(d) == shape[d];
            if (!fits) throw new ArgumentException($"Concat along dim {axis}: {part} does not match {parts[0]}");
            shape[axis] += part.Dim(axis);
        }
        return shape;
    }
}
