// EXIF: the orientation tag (0x0112) of a TIFF-structured EXIF block (JPEG APP1 after "Exif\0\0", PNG eXIf), and
// applying an orientation to pixels. Decoders only read it; the reference pipelines never rotate, so callers opt in.
using System.Buffers.Binary;

namespace MambaVL.IO.Images;

public static class Exif
{
    private const ushort OrientationTag = 0x0112;

    /// <summary>
    /// The orientation (1-8) in IFD0 of <paramref name="tiff"/> (starting at the "II*\0" / "MM\0*" header), or 1 when the
    /// block has none or is malformed: a bad EXIF block must not make a good image unreadable.
    /// </summary>
    public static int Orientation(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8) return 1;
        bool little;
        if (tiff[0] == (byte)'I' && tiff[1] == (byte)'I') little = true;
        else if (tiff[0] == (byte)'M' && tiff[1] == (byte)'M') little = false;
        else return 1;
        if (U16(tiff, 2, little) != 42) return 1;
        long ifd = U32(tiff, 4, little);
        if (ifd < 8 || ifd + 2 > tiff.Length) return 1;
        int entries = U16(tiff, (int)ifd, little);
        for (int i = 0; i < entries; i++)
        {
            long at = ifd + 2 + 12L * i;
            if (at + 12 > tiff.Length) return 1;
            if (U16(tiff, (int)at, little) != OrientationTag) continue;
            int type = U16(tiff, (int)at + 2, little);
            int value = type == 3 ? U16(tiff, (int)at + 8, little) : type == 4 ? (int)Math.Min(U32(tiff, (int)at + 8, little), 9) : 0;
            return value is >= 1 and <= 8 ? value : 1;
        }
        return 1;
    }

    /// <summary>
    /// The image as it should be displayed: <paramref name="orientation"/> undone (2 mirror, 3 rotate 180, 4 flip,
    /// 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise), as PIL's ImageOps.exif_transpose.
    /// </summary>
    public static RgbImage ApplyOrientation(RgbImage src, int orientation)
    {
        if (orientation is < 2 or > 8) return src;
        bool swap = orientation >= 5;
        int w = src.Width, h = src.Height, ow = swap ? h : w, oh = swap ? w : h;
        var dst = new RgbImage(ow, oh);
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                var (sx, sy) = SourceOf(orientation, x, y, w, h);
                int d = (y * ow + x) * 3, s = (sy * w + sx) * 3;
                dst.Pixels[d] = src.Pixels[s]; dst.Pixels[d + 1] = src.Pixels[s + 1]; dst.Pixels[d + 2] = src.Pixels[s + 2];
            }
        return dst;
    }

    /// <summary>The stored pixel shown at (x, y) of the displayed image; w, h are the stored size.</summary>
    private static (int X, int Y) SourceOf(int orientation, int x, int y, int w, int h) => orientation switch
    {
        2 => (w - 1 - x, y),
        3 => (w - 1 - x, h - 1 - y),
        4 => (x, h - 1 - y),
        5 => (y, x),
        6 => (y, h - 1 - x),
        7 => (w - 1 - y, h - 1 - x),
        8 => (w - 1 - y, x),
        _ => (x, y),
    };

    private static int U16(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b[at..]) : BinaryPrimitives.ReadUInt16BigEndian(b[at..]);

    private static long U32(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b[at..]) : BinaryPrimitives.ReadUInt32BigEndian(b[at..]);
}
