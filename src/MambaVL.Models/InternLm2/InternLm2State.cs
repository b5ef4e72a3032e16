// The memory of an InternLM2 LM: per layer and sequence a KV cache (post-RoPE keys, values), which grows with the
// context (that is what the mmMamba students remove). Saved as magic, shapes, then each cache's rows in F32.
using System.Runtime.InteropServices;
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Models.InternLm2;

public sealed class InternLm2State : IModelState
{
    private const string Magic = "MVLKVCACHE1";
    private readonly IBackend _backend;
    private readonly InternLm2Config _cfg;
    private KvCache[,] _caches;  // [layer, sequence]

    public int BatchSize { get; }
    public long Position { get; internal set; }
    public long ByteSize { get { long n = 0; foreach (var c in _caches) n += c.ByteSize; return n; } }

    public InternLm2State(InternLm2Config cfg, IBackend backend, int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size {batchSize} must be positive");
        (_cfg, _backend, BatchSize) = (cfg, backend, batchSize);
        _caches = new KvCache[cfg.Layers, batchSize];
        for (int l = 0; l < cfg.Layers; l++)
            for (int b = 0; b < batchSize; b++) _caches[l, b] = new KvCache(backend, cfg.KvHeads, cfg.HeadDim);
    }

    internal KvCache Cache(int layer, int sequence) => _caches[layer, sequence];

    internal bool Matches(InternLm2Config cfg) => cfg.Layers == _cfg.Layers && cfg.KvHeads == _cfg.KvHeads && cfg.HeadDim == _cfg.HeadDim;

    public IModelState Clone()
    {
        var copy = new InternLm2State(_cfg, _backend, BatchSize) { Position = Position };
        for (int l = 0; l < _cfg.Layers; l++)
            for (int b = 0; b < BatchSize; b++) copy._caches[l, b] = _caches[l, b].Clone();
        return copy;
    }

    public void Save(Stream stream)
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(Magic); w.Write(_cfg.Layers); w.Write(BatchSize); w.Write(_cfg.KvHeads); w.Write(_cfg.HeadDim); w.Write(Position);
        foreach (var cache in _caches)
        {
            w.Write(cache.Length);
            w.Write(MemoryMarshal.AsBytes(_backend.ToHost(cache.Keys).AsSpan()));
            w.Write(MemoryMarshal.AsBytes(_backend.ToHost(cache.Values).AsSpan()));
        }
    }

    public void Load(Stream stream)
    {
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadString() != Magic) throw new InvalidDataException("not a saved InternLM2 state");
            var (layers, batch, kvHeads, headDim) = (r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            if ((layers, batch, kvHeads, headDim) != (_cfg.Layers, BatchSize, _cfg.KvHeads, _cfg.HeadDim))
                throw new InvalidDataException($"the saved state is for {layers} layers × {batch} sequences × {kvHeads} kv heads × {headDim}, not this model's");
            long position = r.ReadInt64();
            var caches = new KvCache[layers, batch];
            for (int l = 0; l < layers; l++)
                for (int b = 0; b < batch; b++)
                {
                    int length = r.ReadInt32();
                    if (length < 0 || length > position) throw new InvalidDataException($"cache length {length} at position {position}");
                    var cache = new KvCache(_backend, kvHeads, headDim, Math.Max(length, 1));
                    if (length > 0) cache.Append(ReadRows(r, length), ReadRows(r, length));
                    caches[l, b] = cache;
                }
            (_caches, Position) = (caches, position);
        }
        catch (EndOfStreamException) { throw new InvalidDataException("the saved state ends early"); }
    }

    private Tensor ReadRows(BinaryReader r, int length)
    {
        var values = new float[(long)length * _cfg.KvHeads * _cfg.HeadDim];
        var bytes = r.ReadBytes(values.Length * sizeof(float));
        if (bytes.Length != values.Length * sizeof(float)) throw new EndOfStreamException();
        MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
        return _backend.Upload(Tensor.FromArray(values, length, _cfg.KvHeads, _cfg.HeadDim));
    }
}
