// Seeded inputs in the value ranges real Mamba-2 checkpoints produce, and the norm-relative comparison the suite uses.
using MambaVL.Core.Tensors;

namespace MambaVL.Ops.Tests;

public static class OpCheck
{
    /// <summary>‖actual − expected‖₂ / max(‖expected‖₂, 1e-30).</summary>
    public static double RelativeError(float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            diff += d * d; norm += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-30);
    }

    public static void Close(Tensor actual, Tensor expected, double tolerance, string what)
    {
        Assert.Equal(expected.ShapeArray, actual.ShapeArray);
        double err = RelativeError(actual.ToFloatArray(), expected.ToFloatArray());
        Assert.True(err <= tolerance, $"{what}: norm-relative error {err:E2} > {tolerance:E0}");
        Assert.True(actual.ToFloatArray().All(float.IsFinite), $"{what}: non-finite values");
    }

    public static Tensor Copy(Tensor t) => Tensor.FromArray(t.ToFloatArray(), t.ShapeArray);
}

/// <summary>Seeded random tensors; the SSM helpers follow Mamba-2's initialisation ranges.</summary>
public sealed class Inputs(int seed)
{
    private readonly Random _rng = new(seed);

    public Tensor Uniform(float lo, float hi, params int[] shape)
    {
        long n = 1; foreach (int d in shape) n *= d;
        var data = new float[n];
        for (int i = 0; i < data.Length; i++) data[i] = lo + (hi - lo) * (float)_rng.NextDouble();
        return Tensor.FromArray(data, shape);
    }

    /// <summary>Raw dt before softplus: U(-5, 1).</summary>
    public Tensor DtRaw(params int[] shape) => Uniform(-5f, 1f, shape);

    /// <summary>A = -exp(U(0, log 16)): A_log initialised in [log 1, log 16].</summary>
    public Tensor A(int h) => Map(Uniform(0f, MathF.Log(16f), h), v => -MathF.Exp(v));

    /// <summary>dt_bias = softplus⁻¹(U(1e-3, 0.1)), as mamba_ssm initialises it.</summary>
    public Tensor DtBias(int h) => Map(Uniform(1e-3f, 0.1f, h), v => (float)Math.Log(Math.Exp(v) - 1.0));

    private static Tensor Map(Tensor t, Func<float, float> f) => Tensor.FromArray(t.ToFloatArray().Select(f).ToArray(), t.ShapeArray);
}
