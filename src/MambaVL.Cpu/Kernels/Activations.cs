// Element-wise activations over blocks of 256 values: GELU (erf, vectorised Abramowitz-Stegun 7.1.26 as ATen's
// vectorised erf), GELU-tanh, quick GELU and SiLU on TensorPrimitives.
using System.Numerics.Tensors;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;
using Tensor = MambaVL.Core.Tensors.Tensor;

namespace MambaVL.Cpu.Kernels;

public static unsafe class Activations
{
    private const int Block = 256;

    /// <summary>See <see cref="IBackend.Activate"/>.</summary>
    public static Tensor Run(CpuThreadPool pool, Tensor x, Activation kind)
    {
        var xs = KernelSupport.F32(x);
        var y = Tensor.Zeros(DType.F32, x.ShapeArray);
        long n = x.Length;
        var body = new BlocksBody { X = KernelSupport.Ptr(xs), Y = KernelSupport.Ptr(y), N = n, Kind = kind };
        KernelSupport.For(pool, (int)((n + Block - 1) / Block), n, ref body);
        GC.KeepAlive(xs);
        return y;
    }

    private struct BlocksBody : IParallelBody
    {
        public float* X, Y;
        public long N;
        public Activation Kind;

        public readonly void Invoke(int block)
        {
            long start = (long)block * Block;
            int len = (int)Math.Min(Block, N - start);
            var x = new ReadOnlySpan<float>(X + start, len);
            var y = new Span<float>(Y + start, len);
            Span<float> t = stackalloc float[Block];
            t = t[..len];
            switch (Kind)
            {
                case Activation.Gelu: Gelu(x, y, t); break;
                case Activation.GeluTanh: GeluTanh(x, y, t); break;
                case Activation.QuickGelu:
                    TensorPrimitives.Multiply(x, 1.702f, t);
                    TensorPrimitives.Sigmoid(t, t);
                    TensorPrimitives.Multiply(x, t, y);
                    break;
                case Activation.Silu:
                    TensorPrimitives.Sigmoid(x, t);
                    TensorPrimitives.Multiply(x, t, y);
                    break;
                default: throw new ArgumentOutOfRangeException(nameof(Kind), Kind, null);
            }
        }
    }

    /// <summary>y = x/2 · (1 + erf(x/√2)) with erf(u) = sign(u)·(1 - poly(1/(1 + p|u|))·exp(-u²)), |error| ≤ 1.5e-7.</summary>
    private static void Gelu(ReadOnlySpan<float> x, Span<float> y, Span<float> t)
    {
        const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
        const float InvSqrt2 = 0.70710678118654752f;
        // t = exp(-u²), y = 1/(1 + p|u|) then the polynomial, then erf(|u|) = 1 - poly·t
        TensorPrimitives.Multiply(x, x, t);
        TensorPrimitives.Multiply(t, -0.5f, t);
        TensorPrimitives.Exp(t, t);
        for (int i = 0; i < x.Length; i++)
        {
            float r = 1f / (1f + P * MathF.Abs(x[i]) * InvSqrt2);
            float poly = r * (A1 + r * (A2 + r * (A3 + r * (A4 + r * A5))));
            float erfAbs = 1f - poly * t[i];
            y[i] = 0.5f * x[i] * (1f + MathF.CopySign(erfAbs, x[i]));
        }
    }

    /// <summary>y = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    private static void GeluTanh(ReadOnlySpan<float> x, Span<float> y, Span<float> t)
    {
        TensorPrimitives.Multiply(x, x, t);
        TensorPrimitives.Multiply(t, 0.044715f, t);
        TensorPrimitives.Add(t, 1f, t);
        TensorPrimitives.Multiply(t, x, t);
        TensorPrimitives.Multiply(t, 0.7978845608028654f, t);
        TensorPrimitives.Tanh(t, t);
        TensorPrimitives.Add(t, 1f, t);
        TensorPrimitives.Multiply(t, x, t);
        TensorPrimitives.Multiply(t, 0.5f, y);
    }
}
