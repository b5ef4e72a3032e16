// The segmentation models of sentencepiece on normalized UTF-8: BPE (bpe_model.cc), unigram Viterbi
// (unigram_model.cc, the default "optimized" encoder), WORD and CHAR. Each yields (span, id) pieces, unknowns as unk.
namespace MambaVL.IO.Tokenizers;

/// <summary>A piece of the normalized text: bytes [Start, Start + Length) and its id (the unknown id when not in the vocabulary).</summary>
internal readonly record struct EncodedPiece(int Start, int Length, int Id);

internal abstract class Segmenter
{
    protected Segmenter(SentencePieceVocabulary vocab) => Vocab = vocab;

    protected SentencePieceVocabulary Vocab { get; }

    /// <summary>Appends the pieces of <paramref name="text"/> (non-empty normalized text) to <paramref name="output"/>.</summary>
    public abstract void Encode(ReadOnlySpan<byte> text, List<EncodedPiece> output);

    public static Segmenter Create(SentencePieceModelFile model, SentencePieceVocabulary vocab) => model.Trainer.ModelType switch
    {
        SentencePieceModelType.Bpe => new BpeSegmenter(vocab),
        SentencePieceModelType.Unigram => new UnigramSegmenter(vocab),
        SentencePieceModelType.Word => new WordSegmenter(vocab),
        _ => new CharSegmenter(vocab),
    };
}

/// <summary>BPE: start from characters (user-defined symbols whole and frozen), repeatedly merge the adjacent pair whose
/// concatenation is a piece with the highest score (ties: leftmost); merges into UNUSED pieces are undone at the end.</summary>
internal sealed class BpeSegmenter(SentencePieceVocabulary vocab) : Segmenter(vocab)
{
    private struct Symbol
    {
        public int Start, Length, Prev, Next;
        public bool Frozen;
    }

    private readonly record struct Pair(int Left, int Right, int Size);

    /// <summary>Highest score first; among equal scores the leftmost pair.</summary>
    private sealed class PairOrder : IComparer<(float Score, int Left)>
    {
        public static readonly PairOrder Instance = new();
        public int Compare((float Score, int Left) a, (float Score, int Left) b) =>
            a.Score > b.Score ? -1 : a.Score < b.Score ? 1 : a.Left.CompareTo(b.Left);
    }

    public override void Encode(ReadOnlySpan<byte> text, List<EncodedPiece> output)
    {
        var symbols = new List<Symbol>();
        for (int pos = 0; pos < text.Length;)
        {
            int length = Vocab.SymbolLength(text[pos..], out bool frozen);
            symbols.Add(new Symbol { Start = pos, Length = length, Prev = symbols.Count - 1, Next = pos + length < text.Length ? symbols.Count + 1 : -1, Frozen = frozen });
            pos += length;
        }
        var state = new MergeState(this, text, symbols);
        for (int i = 1; i < symbols.Count; i++) state.Propose(i - 1, i);
        state.Run();
        for (int i = 0; i != -1; i = symbols[i].Next) state.Resegment(symbols[i].Start, symbols[i].Length, output);
    }

    private ref struct MergeState
    {
        private readonly BpeSegmenter _owner;
        private readonly ReadOnlySpan<byte> _text;
        private readonly List<Symbol> _symbols;
        private readonly PriorityQueue<Pair, (float, int)> _agenda = new(PairOrder.Instance);
        private Dictionary<int, (int LeftStart, int LeftLength, int RightStart, int RightLength)>? _unusedSplits;

        public MergeState(BpeSegmenter owner, ReadOnlySpan<byte> text, List<Symbol> symbols)
        {
            _owner = owner;
            _text = text;
            _symbols = symbols;
        }

        /// <summary>Queues the merge of two adjacent symbols if their concatenation is a piece.</summary>
        public void Propose(int left, int right)
        {
            if (left == -1 || right == -1 || _symbols[left].Frozen || _symbols[right].Frozen) return;
            var (l, r) = (_symbols[left], _symbols[right]);
            int size = l.Length + r.Length;
            if (!_owner.Vocab.NormalPieces.TryGetValue(_text.Slice(l.Start, size), out int id)) return;
            _agenda.Enqueue(new Pair(left, right, size), (_owner.Vocab.Score(id), left));
            if (_owner.Vocab.IsUnused(id)) (_unusedSplits ??= [])[id] = (l.Start, l.Length, r.Start, r.Length);
        }

        public void Run()
        {
            while (_agenda.TryDequeue(out var top, out _))
            {
                var left = _symbols[top.Left];
                var right = _symbols[top.Right];
                // stale entry: one side was merged away or grew since it was queued
                if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != top.Size) continue;
                left.Length += right.Length;
                left.Next = right.Next;
                if (right.Next >= 0) _symbols[right.Next] = _symbols[right.Next] with { Prev = top.Left };
                right.Length = 0;
                _symbols[top.Left] = left;
                _symbols[top.Right] = right;
                Propose(left.Prev, top.Left);
                Propose(top.Left, left.Next);
            }
        }

        /// <summary>Emits a final symbol; one that is an UNUSED piece is split back into the pair it was merged from.</summary>
        public readonly void Resegment(int start, int length, List<EncodedPiece> output)
        {
            int id = _owner.Vocab.PieceToId(_text.Slice(start, length));
            if (_owner.Vocab.IsUnused(id) && _unusedSplits is not null && _unusedSplits.TryGetValue(id, out var split))
            {
                Resegment(split.LeftStart, split.LeftLength, output);
                Resegment(split.RightStart, split.RightLength, output);
                return;
            }
            output.Add(new EncodedPiece(start, length, id));
        }
    }
}

/// <summary>Unigram: the Viterbi path maximising the sum of piece scores over the lattice of vocabulary pieces;
/// user-defined symbols get length * max score - 0.1, a character no piece covers costs min score - 10 (unknown).</summary>
internal sealed class UnigramSegmenter : Segmenter
{
    private const float UnknownPenalty = 10.0f;
    private const float FloatMin = 1.17549435e-38f; // FLT_MIN, where sentencepiece starts its max-score search
    private readonly float _minScore = float.MaxValue, _maxScore = FloatMin;

    public UnigramSegmenter(SentencePieceVocabulary vocab) : base(vocab)
    {
        for (int id = 0; id < vocab.Count; id++)
        {
            if (vocab.TypeOf(id) != SentencePieceType.Normal) continue;
            float s = vocab.Score(id);
            if (s < _minScore) _minScore = s; // std::min / std::max argument order, so a NaN never wins
            if (_maxScore < s) _maxScore = s;
        }
    }

    public override void Encode(ReadOnlySpan<byte> text, List<EncodedPiece> output)
    {
        int size = text.Length;
        var bestScore = new float[size + 1];
        var bestStart = new int[size + 1];
        var bestId = new int[size + 1];
        Array.Fill(bestStart, -1);
        float unknownScore = _minScore - UnknownPenalty;
        var trie = Vocab.NormalPieces;
        for (int start = 0; start < size;)
        {
            float scoreSoFar = bestScore[start];
            int charLength = Math.Min(SentencePieceUtf8.OneCharLength(text[start]), size - start);
            bool coversOneChar = false;
            int node = trie.Root;
            for (int end = start + 1; end <= size; end++)
            {
                node = trie.Step(node, text[end - 1]);
                if (node == ByteTrie.NoNode) break;
                int id = trie.ValueAt(node);
                if (id < 0 || Vocab.IsUnused(id)) continue;
                int length = end - start;
                // sentencepiece computes this in double (the user-defined branch is double) and stores it as float
                double candidate = (Vocab.IsUserDefined(id) ? length * _maxScore - 0.1 : Vocab.Score(id)) + scoreSoFar;
                if (bestStart[end] == -1 || candidate > bestScore[end]) (bestScore[end], bestStart[end], bestId[end]) = ((float)candidate, start, id);
                coversOneChar |= length == charLength;
            }
            if (!coversOneChar)
            {
                int end = start + charLength;
                float candidate = unknownScore + scoreSoFar;
                if (bestStart[end] == -1 || candidate > bestScore[end]) (bestScore[end], bestStart[end], bestId[end]) = (candidate, start, Vocab.UnkId);
            }
            start += charLength;
        }
        int first = output.Count;
        for (int end = size; end > 0; end = bestStart[end])
        {
            if (bestStart[end] < 0) throw new InvalidOperationException("unigram lattice has no path (pieces that end inside a character)");
            output.Add(new EncodedPiece(bestStart[end], end - bestStart[end], bestId[end]));
        }
        output.Reverse(first, output.Count - first);
    }
}

/// <summary>WORD: the text cut before every U+2581, each word looked up whole.</summary>
internal sealed class WordSegmenter(SentencePieceVocabulary vocab) : Segmenter(vocab)
{
    public override void Encode(ReadOnlySpan<byte> text, List<EncodedPiece> output)
    {
        int wordStart = 0;
        for (int pos = 0; pos < text.Length;)
        {
            int length = Math.Min(SentencePieceUtf8.OneCharLength(text[pos]), text.Length - pos);
            if (pos > 0 && text.Slice(pos, length).SequenceEqual(SentencePieceUtf8.SpaceSymbol))
            {
                output.Add(new EncodedPiece(wordStart, pos - wordStart, Vocab.PieceToId(text[wordStart..pos])));
                wordStart = pos;
            }
            pos += length;
        }
        output.Add(new EncodedPiece(wordStart, text.Length - wordStart, Vocab.PieceToId(text[wordStart..])));
    }
}

/// <summary>CHAR: one piece per character (user-defined symbols whole).</summary>
internal sealed class CharSegmenter(SentencePieceVocabulary vocab) : Segmenter(vocab)
{
    public override void Encode(ReadOnlySpan<byte> text, List<EncodedPiece> output)
    {
        for (int pos = 0; pos < text.Length;)
        {
            int length = Vocab.SymbolLength(text[pos..], out _);
            output.Add(new EncodedPiece(pos, length, Vocab.PieceToId(text.Slice(pos, length))));
            pos += length;
        }
    }
}
