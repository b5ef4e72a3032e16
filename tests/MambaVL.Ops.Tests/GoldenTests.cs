// Both backends against goldens made by mamba_ssm's own reference functions and torch (tools/reference/ops/make_ops_goldens.py).
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;
using MambaVL.IO.Safetensors;

namespace MambaVL.Ops.Tests;

public sealed class GoldenTests
{
    private static readonly CpuBackend Cpu = new(2);

    public static TheoryData<string> Backends => new() { "reference", "cpu" };

    private static IBackend Backend(string name) => name == "cpu" ? Cpu : ReferenceBackend.Instance;

    /// <summary>A golden file's tensors as writable F32 copies, plus its metadata.</summary>
    private static (Dictionary<string, Tensor> T, IReadOnlyDictionary<string, string> Meta) Load(string name)
    {
        using var file = new SafetensorsFile(Path.Combine(AppContext.BaseDirectory, "fixtures", "ops", name + ".safetensors"));
        return (file.Names.ToDictionary(n => n, n => OpCheck.Copy(file.Get(n))), file.Metadata);
    }

    private static float ParseLimit(string s) => s == "inf" ? float.PositiveInfinity : float.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("reference", "ssd_scan_g2", 7)]
    [InlineData("cpu", "ssd_scan_g2", 7)]
    [InlineData("cpu", "ssd_scan_g2", 16)]
    [InlineData("cpu", "ssd_scan_g2", 256)]
    [InlineData("reference", "ssd_scan_dtmax", 8)]
    [InlineData("cpu", "ssd_scan_dtmax", 5)]
    [InlineData("cpu", "ssd_scan_dtmax", 64)]
    public void SsdScan_matches_ssd_minimal_discrete(string backend, string golden, int chunk)
    {
        var (t, meta) = Load(golden);
        var p = new SsmParams(t["A"], t["dt_bias"], t.GetValueOrDefault("D"), 0f, ParseLimit(meta["dt_max"]));
        var state = t["state_in"];
        var y = Backend(backend).SsdScan(t["x"], t["dt"], t["B"], t["C"], p, state, chunk);
        OpCheck.Close(y, t["y"], Tolerances.Goldens, $"{backend} {golden} y");
        OpCheck.Close(state, t["state_out"], Tolerances.Goldens, $"{backend} {golden} state");
    }

    [Theory, MemberData(nameof(Backends))]
    public void SsmStep_matches_selective_state_update_ref(string backend)
    {
        var (t, _) = Load("ssm_step_g2");
        var state = t["state_in"];
        var y = Backend(backend).SsmStep(t["x"], t["dt"], t["B"], t["C"], new SsmParams(t["A"], t["dt_bias"], t["D"]), state);
        OpCheck.Close(y, t["y"], Tolerances.Goldens, $"{backend} y");
        OpCheck.Close(state, t["state_out"], Tolerances.Goldens, $"{backend} state");
    }

    [Theory, MemberData(nameof(Backends))]
    public void Norms_match_rms_norm_ref(string backend)
    {
        var (g, gMeta) = Load("gated_rms_norm");
        var gated = Backend(backend).GatedRmsNorm(g["x"], g["z"], g["w"], int.Parse(gMeta["group_size"]), 1e-5f);
        OpCheck.Close(gated, g["y"], Tolerances.Goldens, $"{backend} gated");
        var (r, _) = Load("rms_norm");
        OpCheck.Close(Backend(backend).RmsNorm(r["x"], r["w"], 1e-5f), r["y"], Tolerances.Goldens, $"{backend} rms");
    }

    [Theory]
    [InlineData("reference", "conv1d_fresh")] [InlineData("cpu", "conv1d_fresh")]
    [InlineData("reference", "conv1d_state")] [InlineData("cpu", "conv1d_state")]
    [InlineData("reference", "conv1d_w2")] [InlineData("cpu", "conv1d_w2")]
    public void CausalConv1d_matches_torch_conv1d(string backend, string golden)
    {
        var (t, _) = Load(golden);
        var state = t["state_in"];
        var y = Backend(backend).CausalConv1d(t["x"], t["weight"], t["bias"], state, silu: true);
        OpCheck.Close(y, t["y"], Tolerances.Goldens, $"{backend} {golden} y");
        OpCheck.Close(state, t["state_out"], Tolerances.Goldens, $"{backend} {golden} state");
    }
}
