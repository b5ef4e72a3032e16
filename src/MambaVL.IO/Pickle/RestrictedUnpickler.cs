// A pickle reader that never executes anything. A pickle is a program for a small stack machine: opcodes push
// values, build containers, name globals (module.name) and call them (REDUCE/NEWOBJ). Here every global must be on
// the caller's allow-list, and "calling" one runs the C# function the allow-list gave; anything else is refused.
using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using MambaVL.Core.Weights;

namespace MambaVL.IO.Pickle;

public sealed class RestrictedUnpickler
{
    private readonly string _file;
    private readonly Func<string, string, object?> _resolveGlobal;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly Action<object?, object?> _buildOther;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private byte[] _data = [];
    private int _pos;

    /// <param name="file">Named in every error.</param>
    /// <param name="resolveGlobal">The allow-list: an object for module.name, or null to refuse it.</param>
    /// <param name="persistentLoad">Turns a persistent id (BINPERSID) into a value, e.g. a storage reference.</param>
    /// <param name="buildOther">Applies BUILD state to a value that is not a dict (throw to refuse).</param>
    public RestrictedUnpickler(string file, Func<string, string, object?> resolveGlobal, Func<object?, object?> persistentLoad,
        Action<object?, object?>? buildOther = null)
    {
        (_file, _resolveGlobal, _persistentLoad) = (file, resolveGlobal, persistentLoad);
        _buildOther = buildOther ?? ((target, _) => throw Fail($"cannot set the state of {Describe(target)}"));
    }

    /// <summary>Runs the pickle program in <paramref name="data"/> and returns the value it produced.</summary>
    public object? Load(byte[] data)
    {
        (_data, _pos) = (data, 0);
        _stack.Clear(); _marks.Clear(); _memo.Clear();
        while (true)
        {
            if (_pos >= _data.Length) throw Fail("ends without STOP (truncated)");
            byte op = _data[_pos++];
            if (op == (byte)'.') return Pop();
            Step(op);
        }
    }

    private void Step(byte op)
    {
        switch (op)
        {
            case 0x80: if (Byte() > 5) throw Fail("unsupported pickle protocol"); break;     // PROTO
            case 0x95: Take(8); break;                                                       // FRAME: a length hint only
            case (byte)'(': _marks.Push(_stack.Count); break;                                // MARK
            case (byte)'0': if (AtMarkFloor()) PopMark(); else Pop(); break;                 // POP (of a bare MARK too)
            case (byte)'1': PopMark(); break;                                                // POP_MARK
            case (byte)'2': Push(Peek()); break;                                             // DUP
            case (byte)'N': Push(null); break;
            case 0x88: Push(true); break;
            case 0x89: Push(false); break;
            case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;   // BININT
            case (byte)'K': Push((long)Byte()); break;                                           // BININT1
            case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
            case 0x8a: Push(Long(Byte())); break;                                                // LONG1
            case 0x8b: Push(Long(Length(4))); break;                                             // LONG4
            case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;          // BINFLOAT
            case (byte)'X': Push(Utf8(Take(Length(4)))); break;                                  // BINUNICODE
            case 0x8c: Push(Utf8(Take(Byte()))); break;                                          // SHORT_BINUNICODE
            case 0x8d: Push(Utf8(Take(Length(8)))); break;                                       // BINUNICODE8
            case (byte)'T': Push(Encoding.Latin1.GetString(Take(Length(4)))); break;             // BINSTRING (py2 str)
            case (byte)'U': Push(Encoding.Latin1.GetString(Take(Byte()))); break;                // SHORT_BINSTRING
            case (byte)'B': Push(Take(Length(4)).ToArray()); break;                              // BINBYTES
            case (byte)'C': Push(Take(Byte()).ToArray()); break;                                 // SHORT_BINBYTES
            case 0x8e: Push(Take(Length(8)).ToArray()); break;                                   // BINBYTES8
            default: StepStructure(op); break;
        }
    }

    private void StepStructure(byte op)
    {
        switch (op)
        {
            case (byte)'}': Push(new PyDict()); break;                                   // EMPTY_DICT
            case (byte)']': Push(new PyList()); break;                                   // EMPTY_LIST
            case (byte)')': Push(new PyTuple([])); break;                                // EMPTY_TUPLE
            case (byte)'t': Push(new PyTuple(PopMark())); break;                         // TUPLE
            case 0x85: Push(new PyTuple(PopN(1))); break;                                // TUPLE1
            case 0x86: Push(new PyTuple(PopN(2))); break;                                // TUPLE2
            case 0x87: Push(new PyTuple(PopN(3))); break;                                // TUPLE3
            case (byte)'l': { var l = new PyList(); l.Items.AddRange(PopMark()); Push(l); break; }  // LIST
            case (byte)'d': { var d = new PyDict(); SetItems(d, PopMark()); Push(d); break; }        // DICT
            case (byte)'a': { var v = Pop(); TopList().Items.Add(v); break; }                      // APPEND
            case (byte)'e': { var vs = PopMark(); TopList().Items.AddRange(vs); break; }           // APPENDS
            case (byte)'s': { var v = Pop(); var k = Pop(); TopDict().Set(k, v); break; }          // SETITEM
            case (byte)'u': { var kv = PopMark(); SetItems(TopDict(), kv); break; }                // SETITEMS
            case (byte)'c': Push(Global(Line(), Line())); break;                                   // GLOBAL
            case 0x93: { var name = PopString(); Push(Global(PopString(), name)); break; }         // STACK_GLOBAL
            case (byte)'R': { var args = PopTuple(); Push(Call(Pop(), args)); break; }             // REDUCE
            case 0x81: { var args = PopTuple(); Push(Call(Pop(), args)); break; }                  // NEWOBJ
            case 0x92: NewObjEx(); break;                                                          // NEWOBJ_EX
            case (byte)'b': { var state = Pop(); Build(Peek(), state); break; }                    // BUILD
            case (byte)'Q': Push(_persistentLoad(Pop())); break;                                   // BINPERSID
            default: StepMemo(op); break;
        }
    }

    private void StepMemo(byte op)
    {
        switch (op)
        {
            case (byte)'q': _memo[Byte()] = Peek(); break;                                // BINPUT
            case (byte)'r': _memo[Length(4)] = Peek(); break;                             // LONG_BINPUT
            case 0x94: _memo[_memo.Count] = Peek(); break;                                // MEMOIZE
            case (byte)'p': _memo[Decimal(Line())] = Peek(); break;                       // PUT
            case (byte)'h': Push(Memo(Byte())); break;                                    // BINGET
            case (byte)'j': Push(Memo(Length(4))); break;                                 // LONG_BINGET
            case (byte)'g': Push(Memo(Decimal(Line()))); break;                           // GET
            default: throw Fail($"unsupported pickle opcode 0x{op:x2}" + (op >= 0x20 && op < 0x7f ? $" ('{(char)op}')" : ""));
        }
    }

    // ---- globals and calls: the only places where a pickle could otherwise run code ----

    private object? Global(string module, string name) => _resolveGlobal(module, name)
        ?? throw new ModelLoadException(
            $"refusing to load global {module}.{name} from {_file}: pickles can run code; only tensors and plain containers are allowed");

    private object? Call(object? callable, PyTuple args) => callable is PyCallable c ? c.Call(args.Items)
        : throw Fail($"cannot call {Describe(callable)}");

    private void NewObjEx()
    {
        var kwargs = Pop();
        var args = PopTuple();
        if (kwargs is not PyDict { Count: 0 }) throw Fail("keyword arguments to a constructor are not supported");
        Push(Call(Pop(), args));
    }

    private void Build(object? target, object? state)
    {
        if (target is not PyDict dict) { _buildOther(target, state); return; }
        // state is the instance __dict__, or (dict, slots) for objects with __slots__
        var parts = state is PyTuple { Count: 2 } t ? t.Items : [state];
        foreach (var part in parts)
        {
            if (part is null) continue;
            if (part is not PyDict attrs) throw Fail($"cannot set the state of a dict from {Describe(part)}");
            foreach (var (k, v) in attrs.Entries)
                dict.Attributes[k as string ?? throw Fail("attribute name is not a string")] = v;
        }
    }

    // ---- stack ----

    private void Push(object? v) => _stack.Add(v);

    private bool AtMarkFloor() => _marks.Count > 0 && _stack.Count == _marks.Peek();

    private object? Pop()
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count <= floor) throw Fail("stack underflow");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek()
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        return _stack.Count > floor ? _stack[^1] : throw Fail("stack underflow");
    }

    private object?[] PopN(int n)
    {
        var items = new object?[n];
        for (int i = n - 1; i >= 0; i--) items[i] = Pop();
        return items;
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw Fail("no MARK on the stack");
        int at = _marks.Pop();
        var items = _stack.GetRange(at, _stack.Count - at).ToArray();
        _stack.RemoveRange(at, _stack.Count - at);
        return items;
    }

    private PyTuple PopTuple() => Pop() as PyTuple ?? throw Fail("expected a tuple of arguments");
    private string PopString() => Pop() as string ?? throw Fail("expected a string");
    private PyList TopList() => Peek() as PyList ?? throw Fail("APPEND to something that is not a list");
    private PyDict TopDict() => Peek() as PyDict ?? throw Fail("SETITEM on something that is not a dict");

    private void SetItems(PyDict d, object?[] kv)
    {
        if (kv.Length % 2 != 0) throw Fail("odd number of items for a dict");
        for (int i = 0; i < kv.Length; i += 2) d.Set(kv[i], kv[i + 1]);
    }

    private object? Memo(long key) => _memo.TryGetValue(key, out var v) ? v : throw Fail($"memo key {key} was never stored");

    // ---- operand decoding ----

    private byte Byte() => Take(1)[0];

    private ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || n > _data.Length - _pos) throw Fail($"truncated: needs {n} more bytes");
        var s = _data.AsSpan(_pos, (int)n);
        _pos += (int)n;
        return s;
    }

    private long Length(int bytes)
    {
        ulong n = bytes == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4)) : BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        return n <= int.MaxValue ? (long)n : throw Fail($"length {n} is larger than the pickle");
    }

    // LONG1/LONG4: little-endian two's complement of n bytes; kept as long when it fits.
    private object Long(long n)
    {
        var v = new BigInteger(Take(n), isUnsigned: false, isBigEndian: false);
        return v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v;
    }

    private string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Fail("truncated: unterminated text operand");
        return Utf8(Take(end - _pos + 1)[..^1]);
    }

    private long Decimal(string s) => long.TryParse(s, System.Globalization.NumberStyles.None, null, out long v) ? v
        : throw Fail($"bad memo key '{s}'");

    private string Utf8(ReadOnlySpan<byte> b)
    {
        try { return StrictUtf8.GetString(b); }
        catch (DecoderFallbackException) { throw Fail("string is not valid UTF-8"); }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private ModelLoadException Fail(string what) => new($"{_file}: corrupt or unsupported pickle at byte {_pos}: {what}");

    /// <summary>A short description of a pickle value for error messages (never recursive).</summary>
    public static string Describe(object? v) => v switch
    {
        null => "None",
        string s => $"the string '{(s.Length > 40 ? s[..40] + "..." : s)}'",
        PyCallable c => c.QualifiedName,
        PyTuple t => $"a tuple of {t.Count}",
        PyList => "a list",
        PyDict => "a dict",
        _ => $"a {v.GetType().Name}",
    };
}
