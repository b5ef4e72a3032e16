// Selfcheck rows for MambaBlocksStep fused (the whole block stack as the mamba_blocks persistent kernel): two decode steps
// through a stack of BF16 Mamba-2 blocks against the GPU's own per-block composition (FusedBlocksStep off) and against
// the reference backend's composition: the block output h, the residual and every block's two states; each stack with the
// products on the CUDA cores (Ring) and on the tensor cores (Mma, rows "fused mma").
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed partial class CudaSelfCheck
{
    private void BlocksChecks()
    {
        // mamba2-2.7b's block (D 2560, 80 heads of 64, N 128, one gate group), 3 blocks, with both block sizes
        var s27 = new StepCase(1, 80, 64, 1, 128, 4, 5120, DMode: 1, ConvBias: true, Clamp: false);
        foreach (int warps in new[] { 16, 8 }) Blocks(s27, d: 2560, layers: 3, bias: false, warps, BlocksProductKernel.Ring);
        Blocks(s27, d: 2560, layers: 3, bias: false, warps: 8, BlocksProductKernel.Mma);
        MmaVsRing(s27, d: 2560);
        // 12 heads in 3 SSM groups and 3 gate groups, N 20, width 3, D per channel, clamped dt, biases, 5 blocks
        var s12 = new StepCase(1, 12, 64, 3, 20, 3, 256, DMode: 2, ConvBias: false, Clamp: true);
        Blocks(s12, d: 512, layers: 5, bias: true, warps: 16, BlocksProductKernel.Ring);
        Blocks(s12, d: 512, layers: 5, bias: true, warps: 8, BlocksProductKernel.Mma);
    }

    /// <summary>
    /// Bound 8e-3 (two BF16 steps, 2^-7), not 1e-4, against the GPU composition and the reference alike: every product
    /// rounds its x to BF16, and the kernel sums the block norm's squares in another order (256 threads, add_rms_norm's
    /// 1024; with Mma products the GEMV sums too), the reference its gate norm's: a last-bit F32 difference moves a value
    /// across a BF16 rounding boundary now and then (2^-8 of one input), and the stack carries it on block after block.
    /// Measured 3e-4 to 3.1e-3 on these stacks depending on the random draw; a wrong index or layout moves outputs by
    /// O(1). The sharp checks are MmaVsRing's (one block, 1e-4) and the single ops' rows.
    /// </summary>
    private void Blocks(StepCase s, int d, int layers, bool bias, int warps, BlocksProductKernel products)
    {
        var stack = Enumerable.Range(0, layers).Select(_ => BlockOf(s, d, bias)).ToArray();
        var host = stack.Select(b => b.Weights).ToArray();
        var inputs = new[] { Uniform(-1, 1, 1, d), Uniform(-1, 1, 1, d) };
        const double bound = 8e-3;

        var refConv = stack.Select(b => Copy(b.Conv0)).ToArray();
        var refState = stack.Select(b => Copy(b.State0)).ToArray();
        var refResidual = Copy(inputs[^1]);
        float[] expected = [];
        foreach (var input in inputs)
        {
            refResidual = Copy(input);
            expected = ReferenceBlocks(refResidual, host, refConv, refState).ToFloatArray();
        }

        var onGpu = host.Select(Upload).ToArray();
        var initial = stack.Select(b => (b.Conv0, b.State0)).ToArray();
        var fusedRun = RunStack(onGpu, initial, inputs, fused: true, warps, products);
        var opsRun = RunStack(onGpu, initial, inputs, fused: false, warps, products);
        string? fallback = fusedRun.Fallback;

        string shape = $"{layers} blocks D={d} · {StepShape(s)}{(bias ? " + biases" : "")}, {warps} warps";
        string fused = products == BlocksProductKernel.Mma ? "fused mma" : "fused";
        if (fallback != null)   // a fused row that ran the composition would compare it with itself
        {
            _rows.Add(new SelfCheckRow($"MambaBlocksStep {fused} (ran the composition: {fallback})", shape, "bf16 w+x", double.PositiveInfinity, 0));
            return;
        }
        foreach (var (what, f, o, r) in new[]
        {
            ("", fusedRun.H, opsRun.H, expected),
            (" residual", fusedRun.Residual, opsRun.Residual, refResidual.ToFloatArray()),
            (" conv states", fusedRun.Conv, opsRun.Conv, refConv.SelectMany(t => t.ToFloatArray()).ToArray()),
            (" SSM states", fusedRun.State, opsRun.State, refState.SelectMany(t => t.ToFloatArray()).ToArray()),
        })
        {
            _rows.Add(Compare($"MambaBlocksStep {fused}{what} vs ops", shape, "bf16 w+x", f, o) with { Tolerance = bound });
            _rows.Add(Compare($"MambaBlocksStep {fused}{what}", shape, "bf16 w+x", f, r) with { Tolerance = bound });
        }
    }

    /// <summary>
    /// One block, 8 warps, tensor-core products against CUDA-core ones: the same kernel but for the products' consumer, so
    /// the norm's sums agree and only the GEMV sums' order differs (F32 rounding, ~1e-7 of a product, which a gate value
    /// rarely carries across a BF16 boundary at one block): bound 1e-4, where a wrong fragment or partial-sum layout
    /// moves every output by O(1). Two decode steps.
    /// </summary>
    private void MmaVsRing(StepCase s, int d)
    {
        var (weights, conv0, state0) = BlockOf(s, d, bias: false);
        var inputs = new[] { Uniform(-1, 1, 1, d), Uniform(-1, 1, 1, d) };
        MambaBlockWeights[] onGpu = [Upload(weights)];
        (Tensor, Tensor)[] initial = [(conv0, state0)];
        var mma = RunStack(onGpu, initial, inputs, fused: true, warps: 8, BlocksProductKernel.Mma);
        var ring = RunStack(onGpu, initial, inputs, fused: true, warps: 8, BlocksProductKernel.Ring);
        string? fallback = mma.Fallback ?? ring.Fallback;
        string shape = $"1 block D={d} · {StepShape(s)}, 8 warps";
        if (fallback != null)
        {
            _rows.Add(new SelfCheckRow($"MambaBlocksStep fused mma vs ring (ran the composition: {fallback})", shape, "bf16 w+x", double.PositiveInfinity, 0));
            return;
        }
        _rows.Add(Compare("MambaBlocksStep fused mma vs ring", shape, "bf16 w+x", mma.H, ring.H) with { Tolerance = 1e-4 });
        _rows.Add(Compare("MambaBlocksStep fused mma vs ring SSM state", shape, "bf16 w+x", mma.State, ring.State) with { Tolerance = 1e-4 });
    }

    /// <summary>
    /// Decode steps (one per input) of a block stack on the GPU from fresh copies of its initial states, with the block
    /// stack settings given (the backend's own restored after): the last h, the residual, every block's states, and why a
    /// fused call ran the composition instead (null: none did).
    /// </summary>
    private (float[] H, float[] Residual, float[] Conv, float[] State, string? Fallback) RunStack(MambaBlockWeights[] onGpu,
        (Tensor Conv0, Tensor State0)[] initial, Tensor[] inputs, bool fused, int warps, BlocksProductKernel products)
    {
        var chosen = (gpu.FusedBlocksStep, gpu.BlocksWarps, gpu.BlocksProducts);
        (gpu.FusedBlocksStep, gpu.BlocksWarps, gpu.BlocksProducts) = (fused, warps, products);
        try
        {
            var conv = initial.Select(b => gpu.Upload(Copy(b.Conv0))).ToArray();
            var state = initial.Select(b => gpu.Upload(Copy(b.State0))).ToArray();
            float[] h = [], residual = [];
            string? fallback = null;
            foreach (var input in inputs)
            {
                var r = gpu.Upload(Copy(input));
                h = gpu.ToHost(gpu.MambaBlocksStep(r, onGpu, conv, state));
                if (fused) fallback ??= gpu.BlocksFallback;
                residual = gpu.ToHost(r);
            }
            return (h, residual, conv.SelectMany(gpu.ToHost).ToArray(), state.SelectMany(gpu.ToHost).ToArray(), fallback);
        }
        finally { (gpu.FusedBlocksStep, gpu.BlocksWarps, gpu.BlocksProducts) = chosen; }
    }

    /// <summary>A host block's tensors on the GPU.</summary>
    private MambaBlockWeights Upload(MambaBlockWeights b) => new(gpu.Upload(b.Norm), b.NormEps, gpu.Upload(b.InProj), UploadOrNull(b.InProjBias),
        OnGpu(b.Step), gpu.Upload(b.OutProj), UploadOrNull(b.OutProjBias));

    /// <summary>
    /// The composition on the reference backend with each product's x rounded to BF16, as every GPU product of BF16
    /// weights reads it (the reference MatMul multiplies the F32 x): per block residual += h, RMSNorm, in_proj, the step,
    /// out_proj. States and the residual in place → the last h.
    /// </summary>
    private static Tensor ReferenceBlocks(Tensor residual, MambaBlockWeights[] blocks, Tensor[] conv, Tensor[] state)
    {
        static Tensor Bf16(Tensor x) => x.ToDType(DType.BF16).ToDType(DType.F32);
        IBackend r = Ref;
        Tensor? h = null;
        for (int l = 0; l < blocks.Length; l++)
        {
            var b = blocks[l];
            var normed = h is null ? r.RmsNorm(residual, b.Norm, b.NormEps) : r.AddRmsNorm(residual, h, b.Norm, b.NormEps);
            var zx = r.MatMul(Bf16(normed), b.InProj, b.InProjBias);
            var (dn, convDim, heads) = MambaBlocksStepComposition.Columns(b, state[l]);
            var gated = r.MambaStep(zx.Narrow(1, 0, dn), zx.Narrow(1, dn, convDim), zx.Narrow(1, dn + convDim, heads), b.Step, conv[l], state[l]);
            h = r.MatMul(Bf16(gated), b.OutProj, b.OutProjBias);
        }
        return h!;
    }

    /// <summary>
    /// One random block of a step case: its step constants and states (StepInputs), a norm, BF16 in_proj (2·Dn + 2·G·N + H,
    /// D) and out_proj (D, Dn) scaled by 1/√K so every layer's values stay O(1), optional biases.
    /// </summary>
    private (MambaBlockWeights Weights, Tensor Conv0, Tensor State0) BlockOf(StepCase s, int d, bool bias)
    {
        var (_, p, conv0, state0) = StepInputs(s);
        int dn = s.Heads * s.P, inRows = 2 * dn + 2 * s.Groups * s.N + s.Heads;
        float a = MathF.Sqrt(3f / d), b = MathF.Sqrt(3f / dn);
        var weights = new MambaBlockWeights(Uniform(0.5f, 1.5f, d), 1e-5f, Uniform(-a, a, inRows, d).ToDType(DType.BF16),
            bias ? Uniform(-0.5f, 0.5f, inRows) : null, p, Uniform(-b, b, d, dn).ToDType(DType.BF16), bias ? Uniform(-0.5f, 0.5f, d) : null);
        return (weights, conv0, state0);
    }

    private Tensor? UploadOrNull(Tensor? t) => t is null ? null : gpu.Upload(t);
}
