// Compiles the embedded CUDA C sources with NVRTC for the device's own architecture (sm_90 on Hopper) on first use, and
// keeps the cubins on disk keyed by source, architecture and NVRTC version, so later runs skip the compiler.
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MambaVL.Cuda.Interop;

namespace MambaVL.Cuda;

internal sealed unsafe partial class KernelCompiler(NvrtcApi nvrtc, int major, int minor)
{
    public string Architecture => $"sm_{major}{minor}";

    public string NvrtcVersion
    {
        get
        {
            int a, b;
            nvrtc.Check(nvrtc.nvrtcVersion(&a, &b), "nvrtcVersion");
            return $"{a}.{b}";
        }
    }

    /// <summary>
    /// The text of an embedded kernel source (Kernels/NAME.cu) after the shared helpers (Kernels/common.cuh), each of its
    /// <c>#include "X.cuh"</c> lines replaced by that embedded header (NVRTC is given no include paths).
    /// </summary>
    public static string Source(string name) => Resource("common.cuh") + "\n" + Expand(name + ".cu");

    private static string Expand(string file)
    {
        var text = new StringBuilder($"#line 1 \"{file}\"\n");
        int line = 0;
        foreach (var raw in Resource(file).Split('\n'))
        {
            line++;
            var m = IncludeLine().Match(raw);
            if (!m.Success) { text.Append(raw).Append('\n'); continue; }
            text.Append(Expand(m.Groups[1].Value)).Append($"#line {line + 1} \"{file}\"\n");
        }
        return text.ToString();
    }

    [GeneratedRegex("^\\s*#include\\s+\"([A-Za-z0-9_]+\\.cuh)\"\\s*$")]
    private static partial Regex IncludeLine();

    private static string Resource(string file)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"MambaVL.Cuda.Kernels.{file}")
            ?? throw new InvalidOperationException($"no embedded kernel source {file}");
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>The cubin for <paramref name="source"/>: from the disk cache, else compiled (and cached).</summary>
    public byte[] Cubin(string name, string source)
    {
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{source}\n{Architecture}\n{NvrtcVersion}")))[..24];
        string? cacheDir = CacheFolder();
        string? cached = cacheDir is null ? null : Path.Combine(cacheDir, $"{name}-{Architecture}-{key}.cubin");
        if (cached != null && File.Exists(cached)) return File.ReadAllBytes(cached);
        var cubin = Compile(name, source);
        if (cached != null)
        {
            try
            {
                Directory.CreateDirectory(cacheDir!);
                string temp = cached + $".{Environment.ProcessId}.tmp";
                File.WriteAllBytes(temp, cubin);
                File.Move(temp, cached, overwrite: true);
            }
            catch (IOException) { }  // a read-only or full cache only costs a recompile next time
            catch (UnauthorizedAccessException) { }
        }
        return cubin;
    }

    private static string? CacheFolder()
    {
        string? root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root))
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home)) return null;
            root = Path.Combine(home, ".cache");
        }
        return Path.Combine(root, "mambavl", "cuda");
    }

    private byte[] Compile(string name, string source)
    {
        nint program;
        var src = Encoding.UTF8.GetBytes(source + "\0");
        var file = Encoding.UTF8.GetBytes(name + ".cu\0");
        fixed (byte* s = src) fixed (byte* f = file)
            nvrtc.Check(nvrtc.nvrtcCreateProgram(&program, s, f, 0, null, null), "nvrtcCreateProgram");
        try
        {
            string[] options = [$"--gpu-architecture={Architecture}", "--std=c++17", "-default-device"];
            var handles = options.Select(o => Marshal.StringToCoTaskMemUTF8(o)).ToArray();
            try
            {
                fixed (nint* opts = handles)
                {
                    int result = nvrtc.nvrtcCompileProgram(program, options.Length, (byte**)opts);
                    if (result != 0) throw new CudaException("nvrtcCompileProgram", result, $"compiling {name}.cu for {Architecture} failed:\n{Log(program)}");
                }
            }
            finally { foreach (var h in handles) Marshal.FreeCoTaskMem(h); }
            nuint size;
            nvrtc.Check(nvrtc.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
            var cubin = new byte[(int)size];
            fixed (byte* c = cubin) nvrtc.Check(nvrtc.nvrtcGetCUBIN(program, c), "nvrtcGetCUBIN");
            return cubin;
        }
        finally { nvrtc.nvrtcDestroyProgram(&program); }
    }

    private string Log(nint program)
    {
        nuint size;
        if (nvrtc.nvrtcGetProgramLogSize(program, &size) != 0 || size == 0) return "(no log)";
        var log = new byte[(int)size];
        fixed (byte* l = log) nvrtc.nvrtcGetProgramLog(program, l);
        return Encoding.UTF8.GetString(log).TrimEnd('\0');
    }
}
