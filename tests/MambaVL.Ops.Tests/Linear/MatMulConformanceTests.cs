// The fast MatMul (GEMV and packed GEMM, every SIMD level this machine has) against the reference backend,
// on random data with odd sizes, all weight dtypes (the reference reads the same 16-bit weights), with and without bias.
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;
using MambaVL.Cpu.Kernels;
using MambaVL.Cpu.Threading;

namespace MambaVL.Ops.Tests.Linear;

public class MatMulConformanceTests
{
    private const double Tolerance = 1e-4;  // fp32 norm-relative error
    private static readonly int[] Rows = [1, 2, 3, 7, 8, 9, 33, 257];
    private static readonly (int K, int N)[] Sizes = [(1, 1), (31, 33), (33, 257), (257, 31), (770, 33), (33, 770), (1, 31)];

    public static TheoryData<DType> WeightTypes => new() { DType.F32, DType.F16, DType.BF16 };

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void EveryKernelPathMatchesTheReference(DType wType)
    {
        var rng = new Random(1234 + (int)wType);
        using var serial = new CpuThreadPool(1);
        using var parallel = new CpuThreadPool(2);
        foreach (int m in Rows)
            foreach (var (k, n) in Sizes)
            {
                var x = Random(rng, m, k);
                var w = Random(rng, n, k).ToDType(wType);
                var bias = Random(rng, n);
                foreach (var b in new[] { null, bias })
                {
                    float[] expected = ReferenceBackend.Instance.MatMul(x, w, b).ToFloatArray();
                    foreach (var level in Levels())
                        foreach (var pool in new[] { serial, parallel })
                            AssertClose(expected, Run(pool, x, w, b, level), $"m={m} k={k} n={n} {wType} bias={b != null} {level} threads={pool.Threads}");
                }
            }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void BackendMatchesTheReferenceOnMisalignedAndStridedInputs(int threads)
    {
        var rng = new Random(99);
        var backend = new CpuBackend(threads);
        foreach (int m in new[] { 1, 9, 40 })
        {
            // w starts one row into its storage (odd K: not 64-byte aligned, like a memory-mapped tensor); x is a transposed view.
            var w = Random(rng, 66, 77).ToDType(DType.BF16).Narrow(0, 1, 65);
            var x = Random(rng, 77, m).Transpose(0, 1);
            var bias = Random(rng, 65).ToDType(DType.BF16);
            AssertClose(ReferenceBackend.Instance.MatMul(x, w, bias).ToFloatArray(), backend.MatMul(x, w, bias).ToFloatArray(), $"m={m}");
        }
    }

    [Fact]
    public void MismatchedShapesAreRejected()
    {
        var backend = new CpuBackend(1);
        Assert.Throws<ArgumentException>(() => backend.MatMul(Tensor.Zeros(DType.F32, 2, 3), Tensor.Zeros(DType.F32, 4, 5)));
        Assert.Throws<ArgumentException>(() => backend.MatMul(Tensor.Zeros(DType.F32, 2, 3), Tensor.Zeros(DType.F32, 4, 3), Tensor.Zeros(DType.F32, 5)));
    }

    internal static IEnumerable<SimdLevel> Levels()
    {
        yield return SimdLevel.Scalar;
        if (GemmWeights.Best >= SimdLevel.Avx2) yield return SimdLevel.Avx2;
        if (GemmWeights.Best >= SimdLevel.Avx512) yield return SimdLevel.Avx512;
    }

    private static unsafe float[] Run(CpuThreadPool pool, Tensor x, Tensor w, Tensor? bias, SimdLevel level)
    {
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(0);
        var y = Tensor.Zeros(DType.F32, m, n);
        Gemm.MatMul(pool, (float*)x.DataPointer, m, k, w.DataPointer, w.DType, n, bias == null ? null : (float*)bias.DataPointer, (float*)y.DataPointer, level);
        return y.ToFloatArray();
    }

    internal static Tensor Random(Random rng, params int[] shape)
    {
        long count = 1; foreach (int d in shape) count *= d;
        var data = new float[count];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return Tensor.FromArray(data, shape);
    }

    internal static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            diff += Math.Pow(expected[i] - (double)actual[i], 2);
            norm += Math.Pow(expected[i], 2);
        }
        double relative = Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-30);
        Assert.True(relative <= Tolerance, $"{what}: norm-relative error {relative:E2} > {Tolerance:E0}");
    }
}
