// Where a command writes: stdout for results (generated text, ids, tables a tool may parse), stderr for progress,
// timings and errors, each also as a Spectre console. Both come from the invocation, so tests can capture them.
using System.CommandLine;
using Spectre.Console;

namespace MambaVL.Cli.Common;

public sealed class CliContext
{
    public TextWriter Out { get; }
    public TextWriter Err { get; }
    public IAnsiConsole OutConsole { get; }
    public IAnsiConsole ErrConsole { get; }

    private CliContext(TextWriter stdout, TextWriter stderr)
    {
        (Out, Err) = (stdout, stderr);
        OutConsole = ConsoleFor(stdout, Console.IsOutputRedirected || stdout != Console.Out);
        ErrConsole = ConsoleFor(stderr, Console.IsErrorRedirected || stderr != Console.Error);
    }

    public static CliContext From(ParseResult parseResult) =>
        new(parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error);

    /// <summary>Plain text (no colours, no animation, wide tables) unless the writer is the process's own terminal.</summary>
    private static IAnsiConsole ConsoleFor(TextWriter writer, bool plain)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = plain ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (plain) console.Profile.Width = 200;
        return console;
    }
}
