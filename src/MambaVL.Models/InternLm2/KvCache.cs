// The keys (after RoPE) and values of one attention layer for one sequence, in buffers that grow by doubling, so a
// decode step appends one row instead of rebuilding the cache. Stored F32, or BF16 (half the memory and traffic; the
// values are rounded as they are appended).
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Models.Common;

namespace MambaVL.Models.InternLm2;

public sealed class KvCache : ILayerCache
{
    private readonly IBackend _backend;
    private readonly int _kvHeads, _headDim;
    private readonly DType _dtype;
    private Tensor _keys, _values;  // (Capacity, Hkv, P) F32 or BF16

    public int Length { get; private set; }
    public int Capacity => _keys.Dim(0);
    public long ByteSize => BytesPerToken(_kvHeads, _headDim, _dtype) * Length;

    /// <summary>Keys and values of one token.</summary>
    public static long BytesPerToken(int kvHeads, int headDim, DType dtype) => 2L * kvHeads * headDim * dtype.Size();

    public KvCache(IBackend backend, int kvHeads, int headDim, int initialCapacity = 64, DType dtype = DType.F32)
    {
        if (dtype is not (DType.F32 or DType.BF16)) throw new ArgumentException($"a KV cache is F32 or BF16, not {dtype}");
        (_backend, _kvHeads, _headDim, _dtype) = (backend, kvHeads, headDim, dtype);
        _keys = backend.Zeros(dtype, Math.Max(1, initialCapacity), kvHeads, headDim);
        _values = backend.Zeros(dtype, Math.Max(1, initialCapacity), kvHeads, headDim);
    }

    /// <summary>The cached keys and values so far, (Length, Hkv, P) views.</summary>
    public Tensor Keys => _keys.Narrow(0, 0, Length);
    public Tensor Values => _values.Narrow(0, 0, Length);

    /// <summary>Appends T rows: k, v (T, Hkv, P).</summary>
    public void Append(Tensor k, Tensor v)
    {
        int t = k.Dim(0);
        Reserve(Length + t);
        _backend.CopyInto(k, _keys.Narrow(0, Length, t));
        _backend.CopyInto(v, _values.Narrow(0, Length, t));
        Length += t;
    }

    /// <summary>An independent copy (for cloning a conversation's state).</summary>
    public ILayerCache Clone()
    {
        var copy = new KvCache(_backend, _kvHeads, _headDim, Math.Max(Length, 1), _dtype);
        if (Length > 0) copy.Append(Keys, Values);
        return copy;
    }

    public void Save(BinaryWriter w)
    {
        w.Write(Length);
        StateIO.Write(w, _backend, Keys);
        StateIO.Write(w, _backend, Values);
    }

    public void Load(BinaryReader r, long position)
    {
        int length = r.ReadInt32();
        if (length < 0 || length > position) throw new InvalidDataException($"cache length {length} at position {position}");
        Length = 0;
        if (length > 0) Append(StateIO.Read(r, _backend, length, _kvHeads, _headDim), StateIO.Read(r, _backend, length, _kvHeads, _headDim));
    }

    public void Prime(int tokens, int headroom, int seed)
    {
        // exactly the room needed (growth by doubling would hold up to twice the context); one random block, repeated
        _backend.Release(_keys); _backend.Release(_values);
        _keys = _backend.Zeros(_dtype, tokens + headroom, _kvHeads, _headDim);
        _values = _backend.Zeros(_dtype, tokens + headroom, _kvHeads, _headDim);
        int block = Math.Min(tokens, 1024);
        var rng = new Common.RandomTensors(seed);
        var (k, v) = (_backend.Upload(rng.Uniform(1, DType.F32, block, _kvHeads, _headDim)), _backend.Upload(rng.Uniform(1, DType.F32, block, _kvHeads, _headDim)));
        for (int at = 0; at < tokens; at += block)
        {
            int n = Math.Min(block, tokens - at);
            _backend.CopyInto(k.Narrow(0, 0, n), _keys.Narrow(0, at, n));
            _backend.CopyInto(v.Narrow(0, 0, n), _values.Narrow(0, at, n));
        }
        Length = tokens;
    }

    private void Reserve(int needed)
    {
        if (needed <= Capacity) return;
        int capacity = Capacity;
        while (capacity < needed) capacity = (int)Math.Min(int.MaxValue, 2L * capacity);
        var keys = _backend.Zeros(_dtype, capacity, _kvHeads, _headDim);
        var values = _backend.Zeros(_dtype, capacity, _kvHeads, _headDim);
        if (Length > 0)
        {
            _backend.CopyInto(Keys, keys.Narrow(0, 0, Length));
            _backend.CopyInto(Values, values.Narrow(0, 0, Length));
        }
        _backend.Release(_keys); _backend.Release(_values);
        (_keys, _values) = (keys, values);
    }
}
