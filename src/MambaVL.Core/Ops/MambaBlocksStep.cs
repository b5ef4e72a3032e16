// The decode step of a stack of pre-norm Mamba-2 blocks as one op (IBackend.MambaBlocksStep), so a backend can run the
// whole stack as one persistent kernel that keeps the weights streaming across the blocks' small ops and boundaries
// (CUDA: mamba_blocks.cu). Its default composition is the per-block calls the model made before the op existed.
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Ops;

/// <summary>
/// One pre-norm Mamba-2 block's decode weights: its RMSNorm (D) and eps, in_proj (2·Dn + 2·G·N + H, D) with its bias or
/// null, the mixer step's constants, out_proj (D, Dn) with its bias or null.
/// </summary>
public sealed record MambaBlockWeights(Tensor Norm, float NormEps, Tensor InProj, Tensor? InProjBias, MambaStepParams Step,
    Tensor OutProj, Tensor? OutProjBias);

public static class MambaBlocksStepComposition
{
    /// <summary>
    /// For each block l in turn: residual += h (h null before the first block: the residual is the embedding),
    /// zxbcdt = RMSNorm(residual) · norm_l · in_projᵀ by NormMatMul, then MambaStepProject over zxbcdt's z, xBC and dt
    /// columns with the block's states → h. residual (B, D) F32 contiguous, updated in place; convStates[l] (B, C, W-1)
    /// and ssmStates[l] (B, H, P, N) updated in place → the last block's h (B, D), not yet added to the residual.
    /// </summary>
    public static Tensor Run(IBackend backend, Tensor residual, IReadOnlyList<MambaBlockWeights> blocks,
        IReadOnlyList<Tensor> convStates, IReadOnlyList<Tensor> ssmStates)
    {
        Check(blocks, convStates, ssmStates);
        Tensor? h = null;
        for (int l = 0; l < blocks.Count; l++)
        {
            var b = blocks[l];
            var zxbcdt = backend.NormMatMul(residual, h, b.Norm, b.NormEps, b.InProj, b.InProjBias);
            if (h != null) backend.Release(h);
            var (dn, convDim, heads) = Columns(b, ssmStates[l]);
            h = backend.MambaStepProject(zxbcdt.Narrow(1, 0, dn), zxbcdt.Narrow(1, dn, convDim), zxbcdt.Narrow(1, dn + convDim, heads),
                b.Step, convStates[l], ssmStates[l], b.OutProj, b.OutProjBias);
            backend.Release(zxbcdt);
        }
        return h!;
    }

    /// <summary>The widths of in_proj's z, xBC and dt column blocks (Dn, C, H), from the SSM state (B, H, P, N) and in_proj's rows.</summary>
    public static (int Dn, int ConvDim, int Heads) Columns(MambaBlockWeights block, Tensor ssmState)
    {
        if (ssmState.Rank != 4) throw new ArgumentException($"MambaBlocksStep: the SSM state {ssmState} is not (B, H, P, N)");
        int heads = ssmState.Dim(1), dn = heads * ssmState.Dim(2);
        int convDim = block.InProj.Dim(0) - dn - heads;
        if (convDim <= dn) throw new ArgumentException($"MambaBlocksStep: in_proj {block.InProj} has no room for z, xBC and dt of the SSM state {ssmState}");
        return (dn, convDim, heads);
    }

    /// <summary>The lists line up: one conv state and one SSM state per block, at least one block.</summary>
    public static void Check(IReadOnlyList<MambaBlockWeights> blocks, IReadOnlyList<Tensor> convStates, IReadOnlyList<Tensor> ssmStates)
    {
        if (blocks.Count == 0) throw new ArgumentException("MambaBlocksStep: no blocks");
        if (convStates.Count != blocks.Count || ssmStates.Count != blocks.Count)
            throw new ArgumentException($"MambaBlocksStep: {blocks.Count} blocks but {convStates.Count} conv states and {ssmStates.Count} SSM states");
    }
}
