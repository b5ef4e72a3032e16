// An immutable trie over UTF-8 byte strings: exact lookups of a span (BPE merges), longest prefix (user-defined
// symbols) and byte-by-byte walks (the unigram lattice). Children sit side by side, sorted by label.
namespace MambaVL.IO.Tokenizers;

/// <summary>Byte-string keys with int values; node 0 is the root.</summary>
internal sealed class ByteTrie
{
    public const int NoNode = -1;
    private const int NoValue = -1;

    private readonly int[] _firstChild;
    private readonly int[] _childCount;
    private readonly byte[] _label;
    private readonly int[] _value;

    /// <summary>Builds the trie; for a key given twice the first value is kept. Values must be non-negative.</summary>
    public ByteTrie(IEnumerable<(byte[] Key, int Value)> entries)
    {
        var sorted = entries.Select((e, order) => (e.Key, e.Value, order)).ToArray();
        Array.Sort(sorted, (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key) is var c && c != 0 ? c : a.order.CompareTo(b.order));
        var firstChild = new List<int> { 0 };
        var childCount = new List<int> { 0 };
        var label = new List<byte> { 0 };
        var value = new List<int> { NoValue };
        var queue = new Queue<(int Node, int Lo, int Hi, int Depth)>();
        queue.Enqueue((0, 0, sorted.Length, 0));
        while (queue.Count > 0)
        {
            var (node, lo, hi, depth) = queue.Dequeue();
            if (lo < hi && sorted[lo].Key.Length == depth) value[node] = sorted[lo].Value;
            while (lo < hi && sorted[lo].Key.Length == depth) lo++;
            firstChild[node] = label.Count;
            for (int start = lo; start < hi;)
            {
                byte b = sorted[start].Key[depth];
                int end = start + 1;
                while (end < hi && sorted[end].Key[depth] == b) end++;
                firstChild.Add(0); childCount.Add(0); label.Add(b); value.Add(NoValue);
                childCount[node]++;
                queue.Enqueue((label.Count - 1, start, end, depth + 1));
                start = end;
            }
        }
        (_firstChild, _childCount, _label, _value) = (firstChild.ToArray(), childCount.ToArray(), label.ToArray(), value.ToArray());
    }

    public int Root => 0;

    /// <summary>The child of <paramref name="node"/> along byte <paramref name="b"/>, or <see cref="NoNode"/>.</summary>
    public int Step(int node, byte b)
    {
        int lo = _firstChild[node], hi = lo + _childCount[node] - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            byte l = _label[mid];
            if (l == b) return mid;
            if (l < b) lo = mid + 1; else hi = mid - 1;
        }
        return NoNode;
    }

    /// <summary>The value stored at a node, or -1 when no key ends there.</summary>
    public int ValueAt(int node) => _value[node];

    public bool TryGetValue(ReadOnlySpan<byte> key, out int value)
    {
        int node = Root;
        foreach (byte b in key)
        {
            node = Step(node, b);
            if (node == NoNode) { value = NoValue; return false; }
        }
        value = _value[node];
        return value != NoValue;
    }

    /// <summary>Length of the longest key that is a prefix of <paramref name="text"/> (0 when none).</summary>
    public int LongestPrefix(ReadOnlySpan<byte> text)
    {
        int node = Root, longest = 0;
        for (int i = 0; i < text.Length; i++)
        {
            node = Step(node, text[i]);
            if (node == NoNode) break;
            if (_value[node] != NoValue) longest = i + 1;
        }
        return longest;
    }
}
