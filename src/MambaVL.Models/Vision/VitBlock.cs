// One pre-norm transformer encoder block, shared by every vision tower (timm ViTs, HF CLIP):
// x += ls1 · proj(attn(LN1(x))); x += ls2 · fc2(act(fc1(LN2(x)))). Checkpoint names differ per layout; the math does not.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;

namespace MambaVL.Models.Vision;

internal sealed class VitBlock
{
    private readonly VitConfig _cfg;
    private readonly IBackend _backend;
    private readonly Tensor _norm1W, _norm1B, _norm2W, _norm2B;  // (D) F32
    private readonly Tensor _qkv, _qkvBias;                       // (3D, D) stored dtype; (3D) F32: rows [q | k | v]
    private readonly Tensor _proj, _projBias;                     // (D, D); (D)
    private readonly Tensor _fc1, _fc1Bias, _fc2, _fc2Bias;       // (F, D); (F); (D, F); (D)
    private readonly Tensor? _gamma1, _gamma2;                    // LayerScale (D) or null

    public VitBlock(VitConfig cfg, WeightScope block, IBackend backend, DType? storage)
    {
        (_cfg, _backend) = (cfg, backend);
        int d = cfg.EmbedDim, f = cfg.MlpHidden;
        var names = VitNames.Of(cfg.Layout);
        Tensor Small(string name, params int[] shape) => Parameters.Small(backend, block.GetF32(name, shape));
        Tensor Large(string name, params int[] shape) => Parameters.Large(backend, block.Get(name, shape), storage);
        (_norm1W, _norm1B) = (Small(names.Norm1 + ".weight", d), Small(names.Norm1 + ".bias", d));
        (_norm2W, _norm2B) = (Small(names.Norm2 + ".weight", d), Small(names.Norm2 + ".bias", d));
        (_qkv, _qkvBias) = FusedQkv(block, names, d, storage);
        (_proj, _projBias) = (Large(names.Proj + ".weight", d, d), Small(names.Proj + ".bias", d));
        (_fc1, _fc1Bias) = (Large(names.Fc1 + ".weight", f, d), Small(names.Fc1 + ".bias", f));
        (_fc2, _fc2Bias) = (Large(names.Fc2 + ".weight", d, f), Small(names.Fc2 + ".bias", d));
        if (cfg.LayerScale) (_gamma1, _gamma2) = (Small("ls1.gamma", d), Small("ls2.gamma", d));
    }

    /// <summary>x (T, D) F32, updated in place (the residual stream). Intermediates are released as soon as they are used.</summary>
    public void Forward(Tensor x)
    {
        int t = x.Dim(0), d = _cfg.EmbedDim, h = _cfg.Heads, p = _cfg.HeadDim;
        var normed = _backend.LayerNorm(x, _norm1W, _norm1B, _cfg.NormEps);
        var qkv = _backend.MatMul(normed, _qkv, _qkvBias);  // (T, 3D)
        _backend.Release(normed);
        Tensor Part(int i) => qkv.Narrow(1, i * d, d).Reshape(t, h, p);
        var attn = _backend.Attention(Part(0), Part(1), Part(2), 1f / MathF.Sqrt(p), causal: false);
        _backend.Release(qkv);
        Residual(x, Project(attn.Reshape(t, d), _proj, _projBias), _gamma1);
        normed = _backend.LayerNorm(x, _norm2W, _norm2B, _cfg.NormEps);
        var up = Project(normed, _fc1, _fc1Bias);
        var hidden = _backend.Activate(up, _cfg.Activation);
        _backend.Release(up);
        Residual(x, Project(hidden, _fc2, _fc2Bias), _gamma2);
    }

    /// <summary>x · wᵀ + b, releasing x.</summary>
    private Tensor Project(Tensor x, Tensor w, Tensor bias)
    {
        var y = _backend.MatMul(x, w, bias);
        _backend.Release(x);
        return y;
    }

    private void Residual(Tensor x, Tensor branch, Tensor? gamma)
    {
        if (gamma != null) _backend.ScaleColumnsInPlace(branch, gamma);
        _backend.AddInPlace(x, branch);
        _backend.Release(branch);
    }

    /// <summary>timm stores qkv fused; HF CLIP stores q, k, v apart: they are stacked once here so the block has one path.</summary>
    private (Tensor W, Tensor Bias) FusedQkv(WeightScope block, VitNames names, int d, DType? storage)
    {
        if (names.Qkv != null)
            return (Parameters.Large(_backend, block.Get(names.Qkv + ".weight", 3 * d, d), storage),
                    Parameters.Small(_backend, block.GetF32(names.Qkv + ".bias", 3 * d)));
        var parts = names.SeparateQkv!;
        var w = Stack(parts.Select(n => block.GetF32(n + ".weight", d, d)).ToArray(), 3 * d, d);
        var b = Stack(parts.Select(n => block.GetF32(n + ".bias", d)).ToArray(), 3 * d);
        return (Parameters.Large(_backend, w, storage ?? block.Get(parts[0] + ".weight", d, d).DType), Parameters.Small(_backend, b));
    }

    private static Tensor Stack(Tensor[] parts, params int[] shape) =>
        Tensor.FromArray(parts.SelectMany(p => p.ToFloatArray()).ToArray(), shape);
}

/// <summary>The checkpoint names of a block's tensors in each layout (relative to the block).</summary>
internal sealed record VitNames(string Norm1, string Norm2, string? Qkv, string[]? SeparateQkv, string Proj, string Fc1, string Fc2)
{
    private static readonly VitNames Timm = new("norm1", "norm2", "attn.qkv", null, "attn.proj", "mlp.fc1", "mlp.fc2");
    private static readonly VitNames HfClip = new("layer_norm1", "layer_norm2", null,
        ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"], "self_attn.out_proj", "mlp.fc1", "mlp.fc2");

    public static VitNames Of(VitLayout layout) => layout == VitLayout.Timm ? Timm : HfClip;
}
