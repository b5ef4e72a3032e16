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
        var duplicate = list.GroupBy(kv => kv.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"{path}: tensor name '{duplicate.Key}' given twice");
        byte[] header = BuildHeader(list, metadata);
        string tmp = path + ".partial";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                fs.Write(BitConverter.GetBytes((ulong)header.Length));
                fs.Write(header);
                foreach (var (_, t) in list) WriteData(fs, t);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    private static byte[] BuildHeader(List<KeyValuePair<string, Tensor>> list, IReadOnlyDictionary<string, string>? metadata)
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
            foreach (var (name, t) in list)
            {
                w.WriteStartObject(name);
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
