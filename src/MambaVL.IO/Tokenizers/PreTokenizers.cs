// tokenizer.json "pre_tokenizer" components: split normalized text into words that the model encodes separately.
// Semantics follow the Rust tokenizers crate (the JS port differs on Punctuation, Digits and some Split behaviours).
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MambaVL.IO.Tokenizers;

/// <summary>Splits one piece of text into sub-pieces; immutable and thread-safe.</summary>
internal abstract class PreTokenizer
{
    /// <summary>The GPT-2 word regex that ByteLevel uses when use_regex is true.</summary>
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <param name="atStart">True when <paramref name="text"/> begins at offset 0 of the encoded input (Metaspace "first").</param>
    public abstract void PreTokenize(string text, bool atStart, List<string> output);

    public static PreTokenizer? Create(JsonElement e, TokenizerJson json)
    {
        if (TokenizerJson.IsNull(e)) return null;
        string type = json.TypeOf(e, "pre_tokenizer");
        string where = $"pre_tokenizer '{type}'";
        return type switch
        {
            "ByteLevel" => new ByteLevelPreTokenizer(json.Bool(e, "add_prefix_space", true, where), json.Bool(e, "use_regex", true, where)),
            "Split" => CreateSplit(e, json, where),
            "Metaspace" => MetaspacePreTokenizer.Create(e, json, where),
            "Whitespace" => new SplitPreTokenizer(new RegexMatcher(@"[\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\u200C\u200D]+|[^\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\u200C\u200D\s]+"),
                SplitBehavior.Removed, invert: true),
            "WhitespaceSplit" => new SplitPreTokenizer(new PredicateMatcher(Rune.IsWhiteSpace), SplitBehavior.Removed, false),
            "Punctuation" => new SplitPreTokenizer(new PredicateMatcher(IsPunctuation),
                PatternMatcher.ParseBehavior(json.String(e, "behavior", where), json, where), false),
            "Digits" => new SplitPreTokenizer(new PredicateMatcher(IsNumeric),
                json.Bool(e, "individual_digits", false, where) ? SplitBehavior.Isolated : SplitBehavior.Contiguous, false),
            "BertPreTokenizer" => new SequencePreTokenizer([
                new SplitPreTokenizer(new PredicateMatcher(Rune.IsWhiteSpace), SplitBehavior.Removed, false),
                new SplitPreTokenizer(new PredicateMatcher(IsPunctuation), SplitBehavior.Isolated, false)]),
            "CharDelimiterSplit" => CreateCharDelimiter(e, json, where),
            "FixedLength" => new FixedLengthPreTokenizer(Math.Max(1, json.Int(e, "length", 5, where))),
            "Sequence" => new SequencePreTokenizer(
                json.Array(e, "pretokenizers", where).Select(x => Create(x, json)).OfType<PreTokenizer>().ToArray()),
            _ => throw json.Unsupported("pre_tokenizer", type),
        };
    }

    private static SplitPreTokenizer CreateSplit(JsonElement e, TokenizerJson json, string where)
    {
        var (pattern, isRegex) = json.Pattern(e, where);
        var behavior = PatternMatcher.ParseBehavior(json.String(e, "behavior", where), json, where);
        var matcher = ReplaceNormalizer.CreateMatcher(pattern, isRegex, json, where);
        return new SplitPreTokenizer(matcher, behavior, json.Bool(e, "invert", false, where));
    }

    private static SplitPreTokenizer CreateCharDelimiter(JsonElement e, TokenizerJson json, string where)
    {
        string d = json.String(e, "delimiter", where) ?? throw json.Error($"{where}: missing 'delimiter'");
        return new SplitPreTokenizer(new LiteralMatcher(d), SplitBehavior.Removed, false);
    }

    /// <summary>Rust's is_punctuation for pre-tokenizers: ASCII punctuation or any Unicode P* category.</summary>
    internal static bool IsPunctuation(Rune r) => (r.Value is > 0x20 and < 0x7F && !char.IsAsciiLetterOrDigit((char)r.Value)) ||
        Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation
        or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
        or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    private static bool IsNumeric(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.DecimalDigitNumber
        or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
}

/// <summary>Every code point satisfying a predicate is one match (how Rust splits on char predicates).</summary>
internal sealed class PredicateMatcher(Func<Rune, bool> predicate) : PatternMatcher
{
    public override void FindMatches(string text, List<(int Start, int End)> matches)
    {
        int i = 0;
        foreach (Rune r in text.EnumerateRunes())
        {
            if (predicate(r)) matches.Add((i, i + r.Utf16SequenceLength));
            i += r.Utf16SequenceLength;
        }
    }
}

internal sealed class SplitPreTokenizer(PatternMatcher matcher, SplitBehavior behavior, bool invert) : PreTokenizer
{
    public override void PreTokenize(string text, bool atStart, List<string> output) => matcher.Split(text, behavior, invert, output);
}

/// <summary>Optional leading space, GPT-2 word split, then bytes mapped to the printable byte alphabet.</summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    private static readonly RegexMatcher Words = new(Gpt2Pattern);

    public override void PreTokenize(string text, bool atStart, List<string> output)
    {
        if (addPrefixSpace && !text.StartsWith(' ')) text = " " + text;
        if (!useRegex)
        {
            output.Add(ByteLevelAlphabet.Encode(text));
            return;
        }
        var pieces = new List<string>();
        Words.Split(text, SplitBehavior.Isolated, false, pieces);
        foreach (var p in pieces) output.Add(ByteLevelAlphabet.Encode(p));
    }
}

/// <summary>SentencePiece-style: spaces become the replacement (U+2581), a prefix is added, then split before each one.</summary>
internal sealed class MetaspacePreTokenizer(string replacement, string scheme, bool split) : PreTokenizer
{
    private readonly LiteralMatcher _replacementMatcher = new(replacement);

    public static MetaspacePreTokenizer Create(JsonElement e, TokenizerJson json, string where)
    {
        string replacement = json.String(e, "replacement", where) ?? "\u2581";
        if (replacement.Length == 0) throw json.Error($"{where}: empty 'replacement'");
        string scheme = json.String(e, "prepend_scheme", where)
            ?? (json.Bool(e, "add_prefix_space", true, where) ? "always" : "never");
        if (scheme is not ("always" or "first" or "never")) throw json.Error($"{where}: unknown prepend_scheme '{scheme}'");
        return new MetaspacePreTokenizer(replacement, scheme, json.Bool(e, "split", true, where));
    }

    public override void PreTokenize(string text, bool atStart, List<string> output)
    {
        string s = text.Replace(" ", replacement, StringComparison.Ordinal);
        bool prepend = scheme == "always" || (scheme == "first" && atStart);
        if (prepend && !s.StartsWith(replacement, StringComparison.Ordinal)) s = replacement + s;
        if (split) _replacementMatcher.Split(s, SplitBehavior.MergedWithNext, false, output);
        else output.Add(s);
    }
}

internal sealed class FixedLengthPreTokenizer(int length) : PreTokenizer
{
    public override void PreTokenize(string text, bool atStart, List<string> output)
    {
        var sb = new StringBuilder();
        int count = 0;
        foreach (Rune r in text.EnumerateRunes())
        {
            sb.Append(r.ToString());
            if (++count == length) { output.Add(sb.ToString()); sb.Clear(); count = 0; }
        }
        if (sb.Length > 0) output.Add(sb.ToString());
    }
}

internal sealed class SequencePreTokenizer(PreTokenizer[] steps) : PreTokenizer
{
    public override void PreTokenize(string text, bool atStart, List<string> output)
    {
        var current = new List<string> { text };
        var next = new List<string>();
        foreach (var step in steps)
        {
            next.Clear();
            for (int i = 0; i < current.Count; i++) step.PreTokenize(current[i], atStart && i == 0, next);
            (current, next) = (next, current);
        }
        output.AddRange(current);
    }
}
