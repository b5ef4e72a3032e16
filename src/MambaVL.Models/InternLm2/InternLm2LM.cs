// InternLM2ForCausalLM (HoVLE's LLM, the teacher) and mmMamba's students (layers_block_type: attention or Mamba-2 per
// layer): tok_embeddings → decoder layers → norm → output (untied). Prefill may start from input embeddings.
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;

namespace MambaVL.Models.InternLm2;

public sealed class InternLm2LM : ILanguageModel
{
    private readonly InternLm2Layer[] _layers;
    private readonly Tensor _embedding, _norm, _output;

    public InternLm2Config Config { get; }
    public IBackend Backend { get; }
    public int VocabSize => Config.VocabSize;

    /// <summary>Binds model.tok_embeddings, model.layers.{i}.*, model.norm and output under <paramref name="root"/>.</summary>
    public InternLm2LM(InternLm2Config cfg, WeightScope root, IBackend backend, DType? storage = null)
    {
        (Config, Backend) = (cfg, backend);
        var model = root.Push("model");
        _embedding = Parameters.Large(backend, model.Get("tok_embeddings.weight", cfg.VocabSize, cfg.HiddenSize), storage);
        _layers = Enumerable.Range(0, cfg.Layers).Select(i => new InternLm2Layer(cfg, cfg.KindOf(i), model.Push("layers").Push(i), backend, storage)).ToArray();
        _norm = Parameters.Small(backend, model.GetF32("norm.weight", cfg.HiddenSize));
        _output = Parameters.Large(backend, root.Get("output.weight", cfg.VocabSize, cfg.HiddenSize), storage);
    }

    public IModelState CreateState(int batchSize = 1) => new InternLm2State(Config, _layers.Select(l => l.Mixer).ToArray(), batchSize);

    public Tensor Embed(ReadOnlySpan<int> ids) => Backend.Embedding(_embedding, ids);

    public Tensor Prefill(ReadOnlySpan<int> ids, IModelState state, bool allLogits = false)
    {
        if (ids.IsEmpty) throw new ArgumentException("Prefill needs at least one token id");
        return PrefillEmbeddings(Embed(ids), state, allLogits);
    }

    /// <summary>Runs embeddings (T, D) (consumed: they become the residual stream) after what the state holds → logits.</summary>
    public Tensor PrefillEmbeddings(Tensor embeddings, IModelState state, bool allLogits = false)
    {
        var st = Own(state);
        if (st.BatchSize != 1) throw new ArgumentException($"Prefill runs one sequence; the state holds {st.BatchSize}");
        int t = embeddings.Dim(0), start = checked((int)st.Position);
        var invFreq = Backend.Upload(Tensor.FromArray(Config.InverseFrequencies(start + t), Config.HeadDim / 2));
        for (int l = 0; l < _layers.Length; l++) _layers[l].Forward(embeddings, st.Cache(l, 0), start, invFreq);
        st.Position += t;
        var last = allLogits ? embeddings : Backend.Contiguous(embeddings.Narrow(0, t - 1, 1));
        return Backend.MatMul(Backend.RmsNorm(last, _norm, Config.RmsNormEps), _output);
    }

    public Tensor Step(ReadOnlySpan<int> ids, IModelState state)
    {
        var st = Own(state);
        if (ids.Length != st.BatchSize) throw new ArgumentException($"Step got {ids.Length} ids for a state of {st.BatchSize} sequences");
        if (st.BatchSize == 1) return PrefillEmbeddings(Embed(ids), state);
        // sequences of a batch sit at the same position: one token each, their own caches
        var rows = new Tensor[ids.Length];
        int start = checked((int)st.Position);
        var invFreq = Backend.Upload(Tensor.FromArray(Config.InverseFrequencies(start + 1), Config.HeadDim / 2));
        for (int b = 0; b < ids.Length; b++)
        {
            var x = Embed(ids.Slice(b, 1));
            for (int l = 0; l < _layers.Length; l++) _layers[l].Forward(x, st.Cache(l, b), start, invFreq);
            rows[b] = Backend.MatMul(Backend.RmsNorm(x, _norm, Config.RmsNormEps), _output);
        }
        st.Position += 1;
        return Backend.Concat(rows, 0);
    }

    private InternLm2State Own(IModelState state) => state as InternLm2State is { } s && s.Matches(Config) ? s
        : throw new ArgumentException($"the state ({state.GetType().Name}) was not created by this InternLM2 model");
}
