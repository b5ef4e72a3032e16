// A tokenizer.json small enough for the tiny test models: byte-level BPE with no merges over printable ASCII, space (Ġ)
// and newline (Ċ), plus <|endoftext|> as a special token. Linked into the test projects that need a tokenizer.
using System.Text.Json;

namespace MambaVL.Tests.Shared;

public static class ByteLevelTokenizerJson
{
    /// <summary>
    /// The JSON: 96 character ids from <paramref name="firstCharId"/> (the 94 printable characters, then Ġ and Ċ) and
    /// &lt;|endoftext|&gt; at <paramref name="endOfTextId"/> (outside that range).
    /// </summary>
    public static string Create(int endOfTextId, int firstCharId)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            var byteLevel = """{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}""";
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WritePropertyName("added_tokens");
            w.WriteRawValue($$"""[{"id":{{endOfTextId}},"content":"<|endoftext|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}]""");
            w.WriteNull("normalizer");
            w.WritePropertyName("pre_tokenizer"); w.WriteRawValue(byteLevel);
            w.WriteNull("post_processor");
            w.WritePropertyName("decoder"); w.WriteRawValue(byteLevel);
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("unk_token");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteStartObject("vocab");
            for (int c = 33; c <= 126; c++) w.WriteNumber(((char)c).ToString(), firstCharId + c - 33);
            w.WriteNumber("Ġ", firstCharId + 94);
            w.WriteNumber("Ċ", firstCharId + 95);
            w.WriteEndObject();
            w.WriteStartArray("merges"); w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
