// The restricted unpickler: hostile globals refused by name, odd but legal pickles read, and malformed tensor
// descriptions (bad bounds, missing storages, cycles) refused with clear errors. Pickles are built by hand.
using MambaVL.Core.Weights;
using MambaVL.IO.PyTorch;
using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests;

public class PickleTests
{
    [Theory]
    [InlineData("builtins", "eval")]
    [InlineData("__builtin__", "exec")]
    [InlineData("os", "system")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch.storage", "_load_from_bytes")]
    [InlineData("numpy.core.multiarray", "_reconstruct")]
    [InlineData("torch._utils", "_rebuild_qtensor")]
    [InlineData("collections", "defaultdict")]
    public void Globals_off_the_allow_list_are_refused(string module, string name)
    {
        var pickle = new PickleBuilder().Global(module, name).Mark().Str("x").Op('t').Op('R').Stop();
        var e = Assert.Throws<ModelLoadException>(() => new TorchPickle("f.pt").Load(pickle));
        Assert.Equal($"refusing to load global {module}.{name} from f.pt: pickles can run code; only tensors and plain containers are allowed", e.Message);
    }

    [Fact]
    public void Stack_global_is_checked_too()
    {
        var pickle = new PickleBuilder().Str("os").Str("system").Op(0x93).Stop();
        Assert.Contains("refusing to load global os.system", Assert.Throws<ModelLoadException>(() => new TorchPickle("f.pt").Load(pickle)).Message);
    }

    [Theory]
    [InlineData('i', "unsupported pickle opcode 0x69 ('i')")]    // INST: calls a class by name
    [InlineData('o', "unsupported pickle opcode 0x6f ('o')")]    // OBJ
    [InlineData('R', "stack underflow")]
    [InlineData('t', "no MARK")]
    public void Unsupported_or_malformed_opcodes_are_refused(char op, string expected)
    {
        var pickle = new PickleBuilder().Op(op).Stop();
        Assert.Contains(expected, Assert.Throws<ModelLoadException>(() => new TorchPickle("f.pt").Load(pickle)).Message);
    }

    [Fact]
    public void Protocol_4_opcodes_read_like_protocol_2()
    {
        // {"a": [1, -2, 2**70, 0.5, "é", None, True]} with FRAME, SHORT_BINUNICODE, MEMOIZE, BINGET and LONG1
        byte[] p = [0x80, 4, 0x95, .. new byte[8], (byte)'}', 0x94, 0x8c, 1, (byte)'a', 0x94, (byte)']', 0x94, (byte)'(',
            (byte)'K', 1, (byte)'J', 0xfe, 0xff, 0xff, 0xff, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40,
            (byte)'G', 0x3f, 0xe0, 0, 0, 0, 0, 0, 0, 0x8c, 2, 0xc3, 0xa9, (byte)'N', 0x88, (byte)'e',
            (byte)'h', 1, (byte)'0', (byte)'s', (byte)'.'];
        var d = Assert.IsType<Pickle.PyDict>(new TorchPickle("f.pt").Load(p));
        Assert.True(d.TryGet("a", out var list));
        var items = Assert.IsType<Pickle.PyList>(list).Items;
        Assert.Equal(1L, items[0]);
        Assert.Equal(-2L, items[1]);
        Assert.Equal(System.Numerics.BigInteger.Pow(2, 70), items[2]);
        Assert.Equal(0.5, items[3]);
        Assert.Equal("é", items[4]);
        Assert.Null(items[5]);
        Assert.Equal(true, items[6]);
    }

    [Theory]
    [InlineData("FloatStorage", 6, 1, new long[] { 2, 3 }, new long[] { 3, 1 }, "reaches element 6 of storage '0', which has 6")]
    [InlineData("FloatStorage", 6, 0, new long[] { 2, 3 }, new long[] { 3, -1 }, "stride -1")]
    [InlineData("FloatStorage", 6, 0, new long[] { 2, 3 }, new long[] { 3 }, "rank 2 but stride has rank 1")]
    [InlineData("FloatStorage", 6, 0, new long[] { 4294967296L, 4294967296L }, new long[] { 1, 1 }, "dimension 0 has size 4294967296")]
    [InlineData("ShortStorage", 6, 0, new long[] { 6 }, new long[] { 1 }, "storage type torch.ShortStorage is not supported")]
    [InlineData("FloatStorage", 100, 0, new long[] { 100 }, new long[] { 1 }, "storage '0' of tensor 'w' has 24 bytes but needs 400")]
    public void Bad_tensor_descriptions_are_refused(string type, long numel, long offset, long[] size, long[] stride, string expected)
    {
        var pickle = new PickleBuilder().Op('}').Str("w").Tensor(type, "0", numel, offset, size, stride).Op('s').Stop();
        var e = Assert.Throws<ModelLoadException>(() => Checkpoint(pickle, ("archive/data/0", new byte[24])));
        Assert.Contains(expected, e.Message);
    }

    // torch >= 2.3 form: an UntypedStorage (bytes) plus a torch.dtype argument
    [Theory]
    [InlineData("float16", null)]
    [InlineData("uint16", "dtype torch.uint16 is not supported")]
    public void Rebuild_tensor_v3_reads_untyped_storages_as_the_given_dtype(string dtype, string? error)
    {
        var pickle = new PickleBuilder().Op('}').Str("h").Global("torch._utils", "_rebuild_tensor_v3").Mark()
            .Mark().Str("storage").Global("torch", "UntypedStorage").Str("0").Str("cpu").Int(8).Op('t').Op('Q')
            .Int(1).IntTuple([2]).IntTuple([2]).Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R')
            .Global("torch", dtype).Op('t').Op('R').Op('s').Stop();
        byte[] data = [0, 0x3c, 0, 0xc0, 0, 0x40, 0, 0x44];   // F16 1, -2, 2, 4: h = storage[1::2][:2] = [-2, 4]
        using var dir = new TempDir();
        using (var zip = new TestZipWriter(dir.File("v3.pt"), zip64: false)) { zip.Add("archive/data.pkl", pickle); zip.Add("archive/data/0", data); }
        if (error is not null)
        {
            Assert.Contains(error, Assert.Throws<ModelLoadException>(() => new PyTorchCheckpoint(dir.File("v3.pt"))).Message);
            return;
        }
        using var ckpt = new PyTorchCheckpoint(dir.File("v3.pt"));
        Assert.Equal(Core.Tensors.DType.F16, ckpt.Info("h").DType);
        Assert.Equal([-2f, 4f], ckpt.Get("h").ToFloatArray());
    }

    [Fact]
    public void Missing_storage_entry_is_named()
    {
        var pickle = new PickleBuilder().Op('}').Str("w").Tensor("FloatStorage", "7", 1, 0, [1], [1]).Op('s').Stop();
        Assert.Contains("needs storage '7' but the archive has no entry archive/data/7",
            Assert.Throws<ModelLoadException>(() => Checkpoint(pickle)).Message);
    }

    [Fact]
    public void Containers_that_contain_themselves_are_refused()
    {
        // d = {}; d["self"] = d
        var pickle = new PickleBuilder().Op('}').Op('q').Op(0).Str("self").Op('h').Op(0).Op('s').Stop();
        Assert.Contains("contains itself", Assert.Throws<ModelLoadException>(() => Checkpoint(pickle)).Message);
    }

    [Fact]
    public void Exponentially_shared_containers_are_refused_not_walked_forever()
    {
        // L0 = []; L(k+1) = [Lk, Lk] for k < 40: 2^40 paths through 41 objects
        var pickle = new PickleBuilder().Op(']').Op('q').Op(0);
        for (int k = 0; k < 40; k++) pickle.Mark().Op('h').Op(0).Op('h').Op(0).Op('l').Op('q').Op(0);
        var p = pickle.Op('}').Str("x").Op('h').Op(0).Op('s').Stop();
        Assert.Contains("pathological object graph", Assert.Throws<ModelLoadException>(() => Checkpoint(p)).Message);
    }

    [Fact]
    public void Names_that_collide_after_flattening_are_refused()
    {
        var pickle = new PickleBuilder().Op('}').Mark()
            .Str("a.b").Tensor("FloatStorage", "0", 1, 0, [1], [1])
            .Str("a").Op('}').Str("b").Tensor("FloatStorage", "0", 1, 0, [1], [1]).Op('s')
            .Op('u').Stop();
        Assert.Contains("two tensors flatten to the same name 'a.b'",
            Assert.Throws<ModelLoadException>(() => Checkpoint(pickle, ("archive/data/0", new byte[4]))).Message);
    }

    [Fact]
    public void TorchScript_archives_and_plain_zips_are_explained()
    {
        using var dir = new TempDir();
        using (var z = new TestZipWriter(dir.File("s.pt"), zip64: false)) { z.Add("s/constants.pkl", [0x80, 2, (byte)'.']); z.Add("s/code/x.py", []); }
        Assert.Contains("TorchScript archive", Assert.Throws<ModelLoadException>(() => new PyTorchCheckpoint(dir.File("s.pt"))).Message);
        using (var z = new TestZipWriter(dir.File("z.pt"), zip64: false)) z.Add("readme.txt", [1]);
        Assert.Contains("not a torch.save checkpoint", Assert.Throws<ModelLoadException>(() => new PyTorchCheckpoint(dir.File("z.pt"))).Message);
        File.WriteAllBytes(dir.File("r.pt"), [1, 2, 3]);
        Assert.Contains("not a PyTorch checkpoint", Assert.Throws<ModelLoadException>(() => new PyTorchCheckpoint(dir.File("r.pt"))).Message);
    }

    private static void Checkpoint(byte[] pickle, params (string Name, byte[] Data)[] entries)
    {
        using var dir = new TempDir();
        string path = dir.File("c.pt");
        using (var zip = new TestZipWriter(path, zip64: false))
        {
            zip.Add("archive/data.pkl", pickle);
            foreach (var (name, data) in entries) zip.Add(name, data);
        }
        new PyTorchCheckpoint(path).Dispose();
    }
}
