// `mambavl chat`: talk to an ML-Mamba, HoVLE or mmMamba folder about an image. With a question it answers once and
// streams the reply; without one it opens an interactive chat whose model state carries every turn (the image is read
// once), with /image PATH, /reset, /save PATH, /load PATH, /help and /quit. After each answer stderr gets the timings
// and the state's memory: fixed, per token of context, and now.
using System.CommandLine;
using MambaVL.Cli.Common;
using MambaVL.Core.Models;
using MambaVL.Core.Tensors;
using MambaVL.Generation;
using MambaVL.Generation.Chat;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class ChatCommand
{
    public static Command Create()
    {
        var model = SharedOptions.Model();
        model.Description = "ML-Mamba folder (as written by `mambavl convert mlmamba`), or a HoVLE / mmMamba folder as released";
        var image = new Option<string>("--image", "-i") { Description = "The image to talk about (JPEG, PNG, BMP, PPM)" };
        var question = new Argument<string?>("question") { Description = "Ask once and exit; leave out for an interactive chat", Arity = ArgumentArity.ZeroOrOne };
        var threads = SharedOptions.Threads();
        var device = SharedOptions.Device();
        var dtype = new Option<string?>("--dtype") { Description = "Convert the matrices at load (bf16 halves memory traffic)" };
        var cacheType = new Option<string>("--cache-type") { Description = "KV cache of attention layers (HoVLE, mmMamba-hybrid): f32 or bf16 (half the memory)", DefaultValueFactory = _ => "f32" };
        var maxTiles = new Option<int?>("--max-tiles") { Description = "Most 448-px tiles per image for HoVLE / mmMamba (default 12, as the authors' demo)" };
        var flags = new SamplingFlags(defaultTemperature: 0f, defaultMaxTokens: 512);
        var command = new Command("chat", "Chat about an image with ML-Mamba, HoVLE or mmMamba (greedy by default, as the authors evaluate)")
        {
            model, image, question, threads, device, dtype, maxTiles, cacheType,
        };
        foreach (var option in flags.All) command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var ctx = CliContext.From(parse);
            var options = new VisionChatOptions
            {
                Threads = parse.GetValue(threads),
                Device = parse.GetValue(device)!,
                Storage = parse.GetValue(dtype) is string d ? Core.Tensors.DTypeInfo.Parse(d) : null,
                MaxTiles = parse.GetValue(maxTiles) is int m and < 1 ? throw new CliException($"--max-tiles: {m} (at least 1)") : parse.GetValue(maxTiles),
                KvCacheType = CliParse.KvCacheType(parse.GetValue(cacheType)!),
                Generation = new GenerationOptions { Sampling = flags.Read(parse), MaxTokens = parse.GetValue(flags.MaxTokens) },
            };
            using var vlm = ctx.ErrConsole.Status().Start("loading the model", _ => VisionChatModel.Load(parse.GetValue(model)!, options));
            string? imagePath = parse.GetValue(image);
            var chat = vlm.NewConversation(imagePath);
            return parse.GetValue(question) is string q
                ? await Answer(ctx, chat, q, cancellationToken)
                : await Interactive(ctx, vlm, chat, cancellationToken);
        });
        return command;
    }

    private static async Task<int> Answer(CliContext ctx, Conversation chat, string question, CancellationToken cancellationToken)
    {
        await foreach (var piece in chat.AskAsync(question, cancellationToken)) { ctx.Out.Write(piece); ctx.Out.Flush(); }
        ctx.Out.WriteLine();
        ctx.Err.WriteLine(chat.LastResult!.Timings.ToString());
        ctx.Err.WriteLine(MemoryLine(chat));
        return cancellationToken.IsCancellationRequested ? MambaVlCli.Interrupted : MambaVlCli.Ok;
    }

    /// <summary>"context 412 tokens | state 1.20 MiB (fixed 1.00 MiB + 512 B/token)": what the conversation holds and how it grows.</summary>
    internal static string MemoryLine(Conversation chat)
    {
        string line = $"context {chat.State.Position} tokens | state {Units.Bytes(chat.State.ByteSize)}";
        return chat.Model is IContextMemory m ? line + $" (fixed {Units.Bytes(m.FixedStateBytes)} + {Units.Bytes(m.StateBytesPerToken)}/token)" : line;
    }

    private static async Task<int> Interactive(CliContext ctx, VisionChatModel vlm, Conversation chat, CancellationToken cancellationToken)
    {
        ctx.Err.WriteLine(chat.HasImage ? "image read; ask about it (/help for commands)" : "no image yet: /image PATH to add one (/help for commands)");
        var input = Console.In;
        while (!cancellationToken.IsCancellationRequested)
        {
            ctx.Err.Write("> ");
            string? line = await input.ReadLineAsync(cancellationToken);
            if (line is null) break;  // end of input
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith('/'))
            {
                if (!RunCommand(ctx, vlm, ref chat, line)) break;
                continue;
            }
            try { await Answer(ctx, chat, line, cancellationToken); }
            catch (OperationCanceledException) { break; }
        }
        return MambaVlCli.Ok;
    }

    /// <summary>One slash command; false to quit. Errors (a bad path, a corrupt file) are reported and the chat goes on.</summary>
    private static bool RunCommand(CliContext ctx, VisionChatModel vlm, ref Conversation chat, string line)
    {
        var (name, arg) = line.IndexOf(' ') is int i and > 0 ? (line[..i], line[(i + 1)..].Trim()) : (line, "");
        try
        {
            switch (name)
            {
                case "/quit" or "/exit": return false;
                case "/reset": chat.Reset(); ctx.Err.WriteLine("conversation reset (image forgotten)"); break;
                case "/image" when arg.Length > 0:
                    chat.SetImage(vlm.Pixels(arg));
                    ctx.Err.WriteLine($"new conversation about {arg}");
                    break;
                case "/save" when arg.Length > 0:
                    using (var f = File.Create(arg)) chat.Save(f);
                    ctx.Err.WriteLine($"saved {chat.Turns} turns to {arg}");
                    break;
                case "/load" when arg.Length > 0:
                    using (var f = File.OpenRead(arg)) chat.Load(f, arg);
                    ctx.Err.WriteLine($"loaded {chat.Turns} turns from {arg}");
                    break;
                case "/help":
                    ctx.Err.WriteLine("/image PATH  start over with an image | /reset | /save PATH | /load PATH | /quit");
                    break;
                default: ctx.Err.WriteLine($"unknown command '{line}' (/help lists them)"); break;
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            ctx.Err.WriteLine($"error: {CliErrors.OneLine(e)}");
        }
        return true;
    }
}
