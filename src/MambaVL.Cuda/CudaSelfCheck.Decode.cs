// Selfcheck rows for the decode path: the fused MambaStep kernel (mamba_step.cu) against the reference backend's
// composition (conv step + SiLU, SSM step, gated RMSNorm) and against the GPU's own three ops, at the 2.7B mixer shape
// and odd ones; and the GEMV variants (gemv_pipe.cu for M ≤ 2, gemv_mma.cu for batches) against the reference product.
// Each MambaStep case runs two steps in a row, so the second reads the conv state the first wrote and the counters the
// first launch's last blocks reset.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed partial class CudaSelfCheck
{
    /// <summary>A MambaStep case: B sequences, H heads of P, G groups of state N, conv width W, gate groups of Gate channels.</summary>
    private sealed record StepCase(int Batch, int Heads, int P, int Groups, int N, int Width, int Gate, int DMode, bool ConvBias, bool Clamp);

    private void DecodeChecks()
    {
        foreach (var s in new StepCase[]
        {
            new(1, 80, 64, 1, 128, 4, 5120, DMode: 1, ConvBias: true, Clamp: false),   // mamba2-2.7b: ngroups 1, one gate group of 5120
            new(3, 80, 64, 1, 128, 4, 5120, DMode: 1, ConvBias: true, Clamp: false),
            new(3, 6, 16, 2, 24, 4, 48, DMode: 2, ConvBias: false, Clamp: true),      // 2 groups, a gate group per SSM group
            new(2, 6, 16, 2, 24, 3, 16, DMode: 1, ConvBias: true, Clamp: false),      // a gate group per head, width 3
            new(2, 4, 8, 1, 17, 4, 32, DMode: 0, ConvBias: true, Clamp: false),       // N odd: the scalar kernel
            new(1, 4, 16, 1, 32, 4, 8, DMode: 1, ConvBias: true, Clamp: false),       // gate group inside a head: the three ops
        }) MambaStep(s);
        // the GEMV variants on the 2.7B in_proj and out_proj shapes, two rows of x, and shapes they hand back to gemv_vec
        var chosen = gpu.GemvVariant;
        foreach (var variant in Enum.GetValues<GemvVariant>())
        {
            gpu.GemvVariant = variant;
            string note = $" {variant}";
            MatMul(1, 10576, 2560, DType.BF16, slice: false, note);
            MatMul(1, 2560, 5120, DType.BF16, slice: false, note);
            MatMul(2, 2560, 5120, DType.BF16, slice: false, note);
            MatMul(1, 1000, 264, DType.BF16, slice: false, note);
            MatMul(2, 77, 64, DType.BF16, slice: true, note);
            MatMul(1, 96, 129, DType.BF16, slice: true, note);
        }
        gpu.GemvVariant = chosen;
        // the tensor-core batch GEMV (gemv_mma) at 3, 5 and 8 rows: the 2.7B in_proj and out_proj shapes, N off the 16-column
        // tiles, K off the 32-wide k-blocks, x rows at a stride, K = 8; and x off 16-byte alignment, which it hands back
        var batch = gpu.GemvBatch;
        gpu.GemvBatch = GemvBatchVariant.Mma;
        foreach (int m in new[] { 3, 5, 8 })
        {
            MatMul(m, 10576, 2560, DType.BF16, slice: false, " Mma");
            MatMul(m, 2560, 5120, DType.BF16, slice: false, " Mma");
            MatMul(m, 1000, 264, DType.BF16, slice: false, " Mma");
            MatMul(m, 77, 64, DType.BF16, slice: true, " Mma", aligned: true);
            MatMul(m, 77, 64, DType.BF16, slice: true, " Mma");
        }
        MatMul(8, 40, 8, DType.BF16, slice: false, " Mma");
        gpu.GemvBatch = batch;
        // the pre-norm projection folded into gemv_ring (decode rows), on the 2.7B in_proj shape and smaller odd ones
        NormMatMul(1, 10576, 2560, add: true, exact: true);
        NormMatMul(1, 10576, 2560, add: true, exact: false);
        NormMatMul(2, 1000, 512, add: true, exact: false);
        NormMatMul(1, 1000, 768, add: false, exact: false);
        StepProjectChecks();   // the step with out_proj, gate norm folded into the GEMV (CudaSelfCheck.StepProject.cs)
    }

    /// <summary>
    /// NormMatMul fused (residual + x as a column slice, norm, BF16 w, bias) against the reference's AddRmsNorm (or
    /// RmsNorm), x rounded to BF16, MatMul; the residual written back against the reference's. exact: every |r + x| = 1
    /// and eps = 0, so the norm's scale is exactly 1 in any summation order and x·norm is exactly a BF16 value; otherwise
    /// the GPU sums the squares in another order than the reference, which can move one of the K normalised values across
    /// a BF16 rounding boundary (one ulp, 2^-8 of it): those rows are held to 1e-3.
    /// </summary>
    private void NormMatMul(int m, int n, int k, bool add, bool exact)
    {
        var rng = new Random(11 + k + n);
        float eps = exact ? 0f : 1e-5f;
        Tensor Signs(float magnitude, int[] signs) => Tensor.FromArray(signs.Select(s => s * magnitude).ToArray(), m, k);
        int[] signs = Enumerable.Range(0, m * k).Select(_ => rng.Next(2) * 2 - 1).ToArray();
        var residual = exact ? Signs(0.75f, signs) : Uniform(-2, 2, m, k);
        var wide = Uniform(-1, 1, m, k + 77);
        if (exact)
            for (int r = 0; r < m; r++)
                for (int i = 0; i < k; i++) wide.Span<float>()[r * (k + 77) + 50 + i] = 0.25f * signs[r * k + i];
        var x = Sliced(wide, k);
        var norm = Uniform(0.5f, 1.5f, k).ToDType(DType.BF16).ToDType(DType.F32);
        var (w, bias) = (Uniform(-1, 1, n, k).ToDType(DType.BF16), Uniform(-0.5f, 0.5f, n));

        var refResidual = Copy(residual);
        var normed = add ? ((IBackend)Ref).AddRmsNorm(refResidual, x, norm, eps) : Ref.RmsNorm(refResidual, norm, eps);
        var expected = Ref.MatMul(normed.ToDType(DType.BF16).ToDType(DType.F32), w, bias).ToFloatArray();

        var (gpuResidual, gpuWide, gpuNorm, gpuW, gpuBias) = (gpu.Upload(Copy(residual)), gpu.Upload(wide), gpu.Upload(norm), gpu.Upload(w), gpu.Upload(bias));
        bool chosen = gpu.FusedNormMatMul;
        gpu.FusedNormMatMul = true;
        var actual = gpu.ToHost(gpu.NormMatMul(gpuResidual, add ? Sliced(gpuWide, k) : null, gpuNorm, eps, gpuW, gpuBias));
        gpu.FusedNormMatMul = false;
        var opsResidual = gpu.Upload(Copy(residual));
        var ops = gpu.ToHost(gpu.NormMatMul(opsResidual, add ? Sliced(gpuWide, k) : null, gpuNorm, eps, gpuW, gpuBias));
        gpu.FusedNormMatMul = chosen;

        string shape = $"{m}x{k}{(add ? " + slice" : "")} · ({n}x{k})ᵀ{(exact ? ", |r + x| = 1, eps 0" : "")}";
        double bound = exact ? Tolerance : 1e-3;
        _rows.Add(Compare("NormMatMul fused", shape, "bf16 w+x", actual, expected) with { Tolerance = bound });
        _rows.Add(Compare("NormMatMul fused vs ops", shape, "bf16 w+x", actual, ops) with { Tolerance = bound });
        Add("NormMatMul fused residual", shape, "f32", gpu.ToHost(gpuResidual), refResidual.ToFloatArray());
    }

    /// <summary>
    /// z, xBC and dt as column views of one (B, ·) in_proj-like matrix at odd offsets; random conv and SSM states; two
    /// steps. Rows: the output and both states after the second step, against the reference and against the GPU's ops.
    /// </summary>
    private void MambaStep(StepCase s)
    {
        var (inputs, p, conv0, state0) = StepInputs(s);
        (Tensor Z, Tensor Xbc, Tensor Dt) Views(Tensor wide) => StepViews(s, wide);

        // the reference: IBackend's default composition on the CPU reference backend
        var (refConv, refState) = (Copy(conv0), Copy(state0));
        float[] expected = [];
        foreach (var wide in inputs)
        {
            var (z, xbc, dt) = Views(wide);
            expected = ((IBackend)Ref).MambaStep(z, xbc, dt, p, refConv, refState).ToFloatArray();
        }

        var onGpu = OnGpu(p);
        var wides = inputs.Select(gpu.Upload).ToArray();
        (float[] Y, float[] Conv, float[] State) Run(bool fused)
        {
            gpu.FusedMambaStep = fused;
            var (conv, state) = (gpu.Upload(Copy(conv0)), gpu.Upload(Copy(state0)));
            float[] y = [];
            foreach (var wide in wides)
            {
                var (z, xbc, dt) = Views(wide);
                y = gpu.ToHost(gpu.MambaStep(z, xbc, dt, onGpu, conv, state));
            }
            gpu.FusedMambaStep = true;
            return (y, gpu.ToHost(conv), gpu.ToHost(state));
        }
        var (fusedRun, opsRun) = (Run(fused: true), Run(fused: false));
        string shape = StepShape(s);
        Add("MambaStep fused", shape, "f32", fusedRun.Y, expected);
        Add("MambaStep fused conv state", shape, "f32", fusedRun.Conv, refConv.ToFloatArray());
        Add("MambaStep fused SSM state", shape, "f32", fusedRun.State, refState.ToFloatArray());
        Add("MambaStep fused vs ops", shape, "f32", fusedRun.Y, opsRun.Y);
        Add("MambaStep fused vs ops SSM state", shape, "f32", fusedRun.State, opsRun.State);
    }

    /// <summary>
    /// A step case's inputs: two (B, ·) in_proj-like matrices (z, xBC and dt as column views at odd offsets: StepViews),
    /// the constants, and random conv (B, C, W-1) and SSM (B, H, P, N) states.
    /// </summary>
    private (Tensor[] Wides, MambaStepParams P, Tensor Conv0, Tensor State0) StepInputs(StepCase s)
    {
        int dn = s.Heads * s.P, channels = dn + 2 * s.Groups * s.N, width = StepWidth(s);
        var rng = new Random(5);
        Tensor Wide()
        {
            var t = Uniform(-1, 1, s.Batch, width);
            for (int b = 0; b < s.Batch; b++)   // dt columns around softplus's knee
                for (int h = 0; h < s.Heads; h++) t.Span<float>()[b * width + 3 + dn + channels + h] = -5 + 6 * rng.NextSingle();
            return t;
        }
        var inputs = new[] { Wide(), Wide() };
        var ssm = new SsmParams(Uniform(-16, -1, s.Heads), Uniform(-4, -1, s.Heads),
            s.DMode switch { 1 => Uniform(0, 1, s.Heads), 2 => Uniform(0, 1, s.Heads, s.P), _ => null },
            s.Clamp ? 0.001f : 0f, s.Clamp ? 0.1f : float.PositiveInfinity);
        var p = new MambaStepParams(Uniform(-1, 1, channels, s.Width), s.ConvBias ? Uniform(-0.5f, 0.5f, channels) : null, ssm,
            Uniform(0.5f, 1.5f, dn), s.Gate, 1e-5f);
        return (inputs, p, Uniform(-1, 1, s.Batch, channels, s.Width - 1), Uniform(-0.5f, 0.5f, s.Batch, s.Heads, s.P, s.N));
    }

    private static int StepWidth(StepCase s) => 3 + s.Heads * s.P + (s.Heads * s.P + 2 * s.Groups * s.N) + s.Heads + 5;

    /// <summary>z (B, Dn), xbc (B, C), dt (B, H): column views of one of StepInputs' matrices.</summary>
    private static (Tensor Z, Tensor Xbc, Tensor Dt) StepViews(StepCase s, Tensor wide)
    {
        int dn = s.Heads * s.P, channels = dn + 2 * s.Groups * s.N;
        return (wide.Narrow(1, 3, dn), wide.Narrow(1, 3 + dn, channels), wide.Narrow(1, 3 + dn + channels, s.Heads));
    }

    private MambaStepParams OnGpu(MambaStepParams p) => new(gpu.Upload(p.ConvWeight), p.ConvBias is null ? null : gpu.Upload(p.ConvBias),
        OnGpu(p.Ssm), gpu.Upload(p.GateNorm), p.GateGroupSize, p.NormEps);

    private static string StepShape(StepCase s)
    {
        string d = s.DMode switch { 1 => " D (H)", 2 => " D (H,P)", _ => " no D" };
        return $"B={s.Batch} H={s.Heads} P={s.P} G={s.Groups} N={s.N} W={s.Width} gate {s.Gate}{d}{(s.ConvBias ? "" : " no bias")}{(s.Clamp ? " dt clamp" : "")}, 2 steps";
    }
}
