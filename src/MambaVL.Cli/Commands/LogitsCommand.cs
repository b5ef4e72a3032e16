// `mambavl logits`: one prefill of --ids, all positions, written as one F32 tensor `logits` (T, V) to a safetensors
// file. A stable interface: reference scripts and tests compare these logits with other implementations.
using System.CommandLine;
using MambaVL.Cli.Common;
using MambaVL.Core.Tensors;
using MambaVL.IO.Safetensors;

namespace MambaVL.Cli.Commands;

public static class LogitsCommand
{
    public const string TensorName = "logits";

    public static Command Create()
    {
        var model = SharedOptions.Model();
        var ids = SharedOptions.Ids("Token ids, e.g. 1,2,3");
        ids.Required = true;
        var output = new Option<string>("--out", "-o") { Description = "The .safetensors file to write", Required = true };
        var threads = SharedOptions.Threads();
        var device = SharedOptions.Device();
        var command = new Command("logits", "Write the logits of one prefill of --ids to a safetensors file") { model, ids, output, threads, device };
        command.SetAction(parse => Run(CliContext.From(parse), parse.GetValue(model)!, parse.GetValue(ids)!, parse.GetValue(output)!, parse.GetValue(threads), parse.GetValue(device)!));
        return command;
    }

    private static int Run(CliContext ctx, string modelPath, string idsText, string outPath, int threads, string device)
    {
        int[] ids = CliParse.Ids(idsText, "--ids");
        string? outDir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (outDir != null && !Directory.Exists(outDir)) throw new CliException($"--out: folder {outDir} does not exist");
        using var loaded = LoadedModel.Load(modelPath, threads, loadTokenizer: false, device);
        CliParse.CheckIdsInVocabulary(ids, loaded.Model.VocabSize, "--ids");

        var logits = loaded.Model.Prefill(ids, loaded.Model.CreateState(1), allLogits: true);
        float[] values = loaded.Model.Backend.ToHost(logits);   // (T, V) row-major
        var host = Tensor.FromArray(values, ids.Length, loaded.Model.VocabSize);
        SafetensorsWriter.Write(outPath, [new(TensorName, host)]);
        ctx.Err.WriteLine($"wrote {TensorName} {Tensor.ShapeString(host.Shape)} F32 to {outPath}");
        return MambaVlCli.Ok;
    }
}
