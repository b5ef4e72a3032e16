// `mambavl logits` writes one F32 tensor `logits` (T, V) equal to a direct prefill (same backend: bitwise; the reference
// backend: within the fp32 tolerance).
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;
using MambaVL.IO.Safetensors;

namespace MambaVL.Cli.Tests;

public class LogitsCommandTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    private static readonly int[] Ids = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46];   // 11 tokens: not a multiple of the chunk (8)

    private static float[] DirectPrefill(string folder, Core.Ops.IBackend backend)
    {
        var (model, weights) = TinyModelFixture.LoadDirect(folder, backend);
        using (weights) return model.Backend.ToHost(model.Prefill(Ids, model.CreateState(1), allLogits: true));
    }

    [Fact]
    public void WritesTheLogitsOfOnePrefillAsOneF32TensorOfShapeTByV()
    {
        string output = tiny.Temp.File("logits.safetensors");
        var run = Cli.Ok("logits", "--model", tiny.Folder, "--ids", string.Join(',', Ids), "--out", output, "-t", "1");
        Assert.Contains("[11, 97]", run.Err);

        using var file = new SafetensorsFile(output);
        Assert.Equal(["logits"], file.Names);
        var (shape, dtype) = file.Info("logits");
        Assert.Equal([Ids.Length, TinyModelFixture.Vocab], shape);
        Assert.Equal(DType.F32, dtype);
        float[] written = file.Get("logits").ToFloatArray();

        Assert.Equal(DirectPrefill(tiny.Folder, new CpuBackend(1)), written);
        float[] reference = DirectPrefill(tiny.Folder, ReferenceBackend.Instance);
        double diff = Math.Sqrt(written.Zip(reference, (a, b) => (double)(a - b) * (a - b)).Sum());
        double norm = Math.Sqrt(reference.Sum(x => (double)x * x));
        Assert.True(diff / norm <= 1e-4, $"relative error {diff / norm:E2} against the reference backend");
    }
}
