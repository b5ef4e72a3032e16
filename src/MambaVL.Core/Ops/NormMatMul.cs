// The pre-norm projection op (IBackend.NormMatMul): a block's residual add, its RMSNorm and the product that reads the
// normalised rows, as one op so a backend can fold the norm into the product's prologue (CUDA does for decode rows:
// one kernel, and the product's weights start streaming while the kernel before it still runs).
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Ops;

public static class NormMatMulComposition
{
    /// <summary>
    /// residual += x (x null: nothing added), RMSNorm of residual times <paramref name="norm"/>, then the product with w
    /// (+ bias): AddRmsNorm (or RmsNorm) then MatMul, the calls a pre-norm block made before the op existed, so every
    /// backend without its own kernel gives the same bits. residual (M, D) F32 contiguous, x (M, D) F32, norm (D),
    /// w (N, D) → (M, N).
    /// </summary>
    public static Tensor Run(IBackend backend, Tensor residual, Tensor? x, Tensor norm, float eps, Tensor w, Tensor? bias)
    {
        var normed = x is null ? backend.RmsNorm(residual, norm, eps) : backend.AddRmsNorm(residual, x, norm, eps);
        var y = backend.MatMul(normed, w, bias);
        backend.Release(normed);
        return y;
    }
}
