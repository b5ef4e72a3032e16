// CpuBackend against ReferenceBackend for every non-GEMM op of the backend contract, over the cases in OpCases.
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Ops.Tests;

public sealed class OpConformanceTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);
    private static readonly ReferenceBackend Ref = ReferenceBackend.Instance;

    public static TheoryData<SsmCase> ScanCases => OpCases.Data(OpCases.Scans());
    public static TheoryData<SsmCase> StepCases => OpCases.Data(OpCases.Steps());
    public static TheoryData<ConvCase> ConvCases => OpCases.Data(OpCases.Convs());
    public static TheoryData<NormCase> NormCases => OpCases.Data(OpCases.Norms());

    [Theory, MemberData(nameof(ScanCases))]
    public void SsdScan_matches_reference(SsmCase k)
    {
        var (x, dt, b, c, p, state) = k.Build();
        Tensor sRef = OpCheck.Copy(state), sCpu = OpCheck.Copy(state);
        var yRef = Ref.SsdScan(x, dt, b, c, p, sRef, k.Chunk);
        var yCpu = _cpu.SsdScan(x, dt, b, c, p, sCpu, k.Chunk);
        OpCheck.Close(yCpu, yRef, Tolerances.SsdScan, $"{k} y");
        OpCheck.Close(sCpu, sRef, Tolerances.SsdScan, $"{k} state");
    }

    [Theory, MemberData(nameof(ScanCases))]
    public void SsdScan_does_not_depend_on_chunk_size(SsmCase k)
    {
        var (x, dt, b, c, p, state) = k.Build();
        Tensor s1 = OpCheck.Copy(state), s2 = OpCheck.Copy(state);
        var y1 = _cpu.SsdScan(x, dt, b, c, p, s1, 1);
        var y2 = _cpu.SsdScan(x, dt, b, c, p, s2, k.Chunk + 3);
        OpCheck.Close(y2, y1, Tolerances.SsdScan, $"{k} y, chunk {k.Chunk + 3} vs 1");
        OpCheck.Close(s2, s1, Tolerances.SsdScan, $"{k} state");
    }

    [Theory, MemberData(nameof(StepCases))]
    public void SsmStep_matches_reference(SsmCase k)
    {
        // T plays the batch here: x (B, H, P), state (B, H, P, N)
        var (x, dt, b, c, p, _) = k.Build();
        var state = new Inputs(k.Seed + 7).Uniform(-1, 1, k.T, k.H, k.P, k.N);
        Tensor sRef = OpCheck.Copy(state), sCpu = OpCheck.Copy(state);
        var yRef = Ref.SsmStep(x, dt, b, c, p, sRef);
        var yCpu = _cpu.SsmStep(x, dt, b, c, p, sCpu);
        OpCheck.Close(yCpu, yRef, Tolerances.SsmStep, $"{k} y");
        OpCheck.Close(sCpu, sRef, Tolerances.SsmStep, $"{k} state");
    }

    [Theory, MemberData(nameof(ConvCases))]
    public void CausalConv1d_matches_reference(ConvCase k)
    {
        var (x, w, bias, state) = k.Build();
        Tensor sRef = OpCheck.Copy(state), sCpu = OpCheck.Copy(state);
        var yRef = Ref.CausalConv1d(x, w, bias, sRef, k.Silu);
        var yCpu = _cpu.CausalConv1d(x, w, bias, sCpu, k.Silu);
        OpCheck.Close(yCpu, yRef, Tolerances.CausalConv1d, $"{k} y");
        Assert.Equal(sRef.ToFloatArray(), sCpu.ToFloatArray());  // the state is a copy of inputs: exact
    }

    [Theory, MemberData(nameof(ConvCases))]
    public void CausalConv1dStep_matches_reference(ConvCase k)
    {
        // T plays the batch here: x (B, C), state (B, C, W-1)
        var (x, w, bias, _) = k.Build();
        var state = new Inputs(k.Seed + 3).Uniform(-2, 2, k.T, k.C, k.W - 1);
        Tensor sRef = OpCheck.Copy(state), sCpu = OpCheck.Copy(state);
        var yRef = Ref.CausalConv1dStep(x, w, bias, sRef, k.Silu);
        var yCpu = _cpu.CausalConv1dStep(x, w, bias, sCpu, k.Silu);
        OpCheck.Close(yCpu, yRef, Tolerances.CausalConv1d, $"{k} y");
        Assert.Equal(sRef.ToFloatArray(), sCpu.ToFloatArray());
    }

    [Theory, MemberData(nameof(NormCases))]
    public void Norm_matches_reference(NormCase k)
    {
        var (x, z, w) = k.Build();
        var yRef = k.Gated ? Ref.GatedRmsNorm(x, z, w, k.GroupSize, 1e-5f) : Ref.RmsNorm(x, w, 1e-5f);
        var yCpu = k.Gated ? _cpu.GatedRmsNorm(x, z, w, k.GroupSize, 1e-5f) : _cpu.RmsNorm(x, w, 1e-5f);
        OpCheck.Close(yCpu, yRef, k.Gated ? Tolerances.GatedRmsNorm : Tolerances.RmsNorm, k.ToString());
    }

    [Theory, MemberData(nameof(NormCases))]
    public void AddInPlace_matches_reference(NormCase k)
    {
        var (x, z, _) = k.Build();
        Tensor accRef = OpCheck.Copy(x), accCpu = OpCheck.Copy(x);
        Ref.AddInPlace(accRef, z);
        _cpu.AddInPlace(accCpu, z);
        OpCheck.Close(accCpu, accRef, Tolerances.AddInPlace, $"AddInPlace({k.M}x{k.D})");
    }

    [Fact]
    public void Bad_shapes_name_the_op()
    {
        var (x, dt, b, c, p, state) = new SsmCase(4, 2, 3, 5, 1, 2, SkipKind.None).Build();
        var ex = Assert.Throws<ArgumentException>(() => _cpu.SsdScan(x, dt, b, c, p, Tensor.Zeros(DType.F32, 2, 3, 4), 2));
        Assert.Contains("SsdScan state", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => _cpu.SsdScan(x, dt.Narrow(0, 0, 3), b, c, p, state, 2));
        Assert.Contains("SsdScan dt", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => _cpu.CausalConv1d(Tensor.Zeros(DType.F32, 3, 4), Tensor.Zeros(DType.F32, 4, 4), null, Tensor.Zeros(DType.F32, 4, 2), true));
        Assert.Contains("CausalConv1d convState", ex.Message);
    }

    public void Dispose() => _cpu.Dispose();
}
