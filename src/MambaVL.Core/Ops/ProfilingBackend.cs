// A decorator over any backend that times every op call and keeps totals per op, for `mambavl bench --profile`.
// Wall time around each call: exact for synchronous backends (CPU, reference); for an asynchronous one (CUDA) pass
// its synchronize, called before each op's clock stops (each op's time then includes one wait for the device).
using System.Diagnostics;
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Ops;

/// <summary>Calls and total time of one op (MatMuls per weight shape), as of when <see cref="ProfilingBackend.Timings"/> was read.</summary>
public sealed record OpTiming(string Op, string Shapes, long Calls, TimeSpan Total);

public sealed class ProfilingBackend(IBackend inner, Action? synchronize = null) : IBackend
{
    private readonly Dictionary<(string Op, string Shapes), (long Calls, TimeSpan Total)> _timings = [];

    public IBackend Inner { get; } = inner;

    /// <summary>
    /// Fused ops (AddRmsNorm, NormMatMul, MambaStep, MambaStepProject, MambaBlocksStep) go to the inner backend whole and are timed as one op, as they run unprofiled.
    /// Off (the default): they run as their default compositions through this decorator, so each part is timed.
    /// </summary>
    public bool TimeFusedOps { get; init; }
    public string Name => Inner.Name;
    public Device Device => Inner.Device;

    /// <summary>A snapshot: one entry per op and weight shape (MatMuls are split by weight shape), largest total first.</summary>
    public IReadOnlyList<OpTiming> Timings =>
        _timings.Select(kv => new OpTiming(kv.Key.Op, kv.Key.Shapes, kv.Value.Calls, kv.Value.Total)).OrderByDescending(t => t.Total).ToList();

    public TimeSpan Total => _timings.Values.Aggregate(TimeSpan.Zero, (sum, t) => sum + t.Total);

    public void Reset() => _timings.Clear();

    public Tensor Zeros(DType dtype, params int[] shape) => Time("Zeros", "", () => Inner.Zeros(dtype, shape));
    public Tensor Upload(Tensor host) => Inner.Upload(host);  // load time, not model time
    public float[] ToHost(Tensor t) => Time("ToHost", "", () => Inner.ToHost(t));
    public Tensor Contiguous(Tensor t) => Time("Contiguous", "", () => Inner.Contiguous(t));
    public void Release(Tensor t) => Inner.Release(t);

    public void CopyInto(Tensor source, Tensor destination)
    {
        long start = Stopwatch.GetTimestamp();
        Inner.CopyInto(source, destination);
        Record("CopyInto", "", start);
    }

    public Tensor MatMul(Tensor x, Tensor w, Tensor? bias = null) =>
        Time("MatMul", $"w {Shape(w)} {w.DType}", () => Inner.MatMul(x, w, bias));

    public Tensor Embedding(Tensor table, ReadOnlySpan<int> ids)
    {
        long start = Stopwatch.GetTimestamp();
        var result = Inner.Embedding(table, ids);
        Record("Embedding", "", start);
        return result;
    }

    public void AddInPlace(Tensor acc, Tensor x)
    {
        long start = Stopwatch.GetTimestamp();
        Inner.AddInPlace(acc, x);
        Record("AddInPlace", "", start);
    }

    public Tensor RmsNorm(Tensor x, Tensor weight, float eps) => Time("RmsNorm", "", () => Inner.RmsNorm(x, weight, eps));

    public Tensor AddRmsNorm(Tensor residual, Tensor x, Tensor weight, float eps)
    {
        if (TimeFusedOps) return Time("AddRmsNorm", "", () => Inner.AddRmsNorm(residual, x, weight, eps));
        AddInPlace(residual, x);   // IBackend's default, through this decorator
        return RmsNorm(residual, weight, eps);
    }

    public Tensor NormMatMul(Tensor residual, Tensor? x, Tensor norm, float eps, Tensor w, Tensor? bias = null) => TimeFusedOps
        ? Time("NormMatMul", $"w {Shape(w)} {w.DType}", () => Inner.NormMatMul(residual, x, norm, eps, w, bias))
        : NormMatMulComposition.Run(this, residual, x, norm, eps, w, bias);

    public Tensor GatedRmsNorm(Tensor y, Tensor z, Tensor weight, int groupSize, float eps) =>
        Time("GatedRmsNorm", "", () => Inner.GatedRmsNorm(y, z, weight, groupSize, eps));

    public Tensor LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps) => Time("LayerNorm", "", () => Inner.LayerNorm(x, weight, bias, eps));
    public Tensor Activate(Tensor x, Activation kind) => Time(kind.ToString(), "", () => Inner.Activate(x, kind));

    public Tensor SwiGlu(Tensor gate, Tensor up) => Time("SwiGlu", "", () => Inner.SwiGlu(gate, up));

    public void ScaleColumnsInPlace(Tensor x, Tensor scale)
    {
        long start = Stopwatch.GetTimestamp();
        Inner.ScaleColumnsInPlace(x, scale);
        Record("ScaleColumnsInPlace", "", start);
    }

    public Tensor Attention(Tensor q, Tensor k, Tensor v, float scale, bool causal) =>
        Time("Attention", $"q {Shape(q)} k {Shape(k)}", () => Inner.Attention(q, k, v, scale, causal));

    public Tensor Rope(Tensor x, Tensor invFreq, int startPosition) => Time("Rope", "", () => Inner.Rope(x, invFreq, startPosition));

    public Tensor Concat(IReadOnlyList<Tensor> parts, int dim) => Time("Concat", "", () => Inner.Concat(parts, dim));

    public Tensor CausalConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) =>
        Time("CausalConv1d", "", () => Inner.CausalConv1d(x, weight, bias, convState, silu));

    public Tensor CausalConv1dStep(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) =>
        Time("CausalConv1dStep", "", () => Inner.CausalConv1dStep(x, weight, bias, convState, silu));

    public Tensor SsdScan(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, int chunkSize) =>
        Time("SsdScan", "", () => Inner.SsdScan(x, dt, b, c, p, state, chunkSize));

    public Tensor SsmStep(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state) =>
        Time("SsmStep", "", () => Inner.SsmStep(x, dt, b, c, p, state));

    public Tensor MambaStep(Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor convState, Tensor ssmState) => TimeFusedOps
        ? Time("MambaStep", "", () => Inner.MambaStep(z, xbc, dt, p, convState, ssmState))
        : MambaStepComposition.Run(this, z, xbc, dt, p, convState, ssmState);

    public Tensor MambaStepProject(Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor convState, Tensor ssmState, Tensor w, Tensor? bias = null) =>
        TimeFusedOps
            ? Time("MambaStepProject", $"w {Shape(w)} {w.DType}", () => Inner.MambaStepProject(z, xbc, dt, p, convState, ssmState, w, bias))
            : MambaStepProjectComposition.Run(this, z, xbc, dt, p, convState, ssmState, w, bias);

    public Tensor MambaBlocksStep(Tensor residual, IReadOnlyList<MambaBlockWeights> blocks, IReadOnlyList<Tensor> convStates, IReadOnlyList<Tensor> ssmStates) =>
        TimeFusedOps
            ? Time("MambaBlocksStep", $"{blocks.Count} blocks", () => Inner.MambaBlocksStep(residual, blocks, convStates, ssmStates))
            : MambaBlocksStepComposition.Run(this, residual, blocks, convStates, ssmStates);

    private T Time<T>(string op, string shapes, Func<T> call)
    {
        long start = Stopwatch.GetTimestamp();
        var result = call();
        Record(op, shapes, start);
        return result;
    }

    private void Record(string op, string shapes, long start)
    {
        synchronize?.Invoke();
        var elapsed = Stopwatch.GetElapsedTime(start);
        var soFar = _timings.GetValueOrDefault((op, shapes));
        _timings[(op, shapes)] = (soFar.Calls + 1, soFar.Total + elapsed);
    }

    private static string Shape(Tensor t) => "(" + string.Join(", ", t.ShapeArray) + ")";
}
