// Device memory as tensor storage: a tensor on the GPU is a Core Tensor (shape, strides, offset, dtype) over this.
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed class CudaStorage(DeviceBuffer buffer, int deviceIndex) : Storage
{
    public DeviceBuffer Buffer { get; } = buffer;
    public override Device Device { get; } = new(DeviceKind.Cuda, deviceIndex);
    public override long ByteLength => Buffer.Bytes;

    /// <summary>The device address of element <paramref name="offset"/> (in elements of <paramref name="dtype"/>).</summary>
    public ulong Address(long offset, DType dtype) => Buffer.Pointer + (ulong)(offset * dtype.Size());

    public override void Dispose() => Buffer.Dispose();
}
