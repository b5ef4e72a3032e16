// Recorded decode steps: a backend that can capture the device work of one step (CUDA graphs) replays it with one launch
// instead of hundreds. Models whose step does the same work every token (Mamba-2: fixed-size states, no positions)
// run their step through a StepReplayer; every other backend and model simply runs the step.
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Ops;

/// <summary>A model's step body: ids (B) → logits (B, V), with the state's tensors updated in place.</summary>
public delegate Tensor StepBody(ReadOnlySpan<int> ids);

/// <summary>A backend that can record a step's device work and replay it.</summary>
public interface IStepRecorder
{
    /// <summary>
    /// Records <paramref name="body"/> run on <paramref name="ids"/> without running it. The body's only host input may be
    /// the ids (through the embedding op); it must not read results back. Throws <see cref="StepNotRecordableException"/>
    /// when the body cannot be recorded (then nothing was recorded and nothing ran).
    /// </summary>
    IRecordedStep Record(ReadOnlySpan<int> ids, StepBody body);
}

/// <summary>A recorded step. Its output tensor is the same every replay: read it before the next one.</summary>
public interface IRecordedStep : IDisposable
{
    Tensor Output { get; }

    /// <summary>Queues the recorded work on new ids (the same count as recorded; ids out of range throw).</summary>
    void Replay(ReadOnlySpan<int> ids);
}

public sealed class StepNotRecordableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The decode steps of one model state: the first runs as it is (it compiles kernels and makes GEMM plans, which must
/// not happen inside a recording), the second is recorded when the backend can, and later ones replay the recording.
/// Belongs to the state whose tensors the recording reads; reset it whenever those tensors are replaced.
/// </summary>
public sealed class StepReplayer : IDisposable
{
    private IRecordedStep? _recorded;
    private int _batch = -1, _eagerSteps;
    private bool _unrecordable;

    /// <summary>True once steps replay a recording.</summary>
    public bool IsReplaying => _recorded != null;

    public Tensor Run(IBackend backend, ReadOnlySpan<int> ids, StepBody body)
    {
        if (_recorded != null && ids.Length == _batch)
        {
            _recorded.Replay(ids);
            return _recorded.Output;
        }
        if (backend is not IStepRecorder recorder || _unrecordable || _eagerSteps++ < 1) return body(ids);
        Reset();
        try { _recorded = recorder.Record(ids, body); }
        catch (StepNotRecordableException) { _unrecordable = true; return body(ids); }
        _batch = ids.Length;
        _recorded.Replay(ids);
        return _recorded.Output;
    }

    /// <summary>Drops the recording (the state's tensors were replaced); the next steps start over.</summary>
    public void Reset()
    {
        _recorded?.Dispose();
        (_recorded, _batch, _eagerSteps) = (null, -1, 0);
    }

    public void Dispose() => Reset();
}
