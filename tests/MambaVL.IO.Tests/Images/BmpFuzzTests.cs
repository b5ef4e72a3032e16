// Corrupt BMPs must only ever give InvalidDataException naming the file, or a consistent image: never another exception
// or a hang. Fixtures are truncated at many points and mutated with fixed seeds.
using MambaVL.IO.Images.Bmp;

using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests.Images;

public class BmpFuzzTests
{
    private const int Mutations = 1500;

    public static TheoryData<string> Targets =>
        ["pal4_13x5.bmp", "rle8_33x17.bmp", "rle4_13x5.bmp", "bgra32_v5_33x17.bmp", "rgb565_bitfields_33x17.bmp", "os2_pal8_33x17.bmp"];

    [Theory, MemberData(nameof(Targets))]
    public void Truncated_files_give_clear_errors(string fixture)
    {
        byte[] original = ImageFixtures.Bytes("bmp", fixture);
        foreach (int keep in ImageFuzz.TruncationLengths(original.Length))
            ImageFuzz.ExpectOnlyClearErrors(original[..keep], fixture, BmpDecoder.Decode, BmpDecoder.ReadInfo, $"truncated to {keep} bytes");
    }

    [Theory, MemberData(nameof(Targets))]
    public void Mutated_files_give_clear_errors(string fixture)
    {
        byte[] original = ImageFixtures.Bytes("bmp", fixture);
        var rng = new Random(Corruption.StableSeed(fixture));
        for (int i = 0; i < Mutations; i++)
            ImageFuzz.ExpectOnlyClearErrors(Corruption.Mutate(original, rng), fixture, BmpDecoder.Decode, BmpDecoder.ReadInfo, $"mutation {i}");
    }
}
