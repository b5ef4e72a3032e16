// Test doubles: a language model whose logits are a pure function of the ids seen so far, and a byte-level tokenizer
// whose tokens are arbitrary byte strings (so characters can be split across tokens as real BPE vocabularies do).
using System.Text;
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Core.Text;

namespace MambaVL.Generation.Tests;

/// <summary>Logits for the next token = <c>next(history)</c>; records every Prefill and Step call.</summary>
public sealed class MockModel(int vocabSize, Func<IReadOnlyList<int>, float[]> next) : ILanguageModel
{
    public int VocabSize => vocabSize;
    public IBackend Backend => ReferenceBackend.Instance;
    public List<int[]> PrefillCalls { get; } = [];
    public List<int> StepCalls { get; } = [];

    public IModelState CreateState(int batchSize = 1) => new MockState();

    public Tensor Prefill(ReadOnlySpan<int> ids, IModelState state, bool allLogits = false)
    {
        PrefillCalls.Add(ids.ToArray());
        var history = ((MockState)state).History;
        var rows = new List<float[]>();
        foreach (int id in ids) { history.Add(id); rows.Add(Logits(history)); }
        if (!allLogits) rows = [rows[^1]];
        return Tensor.FromArray(rows.SelectMany(r => r).ToArray(), rows.Count, vocabSize);
    }

    public Tensor Step(ReadOnlySpan<int> ids, IModelState state)
    {
        StepCalls.Add(ids[0]);
        var history = ((MockState)state).History;
        history.Add(ids[0]);
        return Tensor.FromArray(Logits(history), 1, vocabSize);
    }

    private float[] Logits(IReadOnlyList<int> history)
    {
        var logits = next(history);
        Assert.Equal(vocabSize, logits.Length);
        return logits;
    }

    /// <summary>A model that always produces <paramref name="script"/>[k] as its k-th new token under greedy decoding.</summary>
    public static MockModel Scripted(int vocabSize, int promptLength, params int[] script) => new(vocabSize, history =>
    {
        var logits = new float[vocabSize];
        int k = history.Count - promptLength;
        logits[script[Math.Min(k, script.Length - 1)]] = 10f;
        return logits;
    });

    /// <summary>A model with pseudo-random but deterministic logits that depend on the whole history.</summary>
    public static MockModel Hashed(int vocabSize) => new(vocabSize, history =>
    {
        ulong h = 1469598103934665603UL;
        foreach (int id in history) h = (h ^ (uint)id) * 1099511628211UL;
        var logits = new float[vocabSize];
        for (int v = 0; v < vocabSize; v++)
        {
            h ^= h >> 29; h *= 0xBF58476D1CE4E5B9UL; h ^= h >> 32;
            logits[v] = (h % 10007) / 1000f - 5f;
        }
        return logits;
    });

    private sealed class MockState : IModelState
    {
        public List<int> History { get; init; } = [];
        public int BatchSize => 1;
        public long Position => History.Count;
        public long ByteSize => History.Count * sizeof(int);
        public IModelState Clone() => new MockState { History = [.. History] };
        public void Save(Stream stream) => throw new NotSupportedException();
        public void Load(Stream stream) => throw new NotSupportedException();
    }
}

/// <summary>Id i &lt; 256 is the single byte i; ids from 256 are the extra byte strings given; decoding is UTF-8 with U+FFFD for bad bytes.</summary>
public sealed class ByteTokenizer(params byte[][] extraTokens) : ITokenizer
{
    public const int Eos = 255;   // treated as a special token

    public int VocabSize => 256 + extraTokens.Length;

    /// <summary>Adds a multi-byte token (e.g. "Hello") and returns its id.</summary>
    public static ByteTokenizer WithWords(out int[] ids, params string[] words)
    {
        ids = Enumerable.Range(256, words.Length).ToArray();
        return new ByteTokenizer(words.Select(Encoding.UTF8.GetBytes).ToArray());
    }

    public int[] Encode(string text, bool addSpecialTokens = true) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (id == Eos) { if (!skipSpecialTokens) bytes.AddRange("<eos>"u8.ToArray()); continue; }
            if (id < 256) bytes.Add((byte)id); else bytes.AddRange(extraTokens[id - 256]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public int? TokenToId(string token) => null;
    public string? IdToToken(int id) => id < VocabSize ? id.ToString() : null;
}
