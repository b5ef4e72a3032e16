// `mambavl bench` runs tiny (the hidden tiny preset, a few tokens) in markdown and JSON, labels random weights as such,
// and derives its targets from the baselines with the stated formulas.
using System.Text.Json;
using MambaVL.Cli.Common;
using MambaVL.Core.Tensors;

namespace MambaVL.Cli.Tests;

public class BenchCommandTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    private static readonly string[] TinyArgs = ["bench", "-p", "9", "-n", "4", "-r", "2", "--no-baseline"];

    [Fact]
    public void MarkdownHasOneRowPerDTypeThreadsAndTestLabelledRandomWeights()
    {
        var run = Cli.Ok([.. TinyArgs, "--preset", "tiny", "-t", "1,2", "--dtype", "f32,bf16"]);
        Assert.Contains("| model | size | params | backend | threads | dtype | test | t/s |", run.Out);
        var rows = run.OutLines.Where(l => l.StartsWith("| mamba2 tiny (random weights) |", StringComparison.Ordinal)).ToArray();
        Assert.Equal(8, rows.Length);
        foreach (var dtype in new[] { "f32", "bf16" })
            foreach (var threads in new[] { 1, 2 })
                foreach (var test in new[] { "pp9", "tg4" })
                    Assert.Single(rows, r => r.Contains($"| {threads} | {dtype} | {test} |"));
        Assert.Contains(run.OutLines, l => l.StartsWith("build: mambavl", StringComparison.Ordinal));
    }

    [Fact]
    public void ProfileShowsWhereThePrefillAndDecodeTimeGoes()
    {
        var run = Cli.Ok([.. TinyArgs, "--preset", "tiny", "-t", "1", "--dtype", "f32", "--profile"]);
        Assert.Contains(run.OutLines, l => l.StartsWith("profile pp9 (f32, 1 thread):", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.StartsWith("profile tg4 (f32, 1 thread):", StringComparison.Ordinal));
        // the tiny preset has 2 layers: one SSD scan each in the prefill, one SSM step each per decoded token
        Assert.Contains(run.OutLines, l => l.StartsWith("| SsdScan |  | 2 |", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.StartsWith("| SsmStep |  | 2 |", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.StartsWith("| MatMul | w (", StringComparison.Ordinal));
    }

    [Fact]
    public void VisionBenchReportsImagesPerSecondForEachDtypeAndThreadCount()
    {
        var run = Cli.Ok(["bench", "vision", "--tiny", "--image-size", "70", "-t", "1,2", "--dtype", "f32,bf16", "-r", "1", "--no-baseline", "--no-warmup"]);
        var rows = run.OutLines.Where(l => l.StartsWith("| tiny DINO + SigLIP (random weights) | 70 |", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, rows.Length);
        foreach (var (row, dtype, threads) in rows.Zip(new[] { ("f32", 1), ("f32", 2), ("bf16", 1), ("bf16", 2) }, (r, e) => (r, e.Item1, e.Item2)))
        {
            var cells = row.Split('|', StringSplitOptions.TrimEntries);
            Assert.Equal((threads.ToString(), dtype), (cells[5], cells[6]));
            Assert.True(double.Parse(cells[8], System.Globalization.CultureInfo.InvariantCulture) > 0, row);  // images/s
        }
    }

    [Fact]
    public void MlMambaBenchReportsTimeToFirstTokenAndDecodeSpeed()
    {
        var run = Cli.Ok(["bench", "mlmamba", "--tiny", "-t", "1,2", "-n", "3", "-p", "5"]);
        var rows = run.OutLines.Where(l => l.StartsWith("| tiny ML-Mamba (random weights) |", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, rows.Length);
        foreach (var row in rows)
        {
            var cells = row.Split('|', StringSplitOptions.TrimEntries);
            double ttft = double.Parse(cells[5], System.Globalization.CultureInfo.InvariantCulture);
            double parts = cells[6..9].Sum(c => double.Parse(c, System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(Math.Abs(ttft - parts) <= 0.011, row);  // the first-token time is the sum of its parts (2-decimal rounding)
            Assert.True(double.Parse(cells[9], System.Globalization.CultureInfo.InvariantCulture) > 0, row);
        }
    }

    [Fact]
    public void MmMambaBenchComparesTheStudentsWithTheTeacherPerContext()
    {
        var run = Cli.Ok(["bench", "mmmamba", "--tiny", "-c", "16,300", "-r", "1", "-t", "1", "--cache-type", "bf16"]);
        Assert.Contains("bf16 KV caches", run.Out);
        var rows = run.OutLines.Where(l => l.StartsWith("| HoVLE", StringComparison.Ordinal) || l.StartsWith("| mmMamba", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries)).ToArray();
        Assert.Equal(6, rows.Length);  // 3 models × 2 contexts
        Assert.All(rows.Where(r => r[1].StartsWith("HoVLE", StringComparison.Ordinal)), r => Assert.Equal("1.00x", r[4]));
        Assert.All(rows, r => Assert.True(double.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture) > 0, string.Join('|', r)));
        // the teacher's state grows with the context, the linear student's does not
        var teacher = rows.Where(r => r[1].StartsWith("HoVLE", StringComparison.Ordinal)).Select(r => r[5]).ToArray();
        var linear = rows.Where(r => r[1] == "mmMamba-linear").Select(r => r[5]).ToArray();
        Assert.NotEqual(teacher[0], teacher[1]);
        Assert.Equal(linear[0], linear[1]);
    }

    [Fact]
    public void VisionBenchRejectsAnImageSmallerThanAPatch()
    {
        var run = Cli.Run("bench", "vision", "--tiny", "--image-size", "10", "--no-baseline");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains("--image-size", StringComparison.Ordinal));
    }

    [Fact]
    public void JsonListsTheSamplesOfAModelFolder()
    {
        var run = Cli.Ok([.. TinyArgs, "-m", tiny.Folder, "-o", "json", "-t", "1", "--dtype", "bf16"]);
        using var doc = JsonDocument.Parse(run.Out);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(["pp9", "tg4"], results.Select(r => r.GetProperty("test").GetString()));
        foreach (var r in results)
        {
            Assert.Equal("tiny", r.GetProperty("model").GetString());
            Assert.Equal("bf16", r.GetProperty("dtype").GetString());
            Assert.Equal(2, r.GetProperty("samples_ts").GetArrayLength());
            Assert.True(r.GetProperty("median_ts").GetDouble() > 0);
        }
    }

    [Fact]
    public void TargetsFollowTheStatedFormulas()
    {
        var model = BenchModel.Random("tiny", DType.BF16, seed: 1);
        var results = new[]
        {
            new BenchResult(model, 2, "pp100", 100, 0, [1000.0, 3000.0, 2000.0], "CPU"),   // median 2000 tok/s
            new BenchResult(model, 2, "tg10", 0, 10, [500.0], "CPU"),                     // 2 ms/token
        };
        var check = Assert.Single(BenchReport.Targets(results, [new MachineBaseline(2, BandwidthGBs: 10, GemmGflops: 50)]));
        Assert.Equal(2.0, check.DecodeMs, 9);
        Assert.Equal(1.25 * model.DecodeBytesPerToken / 10e9 * 1000, check.DecodeTargetMs, 12);
        Assert.Equal(model.PrefillMatmulFlops(100) / (100 / 2000.0) / 1e9, check.PrefillGflops, 9);
        Assert.Equal(35.0, check.PrefillTargetGflops, 9);
        // tied tiny model: every weight byte is read once per decoded token
        Assert.Equal(model.Bytes, model.DecodeBytesPerToken);
    }

    [Theory]
    [InlineData("--threads", "0")]
    [InlineData("--dtype", "int4")]
    [InlineData("--repetitions", "0")]
    [InlineData("--output", "xml")]
    public void BadValuesAreNamed(string flag, string value)
    {
        var run = Cli.Run("bench", "--preset", "tiny", "-p", "4", "-n", "2", "--no-baseline", flag, value);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Single(run.ErrorLines);
        Assert.Contains(flag, run.ErrorLines[0]);
    }
}
