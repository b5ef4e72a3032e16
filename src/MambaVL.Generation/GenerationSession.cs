// One generation run as a step-by-step object: prefill on the first step, then one model step and one sample per token.
// The callback and IAsyncEnumerable APIs in Generator both drive it; it owns stops, streaming text and timings.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using MambaVL.Core.Models;
using MambaVL.Core.Text;
using MambaVL.Generation.Sampling;
using MambaVL.Generation.Streaming;

namespace MambaVL.Generation;

public sealed class GenerationSession
{
    private readonly ILanguageModel _model;
    private readonly GenerationOptions _options;
    private readonly Sampler _sampler;
    private readonly int[] _prompt;
    private readonly List<int> _history;          // prompt + generated, for the repetition penalty
    private readonly List<int> _generated = [];
    private readonly HashSet<int> _stopIds;
    private readonly TokenTextStream? _textStream;
    private readonly StopStringMatcher _stopMatcher;
    private readonly System.Text.StringBuilder _text = new();
    private bool _prefilled;
    private long _prefillTicks, _decodeTicks, _sampleTicks;
    private int _decodeSteps;

    /// <summary>The model state; after the run it has consumed the prompt and every generated id but the last.</summary>
    public IModelState State { get; }

    public FinishReason? FinishReason { get; private set; }
    public string? MatchedStopString => _stopMatcher.Matched;
    public ulong Seed => _sampler.Seed;
    public bool IsFinished => FinishReason != null;

    public GenerationSession(ILanguageModel model, ReadOnlySpan<int> promptIds, GenerationOptions options,
        ITokenizer? tokenizer = null, IModelState? state = null)
    {
        if (promptIds.IsEmpty) throw new ArgumentException("the prompt is empty: a model needs at least one id to predict from");
        for (int i = 0; i < promptIds.Length; i++)
            if ((uint)promptIds[i] >= (uint)model.VocabSize)
                throw new ArgumentException($"prompt id {promptIds[i]} at position {i} is outside the model's vocabulary [0, {model.VocabSize})");
        if (options.StopStrings.Count > 0 && tokenizer is null)
            throw new ArgumentException("stop strings need a tokenizer to turn ids into text");
        if (options.SampleVocabLimit is <= 0) throw new ArgumentException("SampleVocabLimit must be positive");

        (_model, _options) = (model, options);
        _sampler = new Sampler(options.Sampling);
        _prompt = promptIds.ToArray();
        _history = [.. _prompt];
        _stopIds = [.. options.StopIds];
        _textStream = tokenizer is null ? null : new TokenTextStream(tokenizer, options.SkipSpecialTokens);
        _stopMatcher = new StopStringMatcher(options.StopStrings);
        State = state ?? model.CreateState(1);
    }

    /// <summary>
    /// Generates one token. Returns null once the run has finished; a chunk with a null id carries the text released
    /// when the run was cancelled.
    /// </summary>
    public GenerationChunk? Next(CancellationToken cancellationToken = default)
    {
        if (IsFinished) return null;
        if (cancellationToken.IsCancellationRequested)
        {
            string tail = Finish(Generation.FinishReason.Cancelled);
            return tail.Length > 0 ? new GenerationChunk(null, tail) : null;
        }

        long start = Stopwatch.GetTimestamp();
        bool prefill = !_prefilled;
        Core.Tensors.Tensor logits;
        if (prefill)
        {
            _prefilled = true;
            logits = _model.Prefill(_prompt, State);
            if (_options.MaxTokens == 0)
            {
                _model.Backend.ToHost(logits);  // the prefill's time includes finishing it
                _prefillTicks += Stopwatch.GetTimestamp() - start;
                Finish(Generation.FinishReason.Length);
                return null;
            }
        }
        else
        {
            logits = _model.Step([_generated[^1]], State);
            _decodeSteps++;
        }
        int id = SampleNext(logits, start, ref prefill ? ref _prefillTicks : ref _decodeTicks);
        _generated.Add(id);
        _history.Add(id);

        if (_stopIds.Contains(id)) return new GenerationChunk(id, Finish(Generation.FinishReason.StopId));
        string text = Release(_textStream?.Push(id) ?? "");
        if (_stopMatcher.Matched != null) return new GenerationChunk(id, text + Finish(Generation.FinishReason.StopString));
        if (_options.MaxTokens > 0 && _generated.Count >= _options.MaxTokens)
            return new GenerationChunk(id, text + Finish(Generation.FinishReason.Length));
        return new GenerationChunk(id, text);
    }

    /// <summary>Runs the session to the end as an async stream; stops (with <see cref="FinishReason"/> Cancelled) on cancellation.</summary>
    public async IAsyncEnumerable<GenerationChunk> StreamAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (Next(cancellationToken) is { } chunk)
        {
            yield return chunk;
            await Task.Yield();   // let the consumer's continuation and cancellation run between tokens
        }
    }

    /// <summary>The outcome; available once the session has finished.</summary>
    public GenerationResult Result => FinishReason is { } reason
        ? new GenerationResult(_prompt, [.. _generated], _text.ToString(), reason, _stopMatcher.Matched, Timings, Seed)
        : throw new InvalidOperationException("the generation has not finished yet");

    public GenerationTimings Timings => new(_prompt.Length, Seconds(_prefillTicks), _decodeSteps, Seconds(_decodeTicks), Seconds(_sampleTicks));

    /// <summary>
    /// The next id from the last row of <paramref name="logits"/>: on the device that holds them when it can sample (the
    /// model's time then includes the draw: they finish together there), else on the host. <paramref name="ticks"/>
    /// gets the model's time since <paramref name="start"/>.
    /// </summary>
    private int SampleNext(Core.Tensors.Tensor logits, long start, ref long ticks)
    {
        int vocab = logits.Dim(-1);
        int limit = Math.Min(_options.SampleVocabLimit ?? vocab, vocab);
        var history = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_history);
        if (_model.Backend is Core.Ops.ITokenSampler device && logits.Rank == 2
            && _sampler.TrySampleOnDevice(device, logits, logits.Dim(0) - 1, limit, history) is int onDevice)
        {
            ticks += Stopwatch.GetTimestamp() - start;
            return onDevice;
        }
        float[] host = _model.Backend.ToHost(logits);
        long sampled = Stopwatch.GetTimestamp();
        ticks += sampled - start;
        var last = host.AsSpan(host.Length - vocab);   // the last row when a model returned several
        int id = _sampler.Sample(last[..limit], history);
        _sampleTicks += Stopwatch.GetTimestamp() - sampled;
        return id;
    }

    // Passes decoded text through the stop-string matcher and records what it releases.
    private string Release(string decoded)
    {
        string released = decoded.Length > 0 ? _stopMatcher.Push(decoded) : "";
        _text.Append(released);
        return released;
    }

    // Ends the run and returns the text that was still held back (none after a stop string).
    private string Finish(FinishReason reason)
    {
        FinishReason = reason;
        if (_stopMatcher.Matched != null) return "";
        string decodedTail = Release(_textStream?.Flush() ?? "");
        string heldBack = _stopMatcher.Flush();
        _text.Append(heldBack);
        return decodedTail + heldBack;
    }

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;
}
