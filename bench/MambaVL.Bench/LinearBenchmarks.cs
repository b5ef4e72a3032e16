// MatMul at the shapes of mamba2-130m: decode GEMVs (one token) and a 512-token prefill GEMM, F32 and BF16 weights.
using BenchmarkDotNet.Attributes;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Bench;

[MemoryDiagnoser]
public class LinearBenchmarks
{
    private CpuBackend _backend = null!;
    private Tensor _x = null!, _w = null!;

    /// <summary>"N x K" of the weight: in_proj, out_proj, lm_head.</summary>
    [Params("3352x768", "768x1536", "50288x768")]
    public string Weight { get; set; } = "3352x768";

    [Params(1, 512)]
    public int Rows { get; set; }

    [Params(DType.F32, DType.BF16)]
    public DType WeightType { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string[] nk = Weight.Split('x');
        int n = int.Parse(nk[0]), k = int.Parse(nk[1]);
        _backend = new CpuBackend(Threads);
        var rng = new Random(0);
        _x = Tensor.FromArray(Enumerable.Range(0, Rows * k).Select(_ => (float)rng.NextDouble()).ToArray(), Rows, k);
        _w = Tensor.FromArray(Enumerable.Range(0, n * k).Select(_ => (float)rng.NextDouble()).ToArray(), n, k).ToDType(WeightType);
    }

    [Benchmark]
    public Tensor MatMul() => _backend.MatMul(_x, _w);
}
