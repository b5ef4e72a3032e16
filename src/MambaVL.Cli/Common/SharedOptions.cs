// Options several commands share, spelled as llama.cpp spells them. Each call makes a new instance for one command.
using System.CommandLine;

namespace MambaVL.Cli.Common;

public static class SharedOptions
{
    public static Option<string> Model(bool required = true) => new("--model", "-m")
    { Description = "Model folder (config.json + model.safetensors or pytorch_model.bin, tokenizer.json for text)", Required = required };

    public static Option<int> Threads() => new("--threads", "-t")
    { Description = "CPU threads (0 = all cores)", DefaultValueFactory = _ => 0 };

    public static Option<string> Device() => new("--device", "-d")
    { Description = "cpu or cuda (cuda:N for GPU N)", DefaultValueFactory = _ => "cpu" };

    public static Option<string> Ids(string description) => new("--ids") { Description = description };
}
