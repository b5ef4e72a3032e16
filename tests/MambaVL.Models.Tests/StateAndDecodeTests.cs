// Prefill and decode agree with each other: chunk-size independence, prefill-then-steps == one prefill, batched steps
// == separate steps, and the state's clone/save/load round trips with clear errors for a state that does not fit.
using MambaVL.Core.Models;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Mamba2;

namespace MambaVL.Models.Tests;

public class StateAndDecodeTests
{
    /// <summary>Odd sizes, two groups of three heads, headdim != d_state: a random model for sequences longer than the fixtures'.</summary>
    private static readonly Mamba2Config Odd = new()
    {
        DModel = 18, NLayer = 2, VocabSize = 33, PadVocabSizeMultiple = 8, DState = 7, HeadDim = 6, NGroups = 2, DConv = 4,
        ChunkSize = 256, TieEmbeddings = false,
    };

    private static int[] RandomIds(int n, int vocab, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(vocab)).ToArray();
    }

    [Fact]
    public void Prefill_result_does_not_depend_on_the_chunk_size()
    {
        var weights = new DictionaryWeightSource(Mamba2Random.CreateWeights(Odd, seed: 7, DType.F32));
        int[] ids = RandomIds(40, Odd.VocabSize, 1);
        var oracle = Mamba2LM.Load(Odd, weights, Fixtures.Backend("reference"));  // the sequential recurrence
        float[] expected = oracle.Backend.ToHost(oracle.Prefill(ids, oracle.CreateState(), allLogits: true));
        foreach (int chunk in new[] { 1, 3, 7, 16, 256 })
        {
            var lm = Mamba2LM.Load(Odd with { ChunkSize = chunk }, weights, Fixtures.Backend("cpu"));
            var state = (Mamba2State)lm.CreateState();
            Fixtures.AssertClose(lm.Backend.ToHost(lm.Prefill(ids, state, allLogits: true)), expected, $"chunk {chunk}");
        }
    }

    [Theory]
    [InlineData("g1_tied", "reference"), InlineData("g1_tied", "cpu"), InlineData("g2_extras", "reference"), InlineData("g2_extras", "cpu")]
    public void Prefill_then_steps_equals_one_prefill(string model, string backend)
    {
        var fx = Fixtures.Model(model);
        var lm = fx.Load(Fixtures.Backend(backend));
        int[] ids = fx.GoldenIds("recurrence.safetensors", "ids_T11");
        int v = lm.VocabSize, split = 5;
        var whole = (Mamba2State)lm.CreateState();
        float[] all = lm.Backend.ToHost(lm.Prefill(ids, whole, allLogits: true));

        var stepped = (Mamba2State)lm.CreateState();
        lm.Prefill(ids.AsSpan(0, split), stepped);
        for (int t = split; t < ids.Length; t++)
            Fixtures.AssertClose(lm.Backend.ToHost(lm.Step([ids[t]], stepped)), all.AsSpan(t * v, v), $"step at {t}");
        AssertSameState(lm, whole, stepped);

        var twoPrefills = (Mamba2State)lm.CreateState();
        lm.Prefill(ids.AsSpan(0, split), twoPrefills);
        float[] rest = lm.Backend.ToHost(lm.Prefill(ids.AsSpan(split), twoPrefills, allLogits: true));
        Fixtures.AssertClose(rest, all.AsSpan(split * v), "second prefill");
        AssertSameState(lm, whole, twoPrefills);
    }

    [Theory, InlineData("reference"), InlineData("cpu")]
    public void Batched_steps_equal_separate_steps(string backend)
    {
        var lm = Mamba2LM.Load(Odd, new DictionaryWeightSource(Mamba2Random.CreateWeights(Odd, 3)), Fixtures.Backend(backend));
        const int batch = 3, steps = 6;
        int[][] seqs = Enumerable.Range(0, batch).Select(b => RandomIds(steps, Odd.VocabSize, 10 + b)).ToArray();
        var batched = lm.CreateState(batch);
        var single = Enumerable.Range(0, batch).Select(_ => lm.CreateState()).ToArray();
        for (int t = 0; t < steps; t++)
        {
            float[] rows = lm.Backend.ToHost(lm.Step(seqs.Select(s => s[t]).ToArray(), batched));
            for (int b = 0; b < batch; b++)
                Fixtures.AssertClose(rows.AsSpan(b * lm.VocabSize, lm.VocabSize), lm.Backend.ToHost(lm.Step([seqs[b][t]], single[b])), $"seq {b} step {t}");
        }
        Assert.Equal(steps, batched.Position);
    }

    [Fact]
    public void Clone_and_save_load_continue_exactly_like_the_original()
    {
        var fx = Fixtures.Model("g2_untied");
        var lm = fx.Load(Fixtures.Backend("cpu"));
        var state = lm.CreateState();
        lm.Prefill([1, 2, 3, 4, 5, 6, 7], state);
        var clone = state.Clone();
        var saved = new MemoryStream();
        state.Save(saved);

        float[] original = lm.Backend.ToHost(lm.Step([9], state));
        Assert.Equal(original, lm.Backend.ToHost(lm.Step([9], clone)));
        Assert.Equal(8, clone.Position);

        var restored = lm.CreateState();
        saved.Position = 0;
        restored.Load(saved);
        Assert.Equal(7, restored.Position);
        Assert.Equal(original, lm.Backend.ToHost(lm.Step([9], restored)));

        lm.Step([11], clone);  // the clone owns its memory: stepping it leaves the original alone
        Assert.Equal(lm.Backend.ToHost(lm.Step([4], state.Clone())), lm.Backend.ToHost(lm.Step([4], state)));
        Assert.Equal(state.ByteSize, clone.ByteSize);
        var cfg = fx.Config;
        Assert.Equal((long)cfg.NLayer * (cfg.ConvDim * (cfg.DConv - 1) + cfg.NHeads * cfg.HeadDim * cfg.DState) * 4, state.ByteSize);
    }

    [Fact]
    public void Loading_a_state_of_another_shape_names_what_differs()
    {
        var small = Fixtures.Model("g1_tied").Load(Fixtures.Backend("reference"));
        var other = Fixtures.Model("g2_untied").Load(Fixtures.Backend("reference"));
        var saved = new MemoryStream();
        small.CreateState().Save(saved);

        saved.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => other.CreateState().Load(saved));
        Assert.Contains("does not fit", e.Message);
        Assert.Contains("layers 2 (this model: 3)", e.Message);

        saved.Position = 0;
        e = Assert.Throws<InvalidDataException>(() => small.CreateState(batchSize: 2).Load(saved));
        Assert.Contains("batch size 1 (this model: 2)", e.Message);

        var truncated = new MemoryStream(saved.ToArray()[..^10]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => small.CreateState().Load(truncated)).Message);
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => small.CreateState().Load(new MemoryStream(new byte[64]))).Message);
    }

    [Fact]
    public void Misused_states_are_refused()
    {
        var lm = Fixtures.Model("g1_tied").Load(Fixtures.Backend("reference"));
        var other = Fixtures.Model("g2_untied").Load(Fixtures.Backend("reference"));
        Assert.Throws<ArgumentException>(() => lm.Prefill([1, 2], lm.CreateState(batchSize: 2)));
        Assert.Throws<ArgumentException>(() => lm.Step([1, 2], lm.CreateState()));
        Assert.Throws<ArgumentException>(() => lm.Prefill([1], other.CreateState()));
        Assert.Throws<ArgumentException>(() => lm.Prefill([], lm.CreateState()));
        Assert.Throws<ArgumentOutOfRangeException>(() => lm.Prefill([lm.VocabSize], lm.CreateState()));
    }

    private static void AssertSameState(ILanguageModel lm, Mamba2State expected, Mamba2State actual)
    {
        Assert.Equal(expected.Position, actual.Position);
        for (int l = 0; l < ((Mamba2LM)lm).Config.NLayer; l++)
        {
            Fixtures.AssertClose(lm.Backend.ToHost(actual.ConvState(l)), lm.Backend.ToHost(expected.ConvState(l)), $"conv state {l}");
            Fixtures.AssertClose(lm.Backend.ToHost(actual.SsmState(l)), lm.Backend.ToHost(expected.SsmState(l)), $"SSM state {l}");
        }
    }
}
