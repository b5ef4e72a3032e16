// Reads config.json files as checkpoints really write them: name aliases, Python's bare Infinity/NaN tokens,
// and transformers' {"__float__": "Infinity"} wrappers. Errors name the file and the key.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MambaVL.Core.Config;

public sealed class ConfigJson
{
    private readonly JsonElement _root;

    /// <summary>The file (or description) this object came from, for messages.</summary>
    public string Source { get; }

    public ConfigJson(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new FormatException($"{source}: expected a JSON object, found {root.ValueKind}");
        (_root, Source) = (root, source);
    }

    public static ConfigJson Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static ConfigJson Parse(string json, string source)
    {
        try
        {
            var doc = JsonDocument.Parse(QuoteBareNonFinite(json),
                new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return new ConfigJson(doc.RootElement.Clone(), source);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    public bool Has(string name) => _root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    public IEnumerable<string> Keys => _root.EnumerateObject().Select(p => p.Name);

    /// <summary>The first of <paramref name="names"/> present (aliases), or null.</summary>
    public int? Int(params string[] names) => Find(names) is { } e ? ToInt(e.Name, e.Value) : null;
    public float? Float(params string[] names) => Find(names) is { } e ? ToFloat(e.Name, e.Value) : null;
    public bool? Bool(params string[] names) => Find(names) is { } e ? ToBool(e.Name, e.Value) : null;

    public string? String(params string[] names)
    {
        if (Find(names) is not { } e) return null;
        return e.Value.ValueKind == JsonValueKind.String ? e.Value.GetString()
            : throw new FormatException($"{Source}: '{e.Name}' should be a string, found {e.Value.ValueKind}");
    }

    /// <summary>A string, or the first string of an array (HF writes "architectures" both ways).</summary>
    public string? StringOrFirst(params string[] names)
    {
        if (Find(names) is not { } e) return null;
        return e.Value.ValueKind == JsonValueKind.Array ? StringArray(e.Name)!.FirstOrDefault() : String(e.Name);
    }

    public ConfigJson? Object(params string[] names)
    {
        if (Find(names) is not { } e) return null;
        return e.Value.ValueKind == JsonValueKind.Object ? new ConfigJson(e.Value, $"{Source} ({e.Name})")
            : throw new FormatException($"{Source}: '{e.Name}' should be an object, found {e.Value.ValueKind}");
    }

    public float[]? FloatArray(params string[] names)
    {
        if (Find(names) is not { } e) return null;
        if (e.Value.ValueKind != JsonValueKind.Array)
            throw new FormatException($"{Source}: '{e.Name}' should be an array, found {e.Value.ValueKind}");
        return e.Value.EnumerateArray().Select(v => ToFloat(e.Name, v)).ToArray();
    }

    public int[]? IntArray(params string[] names)
    {
        if (Find(names) is not { } e) return null;
        if (e.Value.ValueKind != JsonValueKind.Array)
            throw new FormatException($"{Source}: '{e.Name}' should be an array, found {e.Value.ValueKind}");
        return e.Value.EnumerateArray().Select(v => ToInt(e.Name, v)).ToArray();
    }

    public string[]? StringArray(params string[] names)
    {
        if (Find(names) is not { } e) return null;
        if (e.Value.ValueKind != JsonValueKind.Array)
            throw new FormatException($"{Source}: '{e.Name}' should be an array, found {e.Value.ValueKind}");
        return e.Value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new FormatException($"{Source}: '{e.Name}' should hold strings, found {v.ValueKind}")).ToArray();
    }

    private (string Name, JsonElement Value)? Find(string[] names)
    {
        foreach (var n in names)
            if (_root.TryGetProperty(n, out var v) && v.ValueKind != JsonValueKind.Null) return (n, v);
        return null;
    }

    private int ToInt(string name, JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) return (int)d;
        throw new FormatException($"{Source}: '{name}' should be an integer, found {v.GetRawText()}");
    }

    private float ToFloat(string name, JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Number: return (float)v.GetDouble();
            case JsonValueKind.String when ParseNonFinite(v.GetString()) is { } f: return f;
            case JsonValueKind.Object when v.TryGetProperty("__float__", out var inner): return ToFloat(name, inner);
            default: throw new FormatException($"{Source}: '{name}' should be a number, found {v.GetRawText()}");
        }
    }

    private bool ToBool(string name, JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new FormatException($"{Source}: '{name}' should be true or false, found {v.GetRawText()}"),
    };

    private static float? ParseNonFinite(string? s) => s?.Trim().ToLowerInvariant() switch
    {
        "infinity" or "inf" or "+infinity" or "+inf" => float.PositiveInfinity,
        "-infinity" or "-inf" => float.NegativeInfinity,
        "nan" => float.NaN,
        var other when float.TryParse(other, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) => f,
        _ => null,
    };

    /// <summary>Python's json module writes Infinity, -Infinity and NaN as bare tokens; quote them so JSON parsers accept them.</summary>
    internal static string QuoteBareNonFinite(string json)
    {
        if (!json.Contains("Infinity") && !json.Contains("NaN")) return json;
        var sb = new StringBuilder(json.Length + 16);
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            char ch = json[i];
            if (inString)
            {
                sb.Append(ch);
                if (ch == '\\' && i + 1 < json.Length) sb.Append(json[++i]);
                else if (ch == '"') inString = false;
                continue;
            }
            if (ch == '"') { inString = true; sb.Append(ch); continue; }
            string? token = MatchToken(json, i, "-Infinity") ?? MatchToken(json, i, "Infinity") ?? MatchToken(json, i, "NaN");
            if (token != null) { sb.Append('"').Append(token).Append('"'); i += token.Length - 1; }
            else sb.Append(ch);
        }
        return sb.ToString();
    }

    private static string? MatchToken(string s, int i, string token) =>
        string.CompareOrdinal(s, i, token, 0, token.Length) == 0 ? token : null;
}
