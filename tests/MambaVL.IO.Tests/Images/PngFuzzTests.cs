// Corrupt PNGs must only ever give InvalidDataException naming the file, or a consistent image: never another exception
// or a hang. Fixtures are truncated at many points and mutated with fixed seeds; half the mutations get their chunk
// CRCs recomputed so that they reach the zlib and filter code behind the CRC check.
using MambaVL.IO.Images.Png;

using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests.Images;

public class PngFuzzTests
{
    private const int Mutations = 1500;

    public static TheoryData<string> Targets =>
        ["grey8_13x5.png", "pal4_adam7_13x5.png", "rgba16_3x7.png", "rgb8_split_idat_33x17.png", "rgba8_ancillary_exif6_13x5.png"];

    [Theory, MemberData(nameof(Targets))]
    public void Truncated_files_give_clear_errors(string fixture)
    {
        byte[] original = ImageFixtures.Bytes("png", fixture);
        foreach (int keep in ImageFuzz.TruncationLengths(original.Length))
            ImageFuzz.ExpectOnlyClearErrors(original[..keep], fixture, PngDecoder.Decode, PngDecoder.ReadInfo, $"truncated to {keep} bytes");
    }

    [Theory, MemberData(nameof(Targets))]
    public void Mutated_files_give_clear_errors(string fixture)
    {
        byte[] original = ImageFixtures.Bytes("png", fixture);
        var rng = new Random(Corruption.StableSeed(fixture));
        for (int i = 0; i < Mutations; i++)
        {
            var mutated = Corruption.Mutate(original, rng);
            if (i % 2 == 1) mutated = PngBuilder.FixCrcs(mutated);
            ImageFuzz.ExpectOnlyClearErrors(mutated, fixture, PngDecoder.Decode, PngDecoder.ReadInfo, $"mutation {i}");
        }
    }
}
