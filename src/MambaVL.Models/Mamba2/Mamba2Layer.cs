// One Mamba-2 block of the LM: its pre-norm weight and a one-direction mixer, for prefill and for a decode step.
// The math is mamba_ssm's Mamba2.forward / Mamba2.step with rmsnorm=True, norm_before_gate=False and no MLP part.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;

namespace MambaVL.Models.Mamba2;

internal sealed class Mamba2Layer
{
    private readonly Mamba2Mixer _mixer;
    private readonly IBackend _backend;
    private readonly float _normEps;

    public Tensor BlockNorm { get; }       // (D) F32

    /// <summary>Binds the tensors under <paramref name="block"/> = backbone.layers.{i}, checking every shape against the config.</summary>
    public Mamba2Layer(Mamba2Config cfg, WeightScope block, IBackend backend)
    {
        (_backend, _normEps) = (backend, cfg.NormEps);
        BlockNorm = Common.Parameters.Small(backend, block.GetF32(Mamba2Names.BlockNorm, cfg.DModel));
        _mixer = new Mamba2Mixer(cfg, block.Push(Mamba2Names.Mixer), backend, [""]);
    }

    /// <summary>
    /// Mixer over one sequence. h: (T, D) normalised; convState (C, W-1) and ssmState (H, P, N) of that sequence, updated in place.
    /// → (T, D).
    /// </summary>
    public Tensor Prefill(Tensor h, Tensor convState, Tensor ssmState) => Mix(_mixer.InProject(h), convState, ssmState, step: false);

    /// <summary>
    /// One token for each of B sequences: residual += h (h null in the first block: the residual is the embedding), this
    /// block's norm and in_proj as one NormMatMul, the mixer step, out_proj. residual, h (B, D); convState (B, C, W-1),
    /// ssmState (B, H, P, N) in place → the block's output (B, D), not yet added to the residual.
    /// </summary>
    public Tensor Step(Tensor residual, Tensor? h, Tensor convState, Tensor ssmState) =>
        Mix(_mixer.NormInProject(residual, h, BlockNorm, _normEps), convState, ssmState, step: true);

    /// <summary>
    /// zxbcdt (M, InProjDim), this block's in_proj output, through the scan and out_proj → (M, D). A step is one
    /// MambaStepProject (the backend may fold the gate norm into out_proj); prefill the scan then out_proj.
    /// </summary>
    private Tensor Mix(Tensor zxbcdt, Tensor convState, Tensor ssmState, bool step)
    {
        if (step)
        {
            var output = _mixer.StepProject(zxbcdt, _mixer.Directions[0], convState, ssmState);
            _backend.Release(zxbcdt);
            return output;
        }
        var gated = _mixer.Scan(zxbcdt, _mixer.Directions[0], convState, ssmState, step: false);
        _backend.Release(zxbcdt);
        return _mixer.OutProject(gated);
    }
}
