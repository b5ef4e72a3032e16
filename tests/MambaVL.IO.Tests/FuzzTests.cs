// Corrupt inputs must only ever produce ModelLoadException naming the file: never IndexOutOfRange, NullReference,
// access violations or hangs. Every fixture is truncated at many points and mutated a few thousand times (fixed seeds).
using MambaVL.Core.Weights;
using MambaVL.IO.PyTorch;
using MambaVL.IO.Safetensors;
using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests;

public class FuzzTests
{
    private const int Mutations = 2000;

    public static TheoryData<string> Targets => ["flat.pt", "views.pt", "nested.pt", "module.pt", "deflated.pt", "single.safetensors"];

    [Theory, MemberData(nameof(Targets))]
    public void Truncated_files_give_clear_errors(string fixture)
    {
        byte[] original = File.ReadAllBytes(Fixtures.File(fixture));
        using var dir = new TempDir();
        string path = dir.File(fixture);
        int step = Math.Max(1, original.Length / 400);
        for (int keep = 0; keep < original.Length; keep += keep < 64 || keep > original.Length - 300 ? 1 : step)
            LoadExpectingOnlyClearErrors(path, original[..keep], $"truncated to {keep} bytes");
    }

    [Theory, MemberData(nameof(Targets))]
    public void Mutated_files_give_clear_errors(string fixture)
    {
        byte[] original = File.ReadAllBytes(Fixtures.File(fixture));
        using var dir = new TempDir();
        string path = dir.File(fixture);
        var rng = new Random(StableSeed(fixture));  // string hashes are randomised per process: keep runs repeatable
        for (int i = 0; i < Mutations; i++)
            LoadExpectingOnlyClearErrors(path, Mutate(original, rng), $"mutation {i}");
    }

    [Theory]
    [InlineData("nested.pt")]
    [InlineData("module.pt")]
    [InlineData("views.pt")]
    public void Mutated_pickles_give_clear_errors(string fixture)
    {
        byte[] pickle;
        using (var f = new Core.Tensors.MappedFile(Fixtures.File(fixture)))
        {
            var entries = ZipDirectory.Read(f);
            pickle = ZipDirectory.ReadAllBytes(f, entries.Values.Single(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal)));
        }
        var rng = new Random(42);
        for (int i = 0; i < 3 * Mutations; i++)
        {
            try { new TorchPickle("p.pkl").Load(Mutate(pickle, rng)); }
            catch (ModelLoadException e) { Assert.Contains("p.pkl", e.Message); }
        }
    }

    internal static int StableSeed(string s)
    {
        int h = 17;
        foreach (char c in s) h = unchecked(h * 31 + c);
        return h & 0x7fffffff;
    }

    // 1-4 edits: random bytes, bit flips, or a 4-byte field set to an extreme value (sizes, offsets, lengths).
    internal static byte[] Mutate(byte[] original, Random rng)
    {
        var b = (byte[])original.Clone();
        for (int n = rng.Next(1, 5); n > 0; n--)
        {
            int at = rng.Next(b.Length);
            switch (rng.Next(4))
            {
                case 0: b[at] = (byte)rng.Next(256); break;
                case 1: b[at] ^= (byte)(1 << rng.Next(8)); break;
                case 2: b[at] = rng.Next(2) == 0 ? (byte)0 : (byte)0xFF; break;
                default:
                    uint v = new uint[] { 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0, 1 }[rng.Next(5)];
                    for (int k = 0; k < 4 && at + k < b.Length; k++) b[at + k] = (byte)(v >> (8 * k));
                    break;
            }
        }
        return b;
    }

    private static void LoadExpectingOnlyClearErrors(string path, byte[] bytes, string what)
    {
        File.WriteAllBytes(path, bytes);
        try
        {
            using IWeightSource w = path.EndsWith(".safetensors") ? new SafetensorsFile(path) : new PyTorchCheckpoint(path);
            foreach (var name in w.Names)
            {
                var (shape, dtype) = w.Info(name);
                var t = w.Get(name);
                Assert.Equal(shape, t.ShapeArray);
                Assert.Equal(dtype, t.DType);
                Fixtures.Bytes(t);  // touches every byte of the data
            }
        }
        catch (ModelLoadException e)
        {
            Assert.True(e.Message.Contains(path), $"{what}: the error does not name the file: {e.Message}");
        }
    }
}
