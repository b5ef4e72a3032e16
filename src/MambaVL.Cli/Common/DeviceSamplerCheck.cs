// Selfcheck rows for sampling on the GPU: the device chain (ITokenSampler) against the host Sampler's stages
// (Candidates) on random vocabulary-sized logits, for greedy and sampled settings, with and without the repetition
// penalty, over many uniforms; a row fails on any id that differs.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cuda;
using MambaVL.Generation.Sampling;

namespace MambaVL.Cli.Common;

public static class DeviceSamplerCheck
{
    private sealed record Setting(string Name, float Temperature, int TopK, float TopP, float MinP, float Penalty);

    private static readonly Setting[] Settings =
    [
        new("greedy", 0f, 40, 1f, 0f, 1f),
        new("greedy, penalty 1.3", 0f, 40, 1f, 0f, 1.3f),
        new("t 0.8, k 40, p 0.95, min-p 0.05", 0.8f, 40, 0.95f, 0.05f, 1f),
        new("t 1.3, k 1000, p 0.6", 1.3f, 1000, 0.6f, 0f, 1f),
        new("t 0.7, k 5, min-p 0.2, penalty 1.3", 0.7f, 5, 1f, 0.2f, 1.3f),
    ];

    public static IEnumerable<SelfCheckRow> Run(CudaBackend gpu)
    {
        const int vocab = 50288, limit = 50277, draws = 64;
        var rng = new Random(11);
        // two rows; the second is sampled. Some exact ties (a block of equal logits) test the id order at the cut.
        var values = new float[2 * vocab];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * 4f;
        for (int i = vocab + 100; i < vocab + 140; i++) values[i] = 6.5f;
        var logits = Tensor.FromArray(values, 2, vocab);
        var onGpu = gpu.Upload(logits);
        var row = values.AsSpan(vocab, limit).ToArray();
        int[] penalized = Enumerable.Range(0, 30).Select(i => 100 + i * 3).ToArray();
        foreach (var s in Settings)
        {
            int[] ids = s.Penalty == 1f ? [] : penalized;
            int differ = 0;
            for (int d = 0; d < draws; d++)
            {
                double u = (d + 0.5) / draws;
                var request = new TokenSamplingRequest(s.Temperature, s.TopK, s.TopP, s.MinP, s.Penalty, ids, u);
                if (gpu.SampleToken(onGpu, 1, limit, request) != Sampler.Reference(row, request)) differ++;
                if (s.Temperature <= 0f) break;   // one draw says all for greedy
            }
            yield return new SelfCheckRow("TokenSampler", $"{s.Name}, V={limit}", "f32", differ, 0);
        }
    }
}
