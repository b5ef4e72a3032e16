// Element-wise ops, norms, attention, causal conv and the SSM scans: thin dispatch to the classes in Kernels/.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Kernels;

namespace MambaVL.Cpu;

public sealed partial class CpuBackend
{
    public void AddInPlace(Tensor acc, Tensor x) => Norms.AddInPlace(acc, x);
    public Tensor RmsNorm(Tensor x, Tensor weight, float eps) => Norms.RmsNorm(Pool, x, weight, eps);
    public Tensor GatedRmsNorm(Tensor y, Tensor z, Tensor weight, int groupSize, float eps) => Norms.GatedRmsNorm(Pool, y, z, weight, groupSize, eps);
    public Tensor LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps) => LayerNormKernel.Run(Pool, x, weight, bias, eps);
    public Tensor Activate(Tensor x, Activation kind) => Activations.Run(Pool, x, kind);
    public Tensor SwiGlu(Tensor gate, Tensor up) => Activations.SwiGlu(Pool, gate, up);
    public void ScaleColumnsInPlace(Tensor x, Tensor scale) => LayerNormKernel.ScaleColumnsInPlace(x, scale);
    public Tensor Attention(Tensor q, Tensor k, Tensor v, float scale, bool causal) => AttentionKernel.Run(Pool, q, k, v, scale, causal);
    public Tensor Rope(Tensor x, Tensor invFreq, int startPosition) => RopeKernel.Run(Pool, x, invFreq, startPosition);
    public Tensor Concat(IReadOnlyList<Tensor> parts, int dim) => ConcatKernel.Run(parts, dim);
    public Tensor CausalConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) => Conv1d.Causal(Pool, x, weight, bias, convState, silu);
    public Tensor CausalConv1dStep(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) => Conv1d.Step(Pool, x, weight, bias, convState, silu);
    public Tensor SsdScan(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, int chunkSize) => Ssd.Scan(Pool, x, dt, b, c, p, state, chunkSize);
    public Tensor SsmStep(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state) => SsmStepKernel.Step(Pool, x, dt, b, c, p, state);
}
