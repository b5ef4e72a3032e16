// LayerNorm over rows (two-pass mean and biased variance, as torch) and LayerScale's per-channel multiply.
using System.Numerics.Tensors;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;
using Tensor = MambaVL.Core.Tensors.Tensor;

namespace MambaVL.Cpu.Kernels;

public static unsafe class LayerNormKernel
{
    /// <summary>See <see cref="Core.Ops.IBackend.LayerNorm"/>.</summary>
    public static Tensor Run(CpuThreadPool pool, Tensor x, Tensor weight, Tensor? bias, float eps)
    {
        int d = x.Dim(-1);
        if (weight.Length != d || (bias != null && bias.Length != d))
            throw new ArgumentException($"LayerNorm: weight {weight} / bias {bias} do not match x {x}");
        int rows = d == 0 ? 0 : (int)(x.Length / d);
        Tensor xs = KernelSupport.LastDimRows(x, out long ldx), ws = KernelSupport.F32(weight);
        Tensor? bs = bias == null ? null : KernelSupport.F32(bias);
        var y = Tensor.Zeros(DType.F32, x.ShapeArray);
        var body = new RowsBody
        {
            X = KernelSupport.Ptr(xs), W = KernelSupport.Ptr(ws), B = bs == null ? null : KernelSupport.Ptr(bs), Y = KernelSupport.Ptr(y),
            LdX = ldx, Rows = rows, D = d, Eps = eps, Blocks = KernelSupport.BlockCount(rows, pool),
        };
        KernelSupport.For(pool, body.Blocks, (long)rows * d, ref body);
        GC.KeepAlive(xs); GC.KeepAlive(ws); GC.KeepAlive(bs);
        return y;
    }

    /// <summary>See <see cref="Core.Ops.IBackend.ScaleColumnsInPlace"/>.</summary>
    public static void ScaleColumnsInPlace(Tensor x, Tensor scale)
    {
        Check.F32Contiguous(x, "ScaleColumnsInPlace x");
        int d = x.Dim(-1);
        if (scale.Length != d) throw new ArgumentException($"ScaleColumnsInPlace: scale {scale} does not match x {x}");
        var ss = KernelSupport.F32(scale);
        var s = ss.Span<float>();
        var xs = x.Span<float>();
        for (int start = 0; start < xs.Length; start += d) TensorPrimitives.Multiply(xs.Slice(start, d), s, xs.Slice(start, d));
    }

    private struct RowsBody : IParallelBody
    {
        public float* X, W, B, Y;
        public long LdX;
        public int Rows, D, Blocks;
        public float Eps;

        public readonly void Invoke(int block)
        {
            var (r0, r1) = KernelSupport.BlockRange(Rows, Blocks, block);
            var w = new ReadOnlySpan<float>(W, D);
            var b = B == null ? default : new ReadOnlySpan<float>(B, D);
            for (int r = r0; r < r1; r++)
            {
                var x = new ReadOnlySpan<float>(X + r * LdX, D);
                var y = new Span<float>(Y + (long)r * D, D);
                float mean = TensorPrimitives.Sum(x) / D;
                TensorPrimitives.Subtract(x, mean, y);
                float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(y) / D + Eps);
                TensorPrimitives.Multiply(y, inv, y);
                if (B == null) TensorPrimitives.Multiply(y, w, y);
                else TensorPrimitives.FusedMultiplyAdd(y, w, b, y);
            }
        }
    }
}
