// How much memory a model's state needs for one sequence, split into what is fixed (SSM and conv states) and what grows
// with every token of context (attention KV caches): what `mambavl chat` and the long-context benchmark report.
namespace MambaVL.Core.Models;

public interface IContextMemory
{
    /// <summary>Bytes of one sequence's state that do not depend on the context length.</summary>
    long FixedStateBytes { get; }

    /// <summary>Bytes one sequence's state grows by per token of context (0 for pure SSM models).</summary>
    long StateBytesPerToken { get; }
}

public static class ContextMemory
{
    /// <summary>One sequence's state bytes at <paramref name="tokens"/> tokens of context.</summary>
    public static long StateBytes(this IContextMemory model, long tokens) => model.FixedStateBytes + tokens * model.StateBytesPerToken;
}
