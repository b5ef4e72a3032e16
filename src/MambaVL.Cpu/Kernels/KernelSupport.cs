// Plumbing shared by the non-GEMM CPU kernels: F32 input views, scratch memory and "parallel only when it pays".
using System.Runtime.InteropServices;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;

namespace MambaVL.Cpu.Kernels;

internal static unsafe class KernelSupport
{
    /// <summary>Below this many touched elements a kernel runs on the calling thread (dispatch would cost more).</summary>
    public const long ParallelThreshold = 1 << 15;

    /// <summary>A contiguous F32 version of <paramref name="t"/> (itself when it already is one). Keep it alive while using its pointer.</summary>
    public static Tensor F32(Tensor t) =>
        t.DType == DType.F32 && t.IsContiguous ? t : Tensor.FromArray(t.ToFloatArray(), t.ShapeArray);

    /// <summary>
    /// An F32 version of <paramref name="t"/> whose dimensions after the first are contiguous, and the distance in
    /// floats between its rows (dimension 0): column slices of a wider matrix are read in place, anything else is copied.
    /// </summary>
    public static Tensor Rows(Tensor t, out long rowStride)
    {
        if (t.Rank == 0 || t.Dim(0) == 0 || t.DType != DType.F32 || !t.InnerDimsContiguous) t = F32(t);
        rowStride = t.RowStride;
        return t;
    }

    /// <summary>
    /// Rows of the last dimension and their stride (norms): a matrix's column slice is read in place, any other shape
    /// is made contiguous F32 with rows of Dim(-1).
    /// </summary>
    public static Tensor LastDimRows(Tensor t, out long rowStride)
    {
        if (t.Rank == 2) return Rows(t, out rowStride);
        rowStride = t.Rank == 0 ? 1 : t.Dim(-1);
        return F32(t);
    }

    public static float* Ptr(Tensor t) => (float*)t.DataPointer;

    /// <summary>Runs body over [0, count) on the pool when the op touches at least <see cref="ParallelThreshold"/> elements.</summary>
    public static void For<TBody>(CpuThreadPool pool, int count, long work, ref TBody body) where TBody : struct, IParallelBody
    {
        if (work >= ParallelThreshold && count > 1) pool.ParallelFor(count, ref body);
        else for (int i = 0; i < count; i++) body.Invoke(i);
    }

    /// <summary>Blocks of rows for a parallel loop: a few per thread, at least one row each.</summary>
    public static int BlockCount(int rows, CpuThreadPool pool) => Math.Max(1, Math.Min(rows, pool.Threads * 4));

    /// <summary>Rows [start, end) of block <paramref name="block"/> out of <paramref name="blocks"/>.</summary>
    public static (int Start, int End) BlockRange(int rows, int blocks, int block) =>
        ((int)((long)rows * block / blocks), (int)((long)rows * (block + 1) / blocks));

    public static float* Alloc(long floats) => (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(floats, 16) * sizeof(float)), 64);
    public static void Free(float* p) => NativeMemory.AlignedFree(p);
}
