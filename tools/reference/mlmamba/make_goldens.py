"""Golden outputs of a tiny random ML-Mamba from the authors' own modules (run on the GPU machine's CPU, fp32).

The authors' mamba fork (WenjunHuang94/mamba, Python sources only) must be copied to
tools/reference/_vendor/mlmamba_fork/mamba_ssm (git-ignored; carried to the device). Its CUDA/Triton kernels cannot run
on the CPU, so the entry points are swapped for mamba_ssm's own reference functions, which it ships beside them:
mamba_split_conv1d_scan_combined -> ssd_combined.mamba_split_conv1d_scan_ref (its rmsnorm_fn -> layernorm_gated.rms_norm_ref,
its selective_scan_fn -> selective_scan_interface.selective_scan_ref, its causal_conv1d_fn -> the causal_conv1d
package's reference, a depthwise F.conv1d), and layer_norm_fn ->
layer_norm.rms_norm_ref / layer_norm_ref. The modules themselves (the fork's Bidirectional_Mamba with its v2 blocks and
Mamba2 bimamba "v2" mixer, MambaLMHeadModel) run unchanged. The vision features come from the tiny timm towers in
tests/fixtures/vision (as made by tools/reference/vision/make_vit_goldens.py).

Writes OUT/: latest-checkpoint.pt ({"model": {"llm_backbone", "mlp", "bidirectional_mamba", "projector"}}, as the
authors' save_checkpoint), llm_config.json (state-spaces layout), goldens.safetensors:
  features (25, 88), connector_in (25, D), connector_out (25, D), visual (25, D), ids (L,), logits (25 + L, V),
  greedy (20,): argmax tokens by full re-forward (no EOS stop), greedy_logits (20, V)
Usage: python make_goldens.py OUT
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
sys.path.insert(0, os.path.join(HERE, ".."))
import mamba_ssm_cpu  # noqa: E402
mamba_ssm_cpu.install()

import mamba_ssm.ops.triton.ssd_combined as sc  # noqa: E402
import mamba_ssm.ops.triton.layernorm_gated as lg  # noqa: E402
import mamba_ssm.ops.triton.layer_norm as ln  # noqa: E402
import mamba_ssm.modules.mamba2 as m2  # noqa: E402
import mamba_ssm.modules.block as blk  # noqa: E402
import mamba_ssm.models.mixer_seq_simple as mss  # noqa: E402
from mamba_ssm.models.config_mamba import MambaConfig  # noqa: E402
from mamba_ssm_cpu import causal_conv1d_ref  # noqa: E402


def rmsnorm_fn_ref(x, weight, bias, z=None, eps=1e-6, group_size=None, norm_before_gate=True, upcast=True):
    return lg.rms_norm_ref(x, weight, bias, z=z, eps=eps, group_size=group_size, norm_before_gate=norm_before_gate, upcast=upcast)


def split_conv1d_scan_cpu(zxbcdt, conv1d_weight, conv1d_bias, dt_bias, A, D, chunk_size, initial_states=None, seq_idx=None,
                          dt_limit=(0.0, float("inf")), return_final_states=False, activation="silu", rmsnorm_weight=None,
                          rmsnorm_eps=1e-6, outproj_weight=None, outproj_bias=None, headdim=None, ngroups=1, norm_before_gate=True):
    assert initial_states is None and seq_idx is None and not return_final_states
    return sc.mamba_split_conv1d_scan_ref(zxbcdt, conv1d_weight, conv1d_bias, dt_bias, A, D, chunk_size, dt_limit=dt_limit,
                                          activation=activation, rmsnorm_weight=rmsnorm_weight, rmsnorm_eps=rmsnorm_eps,
                                          outproj_weight=outproj_weight, outproj_bias=outproj_bias, headdim=headdim,
                                          ngroups=ngroups, norm_before_gate=norm_before_gate)


def layer_norm_fn_cpu(x, weight, bias, residual=None, eps=1e-6, prenorm=False, residual_in_fp32=False, is_rms_norm=False, **kw):
    ref = ln.rms_norm_ref if is_rms_norm else ln.layer_norm_ref
    out = ref(x, weight, bias, residual=residual, eps=eps, prenorm=prenorm, upcast=True)
    if prenorm:
        y, res = out
        return y, (res.float() if residual_in_fp32 else res)
    return out


sc.causal_conv1d_fn = causal_conv1d_ref
sc.rmsnorm_fn = rmsnorm_fn_ref
m2.mamba_split_conv1d_scan_combined = split_conv1d_scan_cpu
blk.layer_norm_fn = layer_norm_fn_cpu
mss.layer_norm_fn = layer_norm_fn_cpu

LLM_CONFIG = {"d_model": 64, "d_intermediate": 0, "n_layer": 2, "vocab_size": 100,
              "ssm_cfg": {"layer": "Mamba2", "d_state": 16, "headdim": 16, "chunk_size": 8},
              "attn_layer_idx": [], "attn_cfg": {}, "rms_norm": True, "residual_in_fp32": True, "fused_add_norm": True,
              "pad_vocab_size_multiple": 16, "tie_embeddings": True}


def randomise(module, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("A_log") or name.endswith("A_log_b"):
                p.copy_(torch.log(torch.rand(p.shape, generator=g) * 15 + 1))
            elif name.endswith("dt_bias") or name.endswith("dt_bias_b"):
                dt = torch.exp(torch.rand(p.shape, generator=g) * (torch.log(torch.tensor(0.1)) - torch.log(torch.tensor(1e-3))) + torch.log(torch.tensor(1e-3)))
                p.copy_(dt + torch.log(-torch.expm1(-dt)))
            elif p.dim() == 1:
                base = 1.0 if name.endswith("norm.weight") or name.endswith("norm_f.weight") else 0.0
                p.copy_(base + 0.3 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / max(1, p.shape[-1]) ** 0.5)


def vision_features():
    """ML-Mamba's featurizer on the tiny timm towers of tests/fixtures/vision: DINO block depth-2 ‖ SigLIP block depth-2."""
    import timm
    from safetensors.torch import load_file
    from timm.models.vision_transformer import checkpoint_filter_fn
    fixtures = os.path.join(ROOT, "tests", "fixtures", "vision")
    towers = []
    for name in ("dino", "siglip"):
        with open(os.path.join(fixtures, name, "config.json")) as f:
            cfg = json.load(f)
        model = timm.create_model(cfg["architecture"], pretrained=False, num_classes=0, img_size=70, **cfg["model_args"])
        model.load_state_dict(checkpoint_filter_fn(load_file(os.path.join(fixtures, name, "model.safetensors")), model))
        towers.append(model.eval())
    pixels = load_file(os.path.join(fixtures, "goldens.safetensors"))["pixels"][None]
    with torch.no_grad():
        dino = towers[0].get_intermediate_layers(pixels, n={len(towers[0].blocks) - 2})[0]
        siglip = towers[1].get_intermediate_layers(pixels, n={len(towers[1].blocks) - 2})[0]
    return torch.cat([dino, siglip], dim=2)  # (1, 25, 88), DINO first as the authors' code


class FusedMLPProjector(nn.Module):
    """The authors' FusedMLPProjector (mlmamba/util/nn_utils.py): same module names, so the same state_dict keys."""

    def __init__(self, fused_vision_dim, llm_dim):
        super().__init__()
        hidden = fused_vision_dim * 4
        self.projector = nn.Sequential(nn.Linear(fused_vision_dim, hidden), nn.GELU(), nn.Linear(hidden, llm_dim), nn.GELU(),
                                       nn.Linear(llm_dim, llm_dim))

    def forward(self, fused_img_patches):
        return self.projector(fused_img_patches)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "mlmamba_goldens"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    config = MambaConfig(**LLM_CONFIG)
    llm = mss.MambaLMHeadModel(config).eval()
    msc = mss.Bidirectional_Mamba(config).eval()
    mlp = nn.Sequential(nn.Linear(88, config.d_model), nn.GELU()).eval()
    projector = FusedMLPProjector(config.d_model, config.d_model).eval()
    for i, m in enumerate((llm, msc, mlp, projector)):
        randomise(m, 100 + i)
    llm.tie_weights()

    features = vision_features()
    ids = torch.tensor([[5, 17, 3, 99, 42, 8, 61, 23, 77]])
    gold = {"features": features[0], "ids": ids[0].to(torch.int32)}
    with torch.no_grad():
        x = mlp(features)
        gold["connector_in"] = x[0]
        x = msc(x)
        gold["connector_out"] = x[0]
        visual = projector(x)
        gold["visual"] = visual[0]
        emb = torch.cat([visual, llm.backbone.embedding(ids)], dim=1)
        logits = llm.lm_head(llm.backbone(None, inputs_embeds=emb))
        gold["logits"] = logits[0]
        greedy, greedy_logits = [], []
        for _ in range(20):
            last = llm.lm_head(llm.backbone(None, inputs_embeds=emb))[:, -1]
            token = int(last.argmax(dim=-1))
            greedy.append(token)
            greedy_logits.append(last[0])
            emb = torch.cat([emb, llm.backbone.embedding(torch.tensor([[token]]))], dim=1)
    gold["greedy"] = torch.tensor(greedy, dtype=torch.int32)
    gold["greedy_logits"] = torch.stack(greedy_logits)

    state = {"llm_backbone": llm.state_dict(), "mlp": mlp.state_dict(), "bidirectional_mamba": msc.state_dict(),
             "projector": projector.state_dict()}
    torch.save({"model": state}, os.path.join(out, "latest-checkpoint.pt"))
    with open(os.path.join(out, "llm_config.json"), "w") as f:
        json.dump(LLM_CONFIG, f, indent=2)
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in gold.items()}, os.path.join(out, "goldens.safetensors"))
    print("torch", torch.__version__, "greedy", greedy)
    for k, v in gold.items():
        print(k, tuple(v.shape))
    print("checkpoint keys:", sum(len(v) for v in state.values()), [k for k in state["bidirectional_mamba"]][:12])


if __name__ == "__main__":
    main()
