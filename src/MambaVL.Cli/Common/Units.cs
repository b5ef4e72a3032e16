// Human-readable sizes and counts as llama.cpp prints them (MiB/GiB, M/B parameters), invariant culture.
using System.Globalization;

namespace MambaVL.Cli.Common;

public static class Units
{
    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => Format(bytes / (double)(1L << 30), "GiB"),
        >= 1L << 20 => Format(bytes / (double)(1L << 20), "MiB"),
        >= 1L << 10 => Format(bytes / 1024.0, "KiB"),
        _ => $"{bytes} B",
    };

    public static string Count(long n) => n switch
    {
        >= 1_000_000_000 => Format(n / 1e9, "B"),
        >= 1_000_000 => Format(n / 1e6, "M"),
        >= 1_000 => Format(n / 1e3, "K"),
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    private static string Format(double value, string unit) => value.ToString("0.00", CultureInfo.InvariantCulture) + " " + unit;
}
