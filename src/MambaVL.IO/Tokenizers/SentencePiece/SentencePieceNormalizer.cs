// sentencepiece's normalizer (normalizer.cc) on UTF-8 bytes: user-defined symbols pass through untouched, the rest goes
// through the precompiled charsmap (if any); whitespace is trimmed/collapsed, escaped as U+2581 and the dummy prefix added.
using System.Runtime.InteropServices;

namespace MambaVL.IO.Tokenizers;

/// <summary>UTF-8 rules exactly as sentencepiece's util.h / util.cc apply them.</summary>
internal static class SentencePieceUtf8
{
    public static ReadOnlySpan<byte> SpaceSymbol => "\u2581"u8;
    public static ReadOnlySpan<byte> ReplacementCharacter => "\uFFFD"u8;

    /// <summary>Byte length of the character a lead byte starts, by its high nibble (a stray trail byte counts 1).</summary>
    public static int OneCharLength(byte lead) => lead switch { < 0xC0 => 1, < 0xE0 => 2, < 0xF0 => 3, _ => 4 };

    /// <summary>Length of the well-formed character at the start of <paramref name="s"/>, or 0 when it is malformed
    /// (overlong, surrogate, above U+10FFFF, truncated). A literal U+FFFD counts as well formed.</summary>
    public static int ValidCharLength(ReadOnlySpan<byte> s)
    {
        byte b0 = s[0];
        if (b0 < 0x80) return 1;
        static bool Trail(byte b) => (b & 0xC0) == 0x80;
        static bool Scalar(int cp) => cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF);
        if ((b0 & 0xE0) == 0xC0 && s.Length >= 2)
        {
            int cp = ((b0 & 0x1F) << 6) | (s[1] & 0x3F);
            return Trail(s[1]) && cp >= 0x80 ? 2 : 0;
        }
        if ((b0 & 0xF0) == 0xE0 && s.Length >= 3)
        {
            int cp = ((b0 & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
            return Trail(s[1]) && Trail(s[2]) && cp >= 0x800 && Scalar(cp) ? 3 : 0;
        }
        if ((b0 & 0xF8) == 0xF0 && s.Length >= 4)
        {
            int cp = ((b0 & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
            return Trail(s[1]) && Trail(s[2]) && Trail(s[3]) && cp >= 0x10000 && Scalar(cp) ? 4 : 0;
        }
        return 0;
    }

    /// <summary>Appends <paramref name="bytes"/> with every malformed byte replaced by U+FFFD, one per byte.</summary>
    public static void AppendSanitized(List<byte> output, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int length = ValidCharLength(bytes);
            if (length == 0) { output.AddRange(ReplacementCharacter); length = 1; }
            else output.AddRange(bytes[..length]);
            bytes = bytes[length..];
        }
    }
}

/// <summary>Normalizes input text into the string the segmentation model runs on. Immutable, thread-safe.</summary>
internal sealed class SentencePieceNormalizer
{
    private readonly SentencePieceNormalizerSpec _spec;
    private readonly bool _whitespaceAsSuffix;
    private readonly PrecompiledCharsMap? _charsMap;
    private readonly ByteTrie? _userDefined;

    public SentencePieceNormalizer(SentencePieceNormalizerSpec spec, bool whitespaceAsSuffix, ByteTrie? userDefined, string describe)
    {
        _spec = spec;
        _whitespaceAsSuffix = whitespaceAsSuffix;
        _userDefined = userDefined;
        if (!spec.PrecompiledCharsMap.IsEmpty) _charsMap = PrecompiledCharsMap.Parse(spec.PrecompiledCharsMap.Span, describe);
    }

    /// <summary>Normalizes <paramref name="input"/> (UTF-8, possibly malformed) into <paramref name="output"/> (cleared first).</summary>
    public void Normalize(ReadOnlySpan<byte> input, List<byte> output)
    {
        output.Clear();
        if (_spec.RemoveExtraWhitespaces)
        {
            while (!input.IsEmpty)
            {
                int consumed = NormalizePrefix(input, out var replaced);
                if (!replaced.SequenceEqual(" "u8)) break;
                input = input[consumed..];
            }
        }
        if (input.IsEmpty) return;

        if (!_whitespaceAsSuffix && _spec.AddDummyPrefix) AppendSpace(output);
        bool previousIsSpace = _spec.RemoveExtraWhitespaces;
        while (!input.IsEmpty)
        {
            int consumed = NormalizePrefix(input, out var piece);
            // a space right after a space is dropped when collapsing whitespace
            while (previousIsSpace && !piece.IsEmpty && piece[0] == (byte)' ') piece = piece[1..];
            if (!piece.IsEmpty)
            {
                foreach (byte b in piece)
                {
                    if (b == (byte)' ' && _spec.EscapeWhitespaces) output.AddRange(SentencePieceUtf8.SpaceSymbol);
                    else output.Add(b);
                }
                previousIsSpace = piece[^1] == (byte)' ';
            }
            input = input[consumed..];
            if (!_spec.RemoveExtraWhitespaces) previousIsSpace = false;
        }

        if (_spec.RemoveExtraWhitespaces)
        {
            var space = _spec.EscapeWhitespaces ? SentencePieceUtf8.SpaceSymbol : " "u8;
            while (CollectionsMarshal.AsSpan(output).EndsWith(space)) output.RemoveRange(output.Count - space.Length, space.Length);
        }
        if (_whitespaceAsSuffix && _spec.AddDummyPrefix) AppendSpace(output);
    }

    private void AppendSpace(List<byte> output)
    {
        if (_spec.EscapeWhitespaces) output.AddRange(SentencePieceUtf8.SpaceSymbol);
        else output.Add((byte)' ');
    }

    /// <summary>Normalizes the first unit of <paramref name="input"/>: a user-defined symbol (kept as is), the longest
    /// charsmap rule, or one character (U+FFFD for a malformed byte). Returns how many input bytes it consumed.</summary>
    private int NormalizePrefix(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> normalized)
    {
        int length = _userDefined?.LongestPrefix(input) ?? 0;
        if (length > 0) { normalized = input[..length]; return length; }
        if (_charsMap is not null)
        {
            length = _charsMap.LongestMatch(input, out normalized);
            if (length > 0) return length;
        }
        length = SentencePieceUtf8.ValidCharLength(input);
        if (length == 0) { normalized = SentencePieceUtf8.ReplacementCharacter; return 1; }
        normalized = input[..length];
        return length;
    }
}
