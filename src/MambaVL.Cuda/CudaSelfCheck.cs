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
        using var gemm = new CudaGemm(device);
        foreach (var (m, n, k) in new[] { (1, 130, 77), (37, 65, 129), (5, 2560, 2560), (128, 2048, 2048) })
            foreach (var type in new[] { DType.F32, DType.BF16 })
                rows.Add(MatMul(device, gemm, rng, m, n, k, type));
        return rows;
    }

    /// <summary>y = x·wᵀ; for BF16 weights x is rounded to BF16 on the device (the kernel is checked with it) and the reference reads the same values.</summary>
    private static SelfCheckRow MatMul(CudaDevice device, CudaGemm gemm, Random rng, int m, int n, int k, DType type)
    {
        var x = Tensor.FromArray(Uniform(rng, m * k, -1, 1), m, k);
        var w = Tensor.FromArray(Uniform(rng, n * k, -1, 1), n, k).ToDType(type);
        var xRef = type == DType.F32 ? x : x.ToDType(type).ToDType(DType.F32);
        var expected = ReferenceBackend.Instance.MatMul(xRef, w).ToFloatArray();
        using var dx = device.Upload(x.ToFloatArray());
        using var dw = device.UploadBytes(type == DType.F32 ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.Span<float>()) : System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.Span<ushort>()));
        using var dy = device.Allocate((long)m * n * sizeof(float));
        if (type == DType.F32) gemm.MatMul(dx, dw, dy, m, n, k, type);
        else
        {
            using var xb = device.Allocate((long)m * k * 2);
            device.Launch("conversions", "f32_to_bf16", (device.Blocks((long)m * k), 1), 256, 0, dx, xb, (long)m * k);
            gemm.MatMul(xb, dw, dy, m, n, k, type);
        }
        return Row("MatMul", $"{m}x{k} · ({n}x{k})ᵀ", device.Download(dy), expected) with { DType = type == DType.F32 ? "f32" : "bf16 w+x" };
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
        device.Launch("activations", kernel, (device.Blocks(n), 1), 256, 0, dx, dy, (long)n);
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
