// Binds weights by checkpoint name: scopes push name prefixes ("backbone" -> "layers" -> 3 -> "mixer") so model code
// asks for "in_proj.weight" and the scope checks the full name and shape, with errors that name file and tensor.
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Weights;

public sealed class WeightScope
{
    public IWeightSource Source { get; }
    public string Prefix { get; }

    public WeightScope(IWeightSource source, string prefix = "") => (Source, Prefix) = (source, prefix);

    public WeightScope Push(string part) => new(Source, Prefix.Length == 0 ? part : $"{Prefix}.{part}");
    public WeightScope Push(int index) => Push(index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public string FullName(string name) => Prefix.Length == 0 ? name : $"{Prefix}.{name}";

    public bool Has(string name) => Source.Contains(FullName(name));

    /// <summary>The tensor <paramref name="name"/> under this scope, checked against <paramref name="shape"/> (any size where -1).</summary>
    public Tensor Get(string name, params int[] shape)
    {
        string full = FullName(name);
        if (!Source.Contains(full))
            throw new ModelLoadException($"{Source.Description}: missing tensor '{full}' (expected shape {Tensor.ShapeString(shape)})");
        var (stored, _) = Source.Info(full);
        if (!ShapeMatches(stored, shape))
            throw new ModelLoadException(
                $"{Source.FileOf(full)}: tensor '{full}' has shape {Tensor.ShapeString(stored)} but the config needs {Tensor.ShapeString(shape)}");
        return Source.Get(full);
    }

    /// <summary>Like <see cref="Get"/>, converted to F32 (for small parameters such as norms, A_log, D, conv weights).</summary>
    public Tensor GetF32(string name, params int[] shape) => Get(name, shape).ToDType(DType.F32);

    /// <summary>The first of several alternative names that exists (checkpoint layouts differ), or a clear error.</summary>
    public Tensor GetAny(string[] names, params int[] shape)
    {
        foreach (var n in names)
            if (Has(n)) return Get(n, shape);
        throw new ModelLoadException(
            $"{Source.Description}: missing tensor; looked for {string.Join(" or ", names.Select(n => $"'{FullName(n)}'"))}");
    }

    private static bool ShapeMatches(int[] stored, int[] expected)
    {
        if (stored.Length != expected.Length) return false;
        for (int i = 0; i < stored.Length; i++)
            if (expected[i] != -1 && expected[i] != stored[i]) return false;
        return true;
    }
}
