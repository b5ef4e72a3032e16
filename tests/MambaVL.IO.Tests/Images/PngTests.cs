// PNG decoding against PIL: every fixture (each colour type × bit depth, Adam7 or not, tRNS, palettes, chunk layouts,
// files written by PIL itself) must give PIL's size, mode and pixels exactly (16-bit: round(v / 257)).
using MambaVL.IO.Images;
using MambaVL.IO.Images.Png;

namespace MambaVL.IO.Tests.Images;

public class PngTests
{
    public static TheoryData<string> Files => ImageFixtures.Theory("png");

    [Theory, MemberData(nameof(Files))]
    public void Decodes_like_PIL(string name) =>
        ImageFixtures.AssertMatchesPil("png", name, PngDecoder.Decode, PngDecoder.ReadInfo);

    [Fact]
    public void Fixtures_cover_every_colour_type_and_bit_depth_interlaced_and_not()
    {
        var names = ImageFixtures.Names("png");
        string[] formats = ["grey1", "grey2", "grey4", "grey8", "grey16", "rgb8", "rgb16", "pal1", "pal2", "pal4", "pal8",
            "greyalpha8", "greyalpha16", "rgba8", "rgba16"];
        foreach (var f in formats)
        {
            Assert.Contains(names, n => n.StartsWith(f + "_", StringComparison.Ordinal) && !n.Contains("adam7"));
            Assert.Contains(names, n => n.StartsWith(f + "_adam7_", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Sixteen_bit_samples_map_to_round_v_over_257()
    {
        // round(v / 257) steps up between 257k + 128 and 257k + 129 (v / 257 is never exactly a half).
        int[] samples = [128, 129, 385, 386, 65406, 65407, 65535];
        byte[] expected = [0, 1, 1, 2, 254, 255, 255];
        var raw = new byte[1 + 2 * samples.Length];
        for (int i = 0; i < samples.Length; i++) (raw[1 + 2 * i], raw[2 + 2 * i]) = ((byte)(samples[i] >> 8), (byte)samples[i]);
        byte[] png = [.. PngBuilder.Signature, .. PngBuilder.Header(samples.Length, 1, 16, 0), .. PngBuilder.Chunk("IDAT", PngBuilder.Zlib(raw)), .. PngBuilder.Chunk("IEND", [])];
        var image = PngDecoder.Decode(png, "g16.png").Image;
        Assert.Equal(expected.SelectMany(v => new[] { v, v, v }), image.Pixels);
    }

    [Fact]
    public void Sniffs_the_signature()
    {
        Assert.True(PngDecoder.IsPng(ImageFixtures.Bytes("png", "rgb8_1x1.png")));
        Assert.False(PngDecoder.IsPng(ImageFixtures.Bytes("bmp", "rgb24_1x1.bmp")));
        Assert.False(PngDecoder.IsPng(PngBuilder.Signature.AsSpan(0, 7)));
    }

    [Fact]
    public void Reads_the_orientation_of_an_eXIf_chunk_before_or_after_the_image_data()
    {
        Assert.Equal(6, PngDecoder.ReadInfo(ImageFixtures.Bytes("png", "rgba8_ancillary_exif6_13x5.png"), "a.png").Orientation);
        Assert.Equal(3, PngDecoder.ReadInfo(ImageFixtures.Bytes("png", "grey8_exif3_after_idat_3x7.png"), "b.png").Orientation);
        Assert.Equal(1, PngDecoder.ReadInfo(ImageFixtures.Bytes("png", "rgb8_1x1.png"), "c.png").Orientation);
    }
}
