// PBM/PGM/PPM decoding against PIL: every fixture (P1-P6, comments, maxval 1 to 65535, samples above maxval, files PIL
// wrote) gives PIL's size and mode and exactly its convert("RGB") pixels (mode "I": round(v / 257)); bad files fail clearly.
using MambaVL.IO.Images.Pnm;

namespace MambaVL.IO.Tests.Images;

public class PnmTests
{
    private const string Name = "test.pgm";

    public static TheoryData<string> Files => ImageFixtures.Theory("pnm");

    [Theory, MemberData(nameof(Files))]
    public void Decodes_like_PIL(string name) =>
        ImageFixtures.AssertMatchesPil("pnm", name, PnmDecoder.Decode, PnmDecoder.ReadInfo);

    [Fact]
    public void Sniffs_the_magic_number()
    {
        Assert.True(PnmDecoder.IsPnm("P6\n1 1\n255\n"u8));
        Assert.True(PnmDecoder.IsPnm("P1"u8));
        Assert.False(PnmDecoder.IsPnm("P7"u8));
        Assert.False(PnmDecoder.IsPnm(ImageFixtures.Bytes("png", "rgb8_1x1.png")));
    }

    private static byte[] Grey(int maxval, params int[] samples) =>
        System.Text.Encoding.ASCII.GetBytes($"P2 {samples.Length} 1 {maxval}\n{string.Join(' ', samples)}\n");

    private static byte[] GreyOf(byte[] file) => PnmDecoder.Decode(file, Name).Image.Pixels.Where((_, i) => i % 3 == 0).ToArray();

    [Fact]
    public void Samples_scale_like_PIL_with_ties_to_even()
    {
        // maxval 2: 1 → round(127.5) = 128 (even); maxval 6: 1 → 42.5 → 42, 3 → 127.5 → 128, 5 → 212.5 → 212.
        Assert.Equal(new byte[] { 0, 128, 255 }, GreyOf(Grey(2, 0, 1, 2)));
        Assert.Equal(new byte[] { 42, 128, 212 }, GreyOf(Grey(6, 1, 3, 5)));
        // maxval 1000 is mode "I": round(v / 1000 × 65535), then round(/ 257); 500 → 32768 (32767.5 to even) → 128.
        Assert.Equal(new byte[] { 0, 128, 255 }, GreyOf(Grey(1000, 0, 500, 1000)));
    }

    private static string ErrorOf(string file)
    {
        var e = Assert.Throws<InvalidDataException>(() => PnmDecoder.Decode(System.Text.Encoding.Latin1.GetBytes(file), Name));
        Assert.StartsWith(Name + ": ", e.Message);
        return e.Message;
    }

    [Fact]
    public void Damaged_files_give_clear_errors()
    {
        Assert.Contains("not a PBM/PGM/PPM file", ErrorOf("P7\n1 1\n255\n\0"));
        Assert.Contains("not a PBM/PGM/PPM file", ErrorOf("P6#comment\n1 1\n255\n\0\0\0"));
        Assert.Contains("truncated: the header ends before the maxval", ErrorOf("P5 1 1"));
        Assert.Contains("maxval 0 is not between 1 and 65535", ErrorOf("P5 1 1 0\n\0"));
        Assert.Contains("maxval 65536 is not between 1 and 65535", ErrorOf("P5 1 1 65536\n\0"));
        Assert.Contains("width \"x2\" is not a decimal number", ErrorOf("P5 x2 1 255\n\0"));
        Assert.Contains("longer than 10 characters", ErrorOf("P5 12345678901 1 255\n\0"));
        Assert.Contains("truncated: the pixel data needs 6 bytes, the file has 5", ErrorOf("P6 1 1 65535\n\0\0\0\0\0"));
        Assert.Contains("truncated: the P2 data ends after 2 of 3 samples", ErrorOf("P2 3 1 255\n1 2\n\n\n"));
        Assert.Contains("sample 300 is larger than maxval 255", ErrorOf("P2 2 1 255\n1 300\n"));
        Assert.Contains("bad character '2' in P1 data", ErrorOf("P1 2 1\n0 2\n"));
        Assert.Contains("bad character 'x' in P1 data", ErrorOf("P1 2 1\n0 1 x\n"));  // PIL checks the whole block
        Assert.Contains("larger than the 268435456-pixel limit", ErrorOf("P5 100000 100000 255\n\0"));
        Assert.Contains("image size 0×1 is empty", ErrorOf("P5 0 1 255\n"));
        Assert.Contains("truncated: 3 bytes of ASCII data cannot hold 1000000 samples", ErrorOf("P2 1000 1000 255\n1 2"));
    }

    [Fact]
    public void Comments_can_sit_anywhere_even_inside_a_number_as_in_PIL()
    {
        // maxval reads as "255" and the second sample as "20" (PIL 9.4 gives the same).
        var image = PnmDecoder.Decode("P2 2 1 2#c\n55\n0 2#x\n0\n"u8, Name).Image;
        Assert.Equal(new byte[] { 0, 0, 0, 20, 20, 20 }, image.Pixels);
    }
}
