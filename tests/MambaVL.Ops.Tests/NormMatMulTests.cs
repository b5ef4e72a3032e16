// The pre-norm projection op (IBackend.NormMatMul): its default composition is the residual add, RMSNorm and MatMul
// of a pre-norm block, checked against a plain double-precision computation written here (odd sizes, with and
// without the residual add and the bias), and the profiling decorator times it as its parts or whole, same bits.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Ops.Tests;

public sealed class NormMatMulTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);
    private const int M = 3, D = 37, N = 11;
    private const float Eps = 1e-5f;

    /// <summary>residual + x (or residual), RMS-normalised times norm, times wᵀ plus bias, in double.</summary>
    private static (double[] Y, double[] Residual) Reference(float[] residual, float[]? x, float[] norm, float[] w, float[]? bias)
    {
        var r = new double[M * D];
        var y = new double[M * N];
        for (int i = 0; i < M; i++)
        {
            double sq = 0;
            for (int k = 0; k < D; k++) { r[i * D + k] = residual[i * D + k] + (x?[i * D + k] ?? 0); sq += r[i * D + k] * r[i * D + k]; }
            double scale = 1 / Math.Sqrt(sq / D + Eps);
            for (int j = 0; j < N; j++)
            {
                double s = bias?[j] ?? 0;
                for (int k = 0; k < D; k++) s += r[i * D + k] * scale * norm[k] * w[j * D + k];
                y[i * N + j] = s;
            }
        }
        return (y, r);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void NormMatMul_is_the_residual_add_the_rms_norm_and_the_product(bool add, bool withBias)
    {
        var inputs = new Inputs(7);
        var (residual, x) = (inputs.Uniform(-1, 1, M, D), inputs.Uniform(-1, 1, M, D));
        var (norm, w, bias) = (inputs.Uniform(0.5f, 1.5f, D), inputs.Uniform(-1, 1, N, D), inputs.Uniform(-1, 1, N));
        var (wantY, wantResidual) = Reference(residual.ToFloatArray(), add ? x.ToFloatArray() : null, norm.ToFloatArray(), w.ToFloatArray(),
            withBias ? bias.ToFloatArray() : null);
        var y = ((IBackend)_cpu).NormMatMul(residual, add ? x : null, norm, Eps, w, withBias ? bias : null);
        Assert.Equal([M, N], y.ShapeArray);
        Assert.True(OpCheck.RelativeError(y.ToFloatArray(), Floats(wantY)) <= 1e-6, "the projection");
        Assert.True(OpCheck.RelativeError(residual.ToFloatArray(), Floats(wantResidual)) <= 1e-7, "the residual, updated in place");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Profiling_times_NormMatMul_as_its_parts_or_whole_with_the_same_bits(bool whole)
    {
        var inputs = new Inputs(8);
        var (residual, x, norm, w) = (inputs.Uniform(-1, 1, M, D), inputs.Uniform(-1, 1, M, D), inputs.Uniform(0.5f, 1.5f, D), inputs.Uniform(-1, 1, N, D));
        var residual2 = OpCheck.Copy(residual);
        var profiled = new ProfilingBackend(_cpu) { TimeFusedOps = whole };
        var y = profiled.NormMatMul(residual, x, norm, Eps, w);
        Assert.Equal(((IBackend)_cpu).NormMatMul(residual2, x, norm, Eps, w).ToFloatArray(), y.ToFloatArray());
        Assert.Equal(residual2.ToFloatArray(), residual.ToFloatArray());
        var ops = profiled.Timings.Select(t => t.Op).ToHashSet();
        Assert.Equal(whole ? ["NormMatMul"] : new HashSet<string> { "AddInPlace", "RmsNorm", "MatMul" }, ops);  // parts all the way down
    }

    private static float[] Floats(double[] v) => v.Select(d => (float)d).ToArray();

    public void Dispose() => _cpu.Dispose();
}
