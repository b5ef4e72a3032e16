// Embedding gather: rows of a (V, D) table of any weight dtype, converted to F32.
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu.Kernels;

public static unsafe class Embedding
{
    /// <summary>y[t, :] = table[ids[t], :]. table: (v, d) contiguous F32/F16/BF16, y: (ids.Length, d) F32.</summary>
    public static void Gather(void* table, DType type, int v, int d, ReadOnlySpan<int> ids, float* y)
    {
        for (int t = 0; t < ids.Length; t++)
        {
            int id = ids[t];
            if ((uint)id >= (uint)v)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id {id} at position {t} is outside the vocabulary of {v} (valid ids 0..{v - 1})");
            GemmWeights.ToFloat(table, type, (long)id * d, d, y + (long)t * d);
        }
    }
}
