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
}
