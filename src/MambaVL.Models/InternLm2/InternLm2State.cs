// The memory of an InternLM2-family LM for B sequences: per layer and sequence its mixer's cache (a growing KV cache for
// attention layers, a constant conv + SSM state for mmMamba layers). Saved as magic, shapes, then each cache.
using MambaVL.Core.Models;

namespace MambaVL.Models.InternLm2;

public sealed class InternLm2State : IModelState
{
    private const string Magic = "MVLINTERNLM2STATE1";
    private readonly ITokenMixer[] _mixers;
    private ILayerCache[,] _caches;  // [layer, sequence]

    public int BatchSize { get; }
    public long Position { get; internal set; }
    public long ByteSize { get { long n = 0; foreach (var c in _caches) n += c.ByteSize; return n; } }

    internal InternLm2State(InternLm2Config cfg, ITokenMixer[] mixers, int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size {batchSize} must be positive");
        (_mixers, BatchSize, Config) = (mixers, batchSize, cfg);
        _caches = NewCaches();
    }

    internal InternLm2Config Config { get; }

    private ILayerCache[,] NewCaches()
    {
        var caches = new ILayerCache[_mixers.Length, BatchSize];
        for (int l = 0; l < _mixers.Length; l++)
            for (int b = 0; b < BatchSize; b++) caches[l, b] = _mixers[l].CreateCache();
        return caches;
    }

    internal ILayerCache Cache(int layer, int sequence) => _caches[layer, sequence];

    internal bool Matches(InternLm2Config cfg) => cfg == Config;

    /// <summary>Every cache as if <paramref name="tokens"/> tokens had been read (see ILayerCache.Prime); the position moves there.</summary>
    internal void Prime(int tokens, int headroom, int seed)
    {
        int i = 0;
        foreach (var cache in _caches) cache.Prime(tokens, headroom, seed + i++);
        Position = tokens;
    }

    /// <summary>A new empty state of the same shape (zero history).</summary>
    internal InternLm2State Empty() => new(Config, _mixers, BatchSize);

    public IModelState Clone()
    {
        var copy = new InternLm2State(Config, _mixers, BatchSize) { Position = Position };
        for (int l = 0; l < _mixers.Length; l++)
            for (int b = 0; b < BatchSize; b++) copy._caches[l, b] = _caches[l, b].Clone();
        return copy;
    }

    public void Save(Stream stream)
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(Magic); w.Write(_mixers.Length); w.Write(BatchSize); w.Write(Position);
        foreach (var cache in _caches) cache.Save(w);
    }

    public void Load(Stream stream)
    {
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadString() != Magic) throw new InvalidDataException("not a saved InternLM2 / mmMamba state");
            var (layers, batch, position) = (r.ReadInt32(), r.ReadInt32(), r.ReadInt64());
            if ((layers, batch) != (_mixers.Length, BatchSize))
                throw new InvalidDataException($"the saved state is for {layers} layers × {batch} sequences, not {_mixers.Length} × {BatchSize}");
            if (position < 0) throw new InvalidDataException($"saved position {position}");
            var caches = NewCaches();
            foreach (var cache in caches) cache.Load(r, position);
            (_caches, Position) = (caches, position);
        }
        catch (EndOfStreamException) { throw new InvalidDataException("the saved state ends early"); }
    }
}
