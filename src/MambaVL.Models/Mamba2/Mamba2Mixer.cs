// The Mamba-2 mixer, shared by the LM's layers and ML-Mamba's scan connector: in_proj → per scan direction (causal
// conv + SiLU over xBC, the selective scan, gated RMSNorm) → out_proj. A direction owns its conv, dt_bias, A and D;
// in_proj, the gate norm and out_proj are shared (mamba_ssm's Mamba2, and the ML-Mamba fork's bimamba "v2").
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;

namespace MambaVL.Models.Mamba2;

/// <summary>
/// One scan direction's own parameters: conv (C, W) and bias (C) F32, and the SSM constants; <see cref="Step"/> adds the
/// shared gate norm for the fused decode step.
/// </summary>
internal sealed record ScanDirection(Tensor ConvWeight, Tensor? ConvBias, SsmParams Ssm)
{
    public required MambaStepParams Step { get; init; }
}

internal sealed class Mamba2Mixer
{
    private readonly Mamba2Config _cfg;
    private readonly IBackend _backend;
    private readonly Tensor _inProj;       // (InProjDim, D) stored dtype
    private readonly Tensor? _inProjBias;  // (InProjDim) F32
    private readonly Tensor _gateNorm;     // (DInner) F32
    private readonly Tensor _outProj;      // (D, DInner) stored dtype
    private readonly Tensor? _outProjBias; // (D) F32

    public IReadOnlyList<ScanDirection> Directions { get; }

    /// <summary>
    /// Binds the mixer under <paramref name="mixer"/>; each name suffix in <paramref name="directionSuffixes"/> is a
    /// direction ("" = conv1d, dt_bias, A_log, D; "_b" = conv1d_b, dt_bias_b, A_log_b, D_b; ...).
    /// </summary>
    public Mamba2Mixer(Mamba2Config cfg, WeightScope mixer, IBackend backend, IReadOnlyList<string> directionSuffixes, DType? storage = null)
    {
        (_cfg, _backend) = (cfg, backend);
        int d = cfg.DModel;
        _inProj = Parameters.Large(backend, mixer.Get(Mamba2Names.InProj, cfg.InProjDim, d), storage);
        _inProjBias = cfg.ProjBias ? Parameters.Small(backend, mixer.GetF32(Mamba2Names.InProjBias, cfg.InProjDim)) : null;
        _gateNorm = Parameters.Small(backend, mixer.GetF32(Mamba2Names.GateNorm, cfg.DInner));
        _outProj = Parameters.Large(backend, mixer.Get(Mamba2Names.OutProj, d, cfg.DInner), storage);
        _outProjBias = cfg.ProjBias ? Parameters.Small(backend, mixer.GetF32(Mamba2Names.OutProjBias, d)) : null;
        Directions = directionSuffixes.Select(s => BindDirection(mixer, s)).ToArray();
    }

    private ScanDirection BindDirection(WeightScope mixer, string suffix)
    {
        var cfg = _cfg;
        int h = cfg.NHeads;
        // "conv1d.weight" → "conv1d_b.weight"; "A_log" → "A_log_b"
        string Named(string name) => name.StartsWith("conv1d.", StringComparison.Ordinal) ? $"conv1d{suffix}{name["conv1d".Length..]}" : name + suffix;
        // conv1d.weight is stored as nn.Conv1d's (C, 1, W); the backend wants (C, W)
        var conv = mixer.GetF32(Named(Mamba2Names.ConvWeight), cfg.ConvDim, 1, cfg.DConv).Reshape(cfg.ConvDim, cfg.DConv);
        var convBias = cfg.ConvBias ? mixer.GetF32(Named(Mamba2Names.ConvBias), cfg.ConvDim) : null;
        var aLog = mixer.GetF32(Named(Mamba2Names.ALog), h).Span<float>();
        var a = new float[h];
        for (int i = 0; i < h; i++) a[i] = -MathF.Exp(aLog[i]);  // in fp32, as mamba_ssm: A = -exp(A_log.float())
        var dSkip = cfg.DHasHdim ? mixer.GetF32(Named(Mamba2Names.D), cfg.DInner).Reshape(h, cfg.HeadDim) : mixer.GetF32(Named(Mamba2Names.D), h);
        Tensor Small(Tensor t) => Parameters.Small(_backend, t);
        var (convWeight, convBiasOnDevice) = (Small(conv), convBias == null ? null : Small(convBias));
        var ssm = new SsmParams(Small(Tensor.FromArray(a, h)), Small(mixer.GetF32(Named(Mamba2Names.DtBias), h)), Small(dSkip), cfg.DtMin, cfg.DtMax);
        return new ScanDirection(convWeight, convBiasOnDevice, ssm)
        {
            Step = new MambaStepParams(convWeight, convBiasOnDevice, ssm, _gateNorm, cfg.GateGroupSize, cfg.NormEps),
        };
    }

    /// <summary>The decode weights of the block this mixer (one direction, the first) sits in, behind <paramref name="norm"/>.</summary>
    public MambaBlockWeights BlockWeights(Tensor norm, float eps) =>
        new(norm, eps, _inProj, _inProjBias, Directions[0].Step, _outProj, _outProjBias);

    /// <summary>h (M, D) → zxbcdt (M, InProjDim): the column views z, xBC and dt are read in place by the next ops.</summary>
    public Tensor InProject(Tensor h) => _backend.MatMul(h, _inProj, _inProjBias);

    /// <summary>
    /// One direction over one sequence (prefill) or one token per sequence (step): conv + SiLU over xBC, the scan, and the
    /// gated norm with this sequence's z. zxbcdt (M, InProjDim); states updated in place → gated (M, DInner).
    /// A step is the backend's fused MambaStep (by default the same three ops in the same order).
    /// </summary>
    public Tensor Scan(Tensor zxbcdt, ScanDirection dir, Tensor convState, Tensor ssmState, bool step)
    {
        int m = zxbcdt.Dim(0), di = _cfg.DInner, gn = _cfg.NGroups * _cfg.DState;
        var xbcIn = zxbcdt.Narrow(1, di, _cfg.ConvDim);
        var dt = zxbcdt.Narrow(1, di + _cfg.ConvDim, _cfg.NHeads);
        if (step) return _backend.MambaStep(zxbcdt.Narrow(1, 0, di), xbcIn, dt, dir.Step, convState, ssmState);
        var xBC = _backend.CausalConv1d(xbcIn, dir.ConvWeight, dir.ConvBias, convState, silu: true);
        var x = xBC.Narrow(1, 0, di).Reshape(m, _cfg.NHeads, _cfg.HeadDim);
        var b = xBC.Narrow(1, di, gn).Reshape(m, _cfg.NGroups, _cfg.DState);
        var c = xBC.Narrow(1, di + gn, gn).Reshape(m, _cfg.NGroups, _cfg.DState);
        var y = _backend.SsdScan(x, dt, b, c, dir.Ssm, ssmState, _cfg.ChunkSize);
        _backend.Release(xBC);
        var gated = _backend.GatedRmsNorm(y.Reshape(m, di), zxbcdt.Narrow(1, 0, di), _gateNorm, _cfg.GateGroupSize, _cfg.NormEps);
        _backend.Release(y);
        return gated;
    }

    /// <summary>gated (M, DInner) → out_proj (M, D), releasing the input.</summary>
    public Tensor OutProject(Tensor gated)
    {
        var output = _backend.MatMul(gated, _outProj, _outProjBias);
        _backend.Release(gated);
        return output;
    }

    /// <summary>Fresh zero conv (C, W-1) and SSM (H, P, N) states for one sequence of one direction.</summary>
    public (Tensor Conv, Tensor Ssm) ZeroStates() =>
        (_backend.Zeros(DType.F32, _cfg.ConvDim, _cfg.DConv - 1), _backend.Zeros(DType.F32, _cfg.NHeads, _cfg.HeadDim, _cfg.DState));
}
