// Residual add, RMSNorm and gated RMSNorm (mamba_ssm RMSNormGated, norm_before_gate=False), vectorised per row.
using System.Numerics.Tensors;
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;
using Tensor = MambaVL.Core.Tensors.Tensor;

namespace MambaVL.Cpu.Kernels;

public static unsafe class Norms
{
    /// <summary>See <see cref="IBackend.AddInPlace"/>.</summary>
    public static void AddInPlace(Tensor acc, Tensor x)
    {
        Check.SameShape(acc, x, "AddInPlace");
        Check.F32Contiguous(acc, "AddInPlace acc");
        var xs = KernelSupport.F32(x);
        TensorPrimitives.Add(acc.Span<float>(), xs.Span<float>(), acc.Span<float>());
    }

    /// <summary>See <see cref="IBackend.RmsNorm"/>: rows of x (…, D) scaled by 1/rms, times w (D).</summary>
    public static Tensor RmsNorm(CpuThreadPool pool, Tensor x, Tensor weight, float eps)
    {
        int d = x.Dim(-1);
        if (weight.Length != d) throw new ArgumentException($"RmsNorm: weight {weight} does not match x {x}");
        return Run(pool, x, null, weight, d, eps);
    }

    /// <summary>See <see cref="IBackend.GatedRmsNorm"/>: g = y·silu(z), RMS-normalised per group of groupSize channels, times w.</summary>
    public static Tensor GatedRmsNorm(CpuThreadPool pool, Tensor y, Tensor z, Tensor weight, int groupSize, float eps)
    {
        Check.SameShape(y, z, "GatedRmsNorm");
        int d = y.Dim(-1);
        if (weight.Length != d || groupSize <= 0 || d % groupSize != 0)
            throw new ArgumentException($"GatedRmsNorm: weight {weight} / group size {groupSize} do not fit y {y}");
        return Run(pool, y, z, weight, groupSize, eps);
    }

    private static Tensor Run(CpuThreadPool pool, Tensor x, Tensor? gate, Tensor weight, int groupSize, float eps)
    {
        int d = x.Dim(-1);
        int rows = d == 0 ? 0 : (int)(x.Length / d);
        Tensor xs = KernelSupport.LastDimRows(x, out long ldx), ws = KernelSupport.F32(weight);
        long ldz = 0;
        Tensor? zs = gate == null ? null : KernelSupport.LastDimRows(gate, out ldz);
        var y = Tensor.Zeros(DType.F32, x.ShapeArray);
        var body = new RowsBody
        {
            X = KernelSupport.Ptr(xs), Z = zs == null ? null : KernelSupport.Ptr(zs), W = KernelSupport.Ptr(ws), Y = KernelSupport.Ptr(y),
            LdX = ldx, LdZ = ldz, Rows = rows, D = d, GroupSize = groupSize, Eps = eps, Blocks = KernelSupport.BlockCount(rows, pool),
        };
        KernelSupport.For(pool, body.Blocks, (long)rows * d, ref body);
        GC.KeepAlive(xs); GC.KeepAlive(ws); GC.KeepAlive(zs);
        return y;
    }

    private struct RowsBody : IParallelBody
    {
        public float* X, Z, W, Y;
        public long LdX, LdZ;
        public int Rows, D, GroupSize, Blocks;
        public float Eps;

        public readonly void Invoke(int block)
        {
            var (r0, r1) = KernelSupport.BlockRange(Rows, Blocks, block);
            float[]? scratch = Z != null ? new float[D] : null;
            var w = new ReadOnlySpan<float>(W, D);
            for (int r = r0; r < r1; r++)
            {
                var x = new ReadOnlySpan<float>(X + r * LdX, D);
                var y = new Span<float>(Y + (long)r * D, D);
                if (scratch != null)
                {
                    // y·silu(z), then the group norms run on it in place
                    new ReadOnlySpan<float>(Z + r * LdZ, D).CopyTo(y);
                    Simd.SiluInPlace(y, scratch);
                    TensorPrimitives.Multiply(y, x, y);
                    x = y;
                }
                for (int g0 = 0; g0 < D; g0 += GroupSize)
                {
                    var src = x.Slice(g0, GroupSize);
                    var dst = y.Slice(g0, GroupSize);
                    float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(src) / GroupSize + Eps);
                    TensorPrimitives.Multiply(src, inv, dst);
                    TensorPrimitives.Multiply(dst, w.Slice(g0, GroupSize), dst);
                }
            }
        }
    }
}
