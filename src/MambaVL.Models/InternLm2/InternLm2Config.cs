// InternLM2's shape and options as HoVLE / mmMamba config.json write them (llm_config, embedding_config): GQA heads,
// SwiGLU width, RMSNorm eps, RoPE base and dynamic NTK scaling, and the per-layer kind ("mha" or "mamba2") of the students.
using MambaVL.Core.Config;
using MambaVL.Core.Weights;

namespace MambaVL.Models.InternLm2;

/// <summary>What mixes the tokens of one decoder layer: softmax attention (the teacher) or the mmMamba Mamba-2 mixer.</summary>
public enum LayerKind { Attention, Mamba2 }

public sealed record InternLm2Config
{
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int VocabSize { get; init; }
    public float RmsNormEps { get; init; } = 1e-5f;
    public double RopeTheta { get; init; } = 10000;
    /// <summary>Dynamic NTK scaling factor (rope_scaling {"type": "dynamic", "factor": f}); null = plain RoPE.</summary>
    public double? DynamicNtkFactor { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public bool Bias { get; init; }
    /// <summary>Per layer: attention or Mamba-2 (layers_block_type); all attention for the teacher.</summary>
    public IReadOnlyList<LayerKind> LayerKinds { get; init; } = [];

    public int HeadDim => HiddenSize / Heads;

    /// <summary>The kind of layer <paramref name="i"/> (attention when the config lists none).</summary>
    public LayerKind KindOf(int i) => LayerKinds.Count == 0 ? LayerKind.Attention : LayerKinds[i];
    public int QueriesPerKvHead => Heads / KvHeads;

    /// <summary>
    /// Reads an InternLM2 config object (HoVLE's llm_config or embedding_config, mmMamba's with layers_block_type).
    /// Defaults are those of configuration_internlm2.py.
    /// </summary>
    public static InternLm2Config FromJson(ConfigJson c, int? defaultVocab = null)
    {
        int Need(params string[] names) => c.Int(names) ?? throw new ModelLoadException($"{c.Source}: no \"{names[0]}\"");
        int layers = Need("num_hidden_layers");
        var kinds = ReadKinds(c, layers);
        var scaling = c.Object("rope_scaling");
        string? scalingType = scaling?.String("type", "rope_type");
        if (scaling != null && scalingType != "dynamic")
            throw new ModelLoadException($"{c.Source}: rope_scaling type '{scalingType}' is not supported (InternLM2 uses dynamic NTK)");
        var cfg = new InternLm2Config
        {
            HiddenSize = Need("hidden_size"), IntermediateSize = Need("intermediate_size"), Layers = layers,
            Heads = Need("num_attention_heads"), KvHeads = c.Int("num_key_value_heads") ?? Need("num_attention_heads"),
            VocabSize = c.Int("vocab_size", "llm_vocab_size") ?? defaultVocab ?? Need("vocab_size"),
            RmsNormEps = c.Float("rms_norm_eps") ?? 1e-6f, RopeTheta = c.Float("rope_theta") ?? 10000,
            DynamicNtkFactor = scaling?.Float("factor"), MaxPositionEmbeddings = c.Int("max_position_embeddings") ?? 2048,
            Bias = c.Bool("bias") ?? false, LayerKinds = kinds,
        };
        cfg.Validate(c.Source);
        return cfg;
    }

    private static LayerKind[] ReadKinds(ConfigJson c, int layers)
    {
        var names = c.StringArray("layers_block_type");
        if (names is null) return Enumerable.Repeat(LayerKind.Attention, layers).ToArray();
        if (names.Length != layers) throw new ModelLoadException($"{c.Source}: layers_block_type has {names.Length} entries for {layers} layers");
        return names.Select(n => n switch
        {
            "mha" or "attention" => LayerKind.Attention,
            "mamba2" => LayerKind.Mamba2,
            _ => throw new ModelLoadException($"{c.Source}: unknown layer kind '{n}' in layers_block_type (expected mha or mamba2)"),
        }).ToArray();
    }

    public void Validate(string source)
    {
        if (HiddenSize <= 0 || Heads <= 0 || KvHeads <= 0 || Layers <= 0 || IntermediateSize <= 0 || VocabSize <= 0)
            throw new ModelLoadException($"{source}: implausible InternLM2 shape ({this})");
        if (HiddenSize % Heads != 0 || Heads % KvHeads != 0 || HeadDim % 2 != 0)
            throw new ModelLoadException($"{source}: {HiddenSize} hidden / {Heads} heads / {KvHeads} kv heads do not divide into an even head dim");
        if (Bias) throw new ModelLoadException($"{source}: \"bias\": true (biased wqkv/wo) is not supported; InternLM2, HoVLE and mmMamba use false");
        if (LayerKinds.Count != 0 && LayerKinds.Count != Layers)
            throw new ModelLoadException($"{source}: {LayerKinds.Count} layer kinds for {Layers} layers");
    }

    /// <summary>
    /// RoPE inverse frequencies (HeadDim/2) for a forward that ends at <paramref name="sequenceLength"/> tokens: InternLM2's
    /// dynamic NTK raises the base beyond max_position_embeddings, base·((f·L/max) − (f−1))^(d/(d−2)) (in double), then
    /// 1 / base^(2i/d) in fp32 as torch computes it.
    /// </summary>
    public float[] InverseFrequencies(long sequenceLength)
    {
        int d = HeadDim;
        double baseValue = RopeTheta;
        if (DynamicNtkFactor is double f && sequenceLength > MaxPositionEmbeddings)
            baseValue *= Math.Pow(f * sequenceLength / MaxPositionEmbeddings - (f - 1), d / (d - 2.0));
        float b = (float)baseValue;
        var inv = new float[d / 2];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1f / MathF.Pow(b, (float)(2 * i) / d);
        return inv;
    }
}
