"""Mamba-2 LM forward as a float64 sequential recurrence, written from the formulas of mamba_ssm's Mamba2 mixer
(state-spaces/mamba: mamba_ssm/modules/mamba2.py, block.py, mixer_seq_simple.py), one token at a time.

Used by make_goldens.py (goldens for the C# model) and hf_goldens.py (to explain HF's numbers for n_groups > 1).
Weights use HF names (backbone.embeddings.weight ...); cfg is a dict with the keys of CONFIG_KEYS below.
"""
import torch

F64 = torch.float64
CONFIG_KEYS = ("d_model", "n_layer", "vocab", "d_state", "d_conv", "expand", "headdim", "ngroups",
               "dt_min", "dt_max", "eps", "tied", "conv_bias", "proj_bias", "d_has_hdim")


def sizes(cfg):
    d_inner = cfg["expand"] * cfg["d_model"]
    nheads = d_inner // cfg["headdim"]
    conv_dim = d_inner + 2 * cfg["ngroups"] * cfg["d_state"]
    return d_inner, nheads, conv_dim


def fresh_state(cfg):
    """Per layer: conv history (conv_dim, d_conv - 1), oldest first; SSM state (nheads, headdim, d_state)."""
    d_inner, nheads, conv_dim = sizes(cfg)
    return [dict(conv=torch.zeros(conv_dim, cfg["d_conv"] - 1, dtype=F64),
                 ssm=torch.zeros(nheads, cfg["headdim"], cfg["d_state"], dtype=F64)) for _ in range(cfg["n_layer"])]


def rmsnorm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def silu(x):
    return x / (1 + torch.exp(-x))


def softplus(x):
    # torch's softplus with threshold 20: the identity above it
    return torch.where(x > 20, x, torch.log1p(torch.exp(torch.clamp(x, max=20))))


def mixer_token(cfg, W, layer, u, st, gate_group):
    """One token through layer `layer`'s mixer. u: (d_model,) normalised input; st: that layer's state (updated)."""
    d_inner, nheads, conv_dim = sizes(cfg)
    P, N, G = cfg["headdim"], cfg["d_state"], cfg["ngroups"]
    p = lambda n: W[f"backbone.layers.{layer}.mixer.{n}"]
    zxbcdt = p("in_proj.weight") @ u
    if cfg["proj_bias"]:
        zxbcdt = zxbcdt + p("in_proj.bias")
    z, xBC, dt = zxbcdt[:d_inner], zxbcdt[d_inner:d_inner + conv_dim], zxbcdt[d_inner + conv_dim:]
    # causal depthwise conv over [x, B, C]: window = the d_conv-1 previous inputs, then this one
    window = torch.cat([st["conv"], xBC[:, None]], dim=1)          # (conv_dim, d_conv)
    conv = (window * p("conv1d.weight")[:, 0, :]).sum(-1)
    if cfg["conv_bias"]:
        conv = conv + p("conv1d.bias")
    st["conv"] = window[:, 1:].clone()
    xBC = silu(conv)
    x = xBC[:d_inner].reshape(nheads, P)
    B = xBC[d_inner:d_inner + G * N].reshape(G, N)
    C = xBC[d_inner + G * N:].reshape(G, N)
    dt = torch.clamp(softplus(dt + p("dt_bias")), cfg["dt_min"], cfg["dt_max"])    # (nheads,)
    A = -torch.exp(p("A_log"))
    D = p("D").reshape(nheads, P) if cfg["d_has_hdim"] else p("D")[:, None].expand(nheads, P)
    y = torch.empty(nheads, P, dtype=F64)
    for h in range(nheads):
        g = h // (nheads // G)                                      # heads -> groups in contiguous blocks
        st["ssm"][h] = torch.exp(dt[h] * A[h]) * st["ssm"][h] + dt[h] * torch.outer(x[h], B[g])
        y[h] = st["ssm"][h] @ C[g] + D[h] * x[h]
    gated = y.reshape(d_inner) * silu(z)
    normed = torch.cat([rmsnorm(part, 1.0, cfg["eps"]) for part in gated.split(gate_group)]) * p("norm.weight")
    out = p("out_proj.weight") @ normed
    if cfg["proj_bias"]:
        out = out + p("out_proj.bias")
    return out


def forward(cfg, W, ids, state, gate_norm_whole=False):
    """Runs `ids` from `state` (updated in place). Returns logits (T, V) and the residual stream after each block (L, T, D).

    gate_norm_whole=True normalises the gate over all of d_inner (what HF transformers does) instead of d_inner/ngroups."""
    d_inner = sizes(cfg)[0]
    gate_group = d_inner if gate_norm_whole else d_inner // cfg["ngroups"]
    emb = W["backbone.embeddings.weight"]
    head = emb if cfg["tied"] else W["lm_head.weight"]
    logits, hidden = [], []
    for tok in ids:
        h, residual, per_layer = emb[tok], None, []
        for l in range(cfg["n_layer"]):
            residual = h if residual is None else residual + h       # pre-norm block, fp32+ residual stream
            u = rmsnorm(residual, W[f"backbone.layers.{l}.norm.weight"], cfg["eps"])
            h = mixer_token(cfg, W, l, u, state[l], gate_group)
            per_layer.append(residual + h)
        residual = residual + h
        logits.append(head @ rmsnorm(residual, W["backbone.norm_f.weight"], cfg["eps"]))
        hidden.append(torch.stack(per_layer))
    return torch.stack(logits), torch.stack(hidden, dim=1)


def greedy(cfg, W, prompt, n):
    """Prefill `prompt`, then n greedy tokens by recurrent steps. Returns the ids and the smallest top-1/top-2 logit gap."""
    state = fresh_state(cfg)
    logits, _ = forward(cfg, W, prompt, state)
    last, out, gap = logits[-1], [], float("inf")
    for _ in range(n):
        top = torch.topk(last, 2).values
        gap = min(gap, float(top[0] - top[1]))
        tok = int(torch.argmax(last))
        out.append(tok)
        last = forward(cfg, W, [tok], state)[0][-1]
    return out, gap
