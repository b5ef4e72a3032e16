// A minimal zip writer for tests: stored entries, optionally in full ZIP64 form (every size and offset in the ZIP64
// extra field, ZIP64 end records), and holes (sparse regions) so >4 GB archives cost no disk.
using System.Buffers.Binary;
using System.Text;
using MambaVL.IO.PyTorch;

namespace MambaVL.IO.Tests.Support;

internal sealed class TestZipWriter(string path, bool zip64) : IDisposable
{
    private readonly FileStream _fs = new(path, FileMode.Create, FileAccess.ReadWrite);
    private readonly List<(string Name, long Size, uint Crc, long LocalOffset)> _entries = [];

    /// <summary>Leaves <paramref name="bytes"/> unwritten bytes (a hole in a sparse file) before the next record.</summary>
    public void Skip(long bytes) => _fs.Seek(bytes, SeekOrigin.Current);

    public unsafe void Add(string name, byte[] data)
    {
        uint crc;
        fixed (byte* p = data) crc = Crc32.Compute(p, data.Length);
        WriteLocalHeader(name, data.Length, crc);
        _fs.Write(data);
    }

    /// <summary>A stored entry of <paramref name="size"/> bytes that are zero (a hole) except <paramref name="tail"/> at its end. CRC left 0.</summary>
    public void AddSparse(string name, long size, byte[] tail)
    {
        WriteLocalHeader(name, size, 0);
        _fs.Seek(size - tail.Length, SeekOrigin.Current);
        _fs.Write(tail);
    }

    private void WriteLocalHeader(string name, long size, uint crc)
    {
        _entries.Add((name, size, crc, _fs.Position));
        var n = Encoding.UTF8.GetBytes(name);
        var h = new byte[30];
        Le32(h, 0, 0x04034b50); Le16(h, 4, 45); Le32(h, 14, crc);
        Le32(h, 18, zip64 ? 0xFFFFFFFF : (uint)size); Le32(h, 22, zip64 ? 0xFFFFFFFF : (uint)size);
        Le16(h, 26, n.Length); Le16(h, 28, zip64 ? 20 : 0);
        _fs.Write(h); _fs.Write(n);
        if (zip64) _fs.Write(Extra(size, size));
    }

    public void Dispose()
    {
        long cdStart = _fs.Position;
        foreach (var (name, size, crc, local) in _entries) WriteCentralHeader(name, size, crc, local);
        long cdSize = _fs.Position - cdStart;
        if (zip64) WriteZip64End(cdStart, cdSize);
        var e = new byte[22];
        Le32(e, 0, 0x06054b50);
        Le16(e, 8, zip64 ? 0xFFFF : _entries.Count); Le16(e, 10, zip64 ? 0xFFFF : _entries.Count);
        Le32(e, 12, zip64 ? 0xFFFFFFFF : (uint)cdSize); Le32(e, 16, zip64 ? 0xFFFFFFFF : (uint)cdStart);
        _fs.Write(e);
        _fs.Dispose();
    }

    private void WriteCentralHeader(string name, long size, uint crc, long local)
    {
        var n = Encoding.UTF8.GetBytes(name);
        var h = new byte[46];
        Le32(h, 0, 0x02014b50); Le16(h, 4, 45); Le16(h, 6, 45); Le32(h, 16, crc);
        Le32(h, 20, zip64 ? 0xFFFFFFFF : (uint)size); Le32(h, 24, zip64 ? 0xFFFFFFFF : (uint)size);
        Le16(h, 28, n.Length); Le16(h, 30, zip64 ? 28 : 0); Le32(h, 42, zip64 ? 0xFFFFFFFF : (uint)local);
        _fs.Write(h); _fs.Write(n);
        if (zip64) _fs.Write(Extra(size, size, local));
    }

    private void WriteZip64End(long cdStart, long cdSize)
    {
        long recordAt = _fs.Position;
        var r = new byte[56];
        Le32(r, 0, 0x06064b50); Le64(r, 4, 44); Le16(r, 12, 45); Le16(r, 14, 45);
        Le64(r, 24, _entries.Count); Le64(r, 32, _entries.Count); Le64(r, 40, cdSize); Le64(r, 48, cdStart);
        _fs.Write(r);
        var l = new byte[20];
        Le32(l, 0, 0x07064b50); Le64(l, 8, recordAt); Le32(l, 16, 1);
        _fs.Write(l);
    }

    private static byte[] Extra(params long[] fields)
    {
        var x = new byte[4 + 8 * fields.Length];
        Le16(x, 0, 1); Le16(x, 2, 8 * fields.Length);
        for (int i = 0; i < fields.Length; i++) Le64(x, 4 + 8 * i, fields[i]);
        return x;
    }

    private static void Le16(byte[] b, int at, int v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), (ushort)v);
    private static void Le32(byte[] b, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
    private static void Le64(byte[] b, int at, long v) => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(at), v);
}
