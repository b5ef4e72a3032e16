// Picks the model class for a config.json: HF model_type, or the state-spaces layout (d_model + ssm_cfg, no model_type).
// HoVLE (internvl_chat) and mmMamba (mmMamba_chat) folders load as text models here (their images need the chat API).
using MambaVL.Core.Config;
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Weights;
using MambaVL.Models.HoVle;
using MambaVL.Models.Mamba2;

namespace MambaVL.Models;

public static class ModelRegistry
{
    /// <summary>The HF model_type values this build can load.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["mamba2", HoVleConfig.TeacherModelType, HoVleConfig.StudentModelType];

    /// <summary>Builds the model <paramref name="config"/> describes from <paramref name="weights"/> on <paramref name="backend"/>.</summary>
    public static ILanguageModel Load(ConfigJson config, IWeightSource weights, IBackend backend) => Architecture(config) switch
    {
        "mamba2" => Mamba2LM.Load(Mamba2Config.FromJson(config), weights, backend),
        var type when HoVleConfig.Handles(type) => new HoVleModel(HoVleConfig.FromJson(config), weights, backend),
        var other => throw Unknown(config, other),
    };

    /// <summary>A one-line architecture summary (layers, widths, vocabulary, parameter count) for inspect.</summary>
    public static string Describe(ConfigJson config) => Architecture(config) switch
    {
        "mamba2" => Mamba2Config.FromJson(config).Describe(),
        var type when HoVleConfig.Handles(type) => HoVleConfig.FromJson(config).Describe(),
        var other => throw Unknown(config, other),
    };

    /// <summary>The architecture key: model_type when present, "mamba2" for state-spaces configs (Mamba2Config checks ssm_cfg.layer).</summary>
    private static string Architecture(ConfigJson config)
    {
        if (config.String("model_type") is { } type) return type;
        if (config.Has("d_model") || config.Has("ssm_cfg")) return "mamba2";
        throw new NotSupportedException($"{config.Source}: no 'model_type' and not a state-spaces config (no d_model or ssm_cfg); cannot tell the architecture");
    }

    private static NotSupportedException Unknown(ConfigJson config, string modelType) => new(
        $"{config.Source}: unsupported model_type '{modelType}'" + (modelType == "mamba" ? " (Mamba-1)" : "")
        + $"; supported: {string.Join(", ", SupportedModelTypes)}");
}
