// Every user mistake gives a non-zero exit and one line on stderr naming the thing at fault, with no stack trace
// unless --verbose is given.
using MambaVL.Core.Tensors;
using MambaVL.IO.Safetensors;

namespace MambaVL.Cli.Tests;

public class ErrorTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    private static void AssertOneLineError(CliRun run, params string[] mentioned)
    {
        Assert.NotEqual(0, run.ExitCode);
        var errors = run.ErrorLines;
        Assert.True(errors.Length == 1, $"expected one error line, got: {run.Err}");
        foreach (var m in mentioned) Assert.Contains(m, errors[0]);
        Assert.DoesNotContain("   at ", run.Err);
    }

    /// <summary>A copy of the tiny model with its tensors and/or config.json changed.</summary>
    private string Variant(string name, Action<Dictionary<string, Tensor>>? editTensors = null, string? config = null)
    {
        string dir = tiny.Temp.Sub(name);
        File.WriteAllText(Path.Combine(dir, "config.json"), config ?? File.ReadAllText(Path.Combine(tiny.Folder, "config.json")));
        using var source = new SafetensorsFile(Path.Combine(tiny.Folder, "model.safetensors"));
        var tensors = source.Names.ToDictionary(n => n, n => source.Get(n).ToDType(DType.F32));
        editTensors?.Invoke(tensors);
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
        return dir;
    }

    private static CliRun Generate(string folder, params string[] more) => Cli.Run(["generate", "-m", folder, "--ids", "1,2", "-n", "2", .. more]);

    [Fact]
    public void AMissingFolderIsNamed()
    {
        string missing = Path.Combine(tiny.Temp.Path, "no-such-model");
        AssertOneLineError(Generate(missing), missing);
        AssertOneLineError(Cli.Run("inspect", missing), missing);
    }

    [Fact]
    public void AFolderWithoutConfigSaysSo()
    {
        string dir = tiny.Temp.Sub("no-config");
        File.Copy(Path.Combine(tiny.Folder, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        AssertOneLineError(Generate(dir), "config.json");
    }

    [Fact]
    public void AnUnknownModelTypeIsNamed()
    {
        string dir = Variant("llama", config: """{"model_type": "llama", "hidden_size": 40}""");
        AssertOneLineError(Generate(dir), "llama");
        AssertOneLineError(Cli.Run("inspect", dir), "llama");
    }

    [Fact]
    public void AMissingTensorIsNamed() =>
        AssertOneLineError(Generate(Variant("missing-tensor", t => t.Remove("backbone.norm_f.weight"))), "backbone.norm_f.weight");

    [Fact]
    public void AMisShapedTensorIsNamedWithBothShapes()
    {
        const string name = "backbone.layers.1.mixer.out_proj.weight";
        string dir = Variant("bad-shape", t => t[name] = Tensor.Zeros(DType.F32, 40, 79));
        AssertOneLineError(Generate(dir), name, "[40, 79]", "[40, 80]");
    }

    [Fact]
    public void IdsOutsideTheVocabularyAreNamed()
    {
        AssertOneLineError(Cli.Run("generate", "-m", tiny.Folder, "--ids", "1,97", "-n", "1"), "97", "position 1");
        AssertOneLineError(Cli.Run("logits", "-m", tiny.Folder, "--ids", "500", "--out", tiny.Temp.File("x.safetensors")), "500");
    }

    [Fact]
    public void ACorruptWeightsFileIsNamed()
    {
        string dir = tiny.Temp.Sub("corrupt");
        File.Copy(Path.Combine(tiny.Folder, "config.json"), Path.Combine(dir, "config.json"));
        File.WriteAllText(Path.Combine(dir, "model.safetensors"), "this is not a safetensors file at all");
        AssertOneLineError(Generate(dir), "model.safetensors");
    }

    [Fact]
    public void ACorruptConfigIsNamed()
    {
        string dir = Variant("bad-json", config: "{ \"model_type\": \"mamba2\", ");
        AssertOneLineError(Generate(dir), "config.json");
    }

    [Theory]
    [InlineData("--top-p", "2", "top-p")]
    [InlineData("--min-p", "-1", "min-p")]
    [InlineData("--repeat-penalty", "0", "repeat-penalty")]
    [InlineData("--temp", "abc", "--temp")]
    [InlineData("--threads", "-1", "--threads")]
    [InlineData("--top-k", "many", "--top-k")]
    public void BadFlagValuesAreNamed(string flag, string value, string mentioned) =>
        AssertOneLineError(Generate(tiny.Folder, flag, value), mentioned);

    [Fact]
    public void BadIdListsAreNamed() =>
        AssertOneLineError(Cli.Run("generate", "-m", tiny.Folder, "--ids", "1,x"), "--ids", "'x'");

    [Fact]
    public void APromptWithoutATokenizerSaysWhatIsMissing() =>
        AssertOneLineError(Cli.Run("generate", "-m", tiny.Folder, "-p", "hello"), "tokenizer.json");

    [Fact]
    public void AMissingRequiredFlagIsNamed() => AssertOneLineError(Cli.Run("logits", "-m", tiny.Folder, "--ids", "1"), "--out");

    [Fact]
    public void VerboseAddsTheStackTrace()
    {
        var run = Generate(Variant("verbose", t => t.Remove("backbone.norm_f.weight")), "-v");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("   at ", run.Err);
    }
}
