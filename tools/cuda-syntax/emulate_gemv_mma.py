#!/usr/bin/env python3
"""A port of Kernels/gemv_mma.cu (the tensor-core batch GEMV) to numpy, lane by lane, against y = round_bf16(x) · wᵀ + b.
Each lane's cp.async copies (the exact bytes gm_issue names: cells, rows, k offsets, zero fills) go into an emulated
shared memory; commit groups complete either at once (a copy that overwrote a cell before it was read would show) or
only when a wait_group forces them (a slot read before it landed would show). mma.sync is emulated from the PTX ISA's
fragment tables for m16n8k16 .bf16 (A, B and C/D rows and columns per lane and register), independently of the
kernel's own reasoning, so the k-permutation trick, the x rows as B's columns and the D → y mapping are all checked;
every A and B element must be given exactly once per MMA. The host plan (CudaBackend.PlanMma) is ported too. Reads
past K (x's padding holds NaN) or past w raise. Proves nothing about the hardware's timing or races (that is
`mambavl selfcheck --device cuda`). Needs numpy. Usage: emulate_gemv_mma.py"""
import sys
import numpy as np

WARPS = 8
KERNELS = [(1, 4), (1, 6), (1, 8), (1, 12), (2, 4), (2, 6), (2, 8)]   # (T, D), as gemv_mma.cu instantiates


def bf16_bits(f):
    """F32 → BF16 bits, round to nearest even (common.cuh f32_to_bf16_bits; finite values)"""
    u = np.asarray(f, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint32) & 0xFFFF


def bf16_value(bits):
    return (np.asarray(bits, dtype=np.uint32) << 16).view(np.float32)


def lanes():
    lane = np.arange(32)
    return lane, lane >> 2, lane & 3


def fragment_tables():
    """(lane, element) → (row, column) of A, B and C/D for mma.m16n8k16 .bf16 / .f32, as the PTX ISA lists them"""
    a, b, c = np.zeros((32, 8, 2), int), np.zeros((32, 4, 2), int), np.zeros((32, 4, 2), int)
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        for el in range(8):   # a0..a7: register el // 2, its low half first
            a[lane, el] = (g if el in (0, 1, 4, 5) else g + 8, 2 * t + (el & 1) + (8 if el >= 4 else 0))
        for el in range(4):   # b0..b3
            b[lane, el] = (2 * t + (el & 1) + (8 if el >= 2 else 0), g)
        for el in range(4):   # c0..c3
            c[lane, el] = (g if el < 2 else g + 8, 2 * t + (el & 1))
    for table, shape in ((a, (16, 16)), (b, (16, 8)), (c, (16, 8))):   # every element exactly once
        seen = np.zeros(shape, int)
        np.add.at(seen, (table[..., 0].ravel(), table[..., 1].ravel()), 1)
        assert (seen == 1).all()
    return a, b, c


FRAG_A, FRAG_B, FRAG_C = fragment_tables()


def halves(regs):
    """u32 registers (32, r) → their BF16 elements (32, 2r) as F32, low half first"""
    h = np.stack([regs & 0xFFFF, regs >> 16], axis=2).reshape(regs.shape[0], -1)
    return bf16_value(h.astype(np.uint32))


def mma_m16n8k16(a, b, c):
    """a (32, 4) u32, b (32, 2) u32, c (32, 4) → d (32, 4)"""
    A, B, C = np.zeros((16, 16)), np.zeros((16, 8)), np.zeros((16, 8))
    A[FRAG_A[..., 0], FRAG_A[..., 1]] = halves(a)
    B[FRAG_B[..., 0], FRAG_B[..., 1]] = halves(b)
    C[FRAG_C[..., 0], FRAG_C[..., 1]] = c
    D = A @ B + C
    return D[FRAG_C[..., 0], FRAG_C[..., 1]]


class Lanes:
    """One warp's cp.async state: per lane, committed groups of (cell, 4 u32) copies; shared memory as u32[cells, 4]"""

    def __init__(self, smem, early):
        self.smem, self.early, self.open, self.groups = smem, early, [[] for _ in range(32)], []

    def copy(self, lane, cell, words):
        if self.early:
            self.smem[cell] = words
        else:
            self.open[lane].append((cell, words))

    def commit(self):
        self.groups.append(self.open)
        self.open = [[] for _ in range(32)]

    def wait(self, n):
        while len(self.groups) > n:
            for lane_copies in self.groups.pop(0):
                for cell, words in lane_copies:
                    self.smem[cell] = words


def issue(L, T, D, ring, ss, slot, w16, n, k, x32, xoff, ldx, m, row0, kb, with_w, with_x):
    """gm_issue: w16 u16 (n·k), x32 u32 (the F32 buffer's bits), x row r at xoff + r·ldx"""
    cell = ring + (slot % D) * ss
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        kk = kb * 32 + 8 * t
        in_k = kk < k
        if with_w:
            for h in range(2 * T):
                r = row0 + 16 * (h >> 1) + 8 * (h & 1) + g
                if in_k and r < n:
                    lo = r * k + kk
                    assert kk + 8 <= k and lo + 8 <= w16.size
                    words = w16[lo:lo + 8].astype(np.uint32)
                    L.copy(lane, cell + 32 * h + lane, words[0::2] | (words[1::2] << 16))
                else:
                    L.copy(lane, cell + 32 * h + lane, np.zeros(4, np.uint32))
        if with_x and g < m:
            for half in range(2):
                dst = cell + 64 * T + 4 * m * half + lane
                if in_k:
                    lo = xoff + g * ldx + kk + 4 * half
                    assert kk + 4 * half + 4 <= k
                    L.copy(lane, dst, x32[lo:lo + 4].copy())
                else:
                    L.copy(lane, dst, np.zeros(4, np.uint32))


def consume(smem, T, cell, m, acc):
    a = np.zeros((T, 32, 2, 4), np.uint32)   # tile, lane, rows g / g + 8, words
    b = np.zeros((32, 4), np.uint32)
    for lane in range(32):
        if (lane >> 2) < m:
            lo = smem[cell + 64 * T + lane].view(np.float32)
            hi = smem[cell + 64 * T + 4 * m + lane].view(np.float32)
            v = np.concatenate([lo, hi])
            bits = bf16_bits(v)
            b[lane] = bits[0::2] | (bits[1::2] << 16)   # bf16x2_rn(lo, hi): lo in the low half
        for u in range(T):
            a[u, lane, 0] = smem[cell + 32 * (2 * u) + lane]
            a[u, lane, 1] = smem[cell + 32 * (2 * u + 1) + lane]
    for u in range(T):
        ra, rb = a[u, :, 0], a[u, :, 1]
        first = np.stack([ra[:, 0], rb[:, 0], ra[:, 1], rb[:, 1]], axis=1)
        second = np.stack([ra[:, 2], rb[:, 2], ra[:, 3], rb[:, 3]], axis=1)
        acc[u] = mma_m16n8k16(first, b[:, 0:2], acc[u])
        acc[u] = mma_m16n8k16(second, b[:, 2:4], acc[u])


def group_end(T, acc, part, bias, y, m, n, tile0):
    for u in range(T):
        for warp in range(WARPS):
            part[(u * WARPS + warp) * 32:(u * WARPS + warp + 1) * 32] = acc[warp][u]
            acc[warp][u][:] = 0.0
    flat = part.reshape(-1)
    for i in range(256):
        if i >= 16 * T * m:
            continue
        r, c = i // (16 * T), i % (16 * T)
        row = c & 15
        src, comp = (row & 7) * 4 + (r >> 1), (row >> 3) * 2 + (r & 1)
        col = tile0 * 16 + c
        if col >= n:
            continue
        base = ((c >> 4) * WARPS * 32 + src) * 4 + comp
        s = 0.0
        for v in range(WARPS):
            s += flat[base + v * 32 * 4]
        assert np.isnan(y[r, col]), "written twice"
        y[r, col] = s + (bias[col] if bias is not None else 0.0)


def kernel(T, D, block, groups_per_block, w16, x32, xoff, ldx, bias, y, m, n, k, early):
    ss = 64 * T + 8 * m
    smem = np.full((WARPS * D * ss, 4), 0x7FC00000, np.uint32)   # NaN bits: a cell read before written shows
    part = np.zeros((T * WARPS * 32, 4))
    nkb = (k + 31) >> 5
    tiles, = ((n + 15) >> 4,)
    groups = (tiles + T - 1) // T
    group0 = block * groups_per_block
    my_groups = min(groups_per_block, groups - group0)
    assert my_groups >= 1
    acc = [[np.zeros((32, 4)) for _ in range(T)] for _ in range(WARPS)]
    walk.states = {}   # each warp's ring and cursors, kept across the block's groups
    for gi in range(my_groups):
        for warp in range(WARPS):
            walk(T, D, warp, warp * D * ss, ss, smem, gi, my_groups, group0, nkb, w16, x32, xoff, ldx, m, n, k, early, acc[warp])
        group_end(T, acc, part, bias, y, m, n, (group0 + gi) * T)


def walk(T, D, warp, ring, ss, smem, gi_now, my_groups, group0, nkb, w16, x32, xoff, ldx, m, n, k, early, acc):
    """One warp's part of group gi_now (its ring and cursors live across the block's groups: walk.states)"""
    kbs = (nkb - warp + WARPS - 1) // WARPS
    total = my_groups * kbs
    state = walk.states.get(warp)
    if state is None:
        L = Lanes(smem, early)
        nxt, xs = [0, 0], [0, 0]

        def adv(c):
            c[1] += 1
            if c[1] == kbs:
                c[1], c[0] = 0, c[0] + 1
        for s in range(D - 1):
            if s < total:
                issue(L, T, D, ring, ss, s, w16, n, k, x32, xoff, ldx, m, (group0 + nxt[0]) * T * 16, warp + WARPS * nxt[1], True, False)
                adv(nxt)
            L.commit()
        for s in range(D - 1):
            if s < total:
                issue(L, T, D, ring, ss, s, w16, n, k, x32, xoff, ldx, m, (group0 + xs[0]) * T * 16, warp + WARPS * xs[1], False, True)
                adv(xs)
            L.commit()
        state = walk.states[warp] = {"L": L, "next": nxt, "adv": adv, "s": 0}
    L, nxt, adv = state["L"], state["next"], state["adv"]
    for j in range(kbs):
        s = state["s"]
        assert s == gi_now * kbs + j
        if s + D - 1 < total:
            issue(L, T, D, ring, ss, s + D - 1, w16, n, k, x32, xoff, ldx, m, (group0 + nxt[0]) * T * 16, warp + WARPS * nxt[1], True, True)
            adv(nxt)
        L.commit()
        L.wait(D - 1)
        consume(smem, T, ring + (s % D) * ss, m, acc)
        state["s"] = s + 1


walk.states = {}


def plan(m, k, n, sms=132, shared_per_sm=233472, by_registers=None):
    """CudaBackend.PlanMma: the kernel with the most weight bytes in flight, one wave of blocks"""
    best = None
    tiles = (n + 15) // 16
    kbs_max = ((k + 31) // 32 + WARPS - 1) // WARPS
    for t, d in KERNELS:
        shared = 16 * (WARPS * d * (64 * t + 8 * m) + 256 * t)
        if shared > 200 * 1024:
            continue
        per_sm = min(by_registers or 4, shared_per_sm // (shared + 1024))
        if per_sm == 0:
            continue
        groups = (tiles + t - 1) // t
        wave = sms * per_sm
        per = (groups + wave - 1) // wave
        blocks = (groups + per - 1) // per
        in_flight = blocks * WARPS * min(d - 1, per * kbs_max) * t * 1024
        if best is None or in_flight > best[-1]:
            best = (t, d, shared, blocks, per, in_flight)
    return best


def run(m, n, k, ldx_pad, T, D, groups_per_block, blocks_to_run, early, rng):
    ldx = k + ldx_pad
    xbuf = rng.uniform(-1, 1, size=(m, ldx)).astype(np.float32)
    xbuf[:, k:] = np.nan   # x's row padding: never read
    xoff = 0
    w = bf16_bits(rng.uniform(-1, 1, size=(n, k)).astype(np.float32)).astype(np.uint16)
    bias = rng.uniform(-0.5, 0.5, size=n)
    y = np.full((m, n), np.nan)
    tiles = (n + 15) // 16
    groups = (tiles + T - 1) // T
    grid = (groups + groups_per_block - 1) // groups_per_block
    blocks = range(grid) if blocks_to_run is None else sorted({b % grid for b in blocks_to_run})
    for block in blocks:
        kernel(T, D, block, groups_per_block, w.reshape(-1), xbuf.reshape(-1).view(np.uint32), xoff, ldx, bias, y, m, n, k, early)
    xr = bf16_value(bf16_bits(xbuf[:, :k])).astype(np.float64)
    ref = xr @ bf16_value(w.astype(np.uint32)).astype(np.float64).T + bias
    cols = np.concatenate([np.arange(b * groups_per_block * T * 16, min(n, (b + 1) * groups_per_block * T * 16)) for b in blocks])
    got, want = y[:, cols], ref[:, cols]
    assert not np.isnan(got).any(), "an output was not written"
    err = np.abs(got - want).max() / max(1.0, np.abs(want).max())
    return err, len(blocks), grid


def main():
    rng = np.random.default_rng(1)
    failed = 0
    cases = [   # m, n, k, ldx padding, blocks to run (None: all)
        (3, 77, 264, 4, None), (8, 77, 64, 0, None), (5, 1000, 264, 12, None), (8, 40, 8, 0, None), (1, 33, 520, 0, None),
        (8, 10576, 2560, 0, [0, 1, -2, -1]), (3, 10576, 2560, 0, [0, -1]), (8, 2560, 5120, 0, [0, -1]), (5, 2560, 5120, 4, [7]),
    ]
    for m, n, k, pad, which in cases:
        t, d, shared, blocks, per, in_flight = plan(m, k, n)
        combos = [(t, d, per)] + [(tt, dd, 2) for tt, dd in KERNELS if (tt, dd) != (t, d) and n < 2000]
        for T, D, gpb in combos:
            for early in (False, True):
                err, ran, grid = run(m, n, k, pad, T, D, gpb, which, early, rng)
                ok = err < 1e-6
                failed += not ok
                print(f"{'ok  ' if ok else 'FAIL'} M={m} N={n} K={k} ldx=K+{pad} gemv_mma_t{T}_d{D} groups/block {gpb} "
                      f"({ran} of {grid} blocks{', plan' if (T, D, gpb) == (t, d, per) else ''}) copies {'at issue' if early else 'at wait'}: "
                      f"max error {err:.1e}")
    for m, k, n in [(8, 2560, 10576), (8, 5120, 2560), (3, 2560, 10576), (3, 5120, 2560)]:
        t, d, shared, blocks, per, in_flight = plan(m, k, n)
        print(f"plan M={m} N={n} K={k}: gemv_mma_t{t}_d{d}, {shared / 1024:.0f} KB shared, {blocks} blocks of {per} groups, "
              f"{in_flight / 2**20:.1f} MiB of w in flight")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":   # emulate_blocks_mma.py imports the fragment tables and the MMA
    main()
