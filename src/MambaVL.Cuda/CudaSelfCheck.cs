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

public sealed partial class CudaSelfCheck(CudaBackend gpu)
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
        foreach (var (r, d) in new[] { (1, 2560), (37, 129) }) check.AddRmsNorm(r, d);
        foreach (var kind in Enum.GetValues<Activation>())
            foreach (var n in new[] { 1, 1000, 1 << 20 | 3 }) check.Activate(kind, n);
        check.SwiGluAndAdd(37, 129);
        foreach (var (m, n, k) in new[] { (1, 130, 77), (37, 65, 129), (5, 2560, 2560), (128, 2048, 2048) })
            foreach (var type in new[] { DType.F32, DType.BF16 }) check.MatMul(m, n, k, type, slice: false);
        // the decode GEMV (M ≤ 8): the 2.7B in_proj and out_proj shapes, and an F32 one on its vector path
        check.MatMul(1, 10576, 2560, DType.BF16, slice: false);
        check.MatMul(8, 2560, 5120, DType.BF16, slice: false);
        check.MatMul(3, 1000, 64, DType.F32, slice: false);
        check.MatMul(7, 96, 129, DType.F32, slice: true);
        check.MatMul(7, 96, 129, DType.BF16, slice: true);
        check.Embedding(DType.F32);
        check.Embedding(DType.BF16);
        check.GatedRmsNorm(7, 256, 64);
        check.GatedRmsNorm(3, 200, 200);
        foreach (var t in new[] { 37, 2 }) check.Conv(t, 71, 4);
        check.ConvStep(3, 71, 4);
        check.Scan(37, dPerChannel: false);
        check.Scan(1, dPerChannel: true);
        check.Step(3);
        check.StepKernels(5, 16, 64, 2, 128);
        check.DecodeChecks();   // the fused MambaStep and the GEMV variants (CudaSelfCheck.Decode.cs)
        check.BlocksChecks();   // the block stack as one persistent kernel (CudaSelfCheck.Blocks.cs)
        // the chunked SSD kernel (64-token chunks inside, whatever the model's chunk size) against the reference: lengths
        // below, at and past a chunk, 1 to 3 groups, D none / per head / per channel, clamped and unclamped dt, in_proj slices
        // (each also with SsdVariant = Parallel, whose 256-token state chunks the 300-, 520- and 1000-token cases cross; the
        // contiguous P = 64 cases take its whole-tile paths, the x staging and the y store with each D mode)
        ScanCase[] scanCases =
        [
            new(1, 4, 64, 2, 128, 64, DMode: 1, Clamp: true, Sliced: true),
            new(37, 4, 64, 2, 128, 256, DMode: 2, Clamp: true, Sliced: true),
            new(300, 4, 64, 2, 128, 64, DMode: 2, Clamp: false, Sliced: true),
            new(300, 4, 64, 1, 128, 256, DMode: 0, Clamp: false, Sliced: false),
            new(200, 6, 16, 3, 24, 64, DMode: 1, Clamp: true, Sliced: true),
            new(130, 2, 40, 1, 256, 256, DMode: 2, Clamp: false, Sliced: true),
            new(520, 4, 64, 2, 128, 256, DMode: 1, Clamp: true, Sliced: false),
            new(400, 4, 64, 2, 128, 64, DMode: 2, Clamp: false, Sliced: false),
        ];
        check.FusedScanChecks(scanCases);      // CudaSelfCheck.Ssd.cs
        check.ParallelScanChecks(scanCases);
        check.Layout();
        check.LayerNorm(37, 129, slice: true, bias: true);
        check.LayerNorm(5, 1024, slice: false, bias: false);
        check.ScaleColumns(37, 129);
        check.Rope(9, 3, 16, 0);
        check.Rope(5, 2, 128, 40000);
        foreach (var (t, sl, hq, hkv, p, causal) in new[] { (29, 29, 3, 3, 16, false), (33, 33, 4, 2, 64, true), (1, 70, 8, 2, 64, true), (5, 70, 6, 3, 24, true) })
            check.Attention(t, sl, hq, hkv, p, causal);
        // the flash kernels' regimes: ViT towers (prefill kernel, P padded to 64 and 80), causal GQA prefill, decode from a
        // view of a preallocated cache, a few queries on unaligned column slices, row groups over a long context
        check.Attention(257, 257, 16, 16, 64, false);
        check.Attention(37, 37, 3, 3, 72, false);
        foreach (var type in new[] { DType.F32, DType.BF16 })
        {
            check.AttentionKv(300, 300, 8, 2, 128, true, type, KvLayout.Separate);
            check.AttentionKv(1, 5000, 16, 8, 128, true, type, KvLayout.CacheView);
            check.AttentionKv(3, 70, 8, 2, 64, true, type, KvLayout.ColumnSlices);
        }
        check.AttentionKv(1, 300, 16, 16, 72, false, DType.F32, KvLayout.Separate);
        check.AttentionKv(2, 900, 8, 2, 96, true, DType.F32, KvLayout.ColumnSlices);
        check.AttentionKv(40, 2000, 4, 2, 128, true, DType.BF16, KvLayout.CacheView);
        check.AttentionAgainstPlain(1, 20000, 16, 8, 128);
        return check._rows;
    }

    private Tensor Uniform(float lo, float hi, params int[] shape)
    {
        long n = 1; foreach (int d in shape) n *= d;
        return Tensor.FromArray(Enumerable.Range(0, (int)n).Select(_ => lo + (hi - lo) * _rng.NextSingle()).ToArray(), shape);
    }

    /// <summary>A (rows, d) view at column 50 of a (rows, d + 71) matrix: rows strided, each row contiguous.</summary>
    private static Tensor Sliced(Tensor wide, int d) => wide.Narrow(1, 50, d);

    /// <summary>A copy that owns its memory (ContiguousCopy returns a contiguous tensor itself, and the ops update states in place).</summary>
    private static Tensor Copy(Tensor t) => Tensor.FromArray(t.ToFloatArray(), t.ShapeArray);

    private void Memory()
    {
        var host = Uniform(-1, 1, 6, 40);
        var view = gpu.Upload(host).Narrow(1, 3, 17).Narrow(0, 1, 4);
        Add("Upload+ToHost", "4x17 view of 6x40", "f32", gpu.ToHost(view), host.Narrow(1, 3, 17).Narrow(0, 1, 4).ToFloatArray());
        Add("Upload+ToHost", "flipped 6x40 (negative strides)", "f32", gpu.ToHost(gpu.Upload(host).Flip(1).Flip(0)), host.Flip(1).Flip(0).ToFloatArray());
        Add("Contiguous", "flipped 6x40", "f32", gpu.ToHost(gpu.Contiguous(gpu.Upload(host).Flip(0))), host.Flip(0).ToFloatArray());
        var target = gpu.Zeros(DType.BF16, 6, 40);
        var source = Uniform(-2, 2, 4, 17);
        gpu.CopyInto(source, target.Narrow(1, 3, 17).Narrow(0, 1, 4));
        var expected = Tensor.Zeros(DType.BF16, 6, 40);
        expected.Narrow(1, 3, 17).Narrow(0, 1, 4).CopyFrom(source);
        Add("CopyInto", "4x17 into a bf16 6x40 view", "f32→bf16", gpu.ToHost(target), expected.ToFloatArray());
        var deviceTarget = gpu.Zeros(DType.BF16, 6, 40);
        gpu.CopyInto(gpu.Upload(source), deviceTarget.Narrow(1, 3, 17).Narrow(0, 1, 4));
        Add("CopyInto", "device 4x17 into a bf16 6x40 view", "f32→bf16", gpu.ToHost(deviceTarget), expected.ToFloatArray());
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

    /// <summary>
    /// y = x·wᵀ + b; BF16 weights round x to BF16 on the device, so the reference reads the same rounded x. slice: x a
    /// column slice (rows at a stride, not 16-byte aligned: the scalar GEMV), or with aligned a 16-byte aligned one.
    /// </summary>
    private void MatMul(int m, int n, int k, DType type, bool slice, string note = "", bool aligned = false)
    {
        var wide = Uniform(-1, 1, m, k + (aligned ? 72 : 71));
        Tensor Slice(Tensor t) => aligned ? t.Narrow(1, 48, k) : Sliced(t, k);
        var x = slice ? Slice(wide) : Uniform(-1, 1, m, k);
        var w = Uniform(-1, 1, n, k).ToDType(type);
        var b = Uniform(-0.5f, 0.5f, n);
        var xRef = type == DType.F32 ? x : x.ToDType(type).ToDType(DType.F32);
        var onGpu = slice ? Slice(gpu.Upload(wide)) : gpu.Upload(x);
        var actual = gpu.ToHost(gpu.MatMul(onGpu, gpu.Upload(w), gpu.Upload(b)));
        string shape = $"{m}x{k} · ({n}x{k})ᵀ{(slice ? aligned ? " aligned slice" : " slice" : "")}{note}";
        Add("MatMul+bias", shape, type == DType.F32 ? "f32" : "bf16 w+x", actual, Ref.MatMul(xRef, w, b).ToFloatArray());
    }

    private void Embedding(DType type)
    {
        var table = Uniform(-1, 1, 97, 65).ToDType(type);
        int[] ids = [0, 96, 5, 5, 40];
        Add("Embedding", "5 of 97x65", type == DType.F32 ? "f32" : "bf16", gpu.ToHost(gpu.Embedding(gpu.Upload(table), ids)), Ref.Embedding(table, ids).ToFloatArray());
    }

    /// <summary>y and z as column slices of one wide row (as Mamba-2's z and y), groups of <paramref name="group"/>.</summary>
    private void GatedRmsNorm(int rows, int dn, int group)
    {
        var wide = Uniform(-3, 3, rows, 2 * dn + 9);
        var (y, z, w) = (wide.Narrow(1, 9, dn), wide.Narrow(1, 9 + dn, dn), Uniform(0.5f, 1.5f, dn));
        var onGpu = gpu.Upload(wide);
        var actual = gpu.ToHost(gpu.GatedRmsNorm(onGpu.Narrow(1, 9, dn), onGpu.Narrow(1, 9 + dn, dn), gpu.Upload(w), group, 1e-5f));
        Add("GatedRmsNorm", $"{rows}x{dn} group {group} slices", "f32", actual, Ref.GatedRmsNorm(y, z, w, group, 1e-5f).ToFloatArray());
    }

    /// <summary>x a column slice; a random incoming state; the output and the updated state both checked.</summary>
    private void Conv(int t, int channels, int width)
    {
        var wide = Uniform(-2, 2, t, channels + 13);
        var x = wide.Narrow(1, 13, channels);
        var (w, b, state) = (Uniform(-1, 1, channels, width), Uniform(-0.5f, 0.5f, channels), Uniform(-1, 1, channels, width - 1));
        var refState = Copy(state);
        var expected = Ref.CausalConv1d(x, w, b, refState, silu: true).ToFloatArray();
        var gpuState = gpu.Upload(Copy(state));
        var actual = gpu.ToHost(gpu.CausalConv1d(gpu.Upload(wide).Narrow(1, 13, channels), gpu.Upload(w), gpu.Upload(b), gpuState, silu: true));
        Add("CausalConv1d", $"T={t} C={channels} W={width} slice", "f32", actual, expected);
        Add("CausalConv1d state", $"{channels}x{width - 1}", "f32", gpu.ToHost(gpuState), refState.ToFloatArray());
    }

    private void ConvStep(int batch, int channels, int width)
    {
        var (x, w, state) = (Uniform(-2, 2, batch, channels), Uniform(-1, 1, channels, width), Uniform(-1, 1, batch, channels, width - 1));
        var refState = Copy(state);
        var expected = Ref.CausalConv1dStep(x, w, null, refState, silu: false).ToFloatArray();
        var gpuState = gpu.Upload(Copy(state));
        var actual = gpu.ToHost(gpu.CausalConv1dStep(gpu.Upload(x), gpu.Upload(w), null, gpuState, silu: false));
        Add("CausalConv1dStep", $"B={batch} C={channels} W={width}", "f32", actual, expected);
        Add("CausalConv1dStep state", $"{batch}x{channels}x{width - 1}", "f32", gpu.ToHost(gpuState), refState.ToFloatArray());
    }

    private const int Heads = 6, HeadDim = 16, Groups = 2, StateSize = 24;

    private SsmParams Params(bool dPerChannel, bool onGpu)
    {
        var rng = new Random(11);
        float[] Values(int n, Func<float> f) => Enumerable.Range(0, n).Select(_ => f()).ToArray();
        var a = Tensor.FromArray(Values(Heads, () => -(1 + 15 * rng.NextSingle())), Heads);
        var dtBias = Tensor.FromArray(Values(Heads, () => -4 + 3 * rng.NextSingle()), Heads);
        var d = dPerChannel ? Tensor.FromArray(Values(Heads * HeadDim, rng.NextSingle), Heads, HeadDim) : Tensor.FromArray(Values(Heads, rng.NextSingle), Heads);
        return onGpu ? new SsmParams(gpu.Upload(a), gpu.Upload(dtBias), gpu.Upload(d), 0.001f, 0.1f) : new SsmParams(a, dtBias, d, 0.001f, 0.1f);
    }

    private void Scan(int t, bool dPerChannel)
    {
        var (x, dt) = (Uniform(-1, 1, t, Heads, HeadDim), Uniform(-5, 1, t, Heads));
        var (b, c) = (Uniform(-1, 1, t, Groups, StateSize), Uniform(-1, 1, t, Groups, StateSize));
        var state = Uniform(-0.5f, 0.5f, Heads, HeadDim, StateSize);
        var refState = Copy(state);
        var expected = Ref.SsdScan(x, dt, b, c, Params(dPerChannel, false), refState, 8).ToFloatArray();
        var gpuState = gpu.Upload(Copy(state));
        var actual = gpu.ToHost(gpu.SsdScan(gpu.Upload(x), gpu.Upload(dt), gpu.Upload(b), gpu.Upload(c), Params(dPerChannel, true), gpuState, 8));
        string shape = $"T={t} H={Heads} P={HeadDim} G={Groups} N={StateSize}{(dPerChannel ? " D (H,P)" : "")}";
        Add("SsdScan", shape, "f32", actual, expected);
        Add("SsdScan final state", shape, "f32", gpu.ToHost(gpuState), refState.ToFloatArray());
    }

    private sealed record ScanCase(int T, int Heads, int P, int Groups, int N, int Chunk, int DMode, bool Clamp, bool Sliced);

    /// <summary>
    /// SSM inputs for one case on the host: x, dt, B, C as contiguous tensors or as column slices of one wide (T, ·) matrix
    /// laid out as in_proj's [x | B | C | dt | pad]; A = −(1..16), dt_bias in [−4, −1], D (none, per head or per channel)
    /// and a random incoming state.
    /// </summary>
    private (Tensor Wide, Tensor X, Tensor Dt, Tensor B, Tensor C, SsmParams P, Tensor State) ScanInputs(ScanCase s)
    {
        int di = s.Heads * s.P, gn = s.Groups * s.N, width = di + 2 * gn + s.Heads + 5;
        var wide = Uniform(-1, 1, s.T, width);
        for (int t = 0; t < s.T; t++)   // dt columns: raw values around softplus's knee
            for (int h = 0; h < s.Heads; h++) wide.Span<float>()[t * width + di + 2 * gn + h] = -5 + 6 * _rng.NextSingle();
        var a = Uniform(-16, -1, s.Heads);
        var dtBias = Uniform(-4, -1, s.Heads);
        Tensor? d = s.DMode switch { 1 => Uniform(0, 1, s.Heads), 2 => Uniform(0, 1, s.Heads, s.P), _ => null };
        var p = s.Clamp ? new SsmParams(a, dtBias, d, 0.001f, 0.1f) : new SsmParams(a, dtBias, d);
        var (x, b, c, dt) = ScanViews(wide, s);
        if (!s.Sliced) (x, b, c, dt) = (Copy(x), Copy(b), Copy(c), Copy(dt));
        return (wide, x, dt, b, c, p, Uniform(-0.5f, 0.5f, s.Heads, s.P, s.N));
    }

    private static (Tensor X, Tensor B, Tensor C, Tensor Dt) ScanViews(Tensor wide, ScanCase s)
    {
        int di = s.Heads * s.P, gn = s.Groups * s.N;
        return (wide.Narrow(1, 0, di).Reshape(s.T, s.Heads, s.P), wide.Narrow(1, di, gn).Reshape(s.T, s.Groups, s.N),
            wide.Narrow(1, di + gn, gn).Reshape(s.T, s.Groups, s.N), wide.Narrow(1, di + 2 * gn, s.Heads));
    }

    private SsmParams OnGpu(SsmParams p) =>
        new(gpu.Upload(p.A), gpu.Upload(p.DtBias), p.D is null ? null : gpu.Upload(p.D), p.DtMin, p.DtMax);

    /// <summary>The chunked CUDA scan (views read in place on the device when sliced) against the reference; y and the final state.</summary>
    private void ChunkedScan(ScanCase s, string label = "SsdScan chunked")
    {
        var (wide, x, dt, b, c, p, state) = ScanInputs(s);
        var refState = Copy(state);
        var expected = Ref.SsdScan(x, dt, b, c, p, refState, s.Chunk).ToFloatArray();
        var (gx, gb, gc, gdt) = s.Sliced ? ScanViews(gpu.Upload(wide), s) : (gpu.Upload(x), gpu.Upload(b), gpu.Upload(c), gpu.Upload(dt));
        var gpuState = gpu.Upload(Copy(state));
        var actual = gpu.ToHost(gpu.SsdScan(gx, gdt, gb, gc, OnGpu(p), gpuState, s.Chunk));
        string d = s.DMode switch { 1 => " D (H)", 2 => " D (H,P)", _ => " no D" };
        string shape = $"T={s.T} H={s.Heads} P={s.P} G={s.Groups} N={s.N} chunk {s.Chunk}{d}{(s.Clamp ? " dt clamp" : "")}{(s.Sliced ? " slices" : "")}";
        Add(label, shape, "f32 (bf16x3 MMA)", actual, expected);
        Add($"{label} state", shape, "f32 (bf16x3 MMA)", gpu.ToHost(gpuState), refState.ToFloatArray());
    }

    /// <summary>The chunked kernel against the GPU recurrence (exact fp32, one step per token) on a 2.7B-like head shape.</summary>
    private void ChunkedVersusRecurrence(int t, int heads, int p, int n)
    {
        var s = new ScanCase(t, heads, p, 1, n, 256, DMode: 1, Clamp: false, Sliced: true);
        var (wide, _, _, _, _, prm, state) = ScanInputs(s);
        var (gx, gb, gc, gdt) = ScanViews(gpu.Upload(wide), s);
        var onGpu = OnGpu(prm);
        var (chunkState, recState) = (gpu.Upload(Copy(state)), gpu.Upload(Copy(state)));
        var chunked = gpu.ToHost(gpu.SsdScan(gx, gdt, gb, gc, onGpu, chunkState, 256));
        var recurrence = gpu.ToHost(gpu.SsdScanRecurrence(gx, gdt, gb, gc, onGpu, recState));
        string shape = $"T={t} H={heads} P={p} G=1 N={n} slices";
        Add("SsdScan chunked vs recurrence", shape, "f32 (bf16x3 MMA)", chunked, recurrence);
        Add("SsdScan chunked vs recurrence state", shape, "f32 (bf16x3 MMA)", gpu.ToHost(chunkState), gpu.ToHost(recState));
    }

    private void Step(int batch)
    {
        var (x, dt) = (Uniform(-1, 1, batch, Heads, HeadDim), Uniform(-5, 1, batch, Heads));
        var (b, c) = (Uniform(-1, 1, batch, Groups, StateSize), Uniform(-1, 1, batch, Groups, StateSize));
        var state = Uniform(-0.5f, 0.5f, batch, Heads, HeadDim, StateSize);
        var refState = Copy(state);
        var expected = Ref.SsmStep(x, dt, b, c, Params(false, false), refState).ToFloatArray();
        var gpuState = gpu.Upload(Copy(state));
        var actual = gpu.ToHost(gpu.SsmStep(gpu.Upload(x), gpu.Upload(dt), gpu.Upload(b), gpu.Upload(c), Params(false, true), gpuState));
        Add("SsmStep", $"B={batch} H={Heads} P={HeadDim} N={StateSize}", "f32", actual, expected);
        Add("SsmStep state", $"B={batch}", "f32", gpu.ToHost(gpuState), refState.ToFloatArray());
    }

    /// <summary>The fused residual add + RMSNorm: the updated residual and the norm, against the reference's two ops.</summary>
    private void AddRmsNorm(int rows, int d)
    {
        var (residual, x, w) = (Uniform(-2, 2, rows, d), Uniform(-1, 1, rows, d), Uniform(0.5f, 1.5f, d));
        var refResidual = Copy(residual);
        var expected = ((IBackend)Ref).AddRmsNorm(refResidual, x, w, 1e-5f).ToFloatArray();
        var gpuResidual = gpu.Upload(Copy(residual));
        var actual = gpu.ToHost(gpu.AddRmsNorm(gpuResidual, gpu.Upload(x), gpu.Upload(w), 1e-5f));
        Add("AddRmsNorm", $"{rows}x{d}", "f32", actual, expected);
        Add("AddRmsNorm residual", $"{rows}x{d}", "f32", gpu.ToHost(gpuResidual), refResidual.ToFloatArray());
    }

    /// <summary>The warp-per-row decode step against the plain recurrence kernel, both on the GPU, at the 2.7B head shape.</summary>
    private void StepKernels(int batch, int heads, int headDim, int groups, int stateSize)
    {
        var inputs = new[] { Uniform(-1, 1, batch, heads, headDim), Uniform(-5, 1, batch, heads), Uniform(-1, 1, batch, groups, stateSize), Uniform(-1, 1, batch, groups, stateSize) }
            .Select(gpu.Upload).ToArray();
        var ssm = new SsmParams(gpu.Upload(Uniform(-4, -0.5f, heads)), gpu.Upload(Uniform(-3, 0, heads)), gpu.Upload(Uniform(0.5f, 1.5f, heads)), 0f, float.PositiveInfinity);
        var state = Uniform(-0.5f, 0.5f, batch, heads, headDim, stateSize);
        (float[] Y, float[] State) Run(bool plain)
        {
            gpu.PlainStep = plain;
            var st = gpu.Upload(Copy(state));
            var y = gpu.ToHost(gpu.SsmStep(inputs[0], inputs[1], inputs[2], inputs[3], ssm, st));
            gpu.PlainStep = false;
            return (y, gpu.ToHost(st));
        }
        var (fast, plainRun) = (Run(false), Run(true));
        string shape = $"B={batch} H={heads} P={headDim} G={groups} N={stateSize}";
        Add("SsmStep warp vs recurrence", shape, "f32", fast.Y, plainRun.Y);
        Add("SsmStep warp vs recurrence state", shape, "f32", fast.State, plainRun.State);
    }

    /// <summary>Contiguous of a transposed view (F32, BF16), and Concat along dims 0 and 1.</summary>
    private void Layout()
    {
        var x = Uniform(-1, 1, 5, 7, 9);
        var view = x.Permute(2, 0, 1).Narrow(0, 2, 5);
        Add("Contiguous", "permuted 5x5x7 view", "f32", gpu.ToHost(gpu.Contiguous(gpu.Upload(x).Permute(2, 0, 1).Narrow(0, 2, 5))), view.ToFloatArray());
        var xb = x.ToDType(DType.BF16);
        Add("Contiguous", "transposed 7x5x9 view", "bf16", gpu.ToHost(gpu.Contiguous(gpu.Upload(xb).Transpose(0, 1))), xb.Transpose(0, 1).ToFloatArray());
        var (a, b) = (Uniform(-1, 1, 3, 11), Uniform(-1, 1, 3, 4));
        Add("Concat", "3x11 ‖ 3x4 (dim 1)", "f32", gpu.ToHost(gpu.Concat([gpu.Upload(a), gpu.Upload(b)], 1)), Ref.Concat([a, b], 1).ToFloatArray());
        var c = Uniform(-1, 1, 2, 11);
        Add("Concat", "3x11 ‖ 2x11 (dim 0)", "f32", gpu.ToHost(gpu.Concat([gpu.Upload(a), gpu.Upload(c)], 0)), Ref.Concat([a, c], 0).ToFloatArray());
    }

    private void LayerNorm(int rows, int d, bool slice, bool bias)
    {
        var wide = Uniform(-3, 3, rows, d + 71);
        var x = slice ? Sliced(wide, d) : Uniform(-3, 3, rows, d);
        var (w, b) = (Uniform(0.5f, 1.5f, d), bias ? Uniform(-0.5f, 0.5f, d) : null);
        var onGpu = slice ? Sliced(gpu.Upload(wide), d) : gpu.Upload(x);
        var actual = gpu.ToHost(gpu.LayerNorm(onGpu, gpu.Upload(w), b is null ? null : gpu.Upload(b), 1e-6f));
        Add("LayerNorm", $"{rows}x{d}{(slice ? " slice" : "")}{(bias ? "" : " no bias")}", "f32", actual, Ref.LayerNorm(x, w, b, 1e-6f).ToFloatArray());
    }

    private void ScaleColumns(int rows, int d)
    {
        var (x, scale) = (Uniform(-2, 2, rows, d), Uniform(-1, 1, d));
        var onGpu = gpu.Upload(x);
        gpu.ScaleColumnsInPlace(onGpu, gpu.Upload(scale));
        var expected = Copy(x);
        Ref.ScaleColumnsInPlace(expected, scale);
        Add("ScaleColumnsInPlace", $"{rows}x{d}", "f32", gpu.ToHost(onGpu), expected.ToFloatArray());
    }

    /// <summary>q as a column slice of a fused qkv row, at a start position far past the first (large angles).</summary>
    private void Rope(int t, int heads, int p, int start)
    {
        var qkv = Uniform(-2, 2, t, 3 * heads * p);
        var q = qkv.Narrow(1, heads * p, heads * p).Reshape(t, heads, p);
        var invFreq = Tensor.FromArray(Enumerable.Range(0, p / 2).Select(i => 1f / MathF.Pow(10000f, 2f * i / p)).ToArray(), p / 2);
        var onGpu = gpu.Upload(qkv).Narrow(1, heads * p, heads * p).Reshape(t, heads, p);
        Add("Rope", $"T={t} H={heads} P={p} from {start} slice", "f32", gpu.ToHost(gpu.Rope(onGpu, gpu.Upload(invFreq), start)), Ref.Rope(q, invFreq, start).ToFloatArray());
    }

    /// <summary>q, k, v as the column slices of one fused qkv matrix when T = S (as the ViT towers read them), else separate.</summary>
    private void Attention(int t, int s, int hq, int hkv, int p, bool causal)
    {
        float scale = 1 / MathF.Sqrt(p);
        string shape = $"T={t} S={s} Hq={hq} Hkv={hkv} P={p}{(causal ? " causal" : "")}";
        if (t == s && hq == hkv)
        {
            int d = hq * p;
            var qkv = Uniform(-2, 2, t, 3 * d);
            Tensor Part(Tensor m, int i) => m.Narrow(1, i * d, d).Reshape(t, hq, p);
            var onGpu = gpu.Upload(qkv);
            var expected = Ref.Attention(Part(qkv, 0), Part(qkv, 1), Part(qkv, 2), scale, causal).ToFloatArray();
            Add("Attention", shape + " fused qkv", "f32", gpu.ToHost(gpu.Attention(Part(onGpu, 0), Part(onGpu, 1), Part(onGpu, 2), scale, causal)), expected);
            return;
        }
        var (q, k, v) = (Uniform(-2, 2, t, hq, p), Uniform(-2, 2, s, hkv, p), Uniform(-1, 1, s, hkv, p));
        Add("Attention", shape, "f32", gpu.ToHost(gpu.Attention(gpu.Upload(q), gpu.Upload(k), gpu.Upload(v), scale, causal)), Ref.Attention(q, k, v, scale, causal).ToFloatArray());
    }

    private enum KvLayout { Separate, CacheView, ColumnSlices }

    /// <summary>
    /// K and V in <paramref name="type"/> laid out as a model hands them over: separate tensors, rows 37.. of a preallocated
    /// (8192, Hkv·P) cache, or column slices at odd offsets of one (S, 2·Hkv·P + 5) matrix (unaligned, odd row stride).
    /// BF16 references read the same rounded values.
    /// </summary>
    private void AttentionKv(int t, int s, int hq, int hkv, int p, bool causal, DType type, KvLayout layout)
    {
        int width = hkv * p;
        var q = Uniform(-2, 2, t, hq, p);
        Tensor Fill(float lo, float hi, int rows, int cols) => Uniform(lo, hi, rows, cols).ToDType(type);
        var (kBuf, vBuf) = layout switch
        {
            KvLayout.CacheView => (Fill(-2, 2, 8192, width), Fill(-1, 1, 8192, width)),
            KvLayout.ColumnSlices => (Fill(-2, 2, s, 2 * width + 5), null),
            _ => (Fill(-2, 2, s, width), Fill(-1, 1, s, width)),
        };
        (Tensor K, Tensor V) Views(Tensor kb, Tensor? vb) => layout switch
        {
            KvLayout.CacheView => (kb.Narrow(0, 37, s).Reshape(s, hkv, p), vb!.Narrow(0, 37, s).Reshape(s, hkv, p)),
            KvLayout.ColumnSlices => (kb.Narrow(1, 1, width).Reshape(s, hkv, p), kb.Narrow(1, width + 4, width).Reshape(s, hkv, p)),
            _ => (kb.Reshape(s, hkv, p), vb!.Reshape(s, hkv, p)),
        };
        var (k, v) = Views(kBuf, vBuf);
        var (kd, vd) = Views(gpu.Upload(kBuf), vBuf is null ? null : gpu.Upload(vBuf));
        float scale = 1 / MathF.Sqrt(p);
        string shape = $"T={t} S={s} Hq={hq} Hkv={hkv} P={p}{(causal ? " causal" : "")} {layout switch { KvLayout.CacheView => "cache view", KvLayout.ColumnSlices => "k/v slices", _ => "" }}";
        Add("Attention", shape.TrimEnd(), type == DType.F32 ? "f32" : "f32 q, bf16 k/v", gpu.ToHost(gpu.Attention(gpu.Upload(q), kd, vd, scale, causal)), Ref.Attention(q, k, v, scale, causal).ToFloatArray());
    }

    /// <summary>The flash kernels against the plain three-pass kernels on the GPU, at a context the CPU reference would take long on.</summary>
    private void AttentionAgainstPlain(int t, int s, int hq, int hkv, int p)
    {
        var (q, k, v) = (gpu.Upload(Uniform(-2, 2, t, hq, p)), gpu.Upload(Uniform(-2, 2, s, hkv, p)), gpu.Upload(Uniform(-1, 1, s, hkv, p)));
        float scale = 1 / MathF.Sqrt(p);
        Add("Attention flash vs plain", $"T={t} S={s} Hq={hq} Hkv={hkv} P={p} causal", "f32",
            gpu.ToHost(gpu.Attention(q, k, v, scale, causal: true)), gpu.ToHost(gpu.AttentionPlain(q, k, v, scale, causal: true)));
    }

    /// <summary>
    /// A row comparing any two results (also for model-level checks made by callers that know the models): max |actual −
    /// expected| / max |expected|; a length mismatch or a non-finite value fails the row.
    /// </summary>
    public static SelfCheckRow Compare(string op, string shape, string dtype, float[] actual, float[] expected)
    {
        double maxDiff = actual.Length == expected.Length ? 0 : double.PositiveInfinity, maxRef = 0;
        for (int i = 0; i < Math.Min(actual.Length, expected.Length); i++)
        {
            double diff = float.IsFinite(actual[i]) ? Math.Abs((double)actual[i] - expected[i]) : double.PositiveInfinity;
            (maxDiff, maxRef) = (Math.Max(maxDiff, diff), Math.Max(maxRef, Math.Abs(expected[i])));
        }
        return new SelfCheckRow(op, shape, dtype, maxDiff / Math.Max(maxRef, 1e-30), Tolerance);
    }

    private void Add(string op, string shape, string dtype, float[] actual, float[] expected) => _rows.Add(Compare(op, shape, dtype, actual, expected));
}
