// Finds the CUDA user-mode libraries with no package: the driver (libcuda.so.1 / nvcuda.dll) and NVRTC (versions 13
// and 12), looked for in LD_LIBRARY_PATH, CUDA_PATH, /usr/local/cuda and the system's own search, in that order.
using System.Runtime.InteropServices;

namespace MambaVL.Cuda.Interop;

/// <summary>CUDA cannot be used here: no driver, no GPU, or a library missing. The message says which and where it looked.</summary>
public sealed class CudaUnavailableException(string message) : Exception(message);

internal static class CudaLibraries
{
    public static readonly string[] DriverNames = OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"];

    public static readonly string[] NvrtcNames = OperatingSystem.IsWindows()
        ? ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll"]
        : ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"];

    /// <summary>The folders searched before the system's default search.</summary>
    public static IReadOnlyList<string> SearchFolders()
    {
        var folders = new List<string>();
        string? ld = Environment.GetEnvironmentVariable(OperatingSystem.IsWindows() ? "PATH" : "LD_LIBRARY_PATH");
        if (ld != null) folders.AddRange(ld.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        if (Environment.GetEnvironmentVariable("CUDA_PATH") is { Length: > 0 } cudaPath)
            folders.AddRange([Path.Combine(cudaPath, "lib64"), Path.Combine(cudaPath, "bin")]);
        if (!OperatingSystem.IsWindows()) folders.AddRange(["/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64"]);
        return folders.Distinct().ToArray();
    }

    /// <summary>The first of <paramref name="names"/> that loads, from the search folders, then by the system's search.</summary>
    public static nint Load(string what, string[] names)
    {
        foreach (var folder in SearchFolders())
            foreach (var name in names)
            {
                string path = Path.Combine(folder, name);
                if (File.Exists(path) && NativeLibrary.TryLoad(path, out nint handle)) return handle;
            }
        foreach (var name in names)
            if (NativeLibrary.TryLoad(name, out nint handle)) return handle;
        throw new CudaUnavailableException(
            $"CUDA is not available: {what} ({string.Join(" or ", names)}) was not found in {string.Join(", ", SearchFolders())} or the system's library path");
    }

    /// <summary>An exported function's address, or a clear error naming the library and the symbol.</summary>
    public static nint Symbol(nint library, string what, string name) => NativeLibrary.TryGetExport(library, name, out nint address)
        ? address : throw new CudaUnavailableException($"CUDA is not usable: {what} has no {name} (too old a version?)");
}
