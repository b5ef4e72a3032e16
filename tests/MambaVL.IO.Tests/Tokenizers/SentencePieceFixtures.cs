// Loads the sentencepiece fixtures (tests/fixtures/tokenizers/sentencepiece, made by
// tools/reference/tokenizers/make_sentencepiece_fixtures.py with the sentencepiece library) once per test run.
using System.IO.Compression;
using System.Text.Json;
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

public sealed record SpDecodeCase(int[] Ids, string Text, string? TextSkipSpecial);

public sealed record SpModelGolden(string Name, string File, int PieceSize, int[][] Ids, string[] Decoded, SpDecodeCase[] DecodeCases);

public sealed record SpHfCase(int[] Ids, int[] IdsNoSpecial, string Decoded, string DecodedSkipSpecial);

public sealed record SpHfGolden(string Folder, string[] Strings, SpHfCase[] Cases, SpDecodeCase[] DecodeCases, int VocabSize);

public static class SentencePieceFixtures
{
    private static readonly Lazy<(string[] Strings, Dictionary<string, SpModelGolden> Models, Dictionary<string, SpHfGolden> Hf)> Goldens = new(Load);

    public static string Directory { get; } = Path.Combine(TokenizerFixtures.Directory, "sentencepiece");

    public static string[] Strings => Goldens.Value.Strings;

    public static SpModelGolden Model(string name) => Goldens.Value.Models[name];

    public static SpHfGolden Hf(string folder) => Goldens.Value.Hf[folder];

    public static string PathOf(string file) => Path.Combine(Directory, file);

    /// <summary>The tokenizer.model bytes of a golden model (standalone ones are stored gzip-compressed).</summary>
    public static byte[] ModelBytes(string name)
    {
        string path = PathOf(Model(name).File);
        if (!path.EndsWith(".gz", StringComparison.Ordinal)) return File.ReadAllBytes(path);
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var bytes = new MemoryStream();
        gz.CopyTo(bytes);
        return bytes.ToArray();
    }

    public static SentencePieceModelFile ModelFile(string name) => SentencePieceModelFile.Parse(ModelBytes(name), Model(name).File);

    public static SentencePieceProcessor Processor(string name) => new(ModelFile(name));

    public static readonly TheoryData<string> ModelNames =
        new("internlm2-style", "bpe-suffix", "bpe-nfkc-unk", "unigram-nfkc", "unigram-identity-unk", "char", "word", "bpe-unused", "unigram-unused", "bpe-denormalizer",
            "bpe-no-dummy-prefix", "bpe-suffix-dummy", "bpe-no-escape");

    public static readonly TheoryData<string> HfFolders = new("internlm2-style", "legacy-added-tokens");

    private static (string[], Dictionary<string, SpModelGolden>, Dictionary<string, SpHfGolden>) Load()
    {
        using var gz = new GZipStream(File.OpenRead(PathOf("goldens.json.gz")), CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(gz);
        var root = doc.RootElement;
        string[] strings = Strings(root.GetProperty("strings"));
        var models = root.GetProperty("models").EnumerateArray().Select(m => new SpModelGolden(
            m.GetProperty("name").GetString()!, m.GetProperty("file").GetString()!, m.GetProperty("piece_size").GetInt32(),
            m.GetProperty("ids").EnumerateArray().Select(Ints).ToArray(), Strings(m.GetProperty("decoded")),
            DecodeCases(m.GetProperty("decode_cases")))).ToDictionary(m => m.Name);
        var hf = root.GetProperty("hf").EnumerateArray().Select(h => new SpHfGolden(
            h.GetProperty("folder").GetString()!, Strings(h.GetProperty("strings")),
            h.GetProperty("cases").EnumerateArray().Select(c => new SpHfCase(Ints(c.GetProperty("ids")), Ints(c.GetProperty("ids_no_special")),
                c.GetProperty("decoded").GetString()!, c.GetProperty("decoded_skip_special").GetString()!)).ToArray(),
            DecodeCases(h.GetProperty("decode_cases")), h.GetProperty("vocab_size").GetInt32())).ToDictionary(h => h.Folder);
        return (strings, models, hf);

        static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();
        static SpDecodeCase[] DecodeCases(JsonElement e) => e.EnumerateArray().Select(c => new SpDecodeCase(Ints(c.GetProperty("ids")),
            c.GetProperty("text").GetString()!, c.TryGetProperty("text_skip_special", out var s) ? s.GetString() : null)).ToArray();
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    /// <summary>Collects mismatches and fails once with the first few, so one run shows the pattern.</summary>
    public sealed class Mismatches
    {
        private readonly List<string> _items = [];

        public void Check<T>(IEnumerable<T> expected, IEnumerable<T> actual, string what)
        {
            if (!expected.SequenceEqual(actual)) _items.Add($"{what}: expected [{string.Join(",", expected)}], got [{string.Join(",", actual)}]");
        }

        public void Check(string expected, string actual, string what)
        {
            if (expected != actual) _items.Add($"{what}: expected {TokenizerFixtures.Show(expected)}, got {TokenizerFixtures.Show(actual)}");
        }

        public void AssertNone()
        {
            if (_items.Count > 0) Assert.Fail($"{_items.Count} mismatches:\n" + string.Join("\n", _items.Take(15)));
        }
    }
}
