// HoVLE's holistic embedding module (and mmMamba's, whose layers may be Mamba-2): token embeddings (llm_text_embeddings,
// and special_text_embeddings for ids past the text vocabulary), the image features written into the <IMG_CONTEXT>
// slots in order, then its own InternLM2 layers with no final norm. Its output is the LLM's input.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;
using MambaVL.Models.InternLm2;

namespace MambaVL.Models.HoVle;

public sealed class HolisticEmbedding
{
    private readonly HoVleConfig _cfg;
    private readonly IBackend _backend;
    private readonly Tensor _text;        // (TextVocab, D)
    private readonly Tensor? _special;    // (SpecialTokens, D)

    public HolisticImageEncoder Images { get; }
    public InternLm2Stack Layers { get; }

    /// <summary>Binds llm_text_embeddings, special_text_embeddings, vision_embeddings, pixel_shuffle_proj and encoder.{i} under <paramref name="module"/>.</summary>
    public HolisticEmbedding(HoVleConfig cfg, WeightScope module, IBackend backend, DType? storage = null, DType kvCache = DType.F32)
    {
        (_cfg, _backend) = (cfg, backend);
        int d = cfg.Llm.HiddenSize;
        _text = Parameters.Large(backend, module.Get("llm_text_embeddings.weight", cfg.TextVocab, d), storage);
        if (cfg.SpecialTokens > 0) _special = Parameters.Large(backend, module.Get("special_text_embeddings.weight", cfg.SpecialTokens, d), storage);
        Images = new HolisticImageEncoder(module, backend, d, cfg.PatchSize, cfg.StoredImageSize, cfg.TileSize, storage);
        Layers = new InternLm2Stack(cfg.Embedding, module.Push("encoder"), backend, storage, kvCache);
    }

    /// <summary>
    /// The embeddings (T, D) of <paramref name="ids"/>: text rows, special-token rows, and for each &lt;IMG_CONTEXT&gt; the
    /// next row of <paramref name="image"/> (taken from it). Runs of equal kind are written as one block.
    /// </summary>
    public Tensor Embed(ReadOnlySpan<int> ids, PendingImage? image)
    {
        int limit = _cfg.TextVocab + _cfg.SpecialTokens, imageSlots = 0;
        var textIds = new int[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (id == _cfg.ImageContextId) imageSlots++;
            else if ((uint)id >= (uint)limit) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the {limit} ids the embedding module knows");
            textIds[i] = id < _cfg.TextVocab ? id : 0;
        }
        int waiting = image?.Remaining ?? 0;
        if (imageSlots > waiting)
            throw new ArgumentException($"the prompt has {imageSlots} <IMG_CONTEXT> tokens but {waiting} image features are waiting (an image gives {_cfg.TokensPerTile} per tile)");
        var x = _backend.Embedding(_text, textIds);
        for (int start = 0; start < ids.Length;)
        {
            var kind = KindOf(ids[start]);
            int end = start + 1;
            while (end < ids.Length && KindOf(ids[end]) == kind) end++;
            if (kind != Slot.Text) WriteRun(x.Narrow(0, start, end - start), ids[start..end], kind, image);
            start = end;
        }
        return x;
    }

    private enum Slot { Text, Special, Image }

    private Slot KindOf(int id) => id == _cfg.ImageContextId ? Slot.Image : id >= _cfg.TextVocab ? Slot.Special : Slot.Text;

    private void WriteRun(Tensor destination, ReadOnlySpan<int> ids, Slot kind, PendingImage? image)
    {
        if (kind == Slot.Image)
        {
            _backend.CopyInto(image!.Take(ids.Length), destination);
            return;
        }
        var rows = new int[ids.Length];
        for (int i = 0; i < rows.Length; i++) rows[i] = ids[i] - _cfg.TextVocab;
        var special = _backend.Embedding(_special!, rows);
        _backend.CopyInto(special, destination);
        _backend.Release(special);
    }
}

/// <summary>An encoded image's features (N·TokensPerTile, D) waiting for the prompt's &lt;IMG_CONTEXT&gt; slots, consumed in order.</summary>
public sealed class PendingImage(Tensor features)
{
    public Tensor Features { get; } = features;
    public int Next { get; internal set; }
    public int Remaining => Features.Dim(0) - Next;

    /// <summary>The next <paramref name="count"/> rows (a view), marked as used.</summary>
    internal Tensor Take(int count)
    {
        var rows = Features.Narrow(0, Next, count);
        Next += count;
        return rows;
    }
}
