// The one tolerance table of the op conformance suite: norm-relative error ‖fast − oracle‖ / ‖oracle‖ per op.
namespace MambaVL.Ops.Tests;

public static class Tolerances
{
    /// <summary>fp32 kernels against the double-accumulating reference and against mamba_ssm/torch goldens.</summary>
    public const double Default = 1e-4;

    public const double AddInPlace = Default;
    public const double RmsNorm = Default;
    public const double GatedRmsNorm = Default;
    public const double LayerNorm = Default;
    public const double Attention = Default;
    public const double CausalConv1d = Default;
    public const double SsdScan = Default;
    public const double SsmStep = Default;
    public const double Goldens = Default;
}
