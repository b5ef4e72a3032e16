// A fixed pool of worker threads for the CPU kernels: an allocation-free parallel-for with low dispatch latency
// (workers spin briefly after each job, then block), exceptions propagate to the caller.
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace MambaVL.Cpu.Threading;

/// <summary>The work of one parallel loop: <see cref="Invoke"/> runs once for every index in [0, count).</summary>
public interface IParallelBody
{
    void Invoke(int index);
}

/// <summary>
/// <c>Threads - 1</c> background workers plus the calling thread. Indices are handed out one at a time from a shared
/// counter, so callers should pass a count of reasonably sized blocks (e.g. a few per thread), not single elements.
/// Nested calls, and calls while another thread is using the pool, run serially on the calling thread.
/// </summary>
public sealed class CpuThreadPool : IDisposable
{
    // How long an idle worker spins before it blocks: long enough to stay hot between the ops of one forward pass.
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000;  // 200 µs

    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private int _generation;      // bumped once per job; workers run a job when they see it change
    private int _sleepers;        // workers blocked in Monitor.Wait
    private int _busyWorkers;     // workers that have not finished the current job
    private int _inUse;           // 1 while a caller owns the pool
    private volatile bool _disposed;

    private RunnerBase? _job;
    private int _count;
    private int _next;
    private ExceptionDispatchInfo? _error;

    [ThreadStatic] private static bool t_insideJob;

    public CpuThreadPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "a thread pool needs at least one thread");
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            // A worker starts from generation 0, read here and not on its own thread: a thread that starts late must
            // still run the first job, even one dispatched before it got scheduled (else the caller waits forever).
            _workers[i] = new Thread(() => WorkerLoop(0)) { IsBackground = true, Name = $"MambaVL CPU worker {i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads that run a loop, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/>.Invoke(i) for every i in [0, count), spread over the pool's threads.</summary>
    public void ParallelFor<TBody>(int count, ref TBody body) where TBody : struct, IParallelBody
    {
        if (count <= 0) return;
        if (count == 1 || _workers.Length == 0 || t_insideJob || Interlocked.CompareExchange(ref _inUse, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++) body.Invoke(i);
            return;
        }
        var runner = Runner<TBody>.ForThisThread();
        runner.Body = body;
        try { Run(runner, count); }
        finally { runner.Body = default; Volatile.Write(ref _inUse, 0); }
    }

    /// <summary>Convenience overload over a delegate (allocates the closure; prefer the struct form in kernels).</summary>
    public void ParallelFor(int count, Action<int> body)
    {
        var wrapper = new ActionBody(body);
        ParallelFor(count, ref wrapper);
    }

    private void Run(RunnerBase runner, int count)
    {
        _job = runner; _count = count; _next = 0; _error = null;
        Volatile.Write(ref _busyWorkers, _workers.Length);
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleepers) > 0) lock (_gate) Monitor.PulseAll(_gate);
        Work();
        var spin = new SpinWait();
        while (Volatile.Read(ref _busyWorkers) > 0) spin.SpinOnce(sleep1Threshold: -1);
        _job = null;
        _error?.Throw();
    }

    // Takes indices until none are left; the first exception stops the hand-out and is kept for the caller.
    private void Work()
    {
        var job = _job!;
        int count = _count;
        t_insideJob = true;
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < count)
            {
                try { job.Invoke(i); }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
                    Volatile.Write(ref _next, count);
                }
            }
        }
        finally { t_insideJob = false; }
    }

    private void WorkerLoop(int seen)
    {
        while (true)
        {
            seen = WaitForJob(seen);
            if (_disposed) return;
            Work();
            Interlocked.Decrement(ref _busyWorkers);
        }
    }

    private int WaitForJob(int seen)
    {
        long start = Stopwatch.GetTimestamp();
        var spin = new SpinWait();
        while (Volatile.Read(ref _generation) == seen && !_disposed)
        {
            if (Stopwatch.GetTimestamp() - start < SpinTicks) { spin.SpinOnce(sleep1Threshold: -1); continue; }
            lock (_gate)
            {
                // Full fence before re-reading the generation pairs with the dispatcher's increment-then-read-sleepers.
                Interlocked.Increment(ref _sleepers);
                while (Volatile.Read(ref _generation) == seen && !_disposed) Monitor.Wait(_gate);
                Interlocked.Decrement(ref _sleepers);
            }
        }
        return Volatile.Read(ref _generation);
    }

    public void Dispose()
    {
        _disposed = true;
        Interlocked.Increment(ref _generation);
        lock (_gate) Monitor.PulseAll(_gate);
    }

    private abstract class RunnerBase
    {
        public abstract void Invoke(int index);
    }

    // One runner per body type and calling thread, reused, so a parallel loop allocates nothing after the first call.
    private sealed class Runner<TBody> : RunnerBase where TBody : struct, IParallelBody
    {
        [ThreadStatic] private static Runner<TBody>? t_instance;
        public TBody Body;
        public static Runner<TBody> ForThisThread() => t_instance ??= new Runner<TBody>();
        public override void Invoke(int index) => Body.Invoke(index);
    }

    private readonly struct ActionBody(Action<int> action) : IParallelBody
    {
        public void Invoke(int index) => action(index);
    }
}
