// Recorded decode steps on CUDA (IStepRecorder): the step's kernels and GEMMs captured into a CUDA graph, its token ids
// copied into the graph's input buffer before each replay. Off with UseGraphs = false (for comparing, or debugging).
using System.Runtime.InteropServices;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed partial class CudaBackend
{
    private int _recordingVocab = -1;

    /// <summary>Whether decode steps may be recorded as CUDA graphs (default on).</summary>
    public bool UseGraphs { get; set; } = true;

    public IRecordedStep Record(ReadOnlySpan<int> ids, StepBody body)
    {
        if (!UseGraphs) throw new StepNotRecordableException("CUDA graphs are switched off");
        var recordedIds = ids.ToArray();
        Tensor? output = null;
        _recordingVocab = -1;
        DeviceGraph graph;
        try { graph = Gpu.Record(() => output = body(recordedIds)); }
        catch (GraphRecordingException e) { throw new StepNotRecordableException(e.Message, e); }
        if (graph.InputBytes != recordedIds.Length * sizeof(int) || output is null)
        {
            graph.Dispose();
            throw new StepNotRecordableException("the step did not read its ids through one embedding lookup");
        }
        return new RecordedStep(graph, output, _recordingVocab);
    }

    private sealed class RecordedStep(DeviceGraph graph, Tensor output, int vocab) : IRecordedStep
    {
        public Tensor Output => output;

        public void Replay(ReadOnlySpan<int> ids)
        {
            foreach (int id in ids)
                if ((uint)id >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the {vocab}-row embedding table");
            graph.Replay(MemoryMarshal.AsBytes(ids));
        }

        public void Dispose() => graph.Dispose();
    }
}
