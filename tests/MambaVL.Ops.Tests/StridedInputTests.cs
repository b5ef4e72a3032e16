// Models hand the Mamba-2 ops column slices of the in_proj output (rows strided, each row contiguous) instead of
// copies. Every such op must read them exactly as it reads a contiguous copy: same kernel, so the same bits; and the
// reference backend must agree too.
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Ops.Tests;

public sealed class StridedInputTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);

    public static TheoryData<SsmCase> ScanCases => OpCases.Data(OpCases.Scans());
    public static TheoryData<SsmCase> StepCases => OpCases.Data(OpCases.Steps());
    public static TheoryData<ConvCase> ConvCases => OpCases.Data(OpCases.Convs());
    public static TheoryData<NormCase> NormCases => OpCases.Data(OpCases.Norms().Where(k => k.Gated));

    [Theory, MemberData(nameof(ScanCases))]
    public void SsdScan_reads_column_slices_in_place(SsmCase k)
    {
        var (x, dt, b, c, p, state) = k.Build();
        Tensor s1 = OpCheck.Copy(state), s2 = OpCheck.Copy(state), s3 = OpCheck.Copy(state);
        var y1 = _cpu.SsdScan(x, dt, b, c, p, s1, k.Chunk);
        var y2 = _cpu.SsdScan(Slice(x, 3), Slice(dt, 5), Slice(b, 1), Slice(c, 2), p, s2, k.Chunk);
        Assert.Equal(y1.ToFloatArray(), y2.ToFloatArray());
        Assert.Equal(s1.ToFloatArray(), s2.ToFloatArray());
        var y3 = ReferenceBackend.Instance.SsdScan(Slice(x, 3), Slice(dt, 5), Slice(b, 1), Slice(c, 2), p, s3, k.Chunk);
        OpCheck.Close(y2, y3, Tolerances.SsdScan, $"{k} y vs reference");
    }

    [Theory, MemberData(nameof(StepCases))]
    public void SsmStep_reads_column_slices_in_place(SsmCase k)
    {
        var (x, dt, b, c, p, _) = k.Build();
        var state = new Inputs(k.Seed + 7).Uniform(-1, 1, k.T, k.H, k.P, k.N);
        Tensor s1 = OpCheck.Copy(state), s2 = OpCheck.Copy(state);
        var y1 = _cpu.SsmStep(x, dt, b, c, p, s1);
        var y2 = _cpu.SsmStep(Slice(x, 7), Slice(dt, 1), Slice(b, 4), Slice(c, 3), p, s2);
        Assert.Equal(y1.ToFloatArray(), y2.ToFloatArray());
        Assert.Equal(s1.ToFloatArray(), s2.ToFloatArray());
    }

    [Theory, MemberData(nameof(ConvCases))]
    public void CausalConv1d_and_its_step_read_column_slices_in_place(ConvCase k)
    {
        var (x, w, bias, state) = k.Build();
        Tensor s1 = OpCheck.Copy(state), s2 = OpCheck.Copy(state);
        Assert.Equal(_cpu.CausalConv1d(x, w, bias, s1, k.Silu).ToFloatArray(), _cpu.CausalConv1d(Slice(x, 9), w, bias, s2, k.Silu).ToFloatArray());
        Assert.Equal(s1.ToFloatArray(), s2.ToFloatArray());

        var batched = new Inputs(k.Seed + 3).Uniform(-2, 2, k.T, k.C, k.W - 1);
        Tensor b1 = OpCheck.Copy(batched), b2 = OpCheck.Copy(batched);
        Assert.Equal(_cpu.CausalConv1dStep(x, w, bias, b1, k.Silu).ToFloatArray(), _cpu.CausalConv1dStep(Slice(x, 2), w, bias, b2, k.Silu).ToFloatArray());
        Assert.Equal(b1.ToFloatArray(), b2.ToFloatArray());
    }

    [Theory, MemberData(nameof(NormCases))]
    public void GatedRmsNorm_reads_column_slices_in_place(NormCase k)
    {
        var (y, z, w) = k.Build();
        Assert.Equal(_cpu.GatedRmsNorm(y, z, w, k.GroupSize, 1e-5f).ToFloatArray(),
            _cpu.GatedRmsNorm(Slice(y, 1), Slice(z, 6), w, k.GroupSize, 1e-5f).ToFloatArray());
    }

    [Fact]
    public void A_column_slice_reshapes_into_heads_without_a_copy()
    {
        var m = Tensor.FromArray(Enumerable.Range(0, 4 * 10).Select(i => (float)i).ToArray(), 4, 10);
        var heads = m.Narrow(1, 2, 6).Reshape(4, 3, 2);  // (T, H, P) view of columns 2..7
        Assert.False(heads.IsContiguous);
        Assert.Equal([10L, 2L, 1L], heads.Strides.ToArray());
        Assert.Equal(new float[] { 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 16, 17 }, heads.Narrow(0, 0, 2).ToFloatArray());
        Assert.Throws<InvalidOperationException>(() => m.Narrow(1, 2, 6).Reshape(2, 12));  // would merge strided rows
    }

    /// <summary>The same values as <paramref name="t"/>, as a column slice (at column <paramref name="left"/>) of a wider matrix of noise.</summary>
    private static Tensor Slice(Tensor t, int left)
    {
        int rows = t.Dim(0), rowLength = (int)(t.Length / rows), width = left + rowLength + 3;
        var wide = new Inputs(left + 100).Uniform(-9, 9, rows, width);
        var values = t.ToFloatArray();
        var span = wide.Span<float>();
        for (int r = 0; r < rows; r++) values.AsSpan(r * rowLength, rowLength).CopyTo(span.Slice(r * width + left, rowLength));
        var view = wide.Narrow(1, left, rowLength).Reshape(t.ShapeArray);
        Assert.False(rows > 1 && view.IsContiguous);
        return view;
    }

    public void Dispose() => _cpu.Dispose();
}
