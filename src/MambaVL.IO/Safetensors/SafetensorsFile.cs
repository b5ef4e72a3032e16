// Reads one .safetensors file by memory-mapping it. Format: an 8-byte little-endian header length N, N bytes of
// UTF-8 JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}, then the
// raw little-endian tensor bytes; offsets are relative to the end of the header and tile the data exactly.
using System.Buffers.Binary;
using System.Text.Json;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;

namespace MambaVL.IO.Safetensors;

public sealed class SafetensorsFile : IWeightSource
{
    private const long MaxHeaderBytes = 100_000_000;  // the Rust reference refuses larger headers too
    private static readonly string[] KnownUnsupported = ["I8", "I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F6_E2M3", "F4"];

    private readonly MappedFile _file;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly long _dataStart;

    private readonly record struct Entry(DType DType, int[] Shape, long Begin, long End);

    public string Path => _file.Path;
    public string Description => Path;
    public IReadOnlyDictionary<string, string> Metadata { get; private set; } = new Dictionary<string, string>();

    public SafetensorsFile(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException($"{path}: file not found");
        _file = new MappedFile(path);
        try
        {
            if (_file.Length < 8) throw new ModelLoadException($"{path}: not a safetensors file (only {_file.Length} bytes)");
            ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(_file.Span(0, 8));
            if (headerLen < 2 || headerLen > MaxHeaderBytes || (long)headerLen > _file.Length - 8)
                throw new ModelLoadException($"{path}: not a safetensors file or truncated: header length {headerLen} (file has {_file.Length} bytes)");
            _dataStart = 8 + (long)headerLen;
            ParseHeader(_file.Span(8, (int)headerLen).ToArray());
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    /// <summary>Tensor names in file order (by data offset).</summary>
    public IReadOnlyCollection<string> Names => _names;
    public bool Contains(string name) => _entries.ContainsKey(name);

    public (int[] Shape, DType DType) Info(string name)
    {
        var e = Find(name);
        return ((int[])e.Shape.Clone(), e.DType);
    }

    /// <summary>A zero-copy view of the mapped file; valid until this object is disposed.</summary>
    public Tensor Get(string name)
    {
        var e = Find(name);
        var storage = new MappedStorage(_file, _dataStart + e.Begin, e.End - e.Begin);
        return new Tensor(storage, e.DType, e.Shape);
    }

    public string FileOf(string name) => Path;

    public void Dispose() => _file.Dispose();

    private Entry Find(string name) => _entries.TryGetValue(name, out var e) ? e
        : throw new ModelLoadException($"{Path}: missing tensor '{name}'");

    private void ParseHeader(byte[] json)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new ModelLoadException($"{Path}: corrupt safetensors header (not valid UTF-8 JSON)");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new ModelLoadException($"{Path}: corrupt safetensors header (not valid UTF-8 JSON): {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelLoadException($"{Path}: safetensors header is not a JSON object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(prop.Name)) throw new ModelLoadException($"{Path}: safetensors header names '{prop.Name}' twice");
                if (prop.Name == "__metadata__") Metadata = ReadMetadata(prop.Value);
                else _entries[prop.Name] = ReadEntry(prop.Name, prop.Value);
            }
        }
        CheckLayout();
    }

    private Entry ReadEntry(string name, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) throw Malformed(name, "entry is not an object");
        string dt = v.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : throw Malformed(name, "no dtype");
        var dtype = DTypeInfo.FromSafetensorsName(dt) ?? throw new ModelLoadException(KnownUnsupported.Contains(dt)
            ? $"{Path}: tensor '{name}' has dtype {dt}, which MambaVL does not support"
            : $"{Path}: tensor '{name}' has unknown dtype '{dt}' (expected F32, F16, BF16, F64, I64, I32, U8 or BOOL)");
        long[] dims = Integers(name, v, "shape", -1);
        long[] off = Integers(name, v, "data_offsets", 2);
        long bytes;
        try { bytes = checked(dims.Aggregate(1L, (n, dim) => n * dim) * dtype.Size()); }
        catch (OverflowException) { throw Malformed(name, $"shape {Shape(dims)} overflows"); }
        if (dims.Any(dim => dim > int.MaxValue)) throw Malformed(name, $"a dimension of {Shape(dims)} exceeds {int.MaxValue}");
        if (off[1] < off[0]) throw Malformed(name, $"data_offsets [{off[0]}, {off[1]}] end before they begin");
        if (off[1] - off[0] != bytes)
            throw new ModelLoadException($"{Path}: tensor '{name}' holds {off[1] - off[0]} bytes but shape {Shape(dims)} {dt} needs {bytes}");
        return new Entry(dtype, dims.Select(x => (int)x).ToArray(), off[0], off[1]);
    }

    // Like the reference implementation: tensors tile [0, data length) in offset order with no gap or overlap.
    private void CheckLayout()
    {
        long dataLength = _file.Length - _dataStart, expected = 0;
        string previous = "the start of the data";
        foreach (var (name, e) in _entries.OrderBy(kv => kv.Value.Begin).ThenBy(kv => kv.Value.End))
        {
            if (e.Begin != expected)
                throw new ModelLoadException(e.Begin < expected
                    ? $"{Path}: tensor '{name}' data [{e.Begin}, {e.End}) overlaps {previous}"
                    : $"{Path}: gap of {e.Begin - expected} bytes before tensor '{name}' data [{e.Begin}, {e.End})");
            if (e.End > dataLength)
                throw new ModelLoadException($"{Path}: truncated: tensor '{name}' data ends at byte {_dataStart + e.End} but the file has {_file.Length}");
            (expected, previous) = (e.End, $"tensor '{name}'");
            _names.Add(name);
        }
        if (expected != dataLength)
            throw new ModelLoadException($"{Path}: {dataLength - expected} bytes after the last tensor's data (corrupt header or file)");
    }

    private long[] Integers(string name, JsonElement v, string key, int count)
    {
        if (!v.TryGetProperty(key, out var a) || a.ValueKind != JsonValueKind.Array || (count >= 0 && a.GetArrayLength() != count))
            throw Malformed(name, $"'{key}' is missing or not an array{(count >= 0 ? $" of {count}" : "")}");
        return a.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out long n) && n >= 0 ? n
            : throw Malformed(name, $"'{key}' holds {x.GetRawText()}, not a non-negative integer")).ToArray();
    }

    private ModelLoadException Malformed(string name, string what) => new($"{Path}: malformed header entry for tensor '{name}': {what}");

    private static string Shape(long[] dims) => "[" + string.Join(", ", dims) + "]";

    private static Dictionary<string, string> ReadMetadata(JsonElement v)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (v.ValueKind != JsonValueKind.Object) return result;
        foreach (var p in v.EnumerateObject())
            result[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        return result;
    }
}
