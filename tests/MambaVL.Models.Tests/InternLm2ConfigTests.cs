// InternLM2's config as HoVLE / mmMamba write it (llm_config with layers_block_type and dynamic NTK rope_scaling), and its
// rotary frequencies and rotation against InternLM2's own formulas run in torch (tools/reference/internlm2/).
using MambaVL.Core.Config;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.Safetensors;
using MambaVL.Models.InternLm2;

namespace MambaVL.Models.Tests;

public sealed class InternLm2ConfigTests
{
    private const string HybridLlmConfig = """
        {"architectures": "mmMambaForCausalLM", "model_type": "mmMamba", "hidden_size": 2048, "intermediate_size": 8192,
         "num_hidden_layers": 4, "num_attention_heads": 16, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
         "rope_theta": 1000000, "rope_scaling": {"type": "dynamic", "factor": 2.0}, "max_position_embeddings": 32768,
         "vocab_size": 92553, "bias": false, "layers_block_type": ["mha", "mamba2", "mamba2", "mamba2"]}
        """;

    [Fact]
    public void A_hybrid_llm_config_reads_heads_rope_and_layer_kinds()
    {
        var cfg = InternLm2Config.FromJson(ConfigJson.Parse(HybridLlmConfig, "llm_config"));
        Assert.Equal((2048, 16, 8, 128, 2), (cfg.HiddenSize, cfg.Heads, cfg.KvHeads, cfg.HeadDim, cfg.QueriesPerKvHead));
        Assert.Equal(new[] { LayerKind.Attention, LayerKind.Mamba2, LayerKind.Mamba2, LayerKind.Mamba2 }, cfg.LayerKinds);
        Assert.Equal((2.0, 32768, 1e6), (cfg.DynamicNtkFactor, cfg.MaxPositionEmbeddings, cfg.RopeTheta));
        Assert.Equal(1e-5f, cfg.RmsNormEps);
    }

    [Theory]
    [InlineData("\"layers_block_type\": [\"mha\", \"mamba2\", \"mamba2\", \"mamba2\"]", "\"layers_block_type\": [\"mha\", \"rwkv\", \"mamba2\", \"mamba2\"]", "unknown layer kind 'rwkv'")]
    [InlineData("\"layers_block_type\": [\"mha\", \"mamba2\", \"mamba2\", \"mamba2\"]", "\"layers_block_type\": [\"mha\"]", "1 entries for 4 layers")]
    [InlineData("\"type\": \"dynamic\"", "\"type\": \"yarn\"", "rope_scaling type 'yarn'")]
    [InlineData("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 6", "do not divide")]
    [InlineData("\"bias\": false", "\"bias\": true", "not supported")]
    public void Bad_configs_are_refused_by_name(string from, string to, string expected)
    {
        var e = Assert.Throws<ModelLoadException>(() => InternLm2Config.FromJson(ConfigJson.Parse(HybridLlmConfig.Replace(from, to), "llm_config")));
        Assert.Contains(expected, e.Message);
        Assert.Contains("llm_config", e.Message);
    }

    [Theory]
    [InlineData("plain", 128, 1e6, 0, 32768, 40, 3)]
    [InlineData("ntk_short", 128, 1e6, 2.0, 32768, 1000, 990)]
    [InlineData("ntk_long", 128, 1e6, 2.0, 32768, 103_000, 102_995)]
    [InlineData("small", 16, 10000.0, 2.0, 8, 20, 17)]
    public void Rotary_frequencies_and_rotation_match_internlm2(string name, int dim, double theta, double factor, int maxPos, int seqLen, int start)
    {
        var cfg = new InternLm2Config
        {
            HiddenSize = dim * 3, IntermediateSize = 8, Layers = 1, Heads = 3, KvHeads = 1, VocabSize = 10, RopeTheta = theta,
            DynamicNtkFactor = factor > 0 ? factor : null, MaxPositionEmbeddings = maxPos,
        };
        using var f = new SafetensorsFile(System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "internlm2", "rope.safetensors"));
        var inv = cfg.InverseFrequencies(seqLen);
        Fixtures.AssertClose(inv, f.Get($"inv_freq.{name}").ToFloatArray(), $"inv_freq {name}", 1e-6);
        var q = f.Get($"q.{name}");
        foreach (var backend in Fixtures.Backends)
        {
            var rotated = Fixtures.Backend(backend).Rope(Tensor.FromArray(q.ToFloatArray(), q.ShapeArray), Tensor.FromArray(inv, inv.Length), start);
            Fixtures.AssertClose(rotated.ToFloatArray(), f.Get($"rot.{name}").ToFloatArray(), $"rotation {name} on {backend}");
        }
    }
}

/// <summary>The teacher's LLM against HoVLE's own modeling_internlm2.py (tools/reference/internlm2/make_lm_goldens.py).</summary>
public sealed class InternLm2ParityTests
{
    private static string Dir(params string[] parts) => System.IO.Path.Combine([AppContext.BaseDirectory, "fixtures", "internlm2", "lm", .. parts]);

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var backend in Fixtures.Backends) { data.Add(backend, 10); data.Add(backend, 20); }
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Logits_match_hovles_internlm2(string backend, int tokens)
    {
        // 20 tokens run past max_position_embeddings (16): dynamic NTK raises the RoPE base, as in the reference
        var cfg = InternLm2Config.FromJson(ConfigJson.Load(Dir("config.json")));
        using var weights = new SafetensorsFile(Dir("model.safetensors"));
        using var golden = new SafetensorsFile(Dir("logits.safetensors"));
        var model = new InternLm2LM(cfg, new WeightScope(weights), Fixtures.Backend(backend));
        var ids = golden.Get($"ids{tokens}").ToFloatArray().Select(v => (int)v).ToArray();
        var logits = model.Prefill(ids, model.CreateState(), allLogits: true);
        Fixtures.AssertClose(logits.ToFloatArray(), golden.Get($"logits{tokens}").ToFloatArray(), $"InternLM2 logits ({tokens} tokens, {backend})");
    }
}
