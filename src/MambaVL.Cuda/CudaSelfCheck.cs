// `mambavl selfcheck --device cuda`: every CUDA op against the CPU reference backend on random odd-sized inputs, one row
// per case (op, shape, dtype, relative error, pass/fail). The tolerance is fp32's 1e-4 of the tensor's scale.
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed record SelfCheckRow(string Op, string Shape, string DType, double RelativeError, double Tolerance)
{
    public bool Passed => RelativeError <= Tolerance;
}

public static class CudaSelfCheck
{
    public const double Tolerance = 1e-4;

    public static IReadOnlyList<SelfCheckRow> Run(CudaDevice device)
    {
        var rows = new List<SelfCheckRow>();
        var rng = new Random(7);
        foreach (var (r, d) in new[] { (1, 7), (37, 129), (5, 2048), (3, 2560) })
            rows.Add(RmsNorm(device, rng, r, d));
        foreach (var n in new[] { 1, 1000, 1 << 20 | 3 })
        {
            rows.Add(Activate(device, rng, n, Activation.Silu, "silu_f32"));
            rows.Add(Activate(device, rng, n, Activation.Gelu, "gelu_f32"));
        }
        return rows;
    }

    private static float[] Uniform(Random rng, int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * rng.NextSingle()).ToArray();

    private static SelfCheckRow RmsNorm(CudaDevice device, Random rng, int rows, int d)
    {
        var (x, w) = (Uniform(rng, rows * d, -3, 3), Uniform(rng, d, 0.5f, 1.5f));
        var expected = ReferenceBackend.Instance.RmsNorm(Tensor.FromArray(x, rows, d), Tensor.FromArray(w, d), 1e-5f).ToFloatArray();
        using var dx = device.Upload(x);
        using var dw = device.Upload(w);
        using var dy = device.Allocate((long)rows * d * sizeof(float));
        device.Launch("norms", "rms_norm_f32", ((uint)rows, 1), 256, 0, dx, dw, dy, rows, d, 1e-5f);
        return Row("RmsNorm", $"{rows}x{d}", device.Download(dy), expected);
    }

    private static SelfCheckRow Activate(CudaDevice device, Random rng, int n, Activation kind, string kernel)
    {
        var x = Uniform(rng, n, -8, 8);
        var expected = ReferenceBackend.Instance.Activate(Tensor.FromArray(x, n), kind).ToFloatArray();
        using var dx = device.Upload(x);
        using var dy = device.Allocate((long)n * sizeof(float));
        uint blocks = (uint)Math.Min((n + 255) / 256, device.Multiprocessors * 8);
        device.Launch("activations", kernel, (blocks, 1), 256, 0, dx, dy, (long)n);
        return Row(kind.ToString(), n.ToString(System.Globalization.CultureInfo.InvariantCulture), device.Download(dy), expected);
    }

    private static SelfCheckRow Row(string op, string shape, float[] actual, float[] expected)
    {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = float.IsFinite(actual[i]) ? Math.Abs((double)actual[i] - expected[i]) : double.PositiveInfinity;
            (maxDiff, maxRef) = (Math.Max(maxDiff, diff), Math.Max(maxRef, Math.Abs(expected[i])));
        }
        return new SelfCheckRow(op, shape, "f32", maxDiff / Math.Max(maxRef, 1e-30), Tolerance);
    }
}
