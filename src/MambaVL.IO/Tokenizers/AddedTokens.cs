// Added/special tokens of tokenizer.json: they are cut out of the text before the model runs (leftmost-longest match),
// honouring single_word, lstrip, rstrip; "normalized" tokens are matched on the normalized text instead of the raw one.
using System.Text;
using System.Text.Json;

namespace MambaVL.IO.Tokenizers;

/// <summary>One entry of "added_tokens".</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord, bool LStrip, bool RStrip, bool Normalized)
{
    public static AddedToken Read(JsonElement e, TokenizerJson json, int index)
    {
        string where = $"added_tokens[{index}]";
        int id = json.Int(json.Required(e, "id", where), where + ".id");
        string content = json.String(e, "content", where) ?? throw json.Error($"{where}: missing 'content'");
        if (content.Length == 0) throw json.Error($"{where}: empty 'content'");
        bool special = json.Bool(e, "special", false, where);
        return new AddedToken(id, content, special, json.Bool(e, "single_word", false, where), json.Bool(e, "lstrip", false, where),
            json.Bool(e, "rstrip", false, where), json.Bool(e, "normalized", !special, where));
    }
}

/// <summary>A piece of input: either text still to be tokenized, or an added token found in it.</summary>
internal readonly record struct Segment(string Text, int Start, AddedToken? Token);

/// <summary>Finds added tokens in text, leftmost-longest like the Rust crate's Aho-Corasick matcher.</summary>
internal sealed class AddedTokenSplitter
{
    // Candidates by first character, longest first, so the first hit at a position is the longest one.
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;

    public AddedTokenSplitter(IEnumerable<(string Pattern, AddedToken Token)> patterns)
    {
        _byFirstChar = patterns.Where(p => p.Pattern.Length > 0)
            .GroupBy(p => p.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Pattern.Length).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Splits <paramref name="text"/> (which starts at <paramref name="baseOffset"/> of the input) into segments.</summary>
    public void Split(string text, int baseOffset, List<Segment> output)
    {
        if (IsEmpty) { output.Add(new Segment(text, baseOffset, null)); return; }
        int textStart = 0; // start of the pending plain-text piece
        int i = 0;
        while (i < text.Length)
        {
            if (!TryMatchAt(text, i, out var token, out int length)) { i++; continue; }
            int start = i, stop = i + length;
            if (token.SingleWord && !IsSingleWord(text, start, stop)) { i = stop; continue; }
            if (token.LStrip) while (start > textStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip) while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
            if (start > textStart) output.Add(new Segment(text[textStart..start], baseOffset + textStart, null));
            output.Add(new Segment(text[start..stop], baseOffset + start, token));
            textStart = i = stop;
        }
        if (textStart < text.Length) output.Add(new Segment(text[textStart..], baseOffset + textStart, null));
    }

    private bool TryMatchAt(string text, int i, out AddedToken token, out int length)
    {
        if (_byFirstChar.TryGetValue(text[i], out var candidates))
        {
            foreach (var (pattern, t) in candidates)
            {
                if (text.AsSpan(i).StartsWith(pattern, StringComparison.Ordinal))
                {
                    (token, length) = (t, pattern.Length);
                    return true;
                }
            }
        }
        (token, length) = (null!, 0);
        return false;
    }

    /// <summary>single_word: no word character (alphanumeric or '_') directly before or after the match.</summary>
    private static bool IsSingleWord(string text, int start, int stop)
    {
        static bool IsWord(Rune r) => Rune.IsLetterOrDigit(r) || r.Value == '_';
        if (start > 0 && Rune.DecodeLastFromUtf16(text.AsSpan(0, start), out var before, out _) == System.Buffers.OperationStatus.Done && IsWord(before))
            return false;
        if (stop < text.Length && Rune.DecodeFromUtf16(text.AsSpan(stop), out var after, out _) == System.Buffers.OperationStatus.Done && IsWord(after))
            return false;
        return true;
    }
}
