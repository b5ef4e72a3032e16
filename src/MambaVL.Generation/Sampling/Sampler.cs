// The sampling chain in llama.cpp's order: repetition penalty, top-k, top-p, min-p, temperature, seeded draw.
// Greedy (temperature <= 0) is the argmax after the penalty, as llama.cpp and HF transformers do it.
namespace MambaVL.Generation.Sampling;

public sealed class Sampler
{
    private readonly Candidates _candidates = new();
    private readonly HashSet<int> _penalised = [];
    private readonly SeededRandom _random;
    private float[] _scratch = [];

    public SamplingOptions Options { get; }

    /// <summary>The seed in use (the one asked for, or the one picked when none was).</summary>
    public ulong Seed => _random.Seed;

    public Sampler(SamplingOptions options)
    {
        options.Validate();
        Options = options;
        _random = new SeededRandom(options.Seed ?? SeededRandom.NewSeed());
    }

    /// <summary>
    /// Picks the next id from <paramref name="logits"/> (V). <paramref name="history"/> is every id the sequence holds so far,
    /// prompt included; the penalty looks at its last <see cref="SamplingOptions.RepeatLastN"/> entries.
    /// </summary>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        if (_scratch.Length < logits.Length) _scratch = new float[logits.Length];
        var work = _scratch.AsSpan(0, logits.Length);
        logits.CopyTo(work);
        ApplyRepetitionPenalty(work, RecentWindow(history, Options.RepeatLastN), Options.RepeatPenalty, _penalised);

        var o = Options;
        return Chain(_candidates, work, o.Temperature, o.TopK, o.TopP, o.MinP, o.IsGreedy ? 0 : _random.NextDouble());
    }

    /// <summary>
    /// The chain after the penalty, on <paramref name="logits"/> already penalised: greedy (temperature ≤ 0) = the argmax;
    /// else top-k, top-p, min-p, temperature, and the id where <paramref name="uniform"/> falls. The host reference of
    /// every device sampler (ITokenSampler).
    /// </summary>
    public static int Chain(Candidates candidates, ReadOnlySpan<float> logits, float temperature, int topK, float topP, float minP, double uniform)
    {
        candidates.Reset(logits);
        if (temperature <= 0f) return candidates.ArgMax();
        candidates.TopK(topK);
        candidates.TopP(topP);
        candidates.MinP(minP);
        candidates.Temperature(temperature);
        return candidates.Draw(uniform);
    }

    /// <summary>A device sampling request run on the host: the penalty on its ids, then <see cref="Chain"/>.</summary>
    public static int Reference(ReadOnlySpan<float> logits, Core.Ops.TokenSamplingRequest r)
    {
        var work = logits.ToArray();
        ApplyRepetitionPenalty(work, r.PenalizedIds, r.RepeatPenalty);
        return Chain(new Candidates(), work, r.Temperature, r.TopK, r.TopP, r.MinP, r.Uniform);
    }

    /// <summary>
    /// Picks the next id on the device that holds <paramref name="logits"/> (row <paramref name="row"/>, ids below
    /// <paramref name="vocabLimit"/>) when it can run this chain: greedy, or sampling with a top-k it supports. Returns
    /// null, having drawn nothing, when it cannot (then call <see cref="Sample"/> on the host logits). Same chain, same seed.
    /// </summary>
    public int? TrySampleOnDevice(Core.Ops.ITokenSampler device, Core.Tensors.Tensor logits, int row, int vocabLimit, ReadOnlySpan<int> history)
    {
        var o = Options;
        if (!o.IsGreedy && (o.TopK < 1 || o.TopK > device.MaxTopK || o.TopK >= vocabLimit)) return null;
        int[] penalized = [];
        if (o.RepeatPenalty != 1f)
        {
            _penalised.Clear();
            foreach (int id in RecentWindow(history, o.RepeatLastN))
                if ((uint)id < (uint)vocabLimit) _penalised.Add(id);
            if (_penalised.Count > device.MaxPenalizedIds) return null;
            penalized = [.. _penalised];
        }
        double uniform = o.IsGreedy ? 0 : _random.NextDouble();
        return device.SampleToken(logits, row, vocabLimit, new Core.Ops.TokenSamplingRequest(o.Temperature, o.TopK, o.TopP, o.MinP, o.RepeatPenalty, penalized, uniform));
    }

    /// <summary>The last <paramref name="lastN"/> ids of <paramref name="history"/> (-1 = all, 0 = none).</summary>
    public static ReadOnlySpan<int> RecentWindow(ReadOnlySpan<int> history, int lastN) =>
        lastN < 0 || lastN >= history.Length ? history : history[^lastN..];

    /// <summary>
    /// Penalises each distinct id of <paramref name="recent"/> once: a positive logit is divided by the penalty and a
    /// negative one multiplied (HF RepetitionPenaltyLogitsProcessor, llama.cpp penalties). Ids outside the logits are ignored.
    /// </summary>
    public static void ApplyRepetitionPenalty(Span<float> logits, ReadOnlySpan<int> recent, float penalty, HashSet<int>? seen = null)
    {
        if (penalty == 1f || recent.IsEmpty) return;
        seen ??= [];
        seen.Clear();
        foreach (int id in recent)
        {
            if ((uint)id >= (uint)logits.Length || !seen.Add(id)) continue;
            logits[id] = logits[id] <= 0f ? logits[id] * penalty : logits[id] / penalty;
        }
    }
}
