// Output-size rules of the reference pipelines: the shortest-edge size shared by torchvision's Resize(int) (what timm's
// eval transforms use) and HF's get_resize_output_image_size(default_to_square=False).
namespace MambaVL.IO.Images.Processing;

public static class ResizeRules
{
    /// <summary>
    /// The (width, height) with the shorter side equal to <paramref name="size"/> and the longer one
    /// <c>int(size * long / short)</c>: Python true division then truncation, exactly as both torchvision's
    /// _compute_resized_output_size and transformers' get_resize_output_image_size compute it (no max_size).
    /// A square image, or a tie, counts the width as the shorter side, as both do.
    /// </summary>
    public static (int Width, int Height) ShortestEdge(int width, int height, int size)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}×{height} is empty");
        if (size <= 0) throw new ArgumentException($"shortest-edge size {size} must be at least 1 pixel", nameof(size));
        bool widthIsShort = width <= height;
        int shortSide = widthIsShort ? width : height, longSide = widthIsShort ? height : width;
        // size * long is an exact integer (Python int), then one correctly rounded double division, as in Python.
        double scaledLong = (double)((long)size * longSide) / shortSide;
        if (scaledLong >= int.MaxValue) throw new ArgumentException($"shortest-edge resize of {width}×{height} to {size} is too large");
        int newLong = (int)scaledLong;  // at least size, since long >= short
        return widthIsShort ? (size, newLong) : (newLong, size);
    }
}
