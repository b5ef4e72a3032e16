// A stack of InternLM2 decoder layers with their per-layer mixers (attention or mmMamba Mamba-2): the one piece shared
// by the LLM (InternLm2LM) and HoVLE's holistic embedding module, which runs 8 such layers before the LLM.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;

namespace MambaVL.Models.InternLm2;

public sealed class InternLm2Stack
{
    private readonly InternLm2Layer[] _layers;
    private readonly IBackend _backend;

    public InternLm2Config Config { get; }

    /// <summary>False when every layer is a Mamba-2 mixer (mmMamba-linear): no position enters a step.</summary>
    public bool HasAttention { get; }

    /// <summary>
    /// Binds {i}.attention_norm, {i}.attention.*, {i}.ffn_norm and {i}.feed_forward.* under <paramref name="layers"/>;
    /// attention layers keep their keys and values in <paramref name="kvCache"/> (F32, or BF16 for half the memory).
    /// </summary>
    public InternLm2Stack(InternLm2Config cfg, WeightScope layers, IBackend backend, DType? storage = null, DType kvCache = DType.F32)
    {
        (Config, _backend) = (cfg, backend);
        _layers = Enumerable.Range(0, cfg.Layers).Select(i => new InternLm2Layer(cfg, cfg.KindOf(i), layers.Push(i), backend, storage, kvCache)).ToArray();
        HasAttention = Enumerable.Range(0, cfg.Layers).Any(i => cfg.KindOf(i) == LayerKind.Attention);
    }

    /// <summary>A fresh (empty) memory for <paramref name="batchSize"/> sequences.</summary>
    public InternLm2State CreateState(int batchSize = 1) => new(Config, _layers.Select(l => l.Mixer).ToArray(), batchSize);

    /// <summary>
    /// x (T, D) in place through every layer, for the T tokens of sequence <paramref name="sequence"/> at positions
    /// start..; the caches advance, the state's position does not (the caller moves it once for the whole step).
    /// <paramref name="onLayerOutput"/> sees the residual stream after each layer (for parity tests).
    /// </summary>
    public void Forward(Tensor x, InternLm2State state, int sequence, int start, Action<int, Tensor>? onLayerOutput = null)
    {
        if (!state.Matches(Config)) throw new ArgumentException("the state was not created by this layer stack");
        int t = x.Dim(0);
        // the RoPE frequencies (they depend on the length under dynamic NTK) only where a layer attends: an attention-free
        // stack's step then has no host input but its ids, and can be recorded
        var invFreq = HasAttention ? _backend.Upload(Tensor.FromArray(Config.InverseFrequencies(start + t), Config.HeadDim / 2)) : null;
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l].Forward(x, state.Cache(l, sequence), start, invFreq);
            onLayerOutput?.Invoke(l, x);
        }
    }

    /// <summary>Bytes a sequence's caches grow by per token of context: keys and values of the attention layers.</summary>
    public long BytesPerToken => _layers.Sum(l => l.Mixer.BytesPerToken);

    /// <summary>Bytes a sequence's caches hold whatever the context: the conv and SSM states of the Mamba-2 layers.</summary>
    public long FixedBytes => _layers.Sum(l => l.Mixer.FixedBytes);
}
