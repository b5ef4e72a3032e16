// How model states write and read their F32 tensors in saved-state streams: raw little-endian values, shapes known from
// the state's header. Shared by the Mamba-2 state and the InternLM2 / HoVLE layer caches.
using System.Runtime.InteropServices;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Models.Common;

internal static class StateIO
{
    /// <summary>The tensor's values (any view, any backend) as F32 bytes.</summary>
    public static void Write(BinaryWriter w, IBackend backend, Tensor t) => w.Write(MemoryMarshal.AsBytes(backend.ToHost(t).AsSpan()));

    /// <summary>F32 values of <paramref name="shape"/> from the stream, on the backend; a short stream is EndOfStreamException.</summary>
    public static Tensor Read(BinaryReader r, IBackend backend, params int[] shape)
    {
        var host = Tensor.Zeros(DType.F32, shape);
        var bytes = MemoryMarshal.AsBytes(host.Span<float>());
        while (bytes.Length > 0)
        {
            int n = r.Read(bytes);
            if (n == 0) throw new EndOfStreamException();
            bytes = bytes[n..];
        }
        return backend.Upload(host);
    }
}
