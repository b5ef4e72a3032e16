"""Golden RoPE inverse frequencies of InternLM2's rotary embeddings, with Debian's torch (run: /usr/bin/python3 THIS).

Reproduces InternLM2RotaryEmbedding and InternLM2DynamicNTKScalingRotaryEmbedding of modeling_internlm2.py (HoVLE /
InternVL remote code): inv_freq = 1 / base ** (arange(0, dim, 2).float() / dim), and for dynamic NTK, when the sequence
is longer than max_position_embeddings, base = base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2)).
Writes tests/fixtures/internlm2/rope.safetensors: inv_freq.{case} (dim/2,) F32 and the applied rotation of a random q,
q.{case} / rot.{case} (T, H, dim) with positions start..start+T-1, as apply_rotary_pos_emb (rotate_half) computes them.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import st  # noqa: E402

# (name, dim, base, factor or None, max_pos, seq_len, start, T)
CASES = [("plain", 128, 1e6, None, 32768, 40, 3, 5),
         ("ntk_short", 128, 1e6, 2.0, 32768, 1000, 990, 4),        # below max positions: no scaling
         ("ntk_long", 128, 1e6, 2.0, 32768, 103_000, 102_995, 5),   # beyond: a larger base
         ("small", 16, 10000.0, 2.0, 8, 20, 17, 3)]


def inv_freq(dim, base, factor, max_pos, seq_len):
    if factor is not None and seq_len > max_pos:
        base = base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2))
    return 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def main():
    g = torch.Generator().manual_seed(0)
    out = {}
    for name, dim, base, factor, max_pos, seq_len, start, t in CASES:
        f = inv_freq(dim, base, factor, max_pos, seq_len)
        positions = torch.arange(start, start + t, dtype=f.dtype)
        freqs = torch.outer(positions, f)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
        q = torch.randn(t, 3, dim, generator=g)
        out[f"inv_freq.{name}"] = f.numpy()
        out[f"q.{name}"] = q.numpy()
        out[f"rot.{name}"] = (q * cos + rotate_half(q) * sin).numpy()
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "fixtures", "internlm2", "rope.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    st.save(path, out, metadata={"torch": torch.__version__})
    print("wrote", path)


if __name__ == "__main__":
    main()
