// Typed access to tokenizer.json elements (JsonDocument, no reflection so it stays trim-safe), with errors that name
// the file and the JSON path so a broken or unsupported tokenizer fails loudly instead of tokenizing wrongly.
using System.Text.Json;
using MambaVL.Core.Weights;

namespace MambaVL.IO.Tokenizers;

/// <summary>Where a tokenizer definition came from, for error messages.</summary>
internal sealed class TokenizerJson(string source)
{
    public string Source { get; } = source;

    public ModelLoadException Error(string message) => new($"{Source}: {message}");

    /// <summary>Thrown for component types this implementation does not know; never guess.</summary>
    public ModelLoadException Unsupported(string component, string type) =>
        new($"{Source}: unsupported {component} type '{type}'");

    public static bool IsNull(JsonElement e) => e.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    public bool TryGet(JsonElement obj, string name, out JsonElement value)
    {
        if (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out value) && !IsNull(value)) return true;
        value = default;
        return false;
    }

    public JsonElement Required(JsonElement obj, string name, string where) =>
        TryGet(obj, name, out var v) ? v : throw Error($"{where}: missing '{name}'");

    public string TypeOf(JsonElement obj, string component)
    {
        if (obj.ValueKind != JsonValueKind.Object) throw Error($"{component} should be an object, found {obj.ValueKind}");
        return String(obj, "type", component) ?? throw Error($"{component} has no 'type'");
    }

    public string? String(JsonElement obj, string name, string where)
    {
        if (!TryGet(obj, name, out var v)) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString()
            : throw Error($"{where}: '{name}' should be a string, found {v.ValueKind}");
    }

    public bool Bool(JsonElement obj, string name, bool fallback, string where)
    {
        if (!TryGet(obj, name, out var v)) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error($"{where}: '{name}' should be true or false, found {v.ValueKind}"),
        };
    }

    public int Int(JsonElement obj, string name, int fallback, string where)
    {
        if (!TryGet(obj, name, out var v)) return fallback;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i
            : throw Error($"{where}: '{name}' should be an integer, found {v.ValueKind}");
    }

    public int Int(JsonElement value, string where) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int i) ? i
            : throw Error($"{where}: expected an integer, found {value.ValueKind}");

    public string Text(JsonElement value, string where) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Error($"{where}: expected a string, found {value.ValueKind}");

    public JsonElement.ArrayEnumerator Array(JsonElement obj, string name, string where)
    {
        var v = Required(obj, name, where);
        return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray()
            : throw Error($"{where}: '{name}' should be an array, found {v.ValueKind}");
    }

    /// <summary>A {"String": "..."} or {"Regex": "..."} pattern as used by Split/Replace.</summary>
    public (string Text, bool IsRegex) Pattern(JsonElement obj, string where)
    {
        var p = Required(obj, "pattern", where);
        if (String(p, "String", where) is { } s) return (s, false);
        if (String(p, "Regex", where) is { } r) return (r, true);
        throw Error($"{where}: 'pattern' should hold 'String' or 'Regex'");
    }
}
