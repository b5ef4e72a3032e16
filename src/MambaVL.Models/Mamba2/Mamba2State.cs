// The whole memory of a Mamba-2 LM for B sequences: per layer the conv window and the SSM state, plus the position.
// Saved as a small self-describing binary (magic, version, shapes, then F32 data) that Load checks against the model.
using System.Text;
using MambaVL.Core.Models;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Models.Common;

namespace MambaVL.Models.Mamba2;

public sealed class Mamba2State : IModelState
{
    private static ReadOnlySpan<byte> Magic => "MVLSTATE"u8;
    private const int FormatVersion = 1;
    private const string Kind = "mamba2";

    private readonly IBackend _backend;
    private readonly int _layers, _convDim, _convHistory, _heads, _headDim, _dState;
    private Tensor[] _conv;  // per layer (B, ConvDim, W-1) F32: the last W-1 conv inputs, oldest first
    private Tensor[] _ssm;   // per layer (B, H, P, N) F32

    public int BatchSize { get; }

    /// <summary>The decode steps on these tensors (recorded and replayed where the backend can).</summary>
    internal StepReplayer Steps { get; private set; } = new();

    /// <summary>True once this state's steps replay a recording (CUDA graphs).</summary>
    public bool ReplaysSteps => Steps.IsReplaying;
    public long Position { get; internal set; }
    public long ByteSize => BatchSize * BytesPerSequence(_layers, _convDim, _convHistory, _heads, _headDim, _dState);

    /// <summary>One sequence's conv and SSM states, F32.</summary>
    internal static long BytesPerSequence(Mamba2Config cfg) => BytesPerSequence(cfg.NLayer, cfg.ConvDim, cfg.DConv - 1, cfg.NHeads, cfg.HeadDim, cfg.DState);

    private static long BytesPerSequence(int layers, int convDim, int convHistory, int heads, int headDim, int dState) =>
        layers * ((long)convDim * convHistory + (long)heads * headDim * dState) * sizeof(float);

    public Mamba2State(Mamba2Config cfg, IBackend backend, int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size {batchSize} must be positive");
        (_backend, BatchSize) = (backend, batchSize);
        (_layers, _convDim, _convHistory) = (cfg.NLayer, cfg.ConvDim, cfg.DConv - 1);
        (_heads, _headDim, _dState) = (cfg.NHeads, cfg.HeadDim, cfg.DState);
        _conv = new Tensor[_layers];
        _ssm = new Tensor[_layers];
        for (int l = 0; l < _layers; l++)
        {
            _conv[l] = backend.Zeros(DType.F32, ConvShape);
            _ssm[l] = backend.Zeros(DType.F32, SsmShape);
        }
    }

    private int[] ConvShape => [BatchSize, _convDim, _convHistory];
    private int[] SsmShape => [BatchSize, _heads, _headDim, _dState];

    /// <summary>Layer <paramref name="layer"/>'s conv state, (B, ConvDim, W-1) F32, on the backend.</summary>
    public Tensor ConvState(int layer) => _conv[layer];

    /// <summary>Layer <paramref name="layer"/>'s SSM state, (B, H, P, N) F32, on the backend.</summary>
    public Tensor SsmState(int layer) => _ssm[layer];

    /// <summary>Every layer's conv state and SSM state, in layer order (for the backend's MambaBlocksStep).</summary>
    internal IReadOnlyList<Tensor> ConvStates => _conv;

    internal IReadOnlyList<Tensor> SsmStates => _ssm;

    /// <summary>The single sequence's conv state as (C, W-1), sharing storage (Prefill: batch size 1).</summary>
    internal Tensor SequenceConvState(int layer) => _conv[layer].Reshape(_convDim, _convHistory);

    /// <summary>The single sequence's SSM state as (H, P, N), sharing storage.</summary>
    internal Tensor SequenceSsmState(int layer) => _ssm[layer].Reshape(_heads, _headDim, _dState);

    internal bool Matches(Mamba2Config cfg) =>
        cfg.NLayer == _layers && cfg.ConvDim == _convDim && cfg.DConv - 1 == _convHistory
        && cfg.NHeads == _heads && cfg.HeadDim == _headDim && cfg.DState == _dState;

    public IModelState Clone()
    {
        var copy = (Mamba2State)MemberwiseClone();
        copy._conv = _conv.Select(Copy).ToArray();
        copy._ssm = _ssm.Select(Copy).ToArray();
        copy.Steps = new StepReplayer();  // a recording reads this state's tensors, not the copy's
        return copy;
    }

    private Tensor Copy(Tensor t) => _backend.Upload(Tensor.FromArray(_backend.ToHost(t), t.ShapeArray));

    public void Save(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write(Kind);
        foreach (int v in Header()) w.Write(v);
        w.Write(Position);
        for (int l = 0; l < _layers; l++)
        {
            StateIO.Write(w, _backend, _conv[l]);
            StateIO.Write(w, _backend, _ssm[l]);
        }
    }

    public void Load(Stream stream)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("not a saved model state (bad magic)");
            int version = r.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"saved state format version {version}; this build reads {FormatVersion}");
            string kind = r.ReadString();
            if (kind != Kind) throw new InvalidDataException($"saved state is for a '{kind}' model, not {Kind}");
            CheckHeader(Enumerable.Range(0, Header().Length).Select(_ => r.ReadInt32()).ToArray());
            long position = r.ReadInt64();
            var conv = new Tensor[_layers];
            var ssm = new Tensor[_layers];
            for (int l = 0; l < _layers; l++)
            {
                conv[l] = StateIO.Read(r, _backend, ConvShape);
                ssm[l] = StateIO.Read(r, _backend, SsmShape);
            }
            (_conv, _ssm, Position) = (conv, ssm, position);  // replace only once everything was read
            Steps.Reset();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("saved model state is truncated", e);
        }
    }

    private static readonly string[] HeaderNames = ["batch size", "layers", "conv channels", "conv history", "heads", "head dim", "state size"];

    private int[] Header() => [BatchSize, _layers, _convDim, _convHistory, _heads, _headDim, _dState];

    private void CheckHeader(int[] saved)
    {
        int[] mine = Header();
        var diffs = Enumerable.Range(0, mine.Length).Where(i => saved[i] != mine[i])
            .Select(i => $"{HeaderNames[i]} {saved[i]} (this model: {mine[i]})").ToArray();
        if (diffs.Length > 0) throw new InvalidDataException($"saved state does not fit this model: {string.Join(", ", diffs)}");
    }
}
