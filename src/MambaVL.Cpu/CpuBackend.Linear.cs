// MatMul (GEMM/GEMV) and embedding gather. Owner: the linear-algebra kernels (Kernels/Gemm*.cs).
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu;

public sealed partial class CpuBackend
{
    public Tensor MatMul(Tensor x, Tensor w, Tensor? bias = null) => Ref.MatMul(x, w, bias);  // TODO: fast GEMM
    public Tensor Embedding(Tensor table, ReadOnlySpan<int> ids) => Ref.Embedding(table, ids);
}
