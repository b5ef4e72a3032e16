// Opens any supported image: the format is sniffed from the first bytes (never the extension) and the file handed to
// its decoder (JPEG, PNG, BMP, PPM/PGM/PBM). Output as PIL's `Image.open(f).convert("RGB")`; orientation only on request.
using MambaVL.IO.Images.Bmp;
using MambaVL.IO.Images.Jpeg;
using MambaVL.IO.Images.Png;
using MambaVL.IO.Images.Pnm;

namespace MambaVL.IO.Images;

public static class ImageDecoder
{
    /// <summary>Files larger than this are refused before reading (no supported image needs more).</summary>
    public const long MaxFileBytes = 1L << 30;

    public static IReadOnlyList<string> Formats { get; } = ["JPEG", "PNG", "BMP", "PPM"];

    /// <summary>Decodes <paramref name="path"/>; with <paramref name="applyOrientation"/> the EXIF orientation is undone (as PIL's exif_transpose).</summary>
    public static DecodedImage Decode(string path, bool applyOrientation = false)
    {
        var decoded = Decode(ReadFile(path), path);
        return applyOrientation && decoded.Info.Orientation != 1
            ? new DecodedImage(Exif.ApplyOrientation(decoded.Image, decoded.Info.Orientation), decoded.Info)
            : decoded;
    }

    public static DecodedImage Decode(ReadOnlySpan<byte> data, string fileName) => Sniff(data, fileName) switch
    {
        "JPEG" => JpegDecoder.Decode(data, fileName),
        "PNG" => PngDecoder.Decode(data, fileName),
        "BMP" => BmpDecoder.Decode(data, fileName),
        _ => PnmDecoder.Decode(data, fileName),
    };

    /// <summary>Format, size, mode and orientation from the headers (the pixels are not decoded).</summary>
    public static ImageInfo ReadInfo(string path)
    {
        var data = ReadFile(path);
        return Sniff(data, path) switch
        {
            "JPEG" => JpegDecoder.ReadInfo(data, path),
            "PNG" => PngDecoder.ReadInfo(data, path),
            "BMP" => BmpDecoder.ReadInfo(data, path),
            _ => PnmDecoder.ReadInfo(data, path),
        };
    }

    private static string Sniff(ReadOnlySpan<byte> data, string fileName)
    {
        if (JpegDecoder.IsJpeg(data)) return "JPEG";
        if (PngDecoder.IsPng(data)) return "PNG";
        if (BmpDecoder.IsBmp(data)) return "BMP";
        if (PnmDecoder.IsPnm(data)) return "PPM";
        throw ImageErrors.Corrupt(fileName, data.Length == 0 ? "the file is empty"
            : $"not an image this build can read (supported: {string.Join(", ", Formats)}; GIF, WebP, TIFF and HEIC are not)");
    }

    private static byte[] ReadFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such file", path);
        if (info.Length > MaxFileBytes) throw ImageErrors.Corrupt(path, $"{info.Length} bytes is larger than any supported image ({MaxFileBytes} bytes)");
        return File.ReadAllBytes(path);
    }
}
