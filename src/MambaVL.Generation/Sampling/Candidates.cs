// The working set of the sampling chain: (id, logit) pairs that each stage narrows or rescales, as llama.cpp's
// llama_token_data_array. Ties are broken by the lower id so every stage is deterministic.
namespace MambaVL.Generation.Sampling;

public readonly record struct TokenCandidate(int Id, float Logit);

public sealed class Candidates
{
    private TokenCandidate[] _items = [];

    public int Count { get; private set; }

    /// <summary>True when the items are in descending logit order (ties: lower id first).</summary>
    public bool IsSorted { get; private set; }

    public ReadOnlySpan<TokenCandidate> Items => _items.AsSpan(0, Count);

    /// <summary>Every id of <paramref name="logits"/> becomes a candidate (id = index).</summary>
    public void Reset(ReadOnlySpan<float> logits)
    {
        if (logits.Length == 0) throw new ArgumentException("no logits to sample from");
        if (_items.Length < logits.Length) _items = new TokenCandidate[logits.Length];
        for (int i = 0; i < logits.Length; i++) _items[i] = new TokenCandidate(i, logits[i]);
        Count = logits.Length;
        IsSorted = false;
    }

    /// <summary>The id with the highest logit (the lower id on ties).</summary>
    public int ArgMax()
    {
        var items = Items;
        int best = 0;
        for (int i = 1; i < items.Length; i++)
            if (Comparer.Precedes(items[i], items[best])) best = i;
        return items[best].Id;
    }

    public void SortDescending()
    {
        if (IsSorted) return;
        _items.AsSpan(0, Count).Sort(new Comparer());
        IsSorted = true;
    }

    /// <summary>Keeps the k highest logits (sorted). k &lt;= 0 or k &gt;= Count leaves the set unchanged.</summary>
    public void TopK(int k)
    {
        if (k <= 0 || k >= Count) return;
        if (!IsSorted) SelectTopK(k);
        Count = k;
    }

    /// <summary>Keeps the shortest sorted prefix whose softmax mass reaches p (at least one). p &gt;= 1 is a no-op.</summary>
    public void TopP(float p)
    {
        if (p >= 1f || Count <= 1) return;
        SortDescending();
        var items = Items;
        Span<double> weights = Count <= 4096 ? stackalloc double[Count] : new double[Count];
        double total = SoftmaxWeights(items, weights);
        double cumulative = 0, threshold = p * total;
        for (int i = 0; i < items.Length; i++)
        {
            cumulative += weights[i];
            if (cumulative >= threshold) { Count = i + 1; return; }
        }
    }

    /// <summary>Keeps tokens whose probability is at least p times the top one's, i.e. logit ≥ max + ln p. p &lt;= 0 is a no-op.</summary>
    public void MinP(float p)
    {
        if (p <= 0f || Count <= 1) return;
        var items = _items.AsSpan(0, Count);
        float max = float.NegativeInfinity;
        foreach (var c in items) max = MathF.Max(max, c.Logit);
        float minLogit = max + MathF.Log(p);
        int kept = 0;
        for (int i = 0; i < items.Length; i++)
            if (items[i].Logit >= minLogit) items[kept++] = items[i];   // order-preserving compaction
        Count = Math.Max(kept, 1);
    }

    /// <summary>Divides every logit by t (t &gt; 0).</summary>
    public void Temperature(float t)
    {
        if (!(t > 0f)) throw new ArgumentOutOfRangeException(nameof(t), "temperature must be positive; use ArgMax for greedy");
        if (t == 1f) return;
        var items = _items.AsSpan(0, Count);
        for (int i = 0; i < items.Length; i++) items[i] = items[i] with { Logit = items[i].Logit / t };
    }

    /// <summary>Softmax probabilities of the current candidates, in <see cref="Items"/> order.</summary>
    public double[] Probabilities()
    {
        var weights = new double[Count];
        double total = SoftmaxWeights(Items, weights);
        for (int i = 0; i < weights.Length; i++) weights[i] /= total;
        return weights;
    }

    /// <summary>Draws one id in proportion to softmax(logits).</summary>
    public int Draw(SeededRandom random) => Draw(random.NextDouble());

    /// <summary>Draws the id where <paramref name="uniform"/> (in [0, 1)) falls in the cumulative softmax, in item order.</summary>
    public int Draw(double uniform)
    {
        var items = Items;
        Span<double> weights = Count <= 4096 ? stackalloc double[Count] : new double[Count];
        double total = SoftmaxWeights(items, weights);
        double target = uniform * total, cumulative = 0;
        for (int i = 0; i < items.Length; i++)
        {
            cumulative += weights[i];
            if (target < cumulative) return items[i].Id;
        }
        return items[^1].Id;   // rounding left target at the very top
    }

    // exp(logit - max) per candidate, in double; returns the sum.
    private static double SoftmaxWeights(ReadOnlySpan<TokenCandidate> items, Span<double> weights)
    {
        float max = float.NegativeInfinity;
        foreach (var c in items) max = MathF.Max(max, c.Logit);
        double total = 0;
        for (int i = 0; i < items.Length; i++) total += weights[i] = Math.Exp((double)items[i].Logit - max);
        return total;
    }

    // Moves the k best to the front in sorted order: a min-heap of size k over the rest, O(V log k).
    private void SelectTopK(int k)
    {
        var items = _items.AsSpan(0, Count);
        var heap = new PriorityQueue<TokenCandidate, TokenCandidate>(k + 1, new ReverseComparer());
        foreach (var c in items)
        {
            if (heap.Count < k) heap.Enqueue(c, c);
            else if (Comparer.Precedes(c, heap.Peek())) heap.EnqueueDequeue(c, c);
        }
        for (int i = k - 1; i >= 0; i--) items[i] = heap.Dequeue();
        IsSorted = true;
    }

    /// <summary>Descending logit, then ascending id.</summary>
    private readonly struct Comparer : IComparer<TokenCandidate>
    {
        public int Compare(TokenCandidate a, TokenCandidate b) => Precedes(a, b) ? -1 : Precedes(b, a) ? 1 : 0;

        public static bool Precedes(TokenCandidate a, TokenCandidate b) =>
            a.Logit > b.Logit || (a.Logit == b.Logit && a.Id < b.Id) || (float.IsNaN(b.Logit) && !float.IsNaN(a.Logit));
    }

    // The heap's root is the worst kept candidate.
    private sealed class ReverseComparer : IComparer<TokenCandidate>
    {
        public int Compare(TokenCandidate a, TokenCandidate b) => new Comparer().Compare(b, a);
    }
}
