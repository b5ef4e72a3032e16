// A HoVLE (OpenGVLab/HoVLE) or mmMamba (hustvl/mmMamba-linear, -hybrid) Hugging Face folder as released: config.json
// with embedding_config / llm_config, sharded safetensors (fp32 or bf16) with an index, tokenizer.model and
// added_tokens.json. Loaded as it is; no conversion step.
using MambaVL.Core.Config;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.IO;
using MambaVL.Models.HoVle;

namespace MambaVL;

public static class HoVleFolder
{
    /// <summary>True when <paramref name="directory"/>'s config.json has model_type internvl_chat or mmMamba_chat.</summary>
    public static bool Is(string directory)
    {
        string config = Path.Combine(directory, "config.json");
        return File.Exists(config) && HoVleConfig.Handles(ConfigJson.Load(config).String("model_type"));
    }

    /// <summary>Loads the model on <paramref name="backend"/>; <paramref name="storage"/> converts the matrices (e.g. BF16), <paramref name="kvCache"/> is F32 or BF16.</summary>
    public static (HoVleModel Model, IDisposable Weights) Load(string directory, IBackend backend, DType? storage = null, DType kvCache = DType.F32)
    {
        var folder = ModelFolder.Open(directory);
        var cfg = HoVleConfig.FromJson(ConfigJson.Load(folder.ConfigPath!));
        var weights = folder.OpenWeights();
        try
        {
            return (new HoVleModel(cfg, weights, backend, storage, kvCache), weights);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }
}
