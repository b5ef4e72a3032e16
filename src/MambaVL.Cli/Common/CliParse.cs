// Parsing of flag values System.CommandLine cannot type for us (id lists, comma lists), with errors naming the flag.
using System.Globalization;

namespace MambaVL.Cli.Common;

public static class CliParse
{
    private static readonly char[] Separators = [',', ' ', '\t', '\n'];

    /// <summary>"1,2,3" or "1 2 3" → ids.</summary>
    public static int[] Ids(string text, string flag)
    {
        var parts = text.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new CliException($"{flag}: no ids given");
        return parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id) && id >= 0 ? id
            : throw new CliException($"{flag}: '{p}' is not a token id (a non-negative integer)")).ToArray();
    }

    /// <summary>"1,2" → [1, 2], each at least <paramref name="min"/>.</summary>
    public static int[] IntList(string text, string flag, int min = 1)
    {
        var parts = text.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new CliException($"{flag}: no values given");
        return parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min ? v
            : throw new CliException($"{flag}: '{p}' is not an integer >= {min}")).ToArray();
    }

    /// <summary>"f32,bf16" → the dtypes.</summary>
    public static Core.Tensors.DType[] DTypes(string text, string flag) =>
        text.Split(Separators, StringSplitOptions.RemoveEmptyEntries).Select(p => DType(p, flag)).ToArray();

    public static Core.Tensors.DType DType(string text, string flag)
    {
        try { return Core.Tensors.DTypeInfo.Parse(text); }
        catch (ArgumentException e) { throw new CliException($"{flag}: {e.Message}"); }
    }

    /// <summary>--cache-type: the KV cache storage of attention layers, f32 or bf16.</summary>
    public static Core.Tensors.DType KvCacheType(string name) => name.ToLowerInvariant() switch
    {
        "f32" => Core.Tensors.DType.F32,
        "bf16" => Core.Tensors.DType.BF16,
        _ => throw new CliException($"--cache-type: '{name}' is not f32 or bf16"),
    };

    /// <summary>Throws unless every id is inside the model's vocabulary, naming the first that is not.</summary>
    public static void CheckIdsInVocabulary(int[] ids, int vocabSize, string flag)
    {
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] >= vocabSize)
                throw new CliException($"{flag}: id {ids[i]} at position {i} is outside the model's vocabulary [0, {vocabSize})");
    }
}
