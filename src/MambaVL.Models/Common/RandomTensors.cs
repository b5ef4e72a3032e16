// Seeded random tensors for generated models (tests, benchmarks): a fixed-forever SplitMix64 sequence, values written
// straight into F32, F16 or BF16 storage (the benchmark models have hundreds of millions of them).
using MambaVL.Core.Tensors;

namespace MambaVL.Models.Common;

public sealed class RandomTensors(int seed)
{
    private ulong _state = (ulong)seed;

    /// <summary>Uniform in [0, 1) with 53 random bits (SplitMix64).</summary>
    public double NextDouble()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return ((z ^ (z >> 31)) >> 11) * (1.0 / (1UL << 53));
    }

    public double Lerp(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Values uniform in [-bound, bound] stored as <paramref name="dtype"/> (F32, F16 or BF16).</summary>
    public Tensor Uniform(double bound, DType dtype, params int[] shape)
    {
        var t = Tensor.Zeros(dtype, shape);
        switch (dtype)
        {
            case DType.F32: { var s = t.Span<float>(); for (int i = 0; i < s.Length; i++) s[i] = (float)Lerp(-bound, bound); break; }
            case DType.BF16: { var s = t.Span<ushort>(); for (int i = 0; i < s.Length; i++) s[i] = Half16.FloatToBF16((float)Lerp(-bound, bound)); break; }
            case DType.F16: { var s = t.Span<ushort>(); for (int i = 0; i < s.Length; i++) s[i] = Half16.FloatToF16((float)Lerp(-bound, bound)); break; }
            default: throw new ArgumentException($"random weights in {dtype} (expected F32, F16 or BF16)", nameof(dtype));
        }
        return t;
    }

    /// <summary>F32 values uniform in [lo, hi] (norm weights, gammas: never exactly one or zero).</summary>
    public Tensor Between(double lo, double hi, params int[] shape) => Fill(shape, _ => Lerp(lo, hi));

    public static Tensor Fill(int[] shape, Func<int, double> value)
    {
        var t = Tensor.Zeros(DType.F32, shape);
        var s = t.Span<float>();
        for (int i = 0; i < s.Length; i++) s[i] = (float)value(i);
        return t;
    }
}
