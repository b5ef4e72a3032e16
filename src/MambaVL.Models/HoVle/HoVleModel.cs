// HoVLE (arXiv 2412.16158), the mmMamba teacher, and the mmMamba students (arXiv 2502.13145) as one model code: the
// holistic embedding module (token + image embeddings, its own InternLM2 / Mamba-2 layers) feeds the InternLM2 LLM
// (final norm, untied output head). Layer kinds come from layers_block_type, so teacher, linear and hybrid differ only
// in their config. Images go into the prompt: PrefillImage encodes the tiles and returns the placeholder text whose
// <IMG_CONTEXT> ids take the features when the prompt is prefilled.
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.InternLm2;

namespace MambaVL.Models.HoVle;

public sealed class HoVleModel : ILanguageModel, IVisionLanguageModel, IContextMemory
{
    /// <summary>InternVL's image markers, as its chat() writes them around the image's context tokens.</summary>
    public const string ImageStartToken = "<img>", ImageEndToken = "</img>", ImageContextToken = "<IMG_CONTEXT>";

    private readonly Tensor? _unitNorm;   // (D) of 1/√D: RMSNorm with it and eps 0 divides by the L2 norm

    public HoVleConfig Config { get; }
    public IBackend Backend { get; }
    public HolisticEmbedding EmbeddingModule { get; }
    public InternLm2LM Llm { get; }
    public int VocabSize => Llm.VocabSize;
    public ILanguageModel Language => this;
    public string ImagePreset => $"internvl-{Config.TileSize}";

    /// <summary>
    /// Binds embedding_model.* and language_model.* of <paramref name="weights"/> (the LLM's own token table is not loaded:
    /// unused). <paramref name="storage"/> converts the matrices; <paramref name="kvCache"/> is F32 (exact) or BF16.
    /// </summary>
    public HoVleModel(HoVleConfig cfg, IWeightSource weights, IBackend backend, DType? storage = null, DType kvCache = DType.F32)
    {
        (Config, Backend) = (cfg, backend);
        var root = new WeightScope(weights);
        EmbeddingModule = new HolisticEmbedding(cfg, root.Push("embedding_model"), backend, storage, kvCache);
        Llm = new InternLm2LM(cfg.Llm, root.Push("language_model"), backend, storage, inputEmbeddings: false, kvCache);
        if (cfg.NormalizeEncoderOutput)
            _unitNorm = backend.Upload(Tensor.FromArray(Enumerable.Repeat(1f / MathF.Sqrt(cfg.Llm.HiddenSize), cfg.Llm.HiddenSize).ToArray(), cfg.Llm.HiddenSize));
    }

    public IModelState CreateState(int batchSize = 1) =>
        new HoVleState(Config, Backend, EmbeddingModule.Layers.CreateState(batchSize), Llm.Layers.CreateState(batchSize));

    /// <summary>
    /// A state as if <paramref name="tokens"/> tokens had been read, caches filled with pseudo-random values and room for
    /// <paramref name="headroom"/> more: for next-token latency and memory at long contexts (a real 64K prefill of a
    /// 2.6B model takes hours on a CPU; a decode step does the same work either way).
    /// </summary>
    public IModelState CreateStateAtContext(int tokens, int headroom = 64, int seed = 0)
    {
        var st = (HoVleState)CreateState();
        st.Embedding.Prime(tokens, headroom, seed);
        st.Llm.Prime(tokens, headroom, seed + 1000);
        return st;
    }

    public long FixedStateBytes => EmbeddingModule.Layers.FixedBytes + Llm.Layers.FixedBytes;
    public long StateBytesPerToken => EmbeddingModule.Layers.BytesPerToken + Llm.Layers.BytesPerToken;

    public Tensor Prefill(ReadOnlySpan<int> ids, IModelState state, bool allLogits = false) => Prefill(ids, state, allLogits, null);

    /// <summary>Prefill that hands the residual stream after every layer to <paramref name="onLayerOutput"/>: the embedding module's layers 0..E−1, then the LLM's as E.. (for parity tests).</summary>
    public Tensor Prefill(ReadOnlySpan<int> ids, IModelState state, bool allLogits, Action<int, Tensor>? onLayerOutput)
    {
        var st = Own(state);
        if (ids.IsEmpty) throw new ArgumentException("Prefill needs at least one token id");
        if (st.BatchSize != 1) throw new ArgumentException($"Prefill runs one sequence; the state holds {st.BatchSize}");
        var x = EmbedAndEncode(ids, st, 0, st.Image, onLayerOutput);
        if (st.Image is { Remaining: 0 }) st.Image = null;
        st.Embedding.Position += ids.Length;
        int offset = Config.Embedding.Layers;
        return Llm.PrefillEmbeddings(x, st.Llm, allLogits, onLayerOutput is null ? null : (l, h) => onLayerOutput(offset + l, h));
    }

    public Tensor Step(ReadOnlySpan<int> ids, IModelState state)
    {
        var st = Own(state);
        if (ids.Length != st.BatchSize) throw new ArgumentException($"Step got {ids.Length} ids for a state of {st.BatchSize} sequences");
        if (st.BatchSize == 1 && CanRecordStep(ids, st))
        {
            var logits = st.Steps.Run(Backend, ids, stepIds => Llm.StepEmbedding(EmbedAndEncode(stepIds, st, 0, image: null), st.Llm, 0));
            st.Embedding.Position += 1;
            st.Llm.Position += 1;
            return logits;
        }
        if (st.BatchSize == 1) return Prefill(ids, state);
        var rows = new Tensor[ids.Length];
        for (int b = 0; b < ids.Length; b++) rows[b] = Llm.StepEmbedding(EmbedAndEncode(ids.Slice(b, 1), st, b, image: null), st.Llm, b);
        st.Embedding.Position += 1;
        st.Llm.Position += 1;
        return Backend.Concat(rows, 0);
    }

    /// <summary>
    /// A step does the same device work every token, so it may be recorded (CUDA graphs), when no layer has attention
    /// (attention reads a cache that grows every token: mmMamba-linear has none), no image waits for its slots, and the
    /// id is a text token (the one table lookup a recording can replay with new ids; special tokens take a second one).
    /// </summary>
    private bool CanRecordStep(ReadOnlySpan<int> ids, HoVleState st) =>
        !EmbeddingModule.Layers.HasAttention && !Llm.Layers.HasAttention && st.Image is null && ids.Length == 1 && (uint)ids[0] < (uint)Config.TextVocab;

    /// <summary>
    /// Encodes the tiles (pixels "pixels": (N, 3, S, S)) and keeps their features in the state for the prompt's
    /// &lt;IMG_CONTEXT&gt; slots; returns the text that stands for the image: &lt;img&gt;, the context tokens, &lt;/img&gt;.
    /// </summary>
    public string PrefillImage(IReadOnlyDictionary<string, Tensor> pixels, IModelState state)
    {
        var st = Own(state);
        if (!pixels.TryGetValue("pixels", out var tiles))
            throw new ArgumentException($"HoVLE needs the \"pixels\" tiles of the {ImagePreset} preset; got {string.Join(", ", pixels.Keys)}");
        var features = EmbeddingModule.Images.Encode(Backend.Upload(tiles));
        st.Image = new PendingImage(features);
        return ImageStartToken + string.Concat(Enumerable.Repeat(ImageContextToken, features.Dim(0))) + ImageEndToken;
    }

    /// <summary>Token and image embeddings of one sequence through the embedding module's layers → the LLM's input (T, D).</summary>
    private Tensor EmbedAndEncode(ReadOnlySpan<int> ids, HoVleState st, int sequence, PendingImage? image, Action<int, Tensor>? onLayerOutput = null)
    {
        var x = EmbeddingModule.Embed(ids, image);
        EmbeddingModule.Layers.Forward(x, st.Embedding, sequence, checked((int)st.Embedding.Position), onLayerOutput);
        if (_unitNorm is null) return x;
        var normalized = Backend.RmsNorm(x, _unitNorm, 0f);  // x / ‖x‖ (normalize_encoder_output)
        Backend.Release(x);
        return normalized;
    }

    private HoVleState Own(IModelState state) => state as HoVleState is { } s && s.Config == Config ? s
        : throw new ArgumentException($"the state ({state.GetType().Name}) was not created by this HoVLE / mmMamba model");
}
