// The machine's memory read bandwidth and GEMM GFLOP/s at a thread count, from MambaVL.Cpu's microbenchmarks
// (about a second per thread count): the yardsticks for the decode and prefill targets.
using MambaVL.Cpu.Microbench;

namespace MambaVL.Cli.Common;

public static class MachineBaselines
{
    /// <summary>Why no baseline is reported, for the report.</summary>
    public const string Unavailable = "not measured: the bandwidth and GEMM microbenchmarks failed on this machine";

    public static MachineBaseline? Measure(int threads)
    {
        var bandwidth = MemoryBandwidth.Measure(threads);
        var gemm = GemmPeak.Measure(threads);
        return new MachineBaseline(threads, bandwidth.GBs, gemm.Gflops);
    }
}
