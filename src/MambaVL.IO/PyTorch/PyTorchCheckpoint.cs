// Reads torch.save checkpoints (pytorch_model.bin, *.pt, *.pth) in the zip format of torch >= 1.6: a zip holding
// <dir>/data.pkl (the object graph, a pickle) and <dir>/data/<key> (raw little-endian storage bytes, one per storage).
// Nested dicts flatten to dotted names; tensors are zero-copy views of the mapped file when stored and contiguous.
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.Common;
using MambaVL.IO.Pickle;

namespace MambaVL.IO.PyTorch;

public sealed class PyTorchCheckpoint : IWeightSource
{
    private const int MaxNesting = 64;
    private const int MaxVisits = 1_000_000;   // a shared container referenced from many places can blow up the walk
    private int _visits;
    private readonly MappedFile _file;
    private readonly Dictionary<string, ZipEntry> _entries;
    private readonly string _dir;
    private readonly Dictionary<string, TorchTensorRef> _tensors = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly Dictionary<string, CpuStorage> _storages = new(StringComparer.Ordinal);

    public string Path => _file.Path;
    public string Description { get; }

    /// <param name="path">A torch.save file.</param>
    /// <param name="root">Optional dotted path of a sub-dict to use as the root, e.g. "model" for {"model": {...}}.</param>
    public PyTorchCheckpoint(string path, string? root = null)
    {
        if (!File.Exists(path)) throw new ModelLoadException($"{path}: file not found");
        Description = root is null ? path : $"{path} (under '{root}')";
        _file = new MappedFile(path);
        try
        {
            if (!ZipDirectory.LooksLikeZip(_file)) throw NotAZip();
            _entries = ZipDirectory.Read(_file);
            _dir = FindArchiveDir();
            CheckByteOrder();
            object? graph = new TorchPickle(path).Load(ZipDirectory.ReadAllBytes(_file, _entries[$"{_dir}/data.pkl"]));
            var all = new List<(string, TorchTensorRef)>();
            Flatten(graph, "", 0, [], all);
            var full = new Dictionary<string, TorchTensorRef>(StringComparer.Ordinal);
            foreach (var (name, t) in all)
                if (!full.TryAdd(name, t)) throw new ModelLoadException($"{path}: two tensors flatten to the same name '{name}'");
            var chosen = root is null ? full.Keys.ToDictionary(n => n) : WeightSubtree.SelectRoot(full.Keys, root, path);
            foreach (var (shortName, fullName) in chosen)
            {
                CheckStorage(shortName, full[fullName]);
                _tensors[shortName] = full[fullName];
                _names.Add(shortName);
            }
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public IReadOnlyCollection<string> Names => _names;
    public bool Contains(string name) => _tensors.ContainsKey(name);
    public string FileOf(string name) => Path;

    public (int[] Shape, DType DType) Info(string name)
    {
        var t = Find(name);
        return ((int[])t.Shape.Clone(), t.Storage.DType);
    }

    /// <summary>The tensor, contiguous: a view of the mapped file when possible, else a copy.</summary>
    public Tensor Get(string name)
    {
        var t = Find(name);
        var view = new Tensor(StorageOf(t.Storage.Key), t.Storage.DType, t.Shape, t.Strides, t.Offset);
        return view.IsContiguous ? view : StridedCopy.Contiguous(view);
    }

    public void Dispose()
    {
        lock (_storages)
        {
            foreach (var s in _storages.Values) s.Dispose();
            _storages.Clear();
        }
        _file.Dispose();
    }

    private TorchTensorRef Find(string name) => _tensors.TryGetValue(name, out var t) ? t
        : throw new ModelLoadException($"{Description}: missing tensor '{name}'");

    // One storage object per key, so tensors that share a storage in torch share it here too.
    private CpuStorage StorageOf(string key)
    {
        lock (_storages)
        {
            if (_storages.TryGetValue(key, out var s)) return s;
            var e = _entries[$"{_dir}/data/{key}"];
            if (e.Method == ZipEntry.Stored) s = new MappedStorage(_file, e.DataOffset, e.UncompressedSize);
            else
            {
                var native = new NativeStorage(e.UncompressedSize);
                unsafe { ZipDirectory.Extract(_file, e, native.Pointer); }
                s = native;
            }
            _storages[key] = s;
            return s;
        }
    }

    private void CheckStorage(string name, TorchTensorRef t)
    {
        string entryName = $"{_dir}/data/{t.Storage.Key}";
        if (!_entries.TryGetValue(entryName, out var e))
            throw new ModelLoadException($"{Path}: tensor '{name}' needs storage '{t.Storage.Key}' but the archive has no entry {entryName}");
        long needed = t.Storage.Numel > long.MaxValue / 8 ? long.MaxValue : t.Storage.Numel * t.Storage.DType.Size();
        if (e.UncompressedSize < needed)
            throw new ModelLoadException($"{Path}: storage '{t.Storage.Key}' of tensor '{name}' has {e.UncompressedSize} bytes but needs {needed}");
    }

    // {"model": {"mlp": {"fc1.weight": t}}} -> "model.mlp.fc1.weight"; lists and tuples index by position.
    private void Flatten(object? v, string prefix, int depth, HashSet<object> open, List<(string, TorchTensorRef)> into)
    {
        if (v is TorchTensorRef t)
        {
            if (prefix.Length == 0) throw new ModelLoadException($"{Path}: holds a single tensor, not a dict of named tensors");
            into.Add((prefix, t));
            return;
        }
        var children = Children(v);
        if (children is null) return;  // a number, string, None...: not a weight
        if (depth >= MaxNesting) throw new ModelLoadException($"{Path}: containers nested more than {MaxNesting} deep under '{prefix}'");
        if (++_visits > MaxVisits) throw new ModelLoadException($"{Path}: more than {MaxVisits} containers to walk; refusing a pathological object graph");
        if (!open.Add(v!)) throw new ModelLoadException($"{Path}: a container contains itself under '{prefix}'");
        foreach (var (key, child) in children)
        {
            string? part = KeyName(key);
            if (part is null)
            {
                if (child is TorchTensorRef or PyDict or PyList or PyTuple)
                    throw new ModelLoadException($"{Path}: a dict under '{prefix}' has a key that is {RestrictedUnpickler.Describe(key)}, not a name");
                continue;
            }
            Flatten(child, prefix.Length == 0 ? part : $"{prefix}.{part}", depth + 1, open, into);
        }
        open.Remove(v!);
    }

    private static IEnumerable<KeyValuePair<object?, object?>>? Children(object? v) => v switch
    {
        PyDict d => d.Entries,
        PyList l => l.Items.Select((x, i) => new KeyValuePair<object?, object?>((long)i, x)),
        PyTuple t => t.Items.Select((x, i) => new KeyValuePair<object?, object?>((long)i, x)),
        _ => null,
    };

    private static string? KeyName(object? key) => key switch
    {
        string s => s,
        long or System.Numerics.BigInteger => key.ToString(),
        _ => null,
    };

    // torch's reader takes the directory of the archive's records, "<dir>/data.pkl" (dir is "archive" or the file stem).
    private string FindArchiveDir()
    {
        var dirs = _entries.Keys.Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - 9)
            .Select(n => n[..^9]).ToList();
        if (dirs.Count == 1) return dirs[0];
        if (_entries.Keys.Any(n => n.EndsWith("/constants.pkl", StringComparison.Ordinal)))
            throw new ModelLoadException($"{Path}: this is a TorchScript archive (torch.jit.save); save the model's state_dict with torch.save instead");
        throw new ModelLoadException(dirs.Count == 0
            ? $"{Path}: a zip file but not a torch.save checkpoint (no <dir>/data.pkl entry)"
            : $"{Path}: corrupt checkpoint: several data.pkl entries ({string.Join(", ", dirs)})");
    }

    private void CheckByteOrder()
    {
        if (!_entries.TryGetValue($"{_dir}/byteorder", out var e)) return;  // torch < 2.1 writes none: little-endian
        string order = System.Text.Encoding.ASCII.GetString(ZipDirectory.ReadAllBytes(_file, e)).Trim();
        if (order != "little") throw new ModelLoadException($"{Path}: checkpoint was saved on a {order}-endian machine; only little-endian is supported");
    }

    private ModelLoadException NotAZip()
    {
        var head = _file.Length >= 2 ? _file.Span(0, 2) : default;
        if (head.Length == 2 && head[0] == 0x80 && head[1] <= 5)
            return new ModelLoadException($"{Path}: legacy PyTorch format (torch < 1.6, or _use_new_zipfile_serialization=False) is not supported; " +
                "re-save it with torch >= 1.6: torch.save(torch.load(old), new)");
        if (_file.Length > 262 && _file.Span(257, 5).SequenceEqual("ustar"u8))
            return new ModelLoadException($"{Path}: tar-format PyTorch checkpoint (torch < 0.4) is not supported; re-save it with torch >= 1.6");
        return new ModelLoadException($"{Path}: not a PyTorch checkpoint (no zip directory found; file may be truncated)");
    }
}
