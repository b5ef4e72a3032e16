// ML-Mamba's Mamba-2 Scan Connector (the "bidirectional_mamba" module of the authors' code): blocks of
// h += MultiScanMamba2(h); h += SwiGLU(LayerNorm(h)), then a final LayerNorm. Each scan direction visits the patch grid
// in its own order with its own conv/dt_bias/A/D; in_proj, the gate norm and out_proj are shared; the directions'
// gated outputs, put back in raster order, are averaged before out_proj. Zero state per image; no cache.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;
using MambaVL.Models.Mamba2;

namespace MambaVL.Models.MlMamba;

/// <summary>The order a scan direction visits a G×G patch grid in.</summary>
public enum ScanOrder
{
    /// <summary>Raster order: row by row (token index r·G + c).</summary>
    Rows,
    RowsReversed,
    /// <summary>Column by column.</summary>
    Columns,
    ColumnsReversed,
}

/// <summary>
/// The connector's shape: the Mamba-2 mixer config (the authors build it from mamba2-2.7b's), the block count (2 in the
/// release), and the scan directions: BSM (the release: rows and rows reversed) or the paper's CSM (all four).
/// </summary>
public sealed record ScanConnectorConfig(Mamba2Config Mixer, IReadOnlyList<ScanOrder> Directions, int Layers = 2, float NormEps = 1e-5f)
{
    public static readonly ScanOrder[] Bidirectional = [ScanOrder.Rows, ScanOrder.RowsReversed];
    public static readonly ScanOrder[] CrossScan = [ScanOrder.Rows, ScanOrder.RowsReversed, ScanOrder.Columns, ScanOrder.ColumnsReversed];

    /// <summary>Checkpoint name suffix of a direction's own tensors: conv1d{s}.weight, dt_bias{s}, A_log{s}, D{s}.</summary>
    public static string Suffix(ScanOrder order) => order switch
    {
        ScanOrder.Rows => "",
        ScanOrder.RowsReversed => "_b",          // the authors' names
        ScanOrder.Columns => "_col",             // CSM has no released weights: names of our choosing
        ScanOrder.ColumnsReversed => "_col_b",
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, null),
    };
}

public sealed class ScanConnector
{
    private readonly ScanConnectorConfig _cfg;
    private readonly IBackend _backend;
    private readonly ConnectorBlock[] _blocks;
    private readonly Tensor _normW, _normB;   // norm_f (D)
    private readonly Tensor _averageScale;    // (DInner) of 1 / directions

    public ScanConnectorConfig Config => _cfg;

    /// <summary>Binds layers.{i}.* and norm_f.* under <paramref name="root"/> (the checkpoint's "bidirectional_mamba" dict).</summary>
    public ScanConnector(ScanConnectorConfig cfg, WeightScope root, IBackend backend, DType? storage = null)
    {
        if (cfg.Directions.Count == 0 || cfg.Directions.Distinct().Count() != cfg.Directions.Count)
            throw new ArgumentException($"scan connector directions must be distinct and at least one: {string.Join(", ", cfg.Directions)}");
        (_cfg, _backend) = (cfg, backend);
        int d = cfg.Mixer.DModel;
        var suffixes = cfg.Directions.Select(ScanConnectorConfig.Suffix).ToArray();
        _blocks = Enumerable.Range(0, cfg.Layers).Select(i => new ConnectorBlock(cfg, root.Push("layers").Push(i), backend, suffixes, storage)).ToArray();
        (_normW, _normB) = (Parameters.Small(backend, root.GetF32("norm_f.weight", d)), Parameters.Small(backend, root.GetF32("norm_f.bias", d)));
        _averageScale = Parameters.Small(backend, Tensor.FromArray(Enumerable.Repeat(1f / cfg.Directions.Count, cfg.Mixer.DInner).ToArray(), cfg.Mixer.DInner));
    }

    /// <summary>h (T, D) with T = G² patch tokens in raster order → (T, D).</summary>
    public Tensor Forward(Tensor h)
    {
        int t = h.Dim(0), g = (int)Math.Round(Math.Sqrt(t));
        bool needsGrid = _cfg.Directions.Any(o => o is ScanOrder.Columns or ScanOrder.ColumnsReversed);
        if (needsGrid && g * g != t) throw new ArgumentException($"a column scan needs a square patch grid; {t} tokens are not one");
        var x = _backend.Concat([h], 0);  // our own residual stream (the caller's tensor is left alone)
        foreach (var block in _blocks) block.Forward(x, t, g, _averageScale);
        var output = _backend.LayerNorm(x, _normW, _normB, _cfg.NormEps);
        _backend.Release(x);
        return output;
    }

    /// <summary>Token order of a direction: position i of the scan reads raster token Order[i].</summary>
    internal static int[] Order(ScanOrder order, int t, int g) => order switch
    {
        ScanOrder.Rows => Enumerable.Range(0, t).ToArray(),
        ScanOrder.RowsReversed => Enumerable.Range(0, t).Reverse().ToArray(),
        ScanOrder.Columns => Enumerable.Range(0, t).Select(i => i % g * g + i / g).ToArray(),
        ScanOrder.ColumnsReversed => Enumerable.Range(0, t).Select(i => i % g * g + i / g).Reverse().ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, null),
    };

    /// <summary>The inverse permutation: raster token j sits at scan position Inverse[j].</summary>
    internal static int[] Inverse(int[] order)
    {
        var inv = new int[order.Length];
        for (int i = 0; i < order.Length; i++) inv[order[i]] = i;
        return inv;
    }

    private sealed class ConnectorBlock
    {
        private readonly ScanConnectorConfig _cfg;
        private readonly IBackend _backend;
        private readonly Mamba2Mixer _mixer;
        private readonly Tensor _normW, _normB;
        private readonly Tensor _w1, _b1, _w2, _b2, _w3, _b3;  // SwiGLU: w3(silu(w1 x) ⊙ w2 x), all (D, D) with bias

        public ConnectorBlock(ScanConnectorConfig cfg, WeightScope block, IBackend backend, string[] suffixes, DType? storage)
        {
            (_cfg, _backend) = (cfg, backend);
            int d = cfg.Mixer.DModel;
            _mixer = new Mamba2Mixer(cfg.Mixer, block.Push("mixer"), backend, suffixes, storage);
            (_normW, _normB) = (Parameters.Small(backend, block.GetF32("norm.weight", d)), Parameters.Small(backend, block.GetF32("norm.bias", d)));
            var mlp = block.Push("mlp");
            Tensor W(string n) => Parameters.Large(backend, mlp.Get(n + ".weight", d, d), storage);
            Tensor B(string n) => Parameters.Small(backend, mlp.GetF32(n + ".bias", d));
            (_w1, _b1, _w2, _b2, _w3, _b3) = (W("w1"), B("w1"), W("w2"), B("w2"), W("w3"), B("w3"));
        }

        /// <summary>x (T, D) in place: x += mixer(x) (no norm before the mixer, as the authors' v2 block); x += SwiGLU(LN(x)).</summary>
        public void Forward(Tensor x, int t, int g, Tensor averageScale)
        {
            var zxbcdt = _mixer.InProject(x);
            Tensor? sum = null;
            for (int i = 0; i < _cfg.Directions.Count; i++)
            {
                var order = Order(_cfg.Directions[i], t, g);
                bool identity = _cfg.Directions[i] == ScanOrder.Rows;
                var input = identity ? zxbcdt : _backend.Embedding(zxbcdt, order);  // rows gathered into scan order
                var (conv, ssm) = _mixer.ZeroStates();
                var gated = _mixer.Scan(input, _mixer.Directions[i], conv, ssm, step: false);
                if (!identity) { _backend.Release(input); gated = Gather(gated, Inverse(order)); }
                if (sum == null) sum = gated;
                else { _backend.AddInPlace(sum, gated); _backend.Release(gated); }
            }
            _backend.Release(zxbcdt);
            _backend.ScaleColumnsInPlace(sum!, averageScale);  // (out + out_b) / 2: halving is exact, so × 0.5 is the same
            var mixed = _mixer.OutProject(sum!);
            _backend.AddInPlace(x, mixed);
            _backend.Release(mixed);

            var normed = _backend.LayerNorm(x, _normW, _normB, _cfg.NormEps);
            var gate = _backend.MatMul(normed, _w1, _b1);
            var up = _backend.MatMul(normed, _w2, _b2);
            _backend.Release(normed);
            var hidden = _backend.SwiGlu(gate, up);
            _backend.Release(gate); _backend.Release(up);
            var ffn = _backend.MatMul(hidden, _w3, _b3);
            _backend.Release(hidden);
            _backend.AddInPlace(x, ffn);
            _backend.Release(ffn);
        }

        private Tensor Gather(Tensor rows, int[] order)
        {
            var gathered = _backend.Embedding(rows, order);
            _backend.Release(rows);
            return gathered;
        }
    }
}
