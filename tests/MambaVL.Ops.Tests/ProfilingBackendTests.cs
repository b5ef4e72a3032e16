// The timing decorator behind `mambavl bench --profile`: it forwards every op unchanged, counts calls per op (MatMuls per
// weight shape), and hands out snapshots that later calls do not change.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Ops.Tests;

public sealed class ProfilingBackendTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);

    [Fact]
    public void Ops_are_forwarded_and_counted_per_op_and_weight_shape()
    {
        var profiled = new ProfilingBackend(_cpu);
        var inputs = new Inputs(3);
        var x = inputs.Uniform(-1, 1, 5, 33);
        Tensor w1 = inputs.Uniform(-1, 1, 7, 33), w2 = inputs.Uniform(-1, 1, 9, 33), norm = inputs.Uniform(0.5f, 1.5f, 33);

        Assert.Equal(_cpu.MatMul(x, w1).ToFloatArray(), profiled.MatMul(x, w1).ToFloatArray());
        profiled.MatMul(x, w1);
        profiled.MatMul(x, w2);
        Assert.Equal(_cpu.RmsNorm(x, norm, 1e-5f).ToFloatArray(), profiled.RmsNorm(x, norm, 1e-5f).ToFloatArray());

        var timings = profiled.Timings;
        Assert.Equal(3, timings.Count);
        Assert.Equal(2, timings.Single(t => t.Op == "MatMul" && t.Shapes.Contains("(7, 33)")).Calls);
        Assert.Equal(1, timings.Single(t => t.Op == "MatMul" && t.Shapes.Contains("(9, 33)")).Calls);
        Assert.Equal(1, timings.Single(t => t.Op == "RmsNorm").Calls);
        Assert.Equal(profiled.Total, timings.Aggregate(TimeSpan.Zero, (sum, t) => sum + t.Total));
        Assert.True(timings.Zip(timings.Skip(1)).All(p => p.First.Total >= p.Second.Total), "largest total first");
    }

    [Fact]
    public void A_snapshot_is_not_changed_by_later_calls_or_a_reset()
    {
        var profiled = new ProfilingBackend(_cpu);
        var x = new Inputs(4).Uniform(-1, 1, 3, 8);
        profiled.AddInPlace(x, x);
        var before = profiled.Timings;
        profiled.AddInPlace(x, x);
        profiled.Reset();
        Assert.Empty(profiled.Timings);
        Assert.Equal(1, before.Single().Calls);
    }

    public void Dispose() => _cpu.Dispose();
}
