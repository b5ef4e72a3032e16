// Random Mamba-2 weights in the HF layout, for tests and the benchmark's random-weight model. Every parameter is drawn
// from a realistic range (no ones or zeros: default inits hide bugs such as a missing D skip or a swapped norm weight).
using MambaVL.Core.Tensors;
using MambaVL.Models.Common;

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
        var rng = new RandomTensors(seed);
        var w = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        int d = cfg.DModel, di = cfg.DInner, h = cfg.NHeads;
        w[Mamba2Names.Embedding[0]] = rng.Uniform(0.05, weightDType, cfg.PaddedVocab, d);
        for (int l = 0; l < cfg.NLayer; l++)
        {
            string M(string n) => Mamba2Names.MixerTensor(l, n);
            w[Mamba2Names.BlockTensor(l, Mamba2Names.BlockNorm)] = rng.Between(0.5, 1.5, d);
            w[M(Mamba2Names.InProj)] = rng.Uniform(1 / Math.Sqrt(d), weightDType, cfg.InProjDim, d);
            w[M(Mamba2Names.ConvWeight)] = rng.Uniform(1 / Math.Sqrt(cfg.DConv), DType.F32, cfg.ConvDim, 1, cfg.DConv);
            if (cfg.ConvBias) w[M(Mamba2Names.ConvBias)] = rng.Uniform(0.5, DType.F32, cfg.ConvDim);
            // dt_bias: inverse softplus of dt log-uniform in [1e-3, 0.1]; A_log: log of A uniform in [1, 16] (mamba_ssm's init ranges)
            w[M(Mamba2Names.DtBias)] = RandomTensors.Fill([h], _ => { double dt = Math.Exp(rng.Lerp(Math.Log(1e-3), Math.Log(0.1))); return dt + Math.Log(1 - Math.Exp(-dt)); });
            w[M(Mamba2Names.ALog)] = RandomTensors.Fill([h], _ => Math.Log(rng.Lerp(1, 16)));
            w[M(Mamba2Names.D)] = rng.Between(0.5, 1.5, cfg.DHasHdim ? di : h);
            w[M(Mamba2Names.GateNorm)] = rng.Between(0.5, 1.5, di);
            w[M(Mamba2Names.OutProj)] = rng.Uniform(1 / Math.Sqrt(di), weightDType, d, di);
            if (cfg.ProjBias)
            {
                w[M(Mamba2Names.InProjBias)] = rng.Uniform(0.1, DType.F32, cfg.InProjDim);
                w[M(Mamba2Names.OutProjBias)] = rng.Uniform(0.1, DType.F32, d);
            }
        }
        w[$"{Mamba2Names.Backbone}.{Mamba2Names.NormF}"] = rng.Between(0.5, 1.5, d);
        if (!cfg.TieEmbeddings) w[Mamba2Names.LmHead] = rng.Uniform(1 / Math.Sqrt(d), weightDType, cfg.PaddedVocab, d);
        return w;
    }
}
