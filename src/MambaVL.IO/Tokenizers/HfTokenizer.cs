// A Hugging Face tokenizer.json tokenizer in pure C#: added tokens -> normalizer -> pre-tokenizer -> model (BPE or
// WordPiece) -> post-processor, and the decoder chain back. Verified against the JS reference (tests/fixtures/tokenizers).
using System.IO.Compression;
using System.Text.Json;
using MambaVL.Core.Text;
using MambaVL.Core.Weights;

namespace MambaVL.IO.Tokenizers;

/// <summary>An immutable, thread-safe tokenizer loaded from a tokenizer.json (optionally gzip-compressed).</summary>
public sealed class HfTokenizer : ITokenizer
{
    private readonly Normalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly TokenizerModel _model;
    private readonly PostProcessor? _postProcessor;
    private readonly Decoder? _decoder;
    private readonly Dictionary<int, AddedToken> _addedById = new();
    private readonly Dictionary<string, int> _addedByContent = new(StringComparer.Ordinal);
    private readonly HashSet<string> _addedContents = new(StringComparer.Ordinal);
    private readonly AddedTokenSplitter _rawSplitter, _normalizedSplitter;

    /// <summary>The file (or description) the tokenizer came from.</summary>
    public string Source { get; }

    public int VocabSize { get; }

    private HfTokenizer(JsonElement root, TokenizerJson json)
    {
        Source = json.Source;
        if (root.ValueKind != JsonValueKind.Object) throw json.Error($"expected a JSON object, found {root.ValueKind}");
        _model = TokenizerModel.Create(json.Required(root, "model", "tokenizer"), json);
        _normalizer = json.TryGet(root, "normalizer", out var n) ? Normalizer.Create(n, json) : null;
        _preTokenizer = json.TryGet(root, "pre_tokenizer", out var p) ? PreTokenizer.Create(p, json) : null;
        _postProcessor = json.TryGet(root, "post_processor", out var pp) ? PostProcessor.Create(pp, json) : null;
        _decoder = json.TryGet(root, "decoder", out var d) ? Decoder.Create(d, json) : null;

        var raw = new List<(string, AddedToken)>();
        var normalized = new List<(string, AddedToken)>();
        if (json.TryGet(root, "added_tokens", out var added))
        {
            if (added.ValueKind != JsonValueKind.Array) throw json.Error("'added_tokens' should be an array");
            int index = 0;
            foreach (var e in added.EnumerateArray())
            {
                var token = AddedToken.Read(e, json, index++);
                _addedById[token.Id] = token;
                _addedByContent[token.Content] = token.Id;
                _addedContents.Add(token.Content);
                if (token.Normalized && _normalizer is not null) normalized.Add((_normalizer.Normalize(token.Content), token));
                else raw.Add((token.Content, token));
            }
        }
        _rawSplitter = new AddedTokenSplitter(raw);
        _normalizedSplitter = new AddedTokenSplitter(normalized);
        VocabSize = Math.Max(_model.IdLimit, _addedById.Count == 0 ? 0 : _addedById.Keys.Max() + 1);
    }

    /// <summary>Loads a tokenizer.json file; a ".gz" file (or any gzip-compressed content) is decompressed first.</summary>
    public static HfTokenizer FromFile(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException($"{path}: tokenizer file not found");
        using var stream = File.OpenRead(path);
        return FromStream(stream, path);
    }

    /// <summary>Loads from a stream of tokenizer.json bytes, plain or gzip-compressed (detected by the magic bytes).</summary>
    public static HfTokenizer FromStream(Stream stream, string sourceName)
    {
        var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] bytes = buffer.ToArray();
        if (bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                var plain = new MemoryStream();
                gz.CopyTo(plain);
                bytes = plain.ToArray();
            }
            catch (InvalidDataException ex)
            {
                throw new ModelLoadException($"{sourceName}: corrupt gzip data: {ex.Message}", ex);
            }
        }
        return Parse(bytes, sourceName);
    }

    /// <summary>Parses tokenizer.json text; <paramref name="sourceName"/> is used in error messages.</summary>
    public static HfTokenizer FromJson(string json, string sourceName) => Parse(System.Text.Encoding.UTF8.GetBytes(json), sourceName);

    /// <summary>The tokenizer.json (or tokenizer.json.gz) in a model folder, or null when there is none.</summary>
    public static string? FindTokenizerFile(string modelDirectory)
    {
        foreach (var name in new[] { "tokenizer.json", "tokenizer.json.gz" })
        {
            string path = Path.Combine(modelDirectory, name);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Loads the tokenizer of a model folder; throws <see cref="ModelLoadException"/> naming the folder if absent.</summary>
    public static HfTokenizer FromModelDirectory(string modelDirectory) =>
        FromFile(FindTokenizerFile(modelDirectory)
            ?? throw new ModelLoadException($"{modelDirectory}: no tokenizer.json in the model folder"));

    private static HfTokenizer Parse(byte[] utf8, string sourceName)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"{sourceName}: invalid JSON at line {ex.LineNumber + 1}: {ex.Message}", ex);
        }
        using (doc) return new HfTokenizer(doc.RootElement, new TokenizerJson(sourceName));
    }

    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        var rawSegments = new List<Segment>();
        _rawSplitter.Split(text, 0, rawSegments);
        var normSegments = new List<Segment>();
        var words = new List<string>();
        foreach (var raw in rawSegments)
        {
            if (raw.Token is not null) { ids.Add(raw.Token.Id); continue; }
            string normalized = _normalizer is null ? raw.Text : _normalizer.Normalize(raw.Text);
            if (normalized.Length == 0) continue;
            normSegments.Clear();
            _normalizedSplitter.Split(normalized, raw.Start, normSegments);
            foreach (var seg in normSegments)
            {
                if (seg.Token is not null) { ids.Add(seg.Token.Id); continue; }
                words.Clear();
                if (_preTokenizer is null) words.Add(seg.Text);
                else _preTokenizer.PreTokenize(seg.Text, atStart: seg.Start == 0, words);
                foreach (var w in words) _model.Tokenize(w, ids);
            }
        }
        return (_postProcessor?.Process(ids, addSpecialTokens) ?? ids).ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if (_addedById.TryGetValue(id, out var added))
            {
                if (!(skipSpecialTokens && added.Special)) tokens.Add(added.Content);
            }
            else if (_model.IdToToken(id) is { } token)
            {
                tokens.Add(token); // ids outside the vocabulary are skipped, as in the Rust crate
            }
        }
        if (_decoder is null) return string.Join(' ', tokens);
        return string.Concat(_decoder.DecodeChain(tokens, _addedContents));
    }

    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out int id) ? id : _model.TryGetId(token, out id) ? id : null;

    public string? IdToToken(int id) => _addedById.TryGetValue(id, out var t) ? t.Content : _model.IdToToken(id);

    /// <summary>True for ids of added tokens marked special (what Decode skips with skipSpecialTokens).</summary>
    public bool IsSpecialToken(int id) => _addedById.TryGetValue(id, out var t) && t.Special;
}
