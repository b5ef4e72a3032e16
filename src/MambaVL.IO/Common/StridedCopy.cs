// Makes a contiguous copy of a strided CPU tensor of any dtype (checkpoints hold transposed or sliced views).
using MambaVL.Core.Tensors;

namespace MambaVL.IO.Common;

internal static unsafe class StridedCopy
{
    /// <summary>A new contiguous tensor with the same dtype, shape and values as <paramref name="t"/>.</summary>
    public static Tensor Contiguous(Tensor t)
    {
        var result = Tensor.Zeros(t.DType, t.ShapeArray);
        if (t.Length == 0) return result;
        int size = t.DType.Size(), rank = t.Rank;
        byte* src = (byte*)t.DataPointer, dst = (byte*)result.DataPointer;
        if (rank == 0) { Buffer.MemoryCopy(src, dst, size, size); return result; }

        int inner = t.Dim(-1);
        long innerStride = t.Strides[rank - 1] * size;
        var index = new int[rank - 1];
        for (long row = 0, rows = t.Length / inner; row < rows; row++)
        {
            long from = 0;
            for (int d = 0; d < rank - 1; d++) from += index[d] * t.Strides[d] * size;
            CopyRow(src + from, innerStride, dst, inner, size);
            dst += (long)inner * size;
            for (int d = rank - 2; d >= 0; d--) { if (++index[d] < t.Dim(d)) break; index[d] = 0; }
        }
        return result;
    }

    // x: (inner,) elements of `size` bytes, `stride` bytes apart -> packed at dst
    private static void CopyRow(byte* src, long stride, byte* dst, int inner, int size)
    {
        switch (size)
        {
            case 1: for (int j = 0; j < inner; j++) dst[j] = src[j * stride]; break;
            case 2: for (int j = 0; j < inner; j++) ((ushort*)dst)[j] = *(ushort*)(src + j * stride); break;
            case 4: for (int j = 0; j < inner; j++) ((uint*)dst)[j] = *(uint*)(src + j * stride); break;
            case 8: for (int j = 0; j < inner; j++) ((ulong*)dst)[j] = *(ulong*)(src + j * stride); break;
            default: throw new NotSupportedException($"element size {size}");
        }
    }
}
