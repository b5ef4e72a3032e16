#!/usr/bin/env python3
"""A port of mamba_blocks' tensor-core products (Kernels/blocks_mma.cuh with mamba_blocks.cu's MbStream and
mb_ring_walk) to numpy, warp by warp with the 32 lanes as vectors, against y = x · wᵀ + b for every product of every
layer. Each warp's ONE stream runs through all layers (in_proj's slots, then out_proj's) into its ring of DEPTH cells,
one commit group per slot (empty past the end); the groups complete either at issue (a copy over a cell not yet read
would show) or only when a wait_group forces them (a slot read before it landed would show: cells start as NaN).
x is packed to BF16 pairs as mb_pack_bf16 does, in place over its F32 bytes; the MMA is emulate_gemv_mma.py's (the
PTX ISA's m16n8k16 fragment tables), F32 sums; the diagonal flush, part (cols, warps), each entry written at most once,
and the reduction in warp order of only the entries written are all checked. Shapes: small odd ones (N not a multiple
of 8 or of the grid, K / 256 = 1..3) over a few blocks and the 2.7B's over its first and last of 132 blocks. Proves
nothing about the hardware's timing or races (that is `mambavl selfcheck --device cuda`). Usage: emulate_blocks_mma.py"""
import sys
import numpy as np
from emulate_gemv_mma import bf16_bits, bf16_value, mma_m16n8k16

NAN_WORD = 0x7FC00000


class Share:
    """MbMmaShare: the block's columns col0 .. col0 + cols, spc slots each; warp v's slots first(v) .. first(v + 1)"""

    def __init__(self, n, k, block, grid, warps, warp):
        self.col0 = block * n // grid
        self.cols = (block + 1) * n // grid - self.col0
        self.spc, self.warps = k >> 8, warps
        self.s0 = self.first(warp)
        self.slots = self.first(warp + 1) - self.s0
        self.offset = self.col0 * (k >> 3) + 32 * self.s0   # uint4 cells

    def first(self, v):
        return v * self.cols * self.spc // self.warps

    def has(self, v, i):
        lo, hi = self.first(v), self.first(v + 1)
        return lo < hi and lo < (i + 1) * self.spc and hi > i * self.spc


class Stream:
    """MbStream: the source cell (an index into w viewed as (cells, 4) u32) of each next slot's lane 0, layer by layer
    in_proj's slots then out_proj's; None past the last layer"""

    def __init__(self, layers, slots_in, slots_out, in_off, out_off):
        self.layers, self.slots_in, self.slots_out, self.in_off, self.out_off = layers, slots_in, slots_out, in_off, out_off
        self.layer, self.r = 0, 0

    def next(self):
        if self.layer >= len(self.layers) or self.slots_in + self.slots_out == 0:
            return None
        w_in, w_out = self.layers[self.layer]
        p = (w_in, self.in_off + 32 * self.r) if self.r < self.slots_in else (w_out, self.out_off + 32 * (self.r - self.slots_in))
        self.r += 1
        if self.r == self.slots_in + self.slots_out:
            self.r, self.layer = 0, self.layer + 1
        return p


class Ring:
    """One warp's cells (DEPTH · 32, 4) u32 and its commit groups: each a list of (cells, words) copies of the 32 lanes"""

    def __init__(self, depth, early):
        self.cells = np.full((depth * 32, 4), NAN_WORD, np.uint32)
        self.early, self.open, self.groups, self.committed = early, [], [], 0

    def copy(self, cell, src):
        w, at = src
        words = w[at:at + 32].copy()   # lane l: the 16 bytes at cell at + l
        assert words.shape == (32, 4), "a copy past the matrix's end"
        if self.early:
            self.cells[32 * cell:32 * cell + 32] = words
        else:
            self.open.append((cell, words))

    def commit(self):
        self.groups.append(self.open)
        self.open, self.committed = [], self.committed + 1

    def wait(self, n):
        while len(self.groups) > n:
            for cell, words in self.groups.pop(0):
                self.cells[32 * cell:32 * cell + 32] = words


class Take:
    """MbMmaTake: slot u of a round into accumulator u; the diagonal of all U into part at each column end"""

    def __init__(self, share, xb, part, warp, U):
        self.share, self.xb, self.part, self.warp = share, xb, part, warp
        self.col, self.ks = share.s0 // share.spc, share.s0 % share.spc
        self.acc = [np.zeros((32, 4), np.float32) for _ in range(U)]

    def mma(self, u, w):
        x = self.xb[32 * self.ks:32 * self.ks + 32]   # (32 lanes, 4) u32
        zero = np.zeros(32, np.uint32)
        for half in range(2):   # mma_bf16(d, x.x, 0, x.y, 0, w.x, w.y), then .z/.w
            a = np.stack([x[:, 2 * half], zero, x[:, 2 * half + 1], zero], axis=1)
            b = w[:, 2 * half:2 * half + 2]
            self.acc[u] = mma_m16n8k16(a, b, self.acc[u].astype(np.float64)).astype(np.float32)
        self.ks += 1
        if self.ks < self.share.spc:
            return
        self.flush()
        self.ks, self.col = 0, self.col + 1

    def flush(self):
        lane = np.arange(32)
        g, t = lane >> 2, lane & 3
        d = np.zeros(32, np.float32)
        for u in range(len(self.acc)):
            d += np.where(t == (g >> 1), np.where(g & 1, self.acc[u][:, 1], self.acc[u][:, 0]), 0.0).astype(np.float32)
            self.acc[u][:] = 0.0
        at = self.col * self.share.warps + self.warp
        assert 0 <= self.col < self.share.cols and np.isnan(self.part[at]), "a partial sum out of range or written twice"
        self.part[at] = np.float32(d.sum(dtype=np.float32))

    def end_of_warp(self):
        if self.share.slots > 0 and self.ks != 0:
            self.flush()


def reduce(share, part, bias, y):
    """MbMmaTake.end after the barrier: y (cols) = Σ_warps part in warp order (+ bias), written once"""
    for i in range(share.cols):
        s = np.float32(0.0)
        for v in range(share.warps):
            if share.has(v, i):
                assert not np.isnan(part[i * share.warps + v]), "a partial sum counted but never written"
                s = np.float32(s + part[i * share.warps + v])
        c = share.col0 + i
        assert np.isnan(y[c]), "an output written twice"
        y[c] = s + np.float32(bias[c])


def pack_bf16(xs_words, k):
    """mb_pack_bf16: xs (k) F32 bits → its first k / 2 words as BF16 pairs (even element low); all reads first"""
    bits = bf16_bits(xs_words[:k].view(np.float32))
    packed = (bits[0::2] | (bits[1::2] << 16)).astype(np.uint32)
    xs_words[:k // 2] = packed
    return xs_words[:k // 2].reshape(-1, 4)   # uint4 view: segment ks's lane l at 32·ks + l


def walk(stream, ring, head, depth, U, slots, take):
    """mb_ring_walk: rounds of U (issue U, wait DEPTH - U, take U in order), the last slots one by one; → head"""
    i = 0
    while i + U <= slots:
        c = head - U + (depth if head < U else 0)
        for _ in range(U):
            src = stream.next()
            if src is not None:
                ring.copy(c, src)
            ring.commit()
            c = 0 if c + 1 == depth else c + 1
        ring.wait(depth - U)
        v = []
        for _ in range(U):
            v.append(ring.cells[32 * c:32 * c + 32].copy())
            c = 0 if c + 1 == depth else c + 1
        for u in range(U):
            take.mma(u, v[u])
        head = c
        i += U
    while i < slots:
        src = stream.next()
        c = head - U + (depth if head < U else 0)
        if src is not None:
            ring.copy(c, src)
        ring.commit()
        ring.wait(depth - U)
        take.mma(0, ring.cells[32 * head:32 * head + 32].copy())
        head = 0 if head + 1 == depth else head + 1
        i += 1
    take.end_of_warp()
    return head


def run(n_in, d, dn, layers, grid, blocks, depth, U, early, rng, warps=8):
    """Every layer's in_proj (n_in, d) then out_proj (d, dn) of the given blocks; → max error relative to max |y|"""
    mats = []
    for _ in range(layers):
        w_in = bf16_bits(rng.uniform(-1, 1, (n_in, d)).astype(np.float32)).astype(np.uint16)
        w_out = bf16_bits(rng.uniform(-1, 1, (d, dn)).astype(np.float32)).astype(np.uint16)
        mats.append((w_in, w_out))
    as_cells = [(w_in.reshape(-1).view(np.uint32).reshape(-1, 4), w_out.reshape(-1).view(np.uint32).reshape(-1, 4)) for w_in, w_out in mats]
    worst = 0.0
    for block in blocks:
        shares = [(Share(n_in, d, block, grid, warps, v), Share(d, dn, block, grid, warps, v)) for v in range(warps)]
        streams = [Stream(as_cells, s_in.slots, s_out.slots, s_in.offset, s_out.offset) for s_in, s_out in shares]
        rings = [Ring(depth, early) for _ in range(warps)]
        heads = [0] * warps
        for v in range(warps):   # the first DEPTH - U slots out at once
            for s in range(depth - U):
                src = streams[v].next()
                if src is not None:
                    rings[v].copy(s, src)
                rings[v].commit()
        for l in range(layers):
            for p, (n, k) in enumerate([(n_in, d), (d, dn)]):
                xs = bf16_value(bf16_bits(rng.uniform(-1, 1, k).astype(np.float32)))   # staged, BF16-rounded
                bias = rng.uniform(-0.5, 0.5, n).astype(np.float32)
                xs_words = np.concatenate([xs.view(np.uint32), np.full(8, NAN_WORD, np.uint32)])   # past k: never read
                xb = pack_bf16(xs_words, k)
                part = np.full(((n + grid - 1) // grid) * warps, np.nan, np.float32)
                y = np.full(n, np.nan, np.float32)
                for v in range(warps):
                    share = shares[v][p]
                    take = Take(share, xb, part, v, U)
                    heads[v] = walk(streams[v], rings[v], heads[v], depth, U, share.slots, take)
                share = shares[0][p]
                reduce(share, part, bias, y)
                cols = np.arange(share.col0, share.col0 + share.cols)
                w = bf16_value(mats[l][p][cols].astype(np.uint32)).astype(np.float64)
                want = w @ xs.astype(np.float64) + bias[cols]
                got = y[cols]
                assert not np.isnan(got).any() and np.isnan(np.delete(y, cols)).all(), "an output of the block not written, or another's"
                if share.cols:
                    worst = max(worst, np.abs(got - want).max() / max(1.0, np.abs(want).max()))
        for v in range(warps):   # one group per slot, issued or empty: the wait_group immediate's premise
            assert rings[v].committed == depth - U + layers * (shares[v][0].slots + shares[v][1].slots), "a slot without its group"
    return worst


def main():
    rng = np.random.default_rng(3)
    failed = 0
    cases = [   # N_in, D, Dn, layers, grid, blocks, DEPTH, U
        (37, 512, 768, 2, 3, [0, 1, 2], 12, 4),
        (37, 512, 768, 2, 3, [0, 1, 2], 6, 4),
        (101, 256, 512, 3, 5, [0, 2, 4], 48, 4),
        (13, 768, 256, 2, 4, [0, 1, 2, 3], 12, 4),   # blocks of 3-4 columns: warps with no slots, columns over several warps
        (7, 256, 256, 2, 9, [0, 1, 5, 8], 10, 4),    # more blocks than columns
        (1668, 512, 768, 1, 132, [0, 77, 131], 48, 4),   # the selfcheck's 12-head stack
        (10576, 2560, 5120, 1, 132, [0, 131], 48, 4),    # mamba2-2.7b
    ]
    for n_in, d, dn, layers, grid, blocks, depth, U in cases:
        for early in (False, True):
            if n_in > 2000 and early:
                continue
            err = run(n_in, d, dn, layers, grid, blocks, depth, U, early, rng)
            ok = err < 1e-5
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} N_in={n_in} D={d} Dn={dn}, {layers} layers, grid {grid} (blocks {blocks}), "
                  f"ring {depth}/{U}, copies {'at issue' if early else 'at wait'}: max error {err:.1e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
