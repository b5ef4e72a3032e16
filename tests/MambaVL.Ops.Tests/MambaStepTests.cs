// The fused decode mixer op (IBackend.MambaStep): backends without their own kernel run the default composition, which
// must give exactly the bits of the three ops the Mamba-2 mixer called before it existed (conv step + SiLU, SSM step,
// gated RMSNorm), outputs and states; the profiling decorator times it as its parts or whole, with the same bits.
// MambaStepProject (the step with out_proj) likewise: by default MambaStep then MatMul, bit for bit.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Ops.Tests;

public sealed class MambaStepTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);

    // B sequences, H heads of P, G groups of N, conv width W, gate groups of `Gate` channels
    private const int B = 3, H = 6, P = 8, G = 2, N = 12, W = 4, Gate = 24;
    private const int Dn = H * P, C = Dn + 2 * G * N, Width = 2 + Dn + C + H + 3;

    /// <summary>zxbcdt-like rows with z, xBC and dt as column views at odd offsets; the constants; fresh random states.</summary>
    private static (Tensor Z, Tensor Xbc, Tensor Dt, MambaStepParams P, Tensor Conv, Tensor Ssm) Build(int seed)
    {
        var inputs = new Inputs(seed);
        var wide = inputs.Uniform(-1, 1, B, Width);
        var ssm = new SsmParams(inputs.A(H), inputs.DtBias(H), inputs.Uniform(0, 1, H, P));
        var p = new MambaStepParams(inputs.Uniform(-1, 1, C, W), inputs.Uniform(-0.5f, 0.5f, C), ssm, inputs.Uniform(0.5f, 1.5f, Dn), Gate, 1e-5f);
        return (wide.Narrow(1, 2, Dn), wide.Narrow(1, 2 + Dn, C), wide.Narrow(1, 2 + Dn + C, H), p,
            inputs.Uniform(-1, 1, B, C, W - 1), inputs.Uniform(-0.5f, 0.5f, B, H, P, N));
    }

    /// <summary>The three ops as Mamba2Mixer called them before MambaStep.</summary>
    private static Tensor ThreeOps(IBackend backend, Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor conv, Tensor ssm)
    {
        var xBC = backend.CausalConv1dStep(xbc, p.ConvWeight, p.ConvBias, conv, silu: true);
        var x = xBC.Narrow(1, 0, Dn).Reshape(B, H, P);
        var b = xBC.Narrow(1, Dn, G * N).Reshape(B, G, N);
        var c = xBC.Narrow(1, Dn + G * N, G * N).Reshape(B, G, N);
        var y = backend.SsmStep(x, dt, b, c, p.Ssm, ssm);
        return backend.GatedRmsNorm(y.Reshape(B, Dn), z, p.GateNorm, p.GateGroupSize, p.NormEps);
    }

    [Fact]
    public void Default_MambaStep_is_bit_identical_to_the_three_ops_over_two_steps()
    {
        var (z, xbc, dt, p, conv, ssm) = Build(1);
        SameOverTwoSteps(conv, ssm, (c, s) => ((IBackend)_cpu).MambaStep(z, xbc, dt, p, c, s), (c, s) => ThreeOps(_cpu, z, xbc, dt, p, c, s));
    }

    /// <summary>
    /// Two steps of <paramref name="fused"/> on the states and of <paramref name="ops"/> on copies of them, each step's
    /// output and states equal to the bit.
    /// </summary>
    private static void SameOverTwoSteps(Tensor conv, Tensor ssm, Func<Tensor, Tensor, Tensor> fused, Func<Tensor, Tensor, Tensor> ops)
    {
        var (conv2, ssm2) = (OpCheck.Copy(conv), OpCheck.Copy(ssm));
        for (int step = 0; step < 2; step++)
        {
            var y = fused(conv, ssm);
            var expected = ops(conv2, ssm2);
            Assert.Equal(expected.ShapeArray, y.ShapeArray);
            Assert.Equal(expected.ToFloatArray(), y.ToFloatArray());
            Assert.Equal(conv2.ToFloatArray(), conv.ToFloatArray());
            Assert.Equal(ssm2.ToFloatArray(), ssm.ToFloatArray());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Profiling_times_MambaStep_as_its_parts_or_whole_with_the_same_bits(bool whole)
    {
        var (z, xbc, dt, p, conv, ssm) = Build(2);
        var (conv2, ssm2) = (OpCheck.Copy(conv), OpCheck.Copy(ssm));
        var profiled = new ProfilingBackend(_cpu) { TimeFusedOps = whole };
        var y = profiled.MambaStep(z, xbc, dt, p, conv, ssm);
        Assert.Equal(((IBackend)_cpu).MambaStep(z, xbc, dt, p, conv2, ssm2).ToFloatArray(), y.ToFloatArray());
        Assert.Equal(ssm2.ToFloatArray(), ssm.ToFloatArray());
        var ops = profiled.Timings.Select(t => t.Op).ToHashSet();
        Assert.Equal(whole ? ["MambaStep"] : new HashSet<string> { "CausalConv1dStep", "SsmStep", "GatedRmsNorm" }, ops);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Default_MambaStepProject_is_MambaStep_then_MatMul_bit_for_bit_over_two_steps(bool withBias)
    {
        var (z, xbc, dt, p, conv, ssm) = Build(4);
        var inputs = new Inputs(5);
        var (w, bias) = (inputs.Uniform(-1, 1, 13, Dn), withBias ? inputs.Uniform(-1, 1, 13) : null);
        SameOverTwoSteps(conv, ssm, (c, s) => ((IBackend)_cpu).MambaStepProject(z, xbc, dt, p, c, s, w, bias),
            (c, s) => _cpu.MatMul(((IBackend)_cpu).MambaStep(z, xbc, dt, p, c, s), w, bias));
        Assert.Equal([B, 13], ((IBackend)_cpu).MambaStepProject(z, xbc, dt, p, OpCheck.Copy(conv), OpCheck.Copy(ssm), w, bias).ShapeArray);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Profiling_times_MambaStepProject_as_its_parts_or_whole_with_the_same_bits(bool whole)
    {
        var (z, xbc, dt, p, conv, ssm) = Build(6);
        var w = new Inputs(7).Uniform(-1, 1, 5, Dn);
        var (conv2, ssm2) = (OpCheck.Copy(conv), OpCheck.Copy(ssm));
        var profiled = new ProfilingBackend(_cpu) { TimeFusedOps = whole };
        var y = profiled.MambaStepProject(z, xbc, dt, p, conv, ssm, w);
        Assert.Equal(((IBackend)_cpu).MambaStepProject(z, xbc, dt, p, conv2, ssm2, w).ToFloatArray(), y.ToFloatArray());
        Assert.Equal(conv2.ToFloatArray(), conv.ToFloatArray());
        Assert.Equal(ssm2.ToFloatArray(), ssm.ToFloatArray());
        var ops = profiled.Timings.Select(t => t.Op).ToHashSet();
        Assert.Equal(whole ? ["MambaStepProject"] : new HashSet<string> { "CausalConv1dStep", "SsmStep", "GatedRmsNorm", "MatMul" }, ops);
    }

    [Fact]
    public void Shapes_that_do_not_fit_the_state_are_refused()
    {
        var (z, xbc, dt, p, conv, ssm) = Build(3);
        Assert.Throws<ArgumentException>(() => ((IBackend)_cpu).MambaStep(z, xbc.Narrow(1, 0, C - 1), dt, p, conv, ssm));
        Assert.Throws<ArgumentException>(() => ((IBackend)_cpu).MambaStep(z, xbc, dt.Narrow(1, 0, H - 1), p, conv, ssm));
    }

    public void Dispose() => _cpu.Dispose();
}
