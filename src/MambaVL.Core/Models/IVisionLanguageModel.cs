// The contract between multimodal models and the chat engine: a language model plus a way to put an image into its
// state. The engine never sees vision towers or connectors; it sees preprocessed pixels in and a state that grew.
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Models;

public interface IVisionLanguageModel
{
    /// <summary>The language model whose state carries the conversation (image included).</summary>
    ILanguageModel Language { get; }

    /// <summary>The preprocessing preset the model's images need (e.g. "dinosiglip-384").</summary>
    string ImagePreset { get; }

    /// <summary>
    /// Runs one image into <paramref name="state"/>, where the model reads images (ML-Mamba: before the text that follows).
    /// <paramref name="pixels"/> are the preset's outputs by name (e.g. "dino" and "siglip", each (3, S, S) F32, on the host).
    /// </summary>
    void PrefillImage(IReadOnlyDictionary<string, Tensor> pixels, IModelState state);
}
