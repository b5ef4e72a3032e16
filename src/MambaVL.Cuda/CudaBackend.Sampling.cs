// Token sampling on the GPU (ITokenSampler): the chain of the host Sampler in one kernel (Kernels/sampling.cu), so a
// decode step sends back one id instead of a vocabulary of logits.
using System.Runtime.InteropServices;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed partial class CudaBackend : ITokenSampler
{
    public int MaxTopK => 1024;          // SAMPLE_MAX_K in sampling.cu
    public int MaxPenalizedIds => 4096;  // a kernel argument buffer, read once

    public int SampleToken(Tensor logits, int row, int vocabLimit, TokenSamplingRequest request)
    {
        if (logits.Rank != 2 || (uint)row >= (uint)logits.Dim(0)) throw new ArgumentException($"SampleToken: row {row} of logits {logits}");
        if (vocabLimit < 1 || vocabLimit > logits.Dim(1)) throw new ArgumentException($"SampleToken: vocab limit {vocabLimit} outside 1..{logits.Dim(1)}");
        bool greedy = request.Temperature <= 0f;
        if (!greedy && (request.TopK < 1 || request.TopK > MaxTopK || request.TopK >= vocabLimit))
            throw new ArgumentException($"SampleToken: top-k {request.TopK} must be in 1..{Math.Min(MaxTopK, vocabLimit - 1)} on CUDA (sample on the host otherwise)");
        if (request.PenalizedIds.Length > MaxPenalizedIds) throw new ArgumentException($"SampleToken: {request.PenalizedIds.Length} penalised ids (at most {MaxPenalizedIds})");
        foreach (int id in request.PenalizedIds)
            if ((uint)id >= (uint)vocabLimit) throw new ArgumentException($"SampleToken: penalised id {id} is outside the vocab limit {vocabLimit}");
        var rowLogits = Contiguous(F32(logits, "SampleToken logits").Narrow(0, row, 1));
        using var work = Gpu.Allocate((long)vocabLimit * sizeof(float));
        using var result = Gpu.Allocate(sizeof(int));
        using var penalized = request.PenalizedIds.Length > 0 ? Gpu.UploadBytes(MemoryMarshal.AsBytes(request.PenalizedIds.AsSpan())) : null;
        Gpu.Launch("sampling", "sample_token", (1, 1), 1024, 0, Address(rowLogits), work.Pointer, vocabLimit,
            penalized?.Pointer ?? 0UL, request.PenalizedIds.Length, request.RepeatPenalty, request.Temperature,
            greedy ? 0 : request.TopK, request.TopP, request.MinP, request.Uniform, result.Pointer);
        Span<int> picked = stackalloc int[1];
        Gpu.Read(result.Pointer, MemoryMarshal.AsBytes(picked));
        return picked[0];
    }
}
