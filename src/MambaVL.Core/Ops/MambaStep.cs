// The fused Mamba-2 decode mixer ops (IBackend.MambaStep, and MambaStepProject: the step with out_proj): their constants
// and their default compositions from the ops they replace. The composition lives here, not only in the interface, so a decorator (ProfilingBackend) that must
// implement the method can still run it through itself, timing each part, as the interface default would.
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Ops;

/// <summary>
/// One mixer direction's constants for <see cref="IBackend.MambaStep"/>: the depthwise conv (C, W) F32 and its bias (C)
/// or null, the SSM constants, and the gate norm (Dn) F32 over groups of <paramref name="GateGroupSize"/> channels.
/// </summary>
public sealed record MambaStepParams(Tensor ConvWeight, Tensor? ConvBias, SsmParams Ssm, Tensor GateNorm, int GateGroupSize, float NormEps);

public static class MambaStepComposition
{
    /// <summary>
    /// conv step + SiLU over xBC, the SSM step, gated RMSNorm with z: the same calls in the same order as the mixer made
    /// them before the op existed, so every backend without its own kernel gives the same bits as before.
    /// z (B, Dn), xbc (B, C), dt (B, H); convState (B, C, W-1) and ssmState (B, H, P, N) in place → (B, Dn).
    /// </summary>
    public static Tensor Run(IBackend backend, Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor convState, Tensor ssmState)
    {
        var (m, heads, headDim, groups, n) = Shapes(z, xbc, dt, ssmState);
        int di = heads * headDim, gn = groups * n;
        var xBC = backend.CausalConv1dStep(xbc, p.ConvWeight, p.ConvBias, convState, silu: true);
        var x = xBC.Narrow(1, 0, di).Reshape(m, heads, headDim);
        var b = xBC.Narrow(1, di, gn).Reshape(m, groups, n);
        var c = xBC.Narrow(1, di + gn, gn).Reshape(m, groups, n);
        var y = backend.SsmStep(x, dt, b, c, p.Ssm, ssmState);
        backend.Release(xBC);
        var gated = backend.GatedRmsNorm(y.Reshape(m, di), z, p.GateNorm, p.GateGroupSize, p.NormEps);
        backend.Release(y);
        return gated;
    }

    /// <summary>
    /// (B, H, P, G, N) of a step, checked: H and P, N from the SSM state (B, H, P, N); G from xbc's C = H·P + 2·G·N.
    /// </summary>
    public static (int Batch, int Heads, int HeadDim, int Groups, int StateSize) Shapes(Tensor z, Tensor xbc, Tensor dt, Tensor ssmState)
    {
        if (ssmState.Rank != 4 || xbc.Rank != 2 || z.Rank != 2 || dt.Rank != 2)
            throw new ArgumentException($"MambaStep: z {z}, xbc {xbc}, dt {dt} and the SSM state {ssmState} do not have ranks 2, 2, 2, 4");
        int m = xbc.Dim(0), heads = ssmState.Dim(1), headDim = ssmState.Dim(2), n = ssmState.Dim(3), di = heads * headDim;
        int rest = xbc.Dim(1) - di;
        if (ssmState.Dim(0) != m || z.Dim(0) != m || dt.Dim(0) != m || z.Dim(1) != di || dt.Dim(1) != heads || n <= 0 || rest <= 0 || rest % (2 * n) != 0)
            throw new ArgumentException($"MambaStep: z {z}, xbc {xbc}, dt {dt} do not fit the SSM state {ssmState} (z (B, H·P), xbc (B, H·P + 2·G·N), dt (B, H))");
        int groups = rest / (2 * n);
        if (heads % groups != 0) throw new ArgumentException($"MambaStep: {heads} heads do not split into {groups} groups");
        return (m, heads, headDim, groups, n);
    }
}

public static class MambaStepProjectComposition
{
    /// <summary>
    /// MambaStep, then the product of its gated output with w (+ bias), releasing the gated rows: the calls the mixer made
    /// before the op existed (Mamba2Mixer's Scan then OutProject), so every backend without its own kernel gives the same
    /// bits. Arguments as <see cref="MambaStepComposition.Run"/>; w (D, Dn), bias (D) or null → (B, D).
    /// </summary>
    public static Tensor Run(IBackend backend, Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor convState, Tensor ssmState,
        Tensor w, Tensor? bias)
    {
        var gated = backend.MambaStep(z, xbc, dt, p, convState, ssmState);
        var y = backend.MatMul(gated, w, bias);
        backend.Release(gated);
        return y;
    }
}
