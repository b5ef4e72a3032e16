// mmMamba's Mamba-2 mixer (hustvl/mmMamba Mamba2_Attention, exported as wvkqgdt): a fused projection [v | k | q | g | dt];
// a width-2 causal conv with bias + SiLU over v|k|q; v and k heads shared by pairs of q heads (GQA's layout); the SSD
// scan with Δ = softplus(dt + dt_bias), A = −exp(A_log_bias), no D; per-head RMSNorm (one 128-weight) then × silu(g); o_proj.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;

namespace MambaVL.Models.InternLm2;

internal sealed class MmMambaMixer : ITokenMixer
{
    public const int ConvWidth = 2;
    private const int ChunkSize = 128;
    private const float GateNormEps = 1e-5f;

    private readonly InternLm2Config _cfg;
    private readonly IBackend _backend;
    private readonly Tensor _wvkqgdt;           // (2·Hkv·P + 2·Hq·P + Hq, D)
    private readonly Tensor _convWeight, _convBias;  // (C, 2), (C) with C = 2·Hkv·P + Hq·P
    private readonly SsmParams _ssm;
    private readonly Tensor _gateNorm;          // (P)
    private readonly Tensor _oProj;             // (D, Hq·P)

    public MmMambaMixer(InternLm2Config cfg, WeightScope attention, IBackend backend, DType? storage)
    {
        (_cfg, _backend) = (cfg, backend);
        int d = cfg.HiddenSize, p = cfg.HeadDim, h = cfg.Heads, conv = ConvChannels;
        _wvkqgdt = Parameters.Large(backend, MmMambaProjection.Rows(attention, cfg, withGateAndDt: true), storage);
        _convWeight = Parameters.Small(backend, attention.GetF32("conv1d.weight", conv, 1, ConvWidth).Reshape(conv, ConvWidth));
        _convBias = Parameters.Small(backend, attention.GetF32("conv1d.bias", conv));
        var aLog = attention.GetF32("A_log_bias", h).ToFloatArray();
        var a = Tensor.FromArray(aLog.Select(v => -MathF.Exp(v)).ToArray(), h);  // A = -exp(A_log_bias.float())
        _ssm = new SsmParams(Parameters.Small(backend, a), Parameters.Small(backend, attention.GetF32("dt_bias", h)), D: null);
        _gateNorm = Parameters.Small(backend, attention.GetAny(["g_norm_swish_gate.weight", "g_norm.weight"], p).ToDType(DType.F32));
        _oProj = Parameters.Large(backend, attention.Get("o_proj.weight", d, h * p), storage);
    }

    /// <summary>Channels of the conv: v (Hkv·P), k (Hkv·P), q (Hq·P).</summary>
    public int ConvChannels => (2 * _cfg.KvHeads + _cfg.Heads) * _cfg.HeadDim;

    public ILayerCache CreateCache() => new MambaLayerCache(_backend, ConvChannels, ConvWidth - 1, _cfg.Heads, _cfg.HeadDim, _cfg.HeadDim);

    public long FixedBytes => MambaLayerCache.Bytes(ConvChannels, ConvWidth - 1, _cfg.Heads, _cfg.HeadDim, _cfg.HeadDim);
    public long BytesPerToken => 0;

    public Tensor Mix(Tensor u, ILayerCache cache, int start, Tensor? invFreq)
    {
        var state = (MambaLayerCache)cache;
        int t = u.Dim(0), p = _cfg.HeadDim, h = _cfg.Heads, hkv = _cfg.KvHeads, kvDim = hkv * p, conv = ConvChannels;
        var z = _backend.MatMul(u, _wvkqgdt);  // (T, C + Hq·P + Hq): v | k | q | g | dt
        var vkq = t == 1 && start > 0
            ? _backend.CausalConv1dStep(z.Narrow(1, 0, conv), _convWeight, _convBias, state.Conv.Reshape(1, conv, ConvWidth - 1), silu: true)
            : _backend.CausalConv1d(z.Narrow(1, 0, conv), _convWeight, _convBias, state.Conv, silu: true);
        var x = PerQueryHead(vkq.Narrow(1, 0, kvDim), t);            // v: (T, Hq, P), head j reads v head j / rep
        var b = PerQueryHead(vkq.Narrow(1, kvDim, kvDim), t);        // k: (T, Hq, N)
        var c = vkq.Narrow(1, 2 * kvDim, h * p).Reshape(t, h, p);    // q: (T, Hq, N)
        var dt = z.Narrow(1, conv + h * p, h);
        var y = t == 1 && start > 0
            ? _backend.SsmStep(x.Reshape(1, h, p), dt, b.Reshape(1, h, p), c.Reshape(1, h, p), _ssm, state.Ssm.Reshape(1, h, p, p))
            : _backend.SsdScan(x, dt, b, c, _ssm, state.Ssm, ChunkSize);
        _backend.Release(x); _backend.Release(b); _backend.Release(vkq);
        var normed = _backend.RmsNorm(y.Reshape(t * h, p), _gateNorm, GateNormEps);  // per head, one shared weight
        _backend.Release(y);
        var gated = _backend.SwiGlu(_backend.Contiguous(z.Narrow(1, conv, h * p)), normed.Reshape(t, h * p));  // normed × silu(g)
        _backend.Release(normed); _backend.Release(z);
        var output = _backend.MatMul(gated, _oProj);
        _backend.Release(gated);
        return output;
    }

    /// <summary>(T, Hkv·P) → (T, Hq, P) with each kv head repeated for its Hq/Hkv query heads (a broadcast view, copied).</summary>
    private Tensor PerQueryHead(Tensor kvColumns, int t)
    {
        int rep = _cfg.QueriesPerKvHead, p = _cfg.HeadDim;
        var heads = kvColumns.Reshape(t, _cfg.KvHeads, p).Expand(2, rep);   // (T, Hkv, rep, P), stride 0 on rep
        return _backend.Contiguous(heads).Reshape(t, _cfg.Heads, p);
    }
}

/// <summary>
/// The mixer's input projection as rows [v | k | q | g | dt] (each D wide), from either key form: the exported fused
/// wvkqgdt (convert_weight.py's change_weight) or Mamba2_Attention's unfused v_proj, k_proj, q_proj, g_proj, in_proj.
/// </summary>
internal static class MmMambaProjection
{
    public static bool IsPresent(WeightScope attention) => attention.Has("wvkqgdt.weight") || attention.Has("v_proj.weight");

    /// <summary>(2·Hkv·P + Hq·P [+ Hq·P + Hq], D): v | k | q, then g | dt when <paramref name="withGateAndDt"/>.</summary>
    public static Tensor Rows(WeightScope attention, InternLm2Config cfg, bool withGateAndDt)
    {
        int d = cfg.HiddenSize, kv = cfg.KvHeads * cfg.HeadDim, q = cfg.Heads * cfg.HeadDim, h = cfg.Heads;
        int rows = 2 * kv + q + (withGateAndDt ? q + h : 0);
        if (attention.Has("wvkqgdt.weight"))
        {
            var fused = attention.Get("wvkqgdt.weight", 2 * kv + 2 * q + h, d);
            return withGateAndDt ? fused : fused.Narrow(0, 0, rows);
        }
        (string Name, int Rows)[] parts = withGateAndDt
            ? [("v_proj", kv), ("k_proj", kv), ("q_proj", q), ("g_proj", q), ("in_proj", h)]
            : [("v_proj", kv), ("k_proj", kv), ("q_proj", q)];
        var tensors = parts.Select(part => attention.Get($"{part.Name}.weight", part.Rows, d)).ToArray();
        var all = Tensor.Zeros(tensors[0].DType, rows, d);
        int at = 0;
        foreach (var t in tensors)
        {
            all.Narrow(0, at, t.Dim(0)).CopyFrom(t.ToDType(all.DType));
            at += t.Dim(0);
        }
        return all;
    }
}
