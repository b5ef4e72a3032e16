// What a HoVLE (model_type "internvl_chat") or mmMamba (model_type "mmMamba_chat") config.json says: the holistic
// embedding module (embedding_config: its InternLM2 layers, patch and position grid, text and special-token vocabularies,
// the <IMG_CONTEXT> id), the LLM (llm_config), and the chat pipeline (tile size, tiling, template).
using MambaVL.Core.Config;
using MambaVL.Core.Weights;
using MambaVL.Models.InternLm2;

namespace MambaVL.Models.HoVle;

public sealed record HoVleConfig
{
    public const string TeacherModelType = "internvl_chat", StudentModelType = "mmMamba_chat";

    public required InternLm2Config Embedding { get; init; }
    public required InternLm2Config Llm { get; init; }
    public int PatchSize { get; init; } = 14;
    /// <summary>embedding_config.image_size: the stored position-embedding grid is StoredImageSize / PatchSize a side.</summary>
    public int StoredImageSize { get; init; } = 448;
    /// <summary>The tile side the model reads (force_image_size, else image_size).</summary>
    public int TileSize { get; init; } = 448;
    /// <summary>Rows of llm_text_embeddings: ids at or above it take special_text_embeddings (id − TextVocab).</summary>
    public required int TextVocab { get; init; }
    public int SpecialTokens { get; init; }
    public int ImageContextId { get; init; } = 92546;
    public bool NormalizeEncoderOutput { get; init; }
    public string Template { get; init; } = "internlm2-chat";
    public bool DynamicTiles { get; init; } = true;
    public bool Thumbnail { get; init; } = true;
    public bool IsStudent { get; init; }

    /// <summary>Tokens per tile after the 0.5 pixel shuffle: (tile / patch)² / 4 (256 at 448 px).</summary>
    public int TokensPerTile => TileSize / PatchSize * (TileSize / PatchSize) / 4;

    public static bool Handles(string? modelType) => modelType is TeacherModelType or StudentModelType;

    public static HoVleConfig FromJson(ConfigJson c)
    {
        string? type = c.String("model_type");
        if (!Handles(type)) throw new ModelLoadException($"{c.Source}: model_type '{type}' is neither {TeacherModelType} (HoVLE) nor {StudentModelType} (mmMamba)");
        var emb = c.Object("embedding_config") ?? throw new ModelLoadException($"{c.Source}: no \"embedding_config\" (the holistic embedding module)");
        var llmJson = c.Object("llm_config") ?? throw new ModelLoadException($"{c.Source}: no \"llm_config\"");
        string? arch = llmJson.StringOrFirst("architectures");
        if (arch is not (null or "InternLM2ForCausalLM" or "mmMambaForCausalLM"))
            throw new ModelLoadException($"{c.Source}: llm_config.architectures '{arch}' is not InternLM2 (HoVLE) or mmMamba");
        Require(emb, "pixel_shuffle_loc", "pre", emb.String("pixel_shuffle_loc") ?? "pre");
        Require(emb, "use_pixel_shuffle_proj", "true", (emb.Bool("use_pixel_shuffle_proj") ?? true) ? "true" : "false");
        float ratio = c.Float("downsample_ratio") ?? emb.Float("downsample_ratio") ?? 0.5f;
        Require(c, "downsample_ratio", "0.5", ratio == 0.5f ? "0.5" : ratio.ToString(System.Globalization.CultureInfo.InvariantCulture));
        int textVocab = emb.Int("llm_vocab_size") ?? 92553;
        var embedding = InternLm2Config.FromJson(emb, defaultVocab: textVocab);
        var llm = InternLm2Config.FromJson(llmJson);
        if (embedding.HiddenSize != llm.HiddenSize || (emb.Int("llm_hidden_size") ?? llm.HiddenSize) != llm.HiddenSize)
            throw new ModelLoadException($"{c.Source}: the embedding module's width {embedding.HiddenSize} is not the LLM's {llm.HiddenSize}");
        int stored = emb.Int("image_size") ?? 448, patch = emb.Int("patch_size") ?? 14;
        var cfg = new HoVleConfig
        {
            Embedding = embedding, Llm = llm, PatchSize = patch, StoredImageSize = stored, TileSize = c.Int("force_image_size") ?? stored,
            TextVocab = textVocab, SpecialTokens = emb.Object("special_token_maps")?.Keys.Count() ?? 0,
            ImageContextId = emb.Int("img_context_token_id") ?? 92546, NormalizeEncoderOutput = c.Bool("normalize_encoder_output") ?? false,
            Template = c.String("template") ?? "internlm2-chat", DynamicTiles = c.Bool("dynamic_image_size") ?? true,
            Thumbnail = c.Bool("use_thumbnail") ?? true, IsStudent = type == StudentModelType,
        };
        cfg.Validate(c.Source);
        return cfg;
    }

    /// <summary>One line for inspect: which model, both stacks' layer kinds, vocabulary, tiles.</summary>
    public string Describe()
    {
        static string Kinds(InternLm2Config c)
        {
            int mamba = Enumerable.Range(0, c.Layers).Count(i => c.KindOf(i) == LayerKind.Mamba2);
            return mamba == 0 ? $"{c.Layers} attention" : mamba == c.Layers ? $"{c.Layers} Mamba-2" : $"{c.Layers - mamba} attention + {mamba} Mamba-2";
        }
        string name = !IsStudent ? "HoVLE" : Kinds(Embedding).Contains("attention") || Kinds(Llm).Contains("attention") ? "mmMamba-hybrid" : "mmMamba-linear";
        return FormattableString.Invariant(
            $"{name}: embedding module {Kinds(Embedding)} layers, LLM {Kinds(Llm)} layers, hidden {Llm.HiddenSize}, {Llm.Heads} heads / {Llm.KvHeads} kv x {Llm.HeadDim}, vocab {Llm.VocabSize}, {TileSize}-px tiles of {TokensPerTile} tokens");
    }

    private static void Require(ConfigJson c, string name, string expected, string actual)
    {
        if (actual != expected) throw new ModelLoadException($"{c.Source}: {name} is {actual}; HoVLE and mmMamba use {expected} (the only form supported)");
    }

    public void Validate(string source)
    {
        if (PatchSize <= 0 || TileSize % PatchSize != 0 || TileSize / PatchSize % 2 != 0 || StoredImageSize % PatchSize != 0)
            throw new ModelLoadException($"{source}: {TileSize}-px tiles, {StoredImageSize}-px position grid and {PatchSize}-px patches do not fit the 0.5 pixel shuffle");
        if (TextVocab <= 0 || SpecialTokens < 0 || TextVocab + SpecialTokens > Llm.VocabSize)
            throw new ModelLoadException($"{source}: {TextVocab} text + {SpecialTokens} special embeddings exceed the LLM's {Llm.VocabSize}-token vocabulary");
        if (ImageContextId < 0 || ImageContextId >= TextVocab + SpecialTokens)
            throw new ModelLoadException($"{source}: img_context_token_id {ImageContextId} is outside the {TextVocab + SpecialTokens} embedded ids");
    }
}
