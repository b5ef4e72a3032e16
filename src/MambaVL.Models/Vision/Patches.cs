// A patch-embedding convolution (kernel = stride = patch) as views: (3, S, S) pixels → one row per patch, unrolled as
// the conv weight is (C, kh, kw), so the convolution is a single GEMM. Pixels past Grid·patch are never seen, as with the conv.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Models.Vision;

public static class Patches
{
    /// <summary>pixels (3, S, S) → (G², 3·p·p) with G = S / p, patches in row-major order.</summary>
    public static Tensor Unfold(IBackend backend, Tensor pixels, int patch)
    {
        int g = pixels.Dim(1) / patch;
        // (3, g·p, g·p) → (g, g, 3, p, p)
        return backend.Contiguous(pixels.Narrow(1, 0, g * patch).Narrow(2, 0, g * patch).SplitDim(2, g, patch).SplitDim(1, g, patch)
            .Permute(1, 3, 0, 2, 4)).Reshape(g * g, 3 * patch * patch);
    }
}
