// Takes a sub-tree of a weight source as the root: with root "model", "model.llm_backbone.x.weight" is seen as
// "llm_backbone.x.weight" (checkpoints often nest the weights one or two dicts deep).
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Weights;

public sealed class WeightSubtree : IWeightSource
{
    private readonly IWeightSource _inner;
    private readonly string _prefix;
    private readonly string[] _names;
    private readonly bool _ownsInner;

    /// <summary>
    /// The tensors of <paramref name="inner"/> under <paramref name="root"/> (a dotted path); disposes <paramref name="inner"/>
    /// with itself when <paramref name="ownsInner"/> (a model binding one part of a larger checkpoint passes false).
    /// </summary>
    public WeightSubtree(IWeightSource inner, string root, bool ownsInner = true)
    {
        (_inner, _ownsInner) = (inner, ownsInner);
        _prefix = root.TrimEnd('.') + ".";
        _names = SelectRoot(inner.Names, root, inner.Description).Keys.ToArray();
        Description = $"{inner.Description} (under '{root}')";
    }

    public string Description { get; }
    public IReadOnlyCollection<string> Names => _names;
    public bool Contains(string name) => _inner.Contains(_prefix + name);
    public Tensor Get(string name) => _inner.Contains(_prefix + name) ? _inner.Get(_prefix + name) : throw Missing(name);
    public (int[] Shape, DType DType) Info(string name) => _inner.Contains(_prefix + name) ? _inner.Info(_prefix + name) : throw Missing(name);
    public string FileOf(string name) => _inner.FileOf(_prefix + name);
    public void Dispose() { if (_ownsInner) _inner.Dispose(); }

    private ModelLoadException Missing(string name) => new($"{Description}: missing tensor '{name}'");

    /// <summary>Short name -> full name for every name under <paramref name="root"/>; a clear error listing the top-level keys when none is.</summary>
    public static Dictionary<string, string> SelectRoot(IEnumerable<string> names, string root, string description)
    {
        string prefix = root.TrimEnd('.') + ".";
        var selected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in names)
            if (n.StartsWith(prefix, StringComparison.Ordinal)) selected[n[prefix.Length..]] = n;
        if (selected.Count == 0)
        {
            var top = names.Select(n => n.Split('.')[0]).Distinct().Take(20);
            throw new ModelLoadException($"{description}: no tensors under '{root}'; top-level names are: {string.Join(", ", top)}");
        }
        return selected;
    }
}
