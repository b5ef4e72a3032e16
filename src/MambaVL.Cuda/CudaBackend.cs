// The CUDA backend behind the op contract (IBackend): tensors live in device memory (CudaStorage) and the same model
// code runs on them. Ops come in as kernels are written and checked (`mambavl selfcheck`); one not written yet says so.
// Strided views are read in place where a kernel takes a row stride; layout changes run a strided-copy kernel.
using System.Runtime.InteropServices;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed unsafe partial class CudaBackend : IBackend, IStepRecorder, IDisposable
{
    private readonly CudaGemm _gemm;

    public CudaDevice Gpu { get; }
    public string Name => $"cuda ({Gpu.Name})";
    public Device Device => new(DeviceKind.Cuda, Gpu.Index);

    public CudaBackend(CudaDevice gpu) =>
        (Gpu, _gemm, _stepCounters, _normCounter, _blocksBarrier) = (gpu, new CudaGemm(gpu), Counters(gpu, StepCounterCapacity), Counters(gpu, 1), Counters(gpu, 2));

    public void Dispose()
    {
        _gemm.Dispose();
        _stepCounters.Dispose();
        _normCounter.Dispose();
        _blocksBarrier.Dispose();
        foreach (var table in _blockTables.Values) table.Dispose();
        _blocksTrace?.Dispose();
    }

    // ---- memory ----

    public Tensor Zeros(DType dtype, params int[] shape)
    {
        var t = Empty(dtype, shape);
        Gpu.Clear(Address(t), t.ByteLength);
        return t;
    }

    /// <summary>A device tensor whose contents are undefined (for outputs a kernel writes in full).</summary>
    private Tensor Empty(DType dtype, params int[] shape)
    {
        long bytes = 1; foreach (int d in shape) bytes *= d;
        return new Tensor(new CudaStorage(Gpu.Allocate(bytes * dtype.Size()), Gpu.Index), dtype, shape);
    }

    public Tensor Upload(Tensor host)
    {
        if (host.Storage is CudaStorage) return host;
        var contiguous = host.ContiguousCopy();  // the host tensor itself when it already is
        var t = Empty(host.DType, host.ShapeArray);
        Gpu.Write(Address(t), new ReadOnlySpan<byte>(contiguous.DataPointer, checked((int)contiguous.ByteLength)));
        GC.KeepAlive(contiguous);
        return t;
    }

    public float[] ToHost(Tensor t) => t.Storage is CudaStorage ? HostView(t).ToFloatArray() : t.ToFloatArray();

    /// <summary>A host tensor with <paramref name="t"/>'s shape, strides and dtype over a copy of the device bytes it spans.</summary>
    private Tensor HostView(Tensor t)
    {
        var (lo, count) = Span(t);
        var host = new NativeStorage(count * t.DType.Size());
        if (count > 0) Gpu.Read(Address(t, lo), new Span<byte>(host.Pointer, checked((int)(count * t.DType.Size()))));
        return new Tensor(host, t.DType, t.ShapeArray, t.Strides.ToArray(), offset: -lo);
    }

    /// <summary>The elements a view touches, relative to its offset: the lowest (≤ 0 with flipped dims) and how many.</summary>
    private static (long Lo, long Count) Span(Tensor t)
    {
        if (t.Length == 0) return (0, 0);
        long lo = 0, hi = 0;
        for (int k = 0; k < t.Rank; k++)
        {
            long reach = (t.Dim(k) - 1) * t.Strides[k];
            if (reach < 0) lo += reach; else hi += reach;
        }
        return (lo, hi - lo + 1);
    }

    public Tensor Contiguous(Tensor t)
    {
        var d = OnDevice(t, "Contiguous");
        if (d.IsContiguous) return d;
        var y = Empty(d.DType, d.ShapeArray);
        CopyStrided(d, y);
        return y;
    }

    public void CopyInto(Tensor source, Tensor destination)
    {
        OnDevice(destination, "CopyInto destination");
        if (!source.Shape.SequenceEqual(destination.Shape)) throw new ArgumentException($"CopyInto: {source} does not fit {destination}");
        bool sameType = source.DType == destination.DType;
        if (source.Storage is CudaStorage && (sameType || (source.DType == DType.F32 && destination.DType == DType.BF16)))
        {
            if (sameType && source.IsContiguous && destination.IsContiguous) Gpu.Copy(Address(source), Address(destination), source.ByteLength);
            else CopyStrided(source, destination);   // F32 into BF16 rounds on the way
            return;
        }
        // a host source or a type conversion: through the bytes the destination spans
        var target = HostView(destination);   // the bytes the destination spans, with the view's layout
        target.CopyFrom(source.Storage is CudaStorage ? HostView(source) : source);
        var (lo, count) = Span(destination);
        Gpu.Write(Address(destination, lo), new ReadOnlySpan<byte>(((CpuStorage)target.Storage).Pointer, checked((int)(count * destination.DType.Size()))));
    }

    /// <summary>
    /// destination[i] = source[i] over two device views of the same shape (up to 6 dims): the same element size (2 or 4
    /// bytes), or F32 rounded into BF16.
    /// </summary>
    private void CopyStrided(Tensor source, Tensor destination)
    {
        int size = source.DType.Size();
        bool toBf16 = source.DType == DType.F32 && destination.DType == DType.BF16;
        if ((size is not (2 or 4) && !toBf16) || (!toBf16 && destination.DType.Size() != size) || source.Rank > 6)
            throw new NotSupportedException($"a strided copy of {source} into {destination} on CUDA (2- or 4-byte elements or F32 into BF16, up to 6 dims)");
        if (source.Length == 0) return;
        // struct Layout { long long shape[6], src[6], dst[6]; int rank; } as the kernel declares it
        var layout = new byte[3 * 6 * sizeof(long) + 8];
        var longs = MemoryMarshal.Cast<byte, long>(layout.AsSpan(0, 18 * sizeof(long)));
        for (int k = 0; k < source.Rank; k++)
            (longs[k], longs[6 + k], longs[12 + k]) = (source.Dim(k), source.Strides[k], destination.Strides[k]);
        BitConverter.TryWriteBytes(layout.AsSpan(18 * sizeof(long)), source.Rank);
        Gpu.Launch("layout", toBf16 ? "copy_strided_f32_bf16" : size == 4 ? "copy_strided_4" : "copy_strided_2", (Gpu.Blocks(source.Length), 1), 256, 0,
            Address(source), Address(destination), layout, source.Length);
    }

    public void Release(Tensor t)
    {
        // a recorded step's output is written again by every replay: it stays
        if (t.Storage is CudaStorage s && !Gpu.IsReserved(s.Buffer.Pointer)) s.Dispose();
    }

    // ---- linear algebra ----

    public Tensor MatMul(Tensor x, Tensor w, Tensor? bias = null)
    {
        if (x.Rank != 2 || w.Rank != 2 || w.Dim(1) != x.Dim(1)) throw new ArgumentException($"MatMul: x {x} and w {w} do not fit");
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(0);
        x = Rows(F32(x, "MatMul x"), out long ldx);
        w = Contiguous(OnDevice(w, "MatMul w"));
        var y = Empty(DType.F32, m, n);
        if (m <= GemvMaxRows && w.DType is DType.F32 or DType.BF16)
        {
            Gemv(x, ldx, w, bias, y);
            return y;
        }
        if (w.DType == DType.F32) _gemm.MatMul(Address(x), ldx, Address(w), Address(y), m, n, k, DType.F32);
        else if (w.DType == DType.BF16)
        {
            using var xb = Gpu.Allocate((long)m * k * 2);  // cuBLAS takes both inputs in one type: x rounded to BF16
            Gpu.Launch("conversions", "f32_to_bf16", (Gpu.Blocks((long)m * k), 1), 256, 0, Address(x), xb.Pointer, (long)m * k, k, ldx);
            _gemm.MatMul(xb.Pointer, k, Address(w), Address(y), m, n, k, DType.BF16);
        }
        else throw new NotSupportedException($"MatMul with {w.DType} weights on CUDA (F32 and BF16 are supported; convert at load with --dtype bf16)");
        if (bias != null)
        {
            var b = F32(bias, "MatMul bias");
            Gpu.Launch("activations", "add_bias_f32", (Gpu.Blocks((long)m * n), 1), 256, 0, Address(y), Address(b), (long)m * n, n);
        }
        return y;
    }

    public Tensor Embedding(Tensor table, ReadOnlySpan<int> ids)
    {
        if (table.Rank != 2) throw new ArgumentException($"Embedding: table {table} is not (V, D)");
        int vocab = table.Dim(0), d = table.Dim(1);
        foreach (int id in ids)
            if ((uint)id >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the {vocab}-row embedding table");
        table = Contiguous(OnDevice(table, "Embedding table"));
        if (table.DType is not (DType.F32 or DType.BF16)) throw new NotSupportedException($"Embedding of a {table.DType} table on CUDA (F32 and BF16 are supported)");
        var y = Empty(DType.F32, ids.Length, d);
        if (ids.IsEmpty) return y;
        // a recorded step reads its ids from a buffer each replay fills (the range check moves to the replay)
        if (Gpu.IsRecording) _recordingVocab = vocab;
        using var idBuffer = Gpu.IsRecording ? null : Gpu.UploadBytes(MemoryMarshal.AsBytes(ids));
        ulong idAddress = idBuffer?.Pointer ?? Gpu.RecordInput(ids.Length * sizeof(int));
        Gpu.Launch("mamba", "embedding", ((uint)ids.Length, 1), 256, 0, Address(table), idAddress, Address(y), d, table.DType == DType.BF16 ? 1 : 0);
        return y;
    }

    // ---- element-wise and norms ----

    public void AddInPlace(Tensor acc, Tensor x)
    {
        if (!acc.Shape.SequenceEqual(x.Shape)) throw new ArgumentException($"AddInPlace: {acc} and {x} differ");
        if (!OnDevice(acc, "AddInPlace acc").IsContiguous) throw new ArgumentException("AddInPlace: acc must be contiguous");
        x = Contiguous(F32(x, "AddInPlace x"));
        Gpu.Launch("activations", "add_inplace_f32", (Gpu.Blocks(acc.Length), 1), 256, 0, Address(acc), Address(x), acc.Length);
    }

    public Tensor RmsNorm(Tensor x, Tensor weight, float eps)
    {
        if (x.Rank != 2 || weight.Length != x.Dim(1)) throw new ArgumentException($"RmsNorm: x {x} and weight {weight} do not fit");
        x = Rows(F32(x, "RmsNorm x"), out long ldx);
        var w = Contiguous(F32(weight, "RmsNorm weight"));
        int rows = x.Dim(0), d = x.Dim(1);
        var y = Empty(DType.F32, rows, d);
        if (rows > 0) Gpu.LaunchEarly("norms", "rms_norm_f32", ((uint)rows, 1), RowThreads(rows), 0, Address(x), Address(w), Address(y), rows, d, ldx, eps);
        return y;
    }

    public Tensor AddRmsNorm(Tensor residual, Tensor x, Tensor weight, float eps)
    {
        if (residual.Rank != 2 || !residual.Shape.SequenceEqual(x.Shape) || weight.Length != residual.Dim(1))
            throw new ArgumentException($"AddRmsNorm: residual {residual}, x {x} and weight {weight} do not fit");
        if (!OnDevice(residual, "AddRmsNorm residual").IsContiguous || residual.DType != DType.F32)
            throw new ArgumentException("AddRmsNorm: the residual must be contiguous F32 (it is updated in place)");
        x = Rows(F32(x, "AddRmsNorm x"), out long ldx);
        var w = Contiguous(F32(weight, "AddRmsNorm weight"));
        int rows = residual.Dim(0), d = residual.Dim(1);
        var y = Empty(DType.F32, rows, d);
        if (rows > 0) Gpu.LaunchEarly("norms", "add_rms_norm_f32", ((uint)rows, 1), RowThreads(rows), 0, Address(residual), Address(x), ldx, Address(w), Address(y), rows, d, eps);
        return y;
    }

    public Tensor GatedRmsNorm(Tensor y, Tensor z, Tensor weight, int groupSize, float eps)
    {
        if (y.Rank != 2 || !y.Shape.SequenceEqual(z.Shape) || weight.Length != y.Dim(1) || groupSize <= 0 || y.Dim(1) % groupSize != 0)
            throw new ArgumentException($"GatedRmsNorm: y {y}, z {z}, weight {weight} and group {groupSize} do not fit");
        y = Rows(F32(y, "GatedRmsNorm y"), out long ldy);
        z = Rows(F32(z, "GatedRmsNorm z"), out long ldz);
        var w = Contiguous(F32(weight, "GatedRmsNorm weight"));
        int rows = y.Dim(0), dn = y.Dim(1);
        var o = Empty(DType.F32, rows, dn);
        if (rows > 0) Gpu.Launch("mamba", "gated_rms_norm", ((uint)rows, (uint)(dn / groupSize)), RowThreads((long)rows * (dn / groupSize)), 0, Address(y), ldy, Address(z), ldz, Address(w), Address(o), dn, groupSize, eps);
        return o;
    }
    public Tensor LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps)
    {
        int d = x.Dim(-1);
        if (weight.Length != d || (bias != null && bias.Length != d)) throw new ArgumentException($"LayerNorm: weight {weight} / bias {bias} do not match x {x}");
        var shape = x.ShapeArray;
        x = F32(x, "LayerNorm x");
        long ldx = d;
        var rows2d = x.Rank == 2 ? Rows(x, out ldx) : Contiguous(x).Reshape(checked((int)(x.Length / Math.Max(d, 1))), d);
        var w = Contiguous(F32(weight, "LayerNorm weight"));
        ulong b = bias is null ? 0 : Address(Contiguous(F32(bias, "LayerNorm bias")));
        int rows = rows2d.Dim(0);
        var y = Empty(DType.F32, shape);
        if (rows > 0) Gpu.Launch("norms", "layer_norm_f32", ((uint)rows, 1), RowThreads(rows), 0, Address(rows2d), Address(w), b, Address(y), rows, d, ldx, eps);
        return y;
    }

    public Tensor Activate(Tensor x, Activation kind)
    {
        x = Contiguous(F32(x, "Activate x"));
        string kernel = kind switch
        {
            Activation.Silu => "silu_f32",
            Activation.Gelu => "gelu_f32",
            Activation.GeluTanh => "gelu_tanh_f32",
            Activation.QuickGelu => "quick_gelu_f32",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        var y = Empty(DType.F32, x.ShapeArray);
        if (x.Length > 0) Gpu.Launch("activations", kernel, (Gpu.Blocks(x.Length), 1), 256, 0, Address(x), Address(y), x.Length);
        return y;
    }

    public Tensor SwiGlu(Tensor gate, Tensor up)
    {
        if (!gate.Shape.SequenceEqual(up.Shape)) throw new ArgumentException($"SwiGlu: {gate} and {up} differ");
        (gate, up) = (Contiguous(F32(gate, "SwiGlu gate")), Contiguous(F32(up, "SwiGlu up")));
        var y = Empty(DType.F32, gate.ShapeArray);
        if (y.Length > 0) Gpu.Launch("activations", "swiglu_f32", (Gpu.Blocks(y.Length), 1), 256, 0, Address(gate), Address(up), Address(y), y.Length);
        return y;
    }

    public void ScaleColumnsInPlace(Tensor x, Tensor scale)
    {
        if (x.Rank != 2 || scale.Length != x.Dim(1)) throw new ArgumentException($"ScaleColumnsInPlace: x {x} and scale {scale} do not fit");
        if (!OnDevice(x, "ScaleColumnsInPlace x").IsContiguous || x.DType != DType.F32) throw new ArgumentException("ScaleColumnsInPlace: x must be contiguous F32");
        var s = Contiguous(F32(scale, "ScaleColumnsInPlace scale"));
        if (x.Length > 0) Gpu.Launch("norms", "scale_columns_f32", (Gpu.Blocks(x.Length), 1), 256, 0, Address(x), Address(s), x.Length, x.Dim(1));
    }
    public Tensor Rope(Tensor x, Tensor invFreq, int startPosition)
    {
        Core.Reference.RopeShapes.Check(x, invFreq, out int t, out int h, out int p);
        var rows = Rows(F32(x, "Rope x"), out long ldx);
        var freq = Contiguous(F32(invFreq, "Rope invFreq"));
        var y = Empty(DType.F32, t, h, p);
        if (y.Length > 0) Gpu.Launch("norms", "rope_f32", (Gpu.Blocks(y.Length / 2), 1), 256, 0, Address(rows), ldx, Address(freq), Address(y), t, h, p, startPosition);
        return y;
    }

    public Tensor Concat(IReadOnlyList<Tensor> parts, int dim)
    {
        var shape = Core.Reference.ConcatShape.Of(parts, dim, out int axis);
        var y = Empty(parts[0].DType, shape);
        int at = 0;
        foreach (var part in parts)
        {
            CopyInto(OnDevice(part, "Concat part"), y.Narrow(axis, at, part.Dim(axis)));
            at += part.Dim(axis);
        }
        return y;
    }
    public Tensor CausalConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu)
    {
        var (w, bAddr, width) = ConvWeights(x, weight, bias, "CausalConv1d");
        var state = DeviceState(convState, [x.Dim(1), width - 1], "CausalConv1d state");
        x = Rows(F32(x, "CausalConv1d x"), out long ldx);
        int t = x.Dim(0), channels = x.Dim(1);
        var y = Empty(DType.F32, t, channels);
        if (t == 0) return y;
        Gpu.Launch("mamba", "causal_conv1d", (Gpu.Blocks((long)t * channels), 1), 256, 0, Address(x), ldx, Address(w), bAddr, Address(state), Address(y), t, channels, width, silu ? 1 : 0);
        Gpu.Launch("mamba", "causal_conv1d_state", ((uint)((channels + 127) / 128), 1), 128, 0, Address(x), ldx, Address(state), t, channels, width);
        return y;
    }

    public Tensor CausalConv1dStep(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu)
    {
        var (w, bAddr, width) = ConvWeights(x, weight, bias, "CausalConv1dStep");
        var state = DeviceState(convState, [x.Dim(0), x.Dim(1), width - 1], "CausalConv1dStep state");
        x = Rows(F32(x, "CausalConv1dStep x"), out long ldx);
        int batch = x.Dim(0), channels = x.Dim(1);
        var y = Empty(DType.F32, batch, channels);
        Gpu.Launch("mamba", "causal_conv1d_step", (Gpu.Blocks((long)batch * channels), 1), 256, 0, Address(x), ldx, Address(w), bAddr, Address(state), Address(y), batch, channels, width, silu ? 1 : 0);
        return y;
    }

    private (Tensor W, ulong Bias, int Width) ConvWeights(Tensor x, Tensor weight, Tensor? bias, string op)
    {
        if (x.Rank != 2 || weight.Rank != 2 || weight.Dim(0) != x.Dim(1)) throw new ArgumentException($"{op}: x {x} and weight {weight} do not fit");
        int width = weight.Dim(1);
        if (width is < 1 or > 9) throw new NotSupportedException($"{op}: conv width {width} on CUDA (1 to 9 are supported)");
        var w = Contiguous(F32(weight, $"{op} weight"));
        ulong b = bias is null ? 0 : Address(Contiguous(F32(bias, $"{op} bias")));
        return (w, b, width);
    }

    public Tensor SsdScan(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, int chunkSize) => ChunkedScan(x, dt, b, c, p, state);

    /// <summary>Runs the decode step as the plain recurrence kernel (the fast kernel's reference, for the selfcheck).</summary>
    internal bool PlainStep { get; set; }

    public Tensor SsmStep(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state) =>
        Recurrence(x, dt, b, c, p, state, step: true, "SsmStep");

    /// <summary>
    /// The SSM as its recurrence (one block per head channel, a thread per state column): the scan's T steps of one
    /// sequence, or one step of B sequences. Exact against the reference; the chunked SSD kernel will replace it for prefill.
    /// </summary>
    private Tensor Recurrence(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, bool step, string op)
    {
        CheckSsmShapes(x, dt, b, c, op);
        int rows = x.Dim(0), heads = x.Dim(1), pDim = x.Dim(2), groups = b.Dim(1), n = b.Dim(2);
        if (groups == 0 || heads % groups != 0 || n > 1024) throw new ArgumentException($"{op}: {heads} heads over {groups} groups of state {n}");
        var (batch, steps) = step ? (rows, 1) : (1, rows);
        var st = DeviceState(state, step ? [batch, heads, pDim, n] : [heads, pDim, n], $"{op} state");
        var i = SsmOnDevice(x, dt, b, c, p, op);
        var y = Empty(DType.F32, rows, heads, pDim);
        if (rows == 0) return y;
        if (step && !PlainStep)
        {
            // y (B, H, P) is contiguous: row (b, h, p) at b·H·P + h·P + p, as the kernel writes it
            Gpu.Launch("mamba", "ssm_step_warp", ((uint)(((long)batch * heads * pDim + 7) / 8), 1), 256, 0,
                Address(i.X), i.Ldx, Address(i.Dt), i.Lddt, Address(i.B), i.Ldb, Address(i.C), i.Ldc, Address(i.A), Address(i.DtBias), i.DAddress, i.DMode,
                Address(st), Address(y), batch, heads, pDim, groups, n, p.DtMin, p.DtMax);
            return y;
        }
        uint threads = (uint)((n + 31) / 32 * 32);
        Gpu.Launch("mamba", "ssm_recurrence", ((uint)(batch * heads * pDim), 1), threads, 0,
            Address(i.X), i.Ldx, Address(i.Dt), i.Lddt, Address(i.B), i.Ldb, Address(i.C), i.Ldc, Address(i.A), Address(i.DtBias), i.DAddress, i.DMode,
            Address(st), Address(y), steps, heads, pDim, groups, n, p.DtMin, p.DtMax);
        return y;
    }

    private static void CheckSsmShapes(Tensor x, Tensor dt, Tensor b, Tensor c, string op)
    {
        if (x.Rank != 3 || dt.Rank != 2 || b.Rank != 3 || !b.Shape.SequenceEqual(c.Shape) || b.Dim(0) != x.Dim(0) || dt.Dim(0) != x.Dim(0) || dt.Dim(1) != x.Dim(1))
            throw new ArgumentException($"{op}: x {x}, dt {dt}, B {b}, C {c} do not fit");
    }

    /// <summary>
    /// An SSM call's inputs as its kernels read them: x, dt, B, C by rows with their row strides (column slices in place),
    /// A and dt_bias, and D with its mode (0 none, 1 per head, 2 per head channel).
    /// </summary>
    private readonly record struct SsmInputs(Tensor X, long Ldx, Tensor Dt, long Lddt, Tensor B, long Ldb, Tensor C, long Ldc,
        Tensor A, Tensor DtBias, Tensor? D, int DMode)
    {
        public ulong DAddress => D is null ? 0UL : Address(D);
    }

    private SsmInputs SsmOnDevice(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, string op)
    {
        int heads = x.Dim(1), pDim = x.Dim(2);
        x = Rows(F32(x, $"{op} x"), out long ldx);
        dt = Rows(F32(dt, $"{op} dt"), out long lddt);
        b = Rows(F32(b, $"{op} B"), out long ldb);
        c = Rows(F32(c, $"{op} C"), out long ldc);
        var d = p.D is null ? null : Contiguous(F32(p.D, $"{op} D"));
        int dMode = d is null ? 0 : d.Length == heads ? 1 : d.Length == (long)heads * pDim ? 2
            : throw new ArgumentException($"{op}: D {p.D} is neither (H) nor (H, P)");
        return new SsmInputs(x, ldx, dt, lddt, b, ldb, c, ldc, Contiguous(F32(p.A, $"{op} A")), Contiguous(F32(p.DtBias, $"{op} dt_bias")), d, dMode);
    }

    /// <summary>
    /// Threads per block for the row kernels (a block per row): 256 fill the GPU when there are many rows; a decode step's
    /// one or few rows get 1024 so each row's single pass is short.
    /// </summary>
    private uint RowThreads(long blocks) => blocks < Gpu.Multiprocessors ? 1024u : 256u;

    /// <summary>A state the op updates in place: it must already be a contiguous F32 device tensor of the given shape.</summary>
    private Tensor DeviceState(Tensor state, int[] shape, string what)
    {
        if (state.Storage is not CudaStorage || state.DType != DType.F32 || !state.IsContiguous || !state.Shape.SequenceEqual(shape))
            throw new ArgumentException($"{what}: {state} must be a contiguous F32 tensor on {Device} of shape ({string.Join(", ", shape)})");
        return state;
    }

    // ---- helpers ----

    private static ulong Address(Tensor t, long relative = 0) => ((CudaStorage)t.Storage).Address(t.Offset + relative, t.DType);

    /// <summary>The tensor on this device (host tensors are uploaded: small parameters may come from the host).</summary>
    private Tensor OnDevice(Tensor t, string what) => t.Storage switch
    {
        CudaStorage s when s.Device.Index == Gpu.Index => t,
        CudaStorage s => throw new ArgumentException($"{what}: the tensor is on {s.Device}, this backend is {Device}"),
        _ => Upload(t),
    };

    /// <summary>F32 on this device (other float types converted through the host, for now).</summary>
    private Tensor F32(Tensor t, string what)
    {
        t = OnDevice(t, what);
        return t.DType == DType.F32 ? t : Upload(HostView(t).ToDType(DType.F32));
    }

    /// <summary>Rows (the first dim) with their stride: read in place when each row is contiguous, else a contiguous copy.</summary>
    private Tensor Rows(Tensor t, out long rowStride)
    {
        if (!t.InnerDimsContiguous) t = Contiguous(t);
        rowStride = t.RowStride;
        return t;
    }
}
