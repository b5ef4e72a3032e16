// Concatenation along one dimension: each part is copied as `outer` runs of contiguous values into its slot of the result.
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu.Kernels;

public static unsafe class ConcatKernel
{
    /// <summary>See <see cref="Core.Ops.IBackend.Concat"/>.</summary>
    public static Tensor Run(IReadOnlyList<Tensor> parts, int dim)
    {
        var shape = ConcatShape.Of(parts, dim, out int axis);
        var y = Tensor.Zeros(DType.F32, shape);
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        long rowOut = shape[axis] * inner, offset = 0;
        float* yp = KernelSupport.Ptr(y);
        foreach (var part in parts)
        {
            var ps = KernelSupport.F32(part);
            float* src = KernelSupport.Ptr(ps);
            long run = part.Dim(axis) * inner, bytes = run * sizeof(float);
            for (long o = 0; o < outer; o++) Buffer.MemoryCopy(src + o * run, yp + o * rowOut + offset, bytes, bytes);
            offset += run;
            GC.KeepAlive(ps);
        }
        return y;
    }
}
