// How model code puts checkpoint tensors on a backend: small parameters as F32, projection matrices in their stored
// float format (the backend's MatMul reads F32, F16 and BF16), shared by every architecture.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Models.Common;

internal static class Parameters
{
    /// <summary>Norm weights, biases, gammas, embeddings added to activations: F32, contiguous, on the backend.</summary>
    public static Tensor Small(IBackend backend, Tensor host) => backend.Upload(host.ToDType(DType.F32));

    /// <summary>
    /// Matrices for MatMul keep F32, F16 or BF16 (anything else becomes F32); <paramref name="storage"/> converts them
    /// (e.g. F32 checkpoints run with BF16 weights).
    /// </summary>
    public static Tensor Large(IBackend backend, Tensor host, DType? storage = null)
    {
        var dtype = storage ?? (host.DType is DType.F32 or DType.F16 or DType.BF16 ? host.DType : DType.F32);
        return backend.Upload(host.ToDType(dtype));
    }
}
