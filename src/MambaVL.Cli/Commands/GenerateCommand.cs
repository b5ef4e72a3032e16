// `mambavl generate`: streams text for a --prompt (needs tokenizer.json) or runs on raw --ids; --print-ids ends stdout
// with the generated ids on one line (a stable interface for tools and tests). Timings and the sampler go to stderr.
using System.CommandLine;
using System.Globalization;
using MambaVL.Cli.Common;
using MambaVL.Generation;
using MambaVL.Generation.Sampling;
using MambaVL.Models;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class GenerateCommand
{
    public static Command Create()
    {
        var model = SharedOptions.Model();
        var prompt = new Option<string>("--prompt", "-p") { Description = "Prompt text (needs tokenizer.json in the model folder)" };
        var ids = SharedOptions.Ids("Prompt as token ids, e.g. 1,2,3 (no tokenizer needed)");
        var flags = new SamplingFlags(defaultTemperature: 0.8f, defaultMaxTokens: 256);
        var threads = SharedOptions.Threads();
        var device = SharedOptions.Device();
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable); not printed", AllowMultipleArgumentsPerToken = false };
        var printIds = new Option<bool>("--print-ids") { Description = "Print the generated ids, space separated, as the last line of stdout" };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Do not stop at the end-of-sequence id" };

        var command = new Command("generate", "Generate text (or ids) from a prompt") { model, prompt, ids, threads, device, stop, printIds, ignoreEos };
        foreach (var option in flags.All) command.Options.Add(option);
        command.SetAction((parse, cancellationToken) =>
        {
            var sampling = flags.Read(parse);
            var request = new Request(parse.GetValue(model)!, parse.GetValue(prompt), parse.GetValue(ids), parse.GetValue(threads),
                parse.GetValue(flags.MaxTokens), sampling, parse.GetValue(stop) ?? [], parse.GetValue(printIds), parse.GetValue(ignoreEos), parse.GetValue(device)!);
            return Task.FromResult(Run(CliContext.From(parse), request, cancellationToken));
        });
        return command;
    }

    private sealed record Request(string Model, string? Prompt, string? Ids, int Threads, int MaxTokens, SamplingOptions Sampling,
        string[] StopStrings, bool PrintIds, bool IgnoreEos, string Device);

    private static int Run(CliContext ctx, Request request, CancellationToken cancellationToken)
    {
        if ((request.Prompt is null) == (request.Ids is null)) throw new CliException("give either --prompt or --ids (not both)");
        using var loaded = ctx.ErrConsole.Status().Start($"Loading {request.Model}", _ => LoadedModel.Load(request.Model, request.Threads, device: request.Device));
        int[] promptIds = PromptIds(loaded, request);
        if (request.StopStrings.Length > 0 && loaded.Tokenizer is null)
            throw new CliException($"{loaded.Folder.Directory}: no tokenizer.json; --stop needs one to see text");

        var options = new GenerationOptions
        {
            MaxTokens = request.MaxTokens, Sampling = request.Sampling, StopStrings = request.StopStrings,
            StopIds = request.IgnoreEos ? [] : loaded.EndOfSequenceIds(),
            SampleVocabLimit = loaded.Tokenizer is { } t && t.VocabSize < loaded.Model.VocabSize ? t.VocabSize : null,
        };
        var session = new Generator(loaded.Model, loaded.Tokenizer).Start(promptIds, options);
        ctx.Err.WriteLine($"model: {ModelRegistry.Describe(loaded.Config)}");
        ctx.Err.WriteLine($"sampler: {request.Sampling.Describe()}");
        ctx.Err.WriteLine($"seed: {session.Seed}");

        bool wroteText = false, endsWithNewline = false;
        while (session.Next(cancellationToken) is { } chunk)
        {
            if (chunk.Text.Length == 0) continue;
            ctx.Out.Write(chunk.Text);
            ctx.Out.Flush();
            (wroteText, endsWithNewline) = (true, chunk.Text.EndsWith('\n'));
        }
        var result = session.Result;
        if (wroteText && !endsWithNewline) ctx.Out.WriteLine();
        if (request.PrintIds) ctx.Out.WriteLine(string.Join(' ', result.Ids));

        ctx.Err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load {loaded.LoadSeconds:0.00} s | {result.Timings}"));
        ctx.Err.WriteLine($"finish: {Describe(result)}");
        return result.FinishReason == FinishReason.Cancelled ? MambaVlCli.Interrupted : MambaVlCli.Ok;
    }

    private static int[] PromptIds(LoadedModel loaded, Request request)
    {
        if (request.Ids is { } text)
        {
            int[] ids = CliParse.Ids(text, "--ids");
            CliParse.CheckIdsInVocabulary(ids, loaded.Model.VocabSize, "--ids");
            return ids;
        }
        var tokenizer = loaded.Tokenizer
            ?? throw new CliException($"{loaded.Folder.Directory}: no tokenizer.json; --prompt needs one (or give --ids)");
        int[] encoded = tokenizer.Encode(request.Prompt!);
        if (encoded.Length == 0) throw new CliException("--prompt: the prompt encodes to no tokens");
        CliParse.CheckIdsInVocabulary(encoded, loaded.Model.VocabSize, "--prompt");
        return encoded;
    }

    private static string Describe(GenerationResult result) => result.FinishReason switch
    {
        FinishReason.StopId => $"end-of-sequence id {result.Ids[^1]}",
        FinishReason.StopString => $"stop string \"{result.StopString}\"",
        FinishReason.Length => $"max tokens ({result.Ids.Length})",
        _ => "interrupted",
    };
}
