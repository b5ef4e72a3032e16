// Softmax attention on the GPU (IBackend.Attention): the fused flash kernels of Kernels/flash_attention.cu, chosen by
// regime — split-key flash-decoding when few query rows share a kv head (decode), query-tiled prefill otherwise — and
// the plain three-pass kernels (Kernels/attention.cu) as the exact reference they are checked against (selfcheck) and
// the path for head dims past 128. q (T, Hq, P) F32; k, v (S, Hkv, P) F32 or BF16, read in place at their row stride
// (column slices of a fused qkv, rows of a preallocated KV cache); → (T, Hq, P) F32 contiguous.
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Head dims the flash kernels take (a decode lane holds 4 of a warp's 128 dims; prefill pads to 32, 64, 80 or 128).</summary>
    public const int FlashMaxHeadDim = 128;
    /// <summary>Query rows per kv head (T × Hq/Hkv) up to which one decode block holds them all.</summary>
    private const int DecodeRows = 16;
    private const int KeyTile = 64, QueryTile = 64;
    private const float Log2E = 1.4426950408889634f;

    public Tensor Attention(Tensor q, Tensor k, Tensor v, float scale, bool causal)
    {
        AttentionShapes.Check(q, k, v, out int t, out int s, out int hq, out int hkv, out int p);
        if (p > FlashMaxHeadDim) return AttentionPlain(q, k, v, scale, causal);
        var qs = Rows(F32(q, "Attention q"), out long ldq);
        var (ks, vs) = KvRows(k, v, out long ldk, out long ldv);
        var o = Empty(DType.F32, t, hq, p);
        if (t == 0) return o;
        var a = new FlashArgs(Address(qs), ldq, Address(ks), ldk, Address(vs), ldv, Address(o), t, s, hq, hkv, p, scale * Log2E, causal, ks.DType);
        int rows = t * (hq / hkv), prefillBlocks = (t + QueryTile - 1) / QueryTile * hq;
        // few rows per kv head: split the keys; more rows but too few query tiles to fill the GPU over a long context:
        // the decode kernel in groups of 16 rows still spreads the keys over every SM
        if (rows <= DecodeRows || (2 * prefillBlocks <= Gpu.Multiprocessors && s >= 4 * t)) FlashDecode(a);
        else FlashPrefill(a);
        return o;
    }

    /// <summary>The arguments every flash kernel shares: addresses, row strides (elements), sizes, scale·log2 e.</summary>
    private readonly record struct FlashArgs(ulong Q, long LdQ, ulong K, long LdK, ulong V, long LdV, ulong O,
        int T, int S, int Hq, int Hkv, int P, float Scale2, bool Causal, DType KvType)
    {
        public string Kv => KvType == DType.BF16 ? "bf16" : "f32";
    }

    /// <summary>
    /// Flash-decoding: grid (splits, groups·Hkv) of 128 threads; each block reads its kv head's rows of one key range once
    /// for R = 16 or fewer query rows (the next power of two), each warp streaming its own batches of keys, then a combine
    /// kernel merges the splits' partial softmaxes. Enough splits to fill every SM once (one wave, so no tail), each a
    /// whole number of 64-key tiles.
    /// </summary>
    private void FlashDecode(FlashArgs a)
    {
        int rows = a.T * (a.Hq / a.Hkv);
        int r = rows >= DecodeRows ? DecodeRows : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)rows);
        int groups = (rows + r - 1) / r, tiles = (a.S + KeyTile - 1) / KeyTile;
        int blocksPerSm = r switch { <= 4 => 4, 8 => 3, _ => 2 };  // as the kernels' launch bounds promise (registers)
        int wanted = Math.Clamp((blocksPerSm * Gpu.Multiprocessors + a.Hkv * groups - 1) / (a.Hkv * groups), 1, tiles);
        int perSplit = (tiles + wanted - 1) / wanted * KeyTile;  // whole tiles, so the last split is the only short one
        int splits = (a.S + perSplit - 1) / perSplit;
        // one aligned vector load per lane and row (16 bytes F32, 8 BF16) when the base, row stride and P are multiples of 4
        ulong align = (ulong)(4 * a.KvType.Size());
        int vec = (a.K % align == 0 && a.LdK % 4 == 0 && a.P % 4 == 0 ? 1 : 0) | (a.V % align == 0 && a.LdV % 4 == 0 && a.P % 4 == 0 ? 2 : 0);
        string kernel = $"flash_decode_{a.Kv}_r{r}";
        var grid = ((uint)splits, (uint)(groups * a.Hkv));
        if (splits == 1)
        {
            Gpu.Launch("flash_attention", kernel, grid, 128, 0, a.Q, a.LdQ, a.K, a.LdK, a.V, a.LdV, a.O, 0UL, 0UL,
                a.T, a.S, a.Hq, a.Hkv, a.P, a.Scale2, a.Causal ? 1 : 0, perSplit, vec);
            return;
        }
        // partials: (splits, Hkv, rows, P) unnormalised outputs and (splits, Hkv, rows, 2) running max and sum
        long slots = (long)splits * a.Hkv * rows;
        using var opart = Gpu.Allocate(slots * a.P * sizeof(float));
        using var mlpart = Gpu.Allocate(slots * 2 * sizeof(float));
        Gpu.Launch("flash_attention", kernel, grid, 128, 0, a.Q, a.LdQ, a.K, a.LdK, a.V, a.LdV, a.O, opart.Pointer, mlpart.Pointer,
            a.T, a.S, a.Hq, a.Hkv, a.P, a.Scale2, a.Causal ? 1 : 0, perSplit, vec);
        Gpu.Launch("flash_attention", "flash_decode_combine", ((uint)rows, (uint)a.Hkv), 128, 0, opart.Pointer, mlpart.Pointer, a.O,
            splits, a.Hkv, rows, a.Hq / a.Hkv, a.Hq, a.P);
    }

    /// <summary>
    /// Query tiles: grid (ceil(T / 64), Hq) of 256 threads, each block looping over 64-key tiles of its kv head (up to the
    /// causal diagonal); P padded up to D = 32, 64, 80 or 128 in shared memory ((128·(D+4) + 64·68) floats, 85 KB at 128).
    /// </summary>
    private void FlashPrefill(FlashArgs a)
    {
        int d = a.P <= 32 ? 32 : a.P <= 64 ? 64 : a.P <= 80 ? 80 : 128;
        bool async = a.KvType == DType.F32;  // cp.async copies F32 as is; BF16 tiles are widened on their way through registers
        int buffers = async ? 2 : 1;
        uint shared = (uint)(((QueryTile + buffers * KeyTile) * (d + 4) + KeyTile * (QueryTile + 4)) * sizeof(float));
        string kernel = async ? $"flash_prefill_async_f32_d{d}" : $"flash_prefill_{a.Kv}_d{d}";
        Gpu.Launch("flash_attention", kernel, ((uint)((a.T + QueryTile - 1) / QueryTile), (uint)a.Hq), 256, shared,
            a.Q, a.LdQ, a.K, a.LdK, a.V, a.LdV, a.O, a.T, a.S, a.Hq, a.Hkv, a.P, a.Scale2, a.Causal ? 1 : 0);
    }

    /// <summary>K and V on this device with their row strides: F32 or BF16 (both the same type) read in place, else F32 copies.</summary>
    private (Tensor K, Tensor V) KvRows(Tensor k, Tensor v, out long ldk, out long ldv)
    {
        (k, v) = (OnDevice(k, "Attention k"), OnDevice(v, "Attention v"));
        if (k.DType != v.DType || k.DType is not (DType.F32 or DType.BF16)) (k, v) = (F32(k, "Attention k"), F32(v, "Attention v"));
        return (Rows(k, out ldk), Rows(v, out ldv));
    }

    /// <summary>
    /// The plain reference: scores = q·kᵀ·scale into a (T, H, S) scratch, a row softmax, then P·V — three exact passes,
    /// slow and memory-hungry at long context (BF16 K/V go through the host). The flash kernels are checked against it.
    /// </summary>
    public Tensor AttentionPlain(Tensor q, Tensor k, Tensor v, float scale, bool causal)
    {
        AttentionShapes.Check(q, k, v, out int t, out int s, out int hq, out int hkv, out int p);
        var qs = Rows(F32(q, "Attention q"), out long ldq);
        var ks = Rows(F32(k, "Attention k"), out long ldk);
        var vs = Rows(F32(v, "Attention v"), out long ldv);
        var o = Empty(DType.F32, t, hq, p);
        if (t == 0) return o;
        using var scores = Gpu.Allocate((long)t * hq * s * sizeof(float));
        Gpu.Launch("attention", "attention_scores", (Gpu.Blocks((long)t * hq * s), 1), 256, 0, Address(qs), ldq, Address(ks), ldk, scores.Pointer, t, s, hq, hkv, p, scale, causal ? 1 : 0);
        Gpu.Launch("attention", "softmax_rows", ((uint)(t * hq), 1), 256, 0, scores.Pointer, s);
        Gpu.Launch("attention", "attention_output", (Gpu.Blocks(o.Length), 1), 256, 0, scores.Pointer, Address(vs), ldv, Address(o), t, s, hq, hkv, p);
        return o;
    }
}
