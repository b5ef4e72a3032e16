// The contract between models and the generation engine: token ids in, logits out, with an explicit recurrent state.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Models;

/// <summary>A causal language model whose whole history lives in an <see cref="IModelState"/>.</summary>
public interface ILanguageModel
{
    /// <summary>Width of the logits (the padded vocabulary for state-spaces checkpoints).</summary>
    int VocabSize { get; }

    IBackend Backend { get; }

    /// <summary>A fresh state (zero history) for <paramref name="batchSize"/> sequences.</summary>
    IModelState CreateState(int batchSize = 1);

    /// <summary>
    /// Runs <paramref name="ids"/> of one sequence (state batch size 1) and advances the state.
    /// Returns logits (T, V) when <paramref name="allLogits"/>, else (1, V) for the last token only.
    /// </summary>
    Tensor Prefill(ReadOnlySpan<int> ids, IModelState state, bool allLogits = false);

    /// <summary>One token per sequence: ids.Length == state.BatchSize. Returns logits (B, V) and advances the state.</summary>
    Tensor Step(ReadOnlySpan<int> ids, IModelState state);
}

/// <summary>Everything a model remembers about a sequence. Can be cloned, saved and restored.</summary>
public interface IModelState
{
    int BatchSize { get; }

    /// <summary>Tokens consumed so far.</summary>
    long Position { get; }

    /// <summary>Bytes held by the state (constant for pure SSM models).</summary>
    long ByteSize { get; }

    IModelState Clone();

    /// <summary>Writes the state in a self-describing binary form.</summary>
    void Save(Stream stream);

    /// <summary>Replaces this state's contents with a saved one; throws if the saved shapes do not match this model.</summary>
    void Load(Stream stream);
}
