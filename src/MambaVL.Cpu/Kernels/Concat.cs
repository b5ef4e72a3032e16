// Concatenation along one dimension: each part (as F32) is copied into its slot of the result, a view along the axis,
// by Tensor.CopyFrom (one memcpy per contiguous run).
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu.Kernels;

public static class ConcatKernel
{
    /// <summary>See <see cref="Core.Ops.IBackend.Concat"/>.</summary>
    public static Tensor Run(IReadOnlyList<Tensor> parts, int dim)
    {
        var shape = ConcatShape.Of(parts, dim, out int axis);
        var y = Tensor.Zeros(DType.F32, shape);
        int offset = 0;
        foreach (var part in parts)
        {
            y.Narrow(axis, offset, part.Dim(axis)).CopyFrom(KernelSupport.F32(part));
            offset += part.Dim(axis);
        }
        return y;
    }
}
