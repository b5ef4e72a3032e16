// safetensors: values written by numpy (tools/reference/st.py) read back exactly and zero-copy; every kind of
// malformed header refused with a message naming the file; the writer round-trips; files over 2 GB work by pointer.
using System.Text;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.Safetensors;
using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests;

public class SafetensorsTests
{
    [Fact]
    public void Reads_every_dtype_as_torch_wrote_it()
    {
        using var st = new SafetensorsFile(Fixtures.File("single.safetensors"));
        using var torch = new PyTorch.PyTorchCheckpoint(Fixtures.File("flat.pt"));
        foreach (var name in torch.Names.Where(n => n != "f64"))
        {
            var t = st.Get(name);
            Assert.IsType<MappedStorage>(t.Storage);
            Assert.Equal(torch.Info(name).DType, t.DType);
            Assert.Equal(torch.Info(name).Shape, t.ShapeArray);
            Assert.Equal(Fixtures.Bytes(torch.Get(name)), Fixtures.Bytes(t));
        }
        Assert.Equal("pt", st.Metadata["format"]);
        // the literal values in make_io_fixtures.py
        Assert.Equal([-(1L << 40), -1, 0, 7, 1L << 62], st.Get("i64").Span<long>().ToArray());
        Assert.Equal([0, 1, 200, 255], st.Get("u8").Span<byte>().ToArray());
        Assert.Equal([1, 0, 1, 1, 0], st.Get("bool").Span<byte>().ToArray());
        Assert.Equal([2.5f], st.Get("scalar").ToFloatArray());
        Assert.Equal([0, 4], st.Info("empty").Shape);
    }

    [Fact]
    public void Writer_round_trips_and_leaves_no_partial_file()
    {
        using var dir = new TempDir();
        var a = Tensor.FromArray([1f, -2f, 3.5f, 1e-30f, float.MaxValue, 0f], 2, 3);
        var b = Tensor.FromArray([0x3f80, 0xc000], DType.BF16, 2);
        string path = dir.File("w.safetensors");
        SafetensorsWriter.Write(path, [new("a", a), new("b", b)], new Dictionary<string, string> { ["k"] = "v" });
        using (var st = new SafetensorsFile(path))
        {
            Assert.Equal(a.ToFloatArray(), st.Get("a").ToFloatArray());
            Assert.Equal([1f, -2f], st.Get("b").ToFloatArray());
            Assert.Equal("v", st.Metadata["k"]);
        }
        Assert.False(File.Exists(path + ".partial"));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(dir.File("d.safetensors"), [new("a", a), new("a", b)]));
    }

    public static TheoryData<string, byte[], string> BadHeaders => new()
    {
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12], "overlaps tensor 'a'" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8], "gap of 4 bytes before tensor 'a'" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[8], "4 bytes after the last tensor" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", new byte[8], "end before they begin" },
        { """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", new byte[8], "truncated: tensor 'a'" },
        { """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", new byte[8], "holds 8 bytes but shape [3] F32 needs 12" },
        { """{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", new byte[8], "unknown dtype 'Q4'" },
        { """{"a":{"dtype":"I16","shape":[4],"data_offsets":[0,8]}}""", new byte[8], "dtype I16, which MambaVL does not support" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", new byte[16], "names 'a' twice" },
        { """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", new byte[8], "not a non-negative integer" },
        { """{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}""", new byte[8], "not a non-negative integer" },
        { """{"a":{"dtype":"F32","shape":[3000000000],"data_offsets":[0,8]}}""", new byte[8], "exceeds" },
        { """{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}""", new byte[8], "overflows" },
        { """{"a":{"dtype":"F32","shape":[2]}}""", new byte[8], "'data_offsets' is missing" },
        { """{"a":{"shape":[2],"data_offsets":[0,8]}}""", new byte[8], "no dtype" },
        { """{"a":[1,2]}""", [], "entry is not an object" },
        { """[1,2]""", [], "header is not a JSON object" },
        { """{"a":{"dtype":"F32",""", [], "not valid UTF-8 JSON" },
        { "{\"a\xff\":1}", [], "not valid UTF-8 JSON" },
    };

    [Theory, MemberData(nameof(BadHeaders))]
    public void Malformed_headers_are_refused_clearly(string header, byte[] data, string expected)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        var h = header.Contains('\xff') ? header.Select(c => (byte)c).ToArray() : Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)h.Length), .. h, .. data]);
        var e = Assert.Throws<ModelLoadException>(() => new SafetensorsFile(path));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(path, e.Message);
    }

    [Theory]
    [InlineData(0, "only 0 bytes")]
    [InlineData(5, "only 5 bytes")]
    [InlineData(8, "header length")]          // length field says more than the file holds
    [InlineData(20, "header length")]
    public void Truncated_files_are_refused(int keep, string expected)
    {
        using var dir = new TempDir();
        string path = dir.File("t.safetensors");
        File.WriteAllBytes(path, File.ReadAllBytes(Fixtures.File("single.safetensors"))[..keep]);
        Assert.Contains(expected, Assert.Throws<ModelLoadException>(() => new SafetensorsFile(path)).Message);
    }

    [Fact]
    public void Missing_file_and_tensor_are_named()
    {
        Assert.Contains("/none.safetensors: file not found", Assert.Throws<ModelLoadException>(() => new SafetensorsFile("/none.safetensors")).Message);
        using var st = new SafetensorsFile(Fixtures.File("single.safetensors"));
        Assert.Contains("missing tensor 'nope'", Assert.Throws<ModelLoadException>(() => st.Get("nope")).Message);
    }

    // A 3 GB tensor (more than 2^31 elements) in a sparse file: readable through its pointer, refused as a Span.
    [Fact]
    public unsafe void Files_over_2GB_are_mapped_and_read_by_pointer()
    {
        using var dir = new TempDir();
        string path = dir.File("big.safetensors");
        const int rows = 2, cols = 1_500_000_000;
        const long bytes = (long)rows * cols;
        var header = Encoding.UTF8.GetBytes($$$"""{"big":{"dtype":"U8","shape":[{{{rows}}},{{{cols}}}],"data_offsets":[0,{{{bytes}}}]},"tail":{"dtype":"F32","shape":[2],"data_offsets":[{{{bytes}}},{{{bytes + 8}}}]}}""");
        using (var fs = new FileStream(path, FileMode.Create))
        {
            fs.Write(BitConverter.GetBytes((ulong)header.Length)); fs.Write(header);
            fs.WriteByte(7);                                        // big[0, 0]
            fs.Seek(bytes - 2, SeekOrigin.Current); fs.WriteByte(9); // big[1, cols - 1]
            fs.Write(BitConverter.GetBytes(1.25f)); fs.Write(BitConverter.GetBytes(-3f));
        }
        using var st = new SafetensorsFile(path);
        var big = st.Get("big");
        Assert.Equal(bytes, big.Length);
        byte* p = (byte*)big.DataPointer;
        Assert.Equal(7, p[0]);
        Assert.Equal(9, p[bytes - 1]);
        Assert.Equal(0, p[bytes / 2]);
        Assert.Throws<InvalidOperationException>(() => big.Span<byte>());
        Assert.Equal([1.25f, -3f], st.Get("tail").ToFloatArray());
    }

    [Fact]
    public void A_tensor_used_after_its_file_is_closed_gives_a_clear_error()
    {
        Tensor t;
        using (var f = new SafetensorsFile(Fixtures.File("single.safetensors"))) t = f.Get(f.Names.First());
        var e = Assert.Throws<ObjectDisposedException>(() => t.ToFloatArray());
        Assert.Contains("single.safetensors", e.Message);
    }
}
