// Turns the authors' release (latest-checkpoint.pt: {"model": {llm_backbone, mlp, bidirectional_mamba, projector}}, fp32,
// ZIP64) plus the two timm tower folders and a tokenizer.json into an ML-Mamba model folder that loads by mmap. The
// folder is built under a temporary name and renamed at the end, so an interrupted conversion leaves nothing that loads.
using MambaVL.Core.Config;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO;
using MambaVL.IO.Safetensors;
using MambaVL.Models.Mamba2;
using MambaVL.Models.MlMamba;

namespace MambaVL;

public sealed record MlMambaConversion(string Checkpoint, string DinoFolder, string SigLipFolder, string Tokenizer, string Output)
{
    /// <summary>The LM's config (state-spaces or HF layout); null = state-spaces/mamba2-2.7b's, which the release uses.</summary>
    public string? LlmConfig { get; init; }
    /// <summary>Storage of the matrices (F32 as released, or BF16: half the size); vectors and conv kernels stay F32.</summary>
    public DType Storage { get; init; } = DType.F32;
    public bool CrossScan { get; init; }
    /// <summary>Largest weight shard (HF's convention: model-0000i-of-0000n.safetensors + index); one file when all fit.</summary>
    public long ShardBytes { get; init; } = 4L << 30;
    /// <summary>The image side the towers run at (384 in the release).</summary>
    public int ImageSize { get; init; } = 384;
}

public static class MlMambaConverter
{
    /// <summary>state-spaces/mamba2-2.7b's config.json, which the authors build both the LM and the connector from.</summary>
    public const string Mamba2_2_7b = """
        {"d_model": 2560, "d_intermediate": 0, "n_layer": 64, "vocab_size": 50277, "ssm_cfg": {"layer": "Mamba2"},
         "attn_layer_idx": [], "attn_cfg": {}, "rms_norm": true, "residual_in_fp32": true, "fused_add_norm": true,
         "pad_vocab_size_multiple": 16, "tie_embeddings": true}
        """;

    /// <param name="progress">(stage, bytes done, bytes total) as the weights are written.</param>
    public static void Convert(MlMambaConversion job, Action<string, long, long>? progress = null)
    {
        string output = Path.GetFullPath(job.Output);
        if (Directory.Exists(output) || File.Exists(output)) throw new IOException($"{output}: already exists; choose a new folder");
        foreach (var (path, what) in new[] { (job.Checkpoint, "checkpoint"), (job.Tokenizer, "tokenizer") })
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such {what} file", path);
        foreach (var dir in new[] { job.DinoFolder, job.SigLipFolder })
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: no such tower folder");
        var llm = Mamba2Config.FromJson(job.LlmConfig is null ? ConfigJson.Parse(Mamba2_2_7b, "mamba2-2.7b config") : ConfigJson.Load(job.LlmConfig));
        var config = new MlMambaFolderConfig(llm, job.CrossScan ? ScanConnectorConfig.CrossScan : ScanConnectorConfig.Bidirectional,
            2, job.ImageSize, "dino", "siglip", "zephyr");

        string partial = $"{output}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(partial);
        try
        {
            using (var weights = ShardedCheckpoint.OpenFile(job.Checkpoint, root: "model"))
                WriteWeights(weights, llm, job.Storage, partial, job.ShardBytes, progress);
            CopyTower(job.DinoFolder, Path.Combine(partial, "dino"));
            CopyTower(job.SigLipFolder, Path.Combine(partial, "siglip"));
            File.Copy(job.Tokenizer, Path.Combine(partial, "tokenizer.json"));
            File.WriteAllText(Path.Combine(partial, "config.json"), config.ToJson());
            Directory.Move(partial, output);
        }
        catch
        {
            try { Directory.Delete(partial, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Every tensor under the four parts, checked by name, matrices converted; a tied LM's stored lm_head copy is dropped.</summary>
    private static void WriteWeights(IWeightSource source, Mamba2Config llm, DType storage, string folder, long shardBytes, Action<string, long, long>? progress)
    {
        string[] parts = ["llm_backbone.", "mlp.", "bidirectional_mamba.", "projector."];
        foreach (var part in parts)
            if (!source.Names.Any(n => n.StartsWith(part, StringComparison.Ordinal)))
                throw new ModelLoadException($"{source.Description}: no '{part.TrimEnd('.')}' weights; is this ML-Mamba's latest-checkpoint.pt?");
        var unknown = source.Names.FirstOrDefault(n => !parts.Any(p => n.StartsWith(p, StringComparison.Ordinal)));
        if (unknown != null) throw new ModelLoadException($"{source.Description}: unexpected tensor '{unknown}' (not part of ML-Mamba)");
        var names = source.Names.Where(n => !(llm.TieEmbeddings && n == "llm_backbone.lm_head.weight")).Order(StringComparer.Ordinal).ToList();
        DType Target(string n) { var (shape, dtype) = source.Info(n); return shape.Length == 2 && dtype.IsFloat() ? storage : dtype; }
        var specs = names.Select(n => new SafetensorsWriter.TensorSpec(n, Target(n), source.Info(n).Shape)).ToList();
        long total = specs.Sum(s => s.ByteLength), before = 0;
        var shards = Shards(specs, shardBytes);
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            string file = shards.Count == 1 ? "model.safetensors" : $"model-{i + 1:00000}-of-{shards.Count:00000}.safetensors";
            var shard = shards[i];
            long offset = before;
            SafetensorsWriter.Write(Path.Combine(folder, file), shard, k => source.Get(shard[k].Name).ToDType(shard[k].DType).ContiguousCopy(),
                new Dictionary<string, string> { ["format"] = "pt", ["converted_by"] = "mambavl convert mlmamba" },
                done => progress?.Invoke("weights", offset + done, total));
            before += shard.Sum(s => s.ByteLength);
            foreach (var spec in shard) weightMap[spec.Name] = file;
        }
        if (shards.Count > 1)
        {
            var map = new System.Text.Json.Nodes.JsonObject();
            foreach (var (name, file) in weightMap) map[name] = file;
            var index = new System.Text.Json.Nodes.JsonObject { ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["total_size"] = total }, ["weight_map"] = map };
            File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"),
                index.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        }
    }

    /// <summary>Consecutive groups of at most <paramref name="shardBytes"/> each (a larger tensor gets a shard of its own).</summary>
    private static List<List<SafetensorsWriter.TensorSpec>> Shards(List<SafetensorsWriter.TensorSpec> specs, long shardBytes)
    {
        var shards = new List<List<SafetensorsWriter.TensorSpec>> { new() };
        long size = 0;
        foreach (var spec in specs)
        {
            if (shards[^1].Count > 0 && size + spec.ByteLength > shardBytes) { shards.Add([]); size = 0; }
            shards[^1].Add(spec);
            size += spec.ByteLength;
        }
        return shards;
    }

    private static void CopyTower(string from, string to)
    {
        var folder = ModelFolder.Open(from);
        Directory.CreateDirectory(to);
        File.Copy(folder.ConfigPath!, Path.Combine(to, "config.json"));
        foreach (var file in folder.WeightFiles) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        string index = Path.Combine(from, "model.safetensors.index.json");
        if (File.Exists(index) && !File.Exists(Path.Combine(to, "model.safetensors.index.json"))) File.Copy(index, Path.Combine(to, "model.safetensors.index.json"));
    }
}
