// ZIP64 checkpoints over 4 GB, written as sparse files (holes take no disk) by the test's own zip writer:
// entries and the central directory beyond the 4 GB offset, and a storage entry larger than 4 GB.
using MambaVL.Core.Tensors;
using MambaVL.IO.PyTorch;
using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests;

public class Zip64Tests
{
    private const long FourGB = 1L << 32;

    [Fact]
    public void Entries_and_directory_beyond_4GB_are_found()
    {
        using var dir = new TempDir();
        string path = dir.File("far.pt");
        var pickle = new PickleBuilder().Op('}').Mark()
            .Str("w").Tensor("FloatStorage", "0", 6, 0, [2, 3], [1, 2])   // a transposed view
            .Str("v").Tensor("LongStorage", "1", 3, 0, [3], [1])
            .Op('u').Stop();
        float[] w = [1.5f, -2f, 3f, 0.25f, 1e20f, -7f];
        long[] v = [long.MinValue, 5, long.MaxValue];
        using (var zip = new TestZipWriter(path, zip64: true))
        {
            zip.Add("archive/data.pkl", pickle);
            zip.Add("archive/version", "3\n"u8.ToArray());
            zip.Skip(FourGB + 12345);
            zip.Add("archive/data/0", w.SelectMany(BitConverter.GetBytes).ToArray());
            zip.Add("archive/data/1", v.SelectMany(BitConverter.GetBytes).ToArray());
        }
        Assert.True(new FileInfo(path).Length > FourGB);
        using var ckpt = new PyTorchCheckpoint(path);
        // w viewed as (2, 3) with strides (1, 2): element [i, j] = storage[i + 2j]
        Assert.Equal([w[0], w[2], w[4], w[1], w[3], w[5]], ckpt.Get("w").ToFloatArray());
        var got = ckpt.Get("v");
        Assert.IsType<MappedStorage>(got.Storage);
        Assert.Equal(v, got.Span<long>().ToArray());
    }

    [Fact]
    public unsafe void A_storage_larger_than_4GB_is_a_zero_copy_view()
    {
        using var dir = new TempDir();
        string path = dir.File("huge.pt");
        const long numel = FourGB + 1000;   // bytes of a ByteStorage: needs the ZIP64 size fields and LONG1 offsets
        var pickle = new PickleBuilder().Op('}').Mark()
            .Str("tail").Tensor("ByteStorage", "0", numel, numel - 8, [2, 4], [4, 1])
            .Str("head").Tensor("ByteStorage", "0", numel, 0, [4], [1])
            .Str("f").Tensor("HalfStorage", "1", 2, 0, [2], [1])
            .Op('u').Stop();
        byte[] tail = [1, 2, 3, 4, 250, 251, 252, 253];
        using (var zip = new TestZipWriter(path, zip64: true))
        {
            zip.Add("archive/data.pkl", pickle);
            zip.AddSparse("archive/data/0", numel, tail);
            zip.Add("archive/data/1", [0x00, 0x3c, 0x00, 0xc0]);   // F16 1.0, -2.0
        }
        using var ckpt = new PyTorchCheckpoint(path);
        var t = ckpt.Get("tail");
        Assert.Equal(numel - 8, t.Offset);
        Assert.Equal(tail, t.Span<byte>().ToArray());
        Assert.Same(t.Storage, ckpt.Get("head").Storage);
        Assert.Equal(numel, t.Storage.ByteLength);
        Assert.Equal([0, 0, 0, 0], ckpt.Get("head").Span<byte>().ToArray());
        Assert.Equal([1f, -2f], ckpt.Get("f").ToFloatArray());
    }
}
