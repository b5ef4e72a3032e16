// Reads the JSON files a Hugging Face slow (sentencepiece) tokenizer folder carries next to tokenizer.model:
// tokenizer_config.json, special_tokens_map.json and added_tokens.json, into the added-token table transformers builds.
using System.Text.Json;

namespace MambaVL.IO.Tokenizers;

/// <summary>An added token as transformers' PreTrainedTokenizer keeps it (id, text and the AddedToken flags).</summary>
internal sealed record SlowAddedToken(int Id, string Content, bool LStrip, bool RStrip, bool SingleWord, bool Special);

/// <summary>What the folder's JSON files say; every file is optional.</summary>
internal sealed class SlowTokenizerConfig
{
    /// <summary>The special-token attributes in transformers' SPECIAL_TOKENS_ATTRIBUTES order (additional ones last).</summary>
    private static readonly string[] SpecialTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    public bool AddBosToken { get; private set; } = true;
    public bool AddEosToken { get; private set; }

    /// <summary>Special tokens (text and flags), in the order transformers registers them.</summary>
    public List<(string Content, bool LStrip, bool RStrip, bool SingleWord)> SpecialTokens { get; } = [];

    /// <summary>tokenizer_config.json's added_tokens_decoder, or else added_tokens.json (flags off).</summary>
    public List<SlowAddedToken> AddedTokens { get; } = [];

    /// <summary>InternLM2Tokenizer's constructor defaults, for special tokens no file names.</summary>
    private static readonly Dictionary<string, string> DefaultSpecialTokens = new()
    {
        ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["unk_token"] = "<unk>", ["pad_token"] = "</s>",
    };

    /// <summary>The configuration of a folder without JSON files (InternLM2Tokenizer's defaults).</summary>
    public static SlowTokenizerConfig Defaults()
    {
        var config = new SlowTokenizerConfig();
        config.ReadSpecialTokens(null, null);
        return config;
    }

    public static SlowTokenizerConfig Read(string directory)
    {
        var tokenizerConfig = ReadJson(Path.Combine(directory, "tokenizer_config.json"));
        var specialMap = ReadJson(Path.Combine(directory, "special_tokens_map.json"));
        var addedFile = ReadJson(Path.Combine(directory, "added_tokens.json"));
        if (tokenizerConfig is null && specialMap is null && addedFile is null) return Defaults();
        var config = new SlowTokenizerConfig();
        var (configRoot, configPath) = tokenizerConfig ?? (default, "");
        if (tokenizerConfig is not null)
        {
            config.AddBosToken = Bool(configRoot, "add_bos_token", true, configPath);
            config.AddEosToken = Bool(configRoot, "add_eos_token", false, configPath);
        }
        config.ReadSpecialTokens(tokenizerConfig, specialMap);
        if (tokenizerConfig is not null && configRoot.TryGetProperty("added_tokens_decoder", out var decoder))
            config.ReadAddedTokensDecoder(decoder, configPath);
        else if (addedFile is { } added)
            config.ReadAddedTokensFile(added.Root, added.Path);
        return config;
    }

    /// <summary>tokenizer_config.json's values win over special_tokens_map.json's (transformers reads the map only for
    /// attributes the config lacks).</summary>
    private void ReadSpecialTokens((JsonElement Root, string Path)? tokenizerConfig, (JsonElement Root, string Path)? specialMap)
    {
        (JsonElement Value, string Path) Find(string key)
        {
            foreach (var file in new[] { tokenizerConfig, specialMap })
                if (file is { } f && f.Root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null) return (v, f.Path);
            return (default, "");
        }
        foreach (string key in SpecialTokenKeys)
        {
            if (Find(key) is { Path.Length: > 0 } found) AddSpecial(found.Value, $"{found.Path}: {key}");
            else if (DefaultSpecialTokens.TryGetValue(key, out string? fallback)) AddSpecial(fallback, false, false, false);
        }
        if (Find("additional_special_tokens") is { Path.Length: > 0 } additional)
        {
            var (list, listPath) = additional;
            if (list.ValueKind != JsonValueKind.Array) throw Error(listPath, "'additional_special_tokens' should be an array");
            int index = 0;
            foreach (var item in list.EnumerateArray()) AddSpecial(item, $"{listPath}: additional_special_tokens[{index++}]");
        }
    }

    private void AddSpecial(JsonElement value, string where)
    {
        if (value.ValueKind == JsonValueKind.String) { AddSpecial(value.GetString()!, false, false, false); return; }
        if (value.ValueKind != JsonValueKind.Object) throw Error(where, "a special token should be a string or an AddedToken object");
        string content = Content(value, where);
        AddSpecial(content, Bool(value, "lstrip", false, where), Bool(value, "rstrip", false, where), Bool(value, "single_word", false, where));
    }

    private void AddSpecial(string content, bool lstrip, bool rstrip, bool singleWord)
    {
        if (content.Length > 0 && !SpecialTokens.Any(s => s.Content == content)) SpecialTokens.Add((content, lstrip, rstrip, singleWord));
    }

    private void ReadAddedTokensDecoder(JsonElement decoder, string path)
    {
        if (decoder.ValueKind != JsonValueKind.Object) throw Error(path, "'added_tokens_decoder' should be an object of id -> token");
        foreach (var entry in decoder.EnumerateObject())
        {
            string where = $"{path}: added_tokens_decoder['{entry.Name}']";
            if (!int.TryParse(entry.Name, out int id) || id < 0) throw Error(where, "the key should be a non-negative token id");
            var t = entry.Value;
            if (t.ValueKind != JsonValueKind.Object) throw Error(where, "should be an AddedToken object");
            AddedTokens.Add(new SlowAddedToken(id, Content(t, where), Bool(t, "lstrip", false, where), Bool(t, "rstrip", false, where),
                Bool(t, "single_word", false, where), Bool(t, "special", false, where)));
        }
    }

    private void ReadAddedTokensFile(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Error(path, "should be an object of token -> id");
        foreach (var entry in root.EnumerateObject())
        {
            if (!entry.Value.TryGetInt32(out int id) || id < 0) throw Error(path, $"'{entry.Name}' should map to a non-negative id");
            if (entry.Name.Length == 0) throw Error(path, "an added token is empty");
            bool special = SpecialTokens.Any(s => s.Content == entry.Name);
            AddedTokens.Add(new SlowAddedToken(id, entry.Name, false, false, false, special));
        }
    }

    private static string Content(JsonElement token, string where) =>
        token.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() is { Length: > 0 } s
            ? s : throw Error(where, "missing or empty 'content'");

    private static bool Bool(JsonElement e, string name, bool fallback, string where)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(where, $"'{name}' should be true or false"),
        };
    }

    private static (JsonElement Root, string Path)? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Error(path, "expected a JSON object");
            return (doc.RootElement.Clone(), path);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {ex.LineNumber + 1}: {ex.Message}", ex);
        }
    }

    private static InvalidDataException Error(string where, string what) => new($"{where}: {what}");
}
