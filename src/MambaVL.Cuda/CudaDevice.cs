// One NVIDIA GPU through the driver API: its primary context, what it is (name, architecture, multiprocessors, memory),
// device memory, and the embedded kernels compiled for it. Every call is checked; a machine without a driver or a GPU
// gets a CudaUnavailableException that says what is missing.
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using MambaVL.Cuda.Interop;

namespace MambaVL.Cuda;

public sealed unsafe partial class CudaDevice : IDisposable
{
    private readonly DriverApi _cu;
    private readonly KernelCompiler _compiler;
    private readonly nint _context;
    // every kernel, copy and GEMM goes to this one stream, in order: the pool may hand a freed block to the next op at
    // once, and a stream (unlike the legacy default one) can be recorded into a graph
    private readonly nint _stream;
    private readonly Dictionary<string, nint> _modules = [];
    private readonly Dictionary<(string, string), nint> _functions = [];
    private readonly Dictionary<nint, uint> _sharedOptIn = [];  // dynamic shared bytes each function was allowed past 48 KB
    private readonly Dictionary<(string, string, int, uint), int> _resident = [];   // ResidentBlocks' answers
    // freed blocks by rounded size, reused before asking the driver (decode makes the same sizes every token)
    private readonly Dictionary<long, Stack<ulong>> _pool = [];
    private long _pooledBytes, _liveBytes;
    private bool _disposed;

    public int Index { get; }
    public string Name { get; }
    public int ComputeMajor { get; }
    public int ComputeMinor { get; }
    public int Multiprocessors { get; }
    public long TotalMemory { get; }
    public long L2CacheBytes { get; }

    /// <summary>Shared memory of one multiprocessor (228 KB on Hopper; each resident block also takes 1 KB of it).</summary>
    public long SharedBytesPerMultiprocessor { get; }
    public int DriverVersion { get; }
    public string Architecture => _compiler.Architecture;
    public string NvrtcVersion => _compiler.NvrtcVersion;

    private CudaDevice(int index)
    {
        _cu = new DriverApi();
        int count = 0, version = 0, device = 0;
        int init = _cu.cuInit(0);
        if (init != 0)
            throw new CudaUnavailableException($"CUDA is not available: the driver did not start (cuInit returned {init}; no GPU, or the driver and the kernel module disagree)");
        _cu.Check(_cu.cuDriverGetVersion(&version), "cuDriverGetVersion");
        _cu.Check(_cu.cuDeviceGetCount(&count), "cuDeviceGetCount");
        if (count == 0) throw new CudaUnavailableException("CUDA is not available: the driver sees no GPU");
        if (index < 0 || index >= count) throw new CudaUnavailableException($"there is no CUDA device {index}: the driver sees {count}");
        _cu.Check(_cu.cuDeviceGet(&device, index), "cuDeviceGet");
        var name = stackalloc byte[256];
        _cu.Check(_cu.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        nuint total;
        _cu.Check(_cu.cuDeviceTotalMem(&total, device), "cuDeviceTotalMem");
        (Index, Name, TotalMemory, DriverVersion) = (index, Marshal.PtrToStringUTF8((nint)name)!, (long)total, version);
        ComputeMajor = Attribute(DeviceAttribute.ComputeCapabilityMajor, device);
        ComputeMinor = Attribute(DeviceAttribute.ComputeCapabilityMinor, device);
        Multiprocessors = Attribute(DeviceAttribute.MultiprocessorCount, device);
        L2CacheBytes = Attribute(DeviceAttribute.L2CacheSize, device);
        SharedBytesPerMultiprocessor = Attribute(DeviceAttribute.MaxSharedMemoryPerMultiprocessor, device);
        nint context;
        _cu.Check(_cu.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        _context = context;
        MakeCurrent();
        nint stream;
        _cu.Check(_cu.cuStreamCreate(&stream, 1 /* CU_STREAM_NON_BLOCKING */), "cuStreamCreate");
        _stream = stream;
        _compiler = new KernelCompiler(new NvrtcApi(), ComputeMajor, ComputeMinor);
        LaunchEarlyEnabled = true;
    }

    /// <summary>Opens GPU <paramref name="index"/>; throws <see cref="CudaUnavailableException"/> saying why when it cannot.</summary>
    public static CudaDevice Open(int index = 0) => new(index);

    /// <summary>The device, or null and the reason there is none.</summary>
    public static CudaDevice? TryOpen(out string reason, int index = 0)
    {
        try { reason = ""; return Open(index); }
        catch (CudaUnavailableException e) { reason = e.Message; return null; }
    }

    /// <summary>
    /// Binds this device's context to the calling thread (the driver keeps the current context per thread, and async
    /// generation moves between pool threads): every method that calls the driver does this first.
    /// </summary>
    public void MakeCurrent() => _cu.Check(_cu.cuCtxSetCurrent(_context), "cuCtxSetCurrent");

    private int Attribute(int attribute, int device)
    {
        int value;
        _cu.Check(_cu.cuDeviceGetAttribute(&value, attribute, device), $"cuDeviceGetAttribute({attribute})");
        return value;
    }

    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        nuint free, total;
        _cu.Check(_cu.cuMemGetInfo(&free, &total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }

    /// <summary>One line: name, architecture, multiprocessors, memory, driver and NVRTC versions.</summary>
    public string Describe()
    {
        var (free, total) = MemoryInfo();
        var (live, pooled) = PoolBytes;
        return FormattableString.Invariant(
            $"cuda:{Index} {Name}, {Architecture}, {Multiprocessors} SMs, {total / (double)(1L << 30):0.0} GiB ({free / (double)(1L << 30):0.0} GiB free; MambaVL holds {(live + pooled) >> 20} MiB, {pooled >> 20} MiB pooled), L2 {L2CacheBytes >> 20} MiB, driver {DriverVersion / 1000}.{DriverVersion % 1000 / 10}, NVRTC {NvrtcVersion}");
    }

    /// <summary>Device to device, <paramref name="bytes"/> from <paramref name="source"/> to <paramref name="destination"/> (addresses).</summary>
    public void Copy(ulong source, ulong destination, long bytes)
    {
        MakeCurrent();
        _cu.Check(_cu.cuMemcpyDtoDAsync(destination, source, (nuint)bytes, _stream), "cuMemcpyDtoDAsync");
    }

    /// <summary>Host bytes to a device address, in stream order; the span may be reused as soon as this returns.</summary>
    public void Write(ulong destination, ReadOnlySpan<byte> bytes)
    {
        MakeCurrent();
        ThrowIfRecording("a copy from host memory");
        // from pageable memory the driver stages the bytes before it returns
        fixed (byte* b = bytes) _cu.Check(_cu.cuMemcpyHtoDAsync(destination, b, (nuint)bytes.Length, _stream), "cuMemcpyHtoDAsync");
    }

    /// <summary>Device bytes at an address to host memory.</summary>
    public void Read(ulong source, Span<byte> bytes)
    {
        MakeCurrent();
        ThrowIfRecording("a copy to host memory");
        fixed (byte* b = bytes) _cu.Check(_cu.cuMemcpyDtoHAsync(b, source, (nuint)bytes.Length, _stream), "cuMemcpyDtoHAsync");
        _cu.Check(_cu.cuStreamSynchronize(_stream), "cuStreamSynchronize");
    }

    /// <summary>Zeroes <paramref name="bytes"/> at an address.</summary>
    public void Clear(ulong destination, long bytes)
    {
        MakeCurrent();
        _cu.Check(_cu.cuMemsetD8Async(destination, 0, (nuint)bytes, _stream), "cuMemsetD8Async");
    }

    /// <summary>Device memory for <paramref name="bytes"/>: a pooled block of the same rounded size, else a new one.</summary>
    public DeviceBuffer Allocate(long bytes)
    {
        MakeCurrent();  // callers go on to copy into it, maybe from a thread the context was never current on
        long size = PoolSize(bytes);
        lock (_pool)
        {
            if (_pool.TryGetValue(size, out var free) && free.Count > 0)
            {
                (_pooledBytes, _liveBytes) = (_pooledBytes - size, _liveBytes + size);
                return new DeviceBuffer(this, Recorded(free.Pop(), size), bytes);
            }
        }
        MakeCurrent();
        ulong ptr;
        int result = _cu.cuMemAlloc(&ptr, (nuint)size);
        if (result == 2)  // CUDA_ERROR_OUT_OF_MEMORY: give the pooled blocks back to the driver and try once more
        {
            TrimPool();
            result = _cu.cuMemAlloc(&ptr, (nuint)size);
            if (result == 2)
                throw new CudaException("cuMemAlloc", result, $"out of GPU memory: {bytes >> 20} MiB asked, {MemoryInfo().Free >> 20} MiB free on {Name}");
        }
        _cu.Check(result, "cuMemAlloc");
        lock (_pool) _liveBytes += size;
        return new DeviceBuffer(this, Recorded(ptr, size), bytes);
    }

    /// <summary>Bytes held by live buffers and by freed blocks kept for reuse.</summary>
    public (long Live, long Pooled) PoolBytes { get { lock (_pool) return (_liveBytes, _pooledBytes); } }

    /// <summary>Returns every pooled block to the driver.</summary>
    public void TrimPool()
    {
        Synchronize();  // queued kernels may still use blocks freed on the host since
        lock (_pool)
        {
            foreach (var (_, blocks) in _pool)
                while (blocks.Count > 0) _cu.cuMemFree(blocks.Pop());
            _pooledBytes = 0;
        }
    }

    // 256-byte granules up to 1 MiB, then 1/8 steps of the power of two: a few sizes, little waste
    internal static long PoolSize(long bytes)
    {
        bytes = Math.Max(bytes, 1);
        if (bytes <= 1 << 20) return (bytes + 255) & ~255L;
        long step = (long)BitOperations.RoundUpToPowerOf2((ulong)bytes) / 8;
        return (bytes + step - 1) / step * step;
    }

    /// <summary>Host bytes to a new buffer (e.g. token ids).</summary>
    public DeviceBuffer UploadBytes(ReadOnlySpan<byte> bytes)
    {
        var buffer = Allocate(bytes.Length);
        Write(buffer.Pointer, bytes);
        return buffer;
    }

    /// <summary>Grid-stride launch size for <paramref name="n"/> elements: enough blocks of 256 to fill the GPU, no more than needed.</summary>
    public uint Blocks(long n) => (uint)Math.Max(1, Math.Min((n + 255) / 256, Multiprocessors * 8L));

    /// <summary>A buffer's block goes back to the pool (any thread, the finalizer's too).</summary>
    internal void Free(ulong pointer, long bytes)
    {
        if (_disposed) return;  // the context is gone, and the memory with it
        long size = PoolSize(bytes);
        lock (_pool)
        {
            if (ReturnToGraph(pointer, size)) return;
            if (!_pool.TryGetValue(size, out var free)) _pool[size] = free = new Stack<ulong>();
            free.Push(pointer);
            (_pooledBytes, _liveBytes) = (_pooledBytes + size, _liveBytes - size);
        }
    }

    /// <summary>Waits for the device's queued work; a kernel's fault surfaces here.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        ThrowIfRecording("waiting for the device");
        _cu.Check(_cu.cuStreamSynchronize(_stream), "cuStreamSynchronize");
    }

    /// <summary>
    /// Launches <paramref name="function"/> of the embedded source <paramref name="source"/> (Kernels/SOURCE.cu) on a grid of
    /// blocks; <paramref name="args"/> are device buffers, addresses (ulong), ints, longs, floats and structs passed by
    /// value (their bytes, laid out as the kernel declares them), in the kernel's parameter order.
    /// </summary>
    public void Launch(string source, string function, (uint X, uint Y) grid, uint block, uint sharedBytes, params object[] args)
        => Launch(source, function, grid, block, sharedBytes, early: false, args);

    /// <summary>
    /// As <see cref="Launch(string, string, (uint X, uint Y), uint, uint, object[])"/>, but the kernel may start while the
    /// one before it still runs (programmatic dependent launch, Hopper on): for kernels that call pdl_wait() (common.cuh)
    /// before reading anything but weights and before any write. Hides a launch and its ramp behind the kernel before:
    /// what the decode's small kernels lose most of their time to. A normal launch where the device or driver lacks it
    /// or <see cref="LaunchEarlyEnabled"/> is off.
    /// </summary>
    public void LaunchEarly(string source, string function, (uint X, uint Y) grid, uint block, uint sharedBytes, params object[] args)
        => Launch(source, function, grid, block, sharedBytes, early: LaunchEarlyEnabled, args);

    /// <summary>
    /// As <see cref="Launch(string, string, (uint X, uint Y), uint, uint, object[])"/> for a kernel with grid-wide
    /// barriers: the driver starts every block at once or fails the launch (a block left waiting would hang the others).
    /// A plain launch where the driver lacks cuLaunchKernelEx (the caller has checked that the grid fits at once).
    /// </summary>
    public void LaunchCooperative(string source, string function, (uint X, uint Y) grid, uint block, uint sharedBytes, params object[] args)
        => Launch(source, function, grid, block, sharedBytes, early: false, args, cooperative: _cu.cuLaunchKernelEx != null);

    /// <summary>Whether <see cref="LaunchEarly"/> launches early (on by default where supported; off to compare).</summary>
    public bool LaunchEarlyEnabled
    {
        get => _launchEarly;
        set => _launchEarly = value && ComputeMajor >= 9 && _cu.cuLaunchKernelEx != null;
    }

    private bool _launchEarly;

    private void Launch(string source, string function, (uint X, uint Y) grid, uint block, uint sharedBytes, bool early, object[] args,
        bool cooperative = false)
    {
        MakeCurrent();
        nint f = Function(source, function);
        if (sharedBytes > DefaultSharedBytes) AllowShared(f, function, sharedBytes);
        var storage = stackalloc ulong[args.Length];
        var pointers = stackalloc void*[args.Length];
        var pinned = new List<GCHandle>();
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] is byte[] blob)
                {
                    var handle = GCHandle.Alloc(blob, GCHandleType.Pinned);
                    pinned.Add(handle);
                    pointers[i] = (void*)handle.AddrOfPinnedObject();
                    continue;
                }
                storage[i] = Scalar(args[i], i, function);
                pointers[i] = &storage[i];
            }
            if (!early && !cooperative)
            {
                _cu.Check(_cu.cuLaunchKernel(f, grid.X, grid.Y, 1, block, 1, 1, sharedBytes, _stream, pointers, null), $"cuLaunchKernel({function})");
                return;
            }
            var attribute = new LaunchAttribute { Id = early ? LaunchAttribute.ProgrammaticStreamSerialization : LaunchAttribute.Cooperative, Value = 1 };
            var config = new LaunchConfig
            {
                GridX = grid.X, GridY = grid.Y, GridZ = 1, BlockX = block, BlockY = 1, BlockZ = 1, SharedBytes = sharedBytes,
                Stream = _stream, Attributes = &attribute, AttributeCount = 1,
            };
            _cu.Check(_cu.cuLaunchKernelEx(&config, f, pointers, null), $"cuLaunchKernelEx({function})");
        }
        finally { foreach (var h in pinned) h.Free(); }
    }

    /// <summary>How many blocks of <paramref name="threads"/> of a kernel fit on one multiprocessor at once (its registers decide; at least 1).</summary>
    public int BlocksPerMultiprocessor(string source, string function, int threads) => Math.Max(ResidentBlocks(source, function, threads, 0), 1);

    /// <summary>
    /// How many blocks of <paramref name="threads"/> with <paramref name="sharedBytes"/> of dynamic shared memory fit on one
    /// multiprocessor at once (0: none), the shared memory opted in first as a launch would. Asked of the driver once per
    /// question: the launch planners ask it at every decode step.
    /// </summary>
    public int ResidentBlocks(string source, string function, int threads, uint sharedBytes)
    {
        var question = (source, function, threads, sharedBytes);
        if (_resident.TryGetValue(question, out int known)) return known;
        MakeCurrent();
        nint f = Function(source, function);
        if (sharedBytes > DefaultSharedBytes) AllowShared(f, function, sharedBytes);
        int blocks;
        _cu.Check(_cu.cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, threads, sharedBytes), $"cuOccupancyMaxActiveBlocksPerMultiprocessor({function})");
        return _resident[question] = blocks;
    }

    /// <summary>Dynamic shared memory a launch gets without asking; more (up to 227 KB on Hopper) needs a per-function opt-in.</summary>
    private const uint DefaultSharedBytes = 48 * 1024;

    private void AllowShared(nint f, string function, uint bytes)
    {
        if (_sharedOptIn.TryGetValue(f, out uint allowed) && allowed >= bytes) return;
        _cu.Check(_cu.cuFuncSetAttribute(f, FunctionAttribute.MaxDynamicSharedSizeBytes, (int)bytes), $"cuFuncSetAttribute({function}, {bytes} shared bytes)");
        // all of the L1/shared pool as shared memory, so that two such blocks can share a multiprocessor
        _cu.Check(_cu.cuFuncSetAttribute(f, FunctionAttribute.PreferredSharedMemoryCarveout, 100), $"cuFuncSetAttribute({function}, shared carveout)");
        _sharedOptIn[f] = bytes;
    }

    private static ulong Scalar(object arg, int index, string function) => arg switch
    {
        DeviceBuffer b => b.Pointer,
        ulong address => address,
        int v => (uint)v,
        long v => (ulong)v,
        float v => BitConverter.SingleToUInt32Bits(v),
        double v => BitConverter.DoubleToUInt64Bits(v),
        _ => throw new ArgumentException($"kernel argument {index} of {function}: {arg.GetType().Name} is not a buffer, address, int, long, float, double or struct bytes"),
    };

    private nint Function(string source, string function)
    {
        if (_functions.TryGetValue((source, function), out nint f)) return f;
        if (!_modules.TryGetValue(source, out nint module))
        {
            var cubin = _compiler.Cubin(source, KernelCompiler.Source(source));
            fixed (byte* c = cubin) _cu.Check(_cu.cuModuleLoadData(&module, c), $"cuModuleLoadData({source})");
            _modules[source] = module;
        }
        var name = Encoding.UTF8.GetBytes(function + "\0");
        fixed (byte* n = name) _cu.Check(_cu.cuModuleGetFunction(&f, module, n), $"cuModuleGetFunction({function})");
        return _functions[(source, function)] = f;
    }

    /// <summary>The stream all of this device's work is queued on (for libraries that take one, like cuBLASLt).</summary>
    internal nint Stream => _stream;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _cu.cuDevicePrimaryCtxRelease(Index);
    }
}

/// <summary>Device memory: a pointer and a size; freed on Dispose (or by the finalizer, for activations nobody released).</summary>
public sealed class DeviceBuffer(CudaDevice device, ulong pointer, long bytes) : IDisposable
{
    public ulong Pointer { get; private set; } = pointer;
    public long Bytes { get; } = bytes;

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~DeviceBuffer() => Free();

    private void Free()
    {
        if (Pointer == 0) return;
        device.Free(Pointer, Bytes);
        Pointer = 0;
    }
}
