// SentencePieceTokenizer (the transformers slow-tokenizer layer over tokenizer.model) against the reference procedure in
// make_sentencepiece_fixtures.py: added/special tokens split out first, each segment sentencepiece-encoded, BOS/EOS.
using MambaVL.Core.Text;
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

public class SentencePieceHfLayerTests
{
    private static SentencePieceTokenizer Load(string folder) =>
        SentencePieceTokenizer.FromDirectory(SentencePieceFixtures.PathOf(folder));

    [Theory]
    [MemberData(nameof(SentencePieceFixtures.HfFolders), MemberType = typeof(SentencePieceFixtures))]
    public void Encode_matches_the_slow_tokenizer_procedure(string folder)
    {
        var golden = SentencePieceFixtures.Hf(folder);
        var tokenizer = Load(folder);
        var mismatches = new SentencePieceFixtures.Mismatches();
        for (int i = 0; i < golden.Strings.Length; i++)
        {
            string what = TokenizerFixtures.Show(golden.Strings[i]);
            mismatches.Check(golden.Cases[i].Ids, tokenizer.Encode(golden.Strings[i]), what);
            mismatches.Check(golden.Cases[i].IdsNoSpecial, tokenizer.Encode(golden.Strings[i], addSpecialTokens: false), what + " (no special)");
        }
        mismatches.AssertNone();
    }

    [Theory]
    [MemberData(nameof(SentencePieceFixtures.HfFolders), MemberType = typeof(SentencePieceFixtures))]
    public void Decode_matches_the_documented_contract(string folder)
    {
        var golden = SentencePieceFixtures.Hf(folder);
        var tokenizer = Load(folder);
        var mismatches = new SentencePieceFixtures.Mismatches();
        for (int i = 0; i < golden.Strings.Length; i++)
        {
            var c = golden.Cases[i];
            mismatches.Check(c.Decoded, tokenizer.Decode(c.Ids), TokenizerFixtures.Show(golden.Strings[i]));
            mismatches.Check(c.DecodedSkipSpecial, tokenizer.Decode(c.Ids, skipSpecialTokens: true), TokenizerFixtures.Show(golden.Strings[i]) + " (skip)");
        }
        foreach (var c in golden.DecodeCases)
        {
            mismatches.Check(c.Text, tokenizer.Decode(c.Ids), $"[{string.Join(",", c.Ids)}]");
            mismatches.Check(c.TextSkipSpecial!, tokenizer.Decode(c.Ids, skipSpecialTokens: true), $"[{string.Join(",", c.Ids)}] (skip)");
        }
        mismatches.AssertNone();
    }

    [Theory]
    [MemberData(nameof(SentencePieceFixtures.HfFolders), MemberType = typeof(SentencePieceFixtures))]
    public void Vocab_size_counts_added_tokens(string folder) =>
        Assert.Equal(SentencePieceFixtures.Hf(folder).VocabSize, Load(folder).VocabSize);

    [Fact]
    public void InternLM2_style_folder_reads_flags_and_tokens()
    {
        ITokenizer tokenizer = Load("internlm2-style");
        var sp = (SentencePieceTokenizer)tokenizer;
        Assert.True(sp.AddBosToken);
        Assert.False(sp.AddEosToken);
        Assert.Equal(1, sp.BosTokenId);
        Assert.Equal(2, sp.EosTokenId);
        Assert.Equal(1, tokenizer.Encode("hello")[0]);
        Assert.Equal(1200, tokenizer.TokenToId("<|action_start|>"));
        Assert.Equal("<|action_start|>", tokenizer.IdToToken(1200));
        Assert.Equal(sp.Processor.PieceToId("<|im_end|>"), tokenizer.TokenToId("<|im_end|>"));
        Assert.Equal("<0x0A>", tokenizer.IdToToken(tokenizer.TokenToId("<0x0A>")!.Value));
        Assert.Null(tokenizer.TokenToId("not a token"));
        Assert.Null(tokenizer.IdToToken(99999));
        Assert.True(sp.IsSpecialToken(1));
        Assert.True(sp.IsSpecialToken(1203));
        Assert.False(sp.IsSpecialToken(1204)); // [NEW] is an added token but not special
    }

    [Fact]
    public void Legacy_folder_appends_eos_and_reads_added_tokens_json()
    {
        var tokenizer = Load("legacy-added-tokens");
        Assert.True(tokenizer.AddEosToken);
        int[] ids = tokenizer.Encode("hi<|note|>");
        Assert.Equal(1, ids[0]);
        Assert.Equal(1201, ids[^2]);
        Assert.Equal(2, ids[^1]);
        Assert.False(tokenizer.IsSpecialToken(1201));
        Assert.True(tokenizer.IsSpecialToken(1200));
    }

    [Fact]
    public void A_bare_model_file_gets_InternLM2_defaults()
    {
        var tokenizer = SentencePieceTokenizer.FromModelFile(SentencePieceFixtures.PathOf("internlm2-style/tokenizer.model"));
        var sp = tokenizer.Processor;
        string text = "Hello <s> world</s>";
        int[] hello = sp.Encode("Hello "), world = sp.Encode(" world");
        Assert.Equal([1, .. hello, 1, .. world, 2], tokenizer.Encode(text));
        // each run decodes on its own (its first U+2581 dropped); skipped specials join the runs
        Assert.Equal(sp.Decode(hello) + "<s>" + sp.Decode(world) + "</s>", tokenizer.Decode(tokenizer.Encode(text)[1..]));
        Assert.Equal(sp.Decode([.. hello, .. world]), tokenizer.Decode(tokenizer.Encode(text), skipSpecialTokens: true));
        Assert.Equal("Hello   world", sp.Decode([.. hello, .. world]));
    }

    [Fact]
    public void Missing_model_and_broken_json_are_reported_with_the_path()
    {
        string dir = Directory.CreateTempSubdirectory("spm-hf-").FullName;
        try
        {
            var missing = Assert.Throws<FileNotFoundException>(() => SentencePieceTokenizer.FromDirectory(dir));
            Assert.Contains(dir, missing.Message);
            File.Copy(SentencePieceFixtures.PathOf("internlm2-style/tokenizer.model"), Path.Combine(dir, "tokenizer.model"));
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"add_bos_token\": tru");
            var broken = Assert.Throws<InvalidDataException>(() => SentencePieceTokenizer.FromDirectory(dir));
            Assert.Contains("tokenizer_config.json", broken.Message);
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"add_bos_token\": \"yes\"}");
            Assert.Throws<InvalidDataException>(() => SentencePieceTokenizer.FromDirectory(dir));
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"add_bos_token\": false}");
            Assert.Equal(SentencePieceFixtures.Processor("internlm2-style").Encode("hi"), SentencePieceTokenizer.FromDirectory(dir).Encode("hi"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
