// The kernel sources NVRTC is given (KernelCompiler.Source): every embedded .cu with common.cuh in front and its
// #include "X.cuh" lines replaced by those headers, since NVRTC gets no include path. Needs no GPU.
using MambaVL.Cuda;

namespace MambaVL.Cli.Tests;

public sealed class KernelSourceTests
{
    public static TheoryData<string> Kernels() => new(typeof(CudaDevice).Assembly.GetManifestResourceNames()
        .Where(n => n.EndsWith(".cu", StringComparison.Ordinal))
        .Select(n => n["MambaVL.Cuda.Kernels.".Length..^".cu".Length]));

    [Theory, MemberData(nameof(Kernels))]
    public void Every_include_is_pasted_in(string kernel)
    {
        var source = KernelCompiler.Source(kernel);
        Assert.DoesNotContain("#include", source);
        Assert.Contains($"#line 1 \"{kernel}.cu\"", source);
    }

    [Fact]
    public void A_header_comes_in_once_per_include_with_the_lines_of_its_includer_restored()
    {
        var source = KernelCompiler.Source("mamba_blocks");
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(source, @"void ms_head_step\("));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(source, @"struct GemvRun\b"));
        var lines = source.Split('\n');
        int header = Array.IndexOf(lines, "#line 1 \"mamba_step.cuh\"");
        int back = Array.FindIndex(lines, header, l => l.StartsWith("#line ", StringComparison.Ordinal) && l.EndsWith("\"mamba_blocks.cu\"", StringComparison.Ordinal));
        Assert.True(header > 0 && back > header, "mamba_step.cuh pasted, then mamba_blocks.cu's line numbers again");
        int resumed = int.Parse(lines[back].Split(' ')[1]);
        var original = typeof(CudaDevice).Assembly.GetManifestResourceStream("MambaVL.Cuda.Kernels.mamba_blocks.cu")!;
        var text = new StreamReader(original).ReadToEnd().Split('\n');
        Assert.Equal("#include \"mamba_step.cuh\"", text[resumed - 2]);
    }

    /// <summary>
    /// No device function is defined twice with the same parameters in what NVRTC gets (common.cuh, the headers and the
    /// kernel together): a helper moved into common.cuh while a kernel kept its own copy fails only there, at run time, on
    /// a GPU (it did once: flash_attention.cu's cp_async_commit). Overloads (other parameters) are fine.
    /// </summary>
    [Theory, MemberData(nameof(Kernels))]
    public void No_device_function_is_defined_twice(string kernel)
    {
        var definitions = System.Text.RegularExpressions.Regex.Matches(KernelCompiler.Source(kernel),
                @"^__device__ __forceinline__ [\w:<>*& ]+?\b(\w+)\(([^)]*)\)", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => $"{m.Groups[1].Value}({string.Join(" ", m.Groups[2].Value.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries))})").ToList();
        Assert.NotEmpty(definitions);
        var twice = definitions.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"{kernel}.cu defines {string.Join(", ", twice)} more than once");
    }
}
