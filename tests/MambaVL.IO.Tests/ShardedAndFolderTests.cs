// Sharded checkpoints (index.json + shards, safetensors and .bin) as one weight source, their errors, and how
// ModelFolder picks config, weights, tokenizer and generation config from a folder or a file.
using MambaVL.Core.Weights;
using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests;

public class ShardedAndFolderTests
{
    [Fact]
    public void Sharded_safetensors_read_as_one_source()
    {
        using var sharded = ShardedCheckpoint.FromIndex(Fixtures.File("sharded_st", "model.safetensors.index.json"));
        using var single = new Safetensors.SafetensorsFile(Fixtures.File("single.safetensors"));
        Assert.Equal(2, sharded.Shards.Count);
        Assert.Equal(single.Names.Order(StringComparer.Ordinal), sharded.Names.Order(StringComparer.Ordinal));
        foreach (var n in single.Names) Assert.Equal(Fixtures.Bytes(single.Get(n)), Fixtures.Bytes(sharded.Get(n)));
        Assert.EndsWith("model-00001-of-00002.safetensors", sharded.FileOf("bf16"));
    }

    [Fact]
    public void Sharded_bin_reads_through_a_model_folder()
    {
        using var dir = TempDir.CopyOf(Fixtures.File("sharded_bin"));
        File.WriteAllText(dir.File("config.json"), "{}");
        var folder = ModelFolder.Open(dir.Path);
        Assert.Equal(WeightLayout.PyTorchIndex, folder.Layout);
        using var w = folder.OpenWeights();
        Fixtures.AssertSameTensors(Fixtures.File("sharded_bin.expected.safetensors"), w);
    }

    [Fact]
    public void Missing_shard_is_named()
    {
        using var dir = TempDir.CopyOf(Fixtures.File("sharded_st"));
        File.Delete(dir.File("model-00002-of-00002.safetensors"));
        var e = Assert.Throws<ModelLoadException>(() => ShardedCheckpoint.FromIndex(dir.File("model.safetensors.index.json")));
        Assert.Contains("shard 'model-00002-of-00002.safetensors'", e.Message);
        Assert.Contains("is missing", e.Message);
        Assert.StartsWith(dir.File("model.safetensors.index.json"), e.Message);
    }

    [Fact]
    public void Tensor_listed_in_the_index_but_absent_from_its_shard_is_named()
    {
        using var dir = TempDir.CopyOf(Fixtures.File("sharded_st"));
        string index = dir.File("model.safetensors.index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"weight_map\": {", "\"weight_map\": {\"ghost.weight\": \"model-00001-of-00002.safetensors\","));
        var e = Assert.Throws<ModelLoadException>(() => ShardedCheckpoint.FromIndex(index));
        Assert.Contains("tensor 'ghost.weight' is listed in the index but absent from shard", e.Message);
        Assert.Contains("model-00001-of-00002.safetensors", e.Message);
    }

    [Theory]
    [InlineData("{", "invalid JSON")]
    [InlineData("{\"metadata\": {}}", "no \"weight_map\"")]
    [InlineData("{\"weight_map\": {}}", "weight_map is empty")]
    [InlineData("{\"weight_map\": {\"a\": 3}}", "'a' is not a file name")]
    [InlineData("{\"weight_map\": {\"a\": \"../x.safetensors\"}}", "not a file beside the index")]
    [InlineData("{\"weight_map\": {\"a\": \"/etc/x.safetensors\"}}", "not a file beside the index")]
    public void Bad_index_files_are_refused(string json, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("model.safetensors.index.json"), json);
        var e = Assert.Throws<ModelLoadException>(() => ShardedCheckpoint.FromIndex(dir.File("model.safetensors.index.json")));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(new[] { "model.safetensors.index.json", "model.safetensors", "pytorch_model.bin" }, "SafetensorsIndex", "model.safetensors.index.json")]
    [InlineData(new[] { "model.safetensors", "other.safetensors", "pytorch_model.bin" }, "Safetensors", "model.safetensors")]
    [InlineData(new[] { "weights.safetensors", "pytorch_model.bin.index.json" }, "Safetensors", "weights.safetensors")]
    [InlineData(new[] { "model-00002-of-00002.safetensors", "model-00001-of-00002.safetensors" }, "SafetensorsShards", "model-00001-of-00002.safetensors")]
    [InlineData(new[] { "pytorch_model.bin.index.json", "pytorch_model.bin", "x.pt" }, "PyTorchIndex", "pytorch_model.bin.index.json")]
    [InlineData(new[] { "pytorch_model.bin", "x.pt" }, "PyTorch", "pytorch_model.bin")]
    [InlineData(new[] { "ckpt.pth" }, "PyTorch", "ckpt.pth")]
    public void Weights_are_found_in_precedence_order(string[] files, string layout, string first)
    {
        using var dir = new TempDir();
        foreach (var f in files.Append("config.json").Append("tokenizer.json")) File.WriteAllText(dir.File(f), "");
        var folder = ModelFolder.Open(dir.Path);
        Assert.Equal(layout, folder.Layout.ToString());
        Assert.Equal(first, Path.GetFileName(folder.WeightFiles[0]));
        Assert.Equal(dir.File("config.json"), folder.ConfigPath);
        Assert.Equal(dir.File("tokenizer.json"), folder.TokenizerPath);
        Assert.Null(folder.GenerationConfigPath);
    }

    [Fact]
    public void A_weights_file_can_stand_for_its_folder_and_a_root_selects_a_subtree()
    {
        using var dir = TempDir.CopyOf(Fixtures.File("nested.pt"));
        File.WriteAllText(dir.File("config.json"), "{}");
        File.WriteAllText(dir.File("generation_config.json"), "{}");
        var folder = ModelFolder.Open(dir.File("nested.pt"));
        Assert.Equal(dir.Path, folder.Directory);
        Assert.Equal(dir.File("generation_config.json"), folder.GenerationConfigPath);
        using var w = folder.OpenWeights(root: "model.mlp");
        Assert.Equal(["fc1.bias", "fc1.weight"], w.Names.Order(StringComparer.Ordinal));
        Core.Tensors.Tensor t = Core.Tensors.Tensor.FromArray([1f, 2f], 2);
        Safetensors.SafetensorsWriter.Write(dir.File("model.safetensors"), [new("model.backbone.w", t), new("head", t)]);
        using var st = ModelFolder.Open(dir.Path).OpenWeights(root: "model");
        Assert.Equal(["backbone.w"], st.Names);
        Assert.Equal([1f, 2f], st.Get("backbone.w").ToFloatArray());
        Assert.Contains("no tensors under 'zzz'", Assert.Throws<ModelLoadException>(() =>
            ModelFolder.Open(Fixtures.File("sharded_st"), requireConfig: false).OpenWeights(root: "zzz")).Message);
    }

    [Fact]
    public void Folder_errors_are_clear()
    {
        Assert.Contains("/no/such/dir: no such folder or file", Assert.Throws<ModelLoadException>(() => ModelFolder.Open("/no/such/dir")).Message);
        using var dir = new TempDir();
        File.WriteAllText(dir.File("config.json"), "{}");
        Assert.Contains("no weights found", Assert.Throws<ModelLoadException>(() => ModelFolder.Open(dir.Path)).Message);
        File.WriteAllText(dir.File("a.pt"), ""); File.WriteAllText(dir.File("b.pt"), "");
        Assert.Contains("several weight files (a.pt, b.pt)", Assert.Throws<ModelLoadException>(() => ModelFolder.Open(dir.Path)).Message);
        File.Delete(dir.File("config.json")); File.Delete(dir.File("b.pt"));
        Assert.Contains("no config.json", Assert.Throws<ModelLoadException>(() => ModelFolder.Open(dir.Path)).Message);
        Assert.Null(ModelFolder.Open(dir.Path, requireConfig: false).ConfigPath);
        File.WriteAllText(dir.File("notes.txt"), "");
        Assert.Contains("not a model folder or a known weights file", Assert.Throws<ModelLoadException>(() => ModelFolder.Open(dir.File("notes.txt"))).Message);
    }
}
