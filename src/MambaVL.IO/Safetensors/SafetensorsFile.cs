// Reads one .safetensors file by memory-mapping it: an 8-byte header length, a JSON header, then raw tensor bytes.
// Tensors are zero-copy views of the mapping.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;

namespace MambaVL.IO.Safetensors;

public sealed class SafetensorsFile : IWeightSource
{
    private readonly MappedFile _file;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
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
            if (headerLen > 100_000_000 || (long)headerLen > _file.Length - 8)
                throw new ModelLoadException($"{path}: corrupt safetensors header length {headerLen} (file has {_file.Length} bytes)");
            _dataStart = 8 + (long)headerLen;
            ParseHeader(_file.Span(8, (int)headerLen));
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public IReadOnlyCollection<string> Names => _entries.Keys;
    public bool Contains(string name) => _entries.ContainsKey(name);

    public (int[] Shape, DType DType) Info(string name)
    {
        var e = Find(name);
        return ((int[])e.Shape.Clone(), e.DType);
    }

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

    private void ParseHeader(ReadOnlySpan<byte> json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(Encoding.UTF8.GetString(json)); }
        catch (JsonException e) { throw new ModelLoadException($"{Path}: corrupt safetensors header: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelLoadException($"{Path}: safetensors header is not a JSON object");
            long dataLength = _file.Length - _dataStart;
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__") { Metadata = ReadMetadata(prop.Value); continue; }
                _entries[prop.Name] = ReadEntry(prop.Name, prop.Value, dataLength);
            }
        }
    }

    private Entry ReadEntry(string name, JsonElement v, long dataLength)
    {
        try
        {
            string dt = v.GetProperty("dtype").GetString() ?? "";
            var dtype = DTypeInfo.FromSafetensorsName(dt)
                ?? throw new ModelLoadException($"{Path}: tensor '{name}' has unsupported dtype {dt}");
            int[] shape = v.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            long[] off = v.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            long count = 1; foreach (int d in shape) { if (d < 0) throw new FormatException("negative dimension"); count *= d; }
            if (off.Length != 2 || off[0] < 0 || off[1] < off[0] || off[1] > dataLength)
                throw new ModelLoadException($"{Path}: tensor '{name}' has data offsets outside the file");
            if (off[1] - off[0] != count * dtype.Size())
                throw new ModelLoadException($"{Path}: tensor '{name}' holds {off[1] - off[0]} bytes but shape {Tensor.ShapeString(shape)} {dt} needs {count * dtype.Size()}");
            return new Entry(dtype, shape, off[0], off[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelLoadException($"{Path}: malformed header entry for tensor '{name}': {e.Message}", e);
        }
    }

    private static Dictionary<string, string> ReadMetadata(JsonElement v) =>
        v.ValueKind == JsonValueKind.Object
            ? v.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText())
            : new Dictionary<string, string>();
}
