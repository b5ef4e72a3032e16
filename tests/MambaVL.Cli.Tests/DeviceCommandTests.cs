// `mambavl info` and `mambavl selfcheck`: on a machine with a GPU the CUDA checks must pass; without one (CI) the CUDA
// commands end with one line saying what is missing, and nothing else breaks.
using MambaVL.Cuda;

namespace MambaVL.Cli.Tests;

public sealed class DeviceCommandTests
{
    [Fact]
    public void Info_describes_the_cpu()
    {
        var run = Cli.Ok("info");
        Assert.StartsWith("cpu: ", run.OutLines[0]);
        Assert.Contains("kernels: ", run.Out);
    }

    [Fact, Trait("Category", "GPU")]
    public void Cuda_info_and_selfcheck_pass_on_a_gpu_or_say_why_there_is_none()
    {
        using var gpu = CudaDevice.TryOpen(out string reason);
        var info = Cli.Run("info", "--device", "cuda");
        var check = Cli.Run("selfcheck", "--device", "cuda");
        if (gpu is null)
        {
            foreach (var run in new[] { info, check })
            {
                Assert.Equal(1, run.ExitCode);
                Assert.Contains("CUDA is not available", Assert.Single(run.ErrorLines));
            }
            Assert.Contains("CUDA is not available", reason);
        }
        else
        {
            Assert.Equal(0, info.ExitCode);
            Assert.Contains($"sm_{gpu.ComputeMajor}{gpu.ComputeMinor}", info.Out);
            Assert.Equal(0, check.ExitCode);
            Assert.Contains("checks passed", check.Out);
        }
    }

    [Fact, Trait("Category", "GPU")]
    public void Generate_on_cuda_gives_the_cpus_greedy_ids_or_says_why_there_is_no_gpu()
    {
        using var tiny = new TinyModelFixture();
        string[] Args(string device) => ["generate", "-m", tiny.Folder, "--ids", "1,2,3,4,5", "-n", "12", "--temperature", "0", "--print-ids", "--ignore-eos", "-t", "1", "--device", device];
        var cpu = Cli.Ok(Args("cpu"));
        using var gpu = CudaDevice.TryOpen(out _);
        var cuda = Cli.Run(Args("cuda"));
        if (gpu is null) Assert.Contains("CUDA is not available", Assert.Single(cuda.ErrorLines));
        else Assert.Equal(cpu.OutLines[^1], cuda.OutLines[^1]);
    }

    [Theory, Trait("Category", "GPU")]
    [InlineData("bench", "--device", "cuda", "--preset", "tiny", "-n", "4", "-r", "1", "--batch", "1,2", "--prompts", "9")]
    [InlineData("bench", "mlmamba", "--device", "cuda", "--tiny", "-p", "3", "-n", "2")]
    [InlineData("bench", "mmmamba", "--device", "cuda", "--tiny", "-c", "16,40", "-r", "1")]
    public void Gpu_benchmarks_run_on_a_gpu_or_say_why_there_is_none(params string[] args)
    {
        using var gpu = CudaDevice.TryOpen(out _);
        var run = Cli.Run(args);
        if (gpu is null)
        {
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("CUDA is not available", Assert.Single(run.ErrorLines));
        }
        else
        {
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("cuda", run.Out, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("--gemv", "fast", "--gemv: 'fast' is not vec, stream or ring")]
    [InlineData("--gemv-batch", "ring", "--gemv-batch: 'ring' is not vec or mma")]
    [InlineData("--mamba-step", "one", "--mamba-step: 'one' is not fused or ops")]
    [InlineData("--early-launch", "yes", "--early-launch: 'yes' is not on or off")]
    [InlineData("--norm-matmul", "both", "--norm-matmul: 'both' is not fused or ops")]
    [InlineData("--step-projection", "gemv", "--step-projection: 'gemv' is not fused or ops")]
    [InlineData("--blocks", "all", "--blocks: 'all' is not fused or ops")]
    [InlineData("--blocks-products", "wmma", "--blocks-products: 'wmma' is not ring or mma")]
    public void A_wrong_decode_kernel_choice_is_a_one_line_error_with_or_without_a_gpu(string option, string value, string message)
    {
        var run = Cli.Run("bench", "--device", "cuda", "--preset", "tiny", "-n", "2", "-r", "1", option, value);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(message, Assert.Single(run.ErrorLines));
    }

    [Theory]
    [InlineData("selfcheck", "--device", "cpu", "selfcheck checks a GPU")]
    [InlineData("info", "--device", "tpu", "'tpu' is not cpu, cuda or cuda:N")]
    public void A_wrong_device_is_a_one_line_error(string command, string flag, string value, string message)
    {
        var run = Cli.Run(command, flag, value);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(message, Assert.Single(run.ErrorLines));
    }
}
