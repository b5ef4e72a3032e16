// cuBLASLt (versions 13 and 12), the GEMM library: the handful of calls a plain matmul needs (descriptors, layouts, a
// heuristic algorithm choice, the matmul), bound as function pointers like the driver API and checked the same way.
using System.Runtime.InteropServices;

namespace MambaVL.Cuda.Interop;

internal static class CudaDataType { public const int F32 = 0, F16 = 2, BF16 = 14; }

/// <summary>cublasLtMatmulHeuristicResult_t: the algorithm (64 opaque bytes), its workspace, status and wave count.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MatmulHeuristicResult
{
    public fixed ulong Algo[8];
    public nuint WorkspaceSize;
    public int State;
    public float WavesCount;
    public fixed int Reserved[4];
}

internal sealed unsafe class CublasLtApi
{
    public const int ComputeF32 = 68, OpN = 0, OpT = 1, DescTransA = 3, DescTransB = 4, PrefMaxWorkspaceBytes = 1;

    public readonly delegate* unmanaged<nint*, int> cublasLtCreate;
    public readonly delegate* unmanaged<nint*, int, int, int> cublasLtMatmulDescCreate;
    public readonly delegate* unmanaged<nint, int> cublasLtMatmulDescDestroy;
    public readonly delegate* unmanaged<nint, int, void*, nuint, int> cublasLtMatmulDescSetAttribute;
    public readonly delegate* unmanaged<nint*, int, ulong, ulong, long, int> cublasLtMatrixLayoutCreate;
    public readonly delegate* unmanaged<nint, int> cublasLtMatrixLayoutDestroy;
    public readonly delegate* unmanaged<nint*, int> cublasLtMatmulPreferenceCreate;
    public readonly delegate* unmanaged<nint, int> cublasLtMatmulPreferenceDestroy;
    public readonly delegate* unmanaged<nint, int, void*, nuint, int> cublasLtMatmulPreferenceSetAttribute;
    public readonly delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, MatmulHeuristicResult*, int*, int> cublasLtMatmulAlgoGetHeuristic;
    public readonly delegate* unmanaged<nint, nint, void*, void*, nint, void*, nint, void*, void*, nint, void*, nint, void*, void*, nuint, nint, int> cublasLtMatmul;
    public readonly delegate* unmanaged<int, byte*> cublasLtGetStatusString;

    public CublasLtApi()
    {
        string[] names = OperatingSystem.IsWindows() ? ["cublasLt64_13.dll", "cublasLt64_12.dll"] : ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"];
        nint lib = CudaLibraries.Load("cuBLASLt", names);
        nint F(string name) => CudaLibraries.Symbol(lib, "cuBLASLt", name);
        cublasLtCreate = (delegate* unmanaged<nint*, int>)F("cublasLtCreate");
        cublasLtMatmulDescCreate = (delegate* unmanaged<nint*, int, int, int>)F("cublasLtMatmulDescCreate");
        cublasLtMatmulDescDestroy = (delegate* unmanaged<nint, int>)F("cublasLtMatmulDescDestroy");
        cublasLtMatmulDescSetAttribute = (delegate* unmanaged<nint, int, void*, nuint, int>)F("cublasLtMatmulDescSetAttribute");
        cublasLtMatrixLayoutCreate = (delegate* unmanaged<nint*, int, ulong, ulong, long, int>)F("cublasLtMatrixLayoutCreate");
        cublasLtMatrixLayoutDestroy = (delegate* unmanaged<nint, int>)F("cublasLtMatrixLayoutDestroy");
        cublasLtMatmulPreferenceCreate = (delegate* unmanaged<nint*, int>)F("cublasLtMatmulPreferenceCreate");
        cublasLtMatmulPreferenceDestroy = (delegate* unmanaged<nint, int>)F("cublasLtMatmulPreferenceDestroy");
        cublasLtMatmulPreferenceSetAttribute = (delegate* unmanaged<nint, int, void*, nuint, int>)F("cublasLtMatmulPreferenceSetAttribute");
        cublasLtMatmulAlgoGetHeuristic = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, MatmulHeuristicResult*, int*, int>)F("cublasLtMatmulAlgoGetHeuristic");
        cublasLtMatmul = (delegate* unmanaged<nint, nint, void*, void*, nint, void*, nint, void*, void*, nint, void*, nint, void*, void*, nuint, nint, int>)F("cublasLtMatmul");
        cublasLtGetStatusString = (delegate* unmanaged<int, byte*>)F("cublasLtGetStatusString");
    }

    public void Check(int status, string call)
    {
        if (status != 0) throw new CudaException(call, status, $"{call} failed: {Marshal.PtrToStringUTF8((nint)cublasLtGetStatusString(status))} ({status})");
    }
}
