// Rotary position embedding (rotate-half): per position, cos/sin of its P/2 angles once, then every head's two halves
// combined with TensorPrimitives. Positions run in parallel.
using System.Numerics.Tensors;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;
using Tensor = MambaVL.Core.Tensors.Tensor;

namespace MambaVL.Cpu.Kernels;

public static unsafe class RopeKernel
{
    /// <summary>See <see cref="Core.Ops.IBackend.Rope"/>.</summary>
    public static Tensor Run(CpuThreadPool pool, Tensor x, Tensor invFreq, int startPosition)
    {
        RopeShapes.Check(x, invFreq, out int t, out int h, out int p);
        Tensor xs = KernelSupport.Rows(x, out long ldx), fs = KernelSupport.F32(invFreq);
        var y = Tensor.Zeros(DType.F32, t, h, p);
        var body = new PositionsBody { X = KernelSupport.Ptr(xs), Freq = KernelSupport.Ptr(fs), Y = KernelSupport.Ptr(y), LdX = ldx, H = h, P = p, Start = startPosition };
        KernelSupport.For(pool, t, (long)t * h * p * 4, ref body);
        GC.KeepAlive(xs); GC.KeepAlive(fs);
        return y;
    }

    private struct PositionsBody : IParallelBody
    {
        public float* X, Freq, Y;
        public long LdX;
        public int H, P, Start;

        public readonly void Invoke(int t)
        {
            int half = P / 2;
            Span<float> cos = stackalloc float[half], sin = stackalloc float[half], tmp = stackalloc float[half];
            for (int i = 0; i < half; i++)
            {
                double angle = (float)(Start + t) * Freq[i];  // fp32 product, as torch.outer(t, inv_freq)
                (cos[i], sin[i]) = ((float)Math.Cos(angle), (float)Math.Sin(angle));
            }
            for (int hi = 0; hi < H; hi++)
            {
                var a = new ReadOnlySpan<float>(X + t * LdX + (long)hi * P, half);
                var b = new ReadOnlySpan<float>(X + t * LdX + (long)hi * P + half, half);
                var ya = new Span<float>(Y + ((long)t * H + hi) * P, half);
                var yb = new Span<float>(Y + ((long)t * H + hi) * P + half, half);
                TensorPrimitives.Multiply(b, sin, tmp);
                TensorPrimitives.Multiply(a, cos, ya);
                TensorPrimitives.Subtract(ya, tmp, ya);          // a·cos − b·sin
                TensorPrimitives.Multiply(a, sin, tmp);
                TensorPrimitives.MultiplyAdd(b, cos, tmp, yb);   // b·cos + a·sin
            }
        }
    }
}
