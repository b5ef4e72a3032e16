// `mambavl selfcheck --device cuda`: every CUDA op, through the same IBackend contract the models use, against the CPU
// reference backend on random odd-sized inputs (column slices of wider matrices where an op reads views in place); one
// row per case (op, shape, dtype, relative error, pass/fail). The bound is fp32's 1e-4 of the tensor's scale.
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed record SelfCheckRow(string Op, string Shape, string DType, double RelativeError, double Tolerance)
{
    public bool Passed => RelativeError <= Tolerance;
}

public sealed class CudaSelfCheck(CudaBackend gpu)
{
    public const double Tolerance = 1e-4;
    private static readonly ReferenceBackend Ref = ReferenceBackend.Instance;
    private readonly Random _rng = new(7);
    private readonly List<SelfCheckRow> _rows = [];

    public static IReadOnlyList<SelfCheckRow> Run(CudaBackend gpu)
    {
        var check = new CudaSelfCheck(gpu);
        check.Memory();
        foreach (var (r, d) in new[] { (1, 7), (37, 129), (5, 2048), (3, 2560) }) check.RmsNorm(r, d, slice: false);
        check.RmsNorm(9, 129, slice: true);
        foreach (var kind in Enum.GetValues<Activation>())
            foreach (var n in new[] { 1, 1000, 1 << 20 | 3 }) check.Activate(kind, n);
        check.SwiGluAndAdd(37, 129);
        foreach (var (m, n, k) in new[] { (1, 130, 77), (37, 65, 129), (5, 2560, 2560), (128, 2048, 2048) })
            foreach (var type in new[] { DType.F32, DType.BF16 }) check.MatMul(m, n, k, type, slice: false);
        check.MatMul(7, 96, 129, DType.F32, slice: true);
        check.MatMul(7, 96, 129, DType.BF16, slice: true);
        return check._rows;
    }

    private Tensor Uniform(float lo, float hi, params int[] shape)
    {
        long n = 1; foreach (int d in shape) n *= d;
        return Tensor.FromArray(Enumerable.Range(0, (int)n).Select(_ => lo + (hi - lo) * _rng.NextSingle()).ToArray(), shape);
    }

    /// <summary>A (rows, d) view at column 50 of a (rows, d + 71) matrix: rows strided, each row contiguous.</summary>
    private static Tensor Sliced(Tensor wide, int d) => wide.Narrow(1, 50, d);

    private void Memory()
    {
        var host = Uniform(-1, 1, 6, 40);
        var view = gpu.Upload(host).Narrow(1, 3, 17).Narrow(0, 1, 4);
        Add("Upload+ToHost", "4x17 view of 6x40", "f32", gpu.ToHost(view), host.Narrow(1, 3, 17).Narrow(0, 1, 4).ToFloatArray());
        var target = gpu.Zeros(DType.BF16, 6, 40);
        var source = Uniform(-2, 2, 4, 17);
        gpu.CopyInto(source, target.Narrow(1, 3, 17).Narrow(0, 1, 4));
        var expected = Tensor.Zeros(DType.BF16, 6, 40);
        expected.Narrow(1, 3, 17).Narrow(0, 1, 4).CopyFrom(source);
        Add("CopyInto", "4x17 into a bf16 6x40 view", "f32→bf16", gpu.ToHost(target), expected.ToFloatArray());
    }

    private void RmsNorm(int rows, int d, bool slice)
    {
        var wide = Uniform(-3, 3, rows, d + 71);
        var x = slice ? Sliced(wide, d) : Uniform(-3, 3, rows, d);
        var w = Uniform(0.5f, 1.5f, d);
        var onGpu = slice ? Sliced(gpu.Upload(wide), d) : gpu.Upload(x);
        Add("RmsNorm", $"{rows}x{d}{(slice ? " slice" : "")}", "f32", gpu.ToHost(gpu.RmsNorm(onGpu, gpu.Upload(w), 1e-5f)), Ref.RmsNorm(x, w, 1e-5f).ToFloatArray());
    }

    private void Activate(Activation kind, int n)
    {
        var x = Uniform(-8, 8, n);
        Add(kind.ToString(), n.ToString(System.Globalization.CultureInfo.InvariantCulture), "f32", gpu.ToHost(gpu.Activate(gpu.Upload(x), kind)), Ref.Activate(x, kind).ToFloatArray());
    }

    private void SwiGluAndAdd(int rows, int d)
    {
        var (g, u) = (Uniform(-4, 4, rows, d), Uniform(-2, 2, rows, d));
        Add("SwiGlu", $"{rows}x{d}", "f32", gpu.ToHost(gpu.SwiGlu(gpu.Upload(g), gpu.Upload(u))), Ref.SwiGlu(g, u).ToFloatArray());
        var acc = gpu.Upload(g);
        gpu.AddInPlace(acc, gpu.Upload(u));
        var expected = g.ContiguousCopy();
        Ref.AddInPlace(expected, u);
        Add("AddInPlace", $"{rows}x{d}", "f32", gpu.ToHost(acc), expected.ToFloatArray());
    }

    /// <summary>y = x·wᵀ + b; BF16 weights round x to BF16 on the device, so the reference reads the same rounded x.</summary>
    private void MatMul(int m, int n, int k, DType type, bool slice)
    {
        var wide = Uniform(-1, 1, m, k + 71);
        var x = slice ? Sliced(wide, k) : Uniform(-1, 1, m, k);
        var w = Uniform(-1, 1, n, k).ToDType(type);
        var b = Uniform(-0.5f, 0.5f, n);
        var xRef = type == DType.F32 ? x : x.ToDType(type).ToDType(DType.F32);
        var onGpu = slice ? Sliced(gpu.Upload(wide), k) : gpu.Upload(x);
        var actual = gpu.ToHost(gpu.MatMul(onGpu, gpu.Upload(w), gpu.Upload(b)));
        Add("MatMul+bias", $"{m}x{k} · ({n}x{k})ᵀ{(slice ? " slice" : "")}", type == DType.F32 ? "f32" : "bf16 w+x", actual, Ref.MatMul(xRef, w, b).ToFloatArray());
    }

    private void Add(string op, string shape, string dtype, float[] actual, float[] expected)
    {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = float.IsFinite(actual[i]) ? Math.Abs((double)actual[i] - expected[i]) : double.PositiveInfinity;
            (maxDiff, maxRef) = (Math.Max(maxDiff, diff), Math.Max(maxRef, Math.Abs(expected[i])));
        }
        if (actual.Length != expected.Length) maxDiff = double.PositiveInfinity;
        _rows.Add(new SelfCheckRow(op, shape, dtype, maxDiff / Math.Max(maxRef, 1e-30), Tolerance));
    }
}
