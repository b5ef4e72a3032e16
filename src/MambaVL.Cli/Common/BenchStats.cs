// Timing loops and statistics for `mambavl bench`: prefill (pp) and decode (tg) throughput, median ± stddev over reps.
using System.Diagnostics;
using MambaVL.Core.Models;

namespace MambaVL.Cli.Common;

/// <summary>One row of the benchmark table: tokens per second samples for one test.</summary>
public sealed record BenchResult(BenchModel Model, int Threads, string Test, int PromptTokens, int GenTokens, double[] Samples, string Backend)
{
    public double Median => BenchStats.Median(Samples);
    public double StdDev => BenchStats.StdDev(Samples);
}

public static class BenchStats
{
    /// <summary>Tokens/s of a prefill of <paramref name="ids"/> on a fresh state, once per repetition.</summary>
    public static double[] Prefill(ILanguageModel model, int[] ids, int repetitions, bool warmup)
    {
        if (warmup) model.Prefill(ids, model.CreateState(1));
        return Repeat(repetitions, () =>
        {
            var state = model.CreateState(1);
            long start = Stopwatch.GetTimestamp();
            model.Prefill(ids, state);
            return ids.Length / Stopwatch.GetElapsedTime(start).TotalSeconds;
        });
    }

    /// <summary>Tokens/s of <paramref name="tokens"/> single-token steps from a fresh state, once per repetition.</summary>
    public static double[] Decode(ILanguageModel model, int[] ids, int tokens, int repetitions, bool warmup)
    {
        if (warmup) RunSteps(model, ids, Math.Min(tokens, 4));
        return Repeat(repetitions, () =>
        {
            long start = Stopwatch.GetTimestamp();
            RunSteps(model, ids, tokens);
            return tokens / Stopwatch.GetElapsedTime(start).TotalSeconds;
        });
    }

    private static void RunSteps(ILanguageModel model, int[] ids, int tokens)
    {
        var state = model.CreateState(1);
        for (int i = 0; i < tokens; i++) model.Step([ids[i % ids.Length]], state);
    }

    // Ids drawn with a fixed seed: timings exclude tokenisation, as llama-bench's do.
    /// <summary>Wall seconds of each of <paramref name="repetitions"/> runs, after an untimed one when <paramref name="warmup"/>.</summary>
    public static double[] Seconds(Action run, int repetitions, bool warmup)
    {
        if (warmup) run();
        var samples = new double[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            run();
            samples[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return samples;
    }

    public static int[] RandomIds(int count, int vocab)
    {
        var rng = new Random(1234);
        return Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();
    }

    private static double[] Repeat(int n, Func<double> sample) => Enumerable.Range(0, n).Select(_ => sample()).ToArray();

    public static double Median(double[] xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Sample standard deviation (0 for one sample).</summary>
    public static double StdDev(double[] xs)
    {
        if (xs.Length < 2) return 0;
        double mean = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Length - 1));
    }
}
