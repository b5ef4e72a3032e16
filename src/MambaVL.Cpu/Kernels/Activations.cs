// Element-wise activations over blocks of 256 values: GELU (erf, vectorised Abramowitz-Stegun 7.1.26 as ATen's
// vectorised erf), GELU-tanh, quick GELU and SiLU on TensorPrimitives.
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
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

    /// <summary>See <see cref="IBackend.SwiGlu"/>: silu(gate) ⊙ up, blocks of 256 in parallel.</summary>
    public static Tensor SwiGlu(CpuThreadPool pool, Tensor gate, Tensor up)
    {
        Core.Reference.Check.SameShape(gate, up, "SwiGlu");
        Tensor gs = KernelSupport.F32(gate), us = KernelSupport.F32(up);
        var y = Tensor.Zeros(DType.F32, gate.ShapeArray);
        long n = gate.Length;
        var body = new BlocksBody { X = KernelSupport.Ptr(gs), Up = KernelSupport.Ptr(us), Y = KernelSupport.Ptr(y), N = n, Kind = Activation.Silu };
        KernelSupport.For(pool, (int)((n + Block - 1) / Block), n, ref body);
        GC.KeepAlive(gs); GC.KeepAlive(us);
        return y;
    }

    private struct BlocksBody : IParallelBody
    {
        public float* X, Y, Up;  // Up: optional second factor (SwiGLU)
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
            if (Up != null) TensorPrimitives.Multiply(y, new ReadOnlySpan<float>(Up + start, len), y);
        }
    }

    /// <summary>y = x/2 · (1 + erf(x/√2)) with erf(u) = sign(u)·(1 - poly(1/(1 + p|u|))·exp(-u²)), |error| ≤ 1.5e-7.</summary>
    private static void Gelu(ReadOnlySpan<float> x, Span<float> y, Span<float> t)
    {
        // t = exp(-u²) by TensorPrimitives, then the rational part in vectors
        TensorPrimitives.Multiply(x, x, t);
        TensorPrimitives.Multiply(t, -0.5f, t);
        TensorPrimitives.Exp(t, t);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            fixed (float* xp = x, yp = y, tp = t)
                for (; i + 16 <= x.Length; i += 16)
                {
                    var v = Vector512.Load(xp + i);
                    var r = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(ErfP * InvSqrt2) * Vector512.Abs(v));
                    var poly = r * (Vector512.Create(A1) + r * (Vector512.Create(A2) + r * (Vector512.Create(A3) + r * (Vector512.Create(A4) + r * Vector512.Create(A5)))));
                    var erfAbs = Vector512<float>.One - poly * Vector512.Load(tp + i);
                    var erf = Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), -erfAbs, erfAbs);
                    (Vector512.Create(0.5f) * v * (Vector512<float>.One + erf)).Store(yp + i);
                }
        }
        for (; i < x.Length; i++)
        {
            float r = 1f / (1f + ErfP * InvSqrt2 * MathF.Abs(x[i]));
            float poly = r * (A1 + r * (A2 + r * (A3 + r * (A4 + r * A5))));
            float erfAbs = 1f - poly * t[i];
            y[i] = 0.5f * x[i] * (1f + (x[i] < 0 ? -erfAbs : erfAbs));
        }
    }

    // Abramowitz & Stegun 7.1.26
    private const float ErfP = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f;

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
