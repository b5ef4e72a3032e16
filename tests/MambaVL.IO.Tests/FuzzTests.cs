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
        var rng = new Random(Corruption.StableSeed(fixture));  // string hashes are randomised per process: keep runs repeatable
        for (int i = 0; i < Mutations; i++)
            LoadExpectingOnlyClearErrors(path, Corruption.Mutate(original, rng), $"mutation {i}");
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
            try { new TorchPickle("p.pkl").Load(Corruption.Mutate(pickle, rng)); }
            catch (ModelLoadException e) { Assert.Contains("p.pkl", e.Message); }
        }
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
