// Byte-pair-encoding model of tokenizer.json ("type": "BPE"): rank-ordered merges over a linked list of symbol ids
// driven by a priority queue (O(n log n) per word, no string building per merge), with a thread-safe word cache.
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace MambaVL.IO.Tokenizers;

internal sealed class BpeModel : TokenizerModel
{
    private const int MaxCachedWordLength = 256;
    private const int CacheCapacity = 100_000;

    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly int? _unkId;
    private readonly string? _prefix, _suffix;
    private readonly bool _fuseUnk, _byteFallback, _ignoreMerges;
    private readonly int[]? _byteIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private int _cacheSize;

    private BpeModel(Dictionary<string, int> vocab, Dictionary<long, (int, int)> merges, int? unkId, string? prefix,
        string? suffix, bool fuseUnk, bool byteFallback, bool ignoreMerges) : base(vocab)
    {
        (_merges, _unkId, _prefix, _suffix) = (merges, unkId, prefix, suffix);
        (_fuseUnk, _byteFallback, _ignoreMerges) = (fuseUnk, byteFallback, ignoreMerges);
        if (byteFallback)
        {
            _byteIds = new int[256];
            for (int b = 0; b < 256; b++) _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        }
    }

    public static BpeModel Load(JsonElement e, TokenizerJson json)
    {
        const string where = "model 'BPE'";
        var vocab = ReadVocab(e, json, where);
        var merges = new Dictionary<long, (int, int)>();
        int rank = 0;
        foreach (var m in json.Array(e, "merges", where))
        {
            var (a, b) = ReadMerge(m, json, rank);
            if (!vocab.TryGetValue(a, out int idA) || !vocab.TryGetValue(b, out int idB))
                throw json.Error($"{where}: merge #{rank} '{a} {b}' uses a token missing from the vocab");
            if (!vocab.TryGetValue(a + b, out int newId))
                throw json.Error($"{where}: merge #{rank} result '{a + b}' is missing from the vocab");
            merges[Key(idA, idB)] = (rank, newId); // later duplicates win, as in the Rust and JS implementations
            rank++;
        }
        string? unk = json.String(e, "unk_token", where);
        int? unkId = null;
        if (unk is not null)
            unkId = vocab.TryGetValue(unk, out int u) ? u : throw json.Error($"{where}: unk_token '{unk}' is not in the vocab");
        string? prefix = json.String(e, "continuing_subword_prefix", where);
        string? suffix = json.String(e, "end_of_word_suffix", where);
        return new BpeModel(vocab, merges, unkId, string.IsNullOrEmpty(prefix) ? null : prefix,
            string.IsNullOrEmpty(suffix) ? null : suffix, json.Bool(e, "fuse_unk", false, where),
            json.Bool(e, "byte_fallback", false, where), json.Bool(e, "ignore_merges", false, where));
    }

    private static (string A, string B) ReadMerge(JsonElement m, TokenizerJson json, int rank)
    {
        string where = $"model 'BPE': merge #{rank}";
        if (m.ValueKind == JsonValueKind.String)
        {
            string s = m.GetString()!;
            int space = s.IndexOf(' ', 1);
            if (space < 0) throw json.Error($"{where}: '{s}' is not two space-separated tokens");
            return (s[..space], s[(space + 1)..]);
        }
        if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
            return (json.Text(m[0], where), json.Text(m[1], where));
        throw json.Error($"{where}: expected \"a b\" or [\"a\", \"b\"], found {m.ValueKind}");
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    public override void Tokenize(string word, List<int> ids)
    {
        if (word.Length == 0) return;
        if (_ignoreMerges && TryGetId(word, out int whole)) { ids.Add(whole); return; }
        if (_cache.TryGetValue(word, out var cached)) { ids.AddRange(cached); return; }
        int[] result = Encode(word);
        // A counter instead of _cache.Count, which takes every lock of the dictionary.
        if (word.Length <= MaxCachedWordLength && Volatile.Read(ref _cacheSize) < CacheCapacity && _cache.TryAdd(word, result))
            Interlocked.Increment(ref _cacheSize);
        ids.AddRange(result);
    }

    private int[] Encode(string word)
    {
        var symbols = new List<int>(word.Length);
        InitialSymbols(word, symbols);
        if (symbols.Count < 2) return symbols.ToArray();
        return MergeAll(symbols);
    }

    /// <summary>One symbol per code point (with prefix/suffix), byte-fallback tokens or (fused) unk for unknown ones.</summary>
    private void InitialSymbols(string word, List<int> symbols)
    {
        bool pendingUnk = false;
        int pos = 0;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune r in word.EnumerateRunes())
        {
            int next = pos + r.Utf16SequenceLength;
            string s = r.ToString();
            if (pos > 0 && _prefix is not null) s = _prefix + s;
            if (next == word.Length && _suffix is not null) s += _suffix;
            pos = next;
            if (TryGetId(s, out int id))
            {
                if (pendingUnk) { symbols.Add(_unkId!.Value); pendingUnk = false; }
                symbols.Add(id);
                continue;
            }
            if (_byteIds is not null)
            {
                int n = r.EncodeToUtf8(utf8);
                bool all = true;
                for (int i = 0; i < n; i++) all &= _byteIds[utf8[i]] >= 0;
                if (all)
                {
                    if (pendingUnk) { symbols.Add(_unkId!.Value); pendingUnk = false; }
                    for (int i = 0; i < n; i++) symbols.Add(_byteIds[utf8[i]]);
                    continue;
                }
            }
            if (_unkId is null) continue; // no unk token: the Rust crate drops the character too
            if (_fuseUnk) pendingUnk = true;
            else symbols.Add(_unkId.Value);
        }
        if (pendingUnk) symbols.Add(_unkId!.Value);
    }

    private int[] MergeAll(List<int> symbols)
    {
        int n = symbols.Count;
        var ids = symbols.ToArray();
        var prev = new int[n];
        var next = new int[n];
        var alive = new bool[n];
        var queue = new PriorityQueue<(int Pos, int NewId), long>();
        for (int i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            alive[i] = true;
            if (i + 1 < n) Enqueue(queue, ids, i, i + 1);
        }
        while (queue.TryDequeue(out var top, out _))
        {
            int pos = top.Pos;
            int right = next[pos];
            if (!alive[pos] || right < 0) continue;
            // Stale entry: the pair at pos changed since it was queued.
            if (!_merges.TryGetValue(Key(ids[pos], ids[right]), out var m) || m.NewId != top.NewId) continue;
            ids[pos] = m.NewId;
            alive[right] = false;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) Enqueue(queue, ids, prev[pos], pos);
            if (next[pos] >= 0) Enqueue(queue, ids, pos, next[pos]);
        }
        var result = new List<int>(n);
        for (int i = 0; i >= 0; i = next[i]) result.Add(ids[i]);
        return result.ToArray();
    }

    private void Enqueue(PriorityQueue<(int, int), long> queue, int[] ids, int left, int right)
    {
        // Lowest rank first, ties broken by leftmost position.
        if (_merges.TryGetValue(Key(ids[left], ids[right]), out var m)) queue.Enqueue((left, m.NewId), ((long)m.Rank << 32) | (uint)left);
    }
}
