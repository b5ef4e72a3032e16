// Tensor views and copies: narrow/transpose views read the right elements, and ContiguousCopy equals the element-wise walk.
using MambaVL.Core.Tensors;

namespace MambaVL.Ops.Tests.Core;

public class TensorViewTests
{
    private static Tensor Iota(params int[] shape)
    {
        long n = 1; foreach (int d in shape) n *= d;
        return Tensor.FromArray(Enumerable.Range(0, (int)n).Select(i => (float)i).ToArray(), shape);
    }

    [Theory]
    [InlineData(0, 1, 3)]   // row slice: stays contiguous
    [InlineData(1, 2, 5)]   // column slice: one run per row
    [InlineData(2, 3, 1)]   // innermost slice of width 1
    [InlineData(2, 0, 7)]   // whole innermost dim
    public void NarrowedCopyMatchesElementWalk(int dim, int start, int length)
    {
        var t = Iota(4, 9, 7).Narrow(dim, start, length);
        var copy = t.ContiguousCopy();
        Assert.True(copy.IsContiguous);
        Assert.Equal(t.ShapeArray, copy.ShapeArray);
        Assert.Equal(t.ToFloatArray(), copy.Span<float>().ToArray());
        // spot check against index arithmetic on the source
        int[] s = t.ShapeArray;
        int last = s[0] * s[1] * s[2] - 1;
        int i0 = last / (s[1] * s[2]), i1 = last / s[2] % s[1], i2 = last % s[2];
        int[] src = { i0, i1, i2 }; src[dim] += start;
        Assert.Equal((float)(src[0] * 63 + src[1] * 7 + src[2]), copy.Span<float>()[last]);
    }

    [Fact]
    public void TransposedCopyOfBf16KeepsBits()
    {
        var bits = Enumerable.Range(0, 15).Select(i => Half16.FloatToBF16(i * 0.5f - 3)).ToArray();
        var t = Tensor.FromArray(bits, DType.BF16, 3, 5).Transpose(0, 1);  // (5, 3), strides (1, 5)
        var copy = t.ContiguousCopy();
        Assert.Equal(DType.BF16, copy.DType);
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 3; c++)
                Assert.Equal(bits[c * 5 + r], copy.Span<ushort>()[r * 3 + c]);
    }

    [Fact]
    public void ContiguousTensorIsReturnedAsIs()
    {
        var t = Iota(2, 3);
        Assert.Same(t, t.ContiguousCopy());
    }

    [Fact]
    public void PatchesByNarrowSplitAndPermuteMatchIndexArithmetic()
    {
        // (C, H, W) = (3, 11, 10), patch 3: the 3×3 grid of patches covers rows/cols 0..8, as a ViT's conv does
        int c = 3, h = 11, w = 10, p = 3, g = 3;
        var img = Iota(c, h, w);
        var patches = img.Narrow(1, 0, g * p).Narrow(2, 0, g * p).SplitDim(2, g, p).SplitDim(1, g, p)
            .Permute(1, 3, 0, 2, 4).ContiguousCopy().Reshape(g * g, c * p * p);
        var values = patches.ToFloatArray();
        for (int gy = 0; gy < g; gy++)
            for (int gx = 0; gx < g; gx++)
                for (int ch = 0; ch < c; ch++)
                    for (int dy = 0; dy < p; dy++)
                        for (int dx = 0; dx < p; dx++)
                        {
                            float expected = ch * h * w + (gy * p + dy) * w + gx * p + dx;
                            Assert.Equal(expected, values[(gy * g + gx) * c * p * p + (ch * p + dy) * p + dx]);
                        }
    }

    [Fact]
    public void SplitAndPermuteRejectBadArguments()
    {
        var t = Iota(2, 6);
        Assert.Throws<ArgumentException>(() => t.SplitDim(1, 4, 2));
        Assert.Throws<ArgumentException>(() => t.Permute(0, 0));
        Assert.Throws<ArgumentException>(() => t.Permute(1));
        Assert.Equal(new[] { 6, 2 }, t.Permute(1, 0).ShapeArray);
    }

    [Fact]
    public void FlipReversesADimensionAndCopiesBack()
    {
        var t = Iota(4, 3);
        var flipped = t.Flip(0);
        Assert.Equal(new float[] { 9, 10, 11, 6, 7, 8, 3, 4, 5, 0, 1, 2 }, flipped.ToFloatArray());
        Assert.Equal(flipped.ToFloatArray(), flipped.ContiguousCopy().Span<float>().ToArray());
        Assert.Equal(t.ToFloatArray(), flipped.ContiguousCopy().Flip(0).ContiguousCopy().Span<float>().ToArray());
        Assert.Equal(new float[] { 2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9 }, t.Flip(-1).ToFloatArray());
    }

    [Fact]
    public void CopyFromWritesIntoRowAndColumnViews()
    {
        var cache = Tensor.Zeros(DType.F32, 6, 4);
        cache.Narrow(0, 2, 3).CopyFrom(Iota(3, 4));                   // rows 2..4
        cache.Narrow(1, 1, 2).Narrow(0, 0, 1).CopyFrom(Iota(1, 2).Flip(1));  // a strided source into a column view
        var v = cache.ToFloatArray();
        Assert.Equal(new float[] { 0, 1, 0, 0 }, v[0..4]);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), v[8..20]);
        Assert.Equal(new float[] { 0, 0, 0, 0 }, v[20..24]);
        Assert.Throws<ArgumentException>(() => cache.Narrow(0, 0, 2).CopyFrom(Iota(3, 4)));
    }
}
