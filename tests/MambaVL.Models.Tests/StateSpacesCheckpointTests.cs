// The state-spaces checkpoint layout end to end: a mamba_ssm-style folder (config.json with ssm_cfg and an unpadded
// vocab_size, pytorch_model.bin with backbone.embedding.weight and a tied lm_head sharing its storage), found by
// ModelFolder, read by the PyTorch reader and loaded through the registry, against g1_tied's goldens.
using MambaVL.Core.Config;
using MambaVL.IO;

namespace MambaVL.Models.Tests;

public class StateSpacesCheckpointTests
{
    [Theory, InlineData("reference"), InlineData("cpu")]
    public void Pytorch_model_bin_matches_the_recurrence_and_transformers(string backend)
    {
        var folder = ModelFolder.Open(Fixtures.Path("ss_g1_tied"));
        Assert.Equal(WeightLayout.PyTorch, folder.Layout);
        using var weights = folder.OpenWeights();
        Assert.Contains("backbone.embedding.weight", weights.Names);
        var config = ConfigJson.Load(folder.ConfigPath!);
        Assert.Equal(50, config.Int("vocab_size"));
        var lm = ModelRegistry.Load(config, weights, Fixtures.Backend(backend));
        Assert.Equal(56, lm.VocabSize);  // padded to pad_vocab_size_multiple 8

        var golden = Fixtures.Model("g1_tied");  // same weights, HF layout
        foreach (var file in new[] { "recurrence.safetensors", "hf.safetensors" })
        {
            var logits = lm.Prefill(golden.GoldenIds(file, "ids_T11"), lm.CreateState(), allLogits: true);
            Fixtures.AssertClose(lm.Backend.ToHost(logits), golden.Golden(file, "logits_T11"), $"{file} logits");
            Assert.Equal(golden.GoldenIds(file, "greedy_ids"), Fixtures.Greedy(lm, golden.GoldenIds(file, "ids_T11"), 12));
        }
    }
}
