// What a generation run returns: streamed pieces while it runs, then the ids, text, why it stopped, and timings.
using System.Globalization;

namespace MambaVL.Generation;

public enum FinishReason { Length, StopId, StopString, Cancelled }

/// <summary>
/// One streamed piece: the id just generated (null for the text released when a run is cancelled) and the text that became
/// safe to show with it (often empty: part of a character or a possible stop string is held back).
/// </summary>
public readonly record struct GenerationChunk(int? TokenId, string Text);

/// <summary>Where the time went. Prefill covers the prompt; decode covers the model steps after the first new token.</summary>
public sealed record GenerationTimings(int PromptTokens, double PrefillSeconds, int DecodeSteps, double DecodeSeconds, double SampleSeconds)
{
    public double PrefillTokensPerSecond => PrefillSeconds > 0 ? PromptTokens / PrefillSeconds : double.NaN;
    public double DecodeTokensPerSecond => DecodeSeconds > 0 ? DecodeSteps / DecodeSeconds : double.NaN;

    /// <summary>llama.cpp-style summary, e.g. "prefill 12 tok in 0.031 s (387.1 tok/s) | decode 63 tok in 0.81 s (77.8 tok/s)".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"prefill {PromptTokens} tok in {PrefillSeconds:0.000} s ({Rate(PrefillTokensPerSecond)}) | decode {DecodeSteps} tok in {DecodeSeconds:0.000} s ({Rate(DecodeTokensPerSecond)}) | sampling {SampleSeconds * 1000:0.0} ms");

    private static string Rate(double perSecond) =>
        double.IsNaN(perSecond) ? "n/a" : perSecond.ToString("0.0", CultureInfo.InvariantCulture) + " tok/s";
}

public sealed record GenerationResult(
    int[] PromptIds,
    int[] Ids,
    string Text,
    FinishReason FinishReason,
    string? StopString,
    GenerationTimings Timings,
    ulong Seed);
