// `mambavl --version` prints the version and the SIMD capabilities the kernels can use.
namespace MambaVL.Cli.Tests;

public class VersionTests
{
    [Fact]
    public void VersionPrintsTheVersionAndSimdCapabilities()
    {
        var run = Cli.Ok("--version");
        Assert.StartsWith("mambavl 0.", run.OutLines[0]);
        Assert.Contains(run.OutLines, l => l.StartsWith("simd:", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.StartsWith("kernels:", StringComparison.Ordinal));
    }
}
