// The Mamba-2 decode step with its out_proj on CUDA (IBackend.MambaStepProject): mamba_step with defer_norm, whose last
// block then only shifts the B/C conv history (not the gate norm: half the launch's time at 2.7B), and gemv_ring*_gate,
// which applies the gated RMSNorm's scale · w while staging x. On by default (FusedStepProjection; +1 % at batch 1 on an H200).
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed partial class CudaBackend
{
    private const int GateGroupsMax = 64;          // GP_GATE_GROUPS in gemv_ring.cuh
    private const long GateStaticShared = 2 * GateGroupsMax * sizeof(float);   // gp_stage_gate's scales (GP_MAX_M, groups)

    /// <summary>
    /// Whether MambaStepProject runs as mamba_step (gate norm deferred) + gemv_ring*_gate, or as MambaStep then MatMul
    /// (to compare: `bench --step-projection fused|ops`). Either way the same bits (see MambaStepProject).
    /// </summary>
    public bool FusedStepProjection { get; set; } = true;

    /// <summary>
    /// With FusedStepProjection, a step the fused mamba_step takes (StepFits) and a projection the Ring GEMV takes
    /// (BF16 w, B ≤ 2, Dn % 256 == 0, gate groups of a multiple of 4 channels, at most 64 of them): two kernels, the norm
    /// folded into the GEMV's prologue. Anything else: <see cref="MambaStepProjectComposition.Run"/>.
    /// Bit-identical to the composition on the Ring GEMV: g and the partials are computed by the same code, the GEMV's
    /// prologue sums each group's partials with mamba_step's own function (gate_scale: same order, same rsqrtf) and
    /// multiplies g · s · w in mamba_step's order before rounding x to BF16 as the plain GEMV rounds mamba_step's output;
    /// the ring walk and its sums are the same template. The states are updated by the same mamba_step code.
    /// </summary>
    public Tensor MambaStepProject(Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor convState, Tensor ssmState, Tensor w, Tensor? bias = null)
    {
        if (PlanStepProjection(z, xbc, dt, p, ssmState, w) is not { } plan)
            return MambaStepProjectComposition.Run(this, z, xbc, dt, p, convState, ssmState, w, bias);
        var (batch, heads, headDim, _, _) = MambaStepComposition.Shapes(z, xbc, dt, ssmState);
        int dn = heads * headDim, n = w.Dim(0);
        w = Contiguous(OnDevice(w, "MambaStepProject w"));
        var gateNorm = Contiguous(F32(p.GateNorm, "MambaStepProject gate norm"));
        if (Address(w) % 16 != 0 || Address(gateNorm) % 16 != 0)   // float4 / 16-byte loads (the composition's GEMV checks w too)
            return MambaStepProjectComposition.Run(this, z, xbc, dt, p, convState, ssmState, w, bias);
        ulong b = bias is null ? 0 : Address(Contiguous(F32(bias, "MambaStepProject bias")));
        var (gated, partials) = LaunchMambaStep(z, xbc, dt, p, convState, ssmState, deferNorm: true);   // g: (B, Dn); partials: (B, H)
        var y = Empty(DType.F32, batch, n);
        Gpu.LaunchEarly("gemv_pipe", plan.Kernel, (plan.Blocks, 1), 256, plan.Shared, Address(gated), (long)dn, Address(w), b, Address(y),
            batch, n, dn, plan.ColumnsPerWarp, Address(partials), heads, Address(gateNorm), p.GateGroupSize, p.NormEps);
        Release(partials);
        Release(gated);
        return y;
    }

    /// <summary>The gemv_ring*_gate launch plan when the fused path applies (switch, step and projection shapes), else null.</summary>
    private RingPlan? PlanStepProjection(Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor ssmState, Tensor w)
    {
        if (!FusedStepProjection || GemvVariant != GemvVariant.Ring || !StepFits(z, xbc, dt, p, ssmState)) return null;
        var (batch, heads, headDim, _, _) = MambaStepComposition.Shapes(z, xbc, dt, ssmState);
        int dn = heads * headDim, gate = p.GateGroupSize;
        if (batch > 2 || w.Rank != 2 || w.DType != DType.BF16 || w.Dim(1) != dn || dn % 256 != 0 || !GateStagingTakes(dn, gate))
            return null;
        return PlanRing(batch, dn, w.Dim(0), "_gate", GateStaticShared);
    }

    /// <summary>gp_stage_gate (gemv_ring.cuh, for gemv_ring*_gate and mamba_blocks): float4s within a gate group, at most GateGroupsMax groups.</summary>
    private static bool GateStagingTakes(int dn, int gate) => gate % 4 == 0 && dn / gate <= GateGroupsMax;
}
