// ML-Mamba against the authors' own modules (tests/fixtures/mlmamba, made by tools/reference/mlmamba/make_goldens.py:
// the fork's Bidirectional_Mamba and MambaLMHeadModel on mamba_ssm's reference functions, fp32): a tiny random model read
// from a torch.save'd latest-checkpoint.pt as the authors write it. Connector output, visual tokens, every logit of an
// image + prompt prefill, and 20 greedy tokens decoded step by step; relative error ≤ 1e-4, tokens identical.
using MambaVL.Core.Config;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO;
using MambaVL.IO.Safetensors;
using MambaVL.Models.Mamba2;
using MambaVL.Models.MlMamba;
using MambaVL.Models.Vision;

namespace MambaVL.Models.Tests;

public sealed class MlMambaParityTests
{
    private static string Dir(params string[] parts) => System.IO.Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    private static float[] Golden(string name)
    {
        using var f = new SafetensorsFile(Dir("mlmamba", "goldens.safetensors"));
        return f.Get(name).ToFloatArray();
    }

    private static Tensor GoldenTensor(string name, params int[] shape) => Tensor.FromArray(Golden(name), shape);

    private static MlMambaModel Load(IBackend backend, IWeightSource? weights = null, ScanOrder[]? directions = null) =>
        VisionFixtures.MlMamba(backend, weights, directions);

    public static TheoryData<string> Backends => new(Fixtures.Backends);

    [Theory, MemberData(nameof(Backends))]
    public void Connector_matches_the_authors_bidirectional_mamba(string backend)
    {
        var model = Load(Fixtures.Backend(backend));
        var output = model.Connector.Forward(GoldenTensor("connector_in", 25, 64));
        Fixtures.AssertClose(output.ToFloatArray(), Golden("connector_out"), $"connector on {backend}");
    }

    [Theory, MemberData(nameof(Backends))]
    public void Visual_tokens_from_the_image_match(string backend)
    {
        var be = Fixtures.Backend(backend);
        var model = Load(be);
        using var vision = new SafetensorsFile(Dir("vision", "goldens.safetensors"));
        var pixels = vision.Get("pixels");
        var features = model.Vision.Features(pixels, pixels);
        Fixtures.AssertClose(features.ToFloatArray(), Golden("features"), "fused features");
        Fixtures.AssertClose(model.VisualTokens(features).ToFloatArray(), Golden("visual"), $"visual tokens on {backend}");
    }

    [Theory, MemberData(nameof(Backends))]
    public void Image_and_prompt_logits_match_every_position(string backend)
    {
        var model = Load(Fixtures.Backend(backend));
        var ids = Golden("ids").Select(v => (int)v).ToArray();
        var logits = model.Prefill(GoldenTensor("visual", 25, 64), ids, model.Llm.CreateState(), allLogits: true);
        Assert.Equal(new[] { 25 + ids.Length, 112 }, logits.ShapeArray);
        Fixtures.AssertClose(logits.ToFloatArray(), Golden("logits"), $"logits on {backend}");
    }

    [Fact]
    public void Twenty_greedy_tokens_decoded_step_by_step_match_the_full_reforward()
    {
        var model = Load(Fixtures.Backend("cpu"));
        var ids = Golden("ids").Select(v => (int)v).ToArray();
        var state = model.Llm.CreateState();
        var logits = model.Prefill(GoldenTensor("visual", 25, 64), ids, state).ToFloatArray();
        var expectedIds = Golden("greedy").Select(v => (int)v).ToArray();
        var expectedLogits = Golden("greedy_logits");
        var produced = new List<int>();
        for (int i = 0; i < expectedIds.Length; i++)
        {
            Fixtures.AssertClose(logits, expectedLogits.AsSpan(i * 112, 112), $"logits before token {i}");
            int next = Array.IndexOf(logits, logits.Max());
            produced.Add(next);
            logits = model.Llm.Step([next], state).ToFloatArray();
        }
        Assert.Equal(expectedIds, produced);
    }

    [Fact]
    public void Cross_scan_with_the_column_directions_switched_off_is_the_bidirectional_scan()
    {
        var weights = WithColumnDirections(copyRowWeights: false);
        var csmRowsOnly = Load(Fixtures.Backend("cpu"), weights, [ScanOrder.Rows, ScanOrder.RowsReversed]);
        var output = csmRowsOnly.Connector.Forward(GoldenTensor("connector_in", 25, 64));
        Fixtures.AssertClose(output.ToFloatArray(), Golden("connector_out"), "CSM with two directions off");
        var full = Load(Fixtures.Backend("cpu"), weights, ScanConnectorConfig.CrossScan).Connector.Forward(GoldenTensor("connector_in", 25, 64));
        Assert.True(Fixtures.RelErr(full.ToFloatArray(), Golden("connector_out")) > 1e-3, "four directions should differ from two");
    }

    [Fact]
    public void Column_scans_of_the_transposed_grid_equal_row_scans_of_the_grid()
    {
        // with the column directions given the row directions' weights, scanning columns of Xᵀ is scanning rows of X
        var weights = WithColumnDirections(copyRowWeights: true);
        var x = Golden("connector_in");
        var xt = Transpose(x, 5, 64);
        var rows = Load(Fixtures.Backend("cpu"), weights, [ScanOrder.Rows, ScanOrder.RowsReversed]).Connector.Forward(Tensor.FromArray(x, 25, 64));
        var cols = Load(Fixtures.Backend("cpu"), weights, [ScanOrder.Columns, ScanOrder.ColumnsReversed]).Connector.Forward(Tensor.FromArray(xt, 25, 64));
        Fixtures.AssertClose(Transpose(cols.ToFloatArray(), 5, 64), rows.ToFloatArray(), "column scan of the transposed grid");
    }

    [Fact]
    public void The_checkpoint_carries_a_tied_lm_head_and_the_loader_ties_it()
    {
        using var w = ShardedCheckpoint.OpenFile(Dir("mlmamba", "latest-checkpoint.pt"), root: "model");
        Assert.Contains("llm_backbone.lm_head.weight", w.Names);           // torch.save keeps both names of the shared tensor
        Assert.Contains("bidirectional_mamba.layers.1.mixer.conv1d_b.weight", w.Names);
        Assert.Contains("projector.projector.4.weight", w.Names);
    }

    /// <summary>The checkpoint plus _col / _col_b direction tensors for each connector layer (copies of the row ones, or random).</summary>
    private static DictionaryWeightSource WithColumnDirections(bool copyRowWeights)
    {
        using var w = ShardedCheckpoint.OpenFile(Dir("mlmamba", "latest-checkpoint.pt"), root: "model");
        var all = w.Names.ToDictionary(n => n, n => Tensor.FromArray(w.Get(n).ToFloatArray(), w.Get(n).ShapeArray));  // copies: the file closes below
        var rng = new Random(3);
        foreach (var name in all.Keys.Where(n => n.StartsWith("bidirectional_mamba.layers.", StringComparison.Ordinal)).ToArray())
        {
            foreach (var (row, col) in new[] { ("", "_col"), ("_b", "_col_b") })
            {
                string? target = ColumnName(name, row, col);
                if (target == null) continue;
                var src = all[name].ToFloatArray();
                var values = copyRowWeights ? src : src.Select(v => v * (float)(0.5 + rng.NextDouble())).ToArray();
                all[target] = Tensor.FromArray(values, all[name].ShapeArray);
            }
        }
        return new DictionaryWeightSource(all);
    }

    /// <summary>layers.i.mixer.conv1d{row}.weight → conv1d{col}.weight; dt_bias{row} → dt_bias{col}; null for shared tensors.</summary>
    private static string? ColumnName(string name, string row, string col)
    {
        foreach (var p in new[] { "dt_bias", "A_log", "D" })
            if (name.EndsWith($".mixer.{p}{row}", StringComparison.Ordinal)) return name[..^(p.Length + row.Length)] + p + col;
        foreach (var part in new[] { "weight", "bias" })
            if (name.EndsWith($".mixer.conv1d{row}.{part}", StringComparison.Ordinal))
                return name[..^($"conv1d{row}.{part}".Length)] + $"conv1d{col}.{part}";
        return null;
    }

    private static float[] Transpose(float[] tokens, int g, int d)
    {
        var t = new float[tokens.Length];
        for (int r = 0; r < g; r++)
            for (int c = 0; c < g; c++)
                Array.Copy(tokens, (r * g + c) * d, t, (c * g + r) * d, d);
        return t;
    }
}
