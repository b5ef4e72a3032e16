// Sampling where the logits are: a GPU backend picks the next id on the device and returns 4 bytes instead of copying a
// vocabulary of logits to the host every token. The chain and its tie-breaking are those of MambaVL.Generation's Sampler
// (repetition penalty, top-k, top-p, min-p, temperature, draw), which stays the reference.
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Ops;

/// <summary>
/// One draw: greedy when <see cref="Temperature"/> ≤ 0. <see cref="PenalizedIds"/> are distinct ids (all below the vocab
/// limit) whose logits the penalty divides (positive) or multiplies (negative); <see cref="Uniform"/> in [0, 1) picks the
/// token from the final distribution.
/// </summary>
public sealed record TokenSamplingRequest(float Temperature, int TopK, float TopP, float MinP, float RepeatPenalty, int[] PenalizedIds, double Uniform)
{
    /// <summary>The best id (the lower one on ties), no penalty.</summary>
    public static TokenSamplingRequest Greedy { get; } = new(0f, 0, 1f, 0f, 1f, [], 0);
}

public interface ITokenSampler
{
    /// <summary>The largest top-k the device chain runs (sampling without top-k, or with a larger one, stays on the host).</summary>
    int MaxTopK { get; }

    /// <summary>The largest number of penalised ids the device chain takes.</summary>
    int MaxPenalizedIds { get; }

    /// <summary>Picks an id from row <paramref name="row"/> of <paramref name="logits"/> (B, V), among ids below <paramref name="vocabLimit"/>.</summary>
    int SampleToken(Tensor logits, int row, int vocabLimit, TokenSamplingRequest request);
}
