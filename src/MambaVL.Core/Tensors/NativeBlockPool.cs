// Reuses freed native blocks of the same size: activations of one shape are allocated again and again (every layer,
// every token), and a fresh multi-megabyte block costs page faults that exceed the op that fills it.
using System.Runtime.InteropServices;

namespace MambaVL.Core.Tensors;

internal static unsafe class NativeBlockPool
{
    /// <summary>At most this many bytes wait in the pool; a block returned beyond it is freed.</summary>
    public const long MaxPooledBytes = 1L << 29;

    private static readonly Dictionary<long, Stack<nint>> Free = [];
    private static long _pooledBytes;

    /// <summary>A zeroed, 64-byte aligned block of <paramref name="bytes"/> (the most recently returned one of that size, if any).</summary>
    public static byte* Rent(long bytes)
    {
        long size = Math.Max(bytes, 64);
        byte* p = null;
        lock (Free)
        {
            if (Free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                p = (byte*)stack.Pop();
                _pooledBytes -= size;
            }
        }
        if (p == null)
        {
            p = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
            if (size >= NativeStorage.PressureThreshold) GC.AddMemoryPressure(size);
        }
        NativeMemory.Clear(p, (nuint)size);
        return p;
    }

    public static void Return(byte* p, long bytes)
    {
        long size = Math.Max(bytes, 64);
        lock (Free)
        {
            if (_pooledBytes + size <= MaxPooledBytes)
            {
                if (!Free.TryGetValue(size, out var stack)) Free[size] = stack = new Stack<nint>();
                stack.Push((nint)p);
                _pooledBytes += size;
                return;
            }
        }
        NativeMemory.AlignedFree(p);
        if (size >= NativeStorage.PressureThreshold) GC.RemoveMemoryPressure(size);
    }
}
