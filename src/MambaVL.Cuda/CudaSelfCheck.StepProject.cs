// Selfcheck rows for MambaStepProject fused (mamba_step with the gate norm deferred + gemv_ring*_gate): against the
// reference backend's composition (MambaStep, x rounded to BF16, MatMul) and against the GPU's own composition
// (FusedStepProjection off: mamba_step + gemv_ring), output and both states, two steps in a row.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed partial class CudaSelfCheck
{
    private void StepProjectChecks()
    {
        var s27 = new StepCase(1, 80, 64, 1, 128, 4, 5120, DMode: 1, ConvBias: true, Clamp: false);   // mamba2-2.7b → D 2560
        StepProject(s27, 2560, bias: false);
        StepProject(s27, 2560, bias: true);
        // B = 2, 6 gate groups of 4 heads, 3 SSM groups, N odd (the scalar mamba_step), width 3, an odd out width
        var odd = new StepCase(2, 24, 32, 3, 21, 3, 128, DMode: 2, ConvBias: false, Clamp: true);
        StepProject(odd, 200, bias: true);
        StepProject(odd, 200, bias: false);
    }

    /// <summary>
    /// Two steps of the fused op, BF16 w (D, Dn) and optional bias, against the reference (x rounded to BF16 before its
    /// MatMul, as the MatMul rows; the GPU's g sums in another order, so a normalised value can cross a BF16 rounding
    /// boundary: 1e-3 as NormMatMul's rows) and against the GPU composition: bit-identical by construction (tolerance 0).
    /// </summary>
    private void StepProject(StepCase s, int d, bool bias)
    {
        var (inputs, p, conv0, state0) = StepInputs(s);
        int dn = s.Heads * s.P;
        var (w, b) = (Uniform(-1, 1, d, dn).ToDType(DType.BF16), bias ? Uniform(-0.5f, 0.5f, d) : null);

        var (refConv, refState) = (Copy(conv0), Copy(state0));
        float[] expected = [];
        foreach (var wide in inputs)
        {
            var (z, xbc, dt) = StepViews(s, wide);
            var gated = ((IBackend)Ref).MambaStep(z, xbc, dt, p, refConv, refState);
            expected = Ref.MatMul(gated.ToDType(DType.BF16).ToDType(DType.F32), w, b).ToFloatArray();
        }

        var (onGpu, gw, gb) = (OnGpu(p), gpu.Upload(w), b is null ? null : gpu.Upload(b));
        var wides = inputs.Select(gpu.Upload).ToArray();
        bool chosen = gpu.FusedStepProjection;
        (float[] Y, float[] Conv, float[] State) Run(bool fused)
        {
            gpu.FusedStepProjection = fused;
            var (conv, state) = (gpu.Upload(Copy(conv0)), gpu.Upload(Copy(state0)));
            float[] y = [];
            foreach (var wide in wides)
            {
                var (z, xbc, dt) = StepViews(s, wide);
                y = gpu.ToHost(gpu.MambaStepProject(z, xbc, dt, onGpu, conv, state, gw, gb));
            }
            return (y, gpu.ToHost(conv), gpu.ToHost(state));
        }
        var (fusedRun, opsRun) = (Run(fused: true), Run(fused: false));
        gpu.FusedStepProjection = chosen;

        string shape = $"{StepShape(s)} · ({d}x{dn})ᵀ{(bias ? " + bias" : "")}";
        _rows.Add(Compare("MambaStepProject fused", shape, "bf16 w+x", fusedRun.Y, expected) with { Tolerance = 1e-3 });
        Add("MambaStepProject fused conv state", shape, "f32", fusedRun.Conv, refConv.ToFloatArray());
        Add("MambaStepProject fused SSM state", shape, "f32", fusedRun.State, refState.ToFloatArray());
        _rows.Add(Compare("MambaStepProject fused vs ops", shape, "bf16 w+x", fusedRun.Y, opsRun.Y) with { Tolerance = 0 });
        _rows.Add(Compare("MambaStepProject fused vs ops conv state", shape, "f32", fusedRun.Conv, opsRun.Conv) with { Tolerance = 0 });
        _rows.Add(Compare("MambaStepProject fused vs ops SSM state", shape, "f32", fusedRun.State, opsRun.State) with { Tolerance = 0 });
    }
}
