// User-facing failures: one line naming the file, tensor or flag at fault; the stack trace only with --verbose.
using MambaVL.Core.Weights;

namespace MambaVL.Cli.Common;

/// <summary>A failure whose message is already written for the user (bad flag value, missing file...).</summary>
public sealed class CliException(string message) : Exception(message);

public static class CliErrors
{
    public static void Report(Exception e, TextWriter stderr, bool verbose)
    {
        stderr.WriteLine($"error: {OneLine(e)}");
        if (verbose) stderr.WriteLine(e.ToString());
    }

    /// <summary>The message on one line; exceptions we did not raise on purpose also name their type.</summary>
    public static string OneLine(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerExceptions[0] : e;
        string message = string.Join(" ", inner.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return IsExpected(inner) ? message : $"{inner.GetType().Name}: {message}";
    }

    private static bool IsExpected(Exception e) => e is CliException or ModelLoadException or FormatException or NotSupportedException
        or ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException
        or Cuda.Interop.CudaUnavailableException or Cuda.Interop.CudaException;
}
