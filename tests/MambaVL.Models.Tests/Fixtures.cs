// Shared test helpers: the golden fixture models (tests/fixtures/mamba2, made by tools/reference/mamba2/), the backends
// under test, and the error measure every parity assertion uses.
using MambaVL.Core.Config;
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;
using MambaVL.IO.Safetensors;
using MambaVL.Core.Weights;
using MambaVL.IO;
using MambaVL.Models.Mamba2;
using MambaVL.Models.MlMamba;
using MambaVL.Models.Vision;

namespace MambaVL.Models.Tests;

/// <summary>One fixture folder: config.json, model.safetensors and the goldens beside them.</summary>
public sealed class FixtureModel
{
    public string Folder { get; }
    public Mamba2Config Config { get; }
    public SafetensorsFile Weights { get; }

    public FixtureModel(string name)
    {
        Folder = Fixtures.Path(name);
        Config = Mamba2Config.FromJson(ConfigJson.Load(System.IO.Path.Combine(Folder, "config.json")));
        Weights = new SafetensorsFile(System.IO.Path.Combine(Folder, "model.safetensors"));  // mapped for the test run
    }

    public Mamba2LM Load(IBackend backend, Mamba2Config? config = null) => Mamba2LM.Load(config ?? Config, Weights, backend);

    /// <summary>A tensor of a golden file beside the model (recurrence.safetensors, hf.safetensors), as F32 values.</summary>
    public float[] Golden(string file, string name)
    {
        using var f = new SafetensorsFile(System.IO.Path.Combine(Folder, file));
        return f.Get(name).ToFloatArray();
    }

    public int[] GoldenIds(string file, string name) => Golden(file, name).Select(v => (int)v).ToArray();
}

public static class Fixtures
{
    public static readonly string[] Recurrence = ["g1_tied", "g2_untied", "g2_extras"];

    private static readonly Dictionary<string, FixtureModel> Cache = [];

    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "mamba2", name);

    public static FixtureModel Model(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var m)) Cache[name] = m = new FixtureModel(name);
            return m;
        }
    }

    public static IBackend Backend(string name) => name switch
    {
        "reference" => ReferenceBackend.Instance,
        "cpu" => new CpuBackend(2),
        _ => throw new ArgumentException(name),
    };

    public static readonly string[] Backends = ["reference", "cpu"];

    /// <summary>max |actual - expected| / max |expected|: relative to the tensor's scale, so values near zero do not dominate.</summary>
    public static double RelErr(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"NaN at {i}");
            maxDiff = Math.Max(maxDiff, Math.Abs((double)actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }
        return maxDiff / Math.Max(maxRef, 1e-30);
    }

    /// <summary>Asserts the fp32 parity bound (1e-4 relative to the tensor's scale), naming what was compared.</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, string what, double tol = 1e-4)
    {
        double err = RelErr(actual, expected);
        Assert.True(err <= tol, $"{what}: relative error {err:G3} > {tol:G3}");
    }

    public static float[] Host(this Tensor t) => t.ToFloatArray();

    /// <summary>Prefill <paramref name="prompt"/>, then <paramref name="n"/> greedy tokens by single steps.</summary>
    public static List<int> Greedy(ILanguageModel lm, int[] prompt, int n)
    {
        var state = lm.CreateState();
        var logits = lm.Prefill(prompt, state);
        var ids = new List<int>();
        while (ids.Count < n)
        {
            ids.Add(ArgMax(lm.Backend.ToHost(logits)));
            logits = lm.Step([ids[^1]], state);
        }
        return ids;
    }

    /// <summary>A clone of <paramref name="state"/> and a fresh state restored from its saved bytes (the saved stream is returned for more loads).</summary>
    public static (IModelState Clone, IModelState Restored, MemoryStream Saved) CloneAndRestore(ILanguageModel model, IModelState state)
    {
        var saved = new MemoryStream();
        state.Save(saved);
        var clone = state.Clone();
        var restored = model.CreateState();
        saved.Position = 0;
        restored.Load(saved);
        saved.Position = 0;
        return (clone, restored, saved);
    }

    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}

/// <summary>The tiny timm towers (tests/fixtures/vision) and the tiny ML-Mamba release (tests/fixtures/mlmamba) built from them.</summary>
public static class VisionFixtures
{
    public const int ImageSize = 70;

    public static string Path(params string[] parts) => System.IO.Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    /// <summary>tests/fixtures/vision/<paramref name="name"/> (dino, siglip, clip) at <paramref name="imageSize"/>.</summary>
    public static VisionTransformer Tower(string name, IBackend backend, DType? storage = null, int? imageSize = ImageSize)
    {
        var folder = ModelFolder.Open(Path("vision", name));
        return VisionTransformer.Load(ConfigJson.Load(folder.ConfigPath!), folder.OpenWeights(), backend, imageSize, storage);
    }

    public static Mamba2Config MlMambaLlmConfig() => Mamba2Config.FromJson(ConfigJson.Load(Path("mlmamba", "llm_config.json")));

    /// <summary>The fixture ML-Mamba: its latest-checkpoint.pt (or <paramref name="weights"/>) with the given connector scan.</summary>
    public static MlMambaModel MlMamba(IBackend backend, IWeightSource? weights = null, ScanOrder[]? directions = null)
    {
        var cfg = MlMambaLlmConfig();
        var vision = new DinoSigLipFeaturizer(Tower("dino", backend), Tower("siglip", backend), backend);
        weights ??= ShardedCheckpoint.OpenFile(Path("mlmamba", "latest-checkpoint.pt"), root: "model");
        return new MlMambaModel(cfg, new ScanConnectorConfig(cfg, directions ?? ScanConnectorConfig.Bidirectional), vision, weights, backend);
    }
}
