// Writes tensors to a .safetensors file. Writes to a temporary name first and renames at the end,
// so an interrupted write never leaves a file that looks complete.
using System.Text;
using System.Text.Json;
using MambaVL.Core.Tensors;

namespace MambaVL.IO.Safetensors;

public static class SafetensorsWriter
{
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        Write(path, list.Select(kv => new TensorSpec(kv.Key, kv.Value.DType, kv.Value.ShapeArray)).ToList(), i => list[i].Value, metadata);
    }

    /// <summary>What a tensor will be, declared before its data exists (the header comes first in the file).</summary>
    public sealed record TensorSpec(string Name, DType DType, int[] Shape)
    {
        public long ByteLength => Shape.Aggregate(1L, (n, d) => n * d) * DType.Size();
    }

    /// <summary>
    /// Streams tensors that are produced one at a time (<paramref name="produce"/>(i) must match <paramref name="specs"/>[i]):
    /// a conversion of a checkpoint larger than memory holds one tensor at a time. <paramref name="written"/> gets the
    /// bytes written so far after each tensor.
    /// </summary>
    public static void Write(string path, IReadOnlyList<TensorSpec> specs, Func<int, Tensor> produce,
        IReadOnlyDictionary<string, string>? metadata = null, Action<long>? written = null)
    {
        var duplicate = specs.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"{path}: tensor name '{duplicate.Key}' given twice");
        byte[] header = BuildHeader(specs, metadata);
        string tmp = path + ".partial";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                fs.Write(BitConverter.GetBytes((ulong)header.Length));
                fs.Write(header);
                long done = 0;
                for (int i = 0; i < specs.Count; i++)
                {
                    var t = produce(i);
                    if (t.DType != specs[i].DType || !t.Shape.SequenceEqual(specs[i].Shape))
                        throw new ArgumentException($"{path}: tensor '{specs[i].Name}' is {t}, but the header says {specs[i].DType} {Tensor.ShapeString(specs[i].Shape)}");
                    WriteData(fs, t);
                    written?.Invoke(done += t.ByteLength);
                }
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    private static byte[] BuildHeader(IReadOnlyList<TensorSpec> list, IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in list)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType.SafetensorsName());
                w.WriteStartArray("shape"); foreach (int d in t.Shape) w.WriteNumberValue(d); w.WriteEndArray();
                w.WriteStartArray("data_offsets"); w.WriteNumberValue(offset); offset += t.ByteLength; w.WriteNumberValue(offset); w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        // pad the header with spaces to a multiple of 8 so tensor data stays aligned
        var bytes = ms.ToArray().ToList();
        while ((bytes.Count + 8) % 8 != 0) bytes.Add((byte)' ');
        return bytes.ToArray();
    }

    private static unsafe void WriteData(Stream s, Tensor t)
    {
        if (!t.IsContiguous) throw new ArgumentException($"cannot write non-contiguous {t}; make it contiguous first");
        byte* p = (byte*)t.DataPointer;
        long remaining = t.ByteLength;
        while (remaining > 0)
        {
            int n = (int)Math.Min(remaining, 1 << 30);
            s.Write(new ReadOnlySpan<byte>(p, n));
            p += n; remaining -= n;
        }
    }
}
