// The Mamba-2 language model (mamba_ssm's MambaLMHeadModel): embedding, pre-norm Mamba-2 blocks with an F32 residual
// stream, norm_f and a tied or untied LM head, over the backend contract. Prefill runs whole prompts; Step decodes a batch.
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;

namespace MambaVL.Models.Mamba2;

public sealed class Mamba2LM : ILanguageModel, IContextMemory
{
    private readonly Mamba2Layer[] _layers;
    private readonly MambaBlockWeights[] _stepWeights;  // per layer, what a decode step reads
    private readonly Tensor _embedding;  // (PaddedVocab, D) stored dtype
    private readonly Tensor _normF;      // (D) F32
    private readonly Tensor _lmHead;     // (PaddedVocab, D) stored dtype; the embedding itself when tied

    public Mamba2Config Config { get; }
    public IBackend Backend { get; }
    public int VocabSize => Config.PaddedVocab;

    private Mamba2LM(Mamba2Config cfg, IBackend backend, Mamba2Layer[] layers, Tensor embedding, Tensor normF, Tensor lmHead)
    {
        (Config, Backend, _layers, _embedding, _normF, _lmHead) = (cfg, backend, layers, embedding, normF, lmHead);
        _stepWeights = layers.Select(l => l.StepWeights).ToArray();
    }

    /// <summary>
    /// Binds the checkpoint's tensors (HF or state-spaces names, see <see cref="Mamba2Names"/>); a missing or mis-shaped
    /// tensor throws <see cref="ModelLoadException"/> naming it and its file.
    /// </summary>
    public static Mamba2LM Load(Mamba2Config cfg, IWeightSource weights, IBackend backend)
    {
        cfg.Validate();
        var root = new WeightScope(weights);
        var backbone = root.Push(Mamba2Names.Backbone);
        var embedding = Common.Parameters.Large(backend, root.GetAny(Mamba2Names.Embedding, cfg.PaddedVocab, cfg.DModel));
        var layerScope = backbone.Push(Mamba2Names.Layers);
        var layers = new Mamba2Layer[cfg.NLayer];
        for (int i = 0; i < layers.Length; i++) layers[i] = new Mamba2Layer(cfg, layerScope.Push(i), backend);
        var normF = backend.Upload(backbone.GetF32(Mamba2Names.NormF, cfg.DModel));
        // Tied checkpoints may still carry lm_head.weight (torch.save keeps both names of a shared tensor): the config decides.
        var lmHead = cfg.TieEmbeddings ? embedding
            : Common.Parameters.Large(backend, root.Get(Mamba2Names.LmHead, cfg.PaddedVocab, cfg.DModel));
        return new Mamba2LM(cfg, backend, layers, embedding, normF, lmHead);
    }

    public IModelState CreateState(int batchSize = 1) => new Mamba2State(Config, Backend, batchSize);

    public long FixedStateBytes => Mamba2State.BytesPerSequence(Config);
    public long StateBytesPerToken => 0;

    public Tensor Prefill(ReadOnlySpan<int> ids, IModelState state, bool allLogits = false) => Prefill(ids, state, allLogits, null);

    /// <summary>Prefill that also hands each block's output (the residual stream after block l, (T, D)) to <paramref name="onBlockOutput"/>; for tests.</summary>
    internal Tensor Prefill(ReadOnlySpan<int> ids, IModelState state, bool allLogits, Action<int, float[]>? onBlockOutput)
    {
        if (ids.IsEmpty) throw new ArgumentException("Prefill needs at least one token id");
        return PrefillEmbeddings(Embed(ids), state, allLogits, onBlockOutput);
    }

    /// <summary>The input embeddings of <paramref name="ids"/>: (T, D) F32 (what a multimodal model joins with its image tokens).</summary>
    public Tensor Embed(ReadOnlySpan<int> ids) => Backend.Embedding(_embedding, ids);

    /// <summary>
    /// Prefill from input embeddings instead of ids (ML-Mamba puts its visual tokens before the text's embeddings).
    /// embeddings (T, D) F32 is consumed (it becomes the residual stream). Returns logits as <see cref="Prefill(ReadOnlySpan{int}, IModelState, bool)"/>.
    /// </summary>
    public Tensor PrefillEmbeddings(Tensor embeddings, IModelState state, bool allLogits = false, Action<int, float[]>? onBlockOutput = null)
    {
        var st = AsOwnState(state);
        if (st.BatchSize != 1) throw new ArgumentException($"Prefill runs one sequence; the state holds {st.BatchSize}");
        if (embeddings.Rank != 2 || embeddings.Dim(1) != Config.DModel || embeddings.Dim(0) == 0)
            throw new ArgumentException($"Prefill needs embeddings (T ≥ 1, {Config.DModel}), got {embeddings}");
        int t = embeddings.Dim(0);
        var h = embeddings;  // (T, D)
        Tensor? residual = null;
        for (int l = 0; l < _layers.Length; l++)
        {
            var normed = BlockInput(ref residual, h, _layers[l].BlockNorm);
            h = _layers[l].Prefill(normed, st.SequenceConvState(l), st.SequenceSsmState(l));
            Backend.Release(normed);
            if (onBlockOutput != null) onBlockOutput(l, AddHost(residual, h));
        }
        residual = AddResidual(residual, h);
        var last = allLogits ? residual : Backend.Contiguous(residual.Narrow(0, t - 1, 1));  // head on the last token only
        st.Position += t;
        return Head(last);
    }

    /// <summary>
    /// One token per sequence. The step does the same device work every token, so backends that can record it (CUDA
    /// graphs) replay it: the returned logits are then rewritten by the next step of this state.
    /// </summary>
    public Tensor Step(ReadOnlySpan<int> ids, IModelState state)
    {
        var st = AsOwnState(state);
        if (ids.Length != st.BatchSize) throw new ArgumentException($"Step got {ids.Length} ids for a state of {st.BatchSize} sequences");
        var logits = st.Steps.Run(Backend, ids, stepIds => StepBody(stepIds, st));
        st.Position += 1;
        return logits;
    }

    private Tensor StepBody(ReadOnlySpan<int> ids, Mamba2State st)
    {
        var residual = Backend.Embedding(_embedding, ids);  // (B, D): the residual stream
        var h = Backend.MambaBlocksStep(residual, _stepWeights, st.ConvStates, st.SsmStates);  // the last block's output
        var logits = Backend.NormMatMul(residual, h, _normF, Config.NormEps, _lmHead);  // residual += h, norm_f, the LM head
        Backend.Release(h);
        Backend.Release(residual);
        return logits;
    }

    /// <summary>
    /// A block's normalised input: residual += h (the first block's residual is the embedding itself) and its RMSNorm, in
    /// one op where the backend fuses them. Both (M, D) F32; h is consumed.
    /// </summary>
    private Tensor BlockInput([System.Diagnostics.CodeAnalysis.NotNull] ref Tensor? residual, Tensor h, Tensor norm)
    {
        if (residual == null)
        {
            residual = h;
            return Backend.RmsNorm(residual, norm, Config.NormEps);
        }
        var normed = Backend.AddRmsNorm(residual, h, norm, Config.NormEps);
        Backend.Release(h);
        return normed;
    }

    /// <summary>The last block's output added to the residual stream (the input of norm_f). Both (M, D) F32.</summary>
    private Tensor AddResidual(Tensor? residual, Tensor h)
    {
        if (residual == null) return h;
        Backend.AddInPlace(residual, h);
        Backend.Release(h);
        return residual;
    }

    private float[] AddHost(Tensor a, Tensor b)
    {
        float[] sum = Backend.ToHost(a), other = Backend.ToHost(b);
        for (int i = 0; i < sum.Length; i++) sum[i] += other[i];
        return sum;
    }

    /// <summary>norm_f then the LM head: residual (M, D) → logits (M, PaddedVocab).</summary>
    private Tensor Head(Tensor residual)
    {
        var normed = Backend.RmsNorm(residual, _normF, Config.NormEps);
        var logits = Backend.MatMul(normed, _lmHead);
        Backend.Release(normed);
        return logits;
    }

    private Mamba2State AsOwnState(IModelState state) =>
        state is Mamba2State s && s.Matches(Config) ? s
            : throw new ArgumentException($"the state ({state.GetType().Name}) was not created by this Mamba-2 model");
}
