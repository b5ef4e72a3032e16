// Element-wise ops, norms, causal conv and the SSM scans. Owner: Kernels/{Norms,Conv1d,Ssd,...}.cs.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu;

public sealed partial class CpuBackend
{
    public void AddInPlace(Tensor acc, Tensor x) => Ref.AddInPlace(acc, x);
    public Tensor RmsNorm(Tensor x, Tensor weight, float eps) => Ref.RmsNorm(x, weight, eps);
    public Tensor GatedRmsNorm(Tensor y, Tensor z, Tensor weight, int groupSize, float eps) => Ref.GatedRmsNorm(y, z, weight, groupSize, eps);
    public Tensor CausalConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) => Ref.CausalConv1d(x, weight, bias, convState, silu);
    public Tensor CausalConv1dStep(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) => Ref.CausalConv1dStep(x, weight, bias, convState, silu);
    public Tensor SsdScan(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, int chunkSize) => Ref.SsdScan(x, dt, b, c, p, state, chunkSize);
    public Tensor SsmStep(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state) => Ref.SsmStep(x, dt, b, c, p, state);
}
