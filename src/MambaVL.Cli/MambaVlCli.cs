// The CLI's testable entry point: builds the command tree and runs it with the given output writers, turning every
// failure into one line on stderr and a non-zero exit code (the full exception only with -v/--verbose).
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using MambaVL.Cli.Commands;
using MambaVL.Cli.Common;

namespace MambaVL.Cli;

public static class MambaVlCli
{
    /// <summary>Exit codes: 0 success, 1 bad usage or a failure, 130 interrupted (as llama.cpp and shells use for SIGINT).</summary>
    public const int Ok = 0, Failed = 1, Interrupted = 130;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Show full error details", Recursive = true };
        var root = new RootCommand("MambaVL: a .NET engine for multimodal state-space models (Mamba-2, vision towers)")
        {
            verbose,
            GenerateCommand.Create(),
            LogitsCommand.Create(),
            InspectCommand.Create(),
            BenchCommand.Create(),
            ModelCommand.Create(),
            ImageCommand.Create(),
            ChatCommand.Create(),
            ConvertCommand.Create(),
            DeviceCommands.Info(),
            DeviceCommands.SelfCheck(),
        };
        foreach (var option in root.Options.OfType<VersionOption>()) option.Action = new VersionAction();

        // Signals are handled by RunConsoleAsync (or the caller) through cancellationToken.
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        // No @response files: a prompt may well start with '@'.
        var parsed = root.Parse(args.Length == 0 ? ["--help"] : args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0 && !AsksForHelp(args)) return ReportParseErrors(parsed, stderr);
        try
        {
            return await parsed.InvokeAsync(config, cancellationToken);
        }
        catch (Exception e)
        {
            CliErrors.Report(e, stderr, parsed.GetValue(verbose));
            return Failed;
        }
    }

    /// <summary>Usage mistakes get one line each and a pointer to --help, instead of the whole help text.</summary>
    private static int ReportParseErrors(ParseResult parsed, TextWriter stderr)
    {
        foreach (var error in parsed.Errors) stderr.WriteLine($"error: {Readable(error.Message)}");
        var names = new List<string>();
        for (SymbolResult? r = parsed.CommandResult; r != null; r = r.Parent)
            if (r is CommandResult c) names.Insert(0, c.Parent is null ? "mambavl" : c.Command.Name);
        stderr.WriteLine($"run '{string.Join(' ', names)} --help' for usage");
        return Failed;
    }

    private static bool AsksForHelp(string[] args) => args.Any(a => a is "-h" or "--help" or "-?");

    private static string Readable(string message) => message
        .Replace("'System.Single'", "number").Replace("'System.Int32'", "integer").Replace("'System.Int64'", "integer")
        .Replace("'System.Boolean'", "true or false");

    /// <summary>
    /// The process entry: the first Ctrl+C or SIGTERM cancels the command, which stops after the current token and prints
    /// what it has (partial output, timings); a second one ends the process at once.
    /// </summary>
    public static async Task<int> RunConsoleAsync(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        int signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.Increment(ref signals) > 1) return;
            context.Cancel = true;
            cancel.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return await RunAsync(args, Console.Out, Console.Error, cancel.Token);
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => RunAsync(args, stdout, stderr).GetAwaiter().GetResult();

    /// <summary>--version: the engine version and what the CPU kernels can use on this machine.</summary>
    private sealed class VersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine($"mambavl {MachineInfo.Version}");
            parseResult.InvocationConfiguration.Output.WriteLine(MachineInfo.Describe());
            return Ok;
        }
    }
}
