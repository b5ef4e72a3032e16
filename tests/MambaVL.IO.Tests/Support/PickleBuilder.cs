// Writes pickle programs opcode by opcode, for tests that need pickles torch would never write (hostile or odd ones).
using System.Buffers.Binary;
using System.Text;

namespace MambaVL.IO.Tests.Support;

internal sealed class PickleBuilder
{
    private readonly List<byte> _b = [0x80, 2];

    public PickleBuilder Op(char op) { _b.Add((byte)op); return this; }
    public PickleBuilder Op(byte op) { _b.Add(op); return this; }
    public PickleBuilder Mark() => Op('(');

    public PickleBuilder Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        Op('X');
        Span<byte> n = stackalloc byte[4]; BinaryPrimitives.WriteInt32LittleEndian(n, bytes.Length);
        _b.AddRange(n.ToArray()); _b.AddRange(bytes);
        return this;
    }

    /// <summary>BININT for 32-bit values, else LONG1 with 8 bytes.</summary>
    public PickleBuilder Int(long v)
    {
        var n = new byte[8];
        if (v is >= int.MinValue and <= int.MaxValue) { Op('J'); BinaryPrimitives.WriteInt32LittleEndian(n, (int)v); _b.AddRange(n[..4]); }
        else { Op(0x8a); _b.Add(8); BinaryPrimitives.WriteInt64LittleEndian(n, v); _b.AddRange(n); }
        return this;
    }

    public PickleBuilder Global(string module, string name) { Op('c'); _b.AddRange(Encoding.UTF8.GetBytes($"{module}\n{name}\n")); return this; }

    public PickleBuilder IntTuple(long[] values) { Mark(); foreach (var v in values) Int(v); return Op('t'); }

    /// <summary>Pushes _rebuild_tensor_v2(('storage', torch.TYPE, key, 'cpu', numel), offset, size, stride, False, OrderedDict()).</summary>
    public PickleBuilder Tensor(string storageType, string key, long numel, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        Mark().Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(numel).Op('t').Op('Q');
        Int(offset).IntTuple(size).IntTuple(stride).Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R');
        return Op('t').Op('R');
    }

    public byte[] Stop() { Op('.'); return _b.ToArray(); }
}
