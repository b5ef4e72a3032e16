// y (M, N) = x (M, K) · w (N, K)ᵀ through cuBLASLt with FP32 accumulation: F32 weights run as a plain FP32 GEMM (no
// TF32), BF16 weights with x rounded to BF16 first (cuBLAS takes both inputs in one type). Row-major y is column-major
// yᵀ = w·xᵀ, so w goes in as A transposed and x as B. Layouts and the chosen algorithm are kept per shape.
using MambaVL.Core.Tensors;
using MambaVL.Cuda.Interop;

namespace MambaVL.Cuda;

public sealed unsafe class CudaGemm : IDisposable
{
    private const long WorkspaceBytes = 32L << 20;
    private readonly CudaDevice _device;
    private readonly CublasLtApi _lt = new();
    private readonly nint _handle;
    private readonly DeviceBuffer _workspace;
    private readonly Dictionary<(int, int, int, long, DType), Plan> _plans = [];

    private sealed class Plan
    {
        public nint Desc, A, B, C;
        public MatmulHeuristicResult Heuristic;
    }

    public CudaGemm(CudaDevice device)
    {
        _device = device;
        device.MakeCurrent();
        nint handle;
        _lt.Check(_lt.cublasLtCreate(&handle), "cublasLtCreate");
        _handle = handle;
        _workspace = device.Allocate(WorkspaceBytes);
    }

    /// <summary>
    /// y = x·wᵀ on device addresses: x (M, K) in <paramref name="weightType"/> (callers round F32 activations to BF16 for
    /// BF16 weights) with rows <paramref name="ldx"/> ≥ K elements apart (a column slice reads in place), w (N, K)
    /// contiguous in <paramref name="weightType"/>, y (M, N) contiguous F32.
    /// </summary>
    public void MatMul(ulong x, long ldx, ulong w, ulong y, int m, int n, int k, DType weightType)
    {
        _device.MakeCurrent();
        var plan = PlanFor(m, n, k, ldx, weightType);
        float alpha = 1, beta = 0;
        var algo = plan.Heuristic;
        _lt.Check(_lt.cublasLtMatmul(_handle, plan.Desc, &alpha, (void*)w, plan.A, (void*)x, plan.B, &beta,
            (void*)y, plan.C, (void*)y, plan.C, algo.Algo, (void*)_workspace.Pointer, (nuint)WorkspaceBytes, _device.Stream), "cublasLtMatmul");
    }

    private Plan PlanFor(int m, int n, int k, long ldx, DType weightType)
    {
        if (_plans.TryGetValue((m, n, k, ldx, weightType), out var plan)) return plan;
        int type = weightType switch
        {
            DType.F32 => CudaDataType.F32,
            DType.BF16 => CudaDataType.BF16,
            DType.F16 => CudaDataType.F16,
            _ => throw new NotSupportedException($"GEMM weights of {weightType}"),
        };
        plan = new Plan();
        nint desc, a, b, c, pref;
        _lt.Check(_lt.cublasLtMatmulDescCreate(&desc, CublasLtApi.ComputeF32, CudaDataType.F32), "cublasLtMatmulDescCreate");
        int opT = CublasLtApi.OpT, opN = CublasLtApi.OpN;
        _lt.Check(_lt.cublasLtMatmulDescSetAttribute(desc, CublasLtApi.DescTransA, &opT, sizeof(int)), "cublasLtMatmulDescSetAttribute(TRANSA)");
        _lt.Check(_lt.cublasLtMatmulDescSetAttribute(desc, CublasLtApi.DescTransB, &opN, sizeof(int)), "cublasLtMatmulDescSetAttribute(TRANSB)");
        // column-major: A = w stored (K × N, ld K), B = x stored (K × M, ld K), C = y (N × M, ld N)
        _lt.Check(_lt.cublasLtMatrixLayoutCreate(&a, type, (ulong)k, (ulong)n, k), "cublasLtMatrixLayoutCreate(A)");
        _lt.Check(_lt.cublasLtMatrixLayoutCreate(&b, type, (ulong)k, (ulong)m, ldx), "cublasLtMatrixLayoutCreate(B)");
        _lt.Check(_lt.cublasLtMatrixLayoutCreate(&c, CudaDataType.F32, (ulong)n, (ulong)m, n), "cublasLtMatrixLayoutCreate(C)");
        _lt.Check(_lt.cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
        try
        {
            ulong workspace = WorkspaceBytes;
            _lt.Check(_lt.cublasLtMatmulPreferenceSetAttribute(pref, CublasLtApi.PrefMaxWorkspaceBytes, &workspace, sizeof(ulong)), "cublasLtMatmulPreferenceSetAttribute");
            MatmulHeuristicResult result;
            int found = 0;
            _lt.Check(_lt.cublasLtMatmulAlgoGetHeuristic(_handle, desc, a, b, c, c, pref, 1, &result, &found), "cublasLtMatmulAlgoGetHeuristic");
            if (found == 0) throw new CudaException("cublasLtMatmulAlgoGetHeuristic", 0, $"cuBLASLt has no algorithm for a {m}x{k} · ({n}x{k})ᵀ {weightType} GEMM");
            (plan.Desc, plan.A, plan.B, plan.C, plan.Heuristic) = (desc, a, b, c, result);
        }
        finally { _lt.cublasLtMatmulPreferenceDestroy(pref); }
        return _plans[(m, n, k, ldx, weightType)] = plan;
    }

    public void Dispose()
    {
        foreach (var p in _plans.Values)
        {
            _lt.cublasLtMatrixLayoutDestroy(p.A); _lt.cublasLtMatrixLayoutDestroy(p.B); _lt.cublasLtMatrixLayoutDestroy(p.C);
            _lt.cublasLtMatmulDescDestroy(p.Desc);
        }
        _plans.Clear();
        _workspace.Dispose();
    }
}
