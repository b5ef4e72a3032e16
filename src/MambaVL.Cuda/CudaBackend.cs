// The CUDA backend behind the op contract (IBackend): tensors live in device memory (CudaStorage) and the same model
// code runs on them. Ops come in as kernels are written and checked (`mambavl selfcheck`); one not written yet says so.
// Strided views are read in place where a kernel takes a row stride; other layout changes go through the host for now.
using System.Runtime.InteropServices;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cuda;

public sealed unsafe class CudaBackend : IBackend, IDisposable
{
    private readonly CudaGemm _gemm;

    public CudaDevice Gpu { get; }
    public string Name => $"cuda ({Gpu.Name})";
    public Device Device => new(DeviceKind.Cuda, Gpu.Index);

    public CudaBackend(CudaDevice gpu) => (Gpu, _gemm) = (gpu, new CudaGemm(gpu));

    public void Dispose() => _gemm.Dispose();

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
        var contiguous = host.ContiguousCopy();
        var t = Empty(host.DType, host.ShapeArray);
        Gpu.Write(Address(t), new ReadOnlySpan<byte>(contiguous.DataPointer, checked((int)contiguous.ByteLength)));
        GC.KeepAlive(contiguous);
        return t;
    }

    public float[] ToHost(Tensor t) => t.Storage is CudaStorage ? HostView(t).ToFloatArray() : t.ToFloatArray();

    /// <summary>A host tensor with <paramref name="t"/>'s shape, strides and dtype over a copy of the device bytes it spans.</summary>
    private Tensor HostView(Tensor t)
    {
        long elements = t.Length == 0 ? 0 : t.MaxIndex() + 1;
        var host = new NativeStorage(elements * t.DType.Size());
        if (elements > 0) Gpu.Read(Address(t), new Span<byte>(host.Pointer, checked((int)(elements * t.DType.Size()))));
        return new Tensor(host, t.DType, t.ShapeArray, t.Strides.ToArray());
    }

    public Tensor Contiguous(Tensor t)
    {
        var d = OnDevice(t, "Contiguous");
        return d.IsContiguous ? d : Upload(HostView(d).ContiguousCopy());  // TODO(strided copy kernel): host round trip
    }

    public void CopyInto(Tensor source, Tensor destination)
    {
        OnDevice(destination, "CopyInto destination");
        if (!source.Shape.SequenceEqual(destination.Shape)) throw new ArgumentException($"CopyInto: {source} does not fit {destination}");
        if (source.Storage is CudaStorage && source.IsContiguous && destination.IsContiguous && source.DType == destination.DType)
        {
            Gpu.Copy(Address(source), Address(destination), source.ByteLength);
            return;
        }
        var target = HostView(destination);   // the bytes the destination spans, with the view's layout
        target.CopyFrom(source.Storage is CudaStorage ? HostView(source) : source);
        long bytes = (destination.MaxIndex() + 1) * destination.DType.Size();
        Gpu.Write(Address(destination), new ReadOnlySpan<byte>(((CpuStorage)target.Storage).Pointer, checked((int)bytes)));
    }

    public void Release(Tensor t)
    {
        if (t.Storage is CudaStorage s) s.Dispose();
    }

    // ---- linear algebra ----

    public Tensor MatMul(Tensor x, Tensor w, Tensor? bias = null)
    {
        if (x.Rank != 2 || w.Rank != 2 || w.Dim(1) != x.Dim(1)) throw new ArgumentException($"MatMul: x {x} and w {w} do not fit");
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(0);
        x = Rows(F32(x, "MatMul x"), out long ldx);
        w = Contiguous(OnDevice(w, "MatMul w"));
        var y = Empty(DType.F32, m, n);
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

    public Tensor Embedding(Tensor table, ReadOnlySpan<int> ids) => throw NotYet("Embedding");

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
        if (rows > 0) Gpu.Launch("norms", "rms_norm_f32", ((uint)rows, 1), 256, 0, Address(x), Address(w), Address(y), rows, d, ldx, eps);
        return y;
    }

    public Tensor GatedRmsNorm(Tensor y, Tensor z, Tensor weight, int groupSize, float eps) => throw NotYet("GatedRmsNorm");
    public Tensor LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps) => throw NotYet("LayerNorm");

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

    public void ScaleColumnsInPlace(Tensor x, Tensor scale) => throw NotYet("ScaleColumnsInPlace");
    public Tensor Attention(Tensor q, Tensor k, Tensor v, float scale, bool causal) => throw NotYet("Attention");
    public Tensor Rope(Tensor x, Tensor invFreq, int startPosition) => throw NotYet("Rope");
    public Tensor Concat(IReadOnlyList<Tensor> parts, int dim) => throw NotYet("Concat");
    public Tensor CausalConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) => throw NotYet("CausalConv1d");
    public Tensor CausalConv1dStep(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) => throw NotYet("CausalConv1dStep");
    public Tensor SsdScan(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, int chunkSize) => throw NotYet("SsdScan");
    public Tensor SsmStep(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state) => throw NotYet("SsmStep");

    // ---- helpers ----

    private static NotSupportedException NotYet(string op) => new($"{op} is not implemented on the CUDA backend yet (run on --device cpu)");

    private static ulong Address(Tensor t) => ((CudaStorage)t.Storage).Address(t.Offset, t.DType);

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

    /// <summary>Rows of the last dim with their stride: read in place when each row is contiguous, else a contiguous copy.</summary>
    private Tensor Rows(Tensor t, out long rowStride)
    {
        if (!t.InnerDimsContiguous) t = Contiguous(t);
        rowStride = t.Dim(0) <= 1 || t.IsContiguous ? t.Length / Math.Max(1, t.Dim(0)) : t.Strides[0];
        return t;
    }
}
