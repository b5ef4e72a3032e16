// One InternLM2 decoder layer with softmax attention, as HoVLE's modeling_internlm2.py: h = x + wo(attn(RoPE(q), RoPE(k), v))
// over RMSNorm(x); out = h + w2(silu(w1 ·) ⊙ w3 ·) over RMSNorm(h). Used by the teacher's embedding module and LLM, and by
// the hybrid student's kept attention layers. GQA: query head j reads kv head j / (H / Hkv).
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;

namespace MambaVL.Models.InternLm2;

internal sealed class InternLm2Layer
{
    private readonly InternLm2Config _cfg;
    private readonly IBackend _backend;
    private readonly Tensor _attentionNorm, _ffnNorm;   // (D) F32
    private readonly Tensor _qkv;                       // (Hq·P + 2·Hkv·P, D): rows regrouped as [q heads | k heads | v heads]
    private readonly Tensor _wo;                        // (D, Hq·P)
    private readonly Tensor _w1, _w3, _w2;              // (F, D), (F, D), (D, F)

    public InternLm2Layer(InternLm2Config cfg, WeightScope layer, IBackend backend, DType? storage = null)
    {
        (_cfg, _backend) = (cfg, backend);
        int d = cfg.HiddenSize, f = cfg.IntermediateSize, p = cfg.HeadDim;
        _attentionNorm = Parameters.Small(backend, layer.GetF32("attention_norm.weight", d));
        _ffnNorm = Parameters.Small(backend, layer.GetF32("ffn_norm.weight", d));
        var wqkv = layer.Get("attention.wqkv.weight", (cfg.Heads + 2 * cfg.KvHeads) * p, d);
        _qkv = Parameters.Large(backend, RegroupQkv(wqkv, cfg), storage);
        _wo = Parameters.Large(backend, layer.Get("attention.wo.weight", d, cfg.Heads * p), storage);
        _w1 = Parameters.Large(backend, layer.Get("feed_forward.w1.weight", f, d), storage);
        _w3 = Parameters.Large(backend, layer.Get("feed_forward.w3.weight", f, d), storage);
        _w2 = Parameters.Large(backend, layer.Get("feed_forward.w2.weight", d, f), storage);
    }

    /// <summary>
    /// InternLM2 stores wqkv per kv head as [q × n_rep, k, v] blocks of P rows; regrouped once at load into all q heads
    /// (head j = kv·n_rep + r, GQA's order), then all k heads, then all v heads, so q, k, v are column slices of one GEMM.
    /// </summary>
    internal static Tensor RegroupQkv(Tensor wqkv, InternLm2Config cfg)
    {
        int p = cfg.HeadDim, rep = cfg.QueriesPerKvHead, d = wqkv.Dim(1), slots = rep + 2;
        var src = wqkv.ContiguousCopy();
        var dst = Tensor.Zeros(wqkv.DType, wqkv.ShapeArray);
        int row = 0;
        void Take(int kv, int slot)
        {
            dst.Narrow(0, row, p).CopyFrom(src.Narrow(0, (kv * slots + slot) * p, p));
            row += p;
        }
        for (int kv = 0; kv < cfg.KvHeads; kv++) for (int r = 0; r < rep; r++) Take(kv, r);
        for (int kv = 0; kv < cfg.KvHeads; kv++) Take(kv, rep);
        for (int kv = 0; kv < cfg.KvHeads; kv++) Take(kv, rep + 1);
        return dst;
    }

    /// <summary>x (T, D) in place, for the T tokens at positions start.. with the layer's cache (appended to).</summary>
    public void Forward(Tensor x, KvCache cache, int start, Tensor invFreq)
    {
        int t = x.Dim(0), p = _cfg.HeadDim, hq = _cfg.Heads, hkv = _cfg.KvHeads;
        var normed = _backend.RmsNorm(x, _attentionNorm, _cfg.RmsNormEps);
        var qkv = _backend.MatMul(normed, _qkv);
        _backend.Release(normed);
        var q = _backend.Rope(qkv.Narrow(1, 0, hq * p).Reshape(t, hq, p), invFreq, start);
        var k = _backend.Rope(qkv.Narrow(1, hq * p, hkv * p).Reshape(t, hkv, p), invFreq, start);
        cache.Append(k, qkv.Narrow(1, (hq + hkv) * p, hkv * p).Reshape(t, hkv, p));
        _backend.Release(k); _backend.Release(qkv);
        var attn = _backend.Attention(q, cache.Keys, cache.Values, 1f / MathF.Sqrt(p), causal: true);
        _backend.Release(q);
        Residual(x, Project(attn.Reshape(t, hq * p), _wo));

        normed = _backend.RmsNorm(x, _ffnNorm, _cfg.RmsNormEps);
        var gate = _backend.MatMul(normed, _w1);
        var up = _backend.MatMul(normed, _w3);
        _backend.Release(normed);
        var hidden = _backend.SwiGlu(gate, up);
        _backend.Release(gate); _backend.Release(up);
        Residual(x, Project(hidden, _w2));
    }

    private Tensor Project(Tensor x, Tensor w)
    {
        var y = _backend.MatMul(x, w);
        _backend.Release(x);
        return y;
    }

    private void Residual(Tensor x, Tensor branch)
    {
        _backend.AddInPlace(x, branch);
        _backend.Release(branch);
    }
}
