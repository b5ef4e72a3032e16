// Finds pattern matches with code-point semantics and applies the HF split behaviours (Isolated, Removed,
// MergedWithPrevious, MergedWithNext, Contiguous, invert) used by the Split/Punctuation/Digits/Metaspace pre-tokenizers.
using System.Globalization;
using System.Text.RegularExpressions;

namespace MambaVL.IO.Tokenizers;

/// <summary>How matched delimiters are kept when splitting (tokenizers' SplitDelimiterBehavior).</summary>
internal enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>Something that finds non-overlapping (start, end) UTF-16 spans in a string, left to right.</summary>
internal abstract class PatternMatcher
{
    public abstract void FindMatches(string text, List<(int Start, int End)> matches);

    public static PatternMatcher Create(string pattern, bool isRegex) =>
        isRegex ? new RegexMatcher(pattern) : new LiteralMatcher(pattern);

    public static SplitBehavior ParseBehavior(string? name, TokenizerJson json, string where) => name switch
    {
        null or "Isolated" => SplitBehavior.Isolated,
        "Removed" => SplitBehavior.Removed,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        _ => throw json.Error($"{where}: unknown split behavior '{name}'"),
    };

    /// <summary>Splits <paramref name="text"/> around the matches and appends the non-empty pieces to <paramref name="output"/>.</summary>
    public void Split(string text, SplitBehavior behavior, bool invert, List<string> output)
    {
        var matches = new List<(int Start, int End)>();
        FindMatches(text, matches);
        // Segments covering the whole text, flagged as match/non-match (flipped when inverted).
        var segments = new List<(int Start, int End, bool IsMatch)>(matches.Count * 2 + 1);
        int prev = 0;
        foreach (var (s, e) in matches)
        {
            if (s > prev) segments.Add((prev, s, invert));
            segments.Add((s, e, !invert));
            prev = e;
        }
        if (prev < text.Length) segments.Add((prev, text.Length, invert));
        foreach (var (s, e, isMatch) in Combine(segments, behavior))
        {
            if (e > s && !(behavior == SplitBehavior.Removed && isMatch)) output.Add(text[s..e]);
        }
    }

    private static List<(int Start, int End, bool IsMatch)> Combine(List<(int Start, int End, bool IsMatch)> segs, SplitBehavior behavior)
    {
        switch (behavior)
        {
            case SplitBehavior.Removed:
            case SplitBehavior.Isolated:
                return segs;
            case SplitBehavior.Contiguous:
                {
                    var acc = new List<(int, int, bool)>();
                    for (int i = 0; i < segs.Count; i++)
                    {
                        if (i > 0 && segs[i].IsMatch == segs[i - 1].IsMatch) acc[^1] = (acc[^1].Item1, segs[i].End, segs[i].IsMatch);
                        else acc.Add(segs[i]);
                    }
                    return acc;
                }
            case SplitBehavior.MergedWithPrevious:
                {
                    var acc = new List<(int, int, bool)>();
                    bool prevMatch = false;
                    foreach (var seg in segs)
                    {
                        if (seg.IsMatch && !prevMatch && acc.Count > 0) acc[^1] = (acc[^1].Item1, seg.End, false);
                        else acc.Add((seg.Start, seg.End, false));
                        prevMatch = seg.IsMatch;
                    }
                    return acc;
                }
            default:
                {
                    // MergedWithNext: a match is glued to the start of the following non-match.
                    var acc = new List<(int, int, bool)>();
                    bool prevMatch = false;
                    for (int i = segs.Count - 1; i >= 0; i--)
                    {
                        var seg = segs[i];
                        if (seg.IsMatch && !prevMatch && acc.Count > 0) acc[^1] = (seg.Start, acc[^1].Item2, false);
                        else acc.Add((seg.Start, seg.End, false));
                        prevMatch = seg.IsMatch;
                    }
                    acc.Reverse();
                    return acc;
                }
        }
    }
}

/// <summary>Ordinal occurrences of a fixed string.</summary>
internal sealed class LiteralMatcher(string literal) : PatternMatcher
{
    public override void FindMatches(string text, List<(int Start, int End)> matches)
    {
        if (literal.Length == 0) return;
        int at = 0;
        while ((at = text.IndexOf(literal, at, StringComparison.Ordinal)) >= 0)
        {
            matches.Add((at, at + literal.Length));
            at += literal.Length;
        }
    }
}

/// <summary>
/// A translated Oniguruma regex run with code-point semantics. .NET regexes see UTF-16 units, so \p{L} would not
/// match an astral letter and a class could split a surrogate pair; text with surrogate pairs is therefore matched on
/// a proxy string where each astral code point becomes one BMP character of the same Unicode category.
/// </summary>
internal sealed class RegexMatcher : PatternMatcher
{
    private static readonly char[] ProxyByCategory = BuildProxies();
    private readonly Regex _regex;

    public RegexMatcher(string onigPattern)
    {
        string pattern = OnigurumaTranslator.Translate(onigPattern);
        _regex = new Regex(pattern, RegexOptions.Multiline | RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    public RegexMatcher(Regex regex) => _regex = regex;

    public override void FindMatches(string text, List<(int Start, int End)> matches)
    {
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (var m in _regex.EnumerateMatches(text)) matches.Add((m.Index, m.Index + m.Length));
            return;
        }
        var proxy = new char[text.Length];
        var offsets = new int[text.Length + 1];
        int n = 0;
        for (int i = 0; i < text.Length; n++)
        {
            offsets[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]));
                proxy[n] = ProxyByCategory[(int)category];
                i += 2;
            }
            else
            {
                proxy[n] = text[i++];
            }
        }
        offsets[n] = text.Length;
        foreach (var m in _regex.EnumerateMatches(proxy.AsSpan(0, n))) matches.Add((offsets[m.Index], offsets[m.Index + m.Length]));
    }

    /// <summary>
    /// One stand-in per category, taken from high, rarely-used BMP code points (searched downwards from the
    /// Arabic presentation forms) so that literal ranges in real patterns do not accidentally include them.
    /// </summary>
    private static char[] BuildProxies()
    {
        var table = new char[32];
        for (int cp = 0xFE6F; cp >= 0x00A0; cp--)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            int cat = (int)CharUnicodeInfo.GetUnicodeCategory((char)cp);
            if (table[cat] == '\0') table[cat] = (char)cp;
        }
        // Categories with no BMP member in that range keep a private-use stand-in (never in real patterns).
        for (int i = 0; i < table.Length; i++) if (table[i] == '\0') table[i] = '\uF8FF';
        return table;
    }
}
