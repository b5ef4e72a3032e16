// tokenizer.json "normalizer" components: text-to-text rewrites applied before pre-tokenization (and to the content
// of added tokens marked "normalized"). Semantics follow the Rust tokenizers crate.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MambaVL.IO.Tokenizers;

/// <summary>A pure text transformation; implementations are immutable and thread-safe.</summary>
internal abstract class Normalizer
{
    public abstract string Normalize(string text);

    public static Normalizer? Create(JsonElement e, TokenizerJson json)
    {
        if (TokenizerJson.IsNull(e)) return null;
        string type = json.TypeOf(e, "normalizer");
        string where = $"normalizer '{type}'";
        return type switch
        {
            "NFC" => new UnicodeFormNormalizer(NormalForm.Nfc),
            "NFD" => new UnicodeFormNormalizer(NormalForm.Nfd),
            "NFKC" => new UnicodeFormNormalizer(NormalForm.Nfkc),
            "NFKD" => new UnicodeFormNormalizer(NormalForm.Nfkd),
            "Lowercase" => new LowercaseNormalizer(),
            "Strip" => new StripNormalizer(json.Bool(e, "strip_left", true, where), json.Bool(e, "strip_right", true, where)),
            "StripAccents" => new StripAccentsNormalizer(),
            "Replace" => ReplaceNormalizer.Create(e, json, where),
            "Prepend" => new PrependNormalizer(json.String(e, "prepend", where) ?? throw json.Error($"{where}: missing 'prepend'")),
            "ByteLevel" => new ByteLevelNormalizer(),
            "BertNormalizer" => new BertNormalizer(
                json.Bool(e, "clean_text", true, where), json.Bool(e, "handle_chinese_chars", true, where),
                json.TryGet(e, "strip_accents", out _) ? json.Bool(e, "strip_accents", false, where) : null,
                json.Bool(e, "lowercase", true, where)),
            "Sequence" => new SequenceNormalizer(
                json.Array(e, "normalizers", where).Select(x => Create(x, json)).OfType<Normalizer>().ToArray()),
            _ => throw json.Unsupported("normalizer", type),
        };
    }
}

internal sealed class UnicodeFormNormalizer(NormalForm form) : Normalizer
{
    public override string Normalize(string text) => UnicodeNormalizer.Normalize(text, form);
}

/// <summary>
/// Full Unicode lowercasing as Rust's str::to_lowercase and JS toLowerCase do: simple mappings per code point, plus
/// the unconditional special case U+0130 and the Final_Sigma rule (which invariant .NET casing lacks).
/// </summary>
internal sealed class LowercaseNormalizer : Normalizer
{
    public override string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        int i = 0;
        foreach (Rune r in text.EnumerateRunes())
        {
            if (r.Value == 0x130) sb.Append("i\u0307");
            else if (r.Value == 0x3A3) sb.Append(IsFinalSigma(text, i) ? '\u03C2' : '\u03C3');
            else sb.Append(Rune.ToLowerInvariant(r).ToString());
            i += r.Utf16SequenceLength;
        }
        return sb.ToString();
    }

    /// <summary>Final_Sigma: preceded by a cased letter and not followed by one (case-ignorable characters skipped).</summary>
    private static bool IsFinalSigma(string text, int at)
    {
        bool before = false;
        for (int j = at; j > 0;)
        {
            Rune.DecodeLastFromUtf16(text.AsSpan(0, j), out Rune r, out int len);
            j -= len;
            if (IsCaseIgnorable(r)) continue;
            before = IsCased(r);
            break;
        }
        if (!before) return false;
        for (int j = at + 1; j < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(j), out Rune r, out int len);
            j += len;
            if (IsCaseIgnorable(r)) continue;
            return !IsCased(r);
        }
        return true;
    }

    private static bool IsCased(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.UppercaseLetter
        or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(Rune r) => r.Value is '\'' or '.' or ':' or '^' or '`' or 0xB7 or 0x2019 ||
        Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
}

internal sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public override string Normalize(string text)
    {
        int start = 0, end = text.Length;
        if (left) while (start < end && char.IsWhiteSpace(text[start])) start++;
        if (right) while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
        return text[start..end];
    }
}

/// <summary>Removes non-spacing marks (run it after NFD/NFKD, as tokenizer.json files do).</summary>
internal sealed class StripAccentsNormalizer : Normalizer
{
    public override string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (Rune r in text.EnumerateRunes())
            if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark) sb.Append(r.ToString());
        return sb.ToString();
    }
}

internal sealed class ReplaceNormalizer(PatternMatcher pattern, string content) : Normalizer
{
    public static ReplaceNormalizer Create(JsonElement e, TokenizerJson json, string where)
    {
        var (text, isRegex) = json.Pattern(e, where);
        string content = json.String(e, "content", where) ?? throw json.Error($"{where}: missing 'content'");
        return new ReplaceNormalizer(CreateMatcher(text, isRegex, json, where), content);
    }

    internal static PatternMatcher CreateMatcher(string text, bool isRegex, TokenizerJson json, string where)
    {
        try { return PatternMatcher.Create(text, isRegex); }
        catch (Exception ex) when (ex is NotSupportedException or ArgumentException)
        {
            throw json.Error($"{where}: regex '{text}' cannot be used: {ex.Message}");
        }
    }

    public override string Normalize(string text) => Apply(pattern, content, text);

    internal static string Apply(PatternMatcher pattern, string content, string text)
    {
        var matches = new List<(int Start, int End)>();
        pattern.FindMatches(text, matches);
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length + matches.Count * content.Length);
        int prev = 0;
        foreach (var (s, e) in matches)
        {
            sb.Append(text, prev, s - prev).Append(content);
            prev = e;
        }
        return sb.Append(text, prev, text.Length - prev).ToString();
    }
}

internal sealed class PrependNormalizer(string prefix) : Normalizer
{
    public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
}

/// <summary>Maps UTF-8 bytes to GPT-2's printable byte alphabet (normalizer form of the ByteLevel pre-tokenizer).</summary>
internal sealed class ByteLevelNormalizer : Normalizer
{
    public override string Normalize(string text) => ByteLevelAlphabet.Encode(text);
}

internal sealed class BertNormalizer(bool cleanText, bool chineseChars, bool? stripAccents, bool lowercase) : Normalizer
{
    public override string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (Rune r in text.EnumerateRunes())
        {
            int cp = r.Value;
            if (cleanText)
            {
                if (cp == 0 || cp == 0xFFFD || (IsControl(r) && cp is not ('\t' or '\n' or '\r'))) continue;
                if (Rune.IsWhiteSpace(r)) { sb.Append(' '); continue; }
            }
            if (chineseChars && IsChinese(cp)) sb.Append(' ').Append(r.ToString()).Append(' ');
            else sb.Append(r.ToString());
        }
        string s = sb.ToString();
        // Like the Rust crate: accents are stripped when asked, or by default whenever lowercasing.
        if (stripAccents ?? lowercase) s = new StripAccentsNormalizer().Normalize(UnicodeNormalizer.Normalize(s, NormalForm.Nfd));
        return lowercase ? new LowercaseNormalizer().Normalize(s) : s;
    }

    private static bool IsControl(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    internal static bool IsChinese(int cp) => cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF)
        or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F)
        or (>= 0x2B920 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}

internal sealed class SequenceNormalizer(Normalizer[] steps) : Normalizer
{
    public override string Normalize(string text)
    {
        foreach (var n in steps) text = n.Normalize(text);
        return text;
    }
}
