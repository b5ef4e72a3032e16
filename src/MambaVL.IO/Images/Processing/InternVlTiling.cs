// InternVL's dynamic high-resolution tiling (OpenGVLab/InternVL find_closest_aspect_ratio + dynamic_preprocess, also
// used by mmMamba): pick a cols × rows grid, resize to it, cut square tiles row-major, append a thumbnail.
namespace MambaVL.IO.Images.Processing;

public static class InternVlTiling
{
    /// <summary>
    /// The (columns, rows) grid for a width × height image: among grids with minTiles ≤ cols·rows ≤ maxTiles, in order
    /// of area, the first whose cols/rows is strictly closest to width/height; a later grid exactly as close replaces it
    /// when width·height &gt; 0.5·tileSize²·cols·rows (large images get more tiles of the same shape).
    /// </summary>
    /// <remarks>
    /// The reference sorts a Python set by area only, so equal-area grids keep the set's iteration order; they are taken
    /// here by ascending columns. That order never decides a result: two equal-area grids tie only at the midpoint of
    /// their ratios, and a grid of another area is then strictly closer (make_resize_fixtures.py checks this for every
    /// such midpoint up to 40 tiles; the grid table in the fixtures was made with the set order).
    /// </remarks>
    public static (int Columns, int Rows) ChooseGrid(int width, int height, int minTiles = 1, int maxTiles = 12, int tileSize = 448)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}×{height} is empty");
        ValidateTiling(minTiles, maxTiles, tileSize);
        double aspect = (double)width / height;
        long area = (long)width * height;
        double bestDiff = double.PositiveInfinity;
        (int Columns, int Rows) best = (1, 1);
        for (int tiles = minTiles; tiles <= maxTiles; tiles++)
            for (int cols = 1; cols <= tiles; cols++)
            {
                if (tiles % cols != 0) continue;
                int rows = tiles / cols;
                double diff = Math.Abs(aspect - (double)cols / rows);
                if (diff < bestDiff) (bestDiff, best) = (diff, (cols, rows));
                else if (diff == bestDiff && area > 0.5 * tileSize * tileSize * cols * rows) best = (cols, rows);
            }
        return best;
    }

    /// <summary>
    /// dynamic_preprocess: the image resized with PIL BICUBIC (Image.resize's default for RGB) to
    /// (tileSize·cols, tileSize·rows), cut into tiles left to right, top to bottom; when there is more than one tile and
    /// <paramref name="thumbnail"/> is set, the whole image resized to tileSize × tileSize comes last.
    /// </summary>
    public static IReadOnlyList<RgbImage> Tiles(RgbImage image, int maxTiles = 12, bool thumbnail = true, int tileSize = 448, int minTiles = 1)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (cols, rows) = ChooseGrid(image.Width, image.Height, minTiles, maxTiles, tileSize);
        if ((long)tileSize * Math.Max(cols, rows) > int.MaxValue / 3) throw new ArgumentException($"tile size {tileSize} is too large");
        var resized = PilResize.Resize(image, tileSize * cols, tileSize * rows, ResampleFilter.Bicubic);
        var tiles = new List<RgbImage>(cols * rows + 1);
        for (int i = 0; i < cols * rows; i++)
            tiles.Add(Crop.Region(resized, i % cols * tileSize, i / cols * tileSize, tileSize, tileSize));
        if (thumbnail && tiles.Count != 1) tiles.Add(PilResize.Resize(image, tileSize, tileSize, ResampleFilter.Bicubic));
        return tiles;
    }

    private static void ValidateTiling(int minTiles, int maxTiles, int tileSize)
    {
        if (minTiles < 1 || maxTiles < minTiles)
            throw new ArgumentException($"tile counts need 1 ≤ min ≤ max, got min {minTiles}, max {maxTiles}");
        if (tileSize <= 0) throw new ArgumentException($"tile size {tileSize} must be at least 1 pixel", nameof(tileSize));
    }
}
