// Corrupt PBM/PGM/PPM files must only ever give InvalidDataException naming the file, or a consistent image: never
// another exception or a hang. Fixtures are truncated at many points and mutated with fixed seeds.
using MambaVL.IO.Images.Pnm;

using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests.Images;

public class PnmFuzzTests
{
    private const int Mutations = 1500;

    public static TheoryData<string> Targets =>
        ["p1_comments_13x5.pbm", "p2_1000_3x7.pgm", "p3_255_comments_13x5.ppm", "p5_300_13x5.pgm", "p6_header_comments_13x5.ppm", "p4_13x5.pbm"];

    [Theory, MemberData(nameof(Targets))]
    public void Truncated_files_give_clear_errors(string fixture)
    {
        byte[] original = ImageFixtures.Bytes("pnm", fixture);
        foreach (int keep in ImageFuzz.TruncationLengths(original.Length))
            ImageFuzz.ExpectOnlyClearErrors(original[..keep], fixture, PnmDecoder.Decode, PnmDecoder.ReadInfo, $"truncated to {keep} bytes");
    }

    [Theory, MemberData(nameof(Targets))]
    public void Mutated_files_give_clear_errors(string fixture)
    {
        byte[] original = ImageFixtures.Bytes("pnm", fixture);
        var rng = new Random(Corruption.StableSeed(fixture));
        for (int i = 0; i < Mutations; i++)
            ImageFuzz.ExpectOnlyClearErrors(Corruption.Mutate(original, rng), fixture, PnmDecoder.Decode, PnmDecoder.ReadInfo, $"mutation {i}");
    }
}
