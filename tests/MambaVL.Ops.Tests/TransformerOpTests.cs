// CpuBackend against ReferenceBackend for the transformer ops (LayerNorm, activations, LayerScale, attention, concat)
// on odd sizes, strided inputs, grouped-query heads and causal masks; plus the reference erf against known values.
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;

namespace MambaVL.Ops.Tests;

public sealed class TransformerOpTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);
    private static readonly ReferenceBackend Ref = ReferenceBackend.Instance;

    public void Dispose() => _cpu.Dispose();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 31)]
    [InlineData(33, 257)]
    [InlineData(729, 64)]
    public void LayerNorm_matches_reference(int rows, int d)
    {
        var inputs = new Inputs(rows * 31 + d);
        var x = inputs.Uniform(-3, 5, rows, d);  // an offset mean: a one-pass variance would lose digits here
        var w = inputs.Uniform(0.5f, 1.5f, d);
        var b = inputs.Uniform(-1, 1, d);
        OpCheck.Close(_cpu.LayerNorm(x, w, b, 1e-6f), Ref.LayerNorm(x, w, b, 1e-6f), Tolerances.LayerNorm, $"LayerNorm {rows}x{d}");
        OpCheck.Close(_cpu.LayerNorm(x, w, null, 1e-5f), Ref.LayerNorm(x, w, null, 1e-5f), Tolerances.LayerNorm, $"LayerNorm {rows}x{d} no bias");
    }

    [Fact]
    public void LayerNorm_reads_column_slices_in_place()
    {
        var inputs = new Inputs(5);
        var wide = inputs.Uniform(-2, 2, 17, 3 * 40);
        var slice = wide.Narrow(1, 40, 40);
        var w = inputs.Uniform(0.5f, 1.5f, 40);
        OpCheck.Close(_cpu.LayerNorm(slice, w, null, 1e-6f), Ref.LayerNorm(slice.ContiguousCopy(), w, null, 1e-6f), Tolerances.LayerNorm, "strided LayerNorm");
    }

    [Theory]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.GeluTanh)]
    [InlineData(Activation.QuickGelu)]
    [InlineData(Activation.Silu)]
    public void Activations_match_reference(Activation kind)
    {
        foreach (int n in new[] { 1, 31, 257, 1000 })
        {
            var x = new Inputs(n).Uniform(-9, 9, n);
            var expected = Ref.Activate(x, kind).ToFloatArray();
            var actual = _cpu.Activate(x, kind).ToFloatArray();
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])),
                    $"{kind}({x.ToFloatArray()[i]}) = {actual[i]}, expected {expected[i]}");
        }
    }

    [Theory]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(-2.5, -0.9995930479825550)]
    [InlineData(3.5, 0.9999992569016276)]
    [InlineData(6.0, 0.9999999999999999785)]
    public void Reference_erf_matches_tabulated_values(double x, double erf) =>
        Assert.True(Math.Abs(ReferenceBackend.Erf(x) - erf) < 1e-14, $"erf({x}) = {ReferenceBackend.Erf(x)}, expected {erf}");

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 257)]
    [InlineData(3, 1000)]
    public void SwiGlu_matches_reference(int rows, int f)
    {
        var inputs = new Inputs(rows + f);
        var gate = inputs.Uniform(-8, 8, rows, f);
        var up = inputs.Uniform(-2, 2, rows, f);
        OpCheck.Close(_cpu.SwiGlu(gate, up), Ref.SwiGlu(gate, up), Tolerances.Default, $"SwiGlu {rows}x{f}");
        Assert.Throws<ArgumentException>(() => _cpu.SwiGlu(gate, inputs.Uniform(0, 1, rows, f + 1)));
    }

    [Fact]
    public void ScaleColumnsInPlace_matches_reference()
    {
        var inputs = new Inputs(9);
        var x = inputs.Uniform(-1, 1, 33, 31);
        var s = inputs.Uniform(-2, 2, 31);
        Tensor a = OpCheck.Copy(x), b = OpCheck.Copy(x);
        _cpu.ScaleColumnsInPlace(a, s);
        Ref.ScaleColumnsInPlace(b, s);
        Assert.Equal(b.ToFloatArray(), a.ToFloatArray());
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 8, false)]
    [InlineData(7, 7, 3, 3, 16, false)]
    [InlineData(33, 33, 4, 2, 64, true)]     // grouped-query, causal
    [InlineData(5, 70, 8, 2, 64, true)]      // the last 5 of 70 positions (decode with a cache)
    [InlineData(65, 65, 2, 1, 80, false)]    // head dim not a multiple of 64
    [InlineData(130, 130, 2, 2, 64, true)]
    [InlineData(1, 37, 6, 2, 24, true)]      // decode: one query per head reads the cache in place (the direct path)
    [InlineData(2, 2, 4, 2, 16, true)]       // two tokens, no cache: the first sees only itself
    [InlineData(2, 9, 3, 3, 8, false)]       // direct path, no grouping, not causal
    [InlineData(3, 50, 6, 2, 16, true)]      // 9 rows per kv head: just past the direct path
    public void Attention_matches_reference(int t, int s, int hq, int hkv, int p, bool causal)
    {
        var inputs = new Inputs(t * 7 + s + hq + p);
        var q = inputs.Uniform(-2, 2, t, hq, p);
        var k = inputs.Uniform(-2, 2, s, hkv, p);
        var v = inputs.Uniform(-1, 1, s, hkv, p);
        float scale = 1 / MathF.Sqrt(p);
        OpCheck.Close(_cpu.Attention(q, k, v, scale, causal), Ref.Attention(q, k, v, scale, causal), Tolerances.Attention,
            $"attention T={t} S={s} Hq={hq} Hkv={hkv} P={p} causal={causal}");
    }

    [Theory]
    [InlineData(1, 1, 2, 0)]
    [InlineData(7, 3, 16, 5)]
    [InlineData(33, 4, 128, 100_000)]   // long-context positions: fp32 angle products, as torch
    [InlineData(5, 2, 66, 31)]
    public void Rope_matches_reference(int t, int h, int p, int start)
    {
        var inputs = new Inputs(t + h + p);
        var x = inputs.Uniform(-2, 2, t, h, p);
        var invFreq = Tensor.FromArray(Enumerable.Range(0, p / 2).Select(i => (float)(1 / Math.Pow(10000, 2.0 * i / p))).ToArray(), p / 2);
        OpCheck.Close(_cpu.Rope(x, invFreq, start), Ref.Rope(x, invFreq, start), Tolerances.Default, $"rope {t}x{h}x{p} from {start}");
        // a rotation: every pair keeps its length
        var y = _cpu.Rope(x, invFreq, start).ToFloatArray();
        var xv = x.ToFloatArray();
        for (int i = 0; i < p / 2; i++)
        {
            double before = xv[i] * xv[i] + xv[i + p / 2] * xv[i + p / 2], after = y[i] * y[i] + y[i + p / 2] * y[i + p / 2];
            Assert.True(Math.Abs(before - after) < 1e-4 * Math.Max(1, before), $"pair {i}: |x|² {before} became {after}");
        }
    }

    [Fact]
    public void Rope_at_position_zero_is_the_identity_and_reads_column_slices()
    {
        var wide = new Inputs(8).Uniform(-1, 1, 6, 3 * 32);
        var q = wide.Narrow(1, 32, 32).Reshape(6, 2, 16);
        var invFreq = Tensor.FromArray(Enumerable.Repeat(0.5f, 8).ToArray(), 8);
        OpCheck.Close(_cpu.Rope(q, invFreq, 0).Narrow(0, 0, 1).ContiguousCopy(), q.Narrow(0, 0, 1).ContiguousCopy(), 1e-7, "position 0");
        OpCheck.Close(_cpu.Rope(q, invFreq, 9), Ref.Rope(q.ContiguousCopy(), invFreq, 9), Tolerances.Default, "strided rope");
        Assert.Throws<ArgumentException>(() => _cpu.Rope(q, Tensor.Zeros(DType.F32, 7), 0));
    }

    [Fact]
    public void Attention_reads_a_fused_qkv_in_place()
    {
        int t = 29, h = 3, p = 16, d = h * p;
        var qkv = new Inputs(4).Uniform(-2, 2, t, 3 * d);  // timm's fused qkv output: [q | k | v] per row
        Tensor Part(int i) => qkv.Narrow(1, i * d, d).Reshape(t, h, p);
        var expected = Ref.Attention(Part(0).ContiguousCopy(), Part(1).ContiguousCopy(), Part(2).ContiguousCopy(), 0.25f, false);
        OpCheck.Close(_cpu.Attention(Part(0), Part(1), Part(2), 0.25f, false), expected, Tolerances.Attention, "fused qkv");
    }

    [Theory]
    [InlineData(1, 45, 6, 2, 24)]   // decode: BF16 rows read in place
    [InlineData(2, 9, 4, 4, 16)]
    [InlineData(20, 33, 4, 2, 16)]  // many queries: packed from BF16
    public void Attention_reads_a_bf16_cache_view(int t, int s, int hq, int hkv, int p)
    {
        var inputs = new Inputs(t + s + p);
        var q = inputs.Uniform(-2, 2, t, hq, p);
        // a cache with spare rows, as KvCache keeps it: the first s rows are the view
        Tensor Cache(float lo, float hi) => inputs.Uniform(lo, hi, s + 7, hkv, p).ToDType(DType.BF16).Narrow(0, 0, s);
        var (k, v) = (Cache(-2, 2), Cache(-1, 1));
        var expected = Ref.Attention(q, k.ToDType(DType.F32), v.ToDType(DType.F32), 0.3f, causal: true);
        OpCheck.Close(_cpu.Attention(q, k, v, 0.3f, causal: true), expected, Tolerances.Attention, $"bf16 cache T={t} S={s}");
    }

    [Fact]
    public void CopyInto_rounds_f32_into_a_bf16_view()
    {
        var source = new Inputs(3).Uniform(-3, 3, 5, 2, 8);
        Tensor Copy(MambaVL.Core.Ops.IBackend backend)
        {
            var cache = Tensor.Zeros(DType.BF16, 9, 2, 8);
            backend.CopyInto(source, cache.Narrow(0, 3, 5));
            return cache;
        }
        var cpu = Copy(_cpu);
        Assert.Equal(Copy(Ref).ToFloatArray(), cpu.ToFloatArray());
        Assert.Equal(source.ToDType(DType.BF16).ToFloatArray(), cpu.Narrow(0, 3, 5).ToFloatArray());
        Assert.All(cpu.Narrow(0, 0, 3).ToFloatArray(), x => Assert.Equal(0f, x));  // rows outside the view untouched
    }

    [Fact]
    public void Attention_rejects_mismatched_heads()
    {
        var q = Tensor.Zeros(DType.F32, 2, 3, 8);
        var kv = Tensor.Zeros(DType.F32, 2, 2, 8);
        var e = Assert.Throws<ArgumentException>(() => _cpu.Attention(q, kv, kv, 1, false));
        Assert.Contains("multiple of kv heads", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void Concat_matches_reference(int dim)
    {
        var inputs = new Inputs(dim + 10);
        var a = inputs.Uniform(-1, 1, 3, 5, 7);
        var b = dim == 0 ? inputs.Uniform(-1, 1, 2, 5, 7) : dim == 1 ? inputs.Uniform(-1, 1, 3, 4, 7) : inputs.Uniform(-1, 1, 3, 5, 2);
        var expected = Ref.Concat([a, b], dim);
        Assert.Equal(expected.ShapeArray, _cpu.Concat([a, b], dim).ShapeArray);
        Assert.Equal(expected.ToFloatArray(), _cpu.Concat([a, b], dim).ToFloatArray());
        // the parts land where they belong: the first element of b follows a along the axis
        int axis = dim < 0 ? dim + 3 : dim;
        Assert.Equal(b.ToFloatArray()[0], expected.Narrow(axis, a.Dim(axis), 1).ToFloatArray()[0]);
    }

    [Fact]
    public void Concat_rejects_parts_that_disagree()
    {
        var e = Assert.Throws<ArgumentException>(() => _cpu.Concat([Tensor.Zeros(DType.F32, 2, 3), Tensor.Zeros(DType.F32, 2, 4)], 0));
        Assert.Contains("does not match", e.Message);
    }
}
