// Finds what a model folder holds: config.json, the weights (first match wins: model.safetensors.index.json,
// model.safetensors, *.safetensors, pytorch_model.bin.index.json, pytorch_model.bin, *.pt / *.pth), tokenizer.json
// and generation_config.json. A weights file may be given instead of a folder; its folder supplies the rest.
using System.Text.RegularExpressions;
using MambaVL.Core.Weights;

namespace MambaVL.IO;

/// <summary>How the weights of a folder are stored.</summary>
public enum WeightLayout { SafetensorsIndex, Safetensors, SafetensorsShards, PyTorchIndex, PyTorch }

public sealed partial class ModelFolder
{
    private const string SearchOrder =
        "model.safetensors.index.json, model.safetensors, *.safetensors, pytorch_model.bin.index.json, pytorch_model.bin, *.pt, *.pth";

    public string Directory { get; }
    /// <summary>config.json, or null when absent (only possible with requireConfig: false).</summary>
    public string? ConfigPath { get; }
    public WeightLayout Layout { get; }
    /// <summary>The index file, or the weight file(s).</summary>
    public IReadOnlyList<string> WeightFiles { get; }
    public string? TokenizerPath { get; }
    public string? GenerationConfigPath { get; }

    private ModelFolder(string dir, string? config, WeightLayout layout, IReadOnlyList<string> weights)
    {
        (Directory, ConfigPath, Layout, WeightFiles) = (dir, config, layout, weights);
        TokenizerPath = Existing(dir, "tokenizer.json");
        GenerationConfigPath = Existing(dir, "generation_config.json");
    }

    /// <summary>Looks at a folder, or at a weights file and the folder around it.</summary>
    /// <param name="requireConfig">When true (the default), a folder without config.json is an error.</param>
    public static ModelFolder Open(string path, bool requireConfig = true)
    {
        string full = Path.GetFullPath(path);
        string dir;
        (WeightLayout, string[])? weights = null;
        if (System.IO.Directory.Exists(full)) dir = full;
        else if (File.Exists(full))
        {
            dir = Path.GetDirectoryName(full)!;
            if (!Path.GetFileName(full).Equals("config.json", StringComparison.OrdinalIgnoreCase)) weights = (LayoutOfFile(full), [full]);
        }
        else throw new ModelLoadException($"{path}: no such folder or file");

        weights ??= FindWeights(dir) ?? throw new ModelLoadException($"{dir}: no weights found (looked for {SearchOrder})");
        string? config = Existing(dir, "config.json");
        if (config is null && requireConfig)
            throw new ModelLoadException($"{dir}: no config.json (it tells MambaVL the model's type and shape)");
        return new ModelFolder(dir, config, weights.Value.Item1, weights.Value.Item2);
    }

    /// <summary>The weights as one source; <paramref name="root"/> optionally selects a sub-dict such as "model".</summary>
    public IWeightSource OpenWeights(string? root = null)
    {
        if (Layout == WeightLayout.PyTorch || Layout == WeightLayout.Safetensors) return ShardedCheckpoint.OpenFile(WeightFiles[0], root);
        IWeightSource all = Layout == WeightLayout.SafetensorsShards
            ? ShardedCheckpoint.FromFiles(WeightFiles, Directory)
            : ShardedCheckpoint.FromIndex(WeightFiles[0]);
        if (root is null) return all;
        try { return new WeightSubtree(all, root); }
        catch { all.Dispose(); throw; }
    }

    private static (WeightLayout, string[])? FindWeights(string dir)
    {
        if (Existing(dir, "model.safetensors.index.json") is string stIndex) return (WeightLayout.SafetensorsIndex, [stIndex]);
        if (Existing(dir, "model.safetensors") is string st) return (WeightLayout.Safetensors, [st]);
        var stFiles = Files(dir, "*.safetensors");
        if (stFiles.Length == 1) return (WeightLayout.Safetensors, stFiles);
        if (stFiles.Length > 1)
            return stFiles.All(f => ShardName().IsMatch(Path.GetFileName(f))) ? (WeightLayout.SafetensorsShards, stFiles) : throw Ambiguous(dir, stFiles);
        if (Existing(dir, "pytorch_model.bin.index.json") is string binIndex) return (WeightLayout.PyTorchIndex, [binIndex]);
        if (Existing(dir, "pytorch_model.bin") is string bin) return (WeightLayout.PyTorch, [bin]);
        var ptFiles = Files(dir, "*.pt").Concat(Files(dir, "*.pth")).ToArray();
        if (ptFiles.Length > 1) throw Ambiguous(dir, ptFiles);
        return ptFiles.Length == 1 ? (WeightLayout.PyTorch, ptFiles) : null;
    }

    private static WeightLayout LayoutOfFile(string file)
    {
        string name = Path.GetFileName(file).ToLowerInvariant();
        if (name.EndsWith(".safetensors.index.json")) return WeightLayout.SafetensorsIndex;
        if (name.EndsWith(".index.json")) return WeightLayout.PyTorchIndex;
        if (name.EndsWith(".safetensors")) return WeightLayout.Safetensors;
        if (name.EndsWith(".bin") || name.EndsWith(".pt") || name.EndsWith(".pth")) return WeightLayout.PyTorch;
        throw new ModelLoadException($"{file}: not a model folder or a known weights file (.safetensors, .bin, .pt, .pth, .index.json)");
    }

    private static ModelLoadException Ambiguous(string dir, string[] files) => new(
        $"{dir}: several weight files ({string.Join(", ", files.Select(Path.GetFileName))}) and no index; pass the one to load");

    private static string[] Files(string dir, string pattern) =>
        System.IO.Directory.GetFiles(dir, pattern).Where(f => f.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToArray();

    private static string? Existing(string dir, string name)
    {
        string p = Path.Combine(dir, name);
        return File.Exists(p) ? p : null;
    }

    [GeneratedRegex(@"-\d+-of-\d+\.safetensors$", RegexOptions.IgnoreCase)]
    private static partial Regex ShardName();
}
