// The Python values a restricted unpickler can build: None (null), bool, long, BigInteger, double, string, byte[],
// and the containers below. Nothing here runs code: callables are C# functions chosen by an allow-list.
namespace MambaVL.IO.Pickle;

/// <summary>An immutable Python tuple.</summary>
public sealed class PyTuple(object?[] items)
{
    public object?[] Items { get; } = items;
    public int Count => Items.Length;
    public object? this[int i] => Items[i];
}

/// <summary>A Python list.</summary>
public sealed class PyList
{
    public List<object?> Items { get; } = [];
}

/// <summary>A Python dict (insertion-ordered, as Python's). Also stands for OrderedDict; BUILD state goes to <see cref="Attributes"/>.</summary>
public sealed class PyDict
{
    private readonly List<KeyValuePair<object?, object?>> _entries = [];
    private readonly Dictionary<object, int> _index = new(KeyComparer.Instance);

    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => _entries;
    public int Count => _entries.Count;

    /// <summary>Instance attributes set by BUILD (e.g. a state_dict's <c>_metadata</c>); never read as weights.</summary>
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);

    public void Set(object? key, object? value)
    {
        var k = key ?? NoneKey;
        if (_index.TryGetValue(k, out int i)) _entries[i] = new(key, value);
        else { _index[k] = _entries.Count; _entries.Add(new(key, value)); }
    }

    public bool TryGet(string key, out object? value)
    {
        if (_index.TryGetValue(key, out int i)) { value = _entries[i].Value; return true; }
        value = null;
        return false;
    }

    private static readonly object NoneKey = new();

    // Scalars compare by value (as Python hashes them); containers by identity.
    private sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();
        public new bool Equals(object? a, object? b) => IsScalar(a) ? a!.Equals(b) : ReferenceEquals(a, b);
        public int GetHashCode(object o) => IsScalar(o) ? o.GetHashCode() : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(o);
        private static bool IsScalar(object? o) => o is string or long or bool or double or System.Numerics.BigInteger;
    }
}

/// <summary>An allow-listed callable (a class or function named by GLOBAL), implemented in C#.</summary>
public sealed class PyCallable(string qualifiedName, Func<object?[], object?> call)
{
    public string QualifiedName { get; } = qualifiedName;
    public object? Call(object?[] args) => call(args);
    public override string ToString() => QualifiedName;
}
