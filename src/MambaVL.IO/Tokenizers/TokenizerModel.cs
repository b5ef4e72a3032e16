// Base of the tokenizer.json "model" section: vocabulary lookups shared by BPE and WordPiece, and the factory that
// picks the model by its "type" (rejecting types this implementation does not support).
using System.Text.Json;

namespace MambaVL.IO.Tokenizers;

/// <summary>Vocabulary lookups shared by the models; immutable after construction.</summary>
internal abstract class TokenizerModel
{
    private readonly Dictionary<string, int> _vocab;
    private readonly string?[] _tokens;

    protected TokenizerModel(Dictionary<string, int> vocab)
    {
        _vocab = vocab;
        _tokens = new string?[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) _tokens[id] = token;
    }

    /// <summary>Appends the ids of one pre-tokenized word.</summary>
    public abstract void Tokenize(string word, List<int> ids);

    public int IdLimit => _tokens.Length;

    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);

    public string? IdToToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;

    public static TokenizerModel Create(JsonElement e, TokenizerJson json)
    {
        if (e.ValueKind != JsonValueKind.Object) throw json.Error("'model' should be an object");
        string? type = json.String(e, "type", "model");
        // Old files omit the type; infer it the way the Rust crate does.
        type ??= json.TryGet(e, "merges", out _) ? "BPE" : json.TryGet(e, "continuing_subword_prefix", out _) ? "WordPiece" : "?";
        return type switch
        {
            "BPE" => BpeModel.Load(e, json),
            "WordPiece" => WordPieceModel.Load(e, json),
            _ => throw json.Unsupported("model", type),
        };
    }

    protected static Dictionary<string, int> ReadVocab(JsonElement e, TokenizerJson json, string where)
    {
        var v = json.Required(e, "vocab", where);
        if (v.ValueKind != JsonValueKind.Object) throw json.Error($"{where}: 'vocab' should be an object of token -> id");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            int id = json.Int(p.Value, $"{where}: vocab['{p.Name}']");
            if (id < 0) throw json.Error($"{where}: vocab['{p.Name}'] has negative id {id}");
            vocab[p.Name] = id;
        }
        return vocab;
    }
}
