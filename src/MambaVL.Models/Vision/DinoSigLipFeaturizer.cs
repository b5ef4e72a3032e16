// ML-Mamba's fused vision featurizer ("dinosiglip-vit-so-384px"): the patch features of DINOv2 and SigLIP at the
// second-to-last block (no final norm, prefix tokens dropped), concatenated per patch with DINO's channels first.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Models.Vision;

public sealed class DinoSigLipFeaturizer
{
    private readonly IBackend _backend;

    public VisionTransformer Dino { get; }
    public VisionTransformer SigLip { get; }
    /// <summary>The block each tower is tapped at (ML-Mamba: the second-to-last, Depth - 2).</summary>
    public int DinoBlock { get; }
    public int SigLipBlock { get; }

    public int Patches => Dino.Grid * Dino.Grid;
    public int Channels => Dino.Config.EmbedDim + SigLip.Config.EmbedDim;

    public DinoSigLipFeaturizer(VisionTransformer dino, VisionTransformer sigLip, IBackend backend, int? dinoBlock = null, int? sigLipBlock = null)
    {
        if (dino.Grid != sigLip.Grid)
            throw new ArgumentException($"DINO ({dino.Grid}×{dino.Grid} patches) and SigLIP ({sigLip.Grid}×{sigLip.Grid}) must see the same patch grid");
        (Dino, SigLip, _backend) = (dino, sigLip, backend);
        DinoBlock = dinoBlock ?? dino.Config.Depth - 2;
        SigLipBlock = sigLipBlock ?? sigLip.Config.Depth - 2;
    }

    /// <summary>Each tower's normalised copy of the image, (3, S, S) F32 → (Patches, Dino D + SigLIP D), row-major patch order.</summary>
    public Tensor Features(Tensor dinoPixels, Tensor sigLipPixels) =>
        _backend.Concat([Dino.BlockFeatures(dinoPixels, DinoBlock), SigLip.BlockFeatures(sigLipPixels, SigLipBlock)], 1);
}
