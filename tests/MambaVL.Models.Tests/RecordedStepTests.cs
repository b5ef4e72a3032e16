// Decode steps through StepReplayer (CUDA graphs on the GPU): with a host double that "records" a step by keeping its
// body and "replays" it by running the body again, the Mamba-2 LM and mmMamba-linear must give the same logits and
// positions as a plain backend, record once per state, start over after Load, give clones their own recording, and
// fall back to running the step when recording is refused or the step cannot be replayed (special tokens; attention).
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Reference;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.HoVle;
using MambaVL.Models.Mamba2;
using MambaVL.Tests.Shared;

namespace MambaVL.Models.Tests;

public sealed class RecordedStepTests
{
    /// <summary>
    /// Records by keeping the body (it must not run then) and replays by running it on the new ids; a replayed body may
    /// not upload or read back host data, as a CUDA graph cannot.
    /// </summary>
    private sealed class HostRecorder(bool refuse = false) : DelegatingBackend(ReferenceBackend.Instance), IStepRecorder
    {
        public int Recordings, Replays;
        private bool _replaying;

        public override Tensor Upload(Tensor host)
        {
            Assert.False(_replaying, "a recorded step uploaded host data");
            return base.Upload(host);
        }

        public override float[] ToHost(Tensor t)
        {
            Assert.False(_replaying, "a recorded step read data back to the host");
            return base.ToHost(t);
        }

        public IRecordedStep Record(ReadOnlySpan<int> ids, StepBody body)
        {
            if (refuse) throw new StepNotRecordableException("refused for the test");
            Recordings++;
            return new Step(this, body, ids.Length);
        }

        private sealed class Step(HostRecorder owner, StepBody body, int batch) : IRecordedStep
        {
            public Tensor Output { get; private set; } = Tensor.Zeros(DType.F32, 1);
            public void Replay(ReadOnlySpan<int> ids)
            {
                Assert.Equal(batch, ids.Length);
                owner.Replays++;
                owner._replaying = true;
                try { Output = body(ids); }
                finally { owner._replaying = false; }
            }
            public void Dispose() { }
        }
    }

    private static readonly Mamba2Config Cfg = new() { DModel = 32, NLayer = 2, VocabSize = 61, DState = 8, HeadDim = 8, NGroups = 2, ChunkSize = 4 };
    private static readonly DictionaryWeightSource Weights = new(Mamba2Random.CreateWeights(Cfg, 9));

    private static float[][] Steps(ILanguageModel lm, IModelState state, params int[][] ids) =>
        ids.Select(batch => lm.Backend.ToHost(lm.Step(batch, state))).ToArray();

    private static int[][] Tokens(int steps, int batch) =>
        Enumerable.Range(0, steps).Select(t => Enumerable.Range(0, batch).Select(b => (t * 13 + b * 7 + 3) % 61).ToArray()).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Replayed_steps_equal_plain_steps_and_advance_the_position(int batch)
    {
        var recorder = new HostRecorder();
        var recorded = Mamba2LM.Load(Cfg, Weights, recorder);
        var plain = Mamba2LM.Load(Cfg, Weights, ReferenceBackend.Instance);
        var (a, b) = (recorded.CreateState(batch), plain.CreateState(batch));
        var ids = Tokens(6, batch);
        var expected = Steps(plain, b, ids);
        var actual = Steps(recorded, a, ids);
        for (int t = 0; t < ids.Length; t++) Assert.Equal(expected[t], actual[t]);
        Assert.Equal(1, recorder.Recordings);          // the first step runs as it is, the second is recorded
        Assert.Equal(5, recorder.Replays);
        Assert.True(((Mamba2State)a).ReplaysSteps);
        Assert.Equal(6, a.Position);
    }

    [Fact]
    public void Clones_and_loaded_states_record_again()
    {
        var recorder = new HostRecorder();
        var lm = Mamba2LM.Load(Cfg, Weights, recorder);
        var state = lm.CreateState(1);
        Steps(lm, state, Tokens(3, 1));
        Assert.Equal(1, recorder.Recordings);

        var clone = (Mamba2State)state.Clone();
        Assert.False(clone.ReplaysSteps);   // its tensors are not the ones the recording reads
        var plain = Mamba2LM.Load(Cfg, Weights, ReferenceBackend.Instance);
        var plainState = plain.CreateState(1);
        Steps(plain, plainState, Tokens(3, 1));
        Assert.Equal(Steps(plain, plainState, [5], [6], [7]), Steps(lm, clone, [5], [6], [7]));
        Assert.Equal(2, recorder.Recordings);

        using var saved = new MemoryStream();
        state.Save(saved);
        saved.Position = 0;
        state.Load(saved);
        Assert.False(((Mamba2State)state).ReplaysSteps);
        Steps(lm, state, Tokens(2, 1));
        Assert.Equal(3, recorder.Recordings);
    }

    [Fact]
    public void A_refused_recording_runs_every_step_as_it_is()
    {
        var recorder = new HostRecorder(refuse: true);
        var lm = Mamba2LM.Load(Cfg, Weights, recorder);
        var plain = Mamba2LM.Load(Cfg, Weights, ReferenceBackend.Instance);
        var (a, b) = (lm.CreateState(2), plain.CreateState(2));
        var ids = Tokens(4, 2);
        Assert.Equal(Steps(plain, b, ids), Steps(lm, a, ids));
        Assert.Equal(0, recorder.Replays);
        Assert.False(((Mamba2State)a).ReplaysSteps);
    }

    private static (HoVleModel Recorded, HoVleModel Plain, HostRecorder Recorder) HoVlePair(HoVleVariant variant)
    {
        var cfg = HoVleRandom.Tiny(variant) with { SpecialTokens = 3 };
        var weights = new DictionaryWeightSource(HoVleRandom.CreateWeights(cfg, 3));
        var recorder = new HostRecorder();
        return (new HoVleModel(cfg, weights, recorder), new HoVleModel(cfg, weights, ReferenceBackend.Instance), recorder);
    }

    [Fact]
    public void MmMamba_linear_records_its_text_steps_and_runs_special_tokens_as_they_are()
    {
        var (recorded, plain, recorder) = HoVlePair(HoVleVariant.Linear);
        var (a, b) = (recorded.CreateState(), plain.CreateState());
        recorded.Prefill([1, 5, 17], a);
        plain.Prefill([1, 5, 17], b);
        int[][] ids = [[4], [9], [12], [301], [40], [7], [302]];   // 301, 302: special tokens (a second table)
        Assert.Equal(Steps(plain, b, ids), Steps(recorded, a, ids));
        Assert.Equal(1, recorder.Recordings);
        Assert.Equal(4, recorder.Replays);   // the first step runs as it is, 2 is recorded; 2, 3, 5, 6 replay; 4 and 7 run as they are
        Assert.Equal(b.Position, a.Position);
        Assert.True(((HoVleState)a).ReplaysSteps);
    }

    [Fact]
    public void Models_with_attention_layers_never_record()
    {
        var (recorded, plain, recorder) = HoVlePair(HoVleVariant.Hybrid);
        var (a, b) = (recorded.CreateState(), plain.CreateState());
        recorded.Prefill([1, 5], a);
        plain.Prefill([1, 5], b);
        int[][] ids = [[4], [9], [12], [40]];
        Assert.Equal(Steps(plain, b, ids), Steps(recorded, a, ids));
        Assert.Equal(0, recorder.Recordings);
    }
}
