// Bit reader for entropy-coded JPEG data: undoes FF 00 byte stuffing, stops at markers, resynchronises at RSTn and
// notices when a scan needs more bits than its segment holds (libjpeg pads with zeros there; we report truncation).
using System.Runtime.CompilerServices;

namespace MambaVL.IO.Images.Jpeg;

internal ref struct EntropyReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _fileName;
    private int _pos;
    private ulong _acc;      // unread bits, left-aligned
    private int _bits;       // how many bits of _acc are valid, padding included
    private int _padding;    // zero bits appended after the segment ended; consuming any of them means truncation
    private bool _atMarker;  // _pos is at the FF of a marker (or the end of the data): no more entropy bytes

    public EntropyReader(ReadOnlySpan<byte> data, int start, string fileName)
    {
        _data = data;
        _pos = start;
        _fileName = fileName;
    }

    /// <summary>Where the marker reader takes over: the FF of the marker that ended the segment, or the next unread byte.</summary>
    public readonly int Position => _pos;

    /// <summary>True once decoding has used bits that are not in the file.</summary>
    public readonly bool Overran => _bits < _padding;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int DecodeSymbol(HuffmanTable table)
    {
        if (_bits < 16) Refill();
        int entry = table.Lookup[(int)(_acc >> (64 - HuffmanTable.LookaheadBits))];
        if (entry == 0) return DecodeLongCode(table);
        int length = entry >> 8;
        _acc <<= length;
        _bits -= length;
        return entry & 0xFF;
    }

    /// <summary>The next <paramref name="count"/> (0..16) bits as an unsigned number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadBits(int count)
    {
        if (count == 0) return 0;
        if (_bits < count) Refill();
        int value = (int)(_acc >> (64 - count));
        _acc <<= count;
        _bits -= count;
        return value;
    }

    /// <summary>A coefficient of magnitude category <paramref name="size"/>: the next bits, sign-extended (JPEG F.12).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReceiveExtend(int size)
    {
        int value = ReadBits(size);
        return size != 0 && value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
    }

    /// <summary>Throws away the rest of the segment and reads the RSTn marker that must follow.</summary>
    public void Restart(int expectedNumber)
    {
        _acc = 0;
        _bits = 0;
        _padding = 0;
        _atMarker = false;
        // Whatever entropy bytes remain before the marker are extraneous: libjpeg skips them with a warning.
        int marker = MarkerReader.SkipToMarker(_data, ref _pos);
        if (marker < 0)
            throw ImageErrors.Corrupt(_fileName, "truncated JPEG: the data ends where a restart marker was expected");
        if (marker != 0xD0 + expectedNumber)
            throw ImageErrors.Corrupt(_fileName, $"corrupt JPEG: expected restart marker RST{expectedNumber}, found {MarkerReader.Describe(marker)}");
        _pos += 2;
    }

    private int DecodeLongCode(HuffmanTable table)
    {
        int length = HuffmanTable.LookaheadBits + 1;
        int code = (int)(_acc >> (64 - length));
        while (code > table.MaxCode[length])
        {
            if (++length > 16)
                throw ImageErrors.Corrupt(_fileName, "corrupt JPEG: invalid Huffman code in entropy-coded data");
            code = (int)(_acc >> (64 - length));
        }
        _acc <<= length;
        _bits -= length;
        return table.Symbols[(code + table.ValueOffset[length]) & 0xFF];
    }

    private void Refill()
    {
        while (_bits <= 56)
        {
            _acc |= (ulong)NextByte() << (56 - _bits);
            _bits += 8;
        }
    }

    private int NextByte()
    {
        if (!_atMarker && _pos < _data.Length)
        {
            byte b = _data[_pos];
            if (b != 0xFF) { _pos++; return b; }
            // FF FF ... FF 00 is a stuffed FF data byte; FF ... FF xx is marker xx and ends the segment.
            int next = _pos + 1;
            while (next < _data.Length && _data[next] == 0xFF) next++;
            if (next < _data.Length && _data[next] == 0)
            {
                _pos = next + 1;
                return 0xFF;
            }
            _pos = next - 1;
        }
        _atMarker = true;
        _padding += 8;
        return 0;
    }
}
