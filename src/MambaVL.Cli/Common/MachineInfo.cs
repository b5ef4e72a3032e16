// What this build is and what the machine offers the kernels: version, CPU model, cores, SIMD instruction sets.
using System.Reflection;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using MambaVL.Cpu;

namespace MambaVL.Cli.Common;

public static class MachineInfo
{
    public static string Version =>
        typeof(MachineInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(MachineInfo).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The CPU's name as the OS reports it (Linux /proc/cpuinfo), else the architecture.</summary>
    public static string CpuName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>The instruction sets .NET reports as usable here.</summary>
    public static IReadOnlyList<string> SimdFeatures()
    {
        var features = new List<string>();
        void Add(bool supported, string name) { if (supported) features.Add(name); }
        Add(Avx2.IsSupported, "AVX2");
        Add(Fma.IsSupported, "FMA");
        Add(AvxVnni.IsSupported, "AVX-VNNI");
        Add(Avx512F.IsSupported, "AVX512F");
        Add(Avx512BW.IsSupported, "AVX512BW");
        Add(Avx512DQ.IsSupported, "AVX512DQ");
        Add(Avx512Vbmi.IsSupported, "AVX512VBMI");
        Add(Avx10v1.IsSupported, "AVX10.1");
        Add(System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported, "NEON");
        Add(Vector512.IsHardwareAccelerated, "Vector512");
        return features;
    }

    public static string Describe() =>
        $"cpu: {CpuName()}, {Environment.ProcessorCount} logical cores\n" +
        $"simd: {string.Join(' ', SimdFeatures())}\n" +
        $"kernels: {CpuFeatures.Describe()} ({System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})";
}
