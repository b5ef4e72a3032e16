// The oracle backend: plain scalar loops that follow the math in IBackend's comments line by line.
// Slow on purpose; every fast kernel is tested against it. SSM scans here are the sequential recurrence, not chunked.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Reference;

public sealed partial class ReferenceBackend : IBackend
{
    public static readonly ReferenceBackend Instance = new();

    public string Name => "reference";
    public Device Device => Device.Cpu;

    public Tensor Zeros(DType dtype, params int[] shape) => Tensor.Zeros(dtype, shape);

    public Tensor Upload(Tensor host) => host.Device == Device.Cpu ? host
        : throw new ArgumentException($"{host} is not a host tensor");

    public float[] ToHost(Tensor t) => t.ToFloatArray();

    public Tensor Contiguous(Tensor t) => t.ContiguousCopy();

    public void Release(Tensor t) => t.ReleaseNative();
    public void CopyInto(Tensor source, Tensor destination) => destination.CopyFrom(source);

    public Tensor MatMul(Tensor x, Tensor w, Tensor? bias = null)
    {
        Check.Rank(x, 2, "MatMul x"); Check.Rank(w, 2, "MatMul w");
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(0);
        if (w.Dim(1) != k) throw new ArgumentException($"MatMul: x {x} and w {w} disagree on K");
        if (bias != null && (bias.Rank != 1 || bias.Dim(0) != n)) throw new ArgumentException($"MatMul: bias {bias} is not ({n})");
        float[] xs = x.ToFloatArray(), ws = w.ToFloatArray(), bs = bias?.ToFloatArray() ?? new float[n];
        var y = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0;  // double accumulation: the oracle should be more exact than the kernels it checks
                for (int kk = 0; kk < k; kk++) acc += (double)xs[i * k + kk] * ws[j * k + kk];
                y[i * n + j] = (float)(acc + bs[j]);
            }
        return Tensor.FromArray(y, m, n);
    }

    public Tensor Embedding(Tensor table, ReadOnlySpan<int> ids)
    {
        Check.Rank(table, 2, "Embedding table");
        int v = table.Dim(0), d = table.Dim(1);
        var y = Tensor.Zeros(DType.F32, ids.Length, d);
        var ys = y.Span<float>();
        for (int t = 0; t < ids.Length; t++)
        {
            if ((uint)ids[t] >= (uint)v) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {ids[t]} is outside the vocabulary (0..{v - 1})");
            table.Narrow(0, ids[t], 1).ToFloatArray().CopyTo(ys.Slice(t * d, d));
        }
        return y;
    }

    public void AddInPlace(Tensor acc, Tensor x)
    {
        Check.SameShape(acc, x, "AddInPlace");
        var a = acc.Span<float>(); float[] b = x.ToFloatArray();
        for (int i = 0; i < a.Length; i++) a[i] += b[i];
    }

    public Tensor RmsNorm(Tensor x, Tensor weight, float eps)
    {
        int d = x.Dim(-1);
        if (weight.Length != d) throw new ArgumentException($"RmsNorm: weight {weight} does not match x {x}");
        float[] xs = x.ToFloatArray(), w = weight.ToFloatArray();
        var y = new float[xs.Length];
        for (int row = 0; row < xs.Length / Math.Max(d, 1); row++) NormalizeGroup(xs, y, w, row * d, d, 0, eps);
        return Tensor.FromArray(y, x.ShapeArray);
    }

    public Tensor GatedRmsNorm(Tensor y, Tensor z, Tensor weight, int groupSize, float eps)
    {
        Check.SameShape(y, z, "GatedRmsNorm");
        int d = y.Dim(-1);
        if (weight.Length != d || groupSize <= 0 || d % groupSize != 0)
            throw new ArgumentException($"GatedRmsNorm: weight {weight} / group size {groupSize} do not fit y {y}");
        float[] ys = y.ToFloatArray(), zs = z.ToFloatArray(), w = weight.ToFloatArray();
        var g = new float[ys.Length];
        for (int i = 0; i < g.Length; i++) g[i] = ys[i] * Silu(zs[i]);
        var o = new float[g.Length];
        for (int start = 0; start < g.Length; start += groupSize) NormalizeGroup(g, o, w, start, groupSize, start % d, eps);
        return Tensor.FromArray(o, y.ShapeArray);
    }

    /// <summary>Normalises src[start, start+len) by its RMS into dst, times w[wStart..].</summary>
    private static void NormalizeGroup(float[] src, float[] dst, float[] w, int start, int len, int wStart, float eps)
    {
        double ss = 0;
        for (int i = 0; i < len; i++) ss += (double)src[start + i] * src[start + i];
        double inv = 1.0 / Math.Sqrt(ss / len + eps);
        for (int i = 0; i < len; i++) dst[start + i] = (float)(src[start + i] * inv * w[wStart + i]);
    }

    internal static float Silu(float v) => (float)(v / (1.0 + Math.Exp(-v)));

    /// <summary>softplus as torch with threshold 20 (identity above it).</summary>
    internal static double Softplus(double v) => v > 20 ? v : Math.Log(1.0 + Math.Exp(v));
}

/// <summary>Argument checks shared by backends, with messages that name the op and the shapes.</summary>
public static class Check
{
    public static void Rank(Tensor t, int rank, string what)
    {
        if (t.Rank != rank) throw new ArgumentException($"{what}: expected rank {rank}, got {t}");
    }

    public static void SameShape(Tensor a, Tensor b, string what)
    {
        if (!a.Shape.SequenceEqual(b.Shape)) throw new ArgumentException($"{what}: shapes differ: {a} vs {b}");
    }

    public static void Shape(Tensor t, string what, params int[] shape)
    {
        if (!t.Shape.SequenceEqual(shape)) throw new ArgumentException($"{what}: expected {Tensor.ShapeString(shape)}, got {t}");
    }

    public static void F32Contiguous(Tensor t, string what)
    {
        if (t.DType != DType.F32 || !t.IsContiguous) throw new ArgumentException($"{what}: expected a contiguous F32 tensor, got {t}");
    }
}
