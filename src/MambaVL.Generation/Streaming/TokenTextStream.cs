// Turns a growing list of token ids into text pieces that never split a character: the "decode the suffix" method of
// HF's TextStreamer and TGI. A piece is released only when the decoded suffix grew and does not end in U+FFFD.
using MambaVL.Core.Text;

namespace MambaVL.Generation.Streaming;

public sealed class TokenTextStream(ITokenizer tokenizer, bool skipSpecialTokens = true)
{
    private readonly List<int> _ids = [];
    private int _prefixOffset;   // start of the decode window: a few already-released ids kept for context
    private int _readOffset;     // ids before this are released

    /// <summary>Adds one id; returns the newly complete text (empty while a character is still incomplete).</summary>
    public string Push(int id)
    {
        _ids.Add(id);
        var ids = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        // Decoding with a little released context keeps tokenizers that strip a leading space from changing the text.
        string prefix = tokenizer.Decode(ids[_prefixOffset.._readOffset], skipSpecialTokens);
        string full = tokenizer.Decode(ids[_prefixOffset..], skipSpecialTokens);
        if (full.Length <= prefix.Length || full.EndsWith('\uFFFD')) return "";
        _prefixOffset = _readOffset;
        _readOffset = _ids.Count;
        return NewText(prefix, full);
    }

    /// <summary>Releases whatever is held back (at the end of generation: invalid bytes then show as U+FFFD).</summary>
    public string Flush()
    {
        var ids = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        string prefix = tokenizer.Decode(ids[_prefixOffset.._readOffset], skipSpecialTokens);
        string full = tokenizer.Decode(ids[_prefixOffset..], skipSpecialTokens);
        _prefixOffset = _readOffset = _ids.Count;
        return NewText(prefix, full);
    }

    // What decoding the window added to the released prefix. Should a tokenizer's clean-up rewrite the prefix itself,
    // release everything after the common part rather than lose text.
    private static string NewText(string prefix, string full) =>
        full.StartsWith(prefix, StringComparison.Ordinal) ? full[prefix.Length..]
            : full[full.AsSpan().CommonPrefixLength(prefix)..];
}
