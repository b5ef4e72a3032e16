"""Makes the Mamba-2 golden fixtures in tests/fixtures/mamba2/ from the float64 recurrence in recurrence.py.

Run from the repository root with Debian's torch:  /usr/bin/python3 tools/reference/mamba2/make_goldens.py
For each tiny config it writes <name>/config.json, <name>/model.safetensors (random weights, every parameter randomised)
and <name>/recurrence.safetensors: ids and logits for prompts of 3 and 11 tokens, the residual stream after every
block and the final conv/SSM states for the 11-token prompt, and 12 greedy ids continuing it. ss_g1_tied/ holds g1_tied's
weights in the state-spaces layout (pytorch_model.bin, backbone.embedding.weight, unpadded vocab_size in config.json).
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
import st  # noqa: E402
import recurrence as rec  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "fixtures", "mamba2")
INF = float("inf")

# ngroups 1 and 2, headdim != d_state, chunk sizes that do not divide 11, tied and untied, padded vocab,
# and (g2_extras) per-channel D, in/out_proj biases, no conv bias, conv width 3, a real dt_limit, 3 heads per group.
CONFIGS = {
    "g1_tied": dict(d_model=16, n_layer=2, vocab=50, pad=8, d_state=12, d_conv=4, expand=2, headdim=8, ngroups=1,
                    chunk=5, dt_min=0.0, dt_max=INF, eps=1e-5, tied=True, conv_bias=True, proj_bias=False,
                    d_has_hdim=False, layout="hf", seed=5, emb=0.3),
    "g2_untied": dict(d_model=20, n_layer=3, vocab=37, pad=1, d_state=6, d_conv=4, expand=2, headdim=10, ngroups=2,
                      chunk=4, dt_min=0.0, dt_max=INF, eps=1e-5, tied=False, conv_bias=True, proj_bias=False,
                      d_has_hdim=False, layout="hf", seed=2),
    "g2_extras": dict(d_model=12, n_layer=2, vocab=29, pad=1, d_state=5, d_conv=3, expand=2, headdim=4, ngroups=2,
                      chunk=4, dt_min=0.005, dt_max=0.2, eps=1e-5, tied=True, conv_bias=False, proj_bias=True,
                      d_has_hdim=True, layout="state-spaces", seed=3),
}
PROMPT_LENGTHS = (3, 11)
GREEDY_TOKENS = 12


def padded_vocab(c):
    return (c["vocab"] + c["pad"] - 1) // c["pad"] * c["pad"]


def rec_cfg(c):
    return dict({k: c[k] for k in rec.CONFIG_KEYS if k in c}, vocab=padded_vocab(c))


def random_weights(c):
    """HF-named float32 weights drawn from mamba_ssm-like ranges (A in [1,16], dt in [1e-3, 0.1]) and randomised norms."""
    rng = np.random.default_rng(c["seed"])  # "emb": embedding range (tied heads repeat one token when it dominates)
    d, V = c["d_model"], padded_vocab(c)
    d_inner, H, conv_dim = rec.sizes(rec_cfg(c))
    in_dim = 2 * d_inner + 2 * c["ngroups"] * c["d_state"] + H
    u = lambda bound, *shape: rng.uniform(-bound, bound, shape).astype(np.float32)
    between = lambda lo, hi, *shape: rng.uniform(lo, hi, shape).astype(np.float32)
    W = {"backbone.embeddings.weight": u(c.get("emb", 1.0), V, d)}
    for l in range(c["n_layer"]):
        m = f"backbone.layers.{l}.mixer."
        W[f"backbone.layers.{l}.norm.weight"] = between(0.5, 1.5, d)
        W[m + "in_proj.weight"] = u(1 / math.sqrt(d), in_dim, d)
        W[m + "conv1d.weight"] = u(1 / math.sqrt(c["d_conv"]), conv_dim, 1, c["d_conv"])
        if c["conv_bias"]:
            W[m + "conv1d.bias"] = u(0.5, conv_dim)
        dt = np.exp(rng.uniform(math.log(1e-3), math.log(0.1), H))
        W[m + "dt_bias"] = (dt + np.log(-np.expm1(-dt))).astype(np.float32)
        W[m + "A_log"] = np.log(rng.uniform(1, 16, H)).astype(np.float32)
        W[m + "D"] = between(0.5, 1.5, d_inner if c["d_has_hdim"] else H)
        W[m + "norm.weight"] = between(0.5, 1.5, d_inner)
        W[m + "out_proj.weight"] = u(1 / math.sqrt(d_inner), d, d_inner)
        if c["proj_bias"]:
            W[m + "in_proj.bias"] = u(0.2, in_dim)
            W[m + "out_proj.bias"] = u(0.2, d)
    W["backbone.norm_f.weight"] = between(0.5, 1.5, d)
    if not c["tied"]:
        W["lm_head.weight"] = u(1 / math.sqrt(d), V, d)
    return W


def hf_config(c):
    d_inner, H, _ = rec.sizes(rec_cfg(c))
    return {"model_type": "mamba2", "architectures": ["Mamba2ForCausalLM"], "hidden_size": c["d_model"],
            "num_hidden_layers": c["n_layer"], "vocab_size": padded_vocab(c), "num_heads": H, "head_dim": c["headdim"],
            "state_size": c["d_state"], "n_groups": c["ngroups"], "expand": c["expand"], "conv_kernel": c["d_conv"],
            "chunk_size": c["chunk"], "layer_norm_epsilon": c["eps"], "residual_in_fp32": True,
            "time_step_limit": [c["dt_min"], {"__float__": "Infinity"} if c["dt_max"] == INF else c["dt_max"]],
            "tie_word_embeddings": c["tied"], "use_conv_bias": c["conv_bias"], "use_bias": c["proj_bias"],
            "rms_norm": True, "norm_before_gate": False, "hidden_act": "silu", "bos_token_id": 0, "eos_token_id": 0,
            "pad_token_id": 0}


def state_spaces_config(c):
    ssm = {"layer": "Mamba2", "d_state": c["d_state"], "d_conv": c["d_conv"], "expand": c["expand"],
           "headdim": c["headdim"], "ngroups": c["ngroups"], "chunk_size": c["chunk"], "D_has_hdim": c["d_has_hdim"],
           "conv_bias": c["conv_bias"], "bias": c["proj_bias"]}
    if c["dt_max"] != INF or c["dt_min"] != 0.0:
        ssm["dt_limit"] = [c["dt_min"], c["dt_max"]]
    return {"d_model": c["d_model"], "d_intermediate": 0, "n_layer": c["n_layer"], "vocab_size": c["vocab"],
            "ssm_cfg": ssm, "attn_layer_idx": [], "attn_cfg": {}, "rms_norm": True, "residual_in_fp32": True,
            "fused_add_norm": True, "pad_vocab_size_multiple": c["pad"], "tie_embeddings": c["tied"]}


def state_spaces_names(W):
    return {("backbone.embedding.weight" if k == "backbone.embeddings.weight" else k): v for k, v in W.items()}


def goldens(c, W):
    cfg, W64 = rec_cfg(c), {k: torch.from_numpy(v).to(rec.F64) for k, v in W.items()}
    rng = np.random.default_rng(100 + c["seed"])
    out = {}
    for T in PROMPT_LENGTHS:
        ids = rng.integers(0, c["vocab"], T).tolist()
        state = rec.fresh_state(cfg)
        logits, hidden = rec.forward(cfg, W64, ids, state)
        out[f"ids_T{T}"] = np.array(ids, dtype=np.int32)
        out[f"logits_T{T}"] = logits.numpy().astype(np.float32)
        if T == max(PROMPT_LENGTHS):
            out["hidden_T11"] = hidden.numpy().astype(np.float32)                       # (L, T, D)
            out["conv_state_T11"] = np.stack([s["conv"].numpy() for s in state]).astype(np.float32)
            out["ssm_state_T11"] = np.stack([s["ssm"].numpy() for s in state]).astype(np.float32)
            greedy, gap = rec.greedy(cfg, W64, ids, GREEDY_TOKENS)
            out["greedy_ids"] = np.array(greedy, dtype=np.int32)
            scale = float(logits.abs().max())
            print(f"  greedy {greedy}; smallest top-2 gap {gap:.3g} (logit scale {scale:.3g})")
            assert gap > 1e-3 * scale, "greedy too close to a tie for an fp32 comparison: change the seed"
    return out


def write(name, c, W):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    layout_cfg = hf_config(c) if c["layout"] == "hf" else state_spaces_config(c)
    names = W if c["layout"] == "hf" else state_spaces_names(W)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(layout_cfg, f, indent=2)
    st.save(os.path.join(folder, "model.safetensors"), names)
    st.save(os.path.join(folder, "recurrence.safetensors"), goldens(c, W),
            metadata={"made_by": "tools/reference/mamba2/make_goldens.py", "precision": "float64 recurrence"})


def write_state_spaces_bin(name, c, W):
    """The same weights as a mamba_ssm checkpoint: torch.save'd state dict, lm_head sharing the embedding's storage."""
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    sd = {k: torch.from_numpy(v.copy()) for k, v in state_spaces_names(W).items()}
    if c["tied"]:
        sd["lm_head.weight"] = sd["backbone.embedding.weight"]
    torch.save(sd, os.path.join(folder, "pytorch_model.bin"))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(state_spaces_config(c), f, indent=2)


def main():
    torch.set_num_threads(1)
    for name, c in CONFIGS.items():
        print(name)
        W = random_weights(c)
        write(name, c, W)
        if name == "g1_tied":
            write_state_spaces_bin("ss_g1_tied", c, W)


if __name__ == "__main__":
    main()
