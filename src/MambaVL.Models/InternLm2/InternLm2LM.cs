// InternLM2ForCausalLM (HoVLE's LLM, the teacher) and mmMamba's students (layers_block_type: attention or Mamba-2 per
// layer): tok_embeddings → decoder layers → norm → output (untied). Prefill may start from input embeddings.
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;

namespace MambaVL.Models.InternLm2;

public sealed class InternLm2LM : ILanguageModel, IContextMemory
{
    private readonly Tensor? _embedding;
    private readonly Tensor _norm, _output;

    public InternLm2Config Config { get; }
    public IBackend Backend { get; }
    public InternLm2Stack Layers { get; }
    public int VocabSize => Config.VocabSize;

    /// <summary>
    /// Binds model.tok_embeddings, model.layers.{i}.*, model.norm and output under <paramref name="root"/>. Without
    /// <paramref name="inputEmbeddings"/> the token table is not loaded: the LM then reads embeddings only (HoVLE's LLM,
    /// which its holistic embedding module feeds). <paramref name="kvCache"/>: F32 or BF16 keys and values.
    /// </summary>
    public InternLm2LM(InternLm2Config cfg, WeightScope root, IBackend backend, DType? storage = null, bool inputEmbeddings = true, DType kvCache = DType.F32)
    {
        (Config, Backend) = (cfg, backend);
        var model = root.Push("model");
        if (inputEmbeddings) _embedding = Parameters.Large(backend, model.Get("tok_embeddings.weight", cfg.VocabSize, cfg.HiddenSize), storage);
        Layers = new InternLm2Stack(cfg, model.Push("layers"), backend, storage, kvCache);
        _norm = Parameters.Small(backend, model.GetF32("norm.weight", cfg.HiddenSize));
        _output = Parameters.Large(backend, root.Get("output.weight", cfg.VocabSize, cfg.HiddenSize), storage);
    }

    public IModelState CreateState(int batchSize = 1) => Layers.CreateState(batchSize);

    public long FixedStateBytes => Layers.FixedBytes;
    public long StateBytesPerToken => Layers.BytesPerToken;

    public Tensor Embed(ReadOnlySpan<int> ids) => _embedding is { } table ? Backend.Embedding(table, ids)
        : throw new InvalidOperationException("this InternLM2 LM was loaded without its token embeddings (it reads input embeddings only)");

    public Tensor Prefill(ReadOnlySpan<int> ids, IModelState state, bool allLogits = false)
    {
        if (ids.IsEmpty) throw new ArgumentException("Prefill needs at least one token id");
        return PrefillEmbeddings(Embed(ids), state, allLogits);
    }

    /// <summary>
    /// Runs embeddings (T, D) (consumed: they become the residual stream) after what the state holds → logits;
    /// <paramref name="onLayerOutput"/> sees the stream after each layer.
    /// </summary>
    public Tensor PrefillEmbeddings(Tensor embeddings, IModelState state, bool allLogits = false, Action<int, Tensor>? onLayerOutput = null)
    {
        var st = Own(state);
        if (st.BatchSize != 1) throw new ArgumentException($"Prefill runs one sequence; the state holds {st.BatchSize}");
        int t = embeddings.Dim(0);
        Layers.Forward(embeddings, st, 0, checked((int)st.Position), onLayerOutput);
        st.Position += t;
        return Head(allLogits ? embeddings : Backend.Contiguous(embeddings.Narrow(0, t - 1, 1)));
    }

    public Tensor Step(ReadOnlySpan<int> ids, IModelState state)
    {
        var st = Own(state);
        if (ids.Length != st.BatchSize) throw new ArgumentException($"Step got {ids.Length} ids for a state of {st.BatchSize} sequences");
        if (st.BatchSize == 1) return PrefillEmbeddings(Embed(ids), state);
        var rows = new Tensor[ids.Length];
        for (int b = 0; b < ids.Length; b++) rows[b] = StepEmbedding(Embed(ids.Slice(b, 1)), st, b);
        st.Position += 1;
        return Backend.Concat(rows, 0);
    }

    /// <summary>
    /// One token's embedding x (1, D) of sequence <paramref name="sequence"/> of a batch (sequences sit at the same
    /// position, each with its own caches) → its logits (1, V); the caller advances the position once per step.
    /// </summary>
    internal Tensor StepEmbedding(Tensor x, InternLm2State state, int sequence)
    {
        Layers.Forward(x, state, sequence, checked((int)state.Position));
        return Head(x);
    }

    /// <summary>The final RMSNorm and the untied output head: hidden (T, D) → logits (T, V).</summary>
    private Tensor Head(Tensor hidden) => Backend.MatMul(Backend.RmsNorm(hidden, _norm, Config.RmsNormEps), _output);

    internal InternLm2State Own(IModelState state) => state as InternLm2State is { } s && s.Matches(Config) ? s
        : throw new ArgumentException($"the state ({state.GetType().Name}) was not created by this InternLM2 model");
}
