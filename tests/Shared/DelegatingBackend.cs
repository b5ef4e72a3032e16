// A backend that forwards every op to another one: test doubles derive from it to add a capability (recording steps,
// sampling on the "device") on top of the reference backend without restating the whole op contract.
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;

namespace MambaVL.Tests.Shared;

public abstract class DelegatingBackend(IBackend inner) : IBackend
{
    public IBackend Inner { get; } = inner;
    public virtual string Name => Inner.Name;
    public Device Device => Inner.Device;
    public Tensor Zeros(DType dtype, params int[] shape) => Inner.Zeros(dtype, shape);
    public virtual Tensor Upload(Tensor host) => Inner.Upload(host);
    public virtual float[] ToHost(Tensor t) => Inner.ToHost(t);
    public Tensor Contiguous(Tensor t) => Inner.Contiguous(t);
    public void CopyInto(Tensor source, Tensor destination) => Inner.CopyInto(source, destination);
    public void Release(Tensor t) => Inner.Release(t);
    public Tensor MatMul(Tensor x, Tensor w, Tensor? bias = null) => Inner.MatMul(x, w, bias);
    public virtual Tensor Embedding(Tensor table, ReadOnlySpan<int> ids) => Inner.Embedding(table, ids);
    public void AddInPlace(Tensor acc, Tensor x) => Inner.AddInPlace(acc, x);
    public Tensor RmsNorm(Tensor x, Tensor weight, float eps) => Inner.RmsNorm(x, weight, eps);
    public Tensor GatedRmsNorm(Tensor y, Tensor z, Tensor weight, int groupSize, float eps) => Inner.GatedRmsNorm(y, z, weight, groupSize, eps);
    public Tensor LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps) => Inner.LayerNorm(x, weight, bias, eps);
    public Tensor Activate(Tensor x, Activation kind) => Inner.Activate(x, kind);
    public Tensor SwiGlu(Tensor gate, Tensor up) => Inner.SwiGlu(gate, up);
    public void ScaleColumnsInPlace(Tensor x, Tensor scale) => Inner.ScaleColumnsInPlace(x, scale);
    public Tensor Attention(Tensor q, Tensor k, Tensor v, float scale, bool causal) => Inner.Attention(q, k, v, scale, causal);
    public Tensor Rope(Tensor x, Tensor invFreq, int startPosition) => Inner.Rope(x, invFreq, startPosition);
    public Tensor Concat(IReadOnlyList<Tensor> parts, int dim) => Inner.Concat(parts, dim);
    public Tensor CausalConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) => Inner.CausalConv1d(x, weight, bias, convState, silu);
    public Tensor CausalConv1dStep(Tensor x, Tensor weight, Tensor? bias, Tensor convState, bool silu) => Inner.CausalConv1dStep(x, weight, bias, convState, silu);
    public Tensor SsdScan(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state, int chunkSize) => Inner.SsdScan(x, dt, b, c, p, state, chunkSize);
    public Tensor SsmStep(Tensor x, Tensor dt, Tensor b, Tensor c, SsmParams p, Tensor state) => Inner.SsmStep(x, dt, b, c, p, state);
}
