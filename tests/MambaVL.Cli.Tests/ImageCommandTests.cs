// `mambavl image decode | preprocess | info` in-process: pixels written exactly as decoded, preset tensors with the
// shapes the models expect, and one-line errors for missing, corrupt and unsupported files and bad options.
using MambaVL.IO.Safetensors;

namespace MambaVL.Cli.Tests;

public sealed class ImageCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A binary PPM (P6) of a w×h gradient, and its RGB bytes.</summary>
    private (string Path, byte[] Pixels) Ppm(int w, int h, string name = "img.ppm")
    {
        var pixels = new byte[w * h * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 37 % 251);
        var header = System.Text.Encoding.ASCII.GetBytes($"P6\n# made by a test\n{w} {h}\n255\n");
        string path = _dir.File(name);
        File.WriteAllBytes(path, [.. header, .. pixels]);
        return (path, pixels);
    }

    [Fact]
    public void Decode_writes_the_pixels_as_one_u8_tensor()
    {
        var (path, pixels) = Ppm(13, 7);
        string output = _dir.File("pixels.safetensors");
        Cli.Ok("image", "decode", path, "--out", output);
        using var f = new SafetensorsFile(output);
        var t = f.Get("pixels");
        Assert.Equal(new[] { 7, 13, 3 }, t.ShapeArray);
        Assert.Equal(Core.Tensors.DType.U8, t.DType);
        Assert.Equal(pixels, t.Span<byte>().ToArray());
    }

    [Fact]
    public void Preprocess_dinosiglip_writes_both_towers_inputs()
    {
        var (path, _) = Ppm(50, 31);
        string output = _dir.File("pre.safetensors");
        Cli.Ok("image", "preprocess", path, "--preset", "dinosiglip-384", "--out", output);
        using var f = new SafetensorsFile(output);
        Assert.Equal(new[] { "dino", "siglip" }, f.Names.Order());
        Assert.Equal(new[] { 3, 384, 384 }, f.Get("dino").ShapeArray);
        Assert.Equal(new[] { 3, 384, 384 }, f.Get("siglip").ShapeArray);
        // the same resized pixels, normalised twice: siglip = (x - 0.5)/0.5 and dino = (x - mean)/std, channel 0
        float s = f.Get("siglip").ToFloatArray()[0], d = f.Get("dino").ToFloatArray()[0];
        float x = s * 0.5f + 0.5f;
        Assert.Equal((x - 0.485f) / 0.229f, d, 4);
    }

    [Fact]
    public void Preprocess_internvl_honours_max_tiles()
    {
        var (path, _) = Ppm(90, 20);  // wide: several tiles, then the thumbnail
        string output = _dir.File("tiles.safetensors");
        Cli.Ok("image", "preprocess", path, "--preset", "internvl-448", "--max-tiles", "4", "--out", output);
        using var f = new SafetensorsFile(output);
        var shape = f.Get("pixels").ShapeArray;
        Assert.Equal(new[] { 5, 3, 448, 448 }, shape);  // 4 tiles in a row + thumbnail
    }

    [Fact]
    public void Info_reports_format_size_mode_and_orientation()
    {
        var (path, _) = Ppm(13, 7);
        var run = Cli.Ok("image", "info", path);
        Assert.Contains("format: PPM", run.OutLines);
        Assert.Contains("size: 13x7", run.OutLines);
        Assert.Contains("mode: RGB", run.OutLines);
        Assert.Contains(run.OutLines, l => l.StartsWith("orientation: 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_orientation_turns_an_exif_6_jpeg_upright()
    {
        string jpeg = RepoFile("tests", "fixtures", "images", "jpeg", "exif_orientation_6.jpg");
        Assert.Contains("orientation: 6 (rotated 90° clockwise to view)", Cli.Ok("image", "info", jpeg).OutLines);
        int[] Shape(params string[] extra)
        {
            string output = _dir.File($"o{extra.Length}.safetensors");
            Cli.Ok(["image", "decode", jpeg, "--out", output, .. extra]);
            using var f = new SafetensorsFile(output);
            return f.Get("pixels").ShapeArray;
        }
        var stored = Shape();
        var upright = Shape("--apply-orientation");
        Assert.Equal(new[] { stored[1], stored[0], 3 }, upright);  // width and height swap
        Assert.NotEqual(stored[0], stored[1]);
    }

    private static string RepoFile(params string[] parts)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine([d.FullName, .. parts]))) return Path.Combine([d.FullName, .. parts]);
        throw new FileNotFoundException(string.Join('/', parts));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("corrupt")]
    [InlineData("unsupported")]
    public void Bad_files_give_one_line_errors_naming_the_file(string kind)
    {
        string path = _dir.File($"{kind}.img");
        if (kind == "corrupt") File.WriteAllBytes(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0]);
        if (kind == "unsupported") File.WriteAllBytes(path, System.Text.Encoding.ASCII.GetBytes("GIF89a......"));
        var run = Cli.Run("image", "decode", path, "--out", _dir.File("x.safetensors"));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Single(run.ErrorLines);
        Assert.Contains(path, run.ErrorLines[0]);
        Assert.False(File.Exists(_dir.File("x.safetensors")));
    }

    [Fact]
    public void An_unknown_preset_lists_the_known_ones()
    {
        var (path, _) = Ppm(4, 4);
        var run = Cli.Run("image", "preprocess", path, "--preset", "nope", "--out", _dir.File("x.safetensors"));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains("dinosiglip-384", StringComparison.Ordinal));
    }
}
