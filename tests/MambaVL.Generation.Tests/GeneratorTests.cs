// The generation loop on mock models: greedy against an independent argmax loop, max tokens, stop ids and strings,
// streaming text, cancellation, seeds, vocabulary limits, the penalty's history, and how the model is called.
using System.Text;
using MambaVL.Generation.Sampling;

namespace MambaVL.Generation.Tests;

public class GeneratorTests
{
    private static GenerationOptions Greedy(int maxTokens) => new() { MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy };

    [Fact]
    public void GreedyMatchesAnIndependentArgmaxLoop()
    {
        const int vocab = 37;
        var model = MockModel.Hashed(vocab);
        int[] prompt = [3, 1, 4];
        var result = new Generator(model).Generate(prompt, Greedy(12));

        var reference = MockModel.Hashed(vocab);   // same function, fresh call log
        var history = new List<int>(prompt);
        var state = reference.CreateState();
        var logits = reference.Prefill(prompt, state).ToFloatArray();
        var expected = new List<int>();
        for (int i = 0; i < 12; i++)
        {
            int best = Array.IndexOf(logits, logits.Max());
            expected.Add(best);
            if (i < 11) logits = reference.Step([best], state).ToFloatArray();
        }
        Assert.Equal(expected, result.Ids);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public void ThePromptIsPrefilledOnceAndEachNewIdButTheLastIsStepped()
    {
        var model = MockModel.Hashed(50);
        var result = new Generator(model).Generate([7, 8], Greedy(5));
        Assert.Equal([[7, 8]], model.PrefillCalls);
        Assert.Equal(result.Ids[..4], model.StepCalls);
        Assert.Equal(2, result.Timings.PromptTokens);
        Assert.Equal(4, result.Timings.DecodeSteps);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(9)]
    public void MaxTokensBoundsTheOutput(int maxTokens)
    {
        var result = new Generator(MockModel.Hashed(20)).Generate([1], Greedy(maxTokens));
        Assert.Equal(maxTokens, result.Ids.Length);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public void AStopIdEndsTheRunIsKeptInTheIdsAndGivesNoText()
    {
        var tokenizer = new ByteTokenizer();
        var model = MockModel.Scripted(256, 1, 'h', 'i', ByteTokenizer.Eos, 'x');
        var options = Greedy(10) with { StopIds = [ByteTokenizer.Eos], SkipSpecialTokens = false };
        var result = new Generator(model, tokenizer).Generate([0], options);
        Assert.Equal(['h', 'i', ByteTokenizer.Eos], result.Ids);
        Assert.Equal("hi", result.Text);
        Assert.Equal(FinishReason.StopId, result.FinishReason);
    }

    [Fact]
    public void AStopStringAcrossTokensEndsTheRunAndIsNeverStreamed()
    {
        var tokenizer = ByteTokenizer.WithWords(out var w, "Hel", "lo ST", "OP rest", "more");
        var model = MockModel.Scripted(tokenizer.VocabSize, 1, w[0], w[1], w[2], w[3]);
        var pieces = new List<string>();
        var result = new Generator(model, tokenizer).Generate([0], Greedy(10) with { StopStrings = ["STOP"] },
            chunk => pieces.Add(chunk.Text));
        Assert.Equal("Hello ", result.Text);
        Assert.Equal(["Hel", "lo ", ""], pieces);
        Assert.Equal(FinishReason.StopString, result.FinishReason);
        Assert.Equal("STOP", result.StopString);
        Assert.Equal(w[..3], result.Ids);
    }

    [Fact]
    public void TextHeldBackForAPossibleStopIsReleasedAtTheEnd()
    {
        var tokenizer = ByteTokenizer.WithWords(out var w, "go ", "ST");
        var model = MockModel.Scripted(tokenizer.VocabSize, 1, w[0], w[1]);
        var pieces = new List<string>();
        var result = new Generator(model, tokenizer).Generate([0], Greedy(2) with { StopStrings = ["STOP"] }, c => pieces.Add(c.Text));
        Assert.Equal(["go ", "ST"], pieces);   // the last chunk carries the released "ST"
        Assert.Equal("go ST", result.Text);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public void StreamedTextIsUtf8SafeAndAddsUpToTheResult()
    {
        byte[] emoji = Encoding.UTF8.GetBytes("🎉");
        var tokenizer = new ByteTokenizer("ok "u8.ToArray(), emoji[..1], emoji[1..3], emoji[3..], " é"u8.ToArray()[..2], " é"u8.ToArray()[2..]);
        var model = MockModel.Scripted(tokenizer.VocabSize, 1, 256, 257, 258, 259, 260, 261);
        var pieces = new List<string>();
        var result = new Generator(model, tokenizer).Generate([0], Greedy(6), c => pieces.Add(c.Text));
        Assert.Equal("ok 🎉 é", result.Text);
        Assert.Equal(result.Text, string.Concat(pieces));
        Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
        Assert.Equal(["ok ", "", "", "🎉", "", " é"], pieces);   // " " waits with the half of "é" it was decoded with
    }

    [Fact]
    public void CancellationEndsTheRunAndKeepsWhatWasGenerated()
    {
        using var cts = new CancellationTokenSource();
        int seen = 0;
        var result = new Generator(MockModel.Hashed(30)).Generate([1], Greedy(100), _ => { if (++seen == 3) cts.Cancel(); }, cts.Token);
        Assert.Equal(FinishReason.Cancelled, result.FinishReason);
        Assert.Equal(3, result.Ids.Length);
    }

    [Fact]
    public async Task StreamAsyncYieldsTheSameTokensAsGenerate()
    {
        var options = new GenerationOptions { MaxTokens = 15, Sampling = new SamplingOptions { Temperature = 0.9f, Seed = 11 } };
        var expected = new Generator(MockModel.Hashed(64)).Generate([2, 3], options).Ids;
        var session = new Generator(MockModel.Hashed(64)).Start([2, 3], options);
        var ids = new List<int>();
        await foreach (var chunk in session.StreamAsync()) ids.Add(chunk.TokenId!.Value);
        Assert.Equal(expected, ids);
        Assert.Equal(expected, session.Result.Ids);
        Assert.Equal(11UL, session.Result.Seed);
    }

    [Fact]
    public void SeedsMakeSampledRunsReproducible()
    {
        int[] Run(ulong seed) => new Generator(MockModel.Hashed(64)).Generate([5],
            new GenerationOptions { MaxTokens = 30, Sampling = new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1f, MinP = 0f, Seed = seed } }).Ids;
        Assert.Equal(Run(1), Run(1));
        Assert.NotEqual(Run(1), Run(2));
    }

    [Fact]
    public void IdsAtOrAboveTheVocabularyLimitAreNeverSampled()
    {
        var model = new MockModel(10, _ => [0, 1, 2, 3, 4, 5, 6, 7, 8, 100]);   // the padded row 9 would win
        var result = new Generator(model).Generate([0], Greedy(3) with { SampleVocabLimit = 9 });
        Assert.Equal([8, 8, 8], result.Ids);
    }

    [Fact]
    public void TheRepetitionPenaltySeesThePromptAndTheGeneratedIds()
    {
        var model = new MockModel(4, _ => [0f, 3f, 2.9f, 2.8f]);
        var options = Greedy(3) with { Sampling = SamplingOptions.Greedy with { RepeatPenalty = 1.1f, RepeatLastN = 64 } };
        // 1 is in the prompt (3/1.1 = 2.73 < 2.9) → 2; then 2.73, 2.64, 2.8 → 3; then all penalised: 2.73, 2.64, 2.55 → 1.
        Assert.Equal([2, 3, 1], new Generator(model).Generate([1], options).Ids);
    }

    [Theory]
    [InlineData(new int[0], "empty")]
    [InlineData(new[] { 1, 99 }, "99")]
    [InlineData(new[] { -1 }, "-1")]
    public void BadPromptsAreRejectedWithAClearMessage(int[] prompt, string mentioned)
    {
        var e = Assert.Throws<ArgumentException>(() => new Generator(MockModel.Hashed(20)).Generate(prompt, Greedy(1)));
        Assert.Contains(mentioned, e.Message);
    }

    [Fact]
    public void TimingsCountThePromptAndTheDecodeSteps()
    {
        var result = new Generator(MockModel.Hashed(20)).Generate([1, 2, 3, 4], Greedy(6));
        Assert.Equal(4, result.Timings.PromptTokens);
        Assert.Equal(5, result.Timings.DecodeSteps);
        Assert.True(result.Timings.PrefillSeconds > 0 && result.Timings.DecodeSeconds > 0);
        Assert.Contains("prefill 4 tok", result.Timings.ToString());
    }
}
