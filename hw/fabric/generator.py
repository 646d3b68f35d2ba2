"""Traffic sources inside the kernel: one source per input port, its own random stream (rng.py).

A source fills a block of slots ahead of the switch (blk_vc[port, k]: VC entry or -1, blk_fl:
AUU/CLP), independently of the switch's state (no backpressure), so generating ahead never changes
what is generated. Modes:

- BERNOULLI: in each slot a cell with probability p (i.i.d.), on a VC drawn from the port's VC
  distribution. Each VC cuts its cells into AAL5 frames whose length (cells) is drawn from the port's
  frame-length table when a frame starts (no table: every cell is a one-cell frame, AUU=1). Frames
  of different VCs interleave, as from a host's AAL5 segmentation.
- ONOFF: on/off bursts. In an idle slot a burst starts with probability q; a burst is one frame on
  one VC (drawn at its start), one cell per slot back to back, AUU=1 on its last cell. Burst length:
  geometric (each cell ends the burst with probability 1/B) or drawn from the frame-length table.
  Load = B / (B + (1 - q)/q).
- CBR: a static calendar (cal_vc[cal_off + slot mod cal_len]), as the cell schedulers of ATM
  interfaces do for constant-bit-rate VCs; frames per VC as in BERNOULLI.

Every mode may mark cells CLP=1 with probability ``clp`` (one extra draw per cell, only if clp > 0).

VC distribution: Walker's alias method (Vose's construction, IEEE TSE 17(9), 1991): one draw picks a
column uniformly; if the column's probability is below 1, a second draw picks it or its alias.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.fabric.counters import GEN_AUU, GEN_CLP
from hw.fabric.rng import next_u32

MODE_OFF = 0
MODE_BERNOULLI = 1
MODE_ONOFF = 2
MODE_CBR = 3

LEN_ONE = 0  # no table: one-cell frames (BERNOULLI/CBR), geometric bursts (ONOFF)
LEN_TABLE = 1

ALWAYS = np.uint64(1 << 32)  # a threshold that always fires


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def pick_vc(s, i):
    off = s.alias_off[i]
    col = np.int64((next_u32(s.rng, i) * np.uint64(s.alias_n[i])) >> np.uint64(32))
    prob = s.alias_prob[off + col]
    if prob >= ALWAYS or next_u32(s.rng, i) < prob:
        return s.alias_vc[off + col]
    return s.alias_alt[off + col]


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def draw_length(s, i):
    u = next_u32(s.rng, i)
    off = s.len_off[i]
    n = s.len_n[i]
    for k in range(n - 1):
        if u < s.len_cdf[off + k]:
            return s.len_val[off + k]
    return s.len_val[off + n - 1]


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def frame_flags(s, i, v):
    """AUU of the next cell of VC v's current frame (starting a frame when none is open)."""
    left = s.vc_left[v]
    if left == 0:
        left = draw_length(s, i) if s.gen_len_kind[i] == LEN_TABLE else 1
    left -= 1
    s.vc_left[v] = left
    return GEN_AUU if left == 0 else np.uint8(0)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def clp_flag(s, i):
    thr = s.gen_clp_thr[i]
    if thr > 0 and next_u32(s.rng, i) < thr:
        return GEN_CLP
    return np.uint8(0)


@nb.njit(cache=True, nogil=True, _nrt=False)
def generate_block(s, t0, B, P):
    """Fill blk_vc/blk_fl for slots t0 .. t0+B-1 of every port."""
    for i in range(P):
        mode = s.gen_mode[i]
        row_v = s.blk_vc[i]
        row_f = s.blk_fl[i]
        for k in range(B):
            row_v[k] = -1
            row_f[k] = 0
        if mode == MODE_BERNOULLI:
            thr = s.gen_thr[i]
            for k in range(B):
                if next_u32(s.rng, i) < thr:
                    v = pick_vc(s, i)
                    fl = frame_flags(s, i, v)
                    row_v[k] = v
                    row_f[k] = fl | clp_flag(s, i)
        elif mode == MODE_ONOFF:
            start = s.gen_thr[i]
            geometric = s.gen_len_kind[i] != LEN_TABLE
            for k in range(B):
                if s.gen_left[i] == 0:
                    if next_u32(s.rng, i) >= start:
                        continue
                    s.gen_vc[i] = pick_vc(s, i)
                    s.gen_left[i] = 1 if geometric else draw_length(s, i)
                if geometric:
                    end = next_u32(s.rng, i) < s.gen_end_thr[i]
                    if end:
                        s.gen_left[i] = 0
                else:
                    s.gen_left[i] -= 1
                    end = s.gen_left[i] == 0
                row_v[k] = s.gen_vc[i]
                row_f[k] = (GEN_AUU if end else np.uint8(0)) | clp_flag(s, i)
        elif mode == MODE_CBR:
            off = s.cal_off[i]
            n = s.cal_len[i]
            for k in range(B):
                v = s.cal_vc[off + (t0 + k) % n]
                if v >= 0:
                    fl = frame_flags(s, i, v)
                    row_v[k] = v
                    row_f[k] = fl | clp_flag(s, i)
