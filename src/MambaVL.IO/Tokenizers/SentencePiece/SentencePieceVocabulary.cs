// The vocabulary checks and lookups every sentencepiece model shares (model_interface.cc): normal pieces vs reserved
// ones (control, unknown, byte), the user-defined symbol matcher and the byte-fallback pieces.
namespace MambaVL.IO.Tokenizers;

/// <summary>Piece lookups by UTF-8 bytes; validated on construction like sentencepiece's InitializePieces.</summary>
internal sealed class SentencePieceVocabulary
{
    private readonly SentencePiece[] _pieces;
    private readonly byte[][] _pieceBytes;
    private readonly ByteTrie _normal;   // NORMAL, USER_DEFINED and UNUSED pieces: what segmentation may produce
    private readonly ByteTrie _reserved; // CONTROL, UNKNOWN and BYTE pieces: looked up first by PieceToId
    private readonly int[] _byteIds = new int[256];

    public SentencePieceVocabulary(SentencePieceModelFile model)
    {
        string source = model.Source;
        _pieces = model.Pieces.ToArray();
        _pieceBytes = model.PieceBytes.ToArray();
        if (_pieces.Length == 0) throw Invalid(source, "the model has no pieces");
        var normal = new List<(byte[], int)>();
        var reserved = new List<(byte[], int)>();
        var userDefined = new List<(byte[], int)>();
        var seenNormal = new HashSet<string>(StringComparer.Ordinal);
        var seenReserved = new HashSet<string>(StringComparer.Ordinal);
        UnkId = -1;
        Array.Fill(_byteIds, -1);
        for (int id = 0; id < _pieces.Length; id++)
        {
            var p = _pieces[id];
            byte[] utf8 = _pieceBytes[id];
            if (utf8.Length == 0) throw Invalid(source, $"piece {id} is empty");
            bool isNormal = p.Type is SentencePieceType.Normal or SentencePieceType.UserDefined or SentencePieceType.Unused;
            string key = Convert.ToHexString(utf8);
            if (!(isNormal ? seenNormal : seenReserved).Add(key)) throw Invalid(source, $"piece '{p.Piece}' (id {id}) is defined twice");
            (isNormal ? normal : reserved).Add((utf8, id));
            if (p.Type == SentencePieceType.UserDefined) userDefined.Add((utf8, id));
            if (p.Type == SentencePieceType.Unknown)
            {
                if (UnkId >= 0) throw Invalid(source, $"a second unknown piece '{p.Piece}' (id {id})");
                UnkId = id;
            }
            if (p.Type == SentencePieceType.Byte) RegisterBytePiece(p, id, model.Trainer.ByteFallback, source);
        }
        if (UnkId < 0) throw Invalid(source, "no piece has type UNKNOWN");
        ByteFallback = model.Trainer.ByteFallback;
        if (ByteFallback && Array.IndexOf(_byteIds, -1) >= 0)
            throw Invalid(source, "byte_fallback is on but the 256 byte pieces <0x00>..<0xFF> are not all there");
        _normal = new ByteTrie(normal);
        _reserved = new ByteTrie(reserved);
        UserDefined = userDefined.Count > 0 ? new ByteTrie(userDefined) : null;
    }

    public int Count => _pieces.Length;
    public int UnkId { get; }
    public bool ByteFallback { get; }

    /// <summary>The user-defined symbols (matched longest-first, never split or normalized); null when there are none.</summary>
    public ByteTrie? UserDefined { get; }

    /// <summary>Pieces segmentation may produce (normal, user-defined, unused), by UTF-8 bytes.</summary>
    public ByteTrie NormalPieces => _normal;

    public SentencePiece this[int id] => _pieces[id];

    /// <summary>The UTF-8 bytes of a piece, as stored in the model.</summary>
    public ReadOnlySpan<byte> Utf8(int id) => _pieceBytes[id];
    public SentencePieceType TypeOf(int id) => _pieces[id].Type;
    public float Score(int id) => _pieces[id].Score;
    public bool IsControl(int id) => _pieces[id].Type == SentencePieceType.Control;
    public bool IsUnknown(int id) => _pieces[id].Type == SentencePieceType.Unknown;
    public bool IsByte(int id) => _pieces[id].Type == SentencePieceType.Byte;
    public bool IsUnused(int id) => _pieces[id].Type == SentencePieceType.Unused;
    public bool IsUserDefined(int id) => _pieces[id].Type == SentencePieceType.UserDefined;

    /// <summary>The byte a BYTE piece stands for.</summary>
    public int ByteValue(int id) => ParseBytePiece(_pieces[id].Piece);

    /// <summary>The id of the &lt;0xXX&gt; piece of a byte (byte fallback must be on).</summary>
    public int ByteId(byte b) => _byteIds[b];

    /// <summary>sentencepiece's PieceToId: reserved pieces first, then normal ones, else the unknown id.</summary>
    public int PieceToId(ReadOnlySpan<byte> piece) =>
        _reserved.TryGetValue(piece, out int id) || _normal.TryGetValue(piece, out id) ? id : UnkId;

    /// <summary>Whether <paramref name="piece"/> is exactly some piece of the vocabulary.</summary>
    public bool TryGetExact(ReadOnlySpan<byte> piece, out int id) => _reserved.TryGetValue(piece, out id) || _normal.TryGetValue(piece, out id);

    /// <summary>Length of the unit segmentation starts from: a user-defined symbol, else one UTF-8 character.</summary>
    public int SymbolLength(ReadOnlySpan<byte> text, out bool isUserDefined)
    {
        int length = UserDefined?.LongestPrefix(text) ?? 0;
        isUserDefined = length > 0;
        return isUserDefined ? length : Math.Min(SentencePieceUtf8.OneCharLength(text[0]), text.Length);
    }

    private void RegisterBytePiece(SentencePiece p, int id, bool byteFallback, string source)
    {
        if (!byteFallback) throw Invalid(source, $"byte piece '{p.Piece}' (id {id}) although byte_fallback is off");
        int value = ParseBytePiece(p.Piece);
        if (value < 0) throw Invalid(source, $"byte piece '{p.Piece}' (id {id}) is not of the form <0xXX>");
        _byteIds[value] = id;
    }

    /// <summary>"&lt;0x4A&gt;" -> 0x4A (upper-case hex, as sentencepiece writes them), else -1.</summary>
    private static int ParseBytePiece(string piece)
    {
        if (piece.Length != 6 || !piece.StartsWith("<0x", StringComparison.Ordinal) || piece[5] != '>') return -1;
        static int Hex(char c) => c is >= '0' and <= '9' ? c - '0' : c is >= 'A' and <= 'F' ? c - 'A' + 10 : -1;
        int hi = Hex(piece[3]), lo = Hex(piece[4]);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private static InvalidDataException Invalid(string source, string what) => new($"{source}: invalid sentencepiece model: {what}");
}
