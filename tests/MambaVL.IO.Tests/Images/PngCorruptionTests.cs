// Damaged PNGs: each kind of damage gives an InvalidDataException whose message names the file and the problem.
using System.Buffers.Binary;
using MambaVL.IO.Images.Png;

namespace MambaVL.IO.Tests.Images;

public class PngCorruptionTests
{
    private const string Name = "broken.png";

    private static string ErrorOf(byte[] png)
    {
        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png, Name));
        Assert.StartsWith(Name + ": ", e.Message);
        return e.Message;
    }

    private static byte[] Fixture() => ImageFixtures.Bytes("png", "grey8_13x5.png");

    private static (int Offset, int Length, string Type) Idat(byte[] png) => PngBuilder.Chunks(png).First(c => c.Type == "IDAT");

    [Fact]
    public void Bad_crc_names_the_chunk()
    {
        var png = Fixture();
        png[Idat(png).Offset + 8 + 3] ^= 0x10;
        var message = ErrorOf(png);
        Assert.Contains("bad CRC in chunk IDAT", message);

        png = Fixture();
        png[8 + 8 + 2] ^= 1;  // in IHDR's width
        Assert.Contains("bad CRC in chunk IHDR", ErrorOf(png));
    }

    [Fact]
    public void Bad_adler32_is_an_error()
    {
        var png = Fixture();
        var (at, length, _) = Idat(png);
        png[at + 8 + length - 1] ^= 0x01;  // last byte of the zlib trailer
        Assert.Contains("bad Adler-32 checksum", ErrorOf(PngBuilder.FixCrcs(png)));
    }

    [Fact]
    public void Missing_adler32_is_an_error()
    {
        // ZLibStream lets a stream without its trailer pass; the decoder must not.
        var zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 4));
        Assert.Contains("Adler-32", ErrorOf(PngBuilder.Grey8(9, 4, zlib[..^4])));
    }

    [Fact]
    public void Truncated_image_data_is_an_error()
    {
        var zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 40));
        Assert.Contains("truncated: the image data ends in row", ErrorOf(PngBuilder.Grey8(9, 40, zlib[..(zlib.Length / 2)])));

        // A complete zlib stream with too few rows: PIL fills the rest with black; here it is an error.
        var fewRows = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 3));
        Assert.Contains("truncated: the image data ends in row 3 of 4", ErrorOf(PngBuilder.Grey8(9, 4, fewRows)));
    }

    [Fact]
    public void A_file_cut_inside_IDAT_is_an_error()
    {
        var png = Fixture();
        var (at, length, _) = Idat(png);
        Assert.Contains("truncated: chunk IDAT", ErrorOf(png[..(at + 8 + length / 2)]));
    }

    [Fact]
    public void Bad_filter_type_is_an_error()
    {
        var zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 4, filter: 5));
        Assert.Contains("bad filter type 5 in row 0", ErrorOf(PngBuilder.Grey8(9, 4, zlib)));
    }

    [Fact]
    public void Wrong_signature_is_an_error()
    {
        var png = Fixture();
        png[1] = (byte)'J';
        Assert.Contains("not a PNG file (bad signature)", ErrorOf(png));
        Assert.Contains("not a PNG file", ErrorOf([]));
    }

    [Fact]
    public void Corrupt_deflate_data_is_an_error()
    {
        var zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 4));
        zlib[2] = 0xFF;  // block type 3 does not exist
        Assert.Contains("corrupt deflate data", ErrorOf(PngBuilder.Grey8(9, 4, zlib)));
        zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 4));
        zlib[0] = 0x79;
        Assert.Contains("zlib header", ErrorOf(PngBuilder.Grey8(9, 4, zlib)));
    }

    [Fact]
    public void Unknown_critical_chunk_is_refused_and_unknown_ancillary_chunk_skipped()
    {
        var zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 4));
        Assert.Contains("unknown critical chunk ABCD", ErrorOf(PngBuilder.Grey8(9, 4, zlib, PngBuilder.Chunk("ABCD", [1, 2]))));
        var image = PngDecoder.Decode(PngBuilder.Grey8(9, 4, zlib, PngBuilder.Chunk("abCD", [1, 2])), Name).Image;
        Assert.Equal(9, image.Width);
    }

    [Fact]
    public void Impossible_sizes_are_refused_before_allocating()
    {
        var zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 4));
        byte[] Sized(int w, int h) => [.. PngBuilder.Signature, .. PngBuilder.Header(w, h, 8, 0), .. PngBuilder.Chunk("IDAT", zlib), .. PngBuilder.Chunk("IEND", [])];
        Assert.Contains("larger than the 268435456-pixel limit", ErrorOf(Sized(20000, 20000)));
        Assert.Contains("cannot hold a 10000×10000 image", ErrorOf(Sized(10000, 10000)));
        Assert.Contains("impossible image size", ErrorOf(Sized(0, 4)));
    }

    [Fact]
    public void Bad_header_fields_are_errors()
    {
        var zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 4));
        byte[] With(byte[] ihdr) => [.. PngBuilder.Signature, .. ihdr, .. PngBuilder.Chunk("IDAT", zlib), .. PngBuilder.Chunk("IEND", [])];
        Assert.Contains("colour type 2 with bit depth 4", ErrorOf(With(PngBuilder.Header(9, 4, 4, 2))));
        Assert.Contains("unknown interlace method 2", ErrorOf(With(PngBuilder.Header(9, 4, 8, 0, interlace: 2))));
        byte[] noHeader = [.. PngBuilder.Signature, .. PngBuilder.Chunk("IDAT", zlib)];
        Assert.Contains("the first chunk is not IHDR", ErrorOf(noHeader));
    }

    [Fact]
    public void Idat_chunks_must_be_consecutive()
    {
        var zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 4));
        byte[] png = [.. PngBuilder.Signature, .. PngBuilder.Header(9, 4, 8, 0), .. PngBuilder.Chunk("IDAT", zlib[..5]),
            .. PngBuilder.Chunk("tEXt", "a\0b"u8), .. PngBuilder.Chunk("IDAT", zlib[5..]), .. PngBuilder.Chunk("IEND", [])];
        Assert.Contains("IDAT chunks are not consecutive", ErrorOf(png));
    }

    [Fact]
    public void A_missing_IEND_is_tolerated_like_PIL_but_a_cut_off_chunk_is_not()
    {
        var zlib = PngBuilder.Zlib(PngBuilder.GreyScanlines(9, 4));
        var full = PngBuilder.Grey8(9, 4, zlib, PngBuilder.Chunk("tEXt", "key\0value"u8));
        var iend = PngBuilder.Chunks(full).Last();
        Assert.Equal(9, PngDecoder.Decode(full[..iend.Offset], Name).Image.Width);
        Assert.Equal(9, PngDecoder.Decode(full[..(iend.Offset + 5)], Name).Image.Width);  // half a chunk header
        Assert.Contains("truncated: chunk tEXt", ErrorOf(full[..(iend.Offset - 5)]));
    }
}
