// Where a tensor's bytes live. Only the CPU exists today; the CUDA backend adds its own storage type.
namespace MambaVL.Core.Tensors;

public enum DeviceKind { Cpu, Cuda }

public readonly record struct Device(DeviceKind Kind, int Index = 0)
{
    public static readonly Device Cpu = new(DeviceKind.Cpu);
    public override string ToString() => Kind == DeviceKind.Cpu ? "cpu" : $"cuda:{Index}";
}
