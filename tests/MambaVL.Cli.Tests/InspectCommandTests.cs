// `mambavl inspect` lists every tensor with its dtype and shape, the dtype totals and the parameter count.
using MambaVL.IO.Safetensors;

namespace MambaVL.Cli.Tests;

public class InspectCommandTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void ListsEveryTensorWithDTypeAndShapeAndTheParameterCount()
    {
        var run = Cli.Ok("inspect", tiny.Folder);
        using var file = new SafetensorsFile(Path.Combine(tiny.Folder, "model.safetensors"));
        long parameters = 0;
        foreach (var name in file.Names)
        {
            var (shape, dtype) = file.Info(name);
            parameters += shape.Aggregate(1L, (a, d) => a * d);
            var row = run.OutLines.SingleOrDefault(l => l.Contains($" {name} ", StringComparison.Ordinal));
            Assert.True(row != null, $"no row for {name}");
            Assert.Contains(dtype.ToString().ToUpperInvariant(), row);
            Assert.Contains("[" + string.Join(", ", shape) + "]", row);
        }
        Assert.Contains($"parameters: {parameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} ", run.Out);
        Assert.Contains("Mamba-2: 2 layers, d_model 40", run.Out);
        Assert.Contains("model.safetensors", run.Out);
        Assert.Contains("tokenizer: none", run.Out);
    }

    [Fact]
    public void ShowsTheTokenizerWhenThereIsOne()
    {
        var run = Cli.Ok("inspect", tiny.FolderWithTokenizer);
        Assert.Contains("tokenizer: tokenizer.json, 97 tokens", run.Out);
    }
}
