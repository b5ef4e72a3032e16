// `mambavl generate` against the engine run directly: greedy and seeded ids, prompt text through a tokenizer, stops.
using MambaVL.Cpu;
using MambaVL.Generation;
using MambaVL.Generation.Sampling;
using MambaVL.IO.Tokenizers;

namespace MambaVL.Cli.Tests;

public class GenerateCommandTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    private static int[] LastLineIds(CliRun run) => run.OutLines[^1].Split(' ').Select(int.Parse).ToArray();

    private static int[] EngineIds(string folder, int[] prompt, GenerationOptions options)
    {
        var (model, weights) = TinyModelFixture.LoadDirect(folder, new CpuBackend(1));
        using (weights) return new Generator(model).Generate(prompt, options).Ids;
    }

    [Fact]
    public void GreedyPrintIdsEqualsTheEnginesGreedyResult()
    {
        var run = Cli.Ok("generate", "--model", tiny.Folder, "--ids", "1,2,3", "--max-tokens", "12", "--temperature", "0", "--print-ids", "-t", "1");
        var expected = EngineIds(tiny.Folder, [1, 2, 3], new GenerationOptions { MaxTokens = 12, Sampling = SamplingOptions.Greedy });
        Assert.Equal(expected, LastLineIds(run));
        Assert.Equal(12, expected.Length);
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndMatchesTheEngine()
    {
        string[] args = ["generate", "-m", tiny.Folder, "--ids", "5 6", "-n", "10", "--temp", "1.3", "--top-k", "0", "--top-p", "0.9", "--min-p", "0.01",
            "--repeat-penalty", "1.2", "--repeat-last-n", "4", "-s", "1234", "--print-ids", "-t", "1"];
        var first = LastLineIds(Cli.Ok(args));
        Assert.Equal(first, LastLineIds(Cli.Ok(args)));
        var sampling = new SamplingOptions { Temperature = 1.3f, TopK = 0, TopP = 0.9f, MinP = 0.01f, RepeatPenalty = 1.2f, RepeatLastN = 4, Seed = 1234 };
        Assert.Equal(EngineIds(tiny.Folder, [5, 6], new GenerationOptions { MaxTokens = 10, Sampling = sampling }), first);
    }

    [Fact]
    public void APromptStreamsTheDecodedTextAndReportsTimingsSamplerAndSeed()
    {
        var run = Cli.Ok("generate", "-m", tiny.FolderWithTokenizer, "-p", "hello world", "-n", "8", "--temp", "0.7", "-s", "9", "--print-ids", "-t", "1");
        var tokenizer = HfTokenizer.FromFile(Path.Combine(tiny.FolderWithTokenizer, "tokenizer.json"));
        int[] ids = LastLineIds(run);
        string text = run.Out[..run.Out.LastIndexOf(run.OutLines[^1], StringComparison.Ordinal)].TrimEnd('\n');
        Assert.Equal(tokenizer.Decode(ids.Where(id => id != TinyModelFixture.EndOfText).ToArray(), skipSpecialTokens: true), text);
        Assert.Contains("seed: 9", run.Err);
        Assert.Contains("sampler: ", run.Err);
        Assert.Matches(@"load [\d.]+ s \| prefill 11 tok in [\d.]+ s \([\d.]+ tok/s\) \| decode \d+ tok", run.Err);
    }

    [Fact]
    public void TheConfigsEndOfSequenceIdStopsGenerationUnlessIgnored()
    {
        string[] args = ["generate", "--ids", "4,5", "-n", "10", "--temp", "0", "--print-ids", "-t", "1"];
        var free = LastLineIds(Cli.Ok([.. args, "-m", tiny.Folder]));
        int eos = free[3], firstAt = Array.IndexOf(free, eos);
        string folder = tiny.Temp.Sub("tiny-eos");
        foreach (var f in Directory.GetFiles(tiny.Folder)) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        config["eos_token_id"] = eos;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());

        var stopped = Cli.Ok([.. args, "-m", folder]);
        Assert.Equal(free[..(firstAt + 1)], LastLineIds(stopped));
        Assert.Contains($"end-of-sequence id {eos}", stopped.Err);
        Assert.Equal(free, LastLineIds(Cli.Ok([.. args, "-m", folder, "--ignore-eos"])));
    }

    [Fact]
    public void AStopStringEndsTheTextAndIsNotPrinted()
    {
        var free = Cli.Ok("generate", "-m", tiny.FolderWithTokenizer, "-p", "abc", "-n", "20", "--temp", "0", "--ignore-eos", "-t", "1");
        string text = free.Out.TrimEnd('\n');
        Assert.True(text.Length >= 6, $"generated text too short for the test: '{text}'");
        string stop = text.Substring(3, 2);   // a stop string that first occurs at or before position 3
        int cut = text.IndexOf(stop, StringComparison.Ordinal);
        var stopped = Cli.Ok("generate", "-m", tiny.FolderWithTokenizer, "-p", "abc", "-n", "20", "--temp", "0", "--ignore-eos", "--stop", stop, "-t", "1");
        Assert.Equal(text[..cut], stopped.Out.TrimEnd('\n'));
        Assert.Contains("stop string", stopped.Err);
    }

    [Fact]
    public async Task CancellationPrintsThePartialIdsAndTimingsAndExits130()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await MambaVlCli.RunAsync(["generate", "-m", tiny.Folder, "--ids", "1", "-n", "-1", "--ignore-eos", "--print-ids", "-t", "1"],
            stdout, stderr, cts.Token);
        Assert.Equal(MambaVlCli.Interrupted, code);
        Assert.Matches(@"^\d+( \d+)*\n$", stdout.ToString());
        Assert.Contains("finish: interrupted", stderr.ToString());
        Assert.Contains("decode ", stderr.ToString());
    }
}
