// The decode step through a block stack as one op (IBackend.MambaBlocksStep): by default each block's NormMatMul then
// MambaStepProject over zxbcdt's z, xBC and dt columns, bit for bit what a loop over those calls gives (the residual
// and every state too); bad lists are one clear error; the profiler times it whole or as its parts.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Ops.Tests;

public sealed class MambaBlocksStepTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);

    // D model width; H heads of P, G groups of N, conv width W, one gate group per SSM group
    private const int D = 20, H = 4, P = 6, G = 2, N = 8, W = 3, Dn = H * P, C = Dn + 2 * G * N, InRows = Dn + C + H;

    private static (MambaBlockWeights[] Blocks, Tensor[] Conv, Tensor[] Ssm) Stack(int layers, int seed)
    {
        var inputs = new Inputs(seed);
        var blocks = new MambaBlockWeights[layers];
        for (int l = 0; l < layers; l++)
        {
            var ssm = new SsmParams(inputs.A(H), inputs.DtBias(H), inputs.Uniform(0, 1, H));
            var step = new MambaStepParams(inputs.Uniform(-1, 1, C, W), null, ssm, inputs.Uniform(0.5f, 1.5f, Dn), Dn / G, 1e-5f);
            blocks[l] = new MambaBlockWeights(inputs.Uniform(0.5f, 1.5f, D), 1e-5f, inputs.Uniform(-0.3f, 0.3f, InRows, D),
                l % 2 == 0 ? inputs.Uniform(-0.1f, 0.1f, InRows) : null, step, inputs.Uniform(-0.3f, 0.3f, D, Dn), null);
        }
        var conv = Enumerable.Range(0, layers).Select(_ => inputs.Uniform(-1, 1, 1, C, W - 1)).ToArray();
        var states = Enumerable.Range(0, layers).Select(_ => inputs.Uniform(-0.5f, 0.5f, 1, H, P, N)).ToArray();
        return (blocks, conv, states);
    }

    [Fact]
    public void Default_is_the_per_block_calls_bit_for_bit_residual_and_states_included()
    {
        var (blocks, conv, ssm) = Stack(3, 1);
        var (conv2, ssm2) = (conv.Select(OpCheck.Copy).ToArray(), ssm.Select(OpCheck.Copy).ToArray());
        var residual = new Inputs(2).Uniform(-1, 1, 1, D);
        var residual2 = OpCheck.Copy(residual);

        var h = ((IBackend)_cpu).MambaBlocksStep(residual, blocks, conv, ssm);

        IBackend cpu = _cpu;
        Tensor? expected = null;
        for (int l = 0; l < blocks.Length; l++)
        {
            var b = blocks[l];
            var zx = cpu.NormMatMul(residual2, expected, b.Norm, b.NormEps, b.InProj, b.InProjBias);
            expected = cpu.MambaStepProject(zx.Narrow(1, 0, Dn), zx.Narrow(1, Dn, C), zx.Narrow(1, Dn + C, H), b.Step, conv2[l], ssm2[l], b.OutProj, b.OutProjBias);
        }
        Assert.Equal([1, D], h.ShapeArray);
        Assert.Equal(expected!.ToFloatArray(), h.ToFloatArray());
        Assert.Equal(residual2.ToFloatArray(), residual.ToFloatArray());
        for (int l = 0; l < blocks.Length; l++)
        {
            Assert.Equal(conv2[l].ToFloatArray(), conv[l].ToFloatArray());
            Assert.Equal(ssm2[l].ToFloatArray(), ssm[l].ToFloatArray());
        }
        Assert.NotEqual(new Inputs(2).Uniform(-1, 1, 1, D).ToFloatArray(), residual.ToFloatArray());   // the blocks' outputs were added
    }

    [Fact]
    public void Lists_that_do_not_line_up_are_one_clear_error()
    {
        var (blocks, conv, ssm) = Stack(2, 3);
        var residual = new Inputs(4).Uniform(-1, 1, 1, D);
        var e = Assert.Throws<ArgumentException>(() => ((IBackend)_cpu).MambaBlocksStep(residual, blocks, conv[..1], ssm));
        Assert.Contains("2 blocks but 1 conv states and 2 SSM states", e.Message);
        Assert.Throws<ArgumentException>(() => ((IBackend)_cpu).MambaBlocksStep(residual, [], [], []));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Profiling_times_it_whole_or_as_its_parts_with_the_same_bits(bool whole)
    {
        var (blocks, conv, ssm) = Stack(2, 5);
        var (conv2, ssm2) = (conv.Select(OpCheck.Copy).ToArray(), ssm.Select(OpCheck.Copy).ToArray());
        var residual = new Inputs(6).Uniform(-1, 1, 1, D);
        var residual2 = OpCheck.Copy(residual);
        var profiled = new ProfilingBackend(_cpu) { TimeFusedOps = whole };
        var h = profiled.MambaBlocksStep(residual, blocks, conv, ssm);
        Assert.Equal(((IBackend)_cpu).MambaBlocksStep(residual2, blocks, conv2, ssm2).ToFloatArray(), h.ToFloatArray());
        var ops = profiled.Timings.Select(t => t.Op).ToHashSet();
        Assert.Equal(whole ? ["MambaBlocksStep"] : new HashSet<string> { "RmsNorm", "AddInPlace", "MatMul", "CausalConv1dStep", "SsmStep", "GatedRmsNorm" }, ops);
    }

    public void Dispose() => _cpu.Dispose();
}
