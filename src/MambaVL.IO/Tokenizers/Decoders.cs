// tokenizer.json "decoder" components: turn token strings back into text. Each step maps a token list to a token
// list (Rust's decode_chain); the results are concatenated at the end.
using System.Text;
using System.Text.Json;

namespace MambaVL.IO.Tokenizers;

internal abstract class Decoder
{
    /// <param name="addedTokens">Contents of added tokens, which byte-level decoding passes through untouched.</param>
    public abstract List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens);

    public static Decoder? Create(JsonElement e, TokenizerJson json)
    {
        if (TokenizerJson.IsNull(e)) return null;
        string type = json.TypeOf(e, "decoder");
        string where = $"decoder '{type}'";
        return type switch
        {
            "ByteLevel" => new ByteLevelDecoder(),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(json.String(e, "content", where) ?? " ",
                json.Int(e, "start", 0, where), json.Int(e, "stop", 0, where)),
            "Replace" => CreateReplace(e, json, where),
            "Metaspace" => new MetaspaceDecoder(json.String(e, "replacement", where) ?? "\u2581",
                (json.String(e, "prepend_scheme", where) ?? (json.Bool(e, "add_prefix_space", true, where) ? "always" : "never")) != "never"),
            "WordPiece" => new WordPieceDecoder(json.String(e, "prefix", where) ?? "##", json.Bool(e, "cleanup", true, where)),
            "BPEDecoder" => new BpeSuffixDecoder(json.String(e, "suffix", where) ?? "</w>"),
            "Sequence" => new SequenceDecoder(
                json.Array(e, "decoders", where).Select(x => Create(x, json)).OfType<Decoder>().ToArray()),
            _ => throw json.Unsupported("decoder", type),
        };
    }

    private static ReplaceDecoder CreateReplace(JsonElement e, TokenizerJson json, string where)
    {
        var (text, isRegex) = json.Pattern(e, where);
        string content = json.String(e, "content", where) ?? throw json.Error($"{where}: missing 'content'");
        return new ReplaceDecoder(ReplaceNormalizer.CreateMatcher(text, isRegex, json, where), content);
    }

    internal static readonly UTF8Encoding Utf8Lossy = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
}

/// <summary>Maps the byte alphabet back to bytes and decodes UTF-8 (invalid sequences become U+FFFD).</summary>
internal sealed class ByteLevelDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens)
    {
        var output = new List<string>();
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            // Added tokens are literal text (e.g. "<|endoftext|>" or runs of spaces), not byte-alphabet strings.
            if (addedTokens.Contains(token) || !ByteLevelAlphabet.TryDecode(token, bytes))
            {
                Flush(bytes, output);
                output.Add(token);
            }
        }
        Flush(bytes, output);
        return output;
    }

    private static void Flush(List<byte> bytes, List<string> output)
    {
        if (bytes.Count == 0) return;
        output.Add(Utf8Lossy.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
        bytes.Clear();
    }
}

/// <summary>Runs of "&lt;0xHH&gt;" tokens become the UTF-8 text they encode.</summary>
internal sealed class ByteFallbackDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens)
    {
        var output = new List<string>();
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>' &&
                byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            {
                bytes.Add(b);
                continue;
            }
            Flush(bytes, output);
            output.Add(token);
        }
        Flush(bytes, output);
        return output;
    }

    private static void Flush(List<byte> bytes, List<string> output)
    {
        if (bytes.Count == 0) return;
        output.Add(Utf8Lossy.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
        bytes.Clear();
    }
}

internal sealed class FuseDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens) => [string.Concat(tokens)];
}

/// <summary>Removes up to start/stop copies of a character from each token's ends.</summary>
internal sealed class StripDecoder(string content, int start, int stop) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens) =>
        tokens.Select(Strip).ToList();

    private string Strip(string token)
    {
        if (content.Length != 1) return token;
        char c = content[0];
        int from = 0, to = token.Length;
        for (int i = 0; i < start && from < to && token[from] == c; i++) from++;
        for (int i = 0; i < stop && to > from && token[to - 1] == c; i++) to--;
        return token[from..to];
    }
}

internal sealed class ReplaceDecoder(PatternMatcher pattern, string content) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens) =>
        tokens.Select(t => ReplaceNormalizer.Apply(pattern, content, t)).ToList();
}

/// <summary>U+2581 back to spaces; the space the pre-tokenizer prepended to the first token is dropped.</summary>
internal sealed class MetaspaceDecoder(string replacement, bool stripFirst) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string s = tokens[i].Replace(replacement, " ", StringComparison.Ordinal);
            if (i == 0 && stripFirst && s.StartsWith(' ')) s = s[1..];
            output.Add(s);
        }
        return output;
    }
}

internal sealed class WordPieceDecoder(string prefix, bool cleanup) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (i != 0) t = t.StartsWith(prefix, StringComparison.Ordinal) ? t[prefix.Length..] : " " + t;
            output.Add(cleanup ? CleanUp(t) : t);
        }
        return output;
    }

    /// <summary>The classic BERT detokenization clean-up of spaces before punctuation and contractions.</summary>
    internal static string CleanUp(string s) => new StringBuilder(s).Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!")
        .Replace(" ,", ",").Replace(" ' ", "'").Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" do not", " don't")
        .Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re").ToString();
}

internal sealed class BpeSuffixDecoder(string suffix) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens) =>
        tokens.Select((t, i) => t.Replace(suffix, i == tokens.Count - 1 ? "" : " ", StringComparison.Ordinal)).ToList();
}

internal sealed class SequenceDecoder(Decoder[] steps) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, IReadOnlySet<string> addedTokens)
    {
        foreach (var d in steps) tokens = d.DecodeChain(tokens, addedTokens);
        return tokens;
    }
}
