// Each sampling stage against hand-worked numbers, the llama.cpp stage order, greedy, and seed reproducibility.
using MambaVL.Generation.Sampling;

namespace MambaVL.Generation.Tests;

public class SamplerTests
{
    private static float[] LogProbs(params double[] p) => p.Select(x => (float)Math.Log(x)).ToArray();

    private static int[] KeptIds(Candidates c) => c.Items.ToArray().Select(x => x.Id).ToArray();

    [Fact]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOncePerDistinctId()
    {
        float[] logits = [2f, -2f, 0.5f, 3f, 0f];
        Sampler.ApplyRepetitionPenalty(logits, [0, 1, 1, 4, 99], 2f);   // 1 repeated, 99 outside the vocabulary
        Assert.Equal([1f, -4f, 0.5f, 3f, 0f], logits);
    }

    [Fact]
    public void RepetitionPenaltyOfOneChangesNothing()
    {
        float[] logits = [2f, -2f];
        Sampler.ApplyRepetitionPenalty(logits, [0, 1], 1f);
        Assert.Equal([2f, -2f], logits);
    }

    [Theory]
    [InlineData(2, new[] { 4, 5 })]
    [InlineData(-1, new[] { 1, 2, 3, 4, 5 })]
    [InlineData(0, new int[0])]
    [InlineData(9, new[] { 1, 2, 3, 4, 5 })]
    public void RecentWindowTakesTheLastNIds(int lastN, int[] expected) =>
        Assert.Equal(expected, Sampler.RecentWindow([1, 2, 3, 4, 5], lastN).ToArray());

    [Fact]
    public void TopKKeepsTheKHighestInDescendingOrderWithTiesToTheLowerId()
    {
        var c = new Candidates();
        c.Reset([0.1f, 3f, 2f, 3f, -1f, 2.5f]);
        c.TopK(3);
        Assert.Equal([1, 3, 5], KeptIds(c));
        Assert.True(c.IsSorted);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    [InlineData(100)]
    public void TopKOffOrLargerThanTheVocabularyKeepsEverything(int k)
    {
        var c = new Candidates();
        c.Reset([0.1f, 3f, 2f, 3f, -1f, 2.5f]);
        c.TopK(k);
        Assert.Equal(6, c.Count);
    }

    [Theory]
    [InlineData(0.45f, 1)]   // 0.5 alone reaches it
    [InlineData(0.75f, 2)]   // 0.5 + 0.3
    [InlineData(0.85f, 3)]   // + 0.15
    [InlineData(0.99f, 4)]
    public void TopPKeepsTheShortestPrefixReachingP(float p, int kept)
    {
        var c = new Candidates();
        c.Reset(LogProbs(0.15, 0.5, 0.05, 0.3));
        c.TopP(p);
        Assert.Equal(new[] { 1, 3, 0, 2 }.Take(kept), KeptIds(c));
    }

    [Fact]
    public void TopPOfOneIsOff()
    {
        var c = new Candidates();
        c.Reset(LogProbs(0.15, 0.5, 0.05, 0.3));
        c.TopP(1f);
        Assert.Equal([0, 1, 2, 3], KeptIds(c));
    }

    [Theory]
    [InlineData(0.2f, new[] { 0, 1, 3 })]   // threshold 0.1: 0.05 goes (unsorted input keeps its order)
    [InlineData(0.5f, new[] { 1, 3 })]      // threshold 0.25
    [InlineData(0.9f, new[] { 1 })]
    [InlineData(0f, new[] { 0, 1, 2, 3 })]  // off
    public void MinPKeepsTokensAtLeastPTimesTheTopProbability(float p, int[] expected)
    {
        var c = new Candidates();
        c.Reset(LogProbs(0.15, 0.5, 0.05, 0.3));
        c.MinP(p);
        Assert.Equal(expected, KeptIds(c));
    }

    [Fact]
    public void TemperatureScalesLogitsBeforeTheSoftmax()
    {
        float[] logits = [1f, 2f, 0.5f];
        var c = new Candidates();
        c.Reset(logits);
        c.Temperature(0.5f);
        double[] expected = logits.Select(x => Math.Exp(x / 0.5)).ToArray();
        double sum = expected.Sum();
        var actual = c.Probabilities();
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i] / sum, actual[i], 12);
    }

    [Fact]
    public void DrawFollowsTheProbabilities()
    {
        var c = new Candidates();
        c.Reset(LogProbs(0.6, 0.3, 0.1));
        var random = new SeededRandom(7);
        var counts = new int[3];
        const int draws = 20000;
        for (int i = 0; i < draws; i++) counts[c.Draw(random)]++;
        // 20000 draws: the standard error of a frequency is at most 0.0035, so 0.02 is over 5 sigma.
        Assert.Equal(0.6, counts[0] / (double)draws, 0.02);
        Assert.Equal(0.3, counts[1] / (double)draws, 0.02);
        Assert.Equal(0.1, counts[2] / (double)draws, 0.02);
    }

    [Fact]
    public void GreedyIsTheArgmaxAfterThePenaltyWhateverTheSeed()
    {
        float[] logits = [1f, 4f, 3.5f, -2f];
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
        {
            var greedy = new Sampler(SamplingOptions.Greedy with { Seed = seed });
            Assert.Equal(1, greedy.Sample(logits, []));
            var penalised = new Sampler(SamplingOptions.Greedy with { Seed = seed, RepeatPenalty = 1.2f });
            Assert.Equal(2, penalised.Sample(logits, [1]));   // 4 / 1.2 = 3.33 < 3.5
        }
    }

    [Fact]
    public void TopPRunsBeforeTemperature()
    {
        // probabilities 0.7 / 0.2 / 0.1: top-p 0.6 keeps only the first on the raw logits. Were the very high temperature
        // applied first, the flattened distribution would keep all three and draw the others.
        var sampler = new Sampler(new SamplingOptions { Temperature = 100f, TopK = 0, TopP = 0.6f, MinP = 0f, Seed = 3 });
        float[] logits = LogProbs(0.7, 0.2, 0.1);
        for (int i = 0; i < 200; i++) Assert.Equal(0, sampler.Sample(logits, []));
    }

    [Fact]
    public void TopKRunsBeforeTopP()
    {
        // top-k 2 leaves 0.4 / 0.35 (renormalised 0.53 / 0.47); top-p 0.5 then keeps only the first.
        // Without top-k first, top-p 0.5 over 0.4 / 0.35 / 0.25 would keep two.
        var sampler = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 2, TopP = 0.5f, MinP = 0f, Seed = 5 });
        float[] logits = LogProbs(0.4, 0.35, 0.25);
        for (int i = 0; i < 200; i++) Assert.Equal(0, sampler.Sample(logits, []));
    }

    [Fact]
    public void TheSameSeedGivesTheSameTokensAndAnotherSeedDoesNot()
    {
        float[] flat = new float[100];   // uniform: every draw is up to the generator
        int[] Run(ulong seed)
        {
            var s = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = seed });
            return Enumerable.Range(0, 50).Select(_ => s.Sample(flat, [])).ToArray();
        }
        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
    }

    [Fact]
    public void AnUnseededSamplerReportsTheSeedItPickedAndThatSeedReproducesIt()
    {
        float[] flat = new float[100];
        var options = new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f };
        var first = new Sampler(options);
        var again = new Sampler(options with { Seed = first.Seed });
        for (int i = 0; i < 20; i++) Assert.Equal(first.Sample(flat, []), again.Sample(flat, []));
    }

    [Theory]
    [InlineData(0f, 0.05f, 1f)]
    [InlineData(1.5f, 0.05f, 1f)]
    [InlineData(0.9f, -0.1f, 1f)]
    [InlineData(0.9f, 0.05f, 0f)]
    public void BadValuesAreRejectedWithTheirName(float topP, float minP, float penalty)
    {
        var e = Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { TopP = topP, MinP = minP, RepeatPenalty = penalty }));
        Assert.Matches("top-p|min-p|repeat-penalty", e.Message);
    }
}
