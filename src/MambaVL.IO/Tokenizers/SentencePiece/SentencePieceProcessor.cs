// A pure-C# sentencepiece processor: encodes text to ids and decodes ids to text exactly as the sentencepiece library's
// SentencePieceProcessor (Encode / Decode of sentencepiece_processor.cc) does for BPE, unigram, word and char models.
using System.Runtime.InteropServices;
using System.Text;

namespace MambaVL.IO.Tokenizers;

/// <summary>Loaded from a tokenizer.model; immutable and thread-safe. No BOS/EOS is added here (see <see cref="SentencePieceTokenizer"/>).</summary>
public sealed class SentencePieceProcessor
{
    private static readonly byte[] DefaultUnknownSurface = Encoding.UTF8.GetBytes(" \u2047 ");
    private readonly SentencePieceVocabulary _vocab;
    private readonly SentencePieceNormalizer _normalizer;
    private readonly SentencePieceNormalizer? _denormalizer;
    private readonly Segmenter _segmenter;
    private readonly Dictionary<string, int> _idByPiece = new(StringComparer.Ordinal);
    private readonly byte[] _unknownSurface;

    public SentencePieceModelFile Model { get; }

    public SentencePieceProcessor(SentencePieceModelFile model)
    {
        Model = model;
        _vocab = new SentencePieceVocabulary(model);
        _normalizer = new SentencePieceNormalizer(model.Normalizer, model.Trainer.TreatWhitespaceAsSuffix, _vocab.UserDefined,
            $"{model.Source}: normalizer '{model.Normalizer.Name}'");
        if (model.Denormalizer is { PrecompiledCharsMap.IsEmpty: false } denormalizer)
            _denormalizer = new SentencePieceNormalizer(denormalizer, whitespaceAsSuffix: false, userDefined: null, $"{model.Source}: denormalizer");
        _segmenter = Segmenter.Create(model, _vocab);
        for (int id = model.Pieces.Count - 1; id >= 0; id--) _idByPiece[model.Pieces[id].Piece] = id;
        _unknownSurface = model.Trainer.UnkSurface is { } surface ? Encoding.UTF8.GetBytes(surface) : DefaultUnknownSurface;
        UnkId = IdOfSpecial(model.Trainer.UnkPiece, "<unk>", SentencePieceType.Unknown);
        BosId = IdOfSpecial(model.Trainer.BosPiece, "<s>", SentencePieceType.Control);
        EosId = IdOfSpecial(model.Trainer.EosPiece, "</s>", SentencePieceType.Control);
        PadId = IdOfSpecial(model.Trainer.PadPiece, "<pad>", SentencePieceType.Control);
    }

    /// <summary>Loads a tokenizer.model; a corrupt file gives an <see cref="InvalidDataException"/> naming it.</summary>
    public static SentencePieceProcessor Load(string path) => new(SentencePieceModelFile.Load(path));

    /// <summary>Number of pieces (ids are 0 .. PieceCount - 1).</summary>
    public int PieceCount => _vocab.Count;

    /// <summary>Ids of the special pieces, -1 when the model lacks them (as sentencepiece's unk_id() etc.).</summary>
    public int UnkId { get; }
    public int BosId { get; }
    public int EosId { get; }
    public int PadId { get; }

    /// <summary>Encodes text like sentencepiece's <c>encode(text)</c>: normalize, segment, then unknown pieces become
    /// their UTF-8 bytes' &lt;0xXX&gt; pieces (byte fallback) or one unknown id per run of unknown pieces.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 2 + 1);
        EncodeInto(text, ids);
        return ids.ToArray();
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    public void EncodeInto(string text, List<int> ids)
    {
        var normalized = new List<byte>(text.Length * 3 + 3);
        _normalizer.Normalize(Encoding.UTF8.GetBytes(text), normalized);
        if (normalized.Count == 0) return;
        var text8 = CollectionsMarshal.AsSpan(normalized);
        var pieces = new List<EncodedPiece>(text8.Length / 2 + 1);
        _segmenter.Encode(text8, pieces);
        bool previousUnknown = false;
        foreach (var piece in pieces)
        {
            bool unknown = _vocab.IsUnknown(piece.Id);
            if (unknown && _vocab.ByteFallback)
            {
                foreach (byte b in text8.Slice(piece.Start, piece.Length)) ids.Add(_vocab.ByteId(b));
            }
            else if (!(unknown && previousUnknown)) // a run of unknown pieces is one unknown id
            {
                ids.Add(piece.Id);
            }
            previousUnknown = unknown;
        }
    }

    /// <summary>Decodes ids like sentencepiece's <c>decode(ids)</c>: control ids vanish, the unknown id becomes " ⁇ ",
    /// U+2581 becomes a space and the first one (of the dummy prefix) is dropped, byte pieces are assembled into UTF-8
    /// (each malformed byte gives U+FFFD). Ids outside 0 .. PieceCount - 1 throw, as in sentencepiece.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new List<byte>(ids.Length * 4);
        var pendingBytes = new List<byte>();
        bool expectBosSpace = true, bosSpaceSeen = false;
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_vocab.Count) throw new ArgumentOutOfRangeException(nameof(ids), $"invalid id {id}: the model has {_vocab.Count} pieces");
            if (_vocab.IsByte(id)) { pendingBytes.Add((byte)_vocab.ByteValue(id)); continue; }
            FlushBytes(text, pendingBytes);
            if (bosSpaceSeen || text.Count > 0) expectBosSpace = false;
            bosSpaceSeen = AppendPiece(text, id, expectBosSpace);
        }
        FlushBytes(text, pendingBytes);
        if (_denormalizer is not null)
        {
            var denormalized = new List<byte>(text.Count);
            _denormalizer.Normalize(CollectionsMarshal.AsSpan(text), denormalized);
            text = denormalized;
        }
        return Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(text));
    }

    /// <summary>The id of a piece, or null when the model has no such piece.</summary>
    public int? PieceToId(string piece) => _idByPiece.TryGetValue(piece, out int id) ? id : null;

    /// <summary>The piece of an id, or null when out of range.</summary>
    public string? IdToPiece(int id) => (uint)id < (uint)_vocab.Count ? _vocab[id].Piece : null;

    public SentencePieceType PieceType(int id) => _vocab.TypeOf(id);

    public float Score(int id) => _vocab.Score(id);

    /// <summary>Appends one non-byte piece; returns whether it consumed the leading space of the dummy prefix.</summary>
    private bool AppendPiece(List<byte> text, int id, bool expectBosSpace)
    {
        if (_vocab.IsControl(id)) return false;
        if (_vocab.IsUnknown(id)) { text.AddRange(_unknownSurface); return false; }
        ReadOnlySpan<byte> piece = _vocab.Utf8(id);
        bool consumed = false;
        var spec = Model.Normalizer;
        if (expectBosSpace && (spec.AddDummyPrefix || spec.RemoveExtraWhitespaces) && piece.StartsWith(SentencePieceUtf8.SpaceSymbol))
        {
            piece = piece[SentencePieceUtf8.SpaceSymbol.Length..];
            // removing extra whitespace drops every leading space until text appears, so keep looking
            consumed = !spec.RemoveExtraWhitespaces;
        }
        for (int i = 0; i < piece.Length;)
        {
            if (piece[i..].StartsWith(SentencePieceUtf8.SpaceSymbol)) { text.Add((byte)' '); i += SentencePieceUtf8.SpaceSymbol.Length; }
            else text.Add(piece[i++]);
        }
        return consumed;
    }

    private static void FlushBytes(List<byte> text, List<byte> pendingBytes)
    {
        if (pendingBytes.Count == 0) return;
        SentencePieceUtf8.AppendSanitized(text, CollectionsMarshal.AsSpan(pendingBytes));
        pendingBytes.Clear();
    }

    /// <summary>The id of a special piece (the default name when the spec's is empty) if it has the expected type, else -1.</summary>
    private int IdOfSpecial(string piece, string defaultPiece, SentencePieceType type)
    {
        int id = _vocab.PieceToId(Encoding.UTF8.GetBytes(piece.Length == 0 ? defaultPiece : piece));
        return _vocab.TypeOf(id) == type ? id : -1;
    }
}
