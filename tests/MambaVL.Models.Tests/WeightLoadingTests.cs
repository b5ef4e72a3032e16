// Weight binding: missing and mis-shaped tensors are named (with their file), both embedding spellings load, tied heads
// ignore a stray lm_head, and 16-bit weights are read exactly. Also checks Mamba2Random's weights.
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.Safetensors;
using MambaVL.Models.Mamba2;

namespace MambaVL.Models.Tests;

public class WeightLoadingTests
{
    private static readonly Mamba2Config Tiny = new()
    {
        DModel = 8, NLayer = 2, VocabSize = 19, PadVocabSizeMultiple = 4, DState = 5, HeadDim = 4, NGroups = 2, TieEmbeddings = false,
    };

    private static Dictionary<string, Tensor> Weights(Mamba2Config cfg, DType dtype = DType.F32) =>
        new(Mamba2Random.CreateWeights(cfg, seed: 5, dtype));

    private static string LoadError(Mamba2Config cfg, Dictionary<string, Tensor> weights) =>
        Assert.Throws<ModelLoadException>(() => Mamba2LM.Load(cfg, new DictionaryWeightSource(weights, "test.safetensors"), Fixtures.Backend("reference"))).Message;

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var w = Weights(Tiny);
        w.Remove("backbone.layers.1.mixer.A_log");
        Assert.Contains("'backbone.layers.1.mixer.A_log'", LoadError(Tiny, w));
        w = Weights(Tiny);
        w.Remove("lm_head.weight");
        Assert.Contains("'lm_head.weight'", LoadError(Tiny, w));
        w = Weights(Tiny);
        w.Remove("backbone.embeddings.weight");
        string msg = LoadError(Tiny, w);
        Assert.Contains("'backbone.embeddings.weight' or 'backbone.embedding.weight'", msg);
    }

    [Fact]
    public void A_mis_shaped_tensor_is_named_with_both_shapes()
    {
        var w = Weights(Tiny);
        w["backbone.layers.0.mixer.D"] = Tensor.Zeros(DType.F32, Tiny.NHeads + 1);
        string msg = LoadError(Tiny, w);
        Assert.Contains("'backbone.layers.0.mixer.D'", msg);
        Assert.Contains($"[{Tiny.NHeads + 1}]", msg);
        Assert.Contains($"[{Tiny.NHeads}]", msg);
        // an unpadded embedding in a config that pads the vocabulary
        w = Weights(Tiny);
        w["backbone.embeddings.weight"] = Tensor.Zeros(DType.F32, Tiny.VocabSize, Tiny.DModel);
        Assert.Contains($"[{Tiny.VocabSize}, {Tiny.DModel}] but the config needs [{Tiny.PaddedVocab}, {Tiny.DModel}]", LoadError(Tiny, w));
    }

    [Fact]
    public void Errors_from_a_safetensors_file_name_the_file()
    {
        var w = Weights(Tiny);
        w["backbone.norm_f.weight"] = Tensor.Zeros(DType.F32, Tiny.DModel + 1);
        string path = Path.Combine(Path.GetTempPath(), $"mambavl-models-{Environment.ProcessId}-misshaped.safetensors");
        SafetensorsWriter.Write(path, w);
        try
        {
            using var file = new SafetensorsFile(path);
            var e = Assert.Throws<ModelLoadException>(() => Mamba2LM.Load(Tiny, file, Fixtures.Backend("reference")));
            Assert.Contains(path, e.Message);
            Assert.Contains("'backbone.norm_f.weight'", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void State_spaces_names_and_a_stray_tied_lm_head_load()
    {
        var tied = Tiny with { TieEmbeddings = true };
        var hf = Weights(tied);
        var ss = new Dictionary<string, Tensor>(hf);
        ss["backbone.embedding.weight"] = ss["backbone.embeddings.weight"];
        ss.Remove("backbone.embeddings.weight");
        ss["lm_head.weight"] = Tensor.Zeros(DType.F32, tied.PaddedVocab, tied.DModel);  // ignored: the config ties the head
        var backend = Fixtures.Backend("reference");
        var a = Mamba2LM.Load(tied, new DictionaryWeightSource(hf), backend);
        var b = Mamba2LM.Load(tied, new DictionaryWeightSource(ss), backend);
        int[] ids = [1, 5, 18, 2];
        Assert.Equal(backend.ToHost(a.Prefill(ids, a.CreateState(), true)), backend.ToHost(b.Prefill(ids, b.CreateState(), true)));
    }

    [Theory, InlineData(DType.BF16), InlineData(DType.F16)]
    public void Sixteen_bit_weights_are_read_exactly(DType dtype)
    {
        var half = Weights(Tiny, dtype);
        Assert.Equal(dtype, half["backbone.layers.0.mixer.in_proj.weight"].DType);
        Assert.Equal(DType.F32, half["backbone.layers.0.mixer.D"].DType);
        var widened = half.ToDictionary(kv => kv.Key, kv => kv.Value.ToDType(DType.F32));  // the same values in F32
        foreach (var backendName in Fixtures.Backends)
        {
            var backend = Fixtures.Backend(backendName);
            var a = Mamba2LM.Load(Tiny, new DictionaryWeightSource(half), backend);
            var b = Mamba2LM.Load(Tiny, new DictionaryWeightSource(widened), backend);
            int[] ids = [3, 1, 4, 1, 5, 9, 2, 6];
            Fixtures.AssertClose(backend.ToHost(a.Prefill(ids, a.CreateState(), true)), backend.ToHost(b.Prefill(ids, b.CreateState(), true)),
                $"{dtype} on {backendName}", tol: 1e-5);
        }
    }

    [Fact]
    public void Random_weights_are_deterministic_and_every_parameter_varies()
    {
        var cfg = Tiny with { ProjBias = true, DHasHdim = true };
        var a = Mamba2Random.CreateWeights(cfg, 9);
        var b = Mamba2Random.CreateWeights(cfg, 9);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a)
        {
            float[] v = t.ToFloatArray();
            Assert.Equal(v, b[name].ToFloatArray());
            Assert.True(v.Distinct().Count() > 1, $"{name} is constant");
        }
        Assert.Contains("backbone.layers.1.mixer.in_proj.bias", a.Keys);
        Assert.Equal(cfg.ParameterCount, a.Values.Sum(t => t.Length));
        float[] aLog = a["backbone.layers.0.mixer.A_log"].ToFloatArray();
        Assert.All(aLog, x => Assert.InRange(MathF.Exp(x), 1f, 16f));
        Mamba2LM.Load(cfg, new DictionaryWeightSource(a), Fixtures.Backend("reference"));  // binds every name it wrote
    }
}
