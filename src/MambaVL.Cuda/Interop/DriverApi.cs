// The CUDA driver API functions MambaVL calls, bound as unmanaged function pointers (no P/Invoke marshalling), and the
// check every call goes through: a failure names the call and the driver's error name and text.
using System.Runtime.InteropServices;

namespace MambaVL.Cuda.Interop;

/// <summary>A CUDA call failed: <see cref="Call"/> returned <see cref="Code"/>.</summary>
public sealed class CudaException(string call, int code, string message) : Exception(message)
{
    public string Call { get; } = call;
    public int Code { get; } = code;
}

internal static class DeviceAttribute
{
    public const int ClockRateKhz = 13, MultiprocessorCount = 16, MemoryClockRateKhz = 36, MemoryBusWidth = 37,
        L2CacheSize = 38, ComputeCapabilityMajor = 75, ComputeCapabilityMinor = 76, MaxSharedMemoryPerMultiprocessor = 81,
        MaxSharedMemoryPerBlockOptin = 97;
}

internal static class FunctionAttribute
{
    /// <summary>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: a kernel must opt in to more than 48 KiB of dynamic shared memory.</summary>
    public const int MaxDynamicSharedSizeBytes = 8;

    /// <summary>CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: percent of the L1/shared pool given to shared memory.</summary>
    public const int PreferredSharedMemoryCarveout = 9;
}

/// <summary>CUlaunchAttribute: an id, padding to 8 bytes, then a 64-byte value union (only its first int is used here).</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
internal struct LaunchAttribute
{
    /// <summary>CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION: the kernel may start before the one before it ends.</summary>
    public const int ProgrammaticStreamSerialization = 6;

    /// <summary>CU_LAUNCH_ATTRIBUTE_COOPERATIVE: every block resident at once, or the launch fails (grid-wide barriers).</summary>
    public const int Cooperative = 2;

    [FieldOffset(0)] public int Id;
    [FieldOffset(8)] public int Value;
}

/// <summary>CUlaunchConfig (CUDA 12+): grid, block, shared bytes, stream and the attributes of one cuLaunchKernelEx.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LaunchConfig
{
    public uint GridX, GridY, GridZ, BlockX, BlockY, BlockZ, SharedBytes;
    public nint Stream;
    public LaunchAttribute* Attributes;
    public uint AttributeCount;
}

internal sealed unsafe class DriverApi
{
    private readonly nint _lib;
    public readonly delegate* unmanaged<uint, int> cuInit;
    public readonly delegate* unmanaged<int*, int> cuDriverGetVersion;
    public readonly delegate* unmanaged<int*, int> cuDeviceGetCount;
    public readonly delegate* unmanaged<int*, int, int> cuDeviceGet;
    public readonly delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
    public readonly delegate* unmanaged<nuint*, int, int> cuDeviceTotalMem;
    public readonly delegate* unmanaged<int*, int, int, int> cuDeviceGetAttribute;
    public readonly delegate* unmanaged<nint*, int, int> cuDevicePrimaryCtxRetain;
    public readonly delegate* unmanaged<int, int> cuDevicePrimaryCtxRelease;
    public readonly delegate* unmanaged<nint, int> cuCtxSetCurrent;
    public readonly delegate* unmanaged<int> cuCtxSynchronize;
    public readonly delegate* unmanaged<ulong*, nuint, int> cuMemAlloc;
    public readonly delegate* unmanaged<ulong, int> cuMemFree;
    public readonly delegate* unmanaged<ulong, void*, nuint, int> cuMemcpyHtoD;
    public readonly delegate* unmanaged<void*, ulong, nuint, int> cuMemcpyDtoH;
    public readonly delegate* unmanaged<ulong, ulong, nuint, int> cuMemcpyDtoD;
    public readonly delegate* unmanaged<ulong, byte, nuint, int> cuMemsetD8;
    public readonly delegate* unmanaged<nuint*, nuint*, int> cuMemGetInfo;
    public readonly delegate* unmanaged<nint*, void*, int> cuModuleLoadData;
    public readonly delegate* unmanaged<nint*, nint, byte*, int> cuModuleGetFunction;
    public readonly delegate* unmanaged<nint, int, int, int> cuFuncSetAttribute;
    public readonly delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> cuLaunchKernel;
    /// <summary>cuLaunchKernelEx (CUDA 12+), null when the driver lacks it: then nothing launches early.</summary>
    public readonly delegate* unmanaged<LaunchConfig*, nint, void**, void**, int> cuLaunchKernelEx;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorName;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorString;
    public readonly delegate* unmanaged<nint*, uint, int> cuStreamCreate;
    public readonly delegate* unmanaged<nint, int> cuStreamSynchronize;
    public readonly delegate* unmanaged<ulong, void*, nuint, nint, int> cuMemcpyHtoDAsync;
    public readonly delegate* unmanaged<void*, ulong, nuint, nint, int> cuMemcpyDtoHAsync;
    public readonly delegate* unmanaged<ulong, ulong, nuint, nint, int> cuMemcpyDtoDAsync;
    public readonly delegate* unmanaged<ulong, byte, nuint, nint, int> cuMemsetD8Async;
    public readonly delegate* unmanaged<void**, nuint, int> cuMemAllocHost;
    public readonly delegate* unmanaged<void*, int> cuMemFreeHost;
    public readonly delegate* unmanaged<nint, int, int> cuStreamBeginCapture;
    public readonly delegate* unmanaged<nint, nint*, int> cuStreamEndCapture;
    public readonly delegate* unmanaged<nint*, nint, ulong, int> cuGraphInstantiateWithFlags;
    public readonly delegate* unmanaged<nint, nint, int> cuGraphLaunch;
    public readonly delegate* unmanaged<nint, int> cuGraphExecDestroy;
    public readonly delegate* unmanaged<nint, int> cuGraphDestroy;
    public readonly delegate* unmanaged<int*, nint, int, nuint, int> cuOccupancyMaxActiveBlocksPerMultiprocessor;

    public DriverApi()
    {
        _lib = CudaLibraries.Load("the NVIDIA driver", CudaLibraries.DriverNames);
        nint F(string name) => CudaLibraries.Symbol(_lib, "the NVIDIA driver", name);
        cuInit = (delegate* unmanaged<uint, int>)F("cuInit");
        cuDriverGetVersion = (delegate* unmanaged<int*, int>)F("cuDriverGetVersion");
        cuDeviceGetCount = (delegate* unmanaged<int*, int>)F("cuDeviceGetCount");
        cuDeviceGet = (delegate* unmanaged<int*, int, int>)F("cuDeviceGet");
        cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)F("cuDeviceGetName");
        cuDeviceTotalMem = (delegate* unmanaged<nuint*, int, int>)F("cuDeviceTotalMem_v2");
        cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)F("cuDeviceGetAttribute");
        cuDevicePrimaryCtxRetain = (delegate* unmanaged<nint*, int, int>)F("cuDevicePrimaryCtxRetain");
        cuDevicePrimaryCtxRelease = (delegate* unmanaged<int, int>)F("cuDevicePrimaryCtxRelease_v2");
        cuCtxSetCurrent = (delegate* unmanaged<nint, int>)F("cuCtxSetCurrent");
        cuCtxSynchronize = (delegate* unmanaged<int>)F("cuCtxSynchronize");
        cuMemAlloc = (delegate* unmanaged<ulong*, nuint, int>)F("cuMemAlloc_v2");
        cuMemFree = (delegate* unmanaged<ulong, int>)F("cuMemFree_v2");
        cuMemcpyHtoD = (delegate* unmanaged<ulong, void*, nuint, int>)F("cuMemcpyHtoD_v2");
        cuMemcpyDtoH = (delegate* unmanaged<void*, ulong, nuint, int>)F("cuMemcpyDtoH_v2");
        cuMemcpyDtoD = (delegate* unmanaged<ulong, ulong, nuint, int>)F("cuMemcpyDtoD_v2");
        cuMemsetD8 = (delegate* unmanaged<ulong, byte, nuint, int>)F("cuMemsetD8_v2");
        cuMemGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)F("cuMemGetInfo_v2");
        cuModuleLoadData = (delegate* unmanaged<nint*, void*, int>)F("cuModuleLoadData");
        cuModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)F("cuModuleGetFunction");
        cuFuncSetAttribute = (delegate* unmanaged<nint, int, int, int>)F("cuFuncSetAttribute");
        cuLaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)F("cuLaunchKernel");
        cuLaunchKernelEx = NativeLibrary.TryGetExport(_lib, "cuLaunchKernelEx", out nint launchEx) ? (delegate* unmanaged<LaunchConfig*, nint, void**, void**, int>)launchEx : null;
        cuGetErrorName = (delegate* unmanaged<int, byte**, int>)F("cuGetErrorName");
        cuGetErrorString = (delegate* unmanaged<int, byte**, int>)F("cuGetErrorString");
        cuStreamCreate = (delegate* unmanaged<nint*, uint, int>)F("cuStreamCreate");
        cuStreamSynchronize = (delegate* unmanaged<nint, int>)F("cuStreamSynchronize");
        cuMemcpyHtoDAsync = (delegate* unmanaged<ulong, void*, nuint, nint, int>)F("cuMemcpyHtoDAsync_v2");
        cuMemcpyDtoHAsync = (delegate* unmanaged<void*, ulong, nuint, nint, int>)F("cuMemcpyDtoHAsync_v2");
        cuMemcpyDtoDAsync = (delegate* unmanaged<ulong, ulong, nuint, nint, int>)F("cuMemcpyDtoDAsync_v2");
        cuMemsetD8Async = (delegate* unmanaged<ulong, byte, nuint, nint, int>)F("cuMemsetD8Async");
        cuMemAllocHost = (delegate* unmanaged<void**, nuint, int>)F("cuMemAllocHost_v2");
        cuMemFreeHost = (delegate* unmanaged<void*, int>)F("cuMemFreeHost");
        cuStreamBeginCapture = (delegate* unmanaged<nint, int, int>)F("cuStreamBeginCapture_v2");
        cuStreamEndCapture = (delegate* unmanaged<nint, nint*, int>)F("cuStreamEndCapture");
        cuGraphInstantiateWithFlags = (delegate* unmanaged<nint*, nint, ulong, int>)F("cuGraphInstantiateWithFlags");
        cuGraphLaunch = (delegate* unmanaged<nint, nint, int>)F("cuGraphLaunch");
        cuGraphExecDestroy = (delegate* unmanaged<nint, int>)F("cuGraphExecDestroy");
        cuGraphDestroy = (delegate* unmanaged<nint, int>)F("cuGraphDestroy");
        cuOccupancyMaxActiveBlocksPerMultiprocessor = (delegate* unmanaged<int*, nint, int, nuint, int>)F("cuOccupancyMaxActiveBlocksPerMultiprocessor");
    }

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="result"/> is CUDA_SUCCESS.</summary>
    public void Check(int result, string call)
    {
        if (result == 0) return;
        byte* name = null, text = null;
        cuGetErrorName(result, &name);
        cuGetErrorString(result, &text);
        string n = name == null ? $"error {result}" : Marshal.PtrToStringUTF8((nint)name)!;
        string t = text == null ? "" : ": " + Marshal.PtrToStringUTF8((nint)text);
        throw new CudaException(call, result, $"{call} failed with {n}{t}");
    }
}

internal sealed unsafe class NvrtcApi
{
    public readonly delegate* unmanaged<int*, int*, int> nvrtcVersion;
    public readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> nvrtcCreateProgram;
    public readonly delegate* unmanaged<nint, int, byte**, int> nvrtcCompileProgram;
    public readonly delegate* unmanaged<nint, nuint*, int> nvrtcGetProgramLogSize;
    public readonly delegate* unmanaged<nint, byte*, int> nvrtcGetProgramLog;
    public readonly delegate* unmanaged<nint, nuint*, int> nvrtcGetCUBINSize;
    public readonly delegate* unmanaged<nint, byte*, int> nvrtcGetCUBIN;
    public readonly delegate* unmanaged<nint*, int> nvrtcDestroyProgram;
    public readonly delegate* unmanaged<int, byte*> nvrtcGetErrorString;

    public NvrtcApi()
    {
        nint lib = CudaLibraries.Load("NVRTC, the CUDA runtime compiler", CudaLibraries.NvrtcNames);
        nint F(string name) => CudaLibraries.Symbol(lib, "NVRTC", name);
        nvrtcVersion = (delegate* unmanaged<int*, int*, int>)F("nvrtcVersion");
        nvrtcCreateProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)F("nvrtcCreateProgram");
        nvrtcCompileProgram = (delegate* unmanaged<nint, int, byte**, int>)F("nvrtcCompileProgram");
        nvrtcGetProgramLogSize = (delegate* unmanaged<nint, nuint*, int>)F("nvrtcGetProgramLogSize");
        nvrtcGetProgramLog = (delegate* unmanaged<nint, byte*, int>)F("nvrtcGetProgramLog");
        nvrtcGetCUBINSize = (delegate* unmanaged<nint, nuint*, int>)F("nvrtcGetCUBINSize");
        nvrtcGetCUBIN = (delegate* unmanaged<nint, byte*, int>)F("nvrtcGetCUBIN");
        nvrtcDestroyProgram = (delegate* unmanaged<nint*, int>)F("nvrtcDestroyProgram");
        nvrtcGetErrorString = (delegate* unmanaged<int, byte*>)F("nvrtcGetErrorString");
    }

    public void Check(int result, string call)
    {
        if (result != 0) throw new CudaException(call, result, $"{call} failed: {Marshal.PtrToStringUTF8((nint)nvrtcGetErrorString(result))}");
    }
}
