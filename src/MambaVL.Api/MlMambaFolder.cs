// The ML-Mamba model folder MambaVL writes (`mambavl convert mlmamba`) and loads: config.json (model_type "mlmamba",
// the LM's Mamba-2 config, the connector's scan, the image size, the chat template), the weights under the authors'
// checkpoint names in safetensors, the two timm tower folders (dino/, siglip/) and tokenizer.json.
using System.Text.Json;
using System.Text.Json.Nodes;
using MambaVL.Core.Config;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO;
using MambaVL.Models.Mamba2;
using MambaVL.Models.MlMamba;
using MambaVL.Models.Vision;

namespace MambaVL;

/// <summary>What config.json of an ML-Mamba folder says.</summary>
public sealed record MlMambaFolderConfig(Mamba2Config Llm, IReadOnlyList<ScanOrder> Scan, int ConnectorLayers, int ImageSize,
    string DinoFolder, string SigLipFolder, string ChatTemplate)
{
    public const string ModelType = "mlmamba";

    public static MlMambaFolderConfig Read(ConfigJson json)
    {
        if (json.String("model_type") != ModelType)
            throw new ModelLoadException($"{json.Source}: model_type is '{json.String("model_type")}', not '{ModelType}'");
        var llm = json.Object("llm") ?? throw new ModelLoadException($"{json.Source}: no \"llm\" (the language model's config)");
        var connector = json.Object("connector");
        string scan = connector?.String("scan") ?? "bidirectional";
        ScanOrder[] orders = scan switch
        {
            "bidirectional" => ScanConnectorConfig.Bidirectional,
            "cross" => ScanConnectorConfig.CrossScan,
            _ => throw new ModelLoadException($"{json.Source}: connector.scan '{scan}' is not bidirectional or cross"),
        };
        var vision = json.Object("vision");
        return new MlMambaFolderConfig(Mamba2Config.FromJson(llm), orders, connector?.Int("n_layer") ?? 2, json.Int("image_size") ?? 384,
            vision?.String("dino") ?? "dino", vision?.String("siglip") ?? "siglip", json.String("chat_template") ?? "zephyr");
    }

    /// <summary>config.json text for this folder.</summary>
    public string ToJson()
    {
        var root = new JsonObject
        {
            ["model_type"] = ModelType,
            ["llm"] = JsonNode.Parse(Llm.ToJson()),
            ["connector"] = new JsonObject { ["scan"] = Scan.Count == 4 ? "cross" : "bidirectional", ["n_layer"] = ConnectorLayers },
            ["image_size"] = ImageSize,
            ["vision"] = new JsonObject { ["dino"] = DinoFolder, ["siglip"] = SigLipFolder },
            ["chat_template"] = ChatTemplate,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}

public static class MlMambaFolder
{
    /// <summary>True when <paramref name="directory"/>'s config.json says model_type "mlmamba".</summary>
    public static bool Is(string directory)
    {
        string config = Path.Combine(directory, "config.json");
        return File.Exists(config) && ConfigJson.Load(config).String("model_type") == MlMambaFolderConfig.ModelType;
    }

    /// <summary>Loads the model (weights mapped, towers bound) on <paramref name="backend"/>; <paramref name="storage"/> converts the matrices.</summary>
    public static (MlMambaModel Model, MlMambaFolderConfig Config, IDisposable Weights) Load(string directory, IBackend backend, DType? storage = null)
    {
        var folder = ModelFolder.Open(directory);
        var cfg = MlMambaFolderConfig.Read(ConfigJson.Load(folder.ConfigPath!));
        var disposables = new List<IDisposable>();
        try
        {
            VisionTransformer Tower(string name)
            {
                string dir = Path.Combine(directory, name);
                if (!Directory.Exists(dir)) throw new ModelLoadException($"{directory}: no vision tower folder '{name}'");
                var tf = ModelFolder.Open(dir);
                var w = tf.OpenWeights();
                disposables.Add(w);
                return VisionTransformer.Load(ConfigJson.Load(tf.ConfigPath!), w, backend, cfg.ImageSize, storage);
            }
            var vision = new DinoSigLipFeaturizer(Tower(cfg.DinoFolder), Tower(cfg.SigLipFolder), backend);
            var weights = folder.OpenWeights();
            disposables.Add(weights);
            var connector = new ScanConnectorConfig(cfg.Llm, cfg.Scan, cfg.ConnectorLayers);
            var model = new MlMambaModel(cfg.Llm, connector, vision, weights, backend, storage);
            return (model, cfg, new Disposables(disposables));
        }
        catch
        {
            foreach (var d in disposables) d.Dispose();
            throw;
        }
    }

    private sealed class Disposables(List<IDisposable> items) : IDisposable
    {
        public void Dispose() { foreach (var d in items) d.Dispose(); }
    }
}
