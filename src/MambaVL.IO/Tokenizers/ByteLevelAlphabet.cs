// GPT-2's reversible byte <-> printable-character alphabet used by byte-level BPE (GPT-2, GPT-NeoX, Llama 3, Qwen):
// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 upwards.
using System.Text;

namespace MambaVL.IO.Tokenizers;

internal static class ByteLevelAlphabet
{
    /// <summary>Character for each byte value.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>Byte for each alphabet character, -1 for characters outside the alphabet (index: char code, &lt; 0x144).</summary>
    private static readonly short[] CharToByte = BuildReverse();

    private static char[] Build()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static short[] BuildReverse()
    {
        var rev = new short[0x144];
        Array.Fill(rev, (short)-1);
        for (int b = 0; b < 256; b++) rev[ByteToChar[b]] = (short)b;
        return rev;
    }

    /// <summary>UTF-8 encodes <paramref name="text"/> and maps every byte to its alphabet character.</summary>
    public static string Encode(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        return string.Create(bytes.Length, bytes, static (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++) dst[i] = ByteToChar[src[i]];
        });
    }

    /// <summary>Appends the bytes a token stands for; false (and nothing appended) if a character is outside the alphabet.</summary>
    public static bool TryDecode(string token, List<byte> output)
    {
        foreach (char c in token)
        {
            if (c >= CharToByte.Length || CharToByte[c] < 0) return false;
        }
        foreach (char c in token) output.Add((byte)CharToByte[c]);
        return true;
    }
}
