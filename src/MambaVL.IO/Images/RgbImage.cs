// An 8-bit RGB image in memory, (H, W, 3) interleaved: what PIL's `Image.open(f).convert("RGB")` gives, and what the
// resizers and the preprocessing presets consume.
namespace MambaVL.IO.Images;

public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }

    /// <summary>Pixels row by row, R G B per pixel: Height × Width × 3 bytes.</summary>
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[]? pixels = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}×{height} is empty");
        long bytes = (long)width * height * 3;
        if (bytes > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(width), $"image {width}×{height} is too large");
        pixels ??= new byte[bytes];
        if (pixels.Length != bytes) throw new ArgumentException($"{pixels.Length} bytes do not fill a {width}×{height} RGB image");
        (Width, Height, Pixels) = (width, height, pixels);
    }

    /// <summary>Row <paramref name="y"/>: Width × 3 bytes.</summary>
    public Span<byte> Row(int y) => Pixels.AsSpan(y * Width * 3, Width * 3);
}

/// <summary>
/// What a file holds before conversion: its format ("JPEG", "PNG", "BMP", "PPM"), size, PIL mode name ("RGB", "L",
/// "RGBA", "P", "CMYK", "I;16", ...) and EXIF orientation (1 = as stored, 2..8 as TIFF defines them; 1 when absent).
/// </summary>
public sealed record ImageInfo(string Format, int Width, int Height, string Mode, int Orientation = 1);

/// <summary>A decoded image and what the file said about itself.</summary>
public sealed record DecodedImage(RgbImage Image, ImageInfo Info);

/// <summary>Errors for files that are not valid images of their format (corrupt, truncated, unsupported).</summary>
public static class ImageErrors
{
    /// <summary>"FILE: problem", as every reader in MambaVL.IO reports a bad file.</summary>
    public static InvalidDataException Corrupt(string fileName, string problem) => new($"{fileName}: {problem}");
}
