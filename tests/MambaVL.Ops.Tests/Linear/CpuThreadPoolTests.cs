// The worker pool: every index runs exactly once, exceptions reach the caller, nested and repeated use work.
using MambaVL.Cpu.Threading;

namespace MambaVL.Ops.Tests.Linear;

public class CpuThreadPoolTests
{
    private struct CountVisits(int[] visits) : IParallelBody
    {
        public void Invoke(int index) => Interlocked.Increment(ref visits[index]);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 17)]
    [InlineData(2, 1)]
    [InlineData(2, 1000)]
    [InlineData(4, 333)]
    public void EveryIndexRunsOnce(int threads, int count)
    {
        using var pool = new CpuThreadPool(threads);
        for (int repeat = 0; repeat < 50; repeat++)
        {
            var visits = new int[count];
            var body = new CountVisits(visits);
            pool.ParallelFor(count, ref body);
            Assert.All(visits, v => Assert.Equal(1, v));
        }
    }

    [Fact]
    public void ExceptionsReachTheCallerAndThePoolStaysUsable()
    {
        using var pool = new CpuThreadPool(3);
        var e = Assert.Throws<InvalidOperationException>(() => pool.ParallelFor(100, i => { if (i == 57) throw new InvalidOperationException("index 57"); }));
        Assert.Equal("index 57", e.Message);
        int sum = 0;
        pool.ParallelFor(100, i => Interlocked.Add(ref sum, i));
        Assert.Equal(4950, sum);
    }

    [Fact]
    public void NestedLoopsRunEveryInnerIndex()
    {
        using var pool = new CpuThreadPool(2);
        var visits = new int[8 * 9];
        pool.ParallelFor(8, i => pool.ParallelFor(9, j => Interlocked.Increment(ref visits[i * 9 + j])));
        Assert.All(visits, v => Assert.Equal(1, v));
    }

    [Fact]
    public void ConcurrentCallersBothComplete()
    {
        using var pool = new CpuThreadPool(2);
        var visits = new int[2 * 5000];
        Parallel.For(0, 2, caller =>
        {
            for (int r = 0; r < 50; r++)
                pool.ParallelFor(100, i => Interlocked.Increment(ref visits[caller * 5000 + r * 100 + i]));
        });
        Assert.All(visits, v => Assert.Equal(1, v));
    }

    [Fact]
    public void WorkersWakeAfterBlocking()
    {
        using var pool = new CpuThreadPool(2);
        int sum = 0;
        pool.ParallelFor(10, i => Interlocked.Add(ref sum, 1));
        Thread.Sleep(20);  // long past the spin period: the worker is blocked now
        pool.ParallelFor(10, i => Interlocked.Add(ref sum, 1));
        Assert.Equal(20, sum);
    }

    [Fact]
    public async Task AJobDispatchedBeforeTheWorkersStartStillCompletes()
    {
        // Many workers on few cores: some are not yet scheduled when the first job is dispatched. Run on another
        // thread with a deadline so a lost wake-up fails the test instead of hanging the run.
        var run = Task.Run(() =>
        {
            for (int repeat = 0; repeat < 200; repeat++)
            {
                using var pool = new CpuThreadPool(12);
                var visits = new int[64];
                var body = new CountVisits(visits);
                pool.ParallelFor(visits.Length, ref body);
                Assert.All(visits, v => Assert.Equal(1, v));
            }
        });
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(finished == run, "a parallel loop never finished: a worker missed its first job");
        await run;
    }
}
