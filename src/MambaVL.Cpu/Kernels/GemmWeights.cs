// Reading weight rows of any storage dtype (F32, F16, BF16) as F32, and per-thread scratch buffers for the GEMM kernels.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu.Kernels;

/// <summary>SIMD instruction set a kernel runs with; tests force the lower ones to check every path.</summary>
public enum SimdLevel { Scalar, Avx2, Avx512 }

public static unsafe class GemmWeights
{
    /// <summary>The best level this machine supports.</summary>
    public static SimdLevel Best => CpuFeatures.Avx512 ? SimdLevel.Avx512 : CpuFeatures.Avx2 ? SimdLevel.Avx2 : SimdLevel.Scalar;

    public static bool IsSupported(DType t) => t is DType.F32 or DType.F16 or DType.BF16;

    /// <summary>Converts <paramref name="count"/> elements starting at element <paramref name="start"/> of <paramref name="src"/> to F32.</summary>
    public static void ToFloat(void* src, DType type, long start, int count, float* dst)
    {
        switch (type)
        {
            case DType.F32:
                Buffer.MemoryCopy((float*)src + start, dst, count * 4L, count * 4L);
                break;
            case DType.F16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>((Half*)src + start, count), new Span<float>(dst, count));
                break;
            case DType.BF16:
                BF16ToFloat((ushort*)src + start, count, dst);
                break;
            default:
                throw new NotSupportedException($"weights of dtype {type} (expected F32, F16 or BF16)");
        }
    }

    // BF16 is the top half of an F32: widening to 32 bits and shifting left by 16 is exact.
    private static void BF16ToFloat(ushort* src, int count, float* dst)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= count; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(src + i));
                Vector512.ShiftLeft(lo, 16).AsSingle().Store(dst + i);
                Vector512.ShiftLeft(hi, 16).AsSingle().Store(dst + i + 16);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= count; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(src + i));
                Vector256.ShiftLeft(lo, 16).AsSingle().Store(dst + i);
                Vector256.ShiftLeft(hi, 16).AsSingle().Store(dst + i + 8);
            }
        for (; i < count; i++) dst[i] = Half16.BF16ToFloat(src[i]);
    }

    [ThreadStatic] private static float[]? t_scratchA;
    [ThreadStatic] private static float[]? t_scratchB;

    /// <summary>A per-thread pinned buffer of at least <paramref name="length"/> floats (two independent ones: slot 0 and 1).</summary>
    public static float* Scratch(int slot, int length)
    {
        ref float[]? buffer = ref slot == 0 ? ref t_scratchA : ref t_scratchB;
        if (buffer is null || buffer.Length < length)
            buffer = GC.AllocateUninitializedArray<float>(Math.Max(length, 1024), pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
    }
}
