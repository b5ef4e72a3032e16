// Sampling where the logits are (ITokenSampler, the GPU's sampler): a generation on a backend that samples must pick the
// same ids as the host Sampler for the same seed (the device gets the same uniform and the same penalised ids), use the
// device for greedy and supported top-k, and stay on the host (drawing nothing extra) when the chain is not supported.
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Generation.Sampling;
using MambaVL.Tests.Shared;

namespace MambaVL.Generation.Tests;

public sealed class DeviceSamplingTests
{
    /// <summary>A "device" that runs the host chain on the request it is given, and records the requests.</summary>
    private sealed class SamplingBackend() : DelegatingBackend(ReferenceBackend.Instance), ITokenSampler
    {
        public readonly List<TokenSamplingRequest> Requests = [];
        public int MaxTopK => 8;
        public int MaxPenalizedIds => 16;

        public int SampleToken(Tensor logits, int row, int vocabLimit, TokenSamplingRequest r)
        {
            Requests.Add(r);
            Assert.Equal(r.PenalizedIds.Length, r.PenalizedIds.Distinct().Count());
            return Sampler.Reference(ToHost(logits).AsSpan(row * logits.Dim(1), vocabLimit), r);
        }
    }

    /// <summary>The mock model with another backend in front.</summary>
    private sealed class OnBackend(ILanguageModel inner, IBackend backend) : ILanguageModel
    {
        public int VocabSize => inner.VocabSize;
        public IBackend Backend => backend;
        public IModelState CreateState(int batchSize = 1) => inner.CreateState(batchSize);
        public Tensor Prefill(ReadOnlySpan<int> ids, IModelState state, bool allLogits = false) => inner.Prefill(ids, state, allLogits);
        public Tensor Step(ReadOnlySpan<int> ids, IModelState state) => inner.Step(ids, state);
    }

    public static TheoryData<float, int, float, float, float> Chains => new()
    {
        { 0f, 40, 1f, 0f, 1f },          // greedy
        { 0f, 40, 1f, 0f, 1.4f },        // greedy with the penalty
        { 0.9f, 5, 0.9f, 0.05f, 1.3f },  // the whole chain
        { 1.2f, 8, 1f, 0f, 1f },
    };

    [Theory, MemberData(nameof(Chains))]
    public void The_device_picks_the_hosts_ids_for_the_same_seed(float temperature, int topK, float topP, float minP, float penalty)
    {
        var options = new GenerationOptions
        {
            MaxTokens = 24, SampleVocabLimit = 60,
            Sampling = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, RepeatPenalty = penalty, RepeatLastN = 6, Seed = 5 },
        };
        var host = new Generator(MockModel.Hashed(64)).Generate([2, 3, 2], options).Ids;
        var device = new SamplingBackend();
        var onDevice = new Generator(new OnBackend(MockModel.Hashed(64), device)).Generate([2, 3, 2], options).Ids;
        Assert.Equal(host, onDevice);
        Assert.Equal(24, device.Requests.Count);   // every token was picked on the device
        Assert.All(device.Requests, r => Assert.True(r.PenalizedIds.Length <= 6 && (penalty == 1f) == (r.PenalizedIds.Length == 0)));
    }

    [Theory]
    [InlineData(0)]    // no top-k: the whole vocabulary, which the device chain does not sort
    [InlineData(9)]    // above this device's MaxTopK
    public void Chains_the_device_cannot_run_stay_on_the_host_and_draw_the_same(int topK)
    {
        var options = new GenerationOptions { MaxTokens = 16, Sampling = new SamplingOptions { Temperature = 1.1f, TopK = topK, Seed = 9 } };
        var host = new Generator(MockModel.Hashed(64)).Generate([4], options).Ids;
        var device = new SamplingBackend();
        Assert.Equal(host, new Generator(new OnBackend(MockModel.Hashed(64), device)).Generate([4], options).Ids);
        Assert.Empty(device.Requests);
    }
}
