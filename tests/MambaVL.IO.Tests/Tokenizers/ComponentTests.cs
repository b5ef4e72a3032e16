// Unit tests for components the JS reference cannot check because it deviates from the Rust crate there: split
// behaviours, Metaspace splitting, single_word, WordPiece, Oniguruma regex translation and astral-plane matching.
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

public class ComponentTests
{
    [Theory] // The examples from the Rust crate's SplitDelimiterBehavior docs.
    [InlineData("Removed", "the|final|countdown")]
    [InlineData("Isolated", "the|-|final|-|-|countdown")]
    [InlineData("MergedWithPrevious", "the-|final-|-|countdown")]
    [InlineData("MergedWithNext", "the|-final|-|-countdown")]
    [InlineData("Contiguous", "the|-|final|--|countdown")]
    public void SplitBehaviors_FollowTheRustCrate(string behavior, string expected)
    {
        var parts = new List<string>();
        PatternMatcher.Create("-", isRegex: false).Split("the-final--countdown", Enum.Parse<SplitBehavior>(behavior), invert: false, parts);
        Assert.Equal(expected, string.Join("|", parts));
    }

    [Fact]
    public void Split_Invert_KeepsTheNonMatchesAsDelimiters()
    {
        var parts = new List<string>();
        PatternMatcher.Create(@"\d+", isRegex: true).Split("ab12cd345", SplitBehavior.Removed, invert: true, parts);
        Assert.Equal(["12", "345"], parts);
    }

    [Fact]
    public void Metaspace_SplitsBeforeEachReplacement()
    {
        var tok = HfTokenizer.FromJson(TinyBpe(preTokenizer: """{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}""",
            vocab: """{"▁":0,"a":1,"b":2,"▁a":3}""", merges: """["▁ a"]"""), "tiny");
        // "a  b" -> "▁a▁▁b" -> ["▁a", "▁", "▁b"]; "▁b" is not in the vocab, so it stays two symbols.
        Assert.Equal([3, 0, 0, 2], tok.Encode("a  b"));
    }

    [Fact]
    public void SingleWordAddedToken_OnlyMatchesWholeWords()
    {
        string json = TinyBpe(vocab: """{"a":0,"b":1,"c":2," ":3}""",
            added: """[{"id":4,"content":"ab","single_word":true,"lstrip":false,"rstrip":false,"normalized":false,"special":false}]""");
        var tok = HfTokenizer.FromJson(json, "tiny");
        Assert.Equal([4, 3, 2, 0, 1, 3, 4], tok.Encode("ab cab ab"));
    }

    [Fact]
    public void LStripRStripAddedTokens_AbsorbNeighbouringSpaces()
    {
        string json = TinyBpe(vocab: """{"a":0," ":1}""",
            added: """[{"id":2,"content":"<m>","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":true}]""");
        var tok = HfTokenizer.FromJson(json, "tiny");
        Assert.Equal([0, 2, 0], tok.Encode("a   <m>  a"));
        Assert.Equal("a a", tok.Decode([0, 2, 0], skipSpecialTokens: true)); // no decoder: tokens joined by spaces
    }

    [Fact]
    public void WordPiece_WithBertNormalizerAndDecoder()
    {
        const string json = """
            {"added_tokens":[{"id":0,"content":"[UNK]","special":true},{"id":6,"content":"[CLS]","special":true},{"id":7,"content":"[SEP]","special":true}],
             "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
             "pre_tokenizer":{"type":"BertPreTokenizer"},
             "post_processor":{"type":"BertProcessing","sep":["[SEP]",7],"cls":["[CLS]",6]},
             "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
             "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
                      "vocab":{"[UNK]":0,"un":1,"##want":2,"##ed":3,"runn":4,"##ing":5,"[CLS]":6,"[SEP]":7,",":8}}}
            """;
        var tok = HfTokenizer.FromJson(json, "bert");
        Assert.Equal([6, 1, 2, 3, 8, 4, 5, 0, 7], tok.Encode("UNwántED, running xyz"));
        Assert.Equal("unwanted, running [UNK]", tok.Decode([1, 2, 3, 8, 4, 5, 0]));
    }

    [Theory]
    [InlineData("a?+b", "(?>a?)b")]
    [InlineData(@"\p{L}++|\s*+", @"(?>\p{L}+)|(?>\s*)")]
    [InlineData("(?:ab)++", "(?>(?:ab)+)")]
    [InlineData("x{2}+", "(?:x{2})+")]
    [InlineData(@"[\h_]\h", "[0-9A-Fa-f_][0-9A-Fa-f]")]
    [InlineData(@"\x{41}(?m:.)", @"\u0041(?s:.)")]
    [InlineData(@"\p{Letter}\p{^N}[[:alpha:]]", @"\p{L}\P{N}[\p{L}\p{M}]")]
    [InlineData("a{,", @"a\{,")]
    public void Oniguruma_IsTranslatedToDotNet(string onig, string dotnet) =>
        Assert.Equal(dotnet, OnigurumaTranslator.Translate(onig));

    [Theory]
    [InlineData(@"\p{Han}+")]
    [InlineData("[a-z&&[^aeiou]]")]
    [InlineData(@"\X")]
    [InlineData(@"\x{1F600}")]
    public void Oniguruma_UnsupportedConstructs_Throw(string onig) =>
        Assert.Throws<NotSupportedException>(() => OnigurumaTranslator.Translate(onig));

    [Fact]
    public void Regex_HasCodePointSemantics_ForAstralCharacters()
    {
        var matches = new List<(int, int)>();
        // 𝓗 (U+1D4D7) is a letter, 😀 a symbol: .NET alone would see two surrogates (category Cs) for each.
        new RegexMatcher(@"\p{L}+|[^\s\p{L}]").FindMatches("a𝓗b 😀", matches);
        Assert.Equal([(0, 4), (5, 7)], matches);
    }

    [Fact]
    public void Lowercase_UsesFinalSigmaAndFullMappings()
    {
        var lower = new LowercaseNormalizer();
        Assert.Equal("οδος σας", lower.Normalize("ΟΔΟΣ ΣΑΣ"));
        Assert.Equal("i\u0307stanbul", lower.Normalize("İstanbul"));
        Assert.Equal("𐐨", lower.Normalize("𐐀"));
    }

    internal static string TinyBpe(string vocab, string merges = "[]", string preTokenizer = "null", string added = "[]") => $$$"""
        {"version":"1.0","added_tokens":{{{added}}},"normalizer":null,"pre_tokenizer":{{{preTokenizer}}},"post_processor":null,"decoder":null,
         "model":{"type":"BPE","unk_token":null,"fuse_unk":false,"byte_fallback":false,"vocab":{{{vocab}}},"merges":{{{merges}}}}}
        """;
}
