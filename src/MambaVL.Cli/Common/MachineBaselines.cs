// The machine's memory read bandwidth and GEMM GFLOP/s, from MambaVL.Cpu's microbenchmarks.
namespace MambaVL.Cli.Common;

public static class MachineBaselines
{
    public static MachineBaseline Measure(int threads) =>
        throw new NotSupportedException("the MambaVL.Cpu microbenchmarks are not in this build yet; run bench with --no-baseline");
}
