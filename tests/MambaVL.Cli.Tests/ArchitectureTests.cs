// Enforces docs/ARCHITECTURE.md's dependency rule on the built assemblies: each layer references only the layers
// the table allows (Core nothing; Cpu, Cuda, Models, IO and Generation only Core; the MambaVL library all of those and Cuda; the CLI anything).
using System.Reflection;

namespace MambaVL.Cli.Tests;

public class ArchitectureTests
{
    public static TheoryData<string, string[]> Rules => new()
    {
        { typeof(Core.Tensors.Tensor).Assembly.GetName().Name!, [] },
        { typeof(Cpu.CpuBackend).Assembly.GetName().Name!, ["MambaVL.Core"] },
        { typeof(Models.ModelRegistry).Assembly.GetName().Name!, ["MambaVL.Core"] },
        { typeof(IO.Safetensors.SafetensorsFile).Assembly.GetName().Name!, ["MambaVL.Core"] },
        { typeof(Generation.Generator).Assembly.GetName().Name!, ["MambaVL.Core"] },
        { typeof(Cuda.CudaDevice).Assembly.GetName().Name!, ["MambaVL.Core"] },
        { typeof(VisionChatModel).Assembly.GetName().Name!, ["MambaVL.Core", "MambaVL.Cpu", "MambaVL.Cuda", "MambaVL.Models", "MambaVL.IO", "MambaVL.Generation"] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void ALayerReferencesOnlyTheLayersItMay(string assembly, string[] allowed)
    {
        var references = Assembly.Load(assembly).GetReferencedAssemblies()
            .Select(a => a.Name!).Where(n => n.StartsWith("MambaVL.", StringComparison.Ordinal));
        Assert.Empty(references.Except(allowed));
    }
}
