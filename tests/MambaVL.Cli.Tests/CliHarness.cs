// Runs the CLI in-process with captured stdout/stderr, and builds tiny random model folders in temp directories.
using System.Text.Json;
using MambaVL.Cli;
using MambaVL.Core.Config;
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.IO;
using MambaVL.Models;

namespace MambaVL.Cli.Tests;

public sealed record CliRun(int ExitCode, string Out, string Err)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
    public string[] ErrorLines => Err.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();
}

public static class Cli
{
    public static CliRun Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = MambaVlCli.Run(args, stdout, stderr);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// Runs a CUDA command: without a GPU (CI) it must end with the one-line CUDA-unavailable error and print nothing of
    /// <paramref name="notWithout"/>; with one it must succeed, and <paramref name="withGpu"/> checks its output.
    /// </summary>
    public static void OnCudaOrUnavailable(string[] args, Action<CliRun> withGpu, string? notWithout = null)
    {
        using var gpu = MambaVL.Cuda.CudaDevice.TryOpen(out string reason);
        var run = Run(args);
        if (gpu is null)
        {
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("CUDA is not available", Assert.Single(run.ErrorLines));
            Assert.Contains("CUDA is not available", reason);
            if (notWithout != null) Assert.DoesNotContain(notWithout, run.Out);
            return;
        }
        Assert.True(run.ExitCode == 0, $"mambavl {string.Join(' ', args)} exited {run.ExitCode}: {run.Err}");
        withGpu(run);
    }

    /// <summary>Runs and asserts success, showing stderr when it fails.</summary>
    public static CliRun Ok(params string[] args)
    {
        var run = Run(args);
        Assert.True(run.ExitCode == 0, $"mambavl {string.Join(' ', args)} exited {run.ExitCode}: {run.Err}");
        return run;
    }
}

/// <summary>A temp folder removed at the end of the test class.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("mambavl-cli-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public string Sub(string name) => Directory.CreateDirectory(File(name)).FullName;
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

/// <summary>The tiny preset written by `mambavl model random`, shared by a test class, plus a copy with a tokenizer.</summary>
public sealed class TinyModelFixture : IDisposable
{
    public const int Vocab = 97, EndOfText = 96;
    public TempDir Temp { get; } = new();
    public string Folder { get; }
    public string FolderWithTokenizer { get; }

    public TinyModelFixture()
    {
        Folder = Temp.Sub("tiny");
        Cli.Ok("model", "random", "--out", Folder, "--preset", "tiny", "--seed", "7");
        FolderWithTokenizer = Temp.Sub("tiny-tok");
        foreach (var f in Directory.GetFiles(Folder)) System.IO.File.Copy(f, System.IO.Path.Combine(FolderWithTokenizer, System.IO.Path.GetFileName(f)));
        System.IO.File.WriteAllText(System.IO.Path.Combine(FolderWithTokenizer, "tokenizer.json"), ByteLevelTokenizerJson());
    }

    /// <summary>The folder's model, loaded directly (not through the CLI) on <paramref name="backend"/>.</summary>
    public static (ILanguageModel Model, IDisposable Weights) LoadDirect(string folder, IBackend backend)
    {
        var mf = ModelFolder.Open(folder);
        var weights = mf.OpenWeights();
        return (ModelRegistry.Load(ConfigJson.Load(mf.ConfigPath!), weights, backend), weights);
    }

    /// <summary>The tiny model's tokenizer: printable ASCII, Ġ and Ċ at 0..95, &lt;|endoftext|&gt; = 96.</summary>
    public static string ByteLevelTokenizerJson() => MambaVL.Tests.Shared.ByteLevelTokenizerJson.Create(EndOfText, 0);

    public void Dispose() => Temp.Dispose();
}
