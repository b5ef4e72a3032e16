// tokenizer.json "post_processor" components: add the special tokens a model expects (BOS/EOS, CLS/SEP) around one
// encoded sequence. Pair templates are not needed for generation and are ignored.
using System.Text.Json;

namespace MambaVL.IO.Tokenizers;

internal abstract class PostProcessor
{
    /// <summary>Wraps <paramref name="ids"/> in the special tokens (only when <paramref name="addSpecialTokens"/>).</summary>
    public abstract List<int> Process(List<int> ids, bool addSpecialTokens);

    public static PostProcessor? Create(JsonElement e, TokenizerJson json)
    {
        if (TokenizerJson.IsNull(e)) return null;
        string type = json.TypeOf(e, "post_processor");
        string where = $"post_processor '{type}'";
        return type switch
        {
            "ByteLevel" => new PassThroughPostProcessor(), // only trims offsets, which this tokenizer does not report
            "TemplateProcessing" => TemplatePostProcessor.Create(e, json, where),
            "RobertaProcessing" or "BertProcessing" => new WrapPostProcessor(
                ReadPair(e, "cls", json, where), ReadPair(e, "sep", json, where)),
            "Sequence" => new SequencePostProcessor(
                json.Array(e, "processors", where).Select(x => Create(x, json)).OfType<PostProcessor>().ToArray()),
            _ => throw json.Unsupported("post_processor", type),
        };
    }

    /// <summary>A ["token", id] pair as used by RobertaProcessing/BertProcessing.</summary>
    private static int ReadPair(JsonElement e, string name, TokenizerJson json, string where)
    {
        var v = json.Required(e, name, where);
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 2) throw json.Error($"{where}: '{name}' should be [token, id]");
        return json.Int(v[1], $"{where}: '{name}'");
    }
}

internal sealed class PassThroughPostProcessor : PostProcessor
{
    public override List<int> Process(List<int> ids, bool addSpecialTokens) => ids;
}

internal sealed class WrapPostProcessor(int cls, int sep) : PostProcessor
{
    public override List<int> Process(List<int> ids, bool addSpecialTokens)
    {
        if (!addSpecialTokens) return ids;
        var result = new List<int>(ids.Count + 2) { cls };
        result.AddRange(ids);
        result.Add(sep);
        return result;
    }
}

/// <summary>The "single" template: special-token pieces (each may expand to several ids) around sequence "A".</summary>
internal sealed class TemplatePostProcessor(int[]?[] pieces) : PostProcessor
{
    public static TemplatePostProcessor Create(JsonElement e, TokenizerJson json, string where)
    {
        var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (json.TryGet(e, "special_tokens", out var st))
        {
            foreach (var p in st.EnumerateObject())
                specials[p.Name] = json.Array(p.Value, "ids", $"{where}: special_tokens['{p.Name}']")
                    .Select(x => json.Int(x, $"{where}: special_tokens['{p.Name}']")).ToArray();
        }
        var pieces = new List<int[]?>();
        foreach (var item in json.Array(e, "single", where))
        {
            if (json.TryGet(item, "SpecialToken", out var sp))
            {
                string id = json.String(sp, "id", where) ?? throw json.Error($"{where}: SpecialToken without 'id'");
                pieces.Add(specials.TryGetValue(id, out var ids) ? ids : throw json.Error($"{where}: special token '{id}' not in special_tokens"));
            }
            else if (json.TryGet(item, "Sequence", out var seq))
            {
                if (json.String(seq, "id", where) is not ("A" or null)) throw json.Error($"{where}: single template refers to sequence 'B'");
                pieces.Add(null);
            }
            else throw json.Error($"{where}: template item should be SpecialToken or Sequence");
        }
        return new TemplatePostProcessor(pieces.ToArray());
    }

    public override List<int> Process(List<int> ids, bool addSpecialTokens)
    {
        if (!addSpecialTokens) return ids;
        var result = new List<int>(ids.Count + 4);
        foreach (var piece in pieces)
        {
            if (piece is null) result.AddRange(ids);
            else result.AddRange(piece);
        }
        return result;
    }
}

internal sealed class SequencePostProcessor(PostProcessor[] steps) : PostProcessor
{
    public override List<int> Process(List<int> ids, bool addSpecialTokens)
    {
        foreach (var s in steps) ids = s.Process(ids, addSpecialTokens);
        return ids;
    }
}
