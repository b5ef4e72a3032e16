// Byte buffers behind tensors: aligned native memory, memory-mapped file regions, or (later) device memory.
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace MambaVL.Core.Tensors;

/// <summary>A block of bytes on one device. Several tensors (views) may share one storage.</summary>
public abstract class Storage : IDisposable
{
    public abstract Device Device { get; }
    public abstract long ByteLength { get; }
    public abstract void Dispose();
}

/// <summary>Storage the CPU can address directly.</summary>
public abstract unsafe class CpuStorage : Storage
{
    public override Device Device => Device.Cpu;
    public abstract byte* Pointer { get; }
}

/// <summary>
/// 64-byte aligned native memory (so SIMD loads never split cache lines at the start), zeroed. Freed blocks (Dispose, or
/// the finalizer) go back to <see cref="NativeBlockPool"/> for the next tensor of the same size.
/// </summary>
public sealed unsafe class NativeStorage : CpuStorage
{
    private byte* _ptr;
    private readonly long _bytes;

    public NativeStorage(long bytes)
    {
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes));
        _bytes = bytes;
        _ptr = NativeBlockPool.Rent(bytes);
    }

    /// <summary>
    /// Blocks this large are reported to the GC. Small ones are not: decode makes thousands of KB-sized activations
    /// per token, and reporting each one made the GC run a full collection every few tokens.
    /// </summary>
    public const long PressureThreshold = 1 << 20;

    public override long ByteLength => _bytes;
    public override byte* Pointer => _ptr != null ? _ptr : throw new ObjectDisposedException(nameof(NativeStorage));

    public override void Dispose() { Free(); GC.SuppressFinalize(this); }
    ~NativeStorage() => Free();

    private void Free()
    {
        if (_ptr == null) return;
        NativeBlockPool.Return(_ptr, _bytes);
        _ptr = null;
    }
}

/// <summary>A read-only view of a memory-mapped file region. Keeps the mapping alive while referenced.</summary>
public sealed unsafe class MappedStorage : CpuStorage
{
    private readonly MappedFile _file;
    private readonly long _offset, _length;

    public MappedStorage(MappedFile file, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > file.Length)
            throw new InvalidDataException($"{file.Path}: region [{offset}, {offset + length}) lies outside the file ({file.Length} bytes)");
        (_file, _offset, _length) = (file, offset, length);
    }

    public override long ByteLength => _length;
    public override byte* Pointer => _file.Base + _offset;
    public string Path => _file.Path;
    public override void Dispose() { }  // the MappedFile owns the mapping
}

/// <summary>A whole file mapped read-only. Dispose it when no tensor from it is used any more.</summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _mmf;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;

    public string Path { get; }
    public long Length { get; }

    public MappedFile(string path)
    {
        Path = path;
        Length = new FileInfo(path).Length;
        if (Length == 0) return;  // an empty file cannot be mapped; readers report it as truncated
        _mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
        _base += _view.PointerOffset;
    }

    /// <summary>The mapping's first byte; a tensor that outlives its file gets a clear error instead of a crash.</summary>
    public byte* Base => _base != null || Length == 0 ? _base
        : throw new ObjectDisposedException(Path, $"{Path}: the file was closed while a tensor from it was still in use");

    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
            throw new InvalidDataException($"{Path}: read of {length} bytes at {offset} runs past the end of the file ({Length} bytes)");
        return new ReadOnlySpan<byte>(_base + offset, length);
    }

    public void Dispose()
    {
        if (_view != null && _base != null) { _view.SafeMemoryMappedViewHandle.ReleasePointer(); _base = null; }
        _view?.Dispose();
        _mmf?.Dispose();
    }
}
