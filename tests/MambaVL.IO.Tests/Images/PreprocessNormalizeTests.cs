// ToNormalizedTensor against torchvision's ToTensor + Normalize (torch 1.13) and HF's rescale + normalize (numpy),
// bit for bit, for the ImageNet, 0.5 and OpenAI CLIP statistics; plus batching and argument checks.
using MambaVL.Core.Tensors;
using MambaVL.IO.Images;
using MambaVL.IO.Images.Processing;

namespace MambaVL.IO.Tests.Images;

public sealed class PreprocessNormalizeTests
{
    [Fact]
    public void ToNormalizedTensor_MatchesTorchvisionAndHfBitForBit()
    {
        using var goldens = ImageFixtures.OpenResize("normalize.safetensors");
        using var sources = ImageFixtures.OpenResize("sources.safetensors");
        var source = ImageFixtures.Image(sources.Get("src_37x23"));
        var cases = ImageFixtures.Cases(goldens);
        Assert.Equal(6, cases.Count);
        foreach (var c in cases)
        {
            var norm = c.Text("norm") switch { "imagenet" => Normalization.ImageNet, "half" => Normalization.Half, _ => Normalization.OpenAiClip };
            var scaling = c.Text("op") == "hf" ? PixelScaling.HfRescale : PixelScaling.TorchvisionToTensor;
            var result = ImageFixtures.Compare(c, goldens.Get(c.Name), ToNormalizedTensor.Apply(source, norm, scaling));
            Assert.True(result.SameHash && result.Exact == result.Compared, $"{c.Name}: {result}");
        }
    }

    [Fact]
    public void TorchvisionAndHfScaling_AgreeOnEveryByte()
    {
        // float32(b) / 255 and float32(float64(b) * (1/255)) round to the same float for all 256 bytes.
        var allBytes = new RgbImage(256, 1, Enumerable.Range(0, 768).Select(i => (byte)(i / 3)).ToArray());
        var a = ToNormalizedTensor.Apply(allBytes, Normalization.OpenAiClip, PixelScaling.TorchvisionToTensor).Span<float>().ToArray();
        var b = ToNormalizedTensor.Apply(allBytes, Normalization.OpenAiClip, PixelScaling.HfRescale).Span<float>().ToArray();
        Assert.Equal(a, b);
    }

    [Fact]
    public void Batch_StacksImagesInOrder()
    {
        var first = ResizeTests.Gradient(3, 2);
        var second = ResizeTests.Gradient(3, 2);
        Array.Reverse(second.Pixels);
        var batch = ToNormalizedTensor.Batch([first, second], Normalization.Half);
        Assert.Equal([2, 3, 2, 3], batch.ShapeArray);
        var values = batch.Span<float>();
        Assert.Equal(ToNormalizedTensor.Apply(first, Normalization.Half).Span<float>().ToArray(), values[..18].ToArray());
        Assert.Equal(ToNormalizedTensor.Apply(second, Normalization.Half).Span<float>().ToArray(), values[18..].ToArray());
    }

    [Fact]
    public void BadArguments_Throw()
    {
        Assert.Contains("3 means and 3 stds", Assert.Throws<ArgumentException>(() => new Normalization([0.5], [0.5, 0.5, 0.5])).Message);
        Assert.Contains("has a zero", Assert.Throws<ArgumentException>(() => new Normalization([0.5, 0.5, 0.5], [0.5, 0, 0.5])).Message);
        Assert.Contains("differ in size", Assert.Throws<ArgumentException>(
            () => ToNormalizedTensor.Batch([ResizeTests.Gradient(3, 2), ResizeTests.Gradient(2, 3)], Normalization.Half)).Message);
        Assert.Contains("no images", Assert.Throws<ArgumentException>(() => ToNormalizedTensor.Batch([], Normalization.Half)).Message);
        var tooShort = new float[5];
        Assert.Contains("needs 18", Assert.Throws<ArgumentException>(
            () => ToNormalizedTensor.Write(ResizeTests.Gradient(3, 2), Normalization.Half, PixelScaling.HfRescale, tooShort)).Message);
    }

    [Fact]
    public void Apply_ReturnsAContiguousF32ChannelsFirstTensor()
    {
        var t = ToNormalizedTensor.Apply(ResizeTests.Gradient(5, 4), Normalization.ImageNet);
        Assert.Equal(DType.F32, t.DType);
        Assert.Equal([3, 4, 5], t.ShapeArray);
        Assert.True(t.IsContiguous);
    }
}
