// Released activations go back to the native block pool: the next tensor of that size gets a zeroed block, and a
// released tensor refuses further use instead of reading memory that now belongs to another tensor.
using MambaVL.Core.Tensors;

namespace MambaVL.Ops.Tests.Core;

public class StoragePoolTests
{
    [Fact]
    public void A_reused_block_comes_back_zeroed()
    {
        const int n = 12_345;  // an unusual size: the block is this test's own
        var first = Tensor.FromArray(Enumerable.Repeat(7f, n).ToArray(), n);
        first.ReleaseNative();
        for (int i = 0; i < 3; i++)
        {
            var next = Tensor.Zeros(DType.F32, n);
            Assert.All(next.Span<float>().ToArray(), v => Assert.Equal(0f, v));
            next.Span<float>().Fill(3f);
            next.ReleaseNative();
        }
    }

    [Fact]
    public void A_released_tensor_cannot_be_read()
    {
        var t = Tensor.FromArray([1f, 2f, 3f], 3);
        t.ReleaseNative();
        Assert.Throws<ObjectDisposedException>(() => t.ToFloatArray());
        t.ReleaseNative();  // twice is harmless
    }
}
