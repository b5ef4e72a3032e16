// The header of a PBM/PGM/PPM file as PIL 9's PpmImagePlugin reads it: a magic number ("P1".."P6") ended by
// whitespace, then width, height and (except for bitmaps) maxval as whitespace-separated decimal tokens, where '#'
// starts a comment running to the end of the line; pixel data starts after the one whitespace byte ending maxval.
namespace MambaVL.IO.Images.Pnm;

internal sealed record PnmHeader(char Kind, int Width, int Height, int MaxValue, int DataOffset)
{
    private const int MaxTokenLength = 10;

    public bool IsBitmap => Kind is '1' or '4';
    public int Channels => Kind is '3' or '6' ? 3 : 1;

    /// <summary>PIL's mode: "1" for bitmaps, "RGB" for pixmaps, "L" for greymaps, "I" for greymaps with maxval above 255.</summary>
    public string Mode => Kind switch
    {
        '1' or '4' => "1",
        '3' or '6' => "RGB",
        _ => MaxValue > 255 ? "I" : "L",
    };

    public static PnmHeader Read(ReadOnlySpan<byte> data, string fileName)
    {
        var reader = new ImageReader(data, fileName);
        char kind = ReadMagic(ref reader, fileName);
        long width = ReadNumber(ref reader, "width", fileName);
        long height = ReadNumber(ref reader, "height", fileName);
        long maxValue = 1;
        if (kind is not ('1' or '4'))
        {
            maxValue = ReadNumber(ref reader, "maxval", fileName);
            if (maxValue is < 1 or > 65535) throw ImageErrors.Corrupt(fileName, $"maxval {maxValue} is not between 1 and 65535");
        }
        if (width > int.MaxValue || height > int.MaxValue || width == 0 || height == 0)
            ImageLimits.CheckSize(fileName, width, height);
        return new PnmHeader(kind, (int)width, (int)height, (int)maxValue, reader.Position);
    }

    public static bool IsWhitespace(int c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    /// <summary>Up to 6 bytes up to the first whitespace (which is consumed), as PIL reads it.</summary>
    private static char ReadMagic(ref ImageReader reader, string fileName)
    {
        Span<byte> magic = stackalloc byte[6];
        int length = 0;
        while (length < magic.Length)
        {
            int c = reader.ReadOrEnd();
            if (c < 0 || IsWhitespace(c)) break;
            magic[length++] = (byte)c;
        }
        if (length == 2 && magic[0] == 'P' && magic[1] is >= (byte)'1' and <= (byte)'6') return (char)magic[1];
        throw ImageErrors.Corrupt(fileName, "not a PBM/PGM/PPM file (no P1-P6 magic number followed by whitespace)");
    }

    /// <summary>
    /// PIL's _read_token: whitespace before the token is skipped, a comment anywhere (even inside the token) is skipped
    /// to the end of its line, the token ends at (and consumes) one whitespace byte and may hold at most 10 bytes.
    /// PIL parses it with Python's int(); this accepts plain decimal digits only.
    /// </summary>
    private static long ReadNumber(ref ImageReader reader, string what, string fileName)
    {
        Span<byte> token = stackalloc byte[MaxTokenLength + 1];
        int length = 0;
        while (length <= MaxTokenLength)
        {
            int c = reader.ReadOrEnd();
            if (c < 0) break;
            if (IsWhitespace(c))
            {
                if (length == 0) continue;
                break;
            }
            if (c == '#')
            {
                for (int d = reader.ReadOrEnd(); d >= 0 && d != '\r' && d != '\n'; d = reader.ReadOrEnd()) { }
                continue;
            }
            token[length++] = (byte)c;
        }
        if (length == 0) throw ImageErrors.Corrupt(fileName, $"truncated: the header ends before the {what}");
        if (length > MaxTokenLength) throw ImageErrors.Corrupt(fileName, $"the header's {what} is longer than {MaxTokenLength} characters");
        long value = 0;
        foreach (byte b in token[..length])
        {
            if (b is < (byte)'0' or > (byte)'9')
                throw ImageErrors.Corrupt(fileName, $"the header's {what} \"{System.Text.Encoding.Latin1.GetString(token[..length])}\" is not a decimal number");
            value = value * 10 + (b - '0');
        }
        return value;
    }
}
