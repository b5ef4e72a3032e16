// Sampler settings with llama.cpp's defaults and meanings (0 or 1 switches a stage off, as there).
using System.Globalization;

namespace MambaVL.Generation.Sampling;

/// <summary>
/// Settings for the sampling chain, applied in llama.cpp's order: repetition penalty, top-k, top-p, min-p, temperature,
/// then a seeded draw. Temperature &lt;= 0 means greedy (argmax after the penalty).
/// </summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the k most likely tokens; 0 or less switches it off.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Keep the smallest set of most likely tokens whose probability sums to at least p; 1 switches it off.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Keep tokens at least this likely relative to the most likely one; 0 switches it off.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Positive logits are divided by it and negative ones multiplied (HF and llama.cpp semantics); 1 switches it off.</summary>
    public float RepeatPenalty { get; init; } = 1.0f;

    /// <summary>How many of the most recent ids (prompt included) the penalty looks at; 0 = none, -1 = all.</summary>
    public int RepeatLastN { get; init; } = 64;

    /// <summary>The random seed; null picks one at random (the session reports the one it used).</summary>
    public ulong? Seed { get; init; }

    public bool IsGreedy => Temperature <= 0f;

    /// <summary>Greedy decoding with no penalty.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Checks the values and throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (float.IsNaN(Temperature)) throw new ArgumentException("temperature must be a number");
        if (!(TopP > 0f && TopP <= 1f)) throw new ArgumentException($"top-p must be in (0, 1], got {TopP.ToString(CultureInfo.InvariantCulture)}");
        if (!(MinP >= 0f && MinP <= 1f)) throw new ArgumentException($"min-p must be in [0, 1], got {MinP.ToString(CultureInfo.InvariantCulture)}");
        if (!(RepeatPenalty > 0f) || float.IsInfinity(RepeatPenalty))
            throw new ArgumentException($"repeat-penalty must be a positive number, got {RepeatPenalty.ToString(CultureInfo.InvariantCulture)}");
        if (RepeatLastN < -1) throw new ArgumentException($"repeat-last-n must be -1 (all), 0 (off) or positive, got {RepeatLastN}");
    }

    /// <summary>The effective chain in one line, as llama.cpp prints it before generating.</summary>
    public string Describe() => IsGreedy
        ? string.Create(CultureInfo.InvariantCulture,
            $"greedy (temp = {Temperature:0.000}), repeat_penalty = {RepeatPenalty:0.000}, repeat_last_n = {RepeatLastN}")
        : string.Create(CultureInfo.InvariantCulture,
            $"repeat_penalty = {RepeatPenalty:0.000}, repeat_last_n = {RepeatLastN}, top_k = {TopK}, top_p = {TopP:0.000}, min_p = {MinP:0.000}, temp = {Temperature:0.000}");
}
