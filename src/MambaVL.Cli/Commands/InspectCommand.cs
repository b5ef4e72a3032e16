// `mambavl inspect DIR`: what a model folder holds without running it: architecture summary from config.json, files and
// sizes, every tensor (name, dtype, shape), totals per dtype and the parameter count. Reads headers only.
using System.CommandLine;
using System.Globalization;
using MambaVL.Cli.Common;
using MambaVL.Core.Config;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO;
using MambaVL.IO.Tokenizers;
using MambaVL.Models;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class InspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("model") { Description = "Model folder or weights file" };
        var command = new Command("inspect", "Show a model folder's config, files, tensors, dtypes and parameter count") { path };
        command.SetAction(parse => Run(CliContext.From(parse), parse.GetValue(path)!));
        return command;
    }

    private static int Run(CliContext ctx, string path)
    {
        var folder = ModelFolder.Open(path);
        var config = ConfigJson.Load(folder.ConfigPath!);
        var console = ctx.OutConsole;
        console.WriteLine($"model: {ModelRegistry.Describe(config)}");
        console.WriteLine($"folder: {folder.Directory}");
        console.WriteLine($"config: {Path.GetFileName(folder.ConfigPath)} ({(config.String("model_type") is { } t ? $"model_type {t}" : "state-spaces layout")})");
        console.WriteLine($"tokenizer: {DescribeTokenizer(folder)}");

        using var weights = folder.OpenWeights();
        var tensors = weights.Names.Select(n => (Name: n, Info: weights.Info(n))).ToList();
        console.Write(FilesTable(folder, weights, tensors.Select(t => t.Name)));
        console.Write(TensorsTable(tensors));
        console.Write(DTypesTable(tensors));
        long parameters = tensors.Sum(t => Count(t.Info.Shape));
        console.WriteLine($"parameters: {parameters.ToString("N0", CultureInfo.InvariantCulture)} ({Units.Count(parameters)}) in {tensors.Count} tensors");
        return MambaVlCli.Ok;
    }

    private static string DescribeTokenizer(ModelFolder folder)
    {
        if (TokenizerLoader.TryFromModelDirectory(folder.Directory) is not { } tokenizer)
            return "none (no tokenizer.json or tokenizer.model: generate works with --ids only)";
        string file = folder.TokenizerPath is { } p ? Path.GetFileName(p) : "tokenizer.model (SentencePiece)";
        return $"{file}, {tokenizer.VocabSize} tokens";
    }

    private static Table FilesTable(ModelFolder folder, IWeightSource weights, IEnumerable<string> names)
    {
        var files = names.Select(weights.FileOf).Concat(folder.WeightFiles).Append(folder.ConfigPath!)
            .Concat(new[] { folder.TokenizerPath, folder.GenerationConfigPath }.OfType<string>())
            .Select(Path.GetFullPath).Distinct().Order(StringComparer.Ordinal);
        var table = new Table().Title($"files ({folder.Layout})").AddColumn("file").AddColumn(new TableColumn("size").RightAligned());
        foreach (var f in files)
            table.AddRow(Markup.Escape(Path.GetRelativePath(folder.Directory, f)), File.Exists(f) ? Units.Bytes(new FileInfo(f).Length) : "missing");
        return table;
    }

    private static Table TensorsTable(List<(string Name, (int[] Shape, DType DType) Info)> tensors)
    {
        var table = new Table().Title("tensors").AddColumn("name").AddColumn("dtype").AddColumn("shape").AddColumn(new TableColumn("params").RightAligned());
        foreach (var (name, (shape, dtype)) in tensors)
            table.AddRow(Markup.Escape(name), dtype.SafetensorsName(), Markup.Escape(Tensor.ShapeString(shape)), Count(shape).ToString("N0", CultureInfo.InvariantCulture));
        return table;
    }

    private static Table DTypesTable(List<(string Name, (int[] Shape, DType DType) Info)> tensors)
    {
        var table = new Table().Title("dtypes").AddColumn("dtype").AddColumn(new TableColumn("tensors").RightAligned())
            .AddColumn(new TableColumn("params").RightAligned()).AddColumn(new TableColumn("bytes").RightAligned());
        foreach (var group in tensors.GroupBy(t => t.Info.DType).OrderBy(g => g.Key))
        {
            long count = group.Sum(t => Count(t.Info.Shape));
            table.AddRow(group.Key.SafetensorsName(), group.Count().ToString(CultureInfo.InvariantCulture),
                count.ToString("N0", CultureInfo.InvariantCulture), Units.Bytes(count * group.Key.Size()));
        }
        return table;
    }

    private static long Count(int[] shape) => shape.Aggregate(1L, (a, d) => a * d);
}
