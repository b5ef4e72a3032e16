// The C# Mamba-2 LM against the float64 sequential recurrence of tools/reference/mamba2/recurrence.py, on tiny random
// configs (ngroups 1/2, headdim != d_state, T=3 < conv width, T=11 not a multiple of the chunk, tied/untied, padded vocab).
namespace MambaVL.Models.Tests;

public class RecurrenceParityTests
{
    private const string Golden = "recurrence.safetensors";

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in Fixtures.Recurrence)
            foreach (var backend in Fixtures.Backends) data.Add(model, backend);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Logits_match_the_recurrence_for_every_position(string model, string backend)
    {
        var fx = Fixtures.Model(model);
        var lm = fx.Load(Fixtures.Backend(backend));
        foreach (int t in new[] { 3, 11 })
        {
            int[] ids = fx.GoldenIds(Golden, $"ids_T{t}");
            var logits = lm.Prefill(ids, lm.CreateState(), allLogits: true);
            Assert.Equal(new[] { t, fx.Config.PaddedVocab }, logits.ShapeArray);
            Fixtures.AssertClose(lm.Backend.ToHost(logits), fx.Golden(Golden, $"logits_T{t}"), $"{model} logits T={t}");
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void Block_outputs_and_final_states_match_the_recurrence(string model, string backend)
    {
        var fx = Fixtures.Model(model);
        var lm = fx.Load(Fixtures.Backend(backend));
        var cfg = fx.Config;
        int[] ids = fx.GoldenIds(Golden, "ids_T11");
        var state = (Mamba2.Mamba2State)lm.CreateState();
        var blocks = new float[cfg.NLayer][];
        lm.Prefill(ids, state, allLogits: false, (l, h) => blocks[l] = h);
        float[] hidden = fx.Golden(Golden, "hidden_T11"), conv = fx.Golden(Golden, "conv_state_T11"), ssm = fx.Golden(Golden, "ssm_state_T11");
        int hSize = ids.Length * cfg.DModel, convSize = cfg.ConvDim * (cfg.DConv - 1), ssmSize = cfg.NHeads * cfg.HeadDim * cfg.DState;
        for (int l = 0; l < cfg.NLayer; l++)
        {
            Fixtures.AssertClose(blocks[l], hidden.AsSpan(l * hSize, hSize), $"{model} block {l} output");
            Fixtures.AssertClose(lm.Backend.ToHost(state.ConvState(l)), conv.AsSpan(l * convSize, convSize), $"{model} layer {l} conv state");
            Fixtures.AssertClose(lm.Backend.ToHost(state.SsmState(l)), ssm.AsSpan(l * ssmSize, ssmSize), $"{model} layer {l} SSM state");
        }
        Assert.Equal(ids.Length, state.Position);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Last_token_prefill_equals_the_last_row_of_all_logits(string model, string backend)
    {
        var fx = Fixtures.Model(model);
        var lm = fx.Load(Fixtures.Backend(backend));
        int[] ids = fx.GoldenIds(Golden, "ids_T11");
        var last = lm.Prefill(ids, lm.CreateState());
        Assert.Equal(new[] { 1, fx.Config.PaddedVocab }, last.ShapeArray);
        int v = fx.Config.PaddedVocab;
        Fixtures.AssertClose(lm.Backend.ToHost(last), fx.Golden(Golden, "logits_T11").AsSpan((ids.Length - 1) * v, v), $"{model} last logits");
    }

    [Theory, MemberData(nameof(Cases))]
    public void Greedy_continuation_by_steps_matches_the_recurrence(string model, string backend)
    {
        var fx = Fixtures.Model(model);
        var lm = fx.Load(Fixtures.Backend(backend));
        int[] expected = fx.GoldenIds(Golden, "greedy_ids");
        var got = Fixtures.Greedy(lm, fx.GoldenIds(Golden, "ids_T11"), expected.Length);
        Assert.Equal(expected, got);
    }
}
