// tokenizer.model reading: the fields the encoder needs, protobuf details (unknown fields, unknown enum values), the
// vocabulary checks sentencepiece makes, and corrupt files (truncated, garbage, fuzzed) ending only in InvalidDataException.
using System.Text;
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

public class SentencePieceModelFileTests
{
    [Fact]
    public void Reads_the_pieces_and_specs_of_trained_models()
    {
        var bpe = SentencePieceModelFile.Load(SentencePieceFixtures.PathOf("internlm2-style/tokenizer.model"));
        Assert.Equal(SentencePieceModelType.Bpe, bpe.Trainer.ModelType);
        Assert.True(bpe.Trainer.ByteFallback);
        Assert.True(bpe.Trainer.SplitDigits);
        Assert.Equal(("identity", true, false, true), (bpe.Normalizer.Name, bpe.Normalizer.AddDummyPrefix, bpe.Normalizer.RemoveExtraWhitespaces, bpe.Normalizer.EscapeWhitespaces));
        Assert.True(bpe.Normalizer.PrecompiledCharsMap.IsEmpty);
        Assert.Equal(new SentencePiece("<unk>", 0, SentencePieceType.Unknown), bpe.Pieces[0]);
        Assert.Equal(SentencePieceType.Control, bpe.Pieces[1].Type);
        Assert.Equal(("<|im_start|>", SentencePieceType.UserDefined), (bpe.Pieces[3].Piece, bpe.Pieces[3].Type));
        Assert.Equal(256, bpe.Pieces.Count(p => p.Type == SentencePieceType.Byte));
        Assert.All(bpe.Pieces.Where(p => p.Type == SentencePieceType.Normal), p => Assert.True(p.Score <= 0));
        Assert.Null(bpe.Denormalizer);

        var unigram = SentencePieceFixtures.ModelFile("unigram-nfkc");
        Assert.Equal(SentencePieceModelType.Unigram, unigram.Trainer.ModelType);
        Assert.Equal("nmt_nfkc", unigram.Normalizer.Name);
        Assert.False(unigram.Normalizer.PrecompiledCharsMap.IsEmpty);
        Assert.True(SentencePieceFixtures.ModelFile("bpe-suffix").Trainer.TreatWhitespaceAsSuffix);
    }

    [Fact]
    public void Normalization_uses_the_charsmap()
    {
        var sp = SentencePieceFixtures.Processor("unigram-nfkc");
        Assert.Equal(sp.Encode("ABC123 fi"), sp.Encode("ＡＢＣ１２３\u3000ﬁ"));
    }

    [Fact]
    public void Missing_file_is_FileNotFound()
    {
        string path = Path.Combine(Path.GetTempPath(), "no-such-dir-spm", "tokenizer.model");
        Assert.Throws<FileNotFoundException>(() => SentencePieceProcessor.Load(path));
    }

    [Fact]
    public void Unknown_fields_are_skipped_and_unknown_enum_values_keep_the_default()
    {
        byte[] plain = TestModel.Bpe(("a", -1, 1), ("b", -2, 1), ("ab", -0.5f, 1));
        byte[] padded = [.. plain, .. TestModel.Field(99, 7UL), .. TestModel.Fixed64Field(98), .. TestModel.Fixed32Field(97, 1.5f),
            .. TestModel.Bytes(96, [1, 2, 3])];
        var sp = new SentencePieceProcessor(SentencePieceModelFile.Parse(padded, "padded"));
        Assert.Equal([5], sp.Encode("ab")[1..]);
        // piece type 9 is unknown to proto2: the piece stays NORMAL; model type 9 leaves UNIGRAM
        var odd = SentencePieceModelFile.Parse(TestModel.Build([("<unk>", 0, 2), ("x", -1, 9)], modelType: 9), "odd");
        Assert.Equal(SentencePieceType.Normal, odd.Pieces[1].Type);
        Assert.Equal(SentencePieceModelType.Unigram, odd.Trainer.ModelType);
    }

    [Theory]
    [InlineData("no unknown piece", false)]
    [InlineData("duplicate", false)]
    [InlineData("empty piece", false)]
    [InlineData("second unknown", false)]
    [InlineData("byte piece without byte_fallback", false)]
    [InlineData("byte_fallback without byte pieces", true)]
    [InlineData("malformed byte piece", true)]
    public void Vocabulary_errors_are_InvalidDataException(string problem, bool byteFallback)
    {
        (string, float, int)[] pieces = problem switch
        {
            "no unknown piece" => [("a", 0, 1)],
            "duplicate" => [("<unk>", 0, 2), ("a", 0, 1), ("a", -1, 4)],
            "empty piece" => [("<unk>", 0, 2), ("", 0, 1)],
            "second unknown" => [("<unk>", 0, 2), ("<unk2>", 0, 2)],
            "byte piece without byte_fallback" => [("<unk>", 0, 2), ("<0x41>", 0, 6)],
            "byte_fallback without byte pieces" => [("<unk>", 0, 2), ("<0x41>", 0, 6)],
            _ => [("<unk>", 0, 2), .. Enumerable.Range(0, 256).Select(b => (b == 7 ? "<0x7>" : $"<0x{b:X2}>", 0f, 6))],
        };
        var model = SentencePieceModelFile.Parse(TestModel.Build(pieces, modelType: 2, byteFallback: byteFallback), "vocab-test.model");
        var ex = Assert.Throws<InvalidDataException>(() => new SentencePieceProcessor(model));
        Assert.Contains("vocab-test.model", ex.Message);
    }

    [Fact]
    public void Truncated_and_garbage_files_name_the_file()
    {
        byte[] bytes = File.ReadAllBytes(SentencePieceFixtures.PathOf("internlm2-style/tokenizer.model"));
        foreach (int length in new[] { 1, 2, 3, 10, 100, bytes.Length / 2, bytes.Length - 1 })
        {
            var ex = Assert.Throws<InvalidDataException>(() => Load(bytes[..length], "cut.model"));
            Assert.Contains("cut.model", ex.Message);
        }
        Assert.Throws<InvalidDataException>(() => Load(Encoding.UTF8.GetBytes("{\"not\": \"a model\"}"), "json.model"));
        Assert.Throws<InvalidDataException>(() => Load([0x0B, 0x0C], "group.model"));       // wire type 3 (groups)
        Assert.Throws<InvalidDataException>(() => Load([0x08, 0xFF, 0xFF], "varint.model")); // truncated varint
        Assert.Throws<InvalidDataException>(() => Load([], "empty.model"));                 // no pieces at all
    }

    [Fact]
    public void Corrupt_charsmap_is_InvalidDataException()
    {
        byte[] map = SentencePieceFixtures.ModelFile("bpe-nfkc-unk").Normalizer.PrecompiledCharsMap.ToArray();
        byte[] wrongTrieSize = [0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4];
        byte[] stringsCut = map[..(map.Length - 1000)]; // replacement offsets now point past the strings
        byte[] trieScrambled = [.. map[..4], .. Enumerable.Repeat((byte)0xEE, 4096), .. map[4100..]];
        foreach (var broken in new[] { map[..3], wrongTrieSize, stringsCut, trieScrambled })
        {
            var normalizer = TestModel.Bytes(3, [.. TestModel.Bytes(1, "nmt_nfkc"u8.ToArray()), .. TestModel.Bytes(2, broken)]);
            byte[] model = [.. TestModel.Build([("<unk>", 0, 2), ("a", 0, 1)], modelType: 2), .. normalizer];
            var ex = Assert.Throws<InvalidDataException>(() => Load(model, "charsmap.model"));
            Assert.Contains("charsmap.model", ex.Message);
        }
    }

    [Theory]
    [MemberData(nameof(SentencePieceFixtures.ModelNames), MemberType = typeof(SentencePieceFixtures))]
    public void Fuzzed_models_load_or_throw_InvalidDataException_only(string name)
    {
        byte[] original = SentencePieceFixtures.ModelBytes(name);
        var rng = new Random(name.Length * 7919 + original.Length);
        bool hasCharsMap = name.Contains("nfkc");
        int rounds = hasCharsMap ? 25 : 150; // a charsmap model takes milliseconds to validate
        for (int round = 0; round < rounds; round++)
        {
            byte[] mutated = Mutate(original, rng);
            SentencePieceProcessor sp;
            try { sp = Load(mutated, $"fuzz-{round}.model"); }
            catch (InvalidDataException ex) { Assert.Contains($"fuzz-{round}.model", ex.Message); continue; }
            foreach (string text in new[] { "Hello world", "  你好😀 <|im_start|>x\t\n", "", "ﬁ①" })
            {
                int[] ids = sp.Encode(text);
                Assert.All(ids, id => Assert.InRange(id, 0, sp.PieceCount - 1));
                _ = sp.Decode(ids);
            }
        }
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        byte[] m = (byte[])original.Clone();
        switch (rng.Next(4))
        {
            case 0: // a few random bytes changed, mostly near the start where the structure is dense
                for (int i = rng.Next(1, 6); i > 0; i--) m[rng.Next(rng.Next(2) == 0 ? Math.Min(m.Length, 4096) : m.Length)] = (byte)rng.Next(256);
                return m;
            case 1: // single bit flips
                for (int i = rng.Next(1, 4); i > 0; i--) m[rng.Next(m.Length)] ^= (byte)(1 << rng.Next(8));
                return m;
            case 2: // cut anywhere
                return m[..rng.Next(m.Length)];
            default: // a chunk overwritten with random bytes
                int at = rng.Next(m.Length), length = Math.Min(rng.Next(1, 64), m.Length - at);
                rng.NextBytes(m.AsSpan(at, length));
                return m;
        }
    }

    private static SentencePieceProcessor Load(byte[] bytes, string name) => new(SentencePieceModelFile.Parse(bytes, name));

    /// <summary>Writes small ModelProto messages for tests that need a vocabulary the trainer would not make.</summary>
    private static class TestModel
    {
        public static byte[] Bpe(params (string, float, int)[] pieces) =>
            Build([("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3), .. pieces], modelType: 2);

        public static byte[] Build((string Piece, float Score, int Type)[] pieces, int modelType, bool byteFallback = false)
        {
            var model = new List<byte>();
            foreach (var (piece, score, type) in pieces)
                model.AddRange(Bytes(1, [.. Bytes(1, Encoding.UTF8.GetBytes(piece)), .. Fixed32Field(2, score), .. Field(3, (ulong)type)]));
            model.AddRange(Bytes(2, [.. Field(3, (ulong)modelType), .. Field(35, byteFallback ? 1UL : 0UL)]));
            return [.. model];
        }

        public static byte[] Varint(ulong value)
        {
            var bytes = new List<byte>();
            do { bytes.Add((byte)((value & 0x7F) | (value > 0x7F ? 0x80UL : 0))); value >>= 7; } while (value != 0);
            return [.. bytes];
        }

        public static byte[] Field(int number, ulong value) => [.. Varint((ulong)number << 3), .. Varint(value)];
        public static byte[] Fixed32Field(int number, float value) => [.. Varint((ulong)number << 3 | 5), .. BitConverter.GetBytes(value)];
        public static byte[] Fixed64Field(int number) => [.. Varint((ulong)number << 3 | 1), 1, 2, 3, 4, 5, 6, 7, 8];
        public static byte[] Bytes(int number, byte[] value) => [.. Varint((ulong)number << 3 | 2), .. Varint((ulong)value.Length), .. value];
    }
}
