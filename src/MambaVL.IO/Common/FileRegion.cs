// Bounds-checked reads from a memory-mapped file: every overrun becomes a ModelLoadException naming the file and
// what was being read, so corrupt or truncated checkpoints never surface as IndexOutOfRange or access violations.
using System.Buffers.Binary;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;

namespace MambaVL.IO.Common;

internal static class FileRegion
{
    /// <summary>The bytes [offset, offset+length) of <paramref name="file"/>, or a clear error about <paramref name="what"/>.</summary>
    public static ReadOnlySpan<byte> Region(MappedFile file, long offset, long length, string what)
    {
        if (offset < 0 || length < 0 || length > int.MaxValue || offset > file.Length - length)
            throw new ModelLoadException(
                $"{file.Path}: truncated or corrupt: {what} at byte {offset} ({length} bytes) lies outside the file ({file.Length} bytes)");
        return file.Span(offset, (int)length);
    }

    public static ushort U16(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);
    public static uint U32(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
    public static ulong U64(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);

    /// <summary>A size or offset read as unsigned 64-bit, refused when it cannot be a position in a file.</summary>
    public static long ToFileOffset(ulong v, string path, string what) => v <= long.MaxValue ? (long)v
        : throw new ModelLoadException($"{path}: corrupt {what} {v}");
}
