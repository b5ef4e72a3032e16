// The fused Mamba-2 decode mixer step on CUDA (IBackend.MambaStep): conv step + SiLU, SSM step and gated RMSNorm as the
// one kernel of mamba_step.cu, with the per-sequence counters its blocks use to find the last one (which finishes the
// gate norm). Shapes the kernel does not take fall back to the three ops, as does FusedMambaStep = false.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>Whether MambaStep runs as the one fused kernel (default) or as its three ops (to compare the two).</summary>
    public bool FusedMambaStep { get; set; } = true;

    /// <summary>Sequences one fused step serves (a counter each); larger batches run the three ops.</summary>
    internal const int StepCounterCapacity = 4096;

    /// <summary>(StepCounterCapacity) counters: each mamba_step launch's last block of a sequence resets its own.</summary>
    private readonly DeviceBuffer _stepCounters;

    /// <summary>
    /// <paramref name="count"/> uint32 counters, zero between launches (the kernels that count on them reset them), for
    /// kernels whose last block finishes the work. Allocated and cleared with the backend, so a step recorded into a
    /// graph never records the clearing.
    /// </summary>
    private static DeviceBuffer Counters(CudaDevice gpu, int count)
    {
        var counters = gpu.Allocate(count * sizeof(uint));
        gpu.Clear(counters.Pointer, counters.Bytes);
        return counters;
    }

    public Tensor MambaStep(Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor convState, Tensor ssmState)
    {
        if (!StepFits(z, xbc, dt, p, ssmState)) return MambaStepComposition.Run(this, z, xbc, dt, p, convState, ssmState);
        var (output, partials) = LaunchMambaStep(z, xbc, dt, p, convState, ssmState, deferNorm: false);
        Release(partials);
        return output;
    }

    /// <summary>Whether FusedMambaStep is on and the step's shapes fit the mamba_step kernel (else: the three ops).</summary>
    private bool StepFits(Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor ssmState)
    {
        var (batch, heads, headDim, _, n) = MambaStepComposition.Shapes(z, xbc, dt, ssmState);
        int dn = heads * headDim, gate = p.GateGroupSize, width = p.ConvWeight.Rank == 2 ? p.ConvWeight.Dim(1) : 0;
        // counters for the batch, 48 KB of shared memory, and the per-head step's own limits
        return FusedMambaStep && batch is > 0 and <= StepCounterCapacity && StepKernelTakes(dn, headDim, gate, width)
            && StepSharedBytes(n, headDim, dn / gate) <= 48 * 1024 && p.GateNorm.Length == dn;
    }

    /// <summary>mamba_step.cuh's per-head step (mamba_step.cu and mamba_blocks.cu): gate groups of whole heads, conv width 1..9.</summary>
    private static bool StepKernelTakes(int dn, int headDim, int gate, int width) =>
        gate > 0 && dn % gate == 0 && gate % headDim == 0 && width is >= 1 and <= 9;

    // shared: B and C (N each), x and silu(z) (P each), the gate groups' scales
    private static long StepSharedBytes(int n, int headDim, int normGroups) => (2L * n + 2L * headDim + normGroups) * sizeof(float);

    /// <summary>
    /// The mamba_step launch (shapes checked by StepFits) → its output (B, Dn) and partials (B, H), Σ g² per (sequence,
    /// head). deferNorm: the output stays g = y · silu(z), the gate norm left to the caller (MambaStepProject's GEMV).
    /// </summary>
    private (Tensor Output, Tensor Partials) LaunchMambaStep(Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor convState, Tensor ssmState,
        bool deferNorm)
    {
        var (batch, heads, headDim, groups, n) = MambaStepComposition.Shapes(z, xbc, dt, ssmState);
        int dn = heads * headDim, gate = p.GateGroupSize, width = p.ConvWeight.Dim(1);
        var (w, convBias, _) = ConvWeights(xbc, p.ConvWeight, p.ConvBias, "MambaStep");
        var conv = DeviceState(convState, [batch, xbc.Dim(1), width - 1], "MambaStep conv state");
        var state = DeviceState(ssmState, [batch, heads, headDim, n], "MambaStep SSM state");
        z = Rows(F32(z, "MambaStep z"), out long ldz);
        xbc = Rows(F32(xbc, "MambaStep xbc"), out long ldxbc);
        dt = Rows(F32(dt, "MambaStep dt"), out long lddt);
        var (a, dtBias, d, dMode) = SsmConstants(p.Ssm, heads, headDim, "MambaStep");
        var gateNorm = Contiguous(F32(p.GateNorm, "MambaStep gate norm"));
        var output = Empty(DType.F32, batch, dn);
        var partials = Empty(DType.F32, batch, heads);   // Σ g² per (sequence, head), for the last block's gate norm
        bool vector = n % 4 == 0 && Address(state) % 16 == 0;
        Gpu.LaunchEarly("mamba_step", vector ? "mamba_step_v4" : "mamba_step_v1", ((uint)heads, (uint)batch), 256,
            (uint)StepSharedBytes(n, headDim, dn / gate),
            Address(z), ldz, Address(xbc), ldxbc, Address(dt), lddt, Address(w), convBias, Address(conv),
            Address(a), Address(dtBias), d is null ? 0UL : Address(d), dMode, Address(gateNorm), Address(state), Address(output),
            Address(partials), _stepCounters.Pointer, headDim, groups, n, width, gate, p.Ssm.DtMin, p.Ssm.DtMax, p.NormEps, deferNorm ? 1 : 0);
        return (output, partials);
    }

    /// <summary>A, dt_bias and D as F32 device vectors, with D's mode: 0 none, 1 per head (H), 2 per head channel (H, P).</summary>
    private (Tensor A, Tensor DtBias, Tensor? D, int DMode) SsmConstants(SsmParams p, int heads, int headDim, string op)
    {
        var d = p.D is null ? null : Contiguous(F32(p.D, $"{op} D"));
        int dMode = d is null ? 0 : d.Length == heads ? 1 : d.Length == (long)heads * headDim ? 2
            : throw new ArgumentException($"{op}: D {p.D} is neither (H) nor (H, P)");
        if (p.A.Length != heads || p.DtBias.Length != heads) throw new ArgumentException($"{op}: A {p.A} and dt_bias {p.DtBias} must have {heads} values");
        return (Contiguous(F32(p.A, $"{op} A")), Contiguous(F32(p.DtBias, $"{op} dt_bias")), d, dMode);
    }
}
