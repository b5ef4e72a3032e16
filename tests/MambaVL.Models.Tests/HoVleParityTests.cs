// HoVLE (teacher), mmMamba-linear and mmMamba-hybrid end to end against the authors' own InternVLChatModel and
// Mamba2_Attention (tests/fixtures/hovle/{teacher,linear,hybrid}, made by tools/reference/hovle/make_model_goldens.py):
// the released folder layouts (2 fp32 shards with an index; bf16; kept attention layers in both weight forms), the
// image in the <IMG_CONTEXT> slots, the residual stream after every layer, all logits and 8 greedy tokens.
using MambaVL.Core.Config;
using MambaVL.Core.Models;
using MambaVL.Core.Tensors;
using MambaVL.IO;
using MambaVL.IO.Safetensors;
using MambaVL.Models.HoVle;

namespace MambaVL.Models.Tests;

public static class HoVleFixtures
{
    public static readonly string[] Variants = ["teacher", "linear", "hybrid"];

    public static string Folder(string variant) => VisionFixtures.Path("hovle", variant);

    /// <summary>The variant's folder loaded as released; bf16 weights are widened so the model computes with the file's values in fp32.</summary>
    public static HoVleModel Load(string variant, string backend = "cpu", DType kvCache = DType.F32)
    {
        var folder = ModelFolder.Open(Folder(variant));
        var cfg = HoVleConfig.FromJson(ConfigJson.Load(folder.ConfigPath!));
        return new HoVleModel(cfg, folder.OpenWeights(), Fixtures.Backend(backend), DType.F32, kvCache);
    }

    public static SafetensorsFile Goldens(string variant) => new(System.IO.Path.Combine(Folder(variant), "goldens.safetensors"));

    public static Dictionary<string, Tensor> Pixels(SafetensorsFile goldens) => new() { ["pixels"] = goldens.Get("pixels").ToDType(DType.F32) };

    public static int[] Ids(SafetensorsFile goldens, string name) => goldens.Get(name).ToFloatArray().Select(v => (int)v).ToArray();
}

public sealed class HoVleParityTests
{
    public static TheoryData<string> Variants => new(HoVleFixtures.Variants);

    [Theory, MemberData(nameof(Variants))]
    public void Every_layer_and_all_logits_match_the_authors_model(string variant)
    {
        using var gold = HoVleFixtures.Goldens(variant);
        var model = HoVleFixtures.Load(variant);
        var ids = HoVleFixtures.Ids(gold, "ids");
        var state = model.CreateState();
        string placeholder = model.PrefillImage(HoVleFixtures.Pixels(gold), state);
        Assert.Equal(18, placeholder.Split(HoVleModel.ImageContextToken).Length - 1);  // 2 tiles × 9
        int seen = 0, embeddingLayers = model.Config.Embedding.Layers;
        var logits = model.Prefill(ids, state, allLogits: true, (layer, hidden) =>
        {
            string name = layer < embeddingLayers ? $"emb_hidden{layer}" : $"llm_hidden{layer - embeddingLayers}";
            Fixtures.AssertClose(model.Backend.ToHost(hidden), gold.Get(name).ToFloatArray(), $"{variant} {name}");
            seen++;
        });
        Assert.Equal(embeddingLayers + model.Config.Llm.Layers, seen);
        Assert.Equal(new[] { ids.Length, 1203 }, logits.ShapeArray);
        Fixtures.AssertClose(model.Backend.ToHost(logits), gold.Get("logits").ToFloatArray(), $"{variant} logits");
        Assert.Null(((HoVleState)state).Image);  // every feature went into a slot
    }

    [Theory, MemberData(nameof(Variants))]
    public void Greedy_tokens_from_prefill_then_steps_match_the_authors_full_recompute(string variant)
    {
        using var gold = HoVleFixtures.Goldens(variant);
        var model = HoVleFixtures.Load(variant);
        var state = model.CreateState();
        model.PrefillImage(HoVleFixtures.Pixels(gold), state);
        var logits = model.Prefill(HoVleFixtures.Ids(gold, "ids"), state);
        var tokens = new List<int>();
        for (int i = 0; i < 8; i++)
        {
            tokens.Add(Fixtures.ArgMax(model.Backend.ToHost(logits)));
            logits = model.Step([tokens[^1]], state);
        }
        Assert.Equal(HoVleFixtures.Ids(gold, "greedy"), tokens);
    }

    [Theory, MemberData(nameof(Variants))]
    public void A_prompt_split_inside_the_image_continues_exactly(string variant)
    {
        using var gold = HoVleFixtures.Goldens(variant);
        var model = HoVleFixtures.Load(variant);
        var ids = HoVleFixtures.Ids(gold, "ids");
        int split = Array.IndexOf(ids, model.Config.ImageContextId) + 7;   // 7 features in the first part, 11 in the second
        var state = model.CreateState();
        model.PrefillImage(HoVleFixtures.Pixels(gold), state);
        model.Prefill(ids.AsSpan(0, split), state);
        Assert.Equal(11, ((HoVleState)state).Image!.Remaining);
        var last = model.Prefill(ids.AsSpan(split), state);
        var expected = gold.Get("logits").ToFloatArray().AsSpan((ids.Length - 1) * 1203, 1203);
        Fixtures.AssertClose(model.Backend.ToHost(last), expected, $"{variant} last logits after a split prefill");
        Assert.Equal(ids.Length, state.Position);
    }

    [Fact]
    public void Image_context_ids_without_an_image_are_refused_with_the_counts()
    {
        using var gold = HoVleFixtures.Goldens("linear");
        var model = HoVleFixtures.Load("linear");
        var e = Assert.Throws<ArgumentException>(() => model.Prefill(HoVleFixtures.Ids(gold, "ids"), model.CreateState()));
        Assert.Contains("18 <IMG_CONTEXT> tokens but 0 image features", e.Message);
        var unknown = Assert.Throws<ArgumentOutOfRangeException>(() => model.Prefill([1, 1203], model.CreateState()));
        Assert.Contains("token id 1203", unknown.Message);
    }

    [Fact]
    public void A_saved_state_with_a_pending_image_restores_and_continues_identically()
    {
        using var gold = HoVleFixtures.Goldens("hybrid");
        var model = HoVleFixtures.Load("hybrid");
        var ids = HoVleFixtures.Ids(gold, "ids");
        int split = Array.IndexOf(ids, model.Config.ImageContextId) + 5;
        var state = model.CreateState();
        model.PrefillImage(HoVleFixtures.Pixels(gold), state);
        model.Prefill(ids.AsSpan(0, split), state);
        var (clone, restored, saved) = Fixtures.CloneAndRestore(model, state);
        var expected = model.Backend.ToHost(model.Prefill(ids.AsSpan(split), state));
        Fixtures.AssertClose(model.Backend.ToHost(model.Prefill(ids.AsSpan(split), restored)), expected, "restored", 1e-6);
        Fixtures.AssertClose(model.Backend.ToHost(model.Prefill(ids.AsSpan(split), clone)), expected, "clone", 1e-6);
        var other = HoVleFixtures.Load("linear").CreateState();
        Assert.Throws<InvalidDataException>(() => other.Load(saved));
    }

    [Fact]
    public void Memory_per_token_counts_only_the_attention_layers()
    {
        long kvPerLayer = 2L * 2 * 16 * sizeof(float);                    // keys and values, 2 kv heads of 16, F32
        long mambaPerLayer = ((2 * 2 + 4) * 16 * 1 + 4 * 16 * 16) * 4L;  // conv (C × 1) + SSM (H × P × N)
        var teacher = HoVleFixtures.Load("teacher");
        Assert.Equal((7 * kvPerLayer, 0L), (teacher.StateBytesPerToken, teacher.FixedStateBytes));
        var linear = HoVleFixtures.Load("linear");
        Assert.Equal((0L, 7 * mambaPerLayer), (linear.StateBytesPerToken, linear.FixedStateBytes));
        var hybrid = HoVleFixtures.Load("hybrid");
        Assert.Equal((2 * kvPerLayer, 5 * mambaPerLayer), (hybrid.StateBytesPerToken, hybrid.FixedStateBytes));
        var state = hybrid.CreateState();
        using var gold = HoVleFixtures.Goldens("hybrid");
        hybrid.PrefillImage(HoVleFixtures.Pixels(gold), state);
        hybrid.Prefill(HoVleFixtures.Ids(gold, "ids"), state);
        Assert.Equal(hybrid.StateBytes(state.Position), state.ByteSize);
    }

    [Theory]
    [InlineData(HoVleVariant.Teacher)]
    [InlineData(HoVleVariant.Hybrid)]
    [InlineData(HoVleVariant.Linear)]
    public void A_primed_long_context_state_holds_what_the_model_says_and_steps_on(HoVleVariant variant)
    {
        var cfg = HoVleRandom.Tiny(variant);
        var model = new HoVleModel(cfg, new Core.Weights.DictionaryWeightSource(HoVleRandom.CreateWeights(cfg, 3, bothMixerForms: true)), Fixtures.Backend("cpu"));
        var state = model.CreateStateAtContext(700, headroom: 2);
        Assert.Equal(700, state.Position);
        Assert.Equal(model.StateBytes(700), state.ByteSize);
        var logits = model.Backend.ToHost(model.Step([5], state));
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(model.StateBytes(701), state.ByteSize);
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("hybrid")]
    public void The_unfused_key_form_gives_the_same_logits(string variant)
    {
        // Mamba2_Attention's own names before convert_weight.py fuses them: v_proj, k_proj, q_proj, g_proj, in_proj, g_norm
        var folder = ModelFolder.Open(HoVleFixtures.Folder(variant));
        using var source = folder.OpenWeights();
        var unfused = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in source.Names)
        {
            var t = source.Get(name);
            if (name.EndsWith(".wvkqgdt.weight", StringComparison.Ordinal))
            {
                string prefix = name[..^"wvkqgdt.weight".Length];
                int at = 0;
                foreach (var (part, rows) in new[] { ("v_proj", 32), ("k_proj", 32), ("q_proj", 64), ("g_proj", 64), ("in_proj", 4) })
                {
                    unfused[$"{prefix}{part}.weight"] = t.Narrow(0, at, rows).ContiguousCopy();
                    at += rows;
                }
            }
            else unfused[name.Replace("g_norm_swish_gate", "g_norm", StringComparison.Ordinal)] = t;
        }
        var cfg = HoVleConfig.FromJson(ConfigJson.Load(folder.ConfigPath!));
        var model = new HoVleModel(cfg, new Core.Weights.DictionaryWeightSource(unfused), Fixtures.Backend("cpu"), DType.F32);
        using var gold = HoVleFixtures.Goldens(variant);
        var state = model.CreateState();
        model.PrefillImage(HoVleFixtures.Pixels(gold), state);
        var logits = model.Prefill(HoVleFixtures.Ids(gold, "ids"), state, allLogits: true);
        Fixtures.AssertClose(model.Backend.ToHost(logits), gold.Get("logits").ToFloatArray(), $"{variant} logits from unfused keys");
    }

    [Fact]
    public void A_bf16_kv_cache_halves_the_memory_per_token_and_stays_close()
    {
        using var gold = HoVleFixtures.Goldens("teacher");
        var ids = HoVleFixtures.Ids(gold, "ids");
        float[] Run(HoVleModel model)
        {
            var state = model.CreateState();
            model.PrefillImage(HoVleFixtures.Pixels(gold), state);
            model.Prefill(ids.AsSpan(0, 100), state);
            var logits = model.Prefill(ids.AsSpan(100), state, allLogits: true);  // reads 100 cached rows
            Assert.Equal(model.StateBytes(ids.Length), state.ByteSize);
            return model.Backend.ToHost(logits);
        }
        var cpu = HoVleFixtures.Load("teacher", "cpu", DType.BF16);
        Assert.Equal(HoVleFixtures.Load("teacher").StateBytesPerToken / 2, cpu.StateBytesPerToken);
        var bf16 = Run(cpu);
        Fixtures.AssertClose(bf16, Run(HoVleFixtures.Load("teacher", "reference", DType.BF16)), "bf16 cache, CPU vs reference");
        // keys and values rounded to 8-bit mantissas (relative 2^-9 each): the logits move by about 1e-3 of their scale
        var expected = gold.Get("logits").ToFloatArray().AsSpan(100 * 1203);
        Fixtures.AssertClose(bf16, expected, "bf16 cache vs the authors' fp32", 2e-2);
        Assert.True(Fixtures.RelErr(bf16, expected) > 1e-7, "the cache really is bf16");
    }
}
