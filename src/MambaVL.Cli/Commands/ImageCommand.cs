// `mambavl image`: decode, preprocess and describe image files with MambaVL's own decoders and PIL-exact preprocessing.
// `decode` and `preprocess` write safetensors files that tools and tests compare with PIL / the reference pipelines.
using System.CommandLine;
using MambaVL.Cli.Common;
using MambaVL.Core.Tensors;
using MambaVL.IO.Images;
using MambaVL.IO.Images.Processing;
using MambaVL.IO.Safetensors;

namespace MambaVL.Cli.Commands;

public static class ImageCommand
{
    public const string PixelsName = "pixels";

    public static Command Create() => new("image", "Decode, preprocess and describe image files (JPEG, PNG, BMP, PPM/PGM)")
    {
        Decode(), Preprocess(), Info(),
    };

    private static Argument<string> FileArgument() => new("file") { Description = "The image file" };

    private static Option<string> OutOption() => new("--out", "-o") { Description = "The .safetensors file to write", Required = true };

    private static Option<bool> OrientOption() =>
        new("--apply-orientation") { Description = "Rotate/flip by the EXIF orientation first (the reference pipelines do not)" };

    private static Command Decode()
    {
        var file = FileArgument();
        var output = OutOption();
        var orient = OrientOption();
        var command = new Command("decode", "Decode to RGB and write one U8 tensor `pixels` [H, W, 3]") { file, output, orient };
        command.SetAction(parse =>
        {
            var ctx = CliContext.From(parse);
            string outPath = CheckedOut(parse.GetValue(output)!);
            var decoded = ImageDecoder.Decode(parse.GetValue(file)!, parse.GetValue(orient));
            var img = decoded.Image;
            var pixels = Tensor.Zeros(DType.U8, img.Height, img.Width, 3);
            img.Pixels.CopyTo(pixels.Span<byte>());
            SafetensorsWriter.Write(outPath, [new(PixelsName, pixels)], Metadata(decoded.Info));
            ctx.Err.WriteLine($"wrote {PixelsName} [{img.Height}, {img.Width}, 3] U8 to {outPath}");
            return MambaVlCli.Ok;
        });
        return command;
    }

    private static Command Preprocess()
    {
        var file = FileArgument();
        var output = OutOption();
        var orient = OrientOption();
        var preset = new Option<string>("--preset") { Description = $"One of: {string.Join(", ", ImagePreset.Names)}", Required = true };
        var maxTiles = new Option<int?>("--max-tiles") { Description = "internvl-448: the most tiles (default 12)" };
        var command = new Command("preprocess", "Resize, crop and normalise as a model's pipeline does; write its F32 tensors")
        {
            file, output, preset, maxTiles, orient,
        };
        command.SetAction(parse =>
        {
            var ctx = CliContext.From(parse);
            string outPath = CheckedOut(parse.GetValue(output)!);
            var p = PresetFor(parse.GetValue(preset)!, parse.GetValue(maxTiles));
            var decoded = ImageDecoder.Decode(parse.GetValue(file)!, parse.GetValue(orient));
            var tensors = p.Apply(decoded.Image);
            SafetensorsWriter.Write(outPath, tensors, Metadata(decoded.Info));
            foreach (var (name, t) in tensors) ctx.Err.WriteLine($"wrote {name} {Tensor.ShapeString(t.Shape)} {t.DType} to {outPath}");
            return MambaVlCli.Ok;
        });
        return command;
    }

    private static Command Info()
    {
        var file = FileArgument();
        var command = new Command("info", "Format, size, mode and EXIF orientation of an image file") { file };
        command.SetAction(parse =>
        {
            var ctx = CliContext.From(parse);
            var info = ImageDecoder.ReadInfo(parse.GetValue(file)!);
            ctx.Out.WriteLine($"format: {info.Format}");
            ctx.Out.WriteLine($"size: {info.Width}x{info.Height}");
            ctx.Out.WriteLine($"mode: {info.Mode}");
            ctx.Out.WriteLine($"orientation: {info.Orientation} ({OrientationName(info.Orientation)})");
            return MambaVlCli.Ok;
        });
        return command;
    }

    /// <summary>The named preset; --max-tiles rebuilds internvl-448 with that limit and is refused for the others.</summary>
    private static ImagePreset PresetFor(string name, int? maxTiles)
    {
        if (!ImagePreset.TryGet(name, out var preset))
            throw new CliException($"--preset: unknown preset '{name}' (expected one of {string.Join(", ", ImagePreset.Names)})");
        if (maxTiles is not int tiles) return preset;
        if (preset != ImagePreset.InternVl448Default) throw new CliException($"--max-tiles: only internvl-448 tiles images, not {name}");
        if (tiles < 1) throw new CliException($"--max-tiles: {tiles} is not a positive tile count");
        return ImagePreset.InternVl448(tiles);
    }

    private static string CheckedOut(string outPath)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir != null && !Directory.Exists(dir)) throw new CliException($"--out: folder {dir} does not exist");
        return outPath;
    }

    private static Dictionary<string, string> Metadata(ImageInfo info) => new()
    {
        ["format"] = info.Format, ["width"] = info.Width.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["height"] = info.Height.ToString(System.Globalization.CultureInfo.InvariantCulture), ["mode"] = info.Mode,
        ["orientation"] = info.Orientation.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string OrientationName(int o) => o switch
    {
        1 => "as stored", 2 => "mirrored", 3 => "rotated 180°", 4 => "flipped", 5 => "transposed",
        6 => "rotated 90° clockwise to view", 7 => "transversed", 8 => "rotated 90° counter-clockwise to view", _ => "unknown",
    };
}
