// Element types a tensor can hold. Math is F32; F16/BF16 are storage formats for weights.
namespace MambaVL.Core.Tensors;

public enum DType { F32, F16, BF16, F64, I32, I64, U8, Bool }

public static class DTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this DType t) => t switch
    {
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 => 2,
        DType.F64 or DType.I64 => 8,
        DType.U8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>The safetensors spelling ("F32", "BF16", ...).</summary>
    public static string SafetensorsName(this DType t) => t switch
    {
        DType.F32 => "F32", DType.F16 => "F16", DType.BF16 => "BF16", DType.F64 => "F64",
        DType.I32 => "I32", DType.I64 => "I64", DType.U8 => "U8", DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    public static DType? FromSafetensorsName(string s) => s switch
    {
        "F32" => DType.F32, "F16" => DType.F16, "BF16" => DType.BF16, "F64" => DType.F64,
        "I32" => DType.I32, "I64" => DType.I64, "U8" => DType.U8, "BOOL" => DType.Bool,
        _ => null,
    };

    /// <summary>Parses a user-facing name such as "f32", "bf16", "fp16".</summary>
    public static DType Parse(string s) => s.ToLowerInvariant() switch
    {
        "f32" or "fp32" or "float32" => DType.F32,
        "f16" or "fp16" or "float16" or "half" => DType.F16,
        "bf16" or "bfloat16" => DType.BF16,
        _ => throw new ArgumentException($"unknown dtype '{s}' (expected f32, f16 or bf16)"),
    };

    public static bool IsFloat(this DType t) => t is DType.F32 or DType.F16 or DType.BF16 or DType.F64;
}
