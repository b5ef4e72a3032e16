// The fast embedding gather against the reference backend for every table dtype, and its out-of-range error.
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Ops.Tests.Linear;

public class EmbeddingTests
{
    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void GatherMatchesTheReferenceExactly(DType type)
    {
        var table = MatMulConformanceTests.Random(new Random(7), 50, 37).ToDType(type);
        int[] ids = [0, 49, 3, 3, 17];
        Assert.Equal(ReferenceBackend.Instance.Embedding(table, ids).ToFloatArray(), new CpuBackend(1).Embedding(table, ids).ToFloatArray());
    }

    [Theory]
    [InlineData(50)]
    [InlineData(-1)]
    public void OutOfRangeIdsNameTheIdAndTheVocabulary(int id)
    {
        var table = Tensor.Zeros(DType.BF16, 50, 8);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new CpuBackend(1).Embedding(table, [1, id]));
        Assert.Contains(id.ToString(), e.Message);
        Assert.Contains("vocabulary of 50", e.Message);
    }
}
