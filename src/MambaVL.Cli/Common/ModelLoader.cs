// Wires a model folder to a runnable model: ModelFolder finds the files, ModelRegistry picks the architecture from
// config.json, the weights bind on a CpuBackend, and tokenizer.json or tokenizer.model (when present) gives text.
using System.Diagnostics;
using MambaVL.Core.Config;
using MambaVL.Core.Models;
using MambaVL.Core.Text;
using MambaVL.Core.Weights;
using MambaVL.Cpu;
using MambaVL.IO;
using MambaVL.IO.Tokenizers;
using MambaVL.Models;

namespace MambaVL.Cli.Common;

public sealed class LoadedModel : IDisposable
{
    public required ModelFolder Folder { get; init; }
    public required ConfigJson Config { get; init; }
    public required IWeightSource Weights { get; init; }
    public required ILanguageModel Model { get; init; }
    public ITokenizer? Tokenizer { get; init; }
    public double LoadSeconds { get; init; }
    private IDisposable? BackendOwner { get; init; }

    public void Dispose()
    {
        Weights.Dispose();
        BackendOwner?.Dispose();
    }

    /// <summary>Opens <paramref name="path"/> and loads the model on <paramref name="device"/> (cpu: <paramref name="threads"/> threads, 0 = all).</summary>
    public static LoadedModel Load(string path, int threads, bool loadTokenizer = true, string device = "cpu")
    {
        long start = Stopwatch.GetTimestamp();
        var folder = ModelFolder.Open(path);
        var config = ConfigJson.Load(folder.ConfigPath!);
        var (backend, owner) = Backends.Create(device, threads);
        IWeightSource? weights = null;
        try
        {
            weights = folder.OpenWeights();
            var model = ModelRegistry.Load(config, weights, backend);
            var tokenizer = loadTokenizer ? TokenizerLoader.TryFromModelDirectory(folder.Directory) : null;
            return new LoadedModel
            {
                Folder = folder, Config = config, Weights = weights, Model = model, Tokenizer = tokenizer,
                LoadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds, BackendOwner = owner,
            };
        }
        catch
        {
            weights?.Dispose();
            owner.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The ids that end generation: eos_token_id from generation_config.json and config.json (a number or a list),
    /// else the tokenizer's end-of-text token.
    /// </summary>
    public int[] EndOfSequenceIds()
    {
        var ids = new SortedSet<int>();
        if (Folder.GenerationConfigPath is { } gen) ids.UnionWith(EosIds(ConfigJson.Load(gen)));
        ids.UnionWith(EosIds(Config));
        if (ids.Count == 0 && Tokenizer is { } t)
            foreach (var name in new[] { "<|endoftext|>", "</s>", "<|end_of_text|>" })
                if (t.TokenToId(name) is int id) { ids.Add(id); break; }
        return [.. ids.Where(id => id < Model.VocabSize)];
    }

    private static int[] EosIds(ConfigJson config)
    {
        try { return config.Int("eos_token_id") is int id ? [id] : []; }
        catch (FormatException) { return config.IntArray("eos_token_id") ?? []; }
    }
}
