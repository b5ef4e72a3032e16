// ML-Mamba (arXiv 2407.19832) as the authors' code builds it: DINOv2 + SigLIP patch features (DINO channels first) →
// "mlp" (Linear + GELU) → the Mamba-2 Scan Connector → "projector" (Linear-GELU-Linear-GELU-Linear) → visual tokens
// placed before the text embeddings → the Mamba-2 LM. Composed from the shared parts; nothing here is a copy.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;
using MambaVL.Models.Mamba2;
using MambaVL.Models.Vision;

namespace MambaVL.Models.MlMamba;

public sealed class MlMambaModel : Core.Models.IVisionLanguageModel
{
    /// <summary>Top-level names of the checkpoint's parts, as the authors' save_checkpoint writes them under "model".</summary>
    public const string LlmPrefix = "llm_backbone", MlpPrefix = "mlp", ConnectorPrefix = "bidirectional_mamba", ProjectorPrefix = "projector.projector";

    private readonly IBackend _backend;
    private readonly Tensor _mlpW, _mlpB;                   // (D, vision channels), (D)
    private readonly (Tensor W, Tensor B)[] _projector;     // Linear 0, 2, 4 of the Sequential, GELU between

    public DinoSigLipFeaturizer Vision { get; }
    public ScanConnector Connector { get; }
    public Mamba2LM Llm { get; }
    public IBackend Backend => _backend;
    public Core.Models.ILanguageModel Language => Llm;
    public string ImagePreset => $"dinosiglip-{Vision.Dino.ImageSize}";

    /// <summary>
    /// Binds the vision-language part of an ML-Mamba checkpoint (<paramref name="weights"/>: llm_backbone.*, mlp.*,
    /// bidirectional_mamba.*, projector.projector.*) to already loaded vision towers.
    /// </summary>
    public MlMambaModel(Mamba2Config llm, ScanConnectorConfig connector, DinoSigLipFeaturizer vision, IWeightSource weights, IBackend backend, DType? storage = null)
    {
        (_backend, Vision) = (backend, vision);
        var root = new WeightScope(weights);
        int d = llm.DModel, c = vision.Channels;
        if (connector.Mixer.DModel != d) throw new ModelLoadException($"{weights.Description}: the connector's width {connector.Mixer.DModel} is not the LM's {d}");
        var mlp = root.Push(MlpPrefix).Push(0);
        (_mlpW, _mlpB) = (Parameters.Large(backend, mlp.Get("weight", d, c), storage), Parameters.Small(backend, mlp.GetF32("bias", d)));
        var proj = root.Push(ProjectorPrefix);
        int hidden = proj.Has("0.weight") ? weights.Info(proj.FullName("0.weight")).Shape[0] : 4 * d;  // fused_vision_dim × 4
        _projector =
        [
            (Parameters.Large(backend, proj.Get("0.weight", hidden, d), storage), Parameters.Small(backend, proj.GetF32("0.bias", hidden))),
            (Parameters.Large(backend, proj.Get("2.weight", d, hidden), storage), Parameters.Small(backend, proj.GetF32("2.bias", d))),
            (Parameters.Large(backend, proj.Get("4.weight", d, d), storage), Parameters.Small(backend, proj.GetF32("4.bias", d))),
        ];
        Connector = new ScanConnector(connector, root.Push(ConnectorPrefix), backend, storage);
        Llm = Mamba2LM.Load(llm, new WeightSubtree(weights, LlmPrefix, ownsInner: false), backend);
    }

    /// <summary>Patch features (Patches, DINO D + SigLIP D) → the visual tokens the LM reads first, (Patches, D).</summary>
    public Tensor VisualTokens(Tensor features)
    {
        var h = Linear(features, _mlpW, _mlpB, gelu: true, releaseInput: false);
        var connected = Connector.Forward(h);
        _backend.Release(h);
        var x = Linear(connected, _projector[0].W, _projector[0].B, gelu: true);
        x = Linear(x, _projector[1].W, _projector[1].B, gelu: true);
        return Linear(x, _projector[2].W, _projector[2].B, gelu: false);
    }

    /// <summary>Each tower's normalised image (3, S, S) → visual tokens (Patches, D).</summary>
    public Tensor VisualTokens(Tensor dinoPixels, Tensor sigLipPixels)
    {
        var features = Vision.Features(dinoPixels, sigLipPixels);
        var tokens = VisualTokens(features);
        _backend.Release(features);
        return tokens;
    }

    /// <summary>
    /// Prefill of [visual tokens, embeddings of <paramref name="ids"/>] into a fresh or carried LM state, as the authors'
    /// forward concatenates them (image first, then the whole prompt). Returns logits as Mamba2LM.Prefill.
    /// </summary>
    public Tensor Prefill(Tensor visualTokens, ReadOnlySpan<int> ids, Core.Models.IModelState state, bool allLogits = false)
    {
        var parts = ids.IsEmpty ? [visualTokens] : new[] { visualTokens, Llm.Embed(ids) };
        var embeddings = _backend.Concat(parts, 0);
        if (parts.Length > 1) _backend.Release(parts[1]);
        return Llm.PrefillEmbeddings(embeddings, state, allLogits);
    }

    /// <summary>The image's visual tokens into <paramref name="state"/> (pixels "dino" and "siglip", each (3, S, S)); the logits are dropped. No prompt text stands for it.</summary>
    public string PrefillImage(IReadOnlyDictionary<string, Tensor> pixels, Core.Models.IModelState state)
    {
        Tensor Pixels(string name) => pixels.TryGetValue(name, out var t) ? _backend.Upload(t)
            : throw new ArgumentException($"ML-Mamba needs the \"{name}\" pixels of the {ImagePreset} preset; got {string.Join(", ", pixels.Keys)}");
        var visual = VisualTokens(Pixels("dino"), Pixels("siglip"));
        _backend.Release(Llm.PrefillEmbeddings(visual, state));
        return "";
    }

    private Tensor Linear(Tensor x, Tensor w, Tensor b, bool gelu, bool releaseInput = true)
    {
        var y = _backend.MatMul(x, w, b);
        if (releaseInput) _backend.Release(x);
        if (!gelu) return y;
        var activated = _backend.Activate(y, Activation.Gelu);
        _backend.Release(y);
        return activated;
    }
}
