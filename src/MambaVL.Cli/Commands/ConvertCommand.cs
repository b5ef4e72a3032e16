// `mambavl convert mlmamba`: the authors' latest-checkpoint.pt + the timm DINOv2 and SigLIP folders + tokenizer.json →
// an ML-Mamba model folder (safetensors, optional BF16) that `chat` and the library load by mmap. Shows progress;
// an interrupted conversion leaves no folder that loads.
using System.CommandLine;
using MambaVL.Cli.Common;
using MambaVL.Core.Tensors;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class ConvertCommand
{
    public static Command Create() => new("convert", "Convert published checkpoints into MambaVL model folders") { MlMamba() };

    private static Command MlMamba()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "The authors' latest-checkpoint.pt", Required = true };
        var dino = new Option<string>("--dino") { Description = "timm/vit_large_patch14_reg4_dinov2.lvd142m folder", Required = true };
        var siglip = new Option<string>("--siglip") { Description = "timm/vit_so400m_patch14_siglip_384 folder", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json (GPT-NeoX, as xiuyul/mamba-2.8b-zephyr)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The new model folder", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Matrix storage: f32 (as released) or bf16 (half the size)", DefaultValueFactory = _ => "f32" };
        var llmConfig = new Option<string?>("--llm-config") { Description = "The LM's config.json (default: state-spaces/mamba2-2.7b's)" };
        var imageSize = new Option<int>("--image-size") { Description = "Image side the towers run at", DefaultValueFactory = _ => 384 };
        var crossScan = new Option<bool>("--cross-scan") { Description = "The paper's four-direction connector (no released weights)" };
        var command = new Command("mlmamba", "ML-Mamba: latest-checkpoint.pt + DINOv2 + SigLIP → a model folder")
        {
            checkpoint, dino, siglip, tokenizer, output, dtype, llmConfig, imageSize, crossScan,
        };
        command.SetAction(parse =>
        {
            var ctx = CliContext.From(parse);
            var job = new MlMambaConversion(parse.GetValue(checkpoint)!, parse.GetValue(dino)!, parse.GetValue(siglip)!, parse.GetValue(tokenizer)!, parse.GetValue(output)!)
            {
                LlmConfig = parse.GetValue(llmConfig), Storage = DTypeInfo.Parse(parse.GetValue(dtype)!),
                ImageSize = parse.GetValue(imageSize), CrossScan = parse.GetValue(crossScan),
            };
            ctx.ErrConsole.Progress().Start(p =>
            {
                var task = p.AddTask("writing weights", maxValue: 1);
                MlMambaConverter.Convert(job, (_, done, total) => { task.MaxValue = Math.Max(total, 1); task.Value = done; });
            });
            ctx.Err.WriteLine($"wrote {Path.GetFullPath(job.Output)}");
            return MambaVlCli.Ok;
        });
        return command;
    }
}
