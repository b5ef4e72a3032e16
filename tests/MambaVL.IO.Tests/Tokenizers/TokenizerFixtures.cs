// Shared loading of the tokenizer fixtures (gzip-compressed tokenizer.json files and the JS goldens made by
// tools/reference/tokenizers/make-goldens.mjs); tokenizers are loaded once per test run because the big vocabularies take a while.
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

/// <summary>One golden tokenizer: its cases are parallel to <see cref="Goldens.Corpus"/> followed by its extra lines.</summary>
public sealed record GoldenTokenizer(string Name, string File, JsonObject? Patch, string[] Lines, GoldenCase[] Cases);

public sealed record GoldenCase(int[] Ids, int[] IdsNoSpecial, string Decoded, string DecodedSkipSpecial);

public sealed record GoldenNormalization(string Nfc, string Nfd, string Nfkc, string Nfkd, string Lower);

public sealed class Goldens
{
    public required string[] Corpus { get; init; }
    public required GoldenNormalization[] Normalization { get; init; }
    public required Dictionary<string, GoldenTokenizer> Tokenizers { get; init; }

    /// <summary>JS toLowerCase() of every code point it changes.</summary>
    public required Dictionary<int, string> Lowercase { get; init; }
}

public static class TokenizerFixtures
{
    private static readonly Lazy<Goldens> LazyGoldens = new(LoadGoldens);
    private static readonly ConcurrentDictionary<string, Lazy<HfTokenizer>> Loaded = new();

    /// <summary>Names of all golden tokenizers (real files first, then synthetic variants).</summary>
    public static readonly string[] Names =
    [
        "gpt-neox-20b", "gpt2", "llama3", "qwen3", "llama2",
        "llama2-metaspace", "gpt2-prefix-space-roberta", "gpt2-nfkc-lowercase", "gpt2-nfkd-replace-split",
        "gpt2-gpt4o-split", "gpt2-deepseek-split", "llama2-gemma-style", "neox-nfd",
    ];

    public static Goldens Goldens => LazyGoldens.Value;

    /// <summary>tests/fixtures/tokenizers, found from this source file's location (artifacts may live anywhere).</summary>
    public static string Directory { get; } = FindDirectory();

    public static string PathOf(string file) => System.IO.Path.Combine(Directory, file);

    /// <summary>The tokenizer of a golden entry, with its JSON patch applied (cached).</summary>
    public static HfTokenizer Get(string name) => Loaded.GetOrAdd(name, n => new Lazy<HfTokenizer>(() => Load(n))).Value;

    public static string ReadGzipText(string file)
    {
        using var gz = new GZipStream(System.IO.File.OpenRead(PathOf(file)), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        return reader.ReadToEnd();
    }

    private static HfTokenizer Load(string name)
    {
        var g = Goldens.Tokenizers[name];
        if (g.Patch is null) return HfTokenizer.FromFile(PathOf(g.File));
        var root = JsonNode.Parse(ReadGzipText(g.File))!.AsObject();
        foreach (var (key, value) in g.Patch) root[key] = value?.DeepClone();
        return HfTokenizer.FromJson(root.ToJsonString(), $"{g.File} (patched as {name})");
    }

    private static string FindDirectory([CallerFilePath] string thisFile = "")
    {
        var candidates = new List<string>();
        if (thisFile.Length > 0) candidates.Add(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(thisFile)!, "..", "..", "fixtures", "tokenizers"));
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            candidates.Add(System.IO.Path.Combine(d.FullName, "tests", "fixtures", "tokenizers"));
        return candidates.Select(System.IO.Path.GetFullPath).FirstOrDefault(System.IO.Directory.Exists)
            ?? throw new DirectoryNotFoundException("tests/fixtures/tokenizers not found");
    }

    private static Goldens LoadGoldens()
    {
        using var doc = JsonDocument.Parse(ReadGzipText("goldens.json.gz"));
        var root = doc.RootElement;
        string[] corpus = root.GetProperty("corpus").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var norm = root.GetProperty("normalization").EnumerateArray().Select(e => new GoldenNormalization(
            e.GetProperty("nfc").GetString()!, e.GetProperty("nfd").GetString()!, e.GetProperty("nfkc").GetString()!,
            e.GetProperty("nfkd").GetString()!, e.GetProperty("lower").GetString()!)).ToArray();
        var tokenizers = new Dictionary<string, GoldenTokenizer>();
        foreach (var t in root.GetProperty("tokenizers").EnumerateArray())
        {
            var patch = t.GetProperty("patch");
            string[] extra = t.GetProperty("extra_corpus").EnumerateArray().Select(e => e.GetString()!).ToArray();
            var cases = t.GetProperty("cases").EnumerateArray().Select(c => new GoldenCase(
                Ints(c.GetProperty("ids")), Ints(c.GetProperty("ids_no_special")),
                c.GetProperty("decoded").GetString()!, c.GetProperty("decoded_skip_special").GetString()!)).ToArray();
            string name = t.GetProperty("name").GetString()!;
            tokenizers[name] = new GoldenTokenizer(name, t.GetProperty("file").GetString()!,
                patch.ValueKind == JsonValueKind.Null ? null : JsonNode.Parse(patch.GetRawText())!.AsObject(),
                [.. corpus, .. extra], cases);
        }
        var lowercase = root.GetProperty("lowercase").EnumerateArray().ToDictionary(p => p[0].GetInt32(), p => p[1].GetString()!);
        return new Goldens { Corpus = corpus, Normalization = norm, Tokenizers = tokenizers, Lowercase = lowercase };
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    /// <summary>A short, escaped rendering of a corpus line for failure messages.</summary>
    public static string Show(string s) => JsonSerializer.Serialize(s.Length > 80 ? s[..80] + "…" : s,
        new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
