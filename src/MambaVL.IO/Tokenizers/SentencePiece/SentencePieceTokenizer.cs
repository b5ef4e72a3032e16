// The Hugging Face slow-tokenizer layer over a sentencepiece model, as InternLM2's tokenization_internlm2.py on top of
// transformers' PreTrainedTokenizer does it (mmMamba, HoVLE): added/special tokens are cut out of the text first, each
// remaining segment is sentencepiece-encoded on its own, BOS (and optionally EOS) are added.
using MambaVL.Core.Text;

namespace MambaVL.IO.Tokenizers;

/// <summary>An immutable, thread-safe <see cref="ITokenizer"/> over a tokenizer.model and its JSON side files.</summary>
/// <remarks>
/// Encoding matches transformers' slow tokenizer (4.36+): the added tokens (tokenizer_config.json's added_tokens_decoder
/// or added_tokens.json, plus the special tokens) are split out leftmost-longest; lstrip/rstrip strip the whitespace of
/// the neighbouring text, single_word glues the token to a neighbouring word (as transformers does, the glued text is then
/// encoded as text); every other segment is encoded by sentencepiece on its own (so each gets the dummy prefix).
/// Decoding emits added and special tokens as their text (special ones dropped with skipSpecialTokens) and decodes the
/// sentencepiece ids between them run by run with sentencepiece's rules (so a run's leading U+2581 is dropped, as in
/// transformers). Unlike transformers it puts no spaces around added tokens (spaces_between_special_tokens) and never
/// applies clean_up_tokenization (InternLM2's convert_tokens_to_string applies it unconditionally, which loses text such as
/// "a , b"); ids outside the vocabulary are skipped.
/// One known difference in splitting: transformers' Trie gives up on a token found inside a failed partial match of a
/// longer one (tokens "b" and "abcd" on "abXcd" leave the text whole); this splitter, like the tokenizers crate, takes "b".
/// No InternLM2 token contains another, so their models are unaffected.
/// </remarks>
public sealed class SentencePieceTokenizer : ITokenizer
{
    private readonly Dictionary<string, SlowAddedToken> _addedByContent = new(StringComparer.Ordinal);
    private readonly Dictionary<int, SlowAddedToken> _addedById = new();
    private readonly Dictionary<int, int> _pieceIdToAddedId = new(); // a piece whose text is an added token takes its id
    private readonly AddedTokenSplitter _splitter;

    public SentencePieceProcessor Processor { get; }

    /// <summary>The folder or file the tokenizer came from.</summary>
    public string Source { get; }

    public bool AddBosToken { get; }
    public bool AddEosToken { get; }

    /// <summary>sentencepiece's bos_id() / eos_id() (what InternLM2Tokenizer's bos_token_id returns); -1 when absent.</summary>
    public int BosTokenId => Processor.BosId;
    public int EosTokenId => Processor.EosId;

    public int VocabSize { get; }

    private SentencePieceTokenizer(SentencePieceProcessor processor, SlowTokenizerConfig config, string source)
    {
        Processor = processor;
        Source = source;
        AddBosToken = config.AddBosToken;
        AddEosToken = config.AddEosToken;
        foreach (var token in config.AddedTokens) Register(token with { Special = token.Special || IsListedSpecial(config, token.Content) });
        RegisterSpecialTokens(config);
        _splitter = new AddedTokenSplitter(_addedByContent.Values.Select(t =>
            (t.Content, new AddedToken(t.Id, t.Content, t.Special, SingleWord: false, LStrip: false, RStrip: false, Normalized: false))));
        for (int id = 0; id < processor.PieceCount; id++)
            if (_addedByContent.TryGetValue(processor.IdToPiece(id)!, out var added) && added.Id != id) _pieceIdToAddedId[id] = added.Id;
        VocabSize = Math.Max(processor.PieceCount, _addedById.Count == 0 ? 0 : _addedById.Keys.Max() + 1);
    }

    /// <summary>Loads a model folder: tokenizer.model plus (each optional) tokenizer_config.json, special_tokens_map.json
    /// and added_tokens.json. Without JSON files InternLM2Tokenizer's defaults apply (BOS added, no EOS).</summary>
    public static SentencePieceTokenizer FromDirectory(string directory)
    {
        string modelPath = Path.Combine(directory, "tokenizer.model");
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"{directory}: no tokenizer.model in the folder", modelPath);
        return new SentencePieceTokenizer(SentencePieceProcessor.Load(modelPath), SlowTokenizerConfig.Read(directory), directory);
    }

    /// <summary>A tokenizer.model on its own, with InternLM2Tokenizer's defaults.</summary>
    public static SentencePieceTokenizer FromModelFile(string path) =>
        new(SentencePieceProcessor.Load(path), SlowTokenizerConfig.Defaults(), path);

    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (addSpecialTokens && AddBosToken && BosTokenId >= 0) ids.Add(BosTokenId);
        foreach (string part in SplitOnAddedTokens(text))
        {
            if (part.Length == 0) continue;
            if (_addedByContent.TryGetValue(part, out var added)) { ids.Add(added.Id); continue; }
            int first = ids.Count;
            Processor.EncodeInto(part, ids);
            for (int i = first; i < ids.Count; i++)
                if (_pieceIdToAddedId.TryGetValue(ids[i], out int addedId)) ids[i] = addedId;
        }
        if (addSpecialTokens && AddEosToken && EosTokenId >= 0) ids.Add(EosTokenId);
        return ids.ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var text = new System.Text.StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            if (_addedById.TryGetValue(id, out var added))
            {
                if (skipSpecialTokens && added.Special) continue;
                FlushRun(text, run);
                text.Append(added.Content);
            }
            else if ((uint)id < (uint)Processor.PieceCount)
            {
                run.Add(id);
            }
        }
        FlushRun(text, run);
        return text.ToString();
    }

    public int? TokenToId(string token) => _addedByContent.TryGetValue(token, out var added) ? added.Id : Processor.PieceToId(token);

    public string? IdToToken(int id) => _addedById.TryGetValue(id, out var added) ? added.Content : Processor.IdToPiece(id);

    /// <summary>True for the special tokens (BOS/EOS/UNK/PAD, additional and added special ones): what skipSpecialTokens drops.</summary>
    public bool IsSpecialToken(int id) => _addedById.TryGetValue(id, out var t) && t.Special;

    /// <summary>transformers' tokenize() before _tokenize: the text cut at added tokens, then the AddedToken flags applied
    /// to the neighbours. A part equal to an added token's text stands for that token.</summary>
    private List<string> SplitOnAddedTokens(string text)
    {
        var segments = new List<Segment>();
        _splitter.Split(text, 0, segments);
        var parts = segments.Select(s => s.Text).ToList();
        for (int i = 0; i < parts.Count; i++)
        {
            if (!_addedByContent.TryGetValue(parts[i], out var token)) continue;
            string? left = i > 0 ? parts[i - 1] : null, right = i < parts.Count - 1 ? parts[i + 1] : null;
            if (token.RStrip && !string.IsNullOrEmpty(right)) parts[i + 1] = right.TrimStart(PythonWhitespace);
            if (token.LStrip && !string.IsNullOrEmpty(left)) parts[i - 1] = left.TrimEnd(PythonWhitespace);
            if (token.SingleWord && !string.IsNullOrEmpty(left) && left[^1] != ' ')
            {
                parts[i - 1] += parts[i];
                parts[i] = "";
            }
            else if (token.SingleWord && !string.IsNullOrEmpty(right) && right[0] != ' ')
            {
                parts[i + 1] = parts[i] + parts[i + 1];
                parts[i] = "";
            }
        }
        return parts;
    }

    /// <summary>What Python's str.strip() removes: char.IsWhiteSpace plus the separators U+001C..U+001F.</summary>
    private static readonly char[] PythonWhitespace = Enumerable.Range(0, 0x3001)
        .Where(c => char.IsWhiteSpace((char)c) || c is >= 0x1C and <= 0x1F).Select(c => (char)c).ToArray();

    private void FlushRun(System.Text.StringBuilder text, List<int> run)
    {
        if (run.Count == 0) return;
        text.Append(Processor.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(run)));
        run.Clear();
    }

    private void Register(SlowAddedToken token)
    {
        if (_addedByContent.TryGetValue(token.Content, out var old)) _addedById.Remove(old.Id);
        if (_addedById.TryGetValue(token.Id, out var other)) _addedByContent.Remove(other.Content);
        _addedByContent[token.Content] = token;
        _addedById[token.Id] = token;
    }

    /// <summary>transformers' _add_tokens(special tokens): a special token not yet added takes its piece's id, or a new id
    /// after everything (numbered from the size of the piece-and-added-token vocabulary).</summary>
    private void RegisterSpecialTokens(SlowTokenizerConfig config)
    {
        int nextId = -1;
        foreach (var (content, lstrip, rstrip, singleWord) in config.SpecialTokens)
        {
            if (_addedByContent.ContainsKey(content)) continue;
            int? pieceId = Processor.PieceToId(content);
            if (pieceId is null && nextId < 0)
                nextId = Processor.PieceCount + _addedByContent.Keys.Count(c => Processor.PieceToId(c) is null);
            int id = pieceId ?? nextId++;
            Register(new SlowAddedToken(id, content, lstrip, rstrip, singleWord, Special: true));
        }
    }

    private static bool IsListedSpecial(SlowTokenizerConfig config, string content) => config.SpecialTokens.Any(s => s.Content == content);
}
