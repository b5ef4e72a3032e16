// One Mamba-2 block: its weights (bound by checkpoint name) and the mixer's forward for prefill and for a decode step.
// The math is mamba_ssm's Mamba2.forward / Mamba2.step with rmsnorm=True, norm_before_gate=False and no MLP part.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;

namespace MambaVL.Models.Mamba2;

internal sealed class Mamba2Layer
{
    private readonly Mamba2Config _cfg;
    private readonly IBackend _backend;

    public Tensor BlockNorm { get; }       // (D) F32
    private readonly Tensor _inProj;       // (InProjDim, D) stored dtype
    private readonly Tensor? _inProjBias;  // (InProjDim) F32
    private readonly Tensor _convWeight;   // (ConvDim, W) F32
    private readonly Tensor? _convBias;    // (ConvDim) F32
    private readonly SsmParams _ssm;       // A = -exp(A_log) (H), dt_bias (H), D (H) or (H, P)
    private readonly Tensor _gateNorm;     // (DInner) F32
    private readonly Tensor _outProj;      // (D, DInner) stored dtype
    private readonly Tensor? _outProjBias; // (D) F32

    /// <summary>Binds the tensors under <paramref name="block"/> = backbone.layers.{i}, checking every shape against the config.</summary>
    public Mamba2Layer(Mamba2Config cfg, WeightScope block, IBackend backend)
    {
        (_cfg, _backend) = (cfg, backend);
        var mixer = block.Push(Mamba2Names.Mixer);
        int d = cfg.DModel, h = cfg.NHeads;
        BlockNorm = Small(block.GetF32(Mamba2Names.BlockNorm, d));
        _inProj = Large(mixer.Get(Mamba2Names.InProj, cfg.InProjDim, d));
        _inProjBias = cfg.ProjBias ? Small(mixer.GetF32(Mamba2Names.InProjBias, cfg.InProjDim)) : null;
        // conv1d.weight is stored as nn.Conv1d's (C, 1, W); the backend wants (C, W)
        _convWeight = Small(mixer.GetF32(Mamba2Names.ConvWeight, cfg.ConvDim, 1, cfg.DConv).Reshape(cfg.ConvDim, cfg.DConv));
        _convBias = cfg.ConvBias ? Small(mixer.GetF32(Mamba2Names.ConvBias, cfg.ConvDim)) : null;
        var aLog = mixer.GetF32(Mamba2Names.ALog, h).Span<float>();
        var a = new float[h];
        for (int i = 0; i < h; i++) a[i] = -MathF.Exp(aLog[i]);  // in fp32, as mamba_ssm: A = -exp(A_log.float())
        var dSkip = cfg.DHasHdim
            ? mixer.GetF32(Mamba2Names.D, cfg.DInner).Reshape(h, cfg.HeadDim)
            : mixer.GetF32(Mamba2Names.D, h);
        _ssm = new SsmParams(Small(Tensor.FromArray(a, h)), Small(mixer.GetF32(Mamba2Names.DtBias, h)), Small(dSkip),
            cfg.DtMin, cfg.DtMax);
        _gateNorm = Small(mixer.GetF32(Mamba2Names.GateNorm, cfg.DInner));
        _outProj = Large(mixer.Get(Mamba2Names.OutProj, d, cfg.DInner));
        _outProjBias = cfg.ProjBias ? Small(mixer.GetF32(Mamba2Names.OutProjBias, d)) : null;
    }

    /// <summary>
    /// Mixer over one sequence. h: (T, D) normalised; convState (C, W-1) and ssmState (H, P, N) of that sequence, updated in place.
    /// → (T, D).
    /// </summary>
    public Tensor Prefill(Tensor h, Tensor convState, Tensor ssmState) =>
        Mix(h, xBC => _backend.CausalConv1d(xBC, _convWeight, _convBias, convState, silu: true),
            (x, dt, b, c) => _backend.SsdScan(x, dt, b, c, _ssm, ssmState, _cfg.ChunkSize));

    /// <summary>One token for each of B sequences. h: (B, D) normalised; convState (B, C, W-1), ssmState (B, H, P, N) in place → (B, D).</summary>
    public Tensor Step(Tensor h, Tensor convState, Tensor ssmState) =>
        Mix(h, xBC => _backend.CausalConv1dStep(xBC, _convWeight, _convBias, convState, silu: true),
            (x, dt, b, c) => _backend.SsmStep(x, dt, b, c, _ssm, ssmState));

    /// <summary>
    /// in_proj, split [z, xBC, dt]; conv + SiLU over xBC; the scan; gated norm; out_proj. h (M, D) → (M, D).
    /// Every intermediate is released as soon as it is used (they are reallocated per layer and per token).
    /// </summary>
    private Tensor Mix(Tensor h, Func<Tensor, Tensor> conv, Func<Tensor, Tensor, Tensor, Tensor, Tensor> scan)
    {
        int m = h.Dim(0);
        var zxbcdt = _backend.MatMul(h, _inProj, _inProjBias);  // (M, InProjDim): column views z, xBC, dt read it in place
        var xBC = conv(Columns(zxbcdt, _cfg.DInner, _cfg.ConvDim));
        var (x, b, c) = SplitXbc(xBC, m);
        var y = scan(x, Columns(zxbcdt, _cfg.DInner + _cfg.ConvDim, _cfg.NHeads), b, c);
        _backend.Release(xBC);
        var gated = _backend.GatedRmsNorm(y.Reshape(m, _cfg.DInner), Columns(zxbcdt, 0, _cfg.DInner), _gateNorm, _cfg.GateGroupSize, _cfg.NormEps);
        _backend.Release(y);
        _backend.Release(zxbcdt);
        var output = _backend.MatMul(gated, _outProj, _outProjBias);
        _backend.Release(gated);
        return output;
    }

    /// <summary>xBC (M, ConvDim) → x (M, H, P), B (M, G, N), C (M, G, N).</summary>
    private (Tensor X, Tensor B, Tensor C) SplitXbc(Tensor xBC, int m)
    {
        int gn = _cfg.NGroups * _cfg.DState;
        return (Columns(xBC, 0, _cfg.DInner).Reshape(m, _cfg.NHeads, _cfg.HeadDim),
                Columns(xBC, _cfg.DInner, gn).Reshape(m, _cfg.NGroups, _cfg.DState),
                Columns(xBC, _cfg.DInner + gn, gn).Reshape(m, _cfg.NGroups, _cfg.DState));
    }

    // A view, not a copy: the backends read column slices in place through the row stride.
    private static Tensor Columns(Tensor t, int start, int count) => t.Narrow(1, start, count);

    /// <summary>Small parameters: F32, contiguous, on the backend.</summary>
    private Tensor Small(Tensor host) => Common.Parameters.Small(_backend, host);

    /// <summary>Projection matrices keep their stored float format (the backend's MatMul reads F32, F16 and BF16).</summary>
    private Tensor Large(Tensor host) => Common.Parameters.Large(_backend, host);
}
