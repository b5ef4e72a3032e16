// The contents of a sentencepiece tokenizer.model (a serialized sentencepiece.ModelProto): the pieces with their scores
// and types, the trainer spec (model type, byte fallback, special pieces) and the normalizer spec (flags, charsmap).
namespace MambaVL.IO.Tokenizers;

/// <summary>ModelProto.SentencePiece.Type.</summary>
public enum SentencePieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

/// <summary>TrainerSpec.ModelType.</summary>
public enum SentencePieceModelType { Unigram = 1, Bpe = 2, Word = 3, Char = 4 }

/// <summary>One vocabulary entry; its id is its index in <see cref="SentencePieceModelFile.Pieces"/>.</summary>
public sealed record SentencePiece(string Piece, float Score, SentencePieceType Type);

/// <summary>The TrainerSpec fields that encoding and decoding depend on (proto defaults where absent).</summary>
public sealed class SentencePieceTrainerSpec
{
    public SentencePieceModelType ModelType { get; internal set; } = SentencePieceModelType.Unigram;
    public int VocabSize { get; internal set; } = 8000;
    public bool ByteFallback { get; internal set; }
    public bool TreatWhitespaceAsSuffix { get; internal set; }
    public bool AllowWhitespaceOnlyPieces { get; internal set; }
    public bool SplitDigits { get; internal set; }
    public int UnkId { get; internal set; }
    public int BosId { get; internal set; } = 1;
    public int EosId { get; internal set; } = 2;
    public int PadId { get; internal set; } = -1;
    public string UnkPiece { get; internal set; } = "<unk>";
    public string BosPiece { get; internal set; } = "<s>";
    public string EosPiece { get; internal set; } = "</s>";
    public string PadPiece { get; internal set; } = "<pad>";

    /// <summary>What decoding writes for an unknown piece; null when the field is absent (then " \u2047 " is used).</summary>
    public string? UnkSurface { get; internal set; }
}

/// <summary>NormalizerSpec (also used for the optional denormalizer).</summary>
public sealed class SentencePieceNormalizerSpec
{
    public string Name { get; internal set; } = "";

    /// <summary>The compiled normalization rules (a double-array trie plus the replacement strings); empty for "identity".</summary>
    public ReadOnlyMemory<byte> PrecompiledCharsMap { get; internal set; }

    public bool AddDummyPrefix { get; internal set; } = true;
    public bool RemoveExtraWhitespaces { get; internal set; } = true;
    public bool EscapeWhitespaces { get; internal set; } = true;
}

/// <summary>A parsed tokenizer.model. Parsing checks the wire format only; <see cref="SentencePieceProcessor"/> checks the vocabulary.</summary>
public sealed class SentencePieceModelFile
{
    private readonly List<SentencePiece> _pieces = [];
    private readonly List<byte[]> _pieceBytes = [];

    /// <summary>The file (or description) the model came from, used in error messages.</summary>
    public string Source { get; }

    public IReadOnlyList<SentencePiece> Pieces => _pieces;

    /// <summary>The pieces as stored (UTF-8, parallel to <see cref="Pieces"/>); matching works on these bytes, as sentencepiece does.</summary>
    internal IReadOnlyList<byte[]> PieceBytes => _pieceBytes;
    public SentencePieceTrainerSpec Trainer { get; } = new();
    public SentencePieceNormalizerSpec Normalizer { get; } = new();

    /// <summary>The denormalizer applied after decoding; null when the model has none.</summary>
    public SentencePieceNormalizerSpec? Denormalizer { get; private set; }

    private SentencePieceModelFile(string source) => Source = source;

    public static SentencePieceModelFile Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: sentencepiece model not found", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses serialized ModelProto bytes; throws <see cref="InvalidDataException"/> naming <paramref name="sourceName"/>.</summary>
    public static SentencePieceModelFile Parse(ReadOnlySpan<byte> data, string sourceName)
    {
        var model = new SentencePieceModelFile(sourceName);
        var reader = new ProtobufReader(data, sourceName);
        while (reader.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    reader.Expect(field, wire, WireType.LengthDelimited);
                    var (piece, bytes) = ReadPiece(reader.ReadBytes(), sourceName);
                    model._pieces.Add(piece);
                    model._pieceBytes.Add(bytes);
                    break;
                case 2: reader.Expect(field, wire, WireType.LengthDelimited); ReadTrainerSpec(reader.ReadBytes(), sourceName, model.Trainer); break;
                case 3: reader.Expect(field, wire, WireType.LengthDelimited); ReadNormalizerSpec(reader.ReadBytes(), sourceName, model.Normalizer); break;
                case 5:
                    reader.Expect(field, wire, WireType.LengthDelimited);
                    ReadNormalizerSpec(reader.ReadBytes(), sourceName, model.Denormalizer ??= new SentencePieceNormalizerSpec());
                    break;
                default: reader.Skip(wire); break; // self_test_data and extensions
            }
        }
        return model;
    }

    private static (SentencePiece Piece, byte[] Utf8) ReadPiece(ReadOnlySpan<byte> data, string source)
    {
        var reader = new ProtobufReader(data, source);
        byte[] utf8 = [];
        float score = 0;
        var type = SentencePieceType.Normal;
        while (reader.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: reader.Expect(field, wire, WireType.LengthDelimited); utf8 = reader.ReadBytes().ToArray(); break;
                case 2: reader.Expect(field, wire, WireType.Fixed32); score = reader.ReadFloat(); break;
                case 3:
                    reader.Expect(field, wire, WireType.Varint);
                    // proto2 keeps an enum value it does not know as an unknown field, leaving the default
                    int value = reader.ReadInt32();
                    if (value is >= 1 and <= 6) type = (SentencePieceType)value;
                    break;
                default: reader.Skip(wire); break;
            }
        }
        return (new SentencePiece(System.Text.Encoding.UTF8.GetString(utf8), score, type), utf8);
    }

    private static void ReadTrainerSpec(ReadOnlySpan<byte> data, string source, SentencePieceTrainerSpec spec)
    {
        var reader = new ProtobufReader(data, source);
        while (reader.TryReadKey(out int field, out var wire))
        {
            var expected = field is 44 or 45 or 46 or 47 or 48 ? WireType.LengthDelimited : WireType.Varint;
            bool known = field is 3 or 4 or 24 or 25 or 26 or 35 or (>= 40 and <= 48);
            if (!known) { reader.Skip(wire); continue; }
            reader.Expect(field, wire, expected);
            switch (field)
            {
                case 3:
                    int type = reader.ReadInt32();
                    if (type is >= 1 and <= 4) spec.ModelType = (SentencePieceModelType)type;
                    break;
                case 4: spec.VocabSize = reader.ReadInt32(); break;
                case 24: spec.TreatWhitespaceAsSuffix = reader.ReadBool(); break;
                case 25: spec.SplitDigits = reader.ReadBool(); break;
                case 26: spec.AllowWhitespaceOnlyPieces = reader.ReadBool(); break;
                case 35: spec.ByteFallback = reader.ReadBool(); break;
                case 40: spec.UnkId = reader.ReadInt32(); break;
                case 41: spec.BosId = reader.ReadInt32(); break;
                case 42: spec.EosId = reader.ReadInt32(); break;
                case 43: spec.PadId = reader.ReadInt32(); break;
                case 44: spec.UnkSurface = reader.ReadString(); break;
                case 45: spec.UnkPiece = reader.ReadString(); break;
                case 46: spec.BosPiece = reader.ReadString(); break;
                case 47: spec.EosPiece = reader.ReadString(); break;
                case 48: spec.PadPiece = reader.ReadString(); break;
            }
        }
    }

    private static void ReadNormalizerSpec(ReadOnlySpan<byte> data, string source, SentencePieceNormalizerSpec spec)
    {
        var reader = new ProtobufReader(data, source);
        while (reader.TryReadKey(out int field, out var wire))
        {
            if (field is < 1 or > 5) { reader.Skip(wire); continue; }
            reader.Expect(field, wire, field <= 2 ? WireType.LengthDelimited : WireType.Varint);
            switch (field)
            {
                case 1: spec.Name = reader.ReadString(); break;
                case 2: spec.PrecompiledCharsMap = reader.ReadBytes().ToArray(); break;
                case 3: spec.AddDummyPrefix = reader.ReadBool(); break;
                case 4: spec.RemoveExtraWhitespaces = reader.ReadBool(); break;
                case 5: spec.EscapeWhitespaces = reader.ReadBool(); break;
            }
        }
    }
}
