// Where model weights come from (safetensors, PyTorch checkpoints, in-memory dictionaries), by checkpoint name.
using MambaVL.Core.Tensors;

namespace MambaVL.Core.Weights;

/// <summary>A read-only set of named tensors. Tensors come back in the dtype they are stored in, on the CPU.</summary>
public interface IWeightSource : IDisposable
{
    /// <summary>What this source reads, for messages (a file or folder path).</summary>
    string Description { get; }

    IReadOnlyCollection<string> Names { get; }

    bool Contains(string name);

    /// <summary>The tensor called <paramref name="name"/>; throws <see cref="ModelLoadException"/> if it is absent or unreadable.</summary>
    Tensor Get(string name);

    /// <summary>Stored shape and dtype without reading data (for inspect and validation).</summary>
    (int[] Shape, DType DType) Info(string name);

    /// <summary>The file that holds <paramref name="name"/>, for messages.</summary>
    string FileOf(string name);
}

/// <summary>A clear, user-facing load failure: names the file and what is wrong with it.</summary>
public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Weights held in memory, e.g. a generated random model or tensors built by a test.</summary>
public sealed class DictionaryWeightSource(IReadOnlyDictionary<string, Tensor> tensors, string description = "in-memory weights") : IWeightSource
{
    public string Description => description;
    public IReadOnlyCollection<string> Names => tensors.Keys.ToArray();
    public bool Contains(string name) => tensors.ContainsKey(name);

    public Tensor Get(string name) => tensors.TryGetValue(name, out var t) ? t
        : throw new ModelLoadException($"{description}: missing tensor '{name}'");

    public (int[] Shape, DType DType) Info(string name) { var t = Get(name); return (t.ShapeArray, t.DType); }
    public string FileOf(string name) => description;
    public void Dispose() { }
}
