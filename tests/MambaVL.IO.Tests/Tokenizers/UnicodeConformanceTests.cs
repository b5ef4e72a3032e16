// Unicode's own conformance test for the NFC/NFD/NFKC/NFKD implementation (NormalizationTest.txt of the same Unicode
// version as the embedded tables), since .NET's string.Normalize is unusable under InvariantGlobalization.
using System.Globalization;
using System.IO.Compression;
using System.Text;
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

public class UnicodeConformanceTests
{
    [Fact]
    public void NormalizationTest_AllLinesPass()
    {
        string file = $"NormalizationTest-{UnicodeNormalizationData.UnicodeVersion}.txt.gz";
        using var reader = new StreamReader(new GZipStream(File.OpenRead(TokenizerFixtures.PathOf(file)), CompressionMode.Decompress));
        var failures = new StringBuilder();
        int total = 0, bad = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] is '#' or '@') continue;
            // Columns: source; NFC; NFD; NFKC; NFKD.
            string[] c = line.Split(';').Take(5).Select(Decode).ToArray();
            total++;
            bool ok = Is(c[1], c[0], NormalForm.Nfc) && Is(c[1], c[2], NormalForm.Nfc) &&
                Is(c[2], c[0], NormalForm.Nfd) && Is(c[2], c[1], NormalForm.Nfd) &&
                Is(c[3], c[0], NormalForm.Nfkc) && Is(c[3], c[4], NormalForm.Nfkc) &&
                Is(c[4], c[0], NormalForm.Nfkd) && Is(c[4], c[3], NormalForm.Nfkd);
            if (!ok && bad++ < 10) failures.AppendLine(line);
        }
        Assert.True(total > 18_000, $"only {total} test lines read");
        Assert.True(bad == 0, $"{bad} of {total} conformance lines fail:\n{failures}");
    }

    [Fact]
    public void Lowercase_MatchesJsToLowerCase_ForEveryCodePoint()
    {
        var lower = new LowercaseNormalizer();
        var expected = TokenizerFixtures.Goldens.Lowercase;
        var failures = new List<string>();
        for (int cp = 0; cp < 0x110000; cp++)
        {
            // Skip surrogates and characters newer than .NET's Unicode tables (Node's ICU may be a version ahead).
            if (cp is >= 0xD800 and < 0xE000 || CharUnicodeInfo.GetUnicodeCategory(cp) == UnicodeCategory.OtherNotAssigned) continue;
            string s = char.ConvertFromUtf32(cp);
            string want = expected.GetValueOrDefault(cp, s);
            if (lower.Normalize(s) != want) failures.Add($"U+{cp:X4}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} code points lowercase differently: {string.Join(" ", failures.Take(20))}");
    }

    private static bool Is(string expected, string input, NormalForm form) => UnicodeNormalizer.Normalize(input, form) == expected;

    private static string Decode(string field) => string.Concat(field.Split(' ', StringSplitOptions.RemoveEmptyEntries)
        .Select(h => char.ConvertFromUtf32(Convert.ToInt32(h, 16))));
}
