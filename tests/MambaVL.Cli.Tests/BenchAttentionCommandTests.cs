// `mambavl bench attention`: on a GPU machine it times the flash kernels (decode GB/s and prefill TFLOP/s tables); without
// one it ends with the one-line CUDA-unavailable error, and it refuses the CPU (the CPU kernels have their own bench).
namespace MambaVL.Cli.Tests;

public sealed class BenchAttentionCommandTests
{
    [Fact, Trait("Category", "GPU")]
    public void Attention_bench_times_the_flash_kernels_or_says_why_there_is_no_gpu() =>
        Cli.OnCudaOrUnavailable(["bench", "attention", "--device", "cuda", "--quick", "-r", "1"], run =>
        {
            Assert.Equal(5, run.OutLines.Count(l => l.StartsWith("| decode |", StringComparison.Ordinal)));  // 2 contexts × 2 types + plain
            Assert.Contains(run.OutLines, l => l.StartsWith("| prefill causal | flash | bf16 |", StringComparison.Ordinal));
            Assert.Contains(run.OutLines, l => l.StartsWith("| ViT (SigLIP) | flash | f32 |", StringComparison.Ordinal));
        }, notWithout: "| decode |");

    [Fact]
    public void Attention_bench_on_the_cpu_is_a_one_line_error()
    {
        var run = Cli.Run("bench", "attention", "--device", "cpu");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bench attention times the CUDA kernels", Assert.Single(run.ErrorLines));
    }
}
