// sentencepiece's precompiled normalization rules: <trie size: uint32 LE><darts-clone double-array trie><NUL-terminated
// replacement strings>. The longest trie key that prefixes the input is replaced by the string its value points at.
using System.Buffers.Binary;

namespace MambaVL.IO.Tokenizers;

/// <summary>A validated charsmap: every node reachable from the root and every replacement offset is in bounds.</summary>
internal sealed class PrecompiledCharsMap
{
    private readonly uint[] _units;
    private readonly byte[] _replacements;

    private PrecompiledCharsMap(uint[] units, byte[] replacements) => (_units, _replacements) = (units, replacements);

    /// <summary>Decodes and validates a charsmap blob; <paramref name="describe"/> names it in errors.</summary>
    public static PrecompiledCharsMap Parse(ReadOnlySpan<byte> blob, string describe)
    {
        if (blob.Length <= 4) throw new InvalidDataException($"{describe}: precompiled charsmap of {blob.Length} bytes is broken");
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieSize >= (uint)blob.Length - 4 || trieSize % 4 != 0 || trieSize == 0)
            throw new InvalidDataException($"{describe}: precompiled charsmap trie size {trieSize} does not fit its {blob.Length} bytes");
        var units = new uint[trieSize / 4];
        for (int i = 0; i < units.Length; i++) units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob[(4 + 4 * i)..]);
        var map = new PrecompiledCharsMap(units, blob[(4 + (int)trieSize)..].ToArray());
        map.Validate(describe);
        return map;
    }

    /// <summary>Finds the longest rule that prefixes <paramref name="input"/>; returns its length (0 when none) and replacement.</summary>
    public int LongestMatch(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> replacement)
    {
        replacement = default;
        int longest = 0, node = (int)Offset(_units[0]);
        for (int i = 0; i < input.Length; i++)
        {
            node ^= input[i];
            if (node >= _units.Length) break;
            uint unit = _units[node];
            if (Label(unit) != input[i]) break;
            node ^= (int)Offset(unit);
            if (HasLeaf(unit))
            {
                longest = i + 1;
                replacement = ReplacementAt(Value(_units[node]));
            }
        }
        return longest;
    }

    private ReadOnlySpan<byte> ReplacementAt(uint offset)
    {
        var rest = _replacements.AsSpan((int)offset);
        return rest[..rest.IndexOf((byte)0)];
    }

    // darts-clone unit layout: bit 8 = has leaf, low 8 bits (+ bit 31 for leaves) = label, bits 10.. = offset.
    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;
    private static uint Value(uint unit) => unit & 0x7FFFFFFF;
    private static uint Label(uint unit) => unit & 0x800000FF;
    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);

    /// <summary>Walks every reachable node once (which also stops on cycles), so that lookups never index out of bounds.</summary>
    private void Validate(string describe)
    {
        var visited = new bool[_units.Length];
        var pending = new Stack<int>();
        long rootBase = Offset(_units[0]);
        if (rootBase >= _units.Length) throw Broken(describe, "root offset out of range");
        pending.Push((int)rootBase);
        while (pending.Count > 0)
        {
            int basePos = pending.Pop();
            for (int label = 1; label < 256; label++)
            {
                int child = basePos ^ label;
                if (child >= _units.Length || Label(_units[child]) != label) continue;
                if (visited[child]) continue; // darts-clone shares common suffixes, so a node can have several parents
                visited[child] = true;
                long childBase = child ^ Offset(_units[child]);
                if (childBase >= _units.Length) throw Broken(describe, $"node {child} points outside the trie");
                if (HasLeaf(_units[child]))
                {
                    uint value = Value(_units[childBase]);
                    if (value >= _replacements.Length || _replacements.AsSpan((int)value).IndexOf((byte)0) < 0)
                        throw Broken(describe, $"replacement offset {value} is outside the {_replacements.Length} bytes of strings");
                }
                pending.Push((int)childBase);
            }
        }
    }

    private static InvalidDataException Broken(string describe, string what) =>
        new($"{describe}: precompiled charsmap is broken: {what}");
}
