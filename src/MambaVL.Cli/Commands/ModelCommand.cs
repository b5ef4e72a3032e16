// `mambavl model random`: writes a random-weight model folder (config.json + model.safetensors) of a preset shape, for
// trying the tools and for tests. The weights are marked as random in the safetensors metadata.
using System.CommandLine;
using MambaVL.Cli.Common;
using MambaVL.Core.Tensors;
using MambaVL.IO.Safetensors;

namespace MambaVL.Cli.Commands;

public static class ModelCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "Folder to write (created if needed)", Required = true };
        var preset = new Option<string>("--preset") { Description = "Shape: 130m (mamba2-130m) or tiny", DefaultValueFactory = _ => "130m" };
        var dtype = new Option<string>("--dtype") { Description = "Storage type of the matrices: f32, bf16 or f16", DefaultValueFactory = _ => "f32" };
        var seed = new Option<int>("--seed", "-s") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var random = new Command("random", "Write a model folder with random weights") { output, preset, dtype, seed };
        random.SetAction(parse => WriteRandom(CliContext.From(parse), parse.GetValue(output)!, parse.GetValue(preset)!,
            CliParse.DType(parse.GetValue(dtype)!, "--dtype"), parse.GetValue(seed)));
        return new Command("model", "Create model folders") { random };
    }

    private static int WriteRandom(CliContext ctx, string dir, string presetName, DType dtype, int seed)
    {
        var cfg = Presets.Get(presetName);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), cfg.ToJson());
        using var weights = Presets.RandomWeights(cfg, seed, dtype);
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["mambavl"] = $"random weights, preset {presetName}, seed {seed}" };
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), weights.Names.Select(n => KeyValuePair.Create(n, weights.Get(n))), metadata);
        ctx.Err.WriteLine($"wrote {Presets.Label(presetName)}, {Units.Count(cfg.ParameterCount)} parameters, {dtype} matrices, seed {seed}, to {dir}");
        return MambaVlCli.Ok;
    }
}
