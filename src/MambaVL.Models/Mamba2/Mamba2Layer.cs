// One Mamba-2 block of the LM: its pre-norm weight and a one-direction mixer, for prefill; its decode step is
// the backend's MambaBlocksStep over the whole stack (StepWeights).
// The math is mamba_ssm's Mamba2.forward / Mamba2.step with rmsnorm=True, norm_before_gate=False and no MLP part.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;

namespace MambaVL.Models.Mamba2;

internal sealed class Mamba2Layer
{
    private readonly Mamba2Mixer _mixer;
    private readonly IBackend _backend;

    public Tensor BlockNorm { get; }       // (D) F32

    /// <summary>What a decode step of this block reads, for the backend's MambaBlocksStep over the whole stack.</summary>
    public MambaBlockWeights StepWeights { get; }

    /// <summary>Binds the tensors under <paramref name="block"/> = backbone.layers.{i}, checking every shape against the config.</summary>
    public Mamba2Layer(Mamba2Config cfg, WeightScope block, IBackend backend)
    {
        _backend = backend;
        BlockNorm = Common.Parameters.Small(backend, block.GetF32(Mamba2Names.BlockNorm, cfg.DModel));
        _mixer = new Mamba2Mixer(cfg, block.Push(Mamba2Names.Mixer), backend, [""]);
        StepWeights = _mixer.BlockWeights(BlockNorm, cfg.NormEps);
    }

    /// <summary>
    /// Mixer over one sequence. h: (T, D) normalised; convState (C, W-1) and ssmState (H, P, N) of that sequence, updated in place.
    /// → (T, D).
    /// </summary>
    public Tensor Prefill(Tensor h, Tensor convState, Tensor ssmState) => Mix(_mixer.InProject(h), convState, ssmState);

    /// <summary>zxbcdt (M, InProjDim), this block's in_proj output, through the scan and out_proj → (M, D).</summary>
    private Tensor Mix(Tensor zxbcdt, Tensor convState, Tensor ssmState)
    {
        var gated = _mixer.Scan(zxbcdt, _mixer.Directions[0], convState, ssmState, step: false);
        _backend.Release(zxbcdt);
        return _mixer.OutProject(gated);
    }
}
