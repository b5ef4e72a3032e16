// WordPiece model of tokenizer.json ("type": "WordPiece", BERT-style): greedy longest-match-first over each word,
// continuation pieces carry the "##" prefix, words with no full cover become the unk token.
using System.Text.Json;

namespace MambaVL.IO.Tokenizers;

/// <summary>Greedy longest-match-first WordPiece (BERT).</summary>
internal sealed class WordPieceModel : TokenizerModel
{
    private readonly int _unkId;
    private readonly string _prefix;
    private readonly int _maxChars;

    private WordPieceModel(Dictionary<string, int> vocab, int unkId, string prefix, int maxChars) : base(vocab) =>
        (_unkId, _prefix, _maxChars) = (unkId, prefix, maxChars);

    public static WordPieceModel Load(JsonElement e, TokenizerJson json)
    {
        const string where = "model 'WordPiece'";
        var vocab = ReadVocab(e, json, where);
        string unk = json.String(e, "unk_token", where) ?? "[UNK]";
        if (!vocab.TryGetValue(unk, out int unkId)) throw json.Error($"{where}: unk_token '{unk}' is not in the vocab");
        return new WordPieceModel(vocab, unkId, json.String(e, "continuing_subword_prefix", where) ?? "##",
            json.Int(e, "max_input_chars_per_word", 100, where));
    }

    public override void Tokenize(string word, List<int> ids)
    {
        if (word.Length == 0) return;
        var bounds = new List<int>();
        for (int i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1) bounds.Add(i);
        if (bounds.Count > _maxChars) { ids.Add(_unkId); return; }
        bounds.Add(word.Length);
        var pieces = new List<int>();
        for (int start = 0; start < bounds.Count - 1;)
        {
            int found = -1, end = bounds.Count - 1;
            for (; end > start; end--)
            {
                string sub = word[bounds[start]..bounds[end]];
                if (start > 0) sub = _prefix + sub;
                if (TryGetId(sub, out found)) break;
            }
            if (end == start) { ids.Add(_unkId); return; }
            pieces.Add(found);
            start = end;
        }
        ids.AddRange(pieces);
    }
}
