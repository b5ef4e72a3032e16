// An n-dimensional view (shape, strides in elements, offset, dtype) over a Storage. Views share storage.
using System.Runtime.InteropServices;

namespace MambaVL.Core.Tensors;

public sealed unsafe class Tensor
{
    private readonly int[] _shape;
    private readonly long[] _strides;

    public Storage Storage { get; }
    public DType DType { get; }
    /// <summary>Offset of element [0,...,0] from the start of the storage, in elements.</summary>
    public long Offset { get; }

    public Tensor(Storage storage, DType dtype, int[] shape, long[]? strides = null, long offset = 0)
    {
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"negative dimension in shape {ShapeString(shape)}");
        _shape = (int[])shape.Clone();
        _strides = strides is null ? ContiguousStrides(shape) : (long[])strides.Clone();
        if (_strides.Length != _shape.Length) throw new ArgumentException("shape and strides differ in rank");
        (Storage, DType, Offset) = (storage, dtype, offset);
        long needed = (offset + MaxIndex() + 1) * dtype.Size();
        if (Length > 0 && needed > storage.ByteLength)
            throw new ArgumentException($"tensor {ShapeString(shape)} {dtype} needs {needed} bytes but its storage has {storage.ByteLength}");
    }

    public ReadOnlySpan<int> Shape => _shape;
    public int[] ShapeArray => (int[])_shape.Clone();
    public ReadOnlySpan<long> Strides => _strides;
    public int Rank => _shape.Length;
    public Device Device => Storage.Device;
    /// <summary>Number of elements.</summary>
    public long Length { get { long n = 1; foreach (int d in _shape) n *= d; return n; } }
    public long ByteLength => Length * DType.Size();

    /// <summary>Size of a dimension; negative indices count from the end.</summary>
    public int Dim(int d) => _shape[d < 0 ? d + Rank : d];

    public bool IsContiguous => ContiguousFrom(0);

    /// <summary>True when every dimension after the first is laid out contiguously (rows may have any stride).</summary>
    public bool InnerDimsContiguous => ContiguousFrom(1);

    /// <summary>
    /// Elements from one row (index of dimension 0) to the next, for views whose inner dimensions are contiguous: a column
    /// slice of a wider matrix reads in place at this stride. 0 for a scalar or an empty first dimension.
    /// </summary>
    public long RowStride => Rank == 0 || _shape[0] == 0 ? 0 : _shape[0] == 1 || IsContiguous ? Length / _shape[0] : _strides[0];

    // Dimensions firstDim.. are laid out row-major with no gaps (size-1 dimensions may have any stride).
    private bool ContiguousFrom(int firstDim)
    {
        long expect = 1;
        for (int i = Rank - 1; i >= firstDim; i--)
        {
            if (_shape[i] != 1 && _strides[i] != expect) return false;
            expect *= _shape[i];
        }
        return true;
    }

    // ---- creation (CPU) ----

    /// <summary>A zero-filled CPU tensor.</summary>
    public static Tensor Zeros(DType dtype, params int[] shape)
    {
        long n = 1; foreach (int d in shape) n *= d;
        return new Tensor(new NativeStorage(n * dtype.Size()), dtype, shape);
    }

    public static Tensor FromArray(float[] data, params int[] shape)
    {
        var t = Zeros(DType.F32, shape);
        if (data.Length != t.Length) throw new ArgumentException($"{data.Length} values do not fill shape {ShapeString(shape)}");
        data.CopyTo(t.Span<float>());
        return t;
    }

    public static Tensor FromArray(ushort[] data, DType dtype, params int[] shape)
    {
        var t = Zeros(dtype, shape);
        if (dtype.Size() != 2 || data.Length != t.Length) throw new ArgumentException("16-bit data does not match dtype/shape");
        data.CopyTo(t.Span<ushort>());
        return t;
    }

    // ---- views ----

    /// <summary>
    /// Same data, new shape (one -1 allowed). Requires a contiguous tensor, or one whose rows (dimension 0) are
    /// strided but each row contiguous, reshaped with dimension 0 kept (e.g. a column slice of a matrix split into heads).
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        if (!IsContiguous)
        {
            if (!InnerDimsContiguous || shape.Length == 0 || shape[0] != _shape[0] || Array.IndexOf(shape, -1) >= 0)
                throw new InvalidOperationException($"reshape of a non-contiguous tensor {this} to {ShapeString(shape)}");
            long rowLength = 1, newRowLength = 1;
            foreach (int d in _shape.AsSpan(1)) rowLength *= d;
            foreach (int d in shape.AsSpan(1)) newRowLength *= d;
            if (rowLength != newRowLength) throw new ArgumentException($"cannot reshape {this} to {ShapeString(shape)}");
            return new Tensor(Storage, DType, shape, [_strides[0], .. ContiguousStrides(shape.AsSpan(1))], Offset);
        }
        shape = (int[])shape.Clone();
        int infer = Array.IndexOf(shape, -1);
        long known = 1; for (int i = 0; i < shape.Length; i++) if (i != infer) known *= shape[i];
        if (infer >= 0) shape[infer] = known == 0 ? 0 : (int)(Length / known);
        long n = 1; foreach (int d in shape) n *= d;
        if (n != Length) throw new ArgumentException($"cannot reshape {this} to {ShapeString(shape)}");
        return new Tensor(Storage, DType, shape, null, Offset);
    }

    /// <summary>The slice [start, start+length) of dimension <paramref name="dim"/>, as a view.</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        if (dim < 0) dim += Rank;
        if (start < 0 || length < 0 || start + length > _shape[dim])
            throw new ArgumentOutOfRangeException(nameof(start), $"narrow [{start}, {start + length}) of dim {dim} of {this}");
        var shape = (int[])_shape.Clone(); shape[dim] = length;
        return new Tensor(Storage, DType, shape, _strides, Offset + start * _strides[dim]);
    }

    /// <summary>Swaps two dimensions, as a view.</summary>
    public Tensor Transpose(int a, int b)
    {
        if (a < 0) a += Rank; if (b < 0) b += Rank;
        var shape = (int[])_shape.Clone(); var strides = (long[])_strides.Clone();
        (shape[a], shape[b]) = (shape[b], shape[a]); (strides[a], strides[b]) = (strides[b], strides[a]);
        return new Tensor(Storage, DType, shape, strides, Offset);
    }

    /// <summary>Dimension <paramref name="dim"/> in reverse order, as a view (a negative stride; copy it with Contiguous).</summary>
    public Tensor Flip(int dim)
    {
        if (dim < 0) dim += Rank;
        if (dim < 0 || dim >= Rank) throw new ArgumentOutOfRangeException(nameof(dim), $"flip of dim {dim} of {this}");
        var strides = (long[])_strides.Clone();
        strides[dim] = -strides[dim];
        long offset = _shape[dim] == 0 ? Offset : Offset + (_shape[dim] - 1) * _strides[dim];
        return new Tensor(Storage, DType, _shape, strides, offset);
    }

    /// <summary>
    /// A new axis of <paramref name="count"/> inserted at <paramref name="dim"/> with stride 0: every index along it reads
    /// the same elements (a broadcast view; copy it with Contiguous). E.g. (T, Hkv, P).Expand(2, rep) → (T, Hkv, rep, P).
    /// </summary>
    public Tensor Expand(int dim, int count)
    {
        if (dim < 0 || dim > Rank || count <= 0) throw new ArgumentException($"cannot insert a broadcast axis of {count} at {dim} of {this}");
        return new Tensor(Storage, DType, [.. _shape[..dim], count, .. _shape[dim..]], [.. _strides[..dim], 0, .. _strides[dim..]], Offset);
    }

    /// <summary>Reorders the dimensions, as a view: result dim i is this tensor's dim order[i].</summary>
    public Tensor Permute(params int[] order)
    {
        if (order.Length != Rank || order.Distinct().Count() != Rank || order.Any(d => d < 0 || d >= Rank))
            throw new ArgumentException($"permute of {this} by ({string.Join(", ", order)}): not a permutation of its {Rank} dims");
        return new Tensor(Storage, DType, order.Select(d => _shape[d]).ToArray(), order.Select(d => _strides[d]).ToArray(), Offset);
    }

    /// <summary>
    /// Splits dimension <paramref name="dim"/> into <paramref name="sizes"/> (their product must be its size), as a view.
    /// Works on any strides, unlike a general reshape: e.g. (C, H, W) → (C, H/p, p, W) for patches.
    /// </summary>
    public Tensor SplitDim(int dim, params int[] sizes)
    {
        if (dim < 0) dim += Rank;
        long product = 1; foreach (int n in sizes) product *= n;
        if (dim < 0 || dim >= Rank || sizes.Length == 0 || product != _shape[dim] || sizes.Any(n => n <= 0))
            throw new ArgumentException($"cannot split dim {dim} of {this} into {ShapeString(sizes)}");
        var strides = new long[sizes.Length];
        long stride = _strides[dim];
        for (int i = sizes.Length - 1; i >= 0; i--) { strides[i] = stride; stride *= sizes[i]; }
        return new Tensor(Storage, DType, [.. _shape[..dim], .. sizes, .. _shape[(dim + 1)..]],
            [.. _strides[..dim], .. strides, .. _strides[(dim + 1)..]], Offset);
    }

    /// <summary>Frees this tensor's native memory now (into the block pool); a no-op for mapped or other storage.</summary>
    public void ReleaseNative()
    {
        if (Storage is NativeStorage native) native.Dispose();
    }

    // ---- CPU data access ----

    /// <summary>Pointer to element [0,...,0]. CPU tensors only.</summary>
    public void* DataPointer => CpuStorage.Pointer + Offset * DType.Size();

    /// <summary>The elements of a contiguous CPU tensor.</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        if (!IsContiguous) throw new InvalidOperationException($"Span of a non-contiguous tensor {this}");
        if (sizeof(T) != DType.Size()) throw new InvalidOperationException($"Span<{typeof(T).Name}> of a {DType} tensor");
        if (Length > int.MaxValue) throw new InvalidOperationException($"tensor {this} is too large for a span");
        return new Span<T>(DataPointer, (int)Length);
    }

    /// <summary>
    /// A contiguous CPU copy with the same dtype (this tensor itself when already contiguous). Copies whole runs of
    /// the innermost contiguous dimensions at once, so column slices of wide matrices cost one memcpy per row.
    /// </summary>
    public Tensor ContiguousCopy()
    {
        if (IsContiguous) return this;
        var dst = Zeros(DType, _shape);
        CopyRuns((byte*)dst.DataPointer, toView: false);
        return dst;
    }

    /// <summary>
    /// Copies <paramref name="source"/> (same shape, any strides; converted first when the float types differ, e.g. F32
    /// rounded into a BF16 cache) into this tensor, which may be a view: one memcpy per run of contiguous innermost elements.
    /// </summary>
    public void CopyFrom(Tensor source)
    {
        if (!source.Shape.SequenceEqual(Shape))
            throw new ArgumentException($"cannot copy {source} into {this}: shapes differ");
        var src = source.DType == DType ? source.ContiguousCopy() : source.ToDType(DType);
        CopyRuns((byte*)src.DataPointer, toView: true);
        GC.KeepAlive(src);
    }

    /// <summary>
    /// Moves this view's elements to or from a row-major buffer: trailing dims laid out contiguously merge into runs of
    /// `run` elements, one memcpy each; <paramref name="toView"/> writes the buffer into the view, else reads it out.
    /// </summary>
    private void CopyRuns(byte* contiguous, bool toView)
    {
        int esz = DType.Size();
        int inner = Rank; long run = 1;
        while (inner > 0 && (_shape[inner - 1] == 1 || _strides[inner - 1] == run)) { run *= _shape[inner - 1]; inner--; }
        long runBytes = run * esz, rows = run == 0 ? 0 : Length / run;
        var idx = new int[inner];
        byte* view = CpuStorage.Pointer;
        for (long r = 0; r < rows; r++)
        {
            long off = Offset; for (int d = 0; d < inner; d++) off += idx[d] * _strides[d];
            if (toView) Buffer.MemoryCopy(contiguous + r * runBytes, view + off * esz, runBytes, runBytes);
            else Buffer.MemoryCopy(view + off * esz, contiguous + r * runBytes, runBytes, runBytes);
            for (int d = inner - 1; d >= 0; d--) { if (++idx[d] < _shape[d]) break; idx[d] = 0; }
        }
    }

    /// <summary>A contiguous F32 copy of any float tensor (CPU), following strides.</summary>
    public float[] ToFloatArray()
    {
        var result = new float[Length];
        var idx = new int[Rank];
        for (long i = 0; i < result.Length; i++)
        {
            long off = Offset; for (int d = 0; d < Rank; d++) off += idx[d] * _strides[d];
            result[i] = ReadFloat(off);
            for (int d = Rank - 1; d >= 0; d--) { if (++idx[d] < _shape[d]) break; idx[d] = 0; }
        }
        return result;
    }

    /// <summary>A contiguous CPU copy converted to <paramref name="dtype"/> (float types only).</summary>
    public Tensor ToDType(DType dtype)
    {
        if (dtype == DType && IsContiguous) return this;
        float[] values = ToFloatArray();
        var t = Zeros(dtype, _shape);
        switch (dtype)
        {
            case DType.F32: values.CopyTo(t.Span<float>()); break;
            case DType.BF16: { var s = t.Span<ushort>(); for (int i = 0; i < s.Length; i++) s[i] = Half16.FloatToBF16(values[i]); break; }
            case DType.F16: { var s = t.Span<ushort>(); for (int i = 0; i < s.Length; i++) s[i] = Half16.FloatToF16(values[i]); break; }
            default: throw new NotSupportedException($"conversion to {dtype}");
        }
        return t;
    }

    private float ReadFloat(long elementIndex)
    {
        byte* p = CpuStorage.Pointer;
        return DType switch
        {
            DType.F32 => ((float*)p)[elementIndex],
            DType.BF16 => Half16.BF16ToFloat(((ushort*)p)[elementIndex]),
            DType.F16 => Half16.F16ToFloat(((ushort*)p)[elementIndex]),
            DType.F64 => (float)((double*)p)[elementIndex],
            DType.I32 => ((int*)p)[elementIndex],
            DType.I64 => ((long*)p)[elementIndex],
            DType.U8 or DType.Bool => p[elementIndex],
            _ => throw new NotSupportedException(DType.ToString()),
        };
    }

    private CpuStorage CpuStorage => Storage as CpuStorage
        ?? throw new InvalidOperationException($"tensor on {Device} accessed from the CPU; copy it to the host through its backend");

    private long MaxIndex()
    {
        long m = 0; for (int i = 0; i < Rank; i++) if (_shape[i] > 0) m += (_shape[i] - 1) * _strides[i];
        return m;
    }

    public static long[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var s = new long[shape.Length]; long acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    public static string ShapeString(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
    public override string ToString() => $"Tensor{ShapeString(_shape)} {DType} on {Device}";
}
