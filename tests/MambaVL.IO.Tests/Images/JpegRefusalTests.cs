// What the JPEG decoder refuses, and how: arithmetic coding, lossless and hierarchical processes, 12-bit samples,
// fractional sampling, absurd sizes, truncation and broken restart markers all give InvalidDataException naming the
// file and the problem. Inputs are fixtures or fixtures with one header field patched.
using MambaVL.IO.Images.Jpeg;

namespace MambaVL.IO.Tests.Images;

public class JpegRefusalTests
{
    [Theory]
    [InlineData("arithmetic_sequential.jpg", "SOF9")]
    [InlineData("arithmetic_progressive.jpg", "SOF10")]
    public void Arithmetic_coding_is_refused(string fixture, string sof)
    {
        var bytes = Fixture(fixture);
        var e = AssertRefused(bytes, fixture, "arithmetic-coded JPEG");
        Assert.Contains(sof, e.Message);
        AssertRefused(bytes, fixture, "arithmetic-coded JPEG", readInfo: true);
    }

    [Fact]
    public void Twelve_bit_samples_are_refused()
    {
        var bytes = Fixture("baseline_420.jpg");
        bytes[SofAt(bytes) + 4] = 12;
        AssertRefused(bytes, "deep.jpg", "12-bit JPEG samples are not supported");
    }

    [Theory]
    [InlineData(0xC3, "lossless JPEG (SOF3) is not supported")]
    [InlineData(0xC5, "hierarchical JPEG (SOF5)")]
    [InlineData(0xC7, "hierarchical JPEG (SOF7)")]
    [InlineData(0xCB, "arithmetic-coded hierarchical/lossless JPEG (SOF11)")]
    public void Other_processes_are_refused(int marker, string message)
    {
        var bytes = Fixture("baseline_444.jpg");
        bytes[SofAt(bytes) + 1] = (byte)marker;
        AssertRefused(bytes, "other.jpg", message);
    }

    [Fact]
    public void Fractional_sampling_is_refused_like_libjpeg()
    {
        // Luma 3×1 with a 2×1 chroma component: 3 is not a multiple of 2, which jinit_upsampler refuses too.
        var bytes = Fixture("sample_31_11_11.jpg");
        bytes[SofAt(bytes) + 10 + 3 + 1] = 0x21;
        AssertRefused(bytes, "fraction.jpg", "fractional upsampling is not supported");
    }

    [Theory]
    [InlineData(65535, 48, "exceeds libjpeg's limit of 65500")]
    [InlineData(20000, 20000, "more than 268435456 pixels")]
    [InlineData(0, 48, "empty image")]
    public void Absurd_sizes_are_refused(int width, int height, string message)
    {
        var bytes = Fixture("baseline_420.jpg");
        SetSize(bytes, width, height);
        AssertRefused(bytes, "size.jpg", message);
    }

    [Fact]
    public void A_large_size_with_little_data_is_refused_before_allocating()
    {
        var bytes = Fixture("baseline_420.jpg");
        SetSize(bytes, 16000, 16000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        AssertRefused(bytes, "big.jpg", "cannot hold the");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated the image before refusing it");
        Assert.Equal((16000, 16000), (JpegDecoder.ReadInfo(bytes, "big.jpg").Width, JpegDecoder.ReadInfo(bytes, "big.jpg").Height));
    }

    [Theory]
    [InlineData(2, "truncated JPEG: the entropy-coded data of scan 1 ends early")]
    [InlineData(1000, "truncated JPEG: the entropy-coded data of scan 1 ends early")]
    public void Truncated_entropy_data_is_refused(int cutFromEnd, string message)
    {
        // baseline_420's last MCUs need its final bytes; cutting inside them leaves the scan short.
        var bytes = Fixture("baseline_420.jpg");
        AssertRefused(bytes[..(bytes.Length - 2 - cutFromEnd)], "cut.jpg", message);
    }

    [Fact]
    public void A_single_scan_file_without_EOI_decodes_as_in_PIL()
    {
        var bytes = Fixture("baseline_420.jpg");
        var full = JpegDecoder.Decode(bytes, "full.jpg");
        var noEoi = JpegDecoder.Decode(bytes[..^2], "no-eoi.jpg");
        Assert.Equal(full.Image.Pixels, noEoi.Image.Pixels);
    }

    [Fact]
    public void A_progressive_file_missing_its_last_scans_is_refused()
    {
        var bytes = Fixture("progressive_420.jpg");
        int lastSos = bytes.AsSpan().LastIndexOf([(byte)0xFF, (byte)0xDA]);
        AssertRefused(bytes[..lastSos], "partial.jpg", "truncated JPEG: the file ends before the EOI marker");
    }

    [Fact]
    public void A_wrong_restart_marker_is_refused()
    {
        var bytes = Fixture("restart_mcus.jpg");
        int rst = bytes.AsSpan().IndexOf([(byte)0xFF, (byte)0xD1]);
        Assert.True(rst > 0);
        bytes[rst + 1] = 0xD5;
        AssertRefused(bytes, "rst.jpg", "expected restart marker RST1, found RST5");
    }

    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, "not a JPEG file")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 }, "no image: EOI before any scan")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00 }, "truncated JPEG: the file ends inside the DQT segment")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00 }, "SOS marker before any SOF marker")]
    [InlineData(new byte[] { 0xFF, 0xD8 }, "the file ends before the EOI marker")]
    [InlineData(new byte[] { }, "not a JPEG file")]
    public void Broken_headers_are_refused(byte[] bytes, string message) => AssertRefused(bytes, "broken.jpg", message);

    [Fact]
    public void Two_component_files_are_refused_as_PIL_does()
    {
        // Rebuild baseline_444's SOF with two components; PIL has no mode for them.
        var bytes = Fixture("baseline_444.jpg");
        int sof = SofAt(bytes);
        byte[] twoComponents = [0xFF, 0xC0, 0x00, 0x0E, 8, 0, 32, 0, 48, 2, 1, 0x11, 0, 2, 0x11, 1];
        var patched = bytes[..sof].Concat(twoComponents).Concat(bytes[(sof + 2 + 17)..]).ToArray();
        AssertRefused(patched, "two.jpg", "JPEG with 2 components is not supported");
    }

    private static InvalidDataException AssertRefused(byte[] bytes, string name, string message, bool readInfo = false)
    {
        var e = Assert.Throws<InvalidDataException>(() => { if (readInfo) JpegDecoder.ReadInfo(bytes, name); else JpegDecoder.Decode(bytes, name); });
        Assert.StartsWith(name + ": ", e.Message);
        Assert.Contains(message, e.Message);
        return e;
    }

    private static byte[] Fixture(string name) => File.ReadAllBytes(ImageFixtures.File("jpeg", name));

    /// <summary>Offset of the FF of the first SOFn marker (fixtures have no FF Cx inside earlier segments).</summary>
    private static int SofAt(byte[] b)
    {
        for (int i = 2; i + 1 < b.Length; i++)
            if (b[i] == 0xFF && b[i + 1] is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC) return i;
        throw new InvalidOperationException("no SOF");
    }

    private static void SetSize(byte[] b, int width, int height)
    {
        int sof = SofAt(b);
        (b[sof + 5], b[sof + 6], b[sof + 7], b[sof + 8]) = ((byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width);
    }
}
