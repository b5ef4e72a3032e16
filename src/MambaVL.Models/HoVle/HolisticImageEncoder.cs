// The image half of HoVLE's holistic embedding module (and mmMamba's, which keeps it): per 448 tile a 14×14 patch
// convolution, the position embedding (CLS slot dropped) interpolated to the tile's grid by torch's plain bicubic,
// InternVL's pixel shuffle (0.5: 2×2 neighbours → one token of 4× the channels), then Linear-GELU-Linear.
// The features replace the <IMG_CONTEXT> slots of the text, tile by tile.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;
using MambaVL.Models.Vision;

namespace MambaVL.Models.HoVle;

public sealed class HolisticImageEncoder
{
    private readonly IBackend _backend;
    private readonly int _hidden, _patch, _tileSize;
    private readonly Tensor _patchW, _patchBias;   // (D, 3·p·p), (D)
    private readonly Tensor _positions;            // (G², D) for the tile grid
    private readonly Tensor _proj0W, _proj0B, _proj2W, _proj2B;

    /// <summary>Tokens per tile after the pixel shuffle: (tile / patch)² / 4.</summary>
    public int TokensPerTile => (_tileSize / _patch) * (_tileSize / _patch) / 4;

    /// <summary>
    /// Binds vision_embeddings.* and pixel_shuffle_proj.* under <paramref name="module"/> (the checkpoint's
    /// "embedding_model"); <paramref name="storedImageSize"/> is embedding_config.image_size (the position grid's size).
    /// </summary>
    public HolisticImageEncoder(WeightScope module, IBackend backend, int hidden, int patch, int storedImageSize, int tileSize, DType? storage = null)
    {
        (_backend, _hidden, _patch, _tileSize) = (backend, hidden, patch, tileSize);
        int grid = tileSize / patch, stored = storedImageSize / patch;
        if (grid % 2 != 0) throw new ArgumentException($"a {tileSize}-px tile has an odd {grid}×{grid} patch grid; the 0.5 pixel shuffle needs an even one");
        var v = module.Push("vision_embeddings");
        _patchW = Parameters.Large(backend, v.Get("patch_embedding.weight", hidden, 3, patch, patch).Reshape(hidden, 3 * patch * patch), storage);
        _patchBias = Parameters.Small(backend, v.GetF32("patch_embedding.bias", hidden));
        var all = v.GetF32("position_embedding", 1, 1 + stored * stored, hidden).ToFloatArray();
        var grid2d = PositionEmbedding.ResampleBicubic(all.AsSpan(hidden).ToArray(), stored, stored, hidden, grid, grid);
        _positions = Parameters.Small(backend, Tensor.FromArray(grid2d, grid * grid, hidden));
        var p = module.Push("pixel_shuffle_proj");
        (_proj0W, _proj0B) = (Parameters.Large(backend, p.Get("0.weight", hidden, 4 * hidden), storage), Parameters.Small(backend, p.GetF32("0.bias", hidden)));
        (_proj2W, _proj2B) = (Parameters.Large(backend, p.Get("2.weight", hidden, hidden), storage), Parameters.Small(backend, p.GetF32("2.bias", hidden)));
    }

    /// <summary>tiles (N, 3, S, S) F32 → features (N · TokensPerTile, D), tile by tile.</summary>
    public Tensor Encode(Tensor tiles)
    {
        if (tiles.Rank != 4 || tiles.Dim(1) != 3 || tiles.Dim(2) != _tileSize || tiles.Dim(3) != _tileSize)
            throw new ArgumentException($"HoVLE tiles must be (N, 3, {_tileSize}, {_tileSize}), got {tiles}");
        var perTile = new Tensor[tiles.Dim(0)];
        for (int i = 0; i < perTile.Length; i++)
        {
            var patches = Patches.Unfold(_backend, tiles.Narrow(0, i, 1).Reshape(3, _tileSize, _tileSize), _patch);
            var x = _backend.MatMul(patches, _patchW, _patchBias);  // (G², D)
            _backend.Release(patches);
            _backend.AddInPlace(x, _positions);
            perTile[i] = PixelShuffle(x);
            ReleaseUnlessShared(x, perTile[i]);
        }
        var shuffled = _backend.Concat(perTile, 0);
        foreach (var t in perTile) _backend.Release(t);
        var h = _backend.MatMul(shuffled, _proj0W, _proj0B);
        _backend.Release(shuffled);
        var a = _backend.Activate(h, Activation.Gelu);
        _backend.Release(h);
        var features = _backend.MatMul(a, _proj2W, _proj2B);
        _backend.Release(a);
        return features;
    }

    /// <summary>
    /// InternVL's pixel_shuffle(0.5) for one tile, step by step as its reshapes and permutes: (L, C) with L = G² →
    /// (G, G/2, 2C) → swap the first two → (G/2, G/2, 4C) → swap again → (L/4, 4C).
    /// </summary>
    private Tensor PixelShuffle(Tensor x)
    {
        int l = x.Dim(0), c = x.Dim(1), g = (int)Math.Round(Math.Sqrt(l));
        var step1 = _backend.Contiguous(x.Reshape(g, g / 2, 2 * c).Permute(1, 0, 2));           // (G/2, G, 2C)
        var step2 = _backend.Contiguous(step1.Reshape(g / 2, g / 2, 4 * c).Permute(1, 0, 2));   // (G/2, G/2, 4C)
        ReleaseUnlessShared(step1, x, step2);
        return step2.Reshape(l / 4, 4 * c);
    }

    /// <summary>Contiguous returns its input when the view already is (a 2×2 patch grid's permutes are): never free what is still in use.</summary>
    private void ReleaseUnlessShared(Tensor t, params Tensor[] inUse)
    {
        if (!inUse.Any(u => ReferenceEquals(u.Storage, t.Storage))) _backend.Release(t);
    }
}
