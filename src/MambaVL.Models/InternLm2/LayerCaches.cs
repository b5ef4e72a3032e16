// What one decoder layer remembers about one sequence: a KV cache for attention layers (grows with the context), or
// the conv window and fp32 SSM state of an mmMamba Mamba-2 layer (constant size). Both clone, save and load.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Models.Common;

namespace MambaVL.Models.InternLm2;

public interface ILayerCache
{
    long ByteSize { get; }
    ILayerCache Clone();
    void Save(BinaryWriter w);
    void Load(BinaryReader r, long position);

    /// <summary>
    /// Makes the cache look as if <paramref name="tokens"/> tokens had been read (pseudo-random contents, room for
    /// <paramref name="headroom"/> more): long-context benchmarks time a decode step without hours of CPU prefill.
    /// </summary>
    void Prime(int tokens, int headroom, int seed);
}

/// <summary>An mmMamba mixer's state: conv (C, W-1) with the last pre-conv [v|k|q] inputs, and SSM (H, P, N) in fp32.</summary>
public sealed class MambaLayerCache : ILayerCache
{
    private readonly IBackend _backend;
    public Tensor Conv { get; private set; }
    public Tensor Ssm { get; private set; }

    public MambaLayerCache(IBackend backend, int convChannels, int convHistory, int heads, int headDim, int stateSize)
    {
        _backend = backend;
        Conv = backend.Zeros(DType.F32, convChannels, convHistory);
        Ssm = backend.Zeros(DType.F32, heads, headDim, stateSize);
    }

    public long ByteSize => (Conv.Length + Ssm.Length) * sizeof(float);

    /// <summary>A cache's bytes for these sizes, before one exists (F32 conv and SSM states).</summary>
    public static long Bytes(int convChannels, int convHistory, int heads, int headDim, int stateSize) =>
        ((long)convChannels * convHistory + (long)heads * headDim * stateSize) * sizeof(float);

    public ILayerCache Clone()
    {
        var copy = new MambaLayerCache(_backend, Conv.Dim(0), Conv.Dim(1), Ssm.Dim(0), Ssm.Dim(1), Ssm.Dim(2));
        _backend.CopyInto(Conv, copy.Conv);
        _backend.CopyInto(Ssm, copy.Ssm);
        return copy;
    }

    public void Save(BinaryWriter w)
    {
        StateIO.Write(w, _backend, Conv);
        StateIO.Write(w, _backend, Ssm);
    }

    public void Load(BinaryReader r, long position)
    {
        _backend.CopyInto(StateIO.Read(r, _backend, Conv.ShapeArray), Conv);
        _backend.CopyInto(StateIO.Read(r, _backend, Ssm.ShapeArray), Ssm);
    }

    public void Prime(int tokens, int headroom, int seed)
    {
        var rng = new Common.RandomTensors(seed);
        _backend.CopyInto(_backend.Upload(rng.Uniform(1, DType.F32, Conv.ShapeArray)), Conv);
        _backend.CopyInto(_backend.Upload(rng.Uniform(1, DType.F32, Ssm.ShapeArray)), Ssm);
    }
}
