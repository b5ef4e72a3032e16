// What the chunked scan and the recurrent step share: argument checks and the discretised step dt'.
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu.Kernels;

/// <summary>Per-head SSM constants as contiguous F32 tensors plus their layout facts.</summary>
internal readonly struct SsmConstants
{
    public readonly Tensor A, DtBias;
    public readonly Tensor? D;
    public readonly bool DPerChannel;  // D is (H, P) rather than (H)
    public readonly float DtMin, DtMax;

    public SsmConstants(SsmParams p, int h, int pd, string op)
    {
        Check.Shape(p.A, $"{op} A", h);
        Check.Shape(p.DtBias, $"{op} dt_bias", h);
        if (p.D != null && p.D.Length != h && p.D.Length != (long)h * pd)
            throw new ArgumentException($"{op}: D {p.D} is neither ({h}) nor ({h}, {pd})");
        A = KernelSupport.F32(p.A);
        DtBias = KernelSupport.F32(p.DtBias);
        D = p.D == null ? null : KernelSupport.F32(p.D);
        DPerChannel = p.D != null && p.D.Length != h;
        DtMin = p.DtMin;
        DtMax = p.DtMax;
    }

    public void KeepAlive() { GC.KeepAlive(A); GC.KeepAlive(DtBias); GC.KeepAlive(D); }
}

internal static unsafe class SsmCommon
{
    /// <summary>dt' = clamp(softplus(raw + bias), min, max) with torch's softplus threshold of 20.</summary>
    public static float DtPrime(float raw, float bias, float dtMin, float dtMax)
    {
        double v = (double)raw + bias;
        double sp = v > 20 ? v : Math.Log(1.0 + Math.Exp(v));
        return (float)Math.Clamp(sp, dtMin, dtMax);
    }

    /// <summary>Checks the shapes shared by SsdScan (lead = [T]) and SsmStep (lead = [B]); returns the group count.</summary>
    public static void CheckShapes(string op, Tensor x, Tensor dt, Tensor b, Tensor c, out int lead, out int h, out int pd, out int g, out int n)
    {
        Check.Rank(x, 3, $"{op} x"); Check.Rank(b, 3, $"{op} B");
        lead = x.Dim(0); h = x.Dim(1); pd = x.Dim(2); g = b.Dim(1); n = b.Dim(2);
        Check.Shape(dt, $"{op} dt", lead, h);
        Check.Shape(b, $"{op} B", lead, g, n);
        Check.Shape(c, $"{op} C", lead, g, n);
        if (g <= 0 || h % g != 0) throw new ArgumentException($"{op}: {h} heads do not split into {g} groups");
    }
}
