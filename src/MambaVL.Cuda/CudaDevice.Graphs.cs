// CUDA graphs: the device work of one decode step recorded once (stream capture) and replayed with a single launch, so a
// step costs one driver call instead of hundreds. The memory pool keeps every block the recording touched for the
// graph: blocks the step freed stay the graph's, blocks still live (its output) come back to it when freed.
namespace MambaVL.Cuda;

public sealed unsafe partial class CudaDevice
{
    private Recording? _recording;
    // live blocks a graph writes (e.g. its output): when freed they return to that graph, never to the pool
    private readonly Dictionary<ulong, DeviceGraph> _reserved = [];

    private sealed class Recording
    {
        public readonly HashSet<(ulong Pointer, long Size)> Allocated = [];
        public DeviceBuffer? Input;
    }

    /// <summary>True while <see cref="Record"/> is capturing this device's stream (host copies are not allowed then).</summary>
    public bool IsRecording => _recording != null;

    /// <summary>
    /// Captures the work <paramref name="enqueue"/> queues (none of it runs) into a graph. The work may take at most one
    /// host input through <see cref="RecordInput"/>; anything that needs the host in between (a copy to or from host
    /// memory, a synchronize) throws, and nothing is recorded.
    /// </summary>
    public DeviceGraph Record(Action enqueue)
    {
        MakeCurrent();
        lock (_pool)
        {
            if (_recording != null) throw new InvalidOperationException("a graph is already being recorded on this device");
            _recording = new Recording();
        }
        // relaxed: the pool may ask the driver for a new block while recording
        _cu.Check(_cu.cuStreamBeginCapture(_stream, 2 /* CU_STREAM_CAPTURE_MODE_RELAXED */), "cuStreamBeginCapture");
        nint graph = 0;
        Recording recording;
        try { enqueue(); }
        catch
        {
            _cu.cuStreamEndCapture(_stream, &graph);  // the step's own error is the one to report
            if (graph != 0) _cu.cuGraphDestroy(graph);
            lock (_pool) _recording = null;
            throw;
        }
        int ended = _cu.cuStreamEndCapture(_stream, &graph);
        lock (_pool) { recording = _recording!; _recording = null; }
        if (ended != 0 && graph != 0) _cu.cuGraphDestroy(graph);
        _cu.Check(ended, "cuStreamEndCapture");
        nint exec;
        int instantiated = _cu.cuGraphInstantiateWithFlags(&exec, graph, 0);
        if (instantiated != 0) _cu.cuGraphDestroy(graph);
        _cu.Check(instantiated, "cuGraphInstantiateWithFlags");
        var result = new DeviceGraph(this, graph, exec, recording.Input);
        lock (_pool) Adopt(result, recording.Allocated);
        return result;
    }

    /// <summary>
    /// While recording: a device buffer for the step's host input (e.g. token ids), filled before each replay from the
    /// bytes given to <see cref="DeviceGraph.Replay"/>. Returns its address.
    /// </summary>
    public ulong RecordInput(int bytes)
    {
        var recording = _recording ?? throw new InvalidOperationException("RecordInput outside a graph recording");
        if (recording.Input != null) throw new GraphRecordingException("a recorded step takes one host input; this one asked for a second");
        recording.Input = Allocate(bytes);
        return recording.Input.Pointer;
    }

    /// <summary>True for a block a graph writes: it must stay where it is while the graph lives.</summary>
    public bool IsReserved(ulong pointer)
    {
        lock (_pool) return _reserved.ContainsKey(pointer);
    }

    private void ThrowIfRecording(string what)
    {
        if (_recording != null) throw new GraphRecordingException($"{what} cannot be part of a recorded graph");
    }

    // Called under the pool lock by Allocate: remembers the blocks a recording hands out.
    private ulong Recorded(ulong pointer, long size)
    {
        _recording?.Allocated.Add((pointer, size));
        return pointer;
    }

    // Under the pool lock, after a recording: the graph keeps every block it touched.
    private void Adopt(DeviceGraph graph, HashSet<(ulong Pointer, long Size)> allocated)
    {
        foreach (var (pointer, size) in allocated)
        {
            if (_pool.TryGetValue(size, out var free) && free.Contains(pointer))
            {
                _pool[size] = new Stack<ulong>(free.Where(p => p != pointer).Reverse());
                (_pooledBytes, _liveBytes) = (_pooledBytes - size, _liveBytes + size);
                graph.Owned.Add((pointer, size));
            }
            else _reserved[pointer] = graph;
        }
    }

    // Under the pool lock, from Free: a block a graph writes goes back to that graph.
    private bool ReturnToGraph(ulong pointer, long size)
    {
        if (!_reserved.Remove(pointer, out var graph)) return false;
        graph.Owned.Add((pointer, size));
        return true;
    }

    internal void Launch(nint exec)
    {
        MakeCurrent();
        ThrowIfRecording("replaying a graph");
        _cu.Check(_cu.cuGraphLaunch(exec, _stream), "cuGraphLaunch");
    }

    internal void Destroy(DeviceGraph graph, nint graphHandle, nint exec)
    {
        if (_disposed) return;
        MakeCurrent();
        lock (_pool)
        {
            foreach (var pointer in _reserved.Where(kv => kv.Value == graph).Select(kv => kv.Key).ToList()) _reserved.Remove(pointer);
            foreach (var (pointer, size) in graph.Owned)
            {
                if (!_pool.TryGetValue(size, out var free)) _pool[size] = free = new Stack<ulong>();
                free.Push(pointer);
                (_pooledBytes, _liveBytes) = (_pooledBytes + size, _liveBytes - size);
            }
            graph.Owned.Clear();
        }
        _cu.cuGraphExecDestroy(exec);
        _cu.cuGraphDestroy(graphHandle);
    }
}

/// <summary>Something that needs the host was asked for while a graph was being recorded.</summary>
public sealed class GraphRecordingException(string message) : InvalidOperationException(message);

/// <summary>A recorded step: replays its kernels with one launch; its blocks stay reserved until it is disposed.</summary>
public sealed class DeviceGraph : IDisposable
{
    private readonly CudaDevice _device;
    private readonly nint _graph, _exec;
    private readonly DeviceBuffer? _input;
    private bool _disposed;

    internal List<(ulong Pointer, long Size)> Owned { get; } = [];

    internal DeviceGraph(CudaDevice device, nint graph, nint exec, DeviceBuffer? input) =>
        (_device, _graph, _exec, _input) = (device, graph, exec, input);

    /// <summary>The size of the host input the recorded step read (0 when none).</summary>
    public long InputBytes => _input?.Bytes ?? 0;

    /// <summary>Queues the recorded work, first copying <paramref name="input"/> (exactly <see cref="InputBytes"/>) to the input buffer.</summary>
    public void Replay(ReadOnlySpan<byte> input)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (input.Length != InputBytes) throw new ArgumentException($"the recorded step reads {InputBytes} input bytes, not {input.Length}");
        if (_input != null) _device.Write(_input.Pointer, input);
        _device.Launch(_exec);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _device.Destroy(this, _graph, _exec);
        GC.SuppressFinalize(this);
    }

    ~DeviceGraph() => Dispose();
}
