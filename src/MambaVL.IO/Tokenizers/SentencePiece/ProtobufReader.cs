// A minimal protobuf wire-format reader for sentencepiece's ModelProto: varints, length-delimited fields, fixed32/64,
// with unknown fields skipped. Every malformed input ends in an InvalidDataException that names the source.
using System.Buffers.Binary;

namespace MambaVL.IO.Tokenizers;

/// <summary>Wire types of the protobuf encoding (groups, 3 and 4, are deprecated and not accepted).</summary>
internal enum WireType { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 }

/// <summary>Reads the fields of one message, front to back.</summary>
internal ref struct ProtobufReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _source;
    private int _position;

    public ProtobufReader(ReadOnlySpan<byte> data, string source)
    {
        _data = data;
        _source = source;
        _position = 0;
    }

    public readonly bool AtEnd => _position >= _data.Length;

    /// <summary>Reads the next field key; false at the end of the message.</summary>
    public bool TryReadKey(out int fieldNumber, out WireType wireType)
    {
        if (AtEnd) { (fieldNumber, wireType) = (0, default); return false; }
        ulong key = ReadVarint();
        ulong number = key >> 3;
        int type = (int)(key & 7);
        if (number == 0 || number > int.MaxValue) throw Error($"invalid field number {number}");
        if (type is not (0 or 1 or 2 or 5)) throw Error($"unsupported wire type {type} for field {number}");
        (fieldNumber, wireType) = ((int)number, (WireType)type);
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length) throw Error("truncated varint");
            byte b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                if (shift == 63 && b > 1) throw Error("varint overflows 64 bits");
                return value;
            }
        }
        throw Error("varint longer than 10 bytes");
    }

    /// <summary>An int32/enum field: protobuf keeps the low 32 bits of the (sign-extended) varint.</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    public bool ReadBool() => ReadVarint() != 0;

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position)) throw Error($"field length {length} runs past the end of the data");
        return Take((int)length);
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(ReadBytes());

    /// <summary>Skips the value of a field this reader does not need.</summary>
    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: Take(8); break;
            case WireType.Fixed32: Take(4); break;
            default: ReadBytes(); break;
        }
    }

    /// <summary>Checks the wire type a known field must have.</summary>
    public readonly void Expect(int fieldNumber, WireType actual, WireType expected)
    {
        if (actual != expected) throw Error($"field {fieldNumber} has wire type {actual}, expected {expected}");
    }

    public readonly InvalidDataException Error(string message) =>
        new($"{_source}: corrupt sentencepiece model (protobuf at byte {_position}): {message}");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position) throw Error($"truncated field: {count} bytes needed, {_data.Length - _position} left");
        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }
}
