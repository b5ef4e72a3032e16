// The ASCII PNM formats, read as PIL 9's PpmPlainDecoder reads them: in 1 MiB blocks, '#' comments cut out of each
// block (to the first CR or LF, even across blocks, with PIL's quirks), P1 as single '0'/'1' characters (every other
// character in the blocks read is an error), P2/P3 as whitespace-separated decimal tokens of at most 10 characters.
// Two PIL 9.4 slips are not copied: a token cut by a block boundary is not re-read later, and at the end of the data
// the last token is not repeated to fill a short image; such files are truncated here.
namespace MambaVL.IO.Images.Pnm;

internal static class PnmPlain
{
    private const int BlockSize = 1 << 20;  // PIL's ImageFile.SAFEBLOCK
    private const int MaxTokenLength = 10;

    /// <summary>P1: '0' is white, '1' black; whitespace between them is optional.</summary>
    public static RgbImage DecodeBitmap(ReadOnlySpan<byte> data, PnmHeader header, string fileName)
    {
        long total = (long)header.Width * header.Height;
        CheckPlausible(data, total, 1, fileName);
        var image = new RgbImage(header.Width, header.Height);
        var blocks = new CommentFreeBlocks(data);
        long count = 0;
        while (count < total && blocks.Next() is { } block)
            foreach (byte c in block)
            {
                if (PnmHeader.IsWhitespace(c)) continue;
                if (c is not ((byte)'0' or (byte)'1'))
                    throw ImageErrors.Corrupt(fileName, $"bad character '{(char)c}' in P1 data (only 0 and 1 are allowed)");
                if (count < total) image.Pixels.AsSpan((int)(3 * count++), 3).Fill(c == '0' ? (byte)255 : (byte)0);
            }
        if (count < total) throw ImageErrors.Corrupt(fileName, $"truncated: the P1 data ends after {count} of {total} pixels");
        return image;
    }

    /// <summary>P2/P3: each token a sample no larger than maxval, scaled as PIL scales it.</summary>
    public static RgbImage DecodeSamples(ReadOnlySpan<byte> data, PnmHeader header, string fileName)
    {
        int channels = header.Channels;
        long total = (long)header.Width * header.Height * channels;
        CheckPlausible(data, total, 2, fileName);
        var scale = SampleScale.Table(header.MaxValue, header.Mode == "I", header.MaxValue + 1);
        var image = new RgbImage(header.Width, header.Height);
        var blocks = new CommentFreeBlocks(data);
        var carried = new List<byte>();  // a token the block ended in the middle of
        long count = 0;
        while (count < total)
        {
            var block = blocks.Next();
            if (block == null && carried.Count == 0) break;
            byte[] text = [.. carried, .. block ?? [(byte)' ']];  // at the end, PIL flushes the carried token with a space
            carried.Clear();
            int end = text.Length;
            if (end > 0 && !PnmHeader.IsWhitespace(text[^1]))
            {
                int start = end;
                while (start > 0 && !PnmHeader.IsWhitespace(text[start - 1])) start--;
                carried.AddRange(text.AsSpan(start..end));
                if (carried.Count > MaxTokenLength) throw TokenTooLong(carried.ToArray(), fileName);
                end = start;
            }
            for (int at = 0; at < end && count < total;)
            {
                while (at < end && PnmHeader.IsWhitespace(text[at])) at++;
                int tokenStart = at;
                while (at < end && !PnmHeader.IsWhitespace(text[at])) at++;
                if (at > tokenStart) Store(image, count++, channels, scale[Sample(text.AsSpan(tokenStart..at), header.MaxValue, fileName)]);
            }
        }
        if (count < total) throw ImageErrors.Corrupt(fileName, $"truncated: the P{header.Kind} data ends after {count} of {total} samples");
        return image;
    }

    private static void Store(RgbImage image, long sample, int channels, byte value)
    {
        if (channels == 3) image.Pixels[sample] = value;
        else image.Pixels.AsSpan((int)(3 * sample), 3).Fill(value);
    }

    private static int Sample(ReadOnlySpan<byte> token, int maxValue, string fileName)
    {
        if (token.Length > MaxTokenLength) throw TokenTooLong(token, fileName);
        long value = 0;
        foreach (byte b in token)
        {
            if (b is < (byte)'0' or > (byte)'9')
                throw ImageErrors.Corrupt(fileName, $"bad sample \"{System.Text.Encoding.Latin1.GetString(token)}\" (not a decimal number)");
            value = value * 10 + (b - '0');
        }
        if (value > maxValue) throw ImageErrors.Corrupt(fileName, $"sample {value} is larger than maxval {maxValue}");
        return (int)value;
    }

    private static InvalidDataException TokenTooLong(ReadOnlySpan<byte> token, string fileName) =>
        ImageErrors.Corrupt(fileName, $"token \"{System.Text.Encoding.Latin1.GetString(token[..(MaxTokenLength + 1)])}...\" in the data is too long");

    /// <summary>Each sample takes at least <paramref name="bytesPerSample"/> bytes: refuse before allocating a huge image.</summary>
    private static void CheckPlausible(ReadOnlySpan<byte> data, long samples, int bytesPerSample, string fileName)
    {
        if (data.Length < samples * bytesPerSample - (bytesPerSample - 1))
            throw ImageErrors.Corrupt(fileName, $"truncated: {data.Length} bytes of ASCII data cannot hold {samples} samples");
    }

    /// <summary>The data in PIL's blocks with comments removed; a comment that runs past a block's end continues into the next.</summary>
    private ref struct CommentFreeBlocks(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;
        private bool _commentSpans;

        /// <summary>The next block without its comments (possibly empty), or null at the end of the data.</summary>
        public byte[]? Next()
        {
            var block = ReadBlock();
            if (block.IsEmpty) return null;
            if (_commentSpans)
                while (!block.IsEmpty)
                {
                    int end = CommentEnd(block, 0);
                    if (end >= 0)
                    {
                        block = block[(end + 1)..];
                        break;
                    }
                    block = ReadBlock();
                }
            _commentSpans = false;
            var kept = new List<byte>(block.Length);
            while (true)
            {
                int start = block.IndexOf((byte)'#');
                if (start < 0)
                {
                    kept.AddRange(block);
                    break;
                }
                kept.AddRange(block[..start]);
                int end = CommentEnd(block, start);
                if (end < 0)
                {
                    _commentSpans = true;
                    break;
                }
                block = block[(end + 1)..];
            }
            return kept.ToArray();
        }

        private ReadOnlySpan<byte> ReadBlock()
        {
            var block = _data.Slice(_position, Math.Min(BlockSize, _data.Length - _position));
            _position += block.Length;
            return block;
        }

        /// <summary>
        /// PIL's _find_comment_end: the nearer of the next LF and CR, except that when one of them is at index 0 it
        /// takes the farther (its test multiplies the two indices).
        /// </summary>
        private static int CommentEnd(ReadOnlySpan<byte> block, int start)
        {
            int lf = IndexFrom(block, (byte)'\n', start), cr = IndexFrom(block, (byte)'\r', start);
            return (long)lf * cr > 0 ? Math.Min(lf, cr) : Math.Max(lf, cr);
        }

        private static int IndexFrom(ReadOnlySpan<byte> block, byte value, int start)
        {
            int i = block[start..].IndexOf(value);
            return i < 0 ? -1 : start + i;
        }
    }
}
