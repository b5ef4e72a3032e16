// Zip archive reader for PyTorch checkpoints, on a memory-mapped file. A zip ends with an end-of-central-directory
// record (ZIP64 adds a locator and a 64-bit record before it) that points at the central directory: one header per
// entry with sizes, method and the offset of the entry's local header, after which its bytes follow. ZIP64 moves
// sizes/offsets above 4 GB into an extra field (id 0x0001). torch stores entries uncompressed, 64-byte aligned.
using System.IO.Compression;
using System.Text;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using static MambaVL.IO.Common.FileRegion;

namespace MambaVL.IO.PyTorch;

/// <summary>One archive member. <see cref="DataOffset"/> is where its (possibly compressed) bytes start in the file.</summary>
public sealed record ZipEntry(string Name, int Method, long CompressedSize, long UncompressedSize, long DataOffset, uint Crc32)
{
    public const int Stored = 0, Deflated = 8;
}

public static class ZipDirectory
{
    private const uint EocdSig = 0x06054b50, Zip64LocatorSig = 0x07064b50, Zip64EocdSig = 0x06064b50;
    private const uint CentralSig = 0x02014b50, LocalSig = 0x04034b50;
    private const int EocdSize = 22, LocatorSize = 20, Zip64EocdSize = 56, CentralSize = 46, LocalSize = 30;

    /// <summary>True when the file ends with a zip end-of-central-directory record.</summary>
    public static bool LooksLikeZip(MappedFile file) => FindEocd(file) >= 0;

    /// <summary>Every entry of the archive by name; a clear error for anything malformed or unsupported.</summary>
    public static Dictionary<string, ZipEntry> Read(MappedFile file)
    {
        long eocd = FindEocd(file);
        if (eocd < 0) throw new ModelLoadException($"{file.Path}: not a zip archive (no end-of-central-directory record)");
        var (count, cdOffset, cdSize) = ReadDirectoryLocation(file, eocd);
        if (count > cdSize / CentralSize)
            throw new ModelLoadException($"{file.Path}: corrupt zip: {count} entries cannot fit in a {cdSize}-byte central directory");
        var entries = new Dictionary<string, ZipEntry>(StringComparer.Ordinal);
        long at = cdOffset;
        for (long i = 0; i < count; i++)
        {
            var entry = ReadCentralHeader(file, ref at);
            if (!entries.TryAdd(entry.Name, entry))
                throw new ModelLoadException($"{file.Path}: corrupt zip: entry '{entry.Name}' appears twice");
        }
        return entries;
    }

    /// <summary>The uncompressed bytes of a small entry (a pickle, a version file).</summary>
    public static byte[] ReadAllBytes(MappedFile file, ZipEntry e)
    {
        if (e.UncompressedSize > int.MaxValue)
            throw new ModelLoadException($"{file.Path}: entry '{e.Name}' is too large to read into memory ({e.UncompressedSize} bytes)");
        var bytes = new byte[e.UncompressedSize];
        unsafe { fixed (byte* p = bytes) Extract(file, e, p); }
        return bytes;
    }

    /// <summary>Writes the entry's uncompressed bytes to <paramref name="destination"/> (UncompressedSize bytes), checking the CRC.</summary>
    public static unsafe void Extract(MappedFile file, ZipEntry e, byte* destination)
    {
        if (e.Method == ZipEntry.Stored && e.UncompressedSize <= int.MaxValue)
        {
            Region(file, e.DataOffset, e.CompressedSize, $"data of entry '{e.Name}'").CopyTo(new Span<byte>(destination, (int)e.UncompressedSize));
            return;
        }
        byte empty = 0;
        if (destination == null) destination = &empty;  // an empty entry (fixed over an empty array gives null)
        using var source = new UnmanagedMemoryStream(file.Base + e.DataOffset, e.CompressedSize);
        using var inflater = e.Method == ZipEntry.Deflated ? new DeflateStream(source, CompressionMode.Decompress) : (Stream)source;
        using var output = new UnmanagedMemoryStream(destination, 0, e.UncompressedSize, FileAccess.Write);
        try
        {
            inflater.CopyTo(output);
            if (output.Position != e.UncompressedSize || inflater.ReadByte() >= 0)
                throw new InvalidDataException("size differs from the directory");
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or IOException)
        {
            throw new ModelLoadException($"{file.Path}: corrupt compressed entry '{e.Name}': {ex.Message}", ex);
        }
        if (e.Method == ZipEntry.Deflated && Crc32.Compute(destination, e.UncompressedSize) != e.Crc32)
            throw new ModelLoadException($"{file.Path}: corrupt compressed entry '{e.Name}': CRC mismatch");
    }

    // The EOCD is the last 22 bytes unless an archive comment (<= 65535 bytes) follows it.
    private static long FindEocd(MappedFile file)
    {
        long last = file.Length - EocdSize;
        for (long at = last; at >= 0 && at >= last - ushort.MaxValue; at--)
        {
            var s = file.Span(at, EocdSize);
            if (U32(s, 0) == EocdSig && at + EocdSize + U16(s, 20) == file.Length) return at;
        }
        return -1;
    }

    private static (long Count, long Offset, long Size) ReadDirectoryLocation(MappedFile file, long eocd)
    {
        var s = Region(file, eocd, EocdSize, "end-of-central-directory record");
        if (U16(s, 4) != 0 || U16(s, 6) != 0)
            throw new ModelLoadException($"{file.Path}: multi-part (spanned) zip archives are not supported");
        long count = U16(s, 10), size = U32(s, 12), offset = U32(s, 16);
        bool needs64 = count == 0xFFFF || size == 0xFFFFFFFF || offset == 0xFFFFFFFF;
        if (eocd >= LocatorSize && U32(file.Span(eocd - LocatorSize, 4), 0) == Zip64LocatorSig)
            (count, offset, size) = ReadZip64Record(file, eocd - LocatorSize);
        else if (needs64)
            throw new ModelLoadException($"{file.Path}: corrupt zip: ZIP64 sizes without a ZIP64 locator");
        if (offset < 0 || size < 0 || offset > file.Length - size)
            throw new ModelLoadException($"{file.Path}: truncated or corrupt zip: central directory [{offset}, +{size}) lies outside the file ({file.Length} bytes)");
        return (count, offset, size);
    }

    private static (long Count, long Offset, long Size) ReadZip64Record(MappedFile file, long locator)
    {
        var loc = Region(file, locator, LocatorSize, "ZIP64 locator");
        long recordAt = ToFileOffset(U64(loc, 8), file.Path, "ZIP64 record offset");
        var r = Region(file, recordAt, Zip64EocdSize, "ZIP64 end-of-central-directory record");
        if (U32(r, 0) != Zip64EocdSig)
            throw new ModelLoadException($"{file.Path}: corrupt zip: no ZIP64 end-of-central-directory record at byte {recordAt}");
        if (U32(r, 16) != 0 || U32(r, 20) != 0)
            throw new ModelLoadException($"{file.Path}: multi-part (spanned) zip archives are not supported");
        return (ToFileOffset(U64(r, 32), file.Path, "entry count"), ToFileOffset(U64(r, 48), file.Path, "central directory offset"),
                ToFileOffset(U64(r, 40), file.Path, "central directory size"));
    }

    private static ZipEntry ReadCentralHeader(MappedFile file, ref long at)
    {
        var h = Region(file, at, CentralSize, "central directory header");
        if (U32(h, 0) != CentralSig) throw new ModelLoadException($"{file.Path}: corrupt zip: bad central directory header at byte {at}");
        int flags = U16(h, 8), method = U16(h, 10), nameLen = U16(h, 28), extraLen = U16(h, 30), commentLen = U16(h, 32);
        uint crc = U32(h, 16);
        long compressed = U32(h, 20), uncompressed = U32(h, 24), local = U32(h, 42);
        string name = DecodeName(file, Region(file, at + CentralSize, nameLen, "entry name"));
        var extra = Region(file, at + CentralSize + nameLen, extraLen, $"extra field of '{name}'");
        ApplyZip64Extra(file, name, extra, ref uncompressed, ref compressed, ref local);
        at += CentralSize + nameLen + extraLen + commentLen;

        if ((flags & 1) != 0) throw new ModelLoadException($"{file.Path}: entry '{name}' is encrypted");
        if (method is not (ZipEntry.Stored or ZipEntry.Deflated))
            throw new ModelLoadException($"{file.Path}: entry '{name}' uses compression method {method}; only stored (0) and deflate (8) are supported");
        if (method == ZipEntry.Stored && compressed != uncompressed)
            throw new ModelLoadException($"{file.Path}: corrupt zip: stored entry '{name}' has sizes {compressed} and {uncompressed}");
        // deflate expands at most ~1032:1; a larger claim is corruption (and must not drive a huge allocation)
        if (method == ZipEntry.Deflated && uncompressed / 1032 > compressed + 1)
            throw new ModelLoadException($"{file.Path}: corrupt zip: entry '{name}' claims {uncompressed} bytes from {compressed} compressed");
        long data = LocalDataOffset(file, name, local);
        if (data > file.Length - compressed)
            throw new ModelLoadException($"{file.Path}: truncated or corrupt: data of entry '{name}' ({compressed} bytes at {data}) runs past the end of the file ({file.Length} bytes)");
        return new ZipEntry(name, method, compressed, uncompressed, data, crc);
    }

    // The ZIP64 extra holds, in this order, only the fields whose 32-bit header value is 0xFFFFFFFF.
    private static void ApplyZip64Extra(MappedFile file, string name, ReadOnlySpan<byte> extra, ref long uncompressed, ref long compressed, ref long local)
    {
        for (int p = 0; p + 4 <= extra.Length;)
        {
            int id = U16(extra, p), len = U16(extra, p + 2);
            if (p + 4 + len > extra.Length) throw new ModelLoadException($"{file.Path}: corrupt zip: extra field of '{name}' overruns");
            if (id == 1)
            {
                var z = extra.Slice(p + 4, len);
                int q = 0;
                Take(ref uncompressed, z, ref q, file, name);
                Take(ref compressed, z, ref q, file, name);
                Take(ref local, z, ref q, file, name);
            }
            p += 4 + len;
        }
        if (uncompressed == 0xFFFFFFFF || compressed == 0xFFFFFFFF || local == 0xFFFFFFFF)
            throw new ModelLoadException($"{file.Path}: corrupt zip: entry '{name}' lacks its ZIP64 sizes");
    }

    private static void Take(ref long field, ReadOnlySpan<byte> z, ref int q, MappedFile file, string name)
    {
        if (field != 0xFFFFFFFF) return;
        if (q + 8 > z.Length) throw new ModelLoadException($"{file.Path}: corrupt zip: short ZIP64 extra field in '{name}'");
        field = ToFileOffset(U64(z, q), file.Path, $"ZIP64 size of '{name}'");
        q += 8;
    }

    // The local header repeats name and extra (with different lengths: torch pads its local extra for alignment).
    private static long LocalDataOffset(MappedFile file, string name, long local)
    {
        var h = Region(file, local, LocalSize, $"local header of '{name}'");
        if (U32(h, 0) != LocalSig) throw new ModelLoadException($"{file.Path}: corrupt zip: bad local header for '{name}' at byte {local}");
        return local + LocalSize + U16(h, 26) + U16(h, 28);
    }

    private static string DecodeName(MappedFile file, ReadOnlySpan<byte> bytes)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { throw new ModelLoadException($"{file.Path}: corrupt zip: an entry name is not valid UTF-8"); }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);
}

/// <summary>CRC-32 (IEEE, as zip and PNG use), for checking decompressed entries and PNG chunks.</summary>
internal static class Crc32
{
    // Slicing-by-8: Tables[k][b] is the CRC of byte b followed by k zero bytes, so 8 input bytes take 8 independent
    // lookups instead of a chain of 8 dependent ones (several times faster than one table).
    private static readonly uint[][] Tables = BuildTables();

    public static unsafe uint Compute(byte* p, long length)
    {
        uint c = 0xFFFFFFFF;
        uint[] t0 = Tables[0], t1 = Tables[1], t2 = Tables[2], t3 = Tables[3], t4 = Tables[4], t5 = Tables[5], t6 = Tables[6], t7 = Tables[7];
        long i = 0;
        for (; i + 8 <= length; i += 8)
        {
            uint lo = c ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(p + i, 4));
            uint hi = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(p + i + 4, 4));
            c = t7[lo & 0xFF] ^ t6[(lo >> 8) & 0xFF] ^ t5[(lo >> 16) & 0xFF] ^ t4[lo >> 24]
              ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24];
        }
        for (; i < length; i++) c = t0[(c ^ p[i]) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    private static uint[][] BuildTables()
    {
        var t = new uint[8][];
        for (int k = 0; k < 8; k++) t[k] = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            t[0][n] = c;
        }
        for (int k = 1; k < 8; k++)
            for (int n = 0; n < 256; n++) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xFF];
        return t;
    }
}
