// The memory of a HoVLE / mmMamba conversation: the embedding module's per-layer caches and the LLM's, always at the
// same position, plus an image whose features still wait for their <IMG_CONTEXT> slots. Saved as magic, the pending
// features, then the two layer states.
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Models.Common;
using MambaVL.Models.InternLm2;

namespace MambaVL.Models.HoVle;

public sealed class HoVleState : IModelState
{
    private const string Magic = "MVLHOVLESTATE1";
    private readonly IBackend _backend;

    internal InternLm2State Embedding { get; private set; }
    internal InternLm2State Llm { get; private set; }
    internal HoVleConfig Config { get; }
    /// <summary>An image set by PrefillImage whose features the prompt has not used up yet.</summary>
    public PendingImage? Image { get; internal set; }

    /// <summary>Decode steps on these caches, recorded and replayed where the model and backend allow (no attention layers).</summary>
    internal StepReplayer Steps { get; private set; } = new();

    /// <summary>True once this state's steps replay a recording (CUDA graphs).</summary>
    public bool ReplaysSteps => Steps.IsReplaying;

    internal HoVleState(HoVleConfig cfg, IBackend backend, InternLm2State embedding, InternLm2State llm) =>
        (Config, _backend, Embedding, Llm) = (cfg, backend, embedding, llm);

    public int BatchSize => Llm.BatchSize;
    public long Position => Llm.Position;
    public long ByteSize => Embedding.ByteSize + Llm.ByteSize + (Image is { } i ? (long)i.Remaining * Config.Llm.HiddenSize * sizeof(float) : 0);

    public IModelState Clone() => new HoVleState(Config, _backend, (InternLm2State)Embedding.Clone(), (InternLm2State)Llm.Clone())
    {
        Image = Image is { } i ? new PendingImage(i.Features) { Next = i.Next } : null,  // features are never written: shared
    };

    public void Save(Stream stream)
    {
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            int remaining = Image?.Remaining ?? 0;
            w.Write(remaining);
            if (remaining > 0)
                StateIO.Write(w, _backend, Image!.Features.Narrow(0, Image.Next, remaining));
        }
        Embedding.Save(stream);
        Llm.Save(stream);
    }

    public void Load(Stream stream)
    {
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadString() != Magic) throw new InvalidDataException("not a saved HoVLE / mmMamba state");
            int rows = r.ReadInt32(), d = Config.Llm.HiddenSize;
            if (rows is < 0 or > 1 << 20) throw new InvalidDataException($"saved state has {rows} pending image rows");
            var image = rows > 0 ? new PendingImage(StateIO.Read(r, _backend, rows, d)) : null;
            var (embedding, llm) = (Embedding.Empty(), Llm.Empty());
            embedding.Load(stream);
            llm.Load(stream);
            if (embedding.Position != llm.Position)
                throw new InvalidDataException($"the saved embedding module is at position {embedding.Position}, the LLM at {llm.Position}");
            (Embedding, Llm, Image) = (embedding, llm, image);
            Steps.Reset();   // a recording reads the caches just replaced
        }
        catch (EndOfStreamException) { throw new InvalidDataException("the saved state ends early"); }
    }
}
