// BMP decoding against PIL: every fixture (palettes, 16/24/32-bit layouts, OS/2 and V4/V5 headers, top-down, RLE8/RLE4,
// files PIL wrote) gives PIL's size and mode and exactly its convert("RGB") pixels; damaged files give clear errors.
using System.Buffers.Binary;
using MambaVL.IO.Images.Bmp;
using MambaVL.IO.Images.Png;

namespace MambaVL.IO.Tests.Images;

public class BmpTests
{
    private const string Name = "test.bmp";

    public static TheoryData<string> Files => ImageFixtures.Theory("bmp");

    [Theory, MemberData(nameof(Files))]
    public void Decodes_like_PIL(string name) =>
        ImageFixtures.AssertMatchesPil("bmp", name, BmpDecoder.Decode, BmpDecoder.ReadInfo);

    [Fact]
    public void Sniffs_the_signature()
    {
        Assert.True(BmpDecoder.IsBmp(ImageFixtures.Bytes("bmp", "rgb24_1x1.bmp")));
        Assert.False(BmpDecoder.IsBmp(ImageFixtures.Bytes("png", "rgb8_1x1.png")));
        Assert.False(PngDecoder.IsPng(ImageFixtures.Bytes("bmp", "rgb24_1x1.bmp")));
        Assert.False(BmpDecoder.IsBmp("B"u8));
    }

    /// <summary>A bottom-up 8-bit BMP with a 4-entry palette (index i is (10i, 20i, 30i)) around <paramref name="pixelData"/>.</summary>
    private static byte[] Pal8(int width, int height, byte[] pixelData, int compression = 0)
    {
        var f = new byte[14 + 40 + 16 + pixelData.Length];
        "BM"u8.CopyTo(f);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(10), 14 + 40 + 16);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(f.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(f.AsSpan(28), (short)(compression == 2 ? 4 : 8));
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(30), compression);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(46), 4);
        for (int i = 0; i < 4; i++) (f[54 + 4 * i], f[55 + 4 * i], f[56 + 4 * i]) = ((byte)(30 * i), (byte)(20 * i), (byte)(10 * i));
        pixelData.CopyTo(f, 70);
        return f;
    }

    private static byte[] Indices(byte[] rgb) => Enumerable.Range(0, rgb.Length / 3).Select(p => (byte)(rgb[3 * p] / 10)).ToArray();

    [Fact]
    public void Rle_delta_moves_right_and_up()
    {
        // 4×3, bottom-up: index 1, then delta (right 1, up 1), index 2 runs to the row end, end of line, 3s, end.
        // Stored rows: row 0 = 1 0 0 0; row 1 = 0 0 2 2 (delta lands at x 2); row 2 = 3 3 3 3.
        // (PIL 9.4 reads two extra bytes after a delta and garbles this; later Pillow decodes it like this.)
        byte[] rle = [1, 1, 0, 2, 1, 1, 2, 2, 0, 0, 4, 3, 0, 1];
        var image = BmpDecoder.Decode(Pal8(4, 3, rle, compression: 1), Name).Image;
        Assert.Equal(new byte[] { 3, 3, 3, 3, 0, 0, 2, 2, 1, 0, 0, 0 }, Indices(image.Pixels));
    }

    [Fact]
    public void Rle4_odd_absolute_run_keeps_every_pixel()
    {
        // 4×1 RLE4: an absolute run of 3 (nibbles 1 2 3, 2 bytes, already word-aligned), then one pixel of index 2.
        // (PIL 9.4 drops the third pixel of an odd run; later Pillow keeps it.)
        byte[] rle = [0, 3, 0x12, 0x30, 1, 0x22, 0, 1];
        var image = BmpDecoder.Decode(Pal8(4, 1, rle, compression: 2), Name).Image;
        Assert.Equal(new byte[] { 1, 2, 3, 2 }, Indices(image.Pixels));
    }

    private static string ErrorOf(byte[] bmp)
    {
        var e = Assert.Throws<InvalidDataException>(() => BmpDecoder.Decode(bmp, Name));
        Assert.StartsWith(Name + ": ", e.Message);
        return e.Message;
    }

    [Fact]
    public void Damaged_files_give_clear_errors()
    {
        Assert.Contains("not a BMP file", ErrorOf("BX"u8.ToArray()));
        Assert.Contains("truncated: the file header", ErrorOf("BM"u8.ToArray()));
        var raw = Pal8(4, 3, new byte[12]);
        Assert.Contains("truncated: the pixel data needs 82 bytes, the file has 81", ErrorOf(raw[..^1]));
        Assert.Contains("truncated: the RLE data ends after 4 of 12 pixels", ErrorOf(Pal8(4, 3, [4, 1, 0, 0, 0, 1], compression: 1)));
        var bad = Pal8(4, 3, new byte[12]);
        bad[30] = 4;  // BI_JPEG
        Assert.Contains("unsupported BMP compression 4", ErrorOf(bad));
        bad = Pal8(4, 3, new byte[12]);
        bad[14] = 56;
        Assert.Contains("unsupported BMP header size 56", ErrorOf(bad));
        bad = Pal8(4, 3, new byte[12]);
        bad[28] = 2;
        Assert.Contains("unsupported BMP pixel depth 2", ErrorOf(bad));
        bad = Pal8(4, 3, new byte[12]);
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(18), 100_000);
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(22), 100_000);
        Assert.Contains("larger than the 268435456-pixel limit", ErrorOf(bad));
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(18), 10_000);
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(22), 10_000);
        Assert.Contains("truncated: the pixel data", ErrorOf(bad));
    }
}
