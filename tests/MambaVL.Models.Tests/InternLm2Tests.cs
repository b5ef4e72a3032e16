// The InternLM2 LM (the mmMamba teacher's LLM) on a tiny random config with odd sizes and 3 queries per kv head: CPU
// against the reference backend, prefill-then-steps against one prefill (through KV cache growth), state save/load,
// and the wqkv regrouping. Parity with HoVLE's own modeling code comes with the teacher's goldens.
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.InternLm2;

namespace MambaVL.Models.Tests;

public sealed class InternLm2Tests
{
    private static readonly InternLm2Config Tiny = new()
    {
        HiddenSize = 48, IntermediateSize = 37, Layers = 2, Heads = 6, KvHeads = 2, VocabSize = 61, RmsNormEps = 1e-5f, RopeTheta = 500,
    };

    private static readonly Dictionary<string, Tensor> Weights = InternLm2Random.CreateWeights(Tiny, 4);

    private static InternLm2LM Load(string backend) => new(Tiny, new WeightScope(new DictionaryWeightSource(Weights)), Fixtures.Backend(backend));

    private static int[] Ids(int n) => Enumerable.Range(0, n).Select(i => (i * 17 + 3) % Tiny.VocabSize).ToArray();

    [Fact]
    public void Cpu_logits_match_the_reference_backend()
    {
        var ids = Ids(13);
        var cpu = Load("cpu").Prefill(ids, Load("cpu").CreateState(), allLogits: true);
        var reference = Load("reference");
        var expected = reference.Prefill(ids, reference.CreateState(), allLogits: true);
        Assert.Equal(new[] { 13, 61 }, cpu.ShapeArray);
        Fixtures.AssertClose(cpu.ToFloatArray(), expected.ToFloatArray(), "InternLM2 logits, CPU vs reference");
    }

    [Fact]
    public void Prefill_then_steps_equals_one_prefill_past_the_caches_first_capacity()
    {
        var model = Load("cpu");
        var ids = Ids(70);  // the KV cache starts with room for 64 rows
        var all = model.Prefill(ids, model.CreateState(), allLogits: true).ToFloatArray();
        var state = model.CreateState();
        model.Prefill(ids.AsSpan(0, 5), state);
        for (int i = 5; i < ids.Length; i++)
        {
            var step = model.Step([ids[i]], state).ToFloatArray();
            Fixtures.AssertClose(step, all.AsSpan(i * 61, 61), $"token {i}");
        }
        Assert.Equal(70, state.Position);
    }

    [Fact]
    public void A_saved_and_restored_state_continues_identically()
    {
        var model = Load("cpu");
        var state = model.CreateState();
        model.Prefill(Ids(9), state);
        var (clone, restored, _) = Fixtures.CloneAndRestore(model, state);
        var expected = model.Step([7], state).ToFloatArray();
        Assert.Equal(expected, model.Step([7], restored).ToFloatArray());
        Assert.Equal(expected, model.Step([7], clone).ToFloatArray());
        Assert.Throws<InvalidDataException>(() => model.CreateState().Load(new MemoryStream([1, 2, 3])));
    }

    [Fact]
    public void Wqkv_is_regrouped_into_query_key_and_value_heads()
    {
        // rows of kv head g: [q (g·3 + r) for r < 3, k g, v g], each HeadDim rows; value = source row index
        int p = Tiny.HeadDim, rows = (Tiny.Heads + 2 * Tiny.KvHeads) * p;
        var w = Tensor.FromArray(Enumerable.Range(0, rows).SelectMany(r => Enumerable.Repeat((float)r, 3)).ToArray(), rows, 3);
        var regrouped = AttentionMixer.RegroupQkv(w, Tiny).ToFloatArray();
        float SourceRow(int row) => regrouped[row * 3];
        Assert.Equal((1 * 5 + 1) * p, SourceRow(4 * p));
        Assert.Equal((0 * 5 + 3) * p, SourceRow(Tiny.Heads * p));     // k head 0
        Assert.Equal((1 * 5 + 4) * p + 2, SourceRow((Tiny.Heads + 3) * p + 2));  // v head 1, row 2
    }

    public static TheoryData<string> StudentKinds => ["linear", "hybrid"];

    private static InternLm2Config Student(string kind) => Tiny with
    {
        Layers = 3,
        LayerKinds = kind == "linear" ? [LayerKind.Mamba2, LayerKind.Mamba2, LayerKind.Mamba2] : [LayerKind.Attention, LayerKind.Mamba2, LayerKind.Mamba2],
    };

    private static InternLm2LM LoadStudent(string kind, string backend) =>
        new(Student(kind), new WeightScope(new DictionaryWeightSource(InternLm2Random.CreateWeights(Student(kind), 9))), Fixtures.Backend(backend));

    [Theory, MemberData(nameof(StudentKinds))]
    public void Students_match_the_reference_backend(string kind)
    {
        var ids = Ids(21);
        var cpu = LoadStudent(kind, "cpu");
        var reference = LoadStudent(kind, "reference");
        Fixtures.AssertClose(cpu.Prefill(ids, cpu.CreateState(), allLogits: true).ToFloatArray(),
            reference.Prefill(ids, reference.CreateState(), allLogits: true).ToFloatArray(), $"{kind} student logits");
    }

    [Theory, MemberData(nameof(StudentKinds))]
    public void Student_prefill_then_steps_equals_one_prefill(string kind)
    {
        var model = LoadStudent(kind, "cpu");
        var ids = Ids(19);
        var all = model.Prefill(ids, model.CreateState(), allLogits: true).ToFloatArray();
        var state = model.CreateState();
        model.Prefill(ids.AsSpan(0, 4), state);
        model.Prefill(ids.AsSpan(4, 6), state);  // a second prefill continues the conv and SSM states
        for (int i = 10; i < ids.Length; i++)
            Fixtures.AssertClose(model.Step([ids[i]], state).ToFloatArray(), all.AsSpan(i * 61, 61), $"{kind} token {i}");
        // the linear student's memory does not grow with the context
        if (kind == "linear") Assert.Equal(model.CreateState().ByteSize, state.ByteSize);
    }
}
