// Checkpoint tensor names of Mamba-2 LMs, and every alias between layouts, in one place.
// state-spaces (mamba_ssm, pytorch_model.bin) and HF transformers (model.safetensors) differ only in the embedding's name.
namespace MambaVL.Models.Mamba2;

public static class Mamba2Names
{
    /// <summary>HF spelling first (what <see cref="Mamba2Random"/> writes), then state-spaces'.</summary>
    public static readonly string[] Embedding = ["backbone.embeddings.weight", "backbone.embedding.weight"];

    public const string Backbone = "backbone";
    public const string Layers = "layers";
    public const string NormF = "norm_f.weight";
    public const string LmHead = "lm_head.weight";

    // Per layer, under backbone.layers.{i}:
    public const string BlockNorm = "norm.weight";
    public const string Mixer = "mixer";

    // Under backbone.layers.{i}.mixer:
    public const string InProj = "in_proj.weight";
    public const string InProjBias = "in_proj.bias";
    public const string ConvWeight = "conv1d.weight";
    public const string ConvBias = "conv1d.bias";
    public const string DtBias = "dt_bias";
    public const string ALog = "A_log";
    public const string D = "D";
    public const string GateNorm = "norm.weight";
    public const string OutProj = "out_proj.weight";
    public const string OutProjBias = "out_proj.bias";

    /// <summary>Full name of a mixer tensor, e.g. MixerTensor(3, "A_log") = "backbone.layers.3.mixer.A_log".</summary>
    public static string MixerTensor(int layer, string name) => $"{Backbone}.{Layers}.{layer}.{Mixer}.{name}";

    /// <summary>Full name of a block tensor, e.g. BlockTensor(0, "norm.weight") = "backbone.layers.0.norm.weight".</summary>
    public static string BlockTensor(int layer, string name) => $"{Backbone}.{Layers}.{layer}.{name}";
}
