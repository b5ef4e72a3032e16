// Locates tests/fixtures/io and compares loaded weights with the golden tensors saved beside each fixture.
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.Safetensors;

namespace MambaVL.IO.Tests.Support;

internal static class Fixtures
{
    public static readonly string Dir = Path.Combine(RepoRoot(), "tests", "fixtures", "io");

    public static string File(params string[] parts) => Path.Combine([Dir, .. parts]);

    /// <summary>Every tensor of <paramref name="golden"/> is in <paramref name="actual"/> with the same dtype, shape and bytes, and nothing else is.</summary>
    public static void AssertSameTensors(string golden, IWeightSource actual)
    {
        using var expected = new SafetensorsFile(golden);
        Assert.Equal(expected.Names.Order(StringComparer.Ordinal), actual.Names.Order(StringComparer.Ordinal));
        foreach (var name in expected.Names)
        {
            var e = expected.Get(name);
            var a = actual.Get(name);
            Assert.True(e.DType == a.DType, $"{name}: dtype {a.DType}, expected {e.DType}");
            Assert.True(e.Shape.SequenceEqual(a.Shape), $"{name}: shape {Tensor.ShapeString(a.Shape)}, expected {Tensor.ShapeString(e.Shape)}");
            Assert.True(a.IsContiguous, $"{name}: not contiguous");
            Assert.True(Bytes(e).SequenceEqual(Bytes(a)), $"{name}: values differ");
            Assert.Equal(e.ShapeArray, actual.Info(name).Shape);
            Assert.Equal(e.DType, actual.Info(name).DType);
        }
    }

    /// <summary>The raw bytes of a contiguous CPU tensor.</summary>
    public static unsafe byte[] Bytes(Tensor t) => new ReadOnlySpan<byte>(t.DataPointer, checked((int)t.ByteLength)).ToArray();

    // Found from this source file's path (build artifacts may live anywhere, e.g. --artifacts-path /tmp/...).
    internal static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string thisFile = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(thisFile), AppContext.BaseDirectory })
            for (var d = start is null ? null : new DirectoryInfo(start); d != null; d = d.Parent)
                if (System.IO.File.Exists(Path.Combine(d.FullName, "MambaVL.slnx"))) return d.FullName;
        throw new InvalidOperationException($"no MambaVL.slnx above {thisFile} or {AppContext.BaseDirectory}");
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("mambavl-io-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }

    /// <summary>A copy of a fixture folder (or file) in a fresh temporary folder.</summary>
    public static TempDir CopyOf(string source)
    {
        var t = new TempDir();
        if (System.IO.File.Exists(source)) System.IO.File.Copy(source, t.File(System.IO.Path.GetFileName(source)));
        else foreach (var f in Directory.GetFiles(source)) System.IO.File.Copy(f, t.File(System.IO.Path.GetFileName(f)));
        return t;
    }
}
