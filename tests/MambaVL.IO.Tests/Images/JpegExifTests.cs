// EXIF orientation through the JPEG decoder: the reported tag for all eight values, Exif.ApplyOrientation against
// PIL's ImageOps.exif_transpose on the same pixels, and Exif.Orientation on malformed or unusual TIFF blocks.
using MambaVL.IO.Images;
using MambaVL.IO.Images.Jpeg;

namespace MambaVL.IO.Tests.Images;

public class JpegExifTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void ApplyOrientation_matches_PIL_exif_transpose(int orientation)
    {
        string name = $"orient_{orientation}.jpg";
        string path = ImageFixtures.File("jpeg", name);
        var golden = ImageFixtures.Golden(path);
        var decoded = JpegDecoder.Decode(File.ReadAllBytes(path), name);
        Assert.Equal(orientation, decoded.Info.Orientation);
        Assert.Equal(golden.Rgb, decoded.Image.Pixels);  // orientation is reported, never applied by the decoder

        var shown = Exif.ApplyOrientation(decoded.Image, orientation);
        var (expected, shape) = golden.Extra["transposed"];
        Assert.Equal(new[] { shown.Height, shown.Width, 3 }, shape);
        Assert.Equal(orientation >= 5 ? (13, 7) : (7, 13), (shown.Height, shown.Width));
        Assert.Equal(expected, shown.Pixels);
    }

    [Fact]
    public void Big_endian_EXIF_is_read()
    {
        string path = ImageFixtures.File("jpeg", "exif_bigendian_8.jpg");
        Assert.Equal(8, ImageFixtures.Golden(path).Orientation);
        Assert.Equal(8, JpegDecoder.ReadInfo(File.ReadAllBytes(path), "exif_bigendian_8.jpg").Orientation);
    }

    [Fact]
    public void Orientation_of_unusual_blocks()
    {
        Assert.Equal(6, Exif.Orientation(Tiff(little: true, type: 3, value: 6)));
        Assert.Equal(3, Exif.Orientation(Tiff(little: false, type: 3, value: 3)));
        Assert.Equal(5, Exif.Orientation(Tiff(little: true, type: 4, value: 5)));   // LONG instead of SHORT
        Assert.Equal(1, Exif.Orientation(Tiff(little: true, type: 3, value: 9)));   // out of range
        Assert.Equal(1, Exif.Orientation(Tiff(little: true, type: 2, value: 6)));   // ASCII: not a number
        var truncated = Tiff(little: true, type: 3, value: 6);
        Assert.Equal(1, Exif.Orientation(truncated.AsSpan(0, truncated.Length - 8)));
        Assert.Equal(1, Exif.Orientation("XX*\0\x08\0\0\0"u8));
        Assert.Equal(1, Exif.Orientation([]));
    }

    [Fact]
    public void Only_the_first_EXIF_block_counts_as_in_PIL()
    {
        // A second APP1 Exif block saying 3 after the fixture's own block saying 6.
        var bytes = File.ReadAllBytes(ImageFixtures.File("jpeg", "exif_orientation_6.jpg"));
        byte[] exif = [.. "Exif\0\0"u8, .. Tiff(little: true, type: 3, value: 3)];
        byte[] segment = [0xFF, 0xE1, (byte)((exif.Length + 2) >> 8), (byte)(exif.Length + 2), .. exif];
        int sof = bytes.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        var patched = bytes[..sof].Concat(segment).Concat(bytes[sof..]).ToArray();
        Assert.Equal(6, JpegDecoder.ReadInfo(patched, "two-exif.jpg").Orientation);
        Assert.Equal(3, JpegDecoder.ReadInfo([.. bytes[..2], .. segment, .. bytes[2..]], "first.jpg").Orientation);
    }

    /// <summary>A TIFF header and an IFD0 with one orientation entry of the given type.</summary>
    private static byte[] Tiff(bool little, int type, int value)
    {
        var b = new List<byte>();
        void U16(int v) { if (little) b.AddRange([(byte)v, (byte)(v >> 8)]); else b.AddRange([(byte)(v >> 8), (byte)v]); }
        void U32(int v) { if (little) { U16(v & 0xFFFF); U16(v >> 16); } else { U16(v >> 16); U16(v & 0xFFFF); } }
        b.AddRange(little ? "II"u8.ToArray() : "MM"u8.ToArray());
        U16(42);
        U32(8);
        U16(1);
        U16(0x0112);
        U16(type);
        U32(1);
        if (type == 4) U32(value); else { U16(value); U16(0); }
        U32(0);
        return [.. b];
    }
}
