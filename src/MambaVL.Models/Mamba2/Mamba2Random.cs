// Random Mamba-2 weights in the HF layout, for tests and the benchmark's random-weight model. Every parameter is drawn
// from a realistic range (no ones or zeros: default inits hide bugs such as a missing D skip or a swapped norm weight).
using MambaVL.Core.Tensors;

namespace MambaVL.Models.Mamba2;

public static class Mamba2Random
{
    /// <summary>
    /// All tensors <see cref="Mamba2LM.Load"/> needs for <paramref name="cfg"/>, named as HF writes them; projections,
    /// embedding and LM head in <paramref name="weightDType"/>, the rest F32. Deterministic for a given seed.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> CreateWeights(Mamba2Config cfg, int seed, DType weightDType = DType.F32)
    {
        cfg.Validate();
        var rng = new SplitMix64((ulong)seed);
        var w = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        int d = cfg.DModel, di = cfg.DInner, h = cfg.NHeads;
        w[Mamba2Names.Embedding[0]] = Uniform(rng, 0.05, weightDType, cfg.PaddedVocab, d);
        for (int l = 0; l < cfg.NLayer; l++)
        {
            string M(string n) => Mamba2Names.MixerTensor(l, n);
            w[Mamba2Names.BlockTensor(l, Mamba2Names.BlockNorm)] = Between(rng, 0.5, 1.5, d);
            w[M(Mamba2Names.InProj)] = Uniform(rng, 1 / Math.Sqrt(d), weightDType, cfg.InProjDim, d);
            w[M(Mamba2Names.ConvWeight)] = Uniform(rng, 1 / Math.Sqrt(cfg.DConv), DType.F32, cfg.ConvDim, 1, cfg.DConv);
            if (cfg.ConvBias) w[M(Mamba2Names.ConvBias)] = Uniform(rng, 0.5, DType.F32, cfg.ConvDim);
            // dt_bias: inverse softplus of dt log-uniform in [1e-3, 0.1]; A_log: log of A uniform in [1, 16] (mamba_ssm's init ranges)
            w[M(Mamba2Names.DtBias)] = Fill(h, _ => { double dt = Math.Exp(Lerp(rng, Math.Log(1e-3), Math.Log(0.1))); return dt + Math.Log(1 - Math.Exp(-dt)); });
            w[M(Mamba2Names.ALog)] = Fill(h, _ => Math.Log(Lerp(rng, 1, 16)));
            w[M(Mamba2Names.D)] = Between(rng, 0.5, 1.5, cfg.DHasHdim ? di : h);
            w[M(Mamba2Names.GateNorm)] = Between(rng, 0.5, 1.5, di);
            w[M(Mamba2Names.OutProj)] = Uniform(rng, 1 / Math.Sqrt(di), weightDType, d, di);
            if (cfg.ProjBias)
            {
                w[M(Mamba2Names.InProjBias)] = Uniform(rng, 0.1, DType.F32, cfg.InProjDim);
                w[M(Mamba2Names.OutProjBias)] = Uniform(rng, 0.1, DType.F32, d);
            }
        }
        w[$"{Mamba2Names.Backbone}.{Mamba2Names.NormF}"] = Between(rng, 0.5, 1.5, d);
        if (!cfg.TieEmbeddings) w[Mamba2Names.LmHead] = Uniform(rng, 1 / Math.Sqrt(d), weightDType, cfg.PaddedVocab, d);
        return w;
    }

    private static double Lerp(SplitMix64 rng, double lo, double hi) => lo + (hi - lo) * rng.NextDouble();

    /// <summary>Values uniform in [-bound, bound], written straight into <paramref name="dtype"/> storage (the big matrices).</summary>
    private static Tensor Uniform(SplitMix64 rng, double bound, DType dtype, params int[] shape)
    {
        var t = Tensor.Zeros(dtype, shape);
        switch (dtype)
        {
            case DType.F32: { var s = t.Span<float>(); for (int i = 0; i < s.Length; i++) s[i] = (float)Lerp(rng, -bound, bound); break; }
            case DType.BF16: { var s = t.Span<ushort>(); for (int i = 0; i < s.Length; i++) s[i] = Half16.FloatToBF16((float)Lerp(rng, -bound, bound)); break; }
            case DType.F16: { var s = t.Span<ushort>(); for (int i = 0; i < s.Length; i++) s[i] = Half16.FloatToF16((float)Lerp(rng, -bound, bound)); break; }
            default: throw new ArgumentException($"random weights in {dtype} (expected F32, F16 or BF16)", nameof(dtype));
        }
        return t;
    }

    private static Tensor Between(SplitMix64 rng, double lo, double hi, params int[] shape) => Fill(shape, _ => Lerp(rng, lo, hi));

    private static Tensor Fill(int n, Func<int, double> value) => Fill([n], value);

    private static Tensor Fill(int[] shape, Func<int, double> value)
    {
        var t = Tensor.Zeros(DType.F32, shape);
        var s = t.Span<float>();
        for (int i = 0; i < s.Length; i++) s[i] = (float)value(i);
        return t;
    }

    /// <summary>SplitMix64: fast (the 130m model has 129M values), and its sequence is fixed forever for a seed.</summary>
    private sealed class SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
        public double NextDouble()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return ((z ^ (z >> 31)) >> 11) * (1.0 / (1UL << 53));
        }
    }
}
