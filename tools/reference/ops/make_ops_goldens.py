"""Op goldens from code nobody here wrote: mamba_ssm's reference functions and torch's conv1d.

Vendor first (not committed): fetch state-spaces/mamba (made with commit e9594ce) and copy
  mamba_ssm/modules/ssd_minimal.py, mamba_ssm/ops/triton/selective_state_update.py, mamba_ssm/ops/triton/layernorm_gated.py
into tools/reference/_vendor/mamba_ssm/. Those files import triton at top, so only the reference functions' source is
taken out with ast and executed. Run with Debian's torch: /usr/bin/python3 tools/reference/ops/make_ops_goldens.py
Writes tests/fixtures/ops/*.safetensors: float32 inputs and outputs (computed in float64).
"""
import ast
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
VENDOR = os.path.join(HERE, "..", "_vendor", "mamba_ssm")
OUT = os.path.join(ROOT, "tests", "fixtures", "ops")
sys.path.insert(0, os.path.join(HERE, ".."))
import st  # noqa: E402

try:
    import einops  # noqa: F401
except ImportError:
    sys.path.insert(0, HERE)
    import einops_shim
    sys.modules["einops"] = einops_shim
from einops import rearrange, repeat  # noqa: E402


def vendored(file, *names):
    """The named top-level functions of a vendored file, executed without the file's imports (triton)."""
    path = os.path.join(VENDOR, file)
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: copy it from state-spaces/mamba (see this script's docstring)")
    tree = ast.parse(open(path).read())
    ns = {"torch": torch, "F": F, "math": math, "rearrange": rearrange, "repeat": repeat}
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    exec(compile(ast.Module(body=defs, type_ignores=[]), path, "exec"), ns)
    missing = [n for n in names if n not in ns]
    if missing:
        sys.exit(f"{path}: functions {missing} not found")
    return [ns[n] for n in names]


ssd_minimal_discrete, = vendored("ssd_minimal.py", "segsum", "ssd_minimal_discrete")[1:]
selective_state_update_ref, = vendored("selective_state_update.py", "selective_state_update_ref")
rms_norm_ref, = vendored("layernorm_gated.py", "rms_norm_ref")

rng = np.random.default_rng(20261123)


def uniform(lo, hi, *shape):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def ssm_constants(h):
    """A = -exp(U(0, log 16)), dt_bias = softplus⁻¹(U(1e-3, 0.1)), as mamba_ssm initialises them."""
    a = -np.exp(uniform(0, math.log(16), h))
    dt_bias = np.log(np.expm1(uniform(1e-3, 0.1, h).astype(np.float64))).astype(np.float32)
    return a.astype(np.float32), dt_bias


def t64(a):
    return torch.from_numpy(np.asarray(a)).double()


def f32(t):
    return t.detach().numpy().astype(np.float32)


def ssd_scan_case(name, T, H, P, N, G, block, d_kind, dt_max):
    """ssd_minimal_discrete over a T not divisible by the block (zero-padded: dt = 0 keeps the state), from a random state."""
    x, dt_raw, b, c = uniform(-1, 1, T, H, P), uniform(-5, 1, T, H), uniform(-1, 1, T, G, N), uniform(-1, 1, T, G, N)
    a, dt_bias = ssm_constants(H)
    d = {"head": uniform(0.5, 1.5, H), "channel": uniform(0.5, 1.5, H, P)}.get(d_kind)
    state0 = uniform(-1, 1, H, P, N)
    dt = torch.clamp(F.softplus(t64(dt_raw) + t64(dt_bias)), 0.0, dt_max)  # torch softplus: threshold 20
    pad = (-T) % block
    xs = F.pad(t64(x) * dt[..., None], (0, 0, 0, 0, 0, pad))[None]
    dA = F.pad(dt * t64(a), (0, 0, 0, pad))[None]
    heads = lambda m: F.pad(repeat(t64(m), "l g n -> l (g h) n", h=H // G), (0, 0, 0, 0, 0, pad))[None]  # noqa: E731
    y, final = ssd_minimal_discrete(xs, dA, heads(b), heads(c), block, initial_states=t64(state0)[None, None])
    y = y[0, :T]
    if d is not None:
        y = y + (t64(d)[:, None] if d.ndim == 1 else t64(d)) * t64(x)
    tensors = {"x": x, "dt": dt_raw, "B": b, "C": c, "A": a, "dt_bias": dt_bias, "state_in": state0,
               "y": f32(y), "state_out": f32(final[0])}
    if d is not None:
        tensors["D"] = d
    st.save(os.path.join(OUT, f"{name}.safetensors"), tensors,
            {"source": "mamba_ssm ssd_minimal_discrete", "dt_max": str(dt_max), "block_len": str(block)})


def ssm_step_case(name, B, H, P, N, G):
    """selective_state_update_ref with per-head dt/A/dt_bias/D broadcast to (h, p[, n]) as Mamba2.step does."""
    x, dt_raw, b, c = uniform(-1, 1, B, H, P), uniform(-5, 1, B, H), uniform(-1, 1, B, G, N), uniform(-1, 1, B, G, N)
    a, dt_bias = ssm_constants(H)
    d = uniform(0.5, 1.5, H)
    state = t64(uniform(-1, 1, B, H, P, N))
    state_in = f32(state)
    y = selective_state_update_ref(state, t64(x), repeat(t64(dt_raw), "b h -> b h p", p=P),
                                   repeat(t64(a), "h -> h p n", p=P, n=N), t64(b), t64(c),
                                   D=repeat(t64(d), "h -> h p", p=P), dt_bias=repeat(t64(dt_bias), "h -> h p", p=P),
                                   dt_softplus=True)
    st.save(os.path.join(OUT, f"{name}.safetensors"),
            {"x": x, "dt": dt_raw, "B": b, "C": c, "A": a, "dt_bias": dt_bias, "D": d, "state_in": state_in,
             "y": f32(y), "state_out": f32(state)}, {"source": "mamba_ssm selective_state_update_ref"})


def norm_case(name, M, D, group_size):
    """rms_norm_ref with z and norm_before_gate=False (gated), or without z (plain RMSNorm)."""
    x, z, w = uniform(-3, 3, M, D), uniform(-4, 4, M, D), uniform(0.5, 1.5, D)
    gated = group_size is not None
    y = rms_norm_ref(t64(x), t64(w), None, z=t64(z) if gated else None, eps=1e-5, group_size=group_size,
                     norm_before_gate=False)
    tensors = {"x": x, "w": w, "y": f32(y)}
    if gated:
        tensors["z"] = z
    st.save(os.path.join(OUT, f"{name}.safetensors"), tensors,
            {"source": "mamba_ssm rms_norm_ref", "eps": "1e-5", "group_size": str(group_size or D)})


def conv_case(name, T, C, W, with_state):
    """Depthwise causal conv + SiLU: F.conv1d(groups=C, padding=W-1) from zeros, or over [state, x] from a given state."""
    x, w, bias = uniform(-2, 2, T, C), uniform(-0.5, 0.5, C, W), uniform(-0.5, 0.5, C)
    state = uniform(-2, 2, C, W - 1) if with_state else np.zeros((C, W - 1), np.float32)
    xt = t64(x).T[None]  # (1, C, T)
    if with_state:
        out = F.conv1d(torch.cat([t64(state)[None], xt], dim=-1), t64(w)[:, None, :], t64(bias), groups=C)
    else:
        out = F.conv1d(xt, t64(w)[:, None, :], t64(bias), padding=W - 1, groups=C)[..., :T]
    y = F.silu(out)[0].T
    full = torch.cat([t64(state)[None], xt], dim=-1)  # the new state is the last W-1 inputs, old state included
    st.save(os.path.join(OUT, f"{name}.safetensors"),
            {"x": x, "weight": w, "bias": bias, "state_in": state, "y": f32(y), "state_out": f32(full[0, :, -(W - 1):])},
            {"source": "torch F.conv1d + silu"})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    ssd_scan_case("ssd_scan_g2", T=45, H=4, P=6, N=5, G=2, block=16, d_kind="head", dt_max=math.inf)
    ssd_scan_case("ssd_scan_dtmax", T=21, H=3, P=4, N=7, G=1, block=8, d_kind="channel", dt_max=0.05)
    ssm_step_case("ssm_step_g2", B=3, H=4, P=6, N=5, G=2)
    norm_case("gated_rms_norm", M=3, D=24, group_size=8)
    norm_case("rms_norm", M=3, D=33, group_size=None)
    conv_case("conv1d_fresh", T=7, C=5, W=4, with_state=False)
    conv_case("conv1d_state", T=2, C=5, W=4, with_state=True)
    conv_case("conv1d_w2", T=6, C=3, W=2, with_state=True)
    print("wrote", sorted(os.listdir(OUT)))
