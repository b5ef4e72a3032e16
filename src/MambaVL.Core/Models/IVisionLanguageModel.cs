// The contract between multimodal models and the chat engine: a language model plus a way to put an image into its
// state. The engine never sees vision towers or connectors; it sees preprocessed pixels in, a state that grew, and
// for models that read the image inside the prompt, the text that stands for it.
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Models;

public interface IVisionLanguageModel
{
    /// <summary>The language model whose state carries the conversation (image included).</summary>
    ILanguageModel Language { get; }

    /// <summary>The preprocessing preset the model's images need (e.g. "dinosiglip-384").</summary>
    string ImagePreset { get; }

    /// <summary>
    /// Puts one image into <paramref name="state"/>, where the model reads images. ML-Mamba runs it at once (before the
    /// text that follows) and returns ""; HoVLE / mmMamba keep its features for the prompt and return the placeholder
    /// text (&lt;img&gt;&lt;IMG_CONTEXT&gt;…&lt;/img&gt;) the next user message must carry where the image goes.
    /// <paramref name="pixels"/> are the preset's outputs by name (e.g. "dino" and "siglip", each (3, S, S) F32, on the host).
    /// </summary>
    string PrefillImage(IReadOnlyDictionary<string, Tensor> pixels, IModelState state);
}
