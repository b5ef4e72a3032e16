// One recurrent SSM step for a batch of sequences (decode): a single fused pass over the (B, H, P, N) state per token.
using System.Runtime.Intrinsics;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Threading;

namespace MambaVL.Cpu.Kernels;

public static unsafe class SsmStepKernel
{
    /// <summary>See <see cref="IBackend.SsmStep"/>. x (B, H, P); dt (B, H); b, c (B, G, N); state (B, H, P, N) in place → (B, H, P).</summary>
    public static Tensor Step(CpuThreadPool pool, Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state)
    {
        SsmCommon.CheckShapes("SsmStep", x, dt, b, c, out int bt, out int h, out int pd, out int g, out int n);
        Core.Reference.Check.Shape(state, "SsmStep state", bt, h, pd, n);
        Core.Reference.Check.F32Contiguous(state, "SsmStep state");
        var k = new SsmConstants(p, h, pd, "SsmStep");
        Tensor xs = KernelSupport.Rows(x, out long ldx), dts = KernelSupport.Rows(dt, out long lddt),
            bs = KernelSupport.Rows(b, out long ldb), cs = KernelSupport.Rows(c, out long ldc);
        var y = Tensor.Zeros(DType.F32, bt, h, pd);
        var body = new StepBody
        {
            X = KernelSupport.Ptr(xs), Dt = KernelSupport.Ptr(dts), B = KernelSupport.Ptr(bs), C = KernelSupport.Ptr(cs),
            Y = KernelSupport.Ptr(y), S = KernelSupport.Ptr(state), A = KernelSupport.Ptr(k.A), DtBias = KernelSupport.Ptr(k.DtBias),
            D = k.D == null ? null : KernelSupport.Ptr(k.D), DPerChannel = k.DPerChannel, DtMin = k.DtMin, DtMax = k.DtMax,
            LdX = ldx, LdDt = lddt, LdB = ldb, LdC = ldc, H = h, P = pd, G = g, N = n,
        };
        KernelSupport.For(pool, bt * h, (long)bt * h * pd * n, ref body);
        k.KeepAlive(); GC.KeepAlive(xs); GC.KeepAlive(dts); GC.KeepAlive(bs); GC.KeepAlive(cs); GC.KeepAlive(state);
        return y;
    }

    private struct StepBody : IParallelBody
    {
        public float* X, Dt, B, C, Y, S, A, DtBias, D;
        public bool DPerChannel;
        public float DtMin, DtMax;
        public long LdX, LdDt, LdB, LdC;  // row strides (floats per sequence) of x, dt, B and C
        public int H, P, G, N;

        /// <summary>Sequence index / H, head index % H: S = exp(dt'·A)·S + dt'·x ⊗ B; y = S·C + D·x.</summary>
        public void Invoke(int index)
        {
            int bi = index / H, hi = index % H, gi = hi / (H / G);
            float dtp = SsmCommon.DtPrime(Dt[bi * LdDt + hi], DtBias[hi], DtMin, DtMax);
            float decay = MathF.Exp(Math.Min(dtp * A[hi], 0f));
            float* bv = B + bi * LdB + (long)gi * N, cv = C + bi * LdC + (long)gi * N;
            float* x = X + bi * LdX + (long)hi * P, y = Y + (long)index * P, s = S + (long)index * P * N;
            for (int pi = 0; pi < P; pi++, s += N)
            {
                float skip = D == null ? 0f : DPerChannel ? D[(long)hi * P + pi] : D[hi];
                y[pi] = UpdateRow(s, bv, cv, decay, dtp * x[pi]) + skip * x[pi];
            }
        }

        /// <summary>s = decay·s + u·b over N, returning s·c.</summary>
        private readonly float UpdateRow(float* s, float* b, float* c, float decay, float u)
        {
            int j = 0;
            float dot = 0;
            if (Vector512.IsHardwareAccelerated && N >= 16)
            {
                var vd = Vector512.Create(decay); var vu = Vector512.Create(u);
                var acc = Vector512<float>.Zero;
                for (; j + 16 <= N; j += 16)
                {
                    var sv = Vector512.FusedMultiplyAdd(vd, Vector512.Load(s + j), vu * Vector512.Load(b + j));
                    sv.Store(s + j);
                    acc = Vector512.FusedMultiplyAdd(sv, Vector512.Load(c + j), acc);
                }
                dot = Vector512.Sum(acc);
            }
            for (; j < N; j++)
            {
                s[j] = MathF.FusedMultiplyAdd(decay, s[j], u * b[j]);
                dot = MathF.FusedMultiplyAdd(s[j], c[j], dot);
            }
            return dot;
        }
    }
}
