// placeholder while the benchmark is written
using System.CommandLine;
namespace MambaVL.Cli.Commands;
public static class BenchCommand
{
    public static Command Create() => new("bench", "Benchmark prefill and decode speed");
}
