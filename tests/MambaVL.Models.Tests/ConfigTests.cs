// config.json parsing in both layouts (real state-spaces and HF texts, Infinity quirks), derived sizes and parameter
// counts against the published checkpoints, clear refusals, the HF-layout writer, and the model registry.
using MambaVL.Core.Config;
using MambaVL.Models.Mamba2;

namespace MambaVL.Models.Tests;

public class ConfigTests
{
    // state-spaces/mamba2-130m/config.json and mamba2-2.7b's, as published
    private const string StateSpaces130m = """
        {"d_model": 768, "d_intermediate": 0, "n_layer": 24, "vocab_size": 50277, "ssm_cfg": {"layer": "Mamba2"},
         "attn_layer_idx": [], "attn_cfg": {}, "rms_norm": true, "residual_in_fp32": true, "fused_add_norm": true,
         "pad_vocab_size_multiple": 16, "tie_embeddings": true}
        """;
    private const string StateSpaces2_7b = """
        {"d_model": 2560, "d_intermediate": 0, "n_layer": 64, "vocab_size": 50277, "ssm_cfg": {"layer": "Mamba2"},
         "attn_layer_idx": [], "attn_cfg": {}, "rms_norm": true, "residual_in_fp32": true, "fused_add_norm": true,
         "pad_vocab_size_multiple": 16, "tie_embeddings": true}
        """;
    // an HF mamba2-130m config as transformers 5 writes it (time_step_limit with the {"__float__": ...} wrapper)
    private const string Hf130m = """
        {"architectures": ["Mamba2ForCausalLM"], "bos_token_id": 0, "chunk_size": 256, "conv_kernel": 4, "eos_token_id": 0,
         "expand": 2, "head_dim": 64, "hidden_act": "silu", "hidden_size": 768, "initializer_range": 0.1,
         "layer_norm_epsilon": 1e-05, "model_type": "mamba2", "n_groups": 1, "num_heads": 24, "num_hidden_layers": 24,
         "pad_token_id": 0, "rescale_prenorm_residual": false, "residual_in_fp32": true, "rms_norm": true, "state_size": 128,
         "tie_word_embeddings": true, "time_step_floor": 0.0001, "time_step_limit": [0.0, {"__float__": "Infinity"}],
         "time_step_max": 0.1, "time_step_min": 0.001, "time_step_rank": 48, "transformers_version": "5.17.0",
         "use_bias": false, "use_cache": true, "use_conv_bias": true, "vocab_size": 50288}
        """;

    private static Mamba2Config Parse(string json) => Mamba2Config.FromJson(ConfigJson.Parse(json, "config.json"));

    [Fact]
    public void State_spaces_130m_has_the_published_shapes_and_parameter_count()
    {
        var c = Parse(StateSpaces130m);
        Assert.Equal((768, 24, 128, 4, 64, 1, 256), (c.DModel, c.NLayer, c.DState, c.DConv, c.HeadDim, c.NGroups, c.ChunkSize));
        Assert.Equal((1536, 24, 1792, 3352, 50288), (c.DInner, c.NHeads, c.ConvDim, c.InProjDim, c.PaddedVocab));
        Assert.Equal((0f, float.PositiveInfinity, 1e-5f), (c.DtMin, c.DtMax, c.NormEps));
        Assert.True(c.TieEmbeddings && c.ConvBias && !c.ProjBias && !c.DHasHdim);
        Assert.Equal(128_989_632, c.ParameterCount);
    }

    [Fact]
    public void State_spaces_2_7b_has_the_published_shapes_and_parameter_count()
    {
        var c = Parse(StateSpaces2_7b);
        Assert.Equal((5120, 80, 5376, 10576), (c.DInner, c.NHeads, c.ConvDim, c.InProjDim));
        Assert.Equal(2_702_599_680, c.ParameterCount);
        var preset = Mamba2Config.Mamba2_2_7b();   // the GPU benchmark's random-weight shape
        Assert.Equal((c.DModel, c.NLayer, c.InProjDim, c.DState, c.HeadDim, c.PaddedVocab, c.TieEmbeddings, c.ParameterCount),
            (preset.DModel, preset.NLayer, preset.InProjDim, preset.DState, preset.HeadDim, preset.PaddedVocab, preset.TieEmbeddings, preset.ParameterCount));
    }

    [Fact]
    public void Hf_130m_with_the_float_wrapper_equals_the_state_spaces_config_and_the_preset()
    {
        var hf = Parse(Hf130m);
        var ss = Parse(StateSpaces130m);
        Assert.Equal(float.PositiveInfinity, hf.DtMax);
        Assert.Equal(ss.PaddedVocab, hf.PaddedVocab);
        Assert.Equal(ss.ParameterCount, hf.ParameterCount);
        Assert.Equal(hf, Mamba2Config.Mamba2_130m());
        Assert.Equal(0, hf.EosTokenId);
        // Python's json.dump writes a bare Infinity
        Assert.Equal(float.PositiveInfinity, Parse(Hf130m.Replace("""{"__float__": "Infinity"}""", "Infinity")).DtMax);
    }

    [Fact]
    public void Hf_defaults_are_transformers_defaults()
    {
        var c = Parse("""{"model_type": "mamba2", "hidden_size": 256, "num_hidden_layers": 2, "num_heads": 8, "vocab_size": 100}""");
        Assert.Equal((8, 128, 64, false), (c.NGroups, c.DState, c.HeadDim, c.TieEmbeddings));
    }

    [Fact]
    public void Hf_layout_round_trips_through_ToJson()
    {
        var original = Parse("""
            {"d_model": 12, "n_layer": 2, "vocab_size": 29, "pad_vocab_size_multiple": 8,
             "ssm_cfg": {"layer": "Mamba2", "d_state": 5, "d_conv": 3, "headdim": 4, "ngroups": 2, "chunk_size": 4,
                         "D_has_hdim": true, "conv_bias": false, "bias": true, "dt_limit": [0.005, 0.2]},
             "tie_embeddings": false}
            """);
        var back = Parse(original.ToJson());
        Assert.Equal(original with { VocabSize = original.PaddedVocab, PadVocabSizeMultiple = 1 }, back);
        var preset = Mamba2Config.Mamba2_130m();
        Assert.Equal(preset, Parse(preset.ToJson()));
        Assert.Contains("\"__float__\": \"Infinity\"", preset.ToJson());
    }

    [Theory]
    [InlineData("""{"d_model": 64, "n_layer": 2, "ssm_cfg": {}}""", "Mamba1")]
    [InlineData("""{"d_model": 64, "n_layer": 2, "ssm_cfg": {"layer": "Mamba1"}}""", "Mamba1")]
    [InlineData("""{"d_model": 64, "ssm_cfg": {"layer": "Mamba2"}, "attn_layer_idx": [3, 7]}""", "attn_layer_idx [3, 7]")]
    [InlineData("""{"d_model": 64, "ssm_cfg": {"layer": "Mamba2"}, "d_intermediate": 128}""", "d_intermediate 128")]
    [InlineData("""{"d_model": 64, "ssm_cfg": {"layer": "Mamba2", "norm_before_gate": true}}""", "norm_before_gate")]
    [InlineData("""{"d_model": 64, "ssm_cfg": {"layer": "Mamba2", "rmsnorm": false}}""", "rmsnorm=false")]
    [InlineData("""{"d_model": 64, "ssm_cfg": {"layer": "Mamba2", "d_ssm": 64}}""", "d_ssm")]
    [InlineData("""{"d_model": 64, "rms_norm": false, "ssm_cfg": {"layer": "Mamba2"}}""", "rms_norm=false")]
    [InlineData("""{"model_type": "mamba2", "hidden_size": 64, "num_hidden_layers": 2, "num_heads": 3, "vocab_size": 9}""", "num_heads 3 x head_dim 64")]
    public void Unsupported_settings_are_refused_by_name(string json, string expected)
    {
        var e = Assert.Throws<NotSupportedException>(() => Parse(json));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("config.json", e.Message);
    }

    [Theory]
    [InlineData("""{"model_type": "mamba2", "num_hidden_layers": 2, "num_heads": 2, "vocab_size": 9}""", "missing 'hidden_size'")]
    [InlineData("""{"d_model": 64, "ssm_cfg": {"layer": "Mamba2", "headdim": 48}}""", "not a multiple of headdim 48")]
    [InlineData("""{"d_model": 64, "ssm_cfg": {"layer": "Mamba2", "headdim": 16, "ngroups": 3}}""", "8 heads do not split into 3 groups")]
    public void Inconsistent_sizes_are_reported(string json, string expected)
    {
        Assert.Contains(expected, Assert.Throws<FormatException>(() => Parse(json)).Message);
    }

    [Fact]
    public void Registry_describes_loads_and_refuses_unknown_types()
    {
        Assert.Equal("Mamba-2: 24 layers, d_model 768, d_inner 1536, 24 heads x 64, d_state 128, 1 group, conv 4, vocab 50277 (padded 50288), tied head, 129.0M parameters",
            ModelRegistry.Describe(ConfigJson.Parse(StateSpaces130m, "config.json")));
        var e = Assert.Throws<NotSupportedException>(() => ModelRegistry.Describe(ConfigJson.Parse("""{"model_type": "llama"}""", "x/config.json")));
        Assert.Contains("x/config.json: unsupported model_type 'llama'", e.Message);
        Assert.Contains("mamba2", e.Message);
        Assert.Contains("Mamba-1", Assert.Throws<NotSupportedException>(() => ModelRegistry.Describe(ConfigJson.Parse("""{"model_type": "mamba"}""", "c"))).Message);
        Assert.Throws<NotSupportedException>(() => ModelRegistry.Describe(ConfigJson.Parse("""{"vocab_size": 3}""", "c")));

        var fx = Fixtures.Model("g2_extras");
        var cfg = ConfigJson.Load(Path.Combine(fx.Folder, "config.json"));
        var lm = ModelRegistry.Load(cfg, fx.Weights, Fixtures.Backend("reference"));
        Assert.Equal(29, lm.VocabSize);
        Assert.IsType<Mamba2LM>(lm);
    }
}
