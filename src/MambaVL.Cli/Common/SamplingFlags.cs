// The sampling and length flags of `generate` and `chat`, spelled as llama.cpp's, defined once.
using System.CommandLine;
using MambaVL.Generation.Sampling;

namespace MambaVL.Cli.Common;

public sealed class SamplingFlags
{
    public Option<int> MaxTokens { get; }
    public Option<float> Temperature { get; }
    public Option<int> TopK { get; } = new("--top-k") { Description = "Top-k (0 = off)", DefaultValueFactory = _ => 40 };
    public Option<float> TopP { get; } = new("--top-p") { Description = "Top-p (1 = off)", DefaultValueFactory = _ => 0.95f };
    public Option<float> MinP { get; } = new("--min-p") { Description = "Min-p (0 = off)", DefaultValueFactory = _ => 0.05f };
    public Option<float> RepeatPenalty { get; } = new("--repeat-penalty") { Description = "Repetition penalty (1 = off)", DefaultValueFactory = _ => 1.0f };
    public Option<int> RepeatLastN { get; } = new("--repeat-last-n") { Description = "Ids the penalty looks back on (0 = off, -1 = all)", DefaultValueFactory = _ => 64 };
    public Option<long> Seed { get; } = new("--seed", "-s") { Description = "Random seed (-1 = random; the one used is printed)", DefaultValueFactory = _ => -1 };

    /// <param name="defaultTemperature">generate samples (0.8) as llama.cpp; chat is greedy (0) as ML-Mamba's authors evaluate.</param>
    public SamplingFlags(float defaultTemperature, int defaultMaxTokens)
    {
        MaxTokens = new("--max-tokens", "-n", "--n-predict") { Description = "Most new tokens (-1 = until end of sequence)", DefaultValueFactory = _ => defaultMaxTokens };
        Temperature = new("--temp", "--temperature") { Description = "Temperature (0 = greedy)", DefaultValueFactory = _ => defaultTemperature };
    }

    public IEnumerable<Option> All => [MaxTokens, Temperature, TopK, TopP, MinP, RepeatPenalty, RepeatLastN, Seed];

    public SamplingOptions Read(ParseResult parse)
    {
        var sampling = new SamplingOptions
        {
            Temperature = parse.GetValue(Temperature), TopK = parse.GetValue(TopK), TopP = parse.GetValue(TopP),
            MinP = parse.GetValue(MinP), RepeatPenalty = parse.GetValue(RepeatPenalty), RepeatLastN = parse.GetValue(RepeatLastN),
            Seed = parse.GetValue(Seed) is long s and >= 0 ? (ulong)s : null,
        };
        sampling.Validate();  // bad values fail here, before a model is loaded
        return sampling;
    }
}
