// BMP RLE8/RLE4 to one palette index per pixel, in stored row order. Follows PIL's BmpRleDecoder: runs are clipped at
// the row end, an end-of-line pads the row with index 0, data that stops before the image is full is an error. Two
// PIL 9.4 bugs that later Pillow releases fixed are not copied: a delta escape reads its own 2 bytes (9.4 skips 2 more),
// and an odd-length RLE4 absolute run keeps its last pixel (9.4 drops it and loses its place in the stream).
namespace MambaVL.IO.Images.Bmp;

internal static class BmpRle
{
    private const int InitialCapacity = 1 << 16;

    /// <summary>
    /// More pixels per byte of RLE data than this is refused as implausible: blank rows (2 bytes each) still allow
    /// images 65536 wide, but a 200-byte file cannot make the decoder fill a gigabyte with the padding of its escapes.
    /// </summary>
    private const long MaxPixelsPerByte = 1 << 15;

    public static byte[] Decode(ReadOnlySpan<byte> data, BmpLayout layout, string fileName)
    {
        bool rle4 = layout.Compression == BmpLayout.Rle4;
        long width = layout.Width, total = width * layout.Height;
        long available = Math.Max(0, data.Length - layout.DataOffset);
        if (total > available * MaxPixelsPerByte)
            throw ImageErrors.Corrupt(fileName, $"{available} bytes of RLE data cannot plausibly hold a {layout.Width}×{layout.Height} image");
        var output = new IndexBuffer(total);
        long x = 0;  // position in the row as the runs count it; after an overlong absolute run it can be past the row end
        long at = layout.DataOffset;
        while (output.Length < total && at + 2 <= data.Length)
        {
            int count = data[(int)at], value = data[(int)at + 1];
            at += 2;
            if (count > 0)
            {
                long n = Math.Max(0, Math.Min(count, width - x));
                if (rle4) output.AppendAlternating((byte)(value >> 4), (byte)(value & 15), n);
                else output.Append((byte)value, n);
                x += n;
            }
            else if (value == 0)  // end of line
            {
                output.Append(0, (width - output.Length % width) % width);
                x = 0;
            }
            else if (value == 1)  // end of bitmap
            {
                break;
            }
            else if (value == 2)  // delta: right, up
            {
                if (at + 2 > data.Length) break;
                long skipped = data[(int)at] + data[(int)at + 1] * width;
                at += 2;
                x = (output.Length + skipped) % width;
                output.Append(0, skipped);
            }
            else if (!AbsoluteRun(data, ref at, value, rle4, output, total))
            {
                break;
            }
            else
            {
                x += value;
            }
        }
        if (output.Length < total)
            throw ImageErrors.Corrupt(fileName, $"truncated: the RLE data ends after {output.Length} of {total} pixels");
        return output.Indices;
    }

    /// <summary>
    /// <paramref name="count"/> literal indices (two per byte for RLE4), then padding to an even file offset. False
    /// when the file ends inside the run or the image is full.
    /// </summary>
    private static bool AbsoluteRun(ReadOnlySpan<byte> data, ref long at, int count, bool rle4, IndexBuffer output, long total)
    {
        int n = (int)Math.Min(total - output.Length, count);
        int byteCount = rle4 ? (n + 1) / 2 : n;
        var bytes = data.Slice((int)at, (int)Math.Min(byteCount, data.Length - at));
        at += bytes.Length;
        if (!rle4) output.Append(bytes);
        else
            for (int i = 0; i < bytes.Length; i++)
            {
                output.Append((byte)(bytes[i] >> 4), 1);
                if (2 * i + 1 < n) output.Append((byte)(bytes[i] & 15), 1);
            }
        if (bytes.Length < byteCount || output.Length == total) return false;
        if (at % 2 != 0) at++;
        return true;
    }

    /// <summary>The decoded indices, grown as the data produces them (never past the image): a short file claiming
    /// a huge image cannot make the decoder allocate it.</summary>
    private sealed class IndexBuffer(long total)
    {
        private byte[] _indices = new byte[Math.Min(total, InitialCapacity)];
        public long Length { get; private set; }

        public byte[] Indices => _indices;

        public void Append(byte value, long count)
        {
            count = Math.Min(count, total - Length);
            Reserve(count);
            _indices.AsSpan((int)Length, (int)count).Fill(value);
            Length += count;
        }

        public void Append(ReadOnlySpan<byte> values)
        {
            Reserve(values.Length);
            values.CopyTo(_indices.AsSpan((int)Length));
            Length += values.Length;
        }

        public void AppendAlternating(byte first, byte second, long count)
        {
            count = Math.Min(count, total - Length);
            Reserve(count);
            var span = _indices.AsSpan((int)Length, (int)count);
            for (int i = 0; i < span.Length; i++) span[i] = (i & 1) == 0 ? first : second;
            Length += count;
        }

        private void Reserve(long count)
        {
            if (Length + count <= _indices.Length) return;
            long size = Math.Min(total, Math.Max(Length + count, 2L * _indices.Length));
            Array.Resize(ref _indices, (int)size);
        }
    }
}
