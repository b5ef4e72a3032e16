"""Golden outputs of mmMamba's Mamba-2 mixer from the authors' own module (hustvl/mmMamba src/model/linear_attention/
mamba2.py, class Mamba2_Attention, the stage-3 / inference branch), fp32 on the CPU of the GPU machine.

Needs (git-ignored, carried to the device): tools/reference/_vendor/mmmamba/src (the authors' src/model/linear_attention,
rotary.py, feature_map.py) and tools/reference/_vendor/mlmamba_fork/mamba_ssm (mamba_ssm's Python sources). Kernels
that cannot run on a CPU are replaced by the references their packages ship or define:
  mamba_chunk_scan_combined -> mamba_ssm's ssd_selective_scan on selective_scan_ref (the Mamba-1 reference scan);
  causal_conv1d_fn -> the causal_conv1d package's reference (a depthwise F.conv1d);
  fla's RMSNorm -> x * rsqrt(mean(x^2) + eps) * weight in fp32 (fla.modules.layernorm's semantics);
  fla's ACT2FN["swish"] -> F.silu. Plotting and config packages the module imports are stubbed (unused).
The module is built from a fake InternLM2 attention (wqkv, wo) with inherit_qkv and mimic_init, then every parameter is
randomised. Weights are written in the exported HF form of convert_weight.py (wvkqgdt = cat[v, k, q, g, dt]).

Writes OUT/mixer.safetensors: attention.* weights, u (T, D) input, y (T, D) output; and config (D, heads, kv heads).
Usage: python make_mixer_goldens.py OUT
"""
import os
import sys
import types

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import mamba_ssm_cpu  # noqa: E402
mamba_ssm_cpu.install()
from mamba_ssm_cpu import causal_conv1d_ref  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "_vendor", "mmmamba"))


class FlaRMSNorm(nn.Module):
    def __init__(self, hidden_size, elementwise_affine=True, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden_size)) if elementwise_affine else None

    def forward(self, x):
        y = x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight if self.weight is not None else y).to(x.dtype)


def stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


stub("csrc")
stub("matplotlib"); stub("matplotlib.pyplot"); stub("seaborn")
stub("omegaconf", OmegaConf=type("OmegaConf", (), {}), DictConfig=type("DictConfig", (), {}))
stub("causal_conv1d", causal_conv1d_fn=causal_conv1d_ref, causal_conv1d_update=None)
stub("fla"); stub("fla.ops"); stub("fla.ops.gla", chunk_gla=None, fused_chunk_gla=None, fused_recurrent_gla=None)
stub("fla.modules", FusedRMSNormSwishGate=None, RMSNorm=FlaRMSNorm, ShortConvolution=None)
stub("fla.modules.activations", ACT2FN={"swish": F.silu, "silu": F.silu})

import mamba_ssm.ops.triton.ssd_combined as sc  # noqa: E402
import src.model.linear_attention.mamba2 as mm  # noqa: E402


def chunk_scan_cpu(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None, seq_idx=None,
                   dt_softplus=False, dt_limit=(0.0, float("inf")), return_final_states=False):
    assert initial_states is None and seq_idx is None and not return_final_states
    return sc.ssd_selective_scan(x, dt, A, B, C, D=D, z=z, dt_bias=dt_bias, dt_softplus=dt_softplus, dt_limit=dt_limit)


mm.mamba_chunk_scan_combined = chunk_scan_cpu
mm.causal_conv1d_fn = causal_conv1d_ref

D, H, HKV, P, T = 64, 4, 2, 16, 37


class FakeInternLM2Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden_size, self.num_heads, self.head_dim = D, H, P
        self.num_key_value_heads, self.num_key_value_groups = HKV, H // HKV
        self.max_position_embeddings = 4096
        self.rotary_emb = types.SimpleNamespace(base=10000.0, scaling_factor=1.0)
        self.wqkv = nn.Linear(D, (H + 2 * HKV) * P, bias=False)
        self.wo = nn.Linear(H * P, D, bias=False)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "mmmamba_goldens"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    base = FakeInternLM2Attention()
    mixer = mm.Mamba2_Attention(base, layer_idx=0, use_conv=True, use_gnorm=True, use_A=True, use_D=False,
                                inherit_qkv=True, mimic_init=True).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in mixer.named_parameters():
            if name == "dt_bias":
                dt = torch.exp(torch.rand(p.shape, generator=g) * (torch.log(torch.tensor(0.1)) - torch.log(torch.tensor(1e-3))) + torch.log(torch.tensor(1e-3)))
                p.copy_(dt + torch.log(-torch.expm1(-dt)))
            elif name == "A_log_bias":
                p.copy_(torch.log(torch.rand(p.shape, generator=g) * 15 + 1))
            elif p.dim() == 1:
                p.copy_((1.0 if "norm" in name else 0.0) + 0.3 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / max(1, p.shape[-1]) ** 0.5)
        u = torch.randn(1, T, D, generator=g)
        y = mixer(u)[0]
    weights = {
        "attention.wvkqgdt.weight": torch.cat([mixer.v_proj.weight, mixer.k_proj.weight, mixer.q_proj.weight,
                                               mixer.g_proj.weight, mixer.in_proj.weight], dim=0),
        "attention.conv1d.weight": mixer.conv1d.weight, "attention.conv1d.bias": mixer.conv1d.bias,
        "attention.dt_bias": mixer.dt_bias, "attention.A_log_bias": mixer.A_log_bias,
        "attention.g_norm_swish_gate.weight": mixer.g_norm.weight, "attention.o_proj.weight": mixer.o_proj.weight,
        "u": u[0], "y": y[0],
    }
    from safetensors.torch import save_file
    save_file({k: v.detach().contiguous().float() for k, v in weights.items()}, os.path.join(out, "mixer.safetensors"),
              metadata={"hidden": str(D), "heads": str(H), "kv_heads": str(HKV), "head_dim": str(P)})
    print("torch", torch.__version__, {k: tuple(v.shape) for k, v in weights.items()})


if __name__ == "__main__":
    main()
