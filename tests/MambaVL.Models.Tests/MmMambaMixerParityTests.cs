// mmMamba's Mamba-2 mixer against the authors' own Mamba2_Attention (tests/fixtures/mmmamba/mixer.safetensors, made by
// tools/reference/mmmamba/make_mixer_goldens.py on the GPU machine's CPU, fp32): a random layer with 2 query heads per
// kv head, in the exported wvkqgdt form; one prefill of 37 tokens, and a prefill of 30 followed by 7 decode steps.
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.Safetensors;
using MambaVL.Models.InternLm2;

namespace MambaVL.Models.Tests;

public sealed class MmMambaMixerParityTests
{
    private static readonly InternLm2Config Layer = new()
    {
        HiddenSize = 64, IntermediateSize = 8, Layers = 1, Heads = 4, KvHeads = 2, VocabSize = 10, LayerKinds = [LayerKind.Mamba2],
    };

    private static SafetensorsFile Golden() => new(System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "mmmamba", "mixer.safetensors"));

    private static readonly Tensor NoRope = Tensor.FromArray(new float[8], 8);

    [Theory, MemberData(nameof(Backends))]
    public void One_prefill_matches_the_authors_mixer(string backend)
    {
        using var f = Golden();
        var mixer = new MmMambaMixer(Layer, new WeightScope(f).Push("attention"), Fixtures.Backend(backend), null);
        var y = mixer.Mix(f.Get("u"), mixer.CreateCache(), 0, NoRope);
        Assert.Equal(new[] { 37, 64 }, y.ShapeArray);
        Fixtures.AssertClose(y.ToFloatArray(), f.Get("y").ToFloatArray(), $"mmMamba mixer on {backend}");
    }

    [Fact]
    public void Prefill_then_decode_steps_match_the_authors_mixer()
    {
        using var f = Golden();
        var mixer = new MmMambaMixer(Layer, new WeightScope(f).Push("attention"), Fixtures.Backend("cpu"), null);
        var cache = mixer.CreateCache();
        var u = f.Get("u");
        var expected = f.Get("y").ToFloatArray();
        var first = mixer.Mix(Tensor.FromArray(u.Narrow(0, 0, 30).ToFloatArray(), 30, 64), cache, 0, NoRope);
        Fixtures.AssertClose(first.ToFloatArray(), expected.AsSpan(0, 30 * 64), "prefill of 30");
        for (int t = 30; t < 37; t++)
        {
            var step = mixer.Mix(Tensor.FromArray(u.Narrow(0, t, 1).ToFloatArray(), 1, 64), cache, t, NoRope);
            Fixtures.AssertClose(step.ToFloatArray(), expected.AsSpan(t * 64, 64), $"step {t}");
        }
        Assert.Equal((128 * 1 + 4 * 16 * 16) * 4L, cache.ByteSize);  // conv window + fp32 SSM state: no growth
    }

    public static TheoryData<string> Backends => new(Fixtures.Backends);
}
