// Round trips (decode(encode(x)) gives back x), special-token skipping, thread safety of the shared word cache,
// and a speed floor for prompt-sized inputs.
using System.Diagnostics;
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

public class RoundTripAndThreadingTests
{
    /// <summary>Byte-level tokenizers, with the normalization they apply (decode gives back the normalized text).</summary>
    public static TheoryData<string, string?> ByteLevel() => new()
    {
        { "gpt-neox-20b", "nfc" }, { "gpt2", null }, { "llama3", null }, { "qwen3", "nfc" },
    };

    [Theory]
    [MemberData(nameof(ByteLevel))]
    public void ByteLevel_DecodeOfEncode_GivesBackTheText(string name, string? normalization)
    {
        var tok = TokenizerFixtures.Get(name);
        var g = TokenizerFixtures.Goldens;
        for (int i = 0; i < g.Corpus.Length; i++)
        {
            string expected = normalization == "nfc" ? g.Normalization[i].Nfc : g.Corpus[i];
            string actual = tok.Decode(tok.Encode(g.Corpus[i], addSpecialTokens: false));
            Assert.True(expected == actual, $"{name} line {i}: {TokenizerFixtures.Show(expected)} -> {TokenizerFixtures.Show(actual)}");
        }
    }

    [Fact]
    public void Llama2_RoundTrips_WhereTheSentencePieceRulesAllow()
    {
        // Llama 2 prepends "▁" and its decoder strips one leading space, so leading-space lines cannot round-trip.
        var tok = TokenizerFixtures.Get("llama2");
        foreach (string line in TokenizerFixtures.Goldens.Corpus.Where(l => l.Length > 0 && l[0] != ' ' && !l.Contains('<')))
            Assert.Equal(line, tok.Decode(tok.Encode(line, addSpecialTokens: false)));
    }

    [Theory]
    [InlineData("llama3", "<|begin_of_text|>Hi there<|eot_id|>", "Hi there")]
    [InlineData("gpt-neox-20b", "<|endoftext|>Hello<|endoftext|>", "Hello")]
    [InlineData("qwen3", "<|im_start|>user\nHey<|im_end|>", "user\nHey")]
    [InlineData("llama2", "<s>Hello</s>", "Hello")]
    public void Decode_SkipSpecialTokens_DropsThem(string name, string text, string expectedSkipped)
    {
        var tok = TokenizerFixtures.Get(name);
        int[] ids = tok.Encode(text, addSpecialTokens: false);
        Assert.Contains(ids, tok.IsSpecialToken);
        Assert.Equal(expectedSkipped, tok.Decode(ids, skipSpecialTokens: true).TrimStart());
        Assert.Contains(tok.IdToToken(ids.First(tok.IsSpecialToken))!, tok.Decode(ids));
    }

    [Fact]
    public void AddSpecialTokens_FollowsThePostProcessor()
    {
        var llama2 = TokenizerFixtures.Get("llama2"); // TemplateProcessing: "<s> $A"
        Assert.Equal(llama2.TokenToId("<s>"), llama2.Encode("hi")[0]);
        Assert.Equal(llama2.Encode("hi").Length - 1, llama2.Encode("hi", addSpecialTokens: false).Length);
        var neox = TokenizerFixtures.Get("gpt-neox-20b");
        Assert.Equal(neox.Encode("hi"), neox.Encode("hi", addSpecialTokens: false));
    }

    [Fact]
    public void ParallelEncodes_GiveTheSameIdsAsSerialOnes()
    {
        // A fresh instance so the word cache starts empty and is filled concurrently.
        var tok = HfTokenizer.FromFile(TokenizerFixtures.PathOf("gpt-neox-20b.tokenizer.json.gz"));
        var serial = TokenizerFixtures.Get("gpt-neox-20b");
        string[] corpus = TokenizerFixtures.Goldens.Corpus;
        var expected = corpus.Select(l => serial.Encode(l)).ToArray();
        var work = Enumerable.Range(0, 16).SelectMany(_ => Enumerable.Range(0, corpus.Length)).ToArray();
        var results = new int[work.Length][];
        Parallel.For(0, work.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k => results[k] = tok.Encode(corpus[work[k]]));
        for (int k = 0; k < work.Length; k++) Assert.Equal(expected[work[k]], results[k]);
    }

    [Fact]
    public void LongPrompt_EncodesQuickly()
    {
        var tok = TokenizerFixtures.Get("gpt-neox-20b");
        string text = string.Concat(TokenizerFixtures.Goldens.Corpus.Take(60));
        while (text.Length < 200_000) text += text;
        tok.Encode(text[..1000]);
        var sw = Stopwatch.StartNew();
        int[] ids = tok.Encode(text);
        sw.Stop();
        Assert.True(ids.Length > 40_000);
        // Generous bound (cold caches, slow CI); typical is well under a second.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"{text.Length} chars took {sw.Elapsed}");
    }

    [Fact]
    public void LongWordWithoutSpaces_IsNotQuadratic()
    {
        var tok = TokenizerFixtures.Get("llama2"); // no pre-tokenizer: the whole text is one BPE word
        string text = string.Concat(Enumerable.Repeat("pneumonoultramicroscopic", 4000));
        var sw = Stopwatch.StartNew();
        int[] ids = tok.Encode(text, addSpecialTokens: false);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        Assert.Equal("▁" + text, string.Concat(ids.Select(id => tok.IdToToken(id))));
    }
}
