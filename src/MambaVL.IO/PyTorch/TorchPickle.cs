// What torch.save puts in data.pkl, rebuilt without Python: tensors are REDUCE calls of
// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...) whose storage is a persistent id
// ('storage', torch.FloatStorage, key, location, numel) naming the zip entry data/<key>. The allow-list is here.
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.Pickle;

namespace MambaVL.IO.PyTorch;

/// <summary>A storage class named in the pickle (torch.FloatStorage ...); <see cref="DType"/> is null when MambaVL has no such dtype.</summary>
internal sealed record TorchStorageType(string Name, DType? DType);

/// <summary>A torch.dtype named in the pickle (torch.float16 ...), as _rebuild_tensor_v3 takes; <see cref="DType"/> is null when unsupported.</summary>
internal sealed record TorchDTypeRef(string Name, DType? DType);

/// <summary>The bytes of zip entry data/<see cref="Key"/>, read as <see cref="Numel"/> elements of <see cref="DType"/>.</summary>
internal sealed record TorchStorageRef(string Key, DType DType, long Numel);

/// <summary>A tensor as torch describes it: a strided view (offsets and strides in elements) of a storage.</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, int[] Shape, long[] Strides);

/// <summary>The allow-list of globals a torch.save pickle may name, and what each one builds.</summary>
internal sealed class TorchPickle(string file)
{
    private static readonly Dictionary<string, DType?> StorageTypes = new()
    {
        ["FloatStorage"] = DType.F32, ["HalfStorage"] = DType.F16, ["BFloat16Storage"] = DType.BF16, ["DoubleStorage"] = DType.F64,
        ["LongStorage"] = DType.I64, ["IntStorage"] = DType.I32, ["ByteStorage"] = DType.U8, ["BoolStorage"] = DType.Bool,
        ["UntypedStorage"] = DType.U8,
        ["ShortStorage"] = null, ["CharStorage"] = null, ["ComplexFloatStorage"] = null, ["ComplexDoubleStorage"] = null,
        ["QInt8Storage"] = null, ["QUInt8Storage"] = null, ["QInt32Storage"] = null,
    };

    private static readonly Dictionary<string, DType?> DTypes = new()
    {
        ["float32"] = DType.F32, ["float"] = DType.F32, ["float16"] = DType.F16, ["half"] = DType.F16, ["bfloat16"] = DType.BF16,
        ["float64"] = DType.F64, ["double"] = DType.F64, ["int64"] = DType.I64, ["long"] = DType.I64, ["int32"] = DType.I32,
        ["int"] = DType.I32, ["uint8"] = DType.U8, ["bool"] = DType.Bool,
        ["int8"] = null, ["int16"] = null, ["short"] = null, ["uint16"] = null, ["uint32"] = null, ["uint64"] = null,
        ["float8_e4m3fn"] = null, ["float8_e5m2"] = null, ["complex64"] = null, ["complex128"] = null,
    };

    /// <summary>Reads a data.pkl; refuses any global that is not on the allow-list.</summary>
    public object? Load(byte[] pickle) =>
        new RestrictedUnpickler(file, Resolve, PersistentLoad, BuildTensorState).Load(pickle);

    private object? Resolve(string module, string name) => (module, name) switch
    {
        ("collections", "OrderedDict") => new PyCallable("collections.OrderedDict", NewOrderedDict),
        ("torch._utils", "_rebuild_tensor_v2") => new PyCallable("torch._utils._rebuild_tensor_v2", a => RebuildTensor(a, 6, 7)),
        ("torch._utils", "_rebuild_tensor") => new PyCallable("torch._utils._rebuild_tensor", a => RebuildTensor(a, 4, 4)),
        ("torch._utils", "_rebuild_tensor_v3") => new PyCallable("torch._utils._rebuild_tensor_v3", RebuildTensorV3),
        ("torch._utils", "_rebuild_parameter") => new PyCallable("torch._utils._rebuild_parameter", a => RebuildParameter(a, 3)),
        ("torch._utils", "_rebuild_parameter_with_state") => new PyCallable("torch._utils._rebuild_parameter_with_state", a => RebuildParameter(a, 4)),
        ("torch", "Size") => new PyCallable("torch.Size", a => Arg<PyTuple>(a, 0, 1, "torch.Size")),
        ("_codecs", "encode") => new PyCallable("_codecs.encode", EncodeLatin1),
        ("torch", _) when StorageTypes.TryGetValue(name, out var dtype) => new TorchStorageType("torch." + name, dtype),
        ("torch", _) when DTypes.TryGetValue(name, out var dtype) => new TorchDTypeRef("torch." + name, dtype),
        _ => null,
    };

    // persistent id: ('storage', storage_type, key, location, numel)
    private object? PersistentLoad(object? id)
    {
        if (id is not PyTuple { Count: 5 } t || t[0] is not "storage")
            throw Bad($"unknown persistent id {RestrictedUnpickler.Describe(id)}; expected ('storage', type, key, location, numel)");
        var type = t[1] as TorchStorageType ?? throw Bad($"storage type is {RestrictedUnpickler.Describe(t[1])}");
        if (type.DType is not DType dtype) throw Bad($"storage type {type.Name} is not supported");
        var key = t[2] as string ?? throw Bad("storage key is not a string");
        if (t[4] is not long numel || numel < 0) throw Bad($"storage '{key}' has a bad element count");
        return new TorchStorageRef(key, dtype, numel);
    }

    private PyDict NewOrderedDict(object?[] args) => args.Length == 0 ? new PyDict()
        : throw Bad("collections.OrderedDict with initial items is not supported");

    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    private TorchTensorRef RebuildTensor(object?[] a, int minArgs, int maxArgs)
    {
        const string fn = "torch._utils._rebuild_tensor_v2";
        if (a.Length < minArgs || a.Length > maxArgs) throw Bad($"{fn} called with {a.Length} arguments");
        var storage = Arg<TorchStorageRef>(a, 0, a.Length, fn);
        if (a[1] is not long offset || offset < 0) throw Bad($"{fn}: bad storage offset");
        long[] size = Longs(Arg<PyTuple>(a, 2, a.Length, fn), "size");
        long[] stride = Longs(Arg<PyTuple>(a, 3, a.Length, fn), "stride");
        if (size.Length != stride.Length) throw Bad($"{fn}: size has rank {size.Length} but stride has rank {stride.Length}");
        var shape = new int[size.Length];
        long lastIndex = offset, numel = 1;
        try
        {
            for (int d = 0; d < size.Length; d++)
            {
                if (size[d] > int.MaxValue || stride[d] < 0) throw Bad($"{fn}: dimension {d} has size {size[d]} and stride {stride[d]}");
                shape[d] = (int)size[d];
                numel = checked(numel * size[d]);
                if (size[d] > 0) lastIndex = checked(lastIndex + (size[d] - 1) * stride[d]);
            }
        }
        catch (OverflowException) { throw Bad($"{fn}: size {Tensor.ShapeString(shape)} overflows"); }
        if (numel > 0 && lastIndex >= storage.Numel)
            throw Bad($"tensor of size {Tensor.ShapeString(shape)} at offset {offset} reaches element {lastIndex} of storage '{storage.Key}', which has {storage.Numel}");
        return new TorchTensorRef(storage, offset, shape, stride);
    }

    // _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata]):
    // an untyped (byte) storage read as `dtype`; torch >= 2.3 writes it for dtypes without a legacy storage class.
    private TorchTensorRef RebuildTensorV3(object?[] a)
    {
        if (a.Length is < 7 or > 8) throw Bad($"torch._utils._rebuild_tensor_v3 called with {a.Length} arguments");
        var bytes = Arg<TorchStorageRef>(a, 0, a.Length, "torch._utils._rebuild_tensor_v3");
        var dtypeRef = Arg<TorchDTypeRef>(a, 6, a.Length, "torch._utils._rebuild_tensor_v3");
        if (dtypeRef.DType is not DType dtype) throw Bad($"dtype {dtypeRef.Name} is not supported");
        if (bytes.Numel > long.MaxValue / 8) throw Bad($"storage '{bytes.Key}' is impossibly large");
        var typed = new TorchStorageRef(bytes.Key, dtype, bytes.Numel * bytes.DType.Size() / dtype.Size());
        return RebuildTensor([typed, .. a[1..6]], 6, 6);
    }

    // _rebuild_parameter(data, requires_grad, backward_hooks[, state]): a Parameter is its tensor
    private TorchTensorRef RebuildParameter(object?[] a, int count) =>
        a.Length == count ? Arg<TorchTensorRef>(a, 0, count, "torch._utils._rebuild_parameter")
            : throw Bad($"torch._utils._rebuild_parameter called with {a.Length} arguments");

    // protocol 2 writes bytes as _codecs.encode(str, 'latin1')
    private byte[] EncodeLatin1(object?[] a)
    {
        if (a.Length != 2 || a[0] is not string s || a[1] is not ("latin1" or "latin-1"))
            throw Bad("_codecs.encode is allowed only as encode(str, 'latin1')");
        if (s.Any(c => c > 0xFF)) throw Bad("_codecs.encode: character outside latin-1");
        return System.Text.Encoding.Latin1.GetBytes(s);
    }

    // BUILD on a tensor sets Python attributes (none matter for weights); anything else is refused.
    private void BuildTensorState(object? target, object? state)
    {
        if (target is not TorchTensorRef) throw Bad($"cannot set the state of {RestrictedUnpickler.Describe(target)}");
    }

    private T Arg<T>(object?[] a, int i, int count, string fn) where T : class =>
        a.Length == count && a[i] is T v ? v : throw Bad($"{fn}: argument {i} is {(i < a.Length ? RestrictedUnpickler.Describe(a[i]) : "missing")}");

    private long[] Longs(PyTuple t, string what) =>
        t.Items.Select(x => x is long v ? v : throw Bad($"{what} holds {RestrictedUnpickler.Describe(x)}, not an integer")).ToArray();

    private ModelLoadException Bad(string what) => new($"{file}: unsupported or corrupt checkpoint: {what}");
}
