// The Mamba-2 language model's shape and options, read from either config.json layout (state-spaces or HF transformers)
// with each layout's own defaults, and written back in the HF layout. Unsupported options are refused here, by name.
using System.Text;
using System.Text.Json;
using MambaVL.Core.Config;

namespace MambaVL.Models.Mamba2;

/// <summary>
/// Everything that fixes the Mamba-2 LM's tensors and math. Mirrors mamba_ssm's Mamba2 mixer + MixerModel + MambaLMHeadModel
/// (norm_before_gate=False, rmsnorm=True, no attention or MLP layers).
/// </summary>
public sealed record Mamba2Config
{
    public required int DModel { get; init; }
    public required int NLayer { get; init; }
    /// <summary>The tokenizer's vocabulary as written in the config (before padding).</summary>
    public required int VocabSize { get; init; }
    /// <summary>The embedding and logits are padded up to a multiple of this (state-spaces: pad_vocab_size_multiple).</summary>
    public int PadVocabSizeMultiple { get; init; } = 1;
    public int DState { get; init; } = 128;
    public int DConv { get; init; } = 4;
    public int Expand { get; init; } = 2;
    public int HeadDim { get; init; } = 64;
    public int NGroups { get; init; } = 1;
    public int ChunkSize { get; init; } = 256;
    /// <summary>D is (d_inner) = one value per channel instead of one per head.</summary>
    public bool DHasHdim { get; init; }
    public float DtMin { get; init; }
    public float DtMax { get; init; } = float.PositiveInfinity;
    /// <summary>Epsilon of every RMSNorm: the block norms, norm_f and the gated norm (mamba_ssm hard-codes 1e-5 for all).</summary>
    public float NormEps { get; init; } = 1e-5f;
    /// <summary>Kept for round trips; the residual stream here is always F32, which is what true asks for.</summary>
    public bool ResidualInFp32 { get; init; } = true;
    public bool TieEmbeddings { get; init; } = true;
    public bool ConvBias { get; init; } = true;
    /// <summary>in_proj and out_proj carry biases (mamba_ssm bias=True, HF use_bias).</summary>
    public bool ProjBias { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }
    public int? PadTokenId { get; init; }

    // ---- derived sizes ----

    public int DInner => Expand * DModel;
    public int NHeads => DInner / HeadDim;
    /// <summary>Channels through the causal conv: x, B and C (z and dt skip it).</summary>
    public int ConvDim => DInner + 2 * NGroups * DState;
    /// <summary>in_proj output width, in the order [z, x, B, C, dt].</summary>
    public int InProjDim => 2 * DInner + 2 * NGroups * DState + NHeads;
    public int PaddedVocab => PadVocabSizeMultiple <= 1 ? VocabSize
        : (VocabSize + PadVocabSizeMultiple - 1) / PadVocabSizeMultiple * PadVocabSizeMultiple;
    /// <summary>The gated RMSNorm normalises groups of this many channels (mamba_ssm: d_ssm / ngroups).</summary>
    public int GateGroupSize => DInner / NGroups;

    /// <summary>mamba2-130m's shape (state-spaces/mamba2-130m): 24 layers, d_model 768, vocab 50277 padded to 50288, tied head.</summary>
    public static Mamba2Config Mamba2_130m() => new()
    {
        DModel = 768, NLayer = 24, VocabSize = 50288, DState = 128, HeadDim = 64, Expand = 2, NGroups = 1, DConv = 4,
        ChunkSize = 256, TieEmbeddings = true, BosTokenId = 0, EosTokenId = 0, PadTokenId = 0,
    };

    /// <summary>The shape of state-spaces/mamba2-2.7b (64 layers of width 2560, 80 heads of 64, state 128).</summary>
    public static Mamba2Config Mamba2_2_7b() => Mamba2_130m() with { DModel = 2560, NLayer = 64 };

    /// <summary>Number of parameters the checkpoint holds (the padded embedding counted once when tied).</summary>
    public long ParameterCount
    {
        get
        {
            long perLayer = (long)InProjDim * DModel + (long)ConvDim * DConv + (ConvBias ? ConvDim : 0)
                + 2L * NHeads + (DHasHdim ? DInner : NHeads) + DInner + (long)DModel * DInner + DModel
                + (ProjBias ? InProjDim + DModel : 0);
            long embedding = (long)PaddedVocab * DModel;
            return embedding + NLayer * perLayer + DModel + (TieEmbeddings ? 0 : embedding);
        }
    }

    /// <summary>Throws <see cref="FormatException"/> naming <paramref name="source"/> if the sizes do not fit together.</summary>
    public void Validate(string source = "Mamba2Config")
    {
        void Require(bool ok, string what) { if (!ok) throw new FormatException($"{source}: {what}"); }
        Require(DModel > 0 && NLayer > 0 && VocabSize > 0, $"d_model ({DModel}), n_layer ({NLayer}) and vocab_size ({VocabSize}) must be positive");
        Require(DState > 0 && DConv > 0 && Expand > 0 && HeadDim > 0 && NGroups > 0 && ChunkSize > 0,
            "d_state, d_conv, expand, headdim, ngroups and chunk_size must be positive");
        Require(DInner % HeadDim == 0, $"d_inner {DInner} (expand {Expand} x d_model {DModel}) is not a multiple of headdim {HeadDim}");
        Require(NHeads % NGroups == 0, $"{NHeads} heads do not split into {NGroups} groups");
        Require(DtMin >= 0 && DtMax >= DtMin, $"dt_limit ({DtMin}, {DtMax}) is not a valid range");
        Require(NormEps > 0, $"norm epsilon {NormEps} must be positive");
    }

    // ---- reading ----

    /// <summary>Reads either layout: HF transformers (model_type "mamba2") or state-spaces (d_model, n_layer, ssm_cfg).</summary>
    public static Mamba2Config FromJson(ConfigJson cfg)
    {
        string? modelType = cfg.String("model_type");
        Mamba2Config result;
        if (modelType == "mamba2" || (modelType == null && cfg.Has("hidden_size") && !cfg.Has("d_model"))) result = FromHf(cfg);
        else if (modelType == null && (cfg.Has("d_model") || cfg.Has("ssm_cfg"))) result = FromStateSpaces(cfg);
        else throw new FormatException($"{cfg.Source}: not a Mamba-2 config (model_type is '{modelType ?? "absent"}')");
        result.Validate(cfg.Source);
        return result;
    }

    private static Mamba2Config FromStateSpaces(ConfigJson cfg)
    {
        // Defaults: mamba_ssm/models/config_mamba.py (MambaConfig) and mamba_ssm/modules/mamba2.py (Mamba2.__init__).
        var ssm = cfg.Object("ssm_cfg");
        string layer = ssm?.String("layer") ?? "Mamba1";  // MixerModel's create_block defaults to Mamba1
        if (layer != "Mamba2") Refuse(cfg, $"ssm_cfg.layer is '{layer}'; only Mamba2 layers are supported (Mamba-1 is not)");
        if (cfg.IntArray("attn_layer_idx") is { Length: > 0 } attn)
            Refuse(cfg, $"attention layers (attn_layer_idx [{string.Join(", ", attn)}]) are not supported");
        if (cfg.Int("d_intermediate") is > 0 and var mlp) Refuse(cfg, $"MLP layers (d_intermediate {mlp}) are not supported");
        if (cfg.Bool("rms_norm") == false) Refuse(cfg, "rms_norm=false (LayerNorm blocks) is not supported");
        ssm ??= ConfigJson.Parse("{}", cfg.Source);
        RefuseMixerOptions(ssm);
        int dModel = cfg.Int("d_model") ?? 2560, expand = ssm.Int("expand") ?? 2;
        if (ssm.Int("d_ssm") is { } dSsm && dSsm != expand * dModel)
            Refuse(cfg, $"ssm_cfg.d_ssm {dSsm} != d_inner {expand * dModel} (a gated-MLP part) is not supported");
        var dtLimit = ssm.FloatArray("dt_limit") ?? [0f, float.PositiveInfinity];
        if (dtLimit.Length != 2) Refuse(cfg, "ssm_cfg.dt_limit should hold two numbers");
        return new Mamba2Config
        {
            DModel = dModel,
            NLayer = cfg.Int("n_layer") ?? 64,
            VocabSize = cfg.Int("vocab_size") ?? 50277,
            PadVocabSizeMultiple = cfg.Int("pad_vocab_size_multiple") ?? 8,
            DState = ssm.Int("d_state") ?? 128,
            DConv = ssm.Int("d_conv") ?? 4,
            Expand = expand,
            HeadDim = ssm.Int("headdim") ?? 64,
            NGroups = ssm.Int("ngroups") ?? 1,
            ChunkSize = ssm.Int("chunk_size") ?? 256,
            DHasHdim = ssm.Bool("D_has_hdim") ?? false,
            DtMin = dtLimit[0],
            DtMax = dtLimit[1],
            NormEps = cfg.Float("norm_epsilon", "layer_norm_epsilon") ?? 1e-5f,
            ResidualInFp32 = cfg.Bool("residual_in_fp32") ?? true,
            TieEmbeddings = cfg.Bool("tie_embeddings") ?? true,
            ConvBias = ssm.Bool("conv_bias") ?? true,
            ProjBias = ssm.Bool("bias") ?? false,
            BosTokenId = cfg.Int("bos_token_id"),
            EosTokenId = cfg.Int("eos_token_id"),
            PadTokenId = cfg.Int("pad_token_id"),
        };
    }

    private static Mamba2Config FromHf(ConfigJson cfg)
    {
        // Defaults: transformers' Mamba2Config (they are Mamba-Codestral-7B's, e.g. n_groups 8), except that the sizes
        // a real file always has are required rather than silently taken from Codestral.
        RefuseMixerOptions(cfg);
        if (cfg.Bool("rms_norm") == false) Refuse(cfg, "rms_norm=false is not supported");
        int hidden = Required(cfg, "hidden_size"), expand = cfg.Int("expand") ?? 2;
        int heads = Required(cfg, "num_heads"), headDim = cfg.Int("head_dim") ?? 64;
        if (heads * headDim != expand * hidden)
            Refuse(cfg, $"num_heads {heads} x head_dim {headDim} != expand {expand} x hidden_size {hidden}");
        var dtLimit = cfg.FloatArray("time_step_limit") ?? [0f, float.PositiveInfinity];
        if (dtLimit.Length != 2) Refuse(cfg, "time_step_limit should hold two numbers");
        return new Mamba2Config
        {
            DModel = hidden,
            NLayer = Required(cfg, "num_hidden_layers"),
            VocabSize = Required(cfg, "vocab_size"),
            PadVocabSizeMultiple = cfg.Int("pad_vocab_size_multiple") ?? 1,
            DState = cfg.Int("state_size") ?? 128,
            DConv = cfg.Int("conv_kernel") ?? 4,
            Expand = expand,
            HeadDim = headDim,
            NGroups = cfg.Int("n_groups") ?? 8,
            ChunkSize = cfg.Int("chunk_size") ?? 256,
            DHasHdim = cfg.Bool("D_has_hdim") ?? false,
            DtMin = dtLimit[0],
            DtMax = dtLimit[1],
            NormEps = cfg.Float("layer_norm_epsilon") ?? 1e-5f,
            ResidualInFp32 = cfg.Bool("residual_in_fp32") ?? true,
            TieEmbeddings = cfg.Bool("tie_word_embeddings") ?? false,
            ConvBias = cfg.Bool("use_conv_bias") ?? true,
            ProjBias = cfg.Bool("use_bias") ?? false,
            BosTokenId = cfg.Int("bos_token_id"),
            EosTokenId = cfg.Int("eos_token_id"),
            PadTokenId = cfg.Int("pad_token_id"),
        };
    }

    /// <summary>Mixer options both layouts may carry (ssm_cfg keys, or top-level keys in HF files) that this model does not implement.</summary>
    private static void RefuseMixerOptions(ConfigJson c)
    {
        if (c.Bool("norm_before_gate") == true) Refuse(c, "norm_before_gate=true is not supported (Mamba-2 checkpoints use false)");
        if (c.Bool("rmsnorm") == false) Refuse(c, "rmsnorm=false (no gated norm) is not supported");
        if (c.String("activation") is { } act && act != "silu" && act != "swish") Refuse(c, $"activation '{act}' is not supported (only silu)");
        if (c.String("hidden_act") is { } hact && hact != "silu" && hact != "swish") Refuse(c, $"hidden_act '{hact}' is not supported (only silu)");
    }

    private static int Required(ConfigJson cfg, string key) =>
        cfg.Int(key) ?? throw new FormatException($"{cfg.Source}: missing '{key}'");

    private static void Refuse(ConfigJson cfg, string what) => throw new NotSupportedException($"{cfg.Source}: {what}");

    // ---- writing ----

    /// <summary>This config as an HF transformers config.json (model_type "mamba2"); the vocabulary is written padded.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model_type", "mamba2");
            w.WriteStartArray("architectures"); w.WriteStringValue("Mamba2ForCausalLM"); w.WriteEndArray();
            w.WriteNumber("hidden_size", DModel);
            w.WriteNumber("num_hidden_layers", NLayer);
            w.WriteNumber("vocab_size", PaddedVocab);
            w.WriteNumber("num_heads", NHeads);
            w.WriteNumber("head_dim", HeadDim);
            w.WriteNumber("state_size", DState);
            w.WriteNumber("n_groups", NGroups);
            w.WriteNumber("expand", Expand);
            w.WriteNumber("conv_kernel", DConv);
            w.WriteNumber("chunk_size", ChunkSize);
            w.WriteNumber("layer_norm_epsilon", NormEps);
            w.WriteStartArray("time_step_limit"); WriteFloat(w, DtMin); WriteFloat(w, DtMax); w.WriteEndArray();
            w.WriteBoolean("tie_word_embeddings", TieEmbeddings);
            w.WriteBoolean("residual_in_fp32", ResidualInFp32);
            w.WriteBoolean("use_conv_bias", ConvBias);
            w.WriteBoolean("use_bias", ProjBias);
            w.WriteBoolean("rms_norm", true);
            w.WriteBoolean("norm_before_gate", false);
            if (DHasHdim) w.WriteBoolean("D_has_hdim", true);  // not an HF option: only this engine reads it
            if (BosTokenId is { } bos) w.WriteNumber("bos_token_id", bos);
            if (EosTokenId is { } eos) w.WriteNumber("eos_token_id", eos);
            if (PadTokenId is { } pad) w.WriteNumber("pad_token_id", pad);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>JSON has no Infinity; transformers writes {"__float__": "Infinity"}, which ConfigJson reads back.</summary>
    private static void WriteFloat(Utf8JsonWriter w, float v)
    {
        if (float.IsFinite(v)) { w.WriteNumberValue(v); return; }
        w.WriteStartObject();
        w.WriteString("__float__", float.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        w.WriteEndObject();
    }

    /// <summary>One line for inspect and logs.</summary>
    public string Describe()
    {
        string padded = PaddedVocab != VocabSize ? $" (padded {PaddedVocab})" : "";
        return FormattableString.Invariant(
            $"Mamba-2: {NLayer} layers, d_model {DModel}, d_inner {DInner}, {NHeads} heads x {HeadDim}, d_state {DState}, {NGroups} group{(NGroups == 1 ? "" : "s")}, conv {DConv}, vocab {VocabSize}{padded}, {(TieEmbeddings ? "tied" : "untied")} head, {ParameterCount / 1e6:F1}M parameters");
    }
}
