#!/usr/bin/env python3
"""A line-by-line port of Kernels/mamba_step.cu (the fused Mamba-2 decode step) to plain Python, run against a plain
port of the reference composition (ReferenceBackend: conv step + SiLU, SSM step, gated RMSNorm) on small and 2.7B-like
shapes, two steps in a row. Blocks run one after another in a shuffled order and each block's threads, warps and lanes
as loops, so it checks the kernel's indexing (channels, groups, rows, chunks), its conv-state ownership (x channels by
their head's block, B and C by the last block), the last-block hand-off and the counter reset; and, with defer_norm, that gemv_ring*_gate's prologue (gp_stage_gate,
ported below) stages exactly the values the normalising kernel writes (its group and partial indexing). It proves nothing about
races or the hardware (that is `mambavl selfcheck --device cuda`). No GPU or numpy needed. Usage: emulate_mamba_step.py"""
import math, random

MS_THREADS, MS_WARPS, MS_ROWS = 256, 8, 8

def silu(v): return v / (1.0 + math.exp(-v))

def dt_of(raw, bias, lo, hi):
    v = raw + bias
    v = v if v > 20.0 else math.log1p(math.exp(v))
    return min(max(v, lo), hi)

def kernel(V, B, H, P, G, N, W, gate, zxbcdt, conv_w, conv_b, conv_state, a, dt_bias, dvec, d_mode, gate_w, state, counters,
           dt_min, dt_max, eps, order, defer_norm=False, partials_out=None):
    """zxbcdt[b] = [z (Dn) | xbc (C) | dt (H)]; conv_state[b][c] list of W-1; state[b][h][p][n]; returns out[b][Dn]"""
    dn, gn = H * P, G * N
    channels = dn + 2 * gn
    out = [[None] * dn for _ in range(B)]
    partials = [[None] * H for _ in range(B)]
    chunks = N // V
    for (h, b) in order:   # blockIdx.x = h, blockIdx.y = b
        z = lambda i: zxbcdt[b][i]
        xrow = lambda c: zxbcdt[b][dn + c]
        dt = zxbcdt[b][dn + channels + h]
        g = h // (H // G)
        st = state[b][h]
        # 1. (the preload only moves loads earlier: same values, no other block writes this head's state)
        d = dt_of(dt, dt_bias[h], dt_min, dt_max)
        decay = math.exp(d * a[h])
        bs, cs, xs, zs = [None] * N, [None] * N, [None] * P, [None] * P
        for tid in range(MS_THREADS):
            for i in range(tid, P + 2 * N, MS_THREADS):
                own = i < P
                c = h * P + i if own else (dn + g * N + (i - P) if i < P + N else dn + gn + g * N + (i - P - N))
                sc = conv_state[b][c]
                v = xrow(c)
                hist = [sc[k] if k < W - 1 else 0.0 for k in range(8)]
                acc = conv_b[c] if conv_b is not None else 0.0
                for k in range(8):
                    if k < W - 1: acc += conv_w[c][k] * hist[k]
                acc += conv_w[c][W - 1] * v
                if own:
                    for k in range(7):
                        if k + 1 < W - 1: sc[k] = hist[k + 1]
                    if W > 1: sc[W - 2] = v
                act = silu(acc)
                if own: xs[i] = act
                elif i < P + N: bs[i - P] = act
                else: cs[i - P - N] = act
            for i in range(tid, P, MS_THREADS): zs[i] = silu(z(h * P + i))
        assert None not in bs + cs + xs + zs
        # 3.
        warp_sq = [0.0] * MS_WARPS
        for warp in range(MS_WARPS):
            sq = 0.0
            for p0 in range(warp, P, MS_WARPS * MS_ROWS):
                part = [[0.0] * MS_ROWS for _ in range(32)]   # per lane
                for lane in range(32):
                    for c in range(lane, chunks, 32):
                        for r in range(MS_ROWS):
                            p = p0 + MS_WARPS * r
                            if p < P:
                                dx = d * xs[p]
                                s = 0.0
                                for e in range(V):
                                    n = c * V + e
                                    st[p][n] = decay * st[p][n] + dx * bs[n]
                                    s += st[p][n] * cs[n]
                                part[lane][r] += s
                for r in range(MS_ROWS):
                    p = p0 + MS_WARPS * r
                    y = sum(part[lane][r] for lane in range(32))
                    if p < P:
                        xv = xs[p]
                        skip = dvec[h] if d_mode == 1 else dvec[h][p] if d_mode == 2 else 0.0
                        gv = (y + skip * xv) * zs[p]
                        out[b][h * P + p] = gv
                        sq += gv * gv
            warp_sq[warp] = sq
        partials[b][h] = sum(warp_sq)
        counters[b] += 1
        if counters[b] != H:   # atomicAdd returned H - 1: the last block
            continue
        # 4.
        o = out[b]
        assert None not in o
        if not defer_norm:
            norm_groups, heads_per_norm = dn // gate, gate // P
            scales = [gate_scale(partials[b], k, heads_per_norm, gate, eps) for k in range(norm_groups)]
            for i in range(dn): o[i] = o[i] * scales[i // gate] * gate_w[i]
        # 5.
        for i in range(2 * gn):
            c = dn + i
            sc = conv_state[b][c]
            hist = [sc[k + 1] if k + 1 < W - 1 else 0.0 for k in range(7)]
            for k in range(7):
                if k + 1 < W - 1: sc[k] = hist[k]
            if W > 1: sc[W - 2] = xrow(c)
        # 6.
        counters[b] = 0
    if partials_out is not None: partials_out[:] = partials
    return out

def warp_total(v):
    """common.cuh's butterfly: v[l] += v[l ^ offset] for offset 16, 8, 4, 2, 1 (every lane ends with the same sum)."""
    for offset in (16, 8, 4, 2, 1):
        v = [v[l] + v[l ^ offset] for l in range(32)]
    return v[0]

def gate_scale(partials_row, k, heads_per_group, gate, eps):
    """common.cuh's gate_scale: lane-strided sums of group k's partials, the butterfly, rsqrt(s / gate + eps)."""
    lanes = [0.0] * 32
    for lane in range(32):
        for j in range(lane, heads_per_group, 32): lanes[lane] += partials_row[k * heads_per_group + j]
    return 1.0 / math.sqrt(warp_total(lanes) / gate + eps)

def stage_gate(g, partials, heads, gate_w, gate, eps, m, k):
    """gp_stage_gate without the BF16 rounding: xs (m, k) = g · scale[group] · w, walking float4 cells as the kernel does."""
    groups, heads_per_group = k // gate, heads // (k // gate)
    scales = [None] * (m * groups)
    for i in range(m * groups):   # a warp per (row, group)
        r = i // groups
        scales[i] = gate_scale(partials[r], i - r * groups, heads_per_group, gate, eps)
    per_row, xs = k // 4, [[None] * k for _ in range(m)]
    for i in range(m * per_row):
        r, c4 = i // per_row, i - (i // per_row) * per_row
        s = scales[r * groups + 4 * c4 // gate]
        for e in range(4): xs[r][4 * c4 + e] = g[r][4 * c4 + e] * s * gate_w[4 * c4 + e]
    return xs

def reference(B, H, P, G, N, W, gate, zxbcdt, conv_w, conv_b, conv_state, a, dt_bias, dvec, d_mode, gate_w, state, dt_min, dt_max, eps):
    """ReferenceBackend's CausalConv1dStep(silu) → SsmStep → GatedRmsNorm, as IBackend's default MambaStep calls them"""
    dn, gn = H * P, G * N
    channels = dn + 2 * gn
    out = []
    for b in range(B):
        row = zxbcdt[b]
        xbc = []
        for c in range(channels):
            window = conv_state[b][c] + [row[dn + c]]
            acc = conv_b[c] if conv_b is not None else 0.0
            for k in range(W): acc += conv_w[c][k] * window[k]
            xbc.append(silu(acc))
            conv_state[b][c] = window[1:]
        y = []
        for h in range(H):
            g = h // (H // G)
            d = dt_of(row[dn + channels + h], dt_bias[h], dt_min, dt_max)
            decay = math.exp(d * a[h])
            for p in range(P):
                xv, acc = xbc[h * P + p], 0.0
                for n in range(N):
                    s = decay * state[b][h][p][n] + d * xv * xbc[dn + g * N + n]
                    state[b][h][p][n] = s
                    acc += s * xbc[dn + gn + g * N + n]
                skip = dvec[h] if d_mode == 1 else dvec[h][p] if d_mode == 2 else 0.0
                y.append(acc + skip * xv)
        gated = [y[i] * silu(row[i]) for i in range(dn)]
        o = [0.0] * dn
        for s0 in range(0, dn, gate):
            ss = sum(v * v for v in gated[s0:s0 + gate])
            inv = 1.0 / math.sqrt(ss / gate + eps)
            for i in range(s0, s0 + gate): o[i] = gated[i] * inv * gate_w[i]
        out.append(o)
    return out

def case(B, H, P, G, N, W, gate, d_mode, bias, clamp, seed=1):
    rnd = random.Random(seed)
    U = lambda lo, hi: lo + (hi - lo) * rnd.random()
    dn, gn = H * P, G * N
    channels = dn + 2 * gn
    def inputs():
        rows = []
        for _ in range(B):
            r = [U(-1, 1) for _ in range(dn + channels)] + [U(-5, 1) for _ in range(H)]
            rows.append(r)
        return rows
    steps = [inputs(), inputs()]
    conv_w = [[U(-1, 1) for _ in range(W)] for _ in range(channels)]
    conv_b = [U(-0.5, 0.5) for _ in range(channels)] if bias else None
    conv0 = [[[U(-1, 1) for _ in range(W - 1)] for _ in range(channels)] for _ in range(B)]
    state0 = [[[[U(-0.5, 0.5) for _ in range(N)] for _ in range(P)] for _ in range(H)] for _ in range(B)]
    a = [U(-16, -1) for _ in range(H)]
    dt_bias = [U(-4, -1) for _ in range(H)]
    dvec = [U(0, 1) for _ in range(H)] if d_mode == 1 else [[U(0, 1) for _ in range(P)] for _ in range(H)] if d_mode == 2 else None
    gate_w = [U(0.5, 1.5) for _ in range(dn)]
    dt_min, dt_max = (0.001, 0.1) if clamp else (0.0, math.inf)
    copy = lambda t: [copy(v) for v in t] if isinstance(t, list) else t
    rc, rs = copy(conv0), copy(state0)
    kc, ks = copy(conv0), copy(state0)
    counters = [0] * B
    V = 4 if N % 4 == 0 else 1
    worst = 0.0
    dc, ds, dcounters = copy(conv0), copy(state0), [0] * B   # the deferred-norm kernel + gemv_ring*_gate's prologue
    for zx in steps:
        want = reference(B, H, P, G, N, W, gate, zx, conv_w, conv_b, rc, a, dt_bias, dvec, d_mode, gate_w, rs, dt_min, dt_max, 1e-5)
        order = [(h, b) for b in range(B) for h in range(H)]
        rnd.shuffle(order)
        got = kernel(V, B, H, P, G, N, W, gate, zx, conv_w, conv_b, kc, a, dt_bias, dvec, d_mode, gate_w, ks, counters, dt_min, dt_max, 1e-5, order)
        flat = lambda t: [x for v in t for x in flat(v)] if isinstance(t, list) else [t]
        for x, y in [(got, want), (kc, rc), (ks, rs)]:
            fx, fy = flat(x), flat(y)
            assert len(fx) == len(fy)
            scale = max(abs(v) for v in fy) or 1.0
            worst = max(worst, max(abs(u - v) for u, v in zip(fx, fy)) / scale)
        assert counters == [0] * B, counters
        if gate % 4 == 0:
            partials = []
            g = kernel(V, B, H, P, G, N, W, gate, zx, conv_w, conv_b, dc, a, dt_bias, dvec, d_mode, gate_w, ds, dcounters, dt_min, dt_max, 1e-5,
                       order, defer_norm=True, partials_out=partials)
            staged = stage_gate(g, partials, H, gate_w, gate, 1e-5, B, H * P)
            assert staged == got and dc == kc and ds == ks and dcounters == [0] * B, "defer_norm + stage_gate differ from the normalising kernel"
    ok = worst < 1e-9
    print(f"{'ok  ' if ok else 'FAIL'}  B={B} H={H} P={P} G={G} N={N} W={W} gate {gate} D mode {d_mode}{'' if bias else ' no bias'}{' clamp' if clamp else ''} (V={V}): max rel diff {worst:.1e}")
    return ok

if __name__ == "__main__":
    results = [
        case(3, 6, 16, 2, 24, 4, 48, 2, False, True),
        case(2, 6, 16, 2, 24, 3, 16, 1, True, False),
        case(2, 4, 8, 1, 17, 4, 32, 0, True, False),
        case(1, 3, 80, 1, 20, 2, 240, 1, True, False),    # P > 64: a second round of rows per warp
        case(1, 2, 8, 1, 256, 4, 16, 1, True, False),     # N > 128: two chunks per lane
        case(1, 80, 64, 1, 128, 4, 5120, 1, True, False),  # mamba2-2.7b
        case(2, 24, 32, 3, 21, 3, 128, 2, False, True),    # the selfcheck's odd MambaStepProject shape: 6 gate groups
    ]
    raise SystemExit(0 if all(results) else 1)
