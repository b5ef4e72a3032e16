// `mambavl bench ssd`: on a machine with a GPU it prints a timing row per length; without one (CI) it ends with the
// one-line CUDA-unavailable error, as the other CUDA commands do.
namespace MambaVL.Cli.Tests;

public sealed class BenchSsdCommandTests
{
    [Fact, Trait("Category", "GPU")]
    public void Bench_ssd_times_the_cuda_scan_or_says_why_there_is_no_gpu() =>
        Cli.OnCudaOrUnavailable(["bench", "ssd", "--device", "cuda", "--lengths", "100,300", "--repeats", "2"], run =>
        {
            Assert.Contains("| 100 |", run.Out);
            Assert.Contains("| 300 |", run.Out);
        });

    [Fact]
    public void Bench_ssd_on_the_cpu_is_a_one_line_error()
    {
        var run = Cli.Run("bench", "ssd", "--device", "cpu");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bench ssd times the CUDA kernel", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public void Bench_ssd_with_an_unknown_variant_is_a_one_line_error()
    {
        var run = Cli.Run("bench", "ssd", "--device", "cuda", "--variant", "triton");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--variant: 'triton' is not fused or parallel", Assert.Single(run.ErrorLines));
    }
}
