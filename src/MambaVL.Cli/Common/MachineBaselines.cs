// The machine's memory read bandwidth and GEMM GFLOP/s at a thread count, from MambaVL.Cpu's microbenchmarks.
// Until those are in the build, bench reports the baselines (and so the targets) as not measured.
namespace MambaVL.Cli.Common;

public static class MachineBaselines
{
    /// <summary>Why <see cref="Measure"/> returned null, for the report.</summary>
    public const string Unavailable = "not measured: the MambaVL.Cpu bandwidth and GEMM microbenchmarks are not in this build";

    public static MachineBaseline? Measure(int threads) => null;
}
