// SentencePieceProcessor against the sentencepiece library: ids of every golden string and decoded text, id for id.
namespace MambaVL.IO.Tests.Tokenizers;

public class SentencePieceGoldenTests
{
    [Theory]
    [MemberData(nameof(SentencePieceFixtures.ModelNames), MemberType = typeof(SentencePieceFixtures))]
    public void Encode_matches_sentencepiece(string model)
    {
        var golden = SentencePieceFixtures.Model(model);
        var sp = SentencePieceFixtures.Processor(model);
        Assert.Equal(golden.PieceSize, sp.PieceCount);
        var mismatches = new SentencePieceFixtures.Mismatches();
        string[] strings = SentencePieceFixtures.Strings;
        for (int i = 0; i < strings.Length; i++) mismatches.Check(golden.Ids[i], sp.Encode(strings[i]), TokenizerFixtures.Show(strings[i]));
        mismatches.AssertNone();
    }

    [Theory]
    [MemberData(nameof(SentencePieceFixtures.ModelNames), MemberType = typeof(SentencePieceFixtures))]
    public void Decode_of_encoded_text_matches_sentencepiece(string model)
    {
        var golden = SentencePieceFixtures.Model(model);
        var sp = SentencePieceFixtures.Processor(model);
        var mismatches = new SentencePieceFixtures.Mismatches();
        for (int i = 0; i < golden.Ids.Length; i++)
            mismatches.Check(golden.Decoded[i], sp.Decode(golden.Ids[i]), TokenizerFixtures.Show(SentencePieceFixtures.Strings[i]));
        mismatches.AssertNone();
    }

    [Theory]
    [MemberData(nameof(SentencePieceFixtures.ModelNames), MemberType = typeof(SentencePieceFixtures))]
    public void Decode_of_arbitrary_ids_matches_sentencepiece(string model)
    {
        // byte pieces that form no valid UTF-8, control and unknown ids, U+2581 pieces at the start and after them
        var golden = SentencePieceFixtures.Model(model);
        var sp = SentencePieceFixtures.Processor(model);
        var mismatches = new SentencePieceFixtures.Mismatches();
        foreach (var c in golden.DecodeCases) mismatches.Check(c.Text, sp.Decode(c.Ids), $"[{string.Join(",", c.Ids)}]");
        mismatches.AssertNone();
    }

    [Fact]
    public void One_processor_serves_many_threads()
    {
        var golden = SentencePieceFixtures.Model("unigram-nfkc");
        var sp = SentencePieceFixtures.Processor("unigram-nfkc");
        string[] strings = SentencePieceFixtures.Strings;
        int failures = 0;
        Parallel.For(0, strings.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            int k = i % strings.Length;
            int[] ids = sp.Encode(strings[k]);
            if (!ids.SequenceEqual(golden.Ids[k]) || sp.Decode(ids) != golden.Decoded[k]) Interlocked.Increment(ref failures);
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void Decode_rejects_ids_outside_the_model_like_sentencepiece()
    {
        var sp = SentencePieceFixtures.Processor("internlm2-style");
        Assert.Throws<ArgumentOutOfRangeException>(() => sp.Decode([5, sp.PieceCount]));
        Assert.Throws<ArgumentOutOfRangeException>(() => sp.Decode([-1]));
    }

    [Fact]
    public void Special_ids_come_from_the_trainer_spec_pieces()
    {
        var sp = SentencePieceFixtures.Processor("internlm2-style");
        Assert.Equal((0, 1, 2, -1), (sp.UnkId, sp.BosId, sp.EosId, sp.PadId));
        Assert.Equal("<0x0A>", sp.IdToPiece(sp.PieceToId("<0x0A>")!.Value));
        Assert.Equal(MambaVL.IO.Tokenizers.SentencePieceType.Byte, sp.PieceType(sp.PieceToId("<0x0A>")!.Value));
        Assert.Null(sp.PieceToId("no such piece"));
        Assert.Null(sp.IdToPiece(sp.PieceCount));
    }
}
