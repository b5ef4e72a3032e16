// Loading paths (plain/gzip files and streams, model folders) and the errors for broken or unsupported tokenizer.json
// files: each must name the file and what is wrong, never load and tokenize wrongly.
using System.IO.Compression;
using System.Text;
using MambaVL.Core.Weights;
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

public class LoadingTests
{
    private static readonly string Tiny = ComponentTests.TinyBpe(vocab: """{"a":0,"b":1,"ab":2}""", merges: """[["a","b"]]""");

    [Fact]
    public void GzipAndPlainFilesAndStreams_LoadTheSameTokenizer()
    {
        string dir = Directory.CreateTempSubdirectory("tok").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), Tiny);
            string gz = Path.Combine(dir, "copy.json.gz");
            using (var f = new GZipStream(File.Create(gz), CompressionLevel.Fastest)) f.Write(Encoding.UTF8.GetBytes(Tiny));

            Assert.Equal([2, 0], HfTokenizer.FromFile(Path.Combine(dir, "tokenizer.json")).Encode("aba"));
            Assert.Equal([2, 0], HfTokenizer.FromFile(gz).Encode("aba"));
            using (var s = File.OpenRead(gz)) Assert.Equal([2, 0], HfTokenizer.FromStream(s, gz).Encode("aba"));
            Assert.Equal(Path.Combine(dir, "tokenizer.json"), HfTokenizer.FindTokenizerFile(dir));
            Assert.Equal([2], HfTokenizer.FromModelDirectory(dir).Encode("ab"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ModelFolderWithoutTokenizer_NamesTheFolder()
    {
        string dir = Directory.CreateTempSubdirectory("tok").FullName;
        try
        {
            Assert.Null(HfTokenizer.FindTokenizerFile(dir));
            var ex = Assert.Throws<ModelLoadException>(() => HfTokenizer.FromModelDirectory(dir));
            Assert.Contains(dir, ex.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void MissingFile_Throws()
    {
        var ex = Assert.Throws<ModelLoadException>(() => HfTokenizer.FromFile("/nonexistent/tokenizer.json"));
        Assert.Contains("/nonexistent/tokenizer.json", ex.Message);
    }

    [Theory]
    [InlineData("{\"model\": ")]
    [InlineData("not json at all")]
    [InlineData("[1, 2, 3]")]
    public void BadJson_NamesTheFile(string json)
    {
        var ex = Assert.Throws<ModelLoadException>(() => HfTokenizer.FromJson(json, "broken/tokenizer.json"));
        Assert.Contains("broken/tokenizer.json", ex.Message);
    }

    [Theory]
    [InlineData("\"type\":\"BPE\"", "\"type\":\"Unigram\"", "model type 'Unigram'")]
    [InlineData("\"normalizer\":null", "\"normalizer\":{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"\"}", "normalizer type 'Precompiled'")]
    [InlineData("\"pre_tokenizer\":null", "\"pre_tokenizer\":{\"type\":\"UnicodeScripts\"}", "pre_tokenizer type 'UnicodeScripts'")]
    [InlineData("\"decoder\":null", "\"decoder\":{\"type\":\"CTC\"}", "decoder type 'CTC'")]
    [InlineData("\"post_processor\":null", "\"post_processor\":{\"type\":\"Fancy\"}", "post_processor type 'Fancy'")]
    [InlineData("\"pre_tokenizer\":null", "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\p{Han}+\"},\"behavior\":\"Isolated\"}", "\\p{Han}")]
    [InlineData("\"pre_tokenizer\":null", "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Sideways\"}", "behavior 'Sideways'")]
    [InlineData("[[\"a\",\"b\"]]", "[[\"a\",\"z\"]]", "missing from the vocab")]
    [InlineData("\"unk_token\":null", "\"unk_token\":\"<unk>\"", "unk_token '<unk>'")]
    public void UnsupportedOrInconsistentComponents_NameTheFileAndTheProblem(string find, string replace, string expected)
    {
        Assert.Contains(find, Tiny);
        var ex = Assert.Throws<ModelLoadException>(() => HfTokenizer.FromJson(Tiny.Replace(find, replace), "models/x/tokenizer.json"));
        Assert.Contains("models/x/tokenizer.json", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void CorruptGzip_NamesTheFile()
    {
        var bytes = new byte[] { 0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3 };
        var ex = Assert.Throws<ModelLoadException>(() => HfTokenizer.FromStream(new MemoryStream(bytes), "t.json.gz"));
        Assert.Contains("t.json.gz", ex.Message);
    }
}
