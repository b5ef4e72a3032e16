// torch.save fixtures (made by tools/reference/io/make_io_fixtures.py with torch 1.13) read back exactly, views
// zero-copy, shared storages shared, and hostile or legacy files refused with clear messages.
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.PyTorch;
using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests;

public class PyTorchCheckpointTests
{
    [Theory]
    [InlineData("flat")]      // every dtype, a 0-d scalar and an empty tensor
    [InlineData("nested")]    // {"model": {"llm_backbone": {...}, "mlp": OrderedDict}} plus non-tensor values
    [InlineData("views")]     // shared storage, offsets, transposes, slices, stride 0
    [InlineData("module")]    // nn.Module.state_dict(): OrderedDict with _metadata, BatchNorm buffers
    [InlineData("params")]    // nn.Parameter values (_rebuild_parameter)
    public void Fixture_matches_torch_values_exactly(string name)
    {
        using var ckpt = new PyTorchCheckpoint(Fixtures.File(name + ".pt"));
        Fixtures.AssertSameTensors(Fixtures.File(name + ".expected.safetensors"), ckpt);
    }

    [Fact]
    public void Deflated_entries_read_like_stored_ones()
    {
        using var ckpt = new PyTorchCheckpoint(Fixtures.File("deflated.pt"));
        Fixtures.AssertSameTensors(Fixtures.File("flat.expected.safetensors"), ckpt);
    }

    [Fact]
    public void Contiguous_tensors_are_views_of_the_file_and_tied_weights_share_storage()
    {
        using var ckpt = new PyTorchCheckpoint(Fixtures.File("views.pt"));
        var embed = ckpt.Get("embed.weight");
        var head = ckpt.Get("lm_head.weight");
        Assert.IsType<MappedStorage>(embed.Storage);
        Assert.Same(embed.Storage, head.Storage);
        var rows = ckpt.Get("rows");  // base[1:3]: a view at storage offset 6
        Assert.Same(ckpt.Get("base").Storage, rows.Storage);
        Assert.Equal(6, rows.Offset);
        Assert.IsNotType<MappedStorage>(ckpt.Get("transposed").Storage);  // non-contiguous: copied
    }

    [Fact]
    public void Nested_values_flatten_to_dotted_names_and_a_root_selects_a_subtree()
    {
        using (var all = new PyTorchCheckpoint(Fixtures.File("nested.pt")))
            Assert.Contains("model.llm_backbone.layers.0.w", all.Names);
        using var model = new PyTorchCheckpoint(Fixtures.File("nested.pt"), root: "model.llm_backbone");
        Assert.Equal(["embed.weight", "layers.0.w"], model.Names.Order(StringComparer.Ordinal));
        using var expected = new Safetensors.SafetensorsFile(Fixtures.File("nested.expected.safetensors"));
        Assert.Equal(Fixtures.Bytes(expected.Get("model.llm_backbone.embed.weight")), Fixtures.Bytes(model.Get("embed.weight")));
        var e = Assert.Throws<ModelLoadException>(() => new PyTorchCheckpoint(Fixtures.File("nested.pt"), root: "modle"));
        Assert.Contains("no tensors under 'modle'", e.Message);
        Assert.Contains("model", e.Message);
    }

    [Fact]
    public void Malicious_pickle_is_refused_without_running_it()
    {
        string marker = "/tmp/mambavl-pwned";
        File.Delete(marker);
        string path = Fixtures.File("malicious.pt");
        var e = Assert.Throws<ModelLoadException>(() => new PyTorchCheckpoint(path));
        Assert.Equal($"refusing to load global posix.system from {path}: pickles can run code; only tensors and plain containers are allowed", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Legacy_format_is_refused_with_advice()
    {
        var e = Assert.Throws<ModelLoadException>(() => new PyTorchCheckpoint(Fixtures.File("legacy.pt")));
        Assert.Contains("legacy PyTorch format", e.Message);
        Assert.Contains("re-save", e.Message);
    }

    [Fact]
    public void Missing_file_and_missing_tensor_are_named()
    {
        var e = Assert.Throws<ModelLoadException>(() => new PyTorchCheckpoint("/nonexistent/x.pt"));
        Assert.Contains("/nonexistent/x.pt: file not found", e.Message);
        using var ckpt = new PyTorchCheckpoint(Fixtures.File("flat.pt"));
        e = Assert.Throws<ModelLoadException>(() => ckpt.Get("nope"));
        Assert.Contains("missing tensor 'nope'", e.Message);
        Assert.Contains("flat.pt", e.Message);
    }
}
