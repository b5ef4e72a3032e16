// A checkpoint split over several files, seen as one weight source. An index (model.safetensors.index.json or
// pytorch_model.bin.index.json) is JSON {"metadata": {...}, "weight_map": {"tensor name": "shard file name", ...}};
// shards sit beside it. Every shard is opened and every listed tensor checked up front, so errors come early.
using System.Text.Json;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.PyTorch;
using MambaVL.IO.Safetensors;

namespace MambaVL.IO;

public sealed class ShardedCheckpoint : IWeightSource
{
    private readonly List<IWeightSource> _shards;
    private readonly Dictionary<string, IWeightSource> _owner;
    private readonly List<string> _names;

    private ShardedCheckpoint(string description, List<IWeightSource> shards, Dictionary<string, IWeightSource> owner, List<string> names) =>
        (Description, _shards, _owner, _names) = (description, shards, owner, names);

    public string Description { get; }
    public IReadOnlyCollection<string> Names => _names;
    public IReadOnlyList<IWeightSource> Shards => _shards;
    public bool Contains(string name) => _owner.ContainsKey(name);
    public Tensor Get(string name) => Owner(name).Get(name);
    public (int[] Shape, DType DType) Info(string name) => Owner(name).Info(name);
    public string FileOf(string name) => Owner(name).FileOf(name);

    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }

    /// <summary>Opens one checkpoint file by its extension: .safetensors, else a torch.save zip.</summary>
    public static IWeightSource OpenFile(string path, string? root = null)
    {
        if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return new PyTorchCheckpoint(path, root);
        var st = new SafetensorsFile(path);
        if (root is null) return st;
        try { return new WeightSubtree(st, root); }
        catch { st.Dispose(); throw; }
    }

    /// <summary>The shards named by an index file's weight_map.</summary>
    public static ShardedCheckpoint FromIndex(string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        var opened = new Dictionary<string, IWeightSource>(StringComparer.Ordinal);
        try
        {
            var owner = new Dictionary<string, IWeightSource>(StringComparer.Ordinal);
            foreach (var (name, shardName) in weightMap)
            {
                if (!opened.TryGetValue(shardName, out var shard))
                {
                    string shardPath = System.IO.Path.Combine(dir, shardName);
                    if (!File.Exists(shardPath))
                        throw new ModelLoadException($"{indexPath}: shard '{shardName}' (listed for tensor '{name}') is missing: {shardPath}");
                    opened[shardName] = shard = OpenFile(shardPath);
                }
                if (!shard.Contains(name))
                    throw new ModelLoadException($"{indexPath}: tensor '{name}' is listed in the index but absent from shard {shard.Description}");
                owner[name] = shard;
            }
            return new ShardedCheckpoint(indexPath, opened.Values.ToList(), owner, weightMap.Select(kv => kv.Key).ToList());
        }
        catch
        {
            foreach (var s in opened.Values) s.Dispose();
            throw;
        }
    }

    /// <summary>Several checkpoint files without an index (e.g. model-00001-of-00002.safetensors ...): the union of their tensors.</summary>
    public static ShardedCheckpoint FromFiles(IReadOnlyList<string> files, string description)
    {
        var shards = new List<IWeightSource>();
        try
        {
            var owner = new Dictionary<string, IWeightSource>(StringComparer.Ordinal);
            var names = new List<string>();
            foreach (var f in files)
            {
                var shard = OpenFile(f);
                shards.Add(shard);
                foreach (var n in shard.Names)
                {
                    if (owner.TryGetValue(n, out var other))
                        throw new ModelLoadException($"{description}: tensor '{n}' is in both {other.Description} and {shard.Description}");
                    owner[n] = shard;
                    names.Add(n);
                }
            }
            return new ShardedCheckpoint(description, shards, owner, names);
        }
        catch
        {
            foreach (var s in shards) s.Dispose();
            throw;
        }
    }

    private IWeightSource Owner(string name) => _owner.TryGetValue(name, out var s) ? s
        : throw new ModelLoadException($"{Description}: missing tensor '{name}'");

    private static List<KeyValuePair<string, string>> ReadWeightMap(string indexPath)
    {
        if (!File.Exists(indexPath)) throw new ModelLoadException($"{indexPath}: file not found");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map)
                || map.ValueKind != JsonValueKind.Object)
                throw new ModelLoadException($"{indexPath}: not a checkpoint index (no \"weight_map\" object)");
            var result = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                string shard = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new ModelLoadException(
                    $"{indexPath}: weight_map entry '{p.Name}' is not a file name");
                if (shard.Length == 0 || System.IO.Path.IsPathRooted(shard) || shard.Split('/', '\\').Contains(".."))
                    throw new ModelLoadException($"{indexPath}: weight_map entry '{p.Name}' names '{shard}', which is not a file beside the index");
                if (!seen.Add(p.Name)) throw new ModelLoadException($"{indexPath}: weight_map lists tensor '{p.Name}' twice");
                result.Add(new(p.Name, shard));
            }
            if (result.Count == 0) throw new ModelLoadException($"{indexPath}: weight_map is empty");
            return result;
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{indexPath}: invalid JSON: {e.Message}", e);
        }
    }
}
