// One case record per op (llama.cpp test-backend-ops style): the parameters, a readable name and the inputs it builds.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Ops.Tests;

public enum SkipKind { None, PerHead, PerChannel }

public sealed record SsmCase(int T, int H, int P, int N, int G, int Chunk, SkipKind D, float DtMax = float.PositiveInfinity, int Seed = 1)
{
    public override string ToString() =>
        $"SSM(T/B={T}, H={H}, P={P}, N={N}, G={G}, chunk={Chunk}, D={D}, dtMax={DtMax}, seed={Seed})";

    /// <summary>x (T, H, P), dt (T, H), B and C (T, G, N), a random initial state (H, P, N) and the per-head constants.</summary>
    public (Tensor X, Tensor Dt, Tensor B, Tensor C, SsmParams P, Tensor State) Build()
    {
        var r = new Inputs(Seed);
        Tensor? d = D switch { SkipKind.PerHead => r.Uniform(0.5f, 1.5f, H), SkipKind.PerChannel => r.Uniform(0.5f, 1.5f, H, P), _ => null };
        var p = new SsmParams(r.A(H), r.DtBias(H), d, 0f, DtMax);
        return (r.Uniform(-1, 1, T, H, P), r.DtRaw(T, H), r.Uniform(-1, 1, T, G, N), r.Uniform(-1, 1, T, G, N), p, r.Uniform(-1, 1, H, P, N));
    }
}

public sealed record ConvCase(int T, int C, int W, bool Bias, bool Silu, int Seed = 1)
{
    public override string ToString() => $"Conv1d(T/B={T}, C={C}, W={W}, bias={Bias}, silu={Silu})";

    /// <summary>x (T, C), weight (C, W), bias (C)?, a random conv state (C, W-1).</summary>
    public (Tensor X, Tensor Weight, Tensor? Bias, Tensor State) Build()
    {
        var r = new Inputs(Seed);
        return (r.Uniform(-2, 2, T, C), r.Uniform(-0.5f, 0.5f, C, W), Bias ? r.Uniform(-0.5f, 0.5f, C) : null, r.Uniform(-2, 2, C, W - 1));
    }
}

public sealed record NormCase(int M, int D, int GroupSize, bool Gated, int Seed = 1)
{
    public override string ToString() => Gated ? $"GatedRmsNorm(M={M}, D={D}, group={GroupSize})" : $"RmsNorm(M={M}, D={D})";

    public (Tensor X, Tensor Z, Tensor W) Build()
    {
        var r = new Inputs(Seed);
        return (r.Uniform(-3, 3, M, D), r.Uniform(-4, 4, M, D), r.Uniform(0.5f, 1.5f, D));
    }
}

public static class OpCases
{
    public static IEnumerable<SsmCase> Scans() =>
    [
        new(1, 1, 1, 1, 1, 1, SkipKind.None),
        new(33, 4, 3, 5, 2, 7, SkipKind.PerHead),
        new(31, 2, 33, 17, 1, 64, SkipKind.PerChannel),
        new(257, 4, 16, 31, 4, 64, SkipKind.PerHead, 0.05f),
        new(70, 8, 64, 32, 2, 256, SkipKind.None),
        new(300, 2, 31, 64, 1, 256, SkipKind.PerChannel),
        new(64, 6, 24, 48, 3, 1, SkipKind.PerHead),
        new(5, 3, 65, 3, 1, 7, SkipKind.None),
    ];

    public static IEnumerable<SsmCase> Steps() =>
    [
        new(1, 1, 1, 1, 1, 1, SkipKind.None),
        new(3, 4, 3, 33, 2, 1, SkipKind.PerHead),
        new(2, 8, 64, 128, 4, 1, SkipKind.PerChannel, 0.05f),
        new(5, 2, 31, 17, 1, 1, SkipKind.None),
    ];

    public static IEnumerable<ConvCase> Convs() =>
    [
        new(1, 1, 2, false, false),
        new(33, 31, 4, true, true),
        new(2, 33, 4, true, true),
        new(257, 3, 2, false, true),
        new(5, 257, 7, true, false),
        new(1, 17, 4, true, true),
    ];

    public static IEnumerable<NormCase> Norms() =>
    [
        new(1, 1, 1, false), new(3, 31, 31, false), new(33, 257, 257, false),
        new(1, 1, 1, true), new(3, 32, 8, true), new(33, 256, 64, true), new(2, 257, 257, true), new(4, 12, 3, true),
    ];

    public static TheoryData<T> Data<T>(IEnumerable<T> cases)
    {
        var data = new TheoryData<T>();
        foreach (var c in cases) data.Add(c);
        return data;
    }
}
