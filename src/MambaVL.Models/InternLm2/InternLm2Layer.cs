// One InternLM2 decoder layer, as HoVLE's modeling_internlm2.py and mmMamba's students build it:
// h = x + mixer(RMSNorm(x)); out = h + w2(silu(w1 ·) ⊙ w3 ·) over RMSNorm(h). The mixer is softmax attention (the
// teacher, the hybrid's kept layers) or mmMamba's Mamba-2 (the students); norms and MLP are the same code for both.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;

namespace MambaVL.Models.InternLm2;

/// <summary>The token-mixing half of a decoder layer, with the per-sequence memory it keeps.</summary>
internal interface ITokenMixer
{
    ILayerCache CreateCache();

    /// <summary>Bytes of one sequence's cache whatever the context (the Mamba-2 conv and SSM states).</summary>
    long FixedBytes { get; }

    /// <summary>Bytes one sequence's cache grows by per token (an attention layer's keys and values).</summary>
    long BytesPerToken { get; }

    /// <summary>normed (T, D) at positions start.. → (T, D); the cache is advanced (appended to, or updated in place).</summary>
    Tensor Mix(Tensor normed, ILayerCache cache, int start, Tensor? invFreq);
}

internal sealed class InternLm2Layer
{
    private readonly InternLm2Config _cfg;
    private readonly IBackend _backend;
    private readonly Tensor _attentionNorm, _ffnNorm;   // (D) F32
    private readonly Tensor _w1, _w3, _w2;              // (F, D), (F, D), (D, F)

    public ITokenMixer Mixer { get; }

    public InternLm2Layer(InternLm2Config cfg, LayerKind kind, WeightScope layer, IBackend backend, DType? storage = null, DType kvCache = DType.F32)
    {
        (_cfg, _backend) = (cfg, backend);
        int d = cfg.HiddenSize, f = cfg.IntermediateSize;
        _attentionNorm = Parameters.Small(backend, layer.GetF32("attention_norm.weight", d));
        _ffnNorm = Parameters.Small(backend, layer.GetF32("ffn_norm.weight", d));
        var attention = layer.Push("attention");
        Mixer = kind == LayerKind.Attention ? new AttentionMixer(cfg, attention, backend, storage, kvCache) : new MmMambaMixer(cfg, attention, backend, storage);
        _w1 = Parameters.Large(backend, layer.Get("feed_forward.w1.weight", f, d), storage);
        _w3 = Parameters.Large(backend, layer.Get("feed_forward.w3.weight", f, d), storage);
        _w2 = Parameters.Large(backend, layer.Get("feed_forward.w2.weight", d, f), storage);
    }

    /// <summary>x (T, D) in place, for the T tokens at positions start.. with this layer's cache of the sequence.</summary>
    public void Forward(Tensor x, ILayerCache cache, int start, Tensor? invFreq)
    {
        var normed = _backend.RmsNorm(x, _attentionNorm, _cfg.RmsNormEps);
        var mixed = Mixer.Mix(normed, cache, start, invFreq);
        _backend.Release(normed);
        Residual(x, mixed);

        normed = _backend.RmsNorm(x, _ffnNorm, _cfg.RmsNormEps);
        var gate = _backend.MatMul(normed, _w1);
        var up = _backend.MatMul(normed, _w3);
        _backend.Release(normed);
        var hidden = _backend.SwiGlu(gate, up);
        _backend.Release(gate); _backend.Release(up);
        var down = _backend.MatMul(hidden, _w2);
        _backend.Release(hidden);
        Residual(x, down);
    }

    private void Residual(Tensor x, Tensor branch)
    {
        _backend.AddInPlace(x, branch);
        _backend.Release(branch);
    }
}

/// <summary>InternLM2 attention: fused wqkv, RoPE on q and k, a growing KV cache, causal GQA softmax, wo.</summary>
internal sealed class AttentionMixer : ITokenMixer
{
    private readonly InternLm2Config _cfg;
    private readonly IBackend _backend;
    private readonly Tensor _qkv;   // (Hq·P + 2·Hkv·P, D): rows regrouped as [q heads | k heads | v heads]
    private readonly Tensor _wo;    // (D, Hq·P)
    private readonly DType _kvCache;

    public AttentionMixer(InternLm2Config cfg, WeightScope attention, IBackend backend, DType? storage, DType kvCache = DType.F32)
    {
        (_cfg, _backend, _kvCache) = (cfg, backend, kvCache);
        int d = cfg.HiddenSize, p = cfg.HeadDim;
        if (attention.Has("wqkv.weight") || !MmMambaProjection.IsPresent(attention))
        {
            _qkv = Parameters.Large(backend, RegroupQkv(attention.Get("wqkv.weight", (cfg.Heads + 2 * cfg.KvHeads) * p, d), cfg), storage);
            _wo = Parameters.Large(backend, attention.Get("wo.weight", d, cfg.Heads * p), storage);
        }
        else
        {
            // a hybrid student's kept layer in the Mamba form: rows v | k | q (the teacher's), o_proj = the teacher's wo
            var vkq = MmMambaProjection.Rows(attention, cfg, withGateAndDt: false);
            int kv = cfg.KvHeads * p, q = cfg.Heads * p;
            var qkv = Tensor.Zeros(vkq.DType, q + 2 * kv, d);
            qkv.Narrow(0, 0, q).CopyFrom(vkq.Narrow(0, 2 * kv, q));
            qkv.Narrow(0, q, kv).CopyFrom(vkq.Narrow(0, kv, kv));
            qkv.Narrow(0, q + kv, kv).CopyFrom(vkq.Narrow(0, 0, kv));
            _qkv = Parameters.Large(backend, qkv, storage);
            _wo = Parameters.Large(backend, attention.Get("o_proj.weight", d, q), storage);
        }
    }

    /// <summary>
    /// InternLM2 stores wqkv per kv head as [q × n_rep, k, v] blocks of P rows; regrouped once at load into all q heads
    /// (head j = kv·n_rep + r, GQA's order), then all k heads, then all v heads, so q, k, v are column slices of one GEMM.
    /// </summary>
    internal static Tensor RegroupQkv(Tensor wqkv, InternLm2Config cfg)
    {
        int p = cfg.HeadDim, rep = cfg.QueriesPerKvHead, slots = rep + 2;
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

    public ILayerCache CreateCache() => new KvCache(_backend, _cfg.KvHeads, _cfg.HeadDim, dtype: _kvCache);

    public long FixedBytes => 0;
    public long BytesPerToken => KvCache.BytesPerToken(_cfg.KvHeads, _cfg.HeadDim, _kvCache);

    public Tensor Mix(Tensor normed, ILayerCache cache, int start, Tensor? invFreq)
    {
        var kv = (KvCache)cache;
        int t = normed.Dim(0), p = _cfg.HeadDim, hq = _cfg.Heads, hkv = _cfg.KvHeads;
        var qkv = _backend.MatMul(normed, _qkv);
        if (invFreq is null) throw new ArgumentNullException(nameof(invFreq), "an attention layer needs the RoPE frequencies");
        var q = _backend.Rope(qkv.Narrow(1, 0, hq * p).Reshape(t, hq, p), invFreq, start);
        var k = _backend.Rope(qkv.Narrow(1, hq * p, hkv * p).Reshape(t, hkv, p), invFreq, start);
        kv.Append(k, qkv.Narrow(1, (hq + hkv) * p, hkv * p).Reshape(t, hkv, p));
        _backend.Release(k); _backend.Release(qkv);
        var attn = _backend.Attention(q, kv.Keys, kv.Values, 1f / MathF.Sqrt(p), causal: true);
        _backend.Release(q);
        var output = _backend.MatMul(attn.Reshape(t, hq * p), _wo);
        _backend.Release(attn);
        return output;
    }
}
