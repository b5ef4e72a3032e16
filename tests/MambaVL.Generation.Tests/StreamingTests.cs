// The text side of streaming: characters split over tokens are released whole, and stop strings split over pieces are
// held back and never released.
using System.Text;
using MambaVL.Generation.Streaming;

namespace MambaVL.Generation.Tests;

public class StreamingTests
{
    private static readonly byte[] Emoji = Encoding.UTF8.GetBytes("😀");   // F0 9F 98 80

    public static TheoryData<int[]> EmojiSplits => new() { new[] { 1, 1, 1, 1 }, new[] { 2, 2 }, new[] { 1, 3 }, new[] { 3, 1 }, new[] { 1, 2, 1 } };

    [Theory]
    [MemberData(nameof(EmojiSplits))]
    public void AnEmojiSplitOverTokensIsReleasedWholeAndOnlyOnce(int[] split)
    {
        // tokens: "a", the emoji's bytes in pieces, "b"
        var pieces = new List<byte[]> { "a"u8.ToArray() };
        int at = 0;
        foreach (int n in split) { pieces.Add(Emoji[at..(at + n)]); at += n; }
        pieces.Add("b"u8.ToArray());
        var tokenizer = new ByteTokenizer([.. pieces]);
        var stream = new TokenTextStream(tokenizer);

        var released = Enumerable.Range(256, pieces.Count).Select(stream.Push).ToList();
        released.Add(stream.Flush());

        Assert.All(released, piece => Assert.DoesNotContain('\uFFFD', piece));
        Assert.Equal("a😀b", string.Concat(released));
        for (int k = 1; k < split.Length; k++) Assert.Equal("", released[k]);   // nothing while a byte is missing
        Assert.Equal("😀", released[split.Length]);                             // then the whole character, never half a surrogate pair
    }

    [Fact]
    public void BytesThatNeverCompleteAreReleasedAsReplacementCharactersAtTheEnd()
    {
        var stream = new TokenTextStream(new ByteTokenizer());
        Assert.Equal("x", stream.Push('x'));
        Assert.Equal("", stream.Push(0xF0));
        Assert.Equal("", stream.Push(0x9F));
        Assert.Equal("\uFFFD", stream.Flush());
    }

    [Fact]
    public void AnInvalidByteFollowedByTextIsReleasedWithTheText()
    {
        var stream = new TokenTextStream(new ByteTokenizer());
        Assert.Equal("", stream.Push(0x9F));   // a lone continuation byte could still be waiting, as far as the stream knows
        Assert.Equal("\uFFFDz", stream.Push('z'));
    }

    [Fact]
    public void SpecialTokensAreSkippedWhenAsked()
    {
        var stream = new TokenTextStream(new ByteTokenizer(), skipSpecialTokens: true);
        Assert.Equal("a", stream.Push('a'));
        Assert.Equal("", stream.Push(ByteTokenizer.Eos));
        Assert.Equal("b", stream.Push('b'));
    }

    [Fact]
    public void AStopStringSplitOverPiecesIsHeldBackAndCut()
    {
        var m = new StopStringMatcher(["STOP"]);
        Assert.Equal("Hel", m.Push("Hel"));
        Assert.Equal("lo ", m.Push("lo ST"));   // "ST" could start "STOP"
        Assert.Equal("", m.Push("O"));
        Assert.Equal("", m.Push("P and more"));
        Assert.Equal("STOP", m.Matched);
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void HeldBackTextIsReleasedWhenItStopsMatching()
    {
        var m = new StopStringMatcher(["STOP"]);
        Assert.Equal("a ", m.Push("a ST"));
        Assert.Equal("STAR", m.Push("AR"));
        Assert.Null(m.Matched);
        Assert.Equal("", m.Push("S"));
        Assert.Equal("S", m.Flush());
    }

    [Fact]
    public void TheEarliestOfSeveralStopStringsWins()
    {
        var m = new StopStringMatcher(["\n\n", "User:"]);
        Assert.Equal("answer ", m.Push("answer User: hi\n\n"));
        Assert.Equal("User:", m.Matched);
    }

    [Fact]
    public void WithoutStopStringsEverythingIsReleasedAtOnce()
    {
        var m = new StopStringMatcher([]);
        Assert.Equal("abc", m.Push("abc"));
        Assert.Equal("", m.Flush());
    }
}
