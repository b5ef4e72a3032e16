// The state contracts the models rely on: splitting a sequence across calls, and decode steps, give the same result
// as one whole call.
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Ops.Tests;

public sealed class StateContractTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);

    public static TheoryData<SsmCase> ScanCases => OpCases.Data(OpCases.Scans());
    public static TheoryData<ConvCase> ConvCases => OpCases.Data(OpCases.Convs());

    [Theory, MemberData(nameof(ScanCases))]
    public void SsdScan_in_two_calls_equals_one_call(SsmCase k)
    {
        var (x, dt, b, c, p, state) = k.Build();
        Tensor whole = OpCheck.Copy(state), split = OpCheck.Copy(state);
        var yWhole = _cpu.SsdScan(x, dt, b, c, p, whole, k.Chunk);
        int cut = k.T / 3;
        var y1 = _cpu.SsdScan(x.Narrow(0, 0, cut), dt.Narrow(0, 0, cut), b.Narrow(0, 0, cut), c.Narrow(0, 0, cut), p, split, k.Chunk);
        int rest = k.T - cut;
        var y2 = _cpu.SsdScan(x.Narrow(0, cut, rest), dt.Narrow(0, cut, rest), b.Narrow(0, cut, rest), c.Narrow(0, cut, rest), p, split, k.Chunk);
        OpCheck.Close(Tensor.FromArray([.. y1.ToFloatArray(), .. y2.ToFloatArray()], k.T, k.H, k.P), yWhole, Tolerances.SsdScan, $"{k} y");
        OpCheck.Close(split, whole, Tolerances.SsdScan, $"{k} state");
    }

    [Theory, MemberData(nameof(ScanCases))]
    public void SsdScan_equals_T_SsmSteps(SsmCase k)
    {
        var (x, dt, b, c, p, state) = k.Build();
        Tensor scanned = OpCheck.Copy(state), stepped = OpCheck.Copy(state).Reshape(1, k.H, k.P, k.N);
        var yScan = _cpu.SsdScan(x, dt, b, c, p, scanned, k.Chunk);
        var ys = new List<float>();
        for (int t = 0; t < k.T; t++)
            ys.AddRange(_cpu.SsmStep(x.Narrow(0, t, 1), dt.Narrow(0, t, 1), b.Narrow(0, t, 1), c.Narrow(0, t, 1), p, stepped).ToFloatArray());
        OpCheck.Close(Tensor.FromArray([.. ys], k.T, k.H, k.P), yScan, Tolerances.SsdScan, $"{k} y");
        OpCheck.Close(stepped.Reshape(k.H, k.P, k.N), scanned, Tolerances.SsdScan, $"{k} state");
    }

    [Fact]
    public void Batched_SsmStep_equals_per_sequence_steps()
    {
        var k = new SsmCase(3, 4, 5, 33, 2, 1, SkipKind.PerChannel);
        var (x, dt, b, c, p, _) = k.Build();
        var state = new Inputs(11).Uniform(-1, 1, 3, 4, 5, 33);
        var batchedState = OpCheck.Copy(state);
        var yBatched = _cpu.SsmStep(x, dt, b, c, p, batchedState).ToFloatArray();
        for (int i = 0; i < 3; i++)
        {
            var own = OpCheck.Copy(state.Narrow(0, i, 1));
            var y = _cpu.SsmStep(x.Narrow(0, i, 1), dt.Narrow(0, i, 1), b.Narrow(0, i, 1), c.Narrow(0, i, 1), p, own);
            Assert.Equal(y.ToFloatArray(), yBatched.AsSpan(i * 20, 20).ToArray());
            Assert.Equal(own.ToFloatArray(), batchedState.Narrow(0, i, 1).ToFloatArray());
        }
    }

    [Theory, MemberData(nameof(ConvCases))]
    public void CausalConv1d_split_equals_whole(ConvCase k)
    {
        var (x, w, bias, state) = k.Build();
        Tensor whole = OpCheck.Copy(state), split = OpCheck.Copy(state);
        var yWhole = _cpu.CausalConv1d(x, w, bias, whole, k.Silu);
        var ys = new List<float>();
        for (int t0 = 0; t0 < k.T; t0 += 2)  // pieces of at most 2 tokens: shorter than W-1 whenever W > 3
        {
            int len = Math.Min(2, k.T - t0);
            ys.AddRange(_cpu.CausalConv1d(x.Narrow(0, t0, len), w, bias, split, k.Silu).ToFloatArray());
        }
        OpCheck.Close(Tensor.FromArray([.. ys], k.T, k.C), yWhole, Tolerances.CausalConv1d, $"{k} y");
        Assert.Equal(whole.ToFloatArray(), split.ToFloatArray());
    }

    [Theory, MemberData(nameof(ConvCases))]
    public void Batched_CausalConv1dStep_equals_per_sequence_steps(ConvCase k)
    {
        var (x, w, bias, _) = k.Build();
        var state = new Inputs(5).Uniform(-2, 2, k.T, k.C, k.W - 1);
        var batchedState = OpCheck.Copy(state);
        var yBatched = _cpu.CausalConv1dStep(x, w, bias, batchedState, k.Silu).ToFloatArray();
        for (int i = 0; i < k.T; i++)
        {
            var own = OpCheck.Copy(state.Narrow(0, i, 1)).Reshape(k.C, k.W - 1);
            var y = _cpu.CausalConv1d(x.Narrow(0, i, 1), w, bias, own, k.Silu);
            Assert.Equal(y.ToFloatArray(), yBatched.AsSpan(i * k.C, k.C).ToArray());
            Assert.Equal(own.ToFloatArray(), batchedState.Narrow(0, i, 1).ToFloatArray());
        }
    }

    public void Dispose() => _cpu.Dispose();
}
