// The backend contract: every op the models use, one method per op family. Models call only this,
// so the same model code runs on the reference, CPU and (later) CUDA backends. Every op accepts views: in particular the
// Mamba-2 ops and the norms take column slices of a wider matrix (rows strided, each row contiguous) without a copy.
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Ops;

/// <summary>
/// Shape letters: T tokens, B batch, D model width, K input features, N output features (MatMul) or state size (SSM),
/// H heads, P head dim, G groups, C channels, W conv width, V vocabulary.
/// Activations are F32. Inputs must be contiguous unless a method says otherwise; outputs are new contiguous tensors
/// on the backend's device. Ops that update a state do it in place and say so.
/// </summary>
public interface IBackend
{
    string Name { get; }
    Device Device { get; }

    // ---- memory ----

    /// <summary>A zero-filled tensor on this backend's device.</summary>
    Tensor Zeros(DType dtype, params int[] shape);

    /// <summary>Makes a host tensor usable by this backend (identity on CPU backends; upload on GPUs).</summary>
    Tensor Upload(Tensor host);

    /// <summary>Copies any float tensor (views allowed) to host F32 values in row-major order.</summary>
    float[] ToHost(Tensor t);

    /// <summary>
    /// A contiguous tensor with t's values and dtype: t itself when it already is contiguous, else a copy (so releasing
    /// the result may release t's storage too).
    /// </summary>
    Tensor Contiguous(Tensor t);

    /// <summary>
    /// Copies <paramref name="source"/> (F32, or already the destination's type) into <paramref name="destination"/> (same shape; F32, or BF16 / F16 rounded to
    /// nearest even): the destination may be a view of a larger tensor, e.g. the next rows of a preallocated KV cache.
    /// </summary>
    void CopyInto(Tensor source, Tensor destination);

    /// <summary>
    /// Gives an activation's memory back now (to the backend's pool) instead of when the GC collects it. The tensor and
    /// every view of it must not be used afterwards. Weights (mapped files) are left alone.
    /// </summary>
    void Release(Tensor t);

    // ---- linear algebra ----

    /// <summary>y = x · wᵀ (+ bias). x (M, K) F32; w (N, K) F32 | F16 | BF16; bias (N) F32 or null → y (M, N) F32.</summary>
    Tensor MatMul(Tensor x, Tensor w, Tensor? bias = null);

    /// <summary>Rows of an embedding table. table (V, D) F32 | F16 | BF16 → (T, D) F32. Ids out of range throw.</summary>
    Tensor Embedding(Tensor table, ReadOnlySpan<int> ids);

    // ---- element-wise and norms ----

    /// <summary>acc += x, both F32 with the same shape. In place on acc.</summary>
    void AddInPlace(Tensor acc, Tensor x);

    /// <summary>RMSNorm over the last dim: x / sqrt(mean(x²) + eps) · w. x (M, D), w (D) F32 → (M, D).</summary>
    Tensor RmsNorm(Tensor x, Tensor weight, float eps);

    /// <summary>
    /// The pre-norm block input in one pass, as mamba_ssm's fused add + norm: residual += x (in place), then RMSNorm of the
    /// sum. residual, x (M, D) F32, residual contiguous; w (D) → (M, D). Backends may fuse it; by default it is the two ops.
    /// </summary>
    Tensor AddRmsNorm(Tensor residual, Tensor x, Tensor weight, float eps)
    {
        AddInPlace(residual, x);
        return RmsNorm(residual, weight, eps);
    }

    /// <summary>
    /// A pre-norm block's projection in one op: residual += x (in place; x null: nothing added), then RMSNorm of the
    /// residual times <paramref name="norm"/>, times wᵀ (+ bias). residual (M, D) F32 contiguous, x (M, D) F32, norm (D),
    /// w (N, D) → (M, N). By default AddRmsNorm (or RmsNorm) then MatMul (<see cref="NormMatMulComposition.Run"/>).
    /// </summary>
    Tensor NormMatMul(Tensor residual, Tensor? x, Tensor norm, float eps, Tensor w, Tensor? bias = null) =>
        NormMatMulComposition.Run(this, residual, x, norm, eps, w, bias);

    /// <summary>
    /// Gated RMSNorm as mamba_ssm's RMSNormGated with norm_before_gate=False: g = y · silu(z), then RMSNorm of g over
    /// each group of <paramref name="groupSize"/> consecutive channels, times w. y, z (M, Dn); w (Dn) → (M, Dn).
    /// </summary>
    Tensor GatedRmsNorm(Tensor y, Tensor z, Tensor weight, int groupSize, float eps);

    // ---- transformer layers (vision towers; attention layers) ----

    /// <summary>
    /// LayerNorm over the last dim: (x - mean) / sqrt(var + eps) · w + b, with the biased variance (as torch).
    /// x (M, D), rows may be strided (each row contiguous); w (D) F32; b (D) F32 or null → (M, D).
    /// </summary>
    Tensor LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps);

    /// <summary>An element-wise activation of any-shaped F32 x (contiguous) → a new tensor of the same shape.</summary>
    Tensor Activate(Tensor x, Activation kind);

    /// <summary>silu(gate) ⊙ up: the gated unit of SwiGLU MLPs. gate, up (M, F) F32 contiguous → (M, F).</summary>
    Tensor SwiGlu(Tensor gate, Tensor up);

    /// <summary>x[m, d] *= scale[d] (LayerScale). x (M, D) contiguous F32, in place; scale (D) F32.</summary>
    void ScaleColumnsInPlace(Tensor x, Tensor scale);

    /// <summary>
    /// Multi-head softmax attention: o = softmax(q·kᵀ·scale) · v per head, query head h reading key/value head
    /// h / (Hq / Hkv) (grouped-query). Causal: query i sees keys j ≤ i + S - T (the queries are the last T of S positions).
    /// q (T, Hq, P); k, v (S, Hkv, P); rows (dim 0) may be strided, e.g. column slices of a fused qkv projection → (T, Hq, P).
    /// </summary>
    Tensor Attention(Tensor q, Tensor k, Tensor v, float scale, bool causal);

    /// <summary>
    /// Rotary position embedding, rotate-half convention (GPT-NeoX, LLaMA, InternLM2): in each head the pair (i, i + P/2)
    /// turns by the angle θ = (startPosition + t) · invFreq[i] (the product in fp32, as torch computes it):
    /// out[i] = x[i]·cos θ − x[i+P/2]·sin θ; out[i+P/2] = x[i+P/2]·cos θ + x[i]·sin θ.
    /// x (T, H, P), rows may be strided (a column slice of a fused qkv); invFreq (P/2) F32 → (T, H, P).
    /// </summary>
    Tensor Rope(Tensor x, Tensor invFreq, int startPosition);

    /// <summary>Joins tensors that agree on every other dim along <paramref name="dim"/> → a new contiguous tensor (F32).</summary>
    Tensor Concat(IReadOnlyList<Tensor> parts, int dim);

    // ---- Mamba-2 ----

    /// <summary>
    /// Depthwise causal conv over time for one sequence: out[t,c] = bias[c] + Σ_k w[c,k] · in[t-W+1+k, c], where the inputs
    /// before t=0 come from <paramref name="convState"/>. x (T, C); weight (C, W); bias (C) or null;
    /// convState (C, W-1): the last W-1 inputs before x, oldest first (zeros for a fresh sequence), updated in place to the
    /// last W-1 inputs including x. Optional SiLU on the output. → (T, C).
    /// </summary>
    Tensor CausalConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu);

    /// <summary>One decode step of <see cref="CausalConv1d"/> for a batch: x (B, C); convState (B, C, W-1) in place → (B, C).</summary>
    Tensor CausalConv1dStep(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu);

    /// <summary>
    /// Selective scan (SSD) over one sequence, from <paramref name="state"/> (updated in place to the final state):
    /// dt' = clamp(softplus(dt + dtBias), dtMin, dtMax) (softplus is the identity above 20); per head h with group g = h / (H/G):
    /// S_t = exp(dt'·A_h)·S_{t-1} + dt'·x_t ⊗ B_t;  y_t = S_t·C_t + D ⊙ x_t.
    /// x (T, H, P); dt (T, H) raw; B, C (T, G, N); state (H, P, N) F32 → y (T, H, P).
    /// Fast backends use the chunked SSD algorithm with <paramref name="chunkSize"/>; the result must not depend on it.
    /// </summary>
    Tensor SsdScan(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, int chunkSize);

    /// <summary>One recurrent step of <see cref="SsdScan"/> for a batch: x (B, H, P); dt (B, H); b, c (B, G, N); state (B, H, P, N) in place → (B, H, P).</summary>
    Tensor SsmStep(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state);

    /// <summary>
    /// One decode step of a Mamba-2 mixer direction for B sequences, one token each: the conv step with SiLU over xBC,
    /// the SSM step over its x, B, C columns, and the gated RMSNorm with z, in one op so a backend can run them as one
    /// kernel. z (B, Dn), xbc (B, C) with Dn = H·P and C = Dn + 2·G·N, dt (B, H) raw: column views of one in_proj row,
    /// read in place; convState (B, C, W-1) and ssmState (B, H, P, N) updated in place → gated (B, Dn).
    /// By default it is the three ops in turn (<see cref="MambaStepComposition.Run"/>).
    /// </summary>
    Tensor MambaStep(Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor convState, Tensor ssmState) =>
        MambaStepComposition.Run(this, z, xbc, dt, p, convState, ssmState);

    /// <summary>
    /// A Mamba-2 decode step and the mixer's output projection in one op, so a backend can fold the gated RMSNorm's
    /// cross-head scaling into the product's prologue: <see cref="MambaStep"/>, then gated (B, Dn) times wᵀ (+ bias).
    /// Arguments as MambaStep's; w (D, Dn), bias (D) or null → (B, D). States updated in place.
    /// By default the two ops in turn (<see cref="MambaStepProjectComposition.Run"/>).
    /// </summary>
    Tensor MambaStepProject(Tensor z, Tensor xbc, Tensor dt, MambaStepParams p, Tensor convState, Tensor ssmState, Tensor w, Tensor? bias = null) =>
        MambaStepProjectComposition.Run(this, z, xbc, dt, p, convState, ssmState, w, bias);

    /// <summary>
    /// One decode step through a stack of pre-norm Mamba-2 blocks, so a backend can run the whole stack as one kernel:
    /// per block, residual += h, NormMatMul into in_proj, MambaStepProject. residual (B, D) F32 contiguous, updated in
    /// place; one conv state (B, C, W-1) and one SSM state (B, H, P, N) per block, updated in place → the last block's
    /// output h (B, D), not yet added to the residual. By default the per-block ops (<see cref="MambaBlocksStepComposition.Run"/>).
    /// </summary>
    Tensor MambaBlocksStep(Tensor residual, IReadOnlyList<MambaBlockWeights> blocks, IReadOnlyList<Tensor> convStates, IReadOnlyList<Tensor> ssmStates) =>
        MambaBlocksStepComposition.Run(this, residual, blocks, convStates, ssmStates);
}

/// <summary>
/// Per-layer SSM constants. A (H) F32 holds -exp(A_log) already; DtBias (H) F32; D is (H), (H, P) or null (no skip).
/// </summary>
public sealed record SsmParams(Tensor A, Tensor DtBias, Tensor? D, float DtMin = 0f, float DtMax = float.PositiveInfinity);

/// <summary>Element-wise activations: GELU with erf (torch's default), GELU's tanh form, CLIP's quick GELU x·σ(1.702x), SiLU.</summary>
public enum Activation { Gelu, GeluTanh, QuickGelu, Silu }
