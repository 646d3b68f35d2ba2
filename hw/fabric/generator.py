"""Traffic sources inside the kernel: one source per input port, its own random stream (rng.py).

The sources fill a block of slots ahead of the switch (blk_arr/blk_end: the cells of each slot in
port order, see generate_block), independently of the switch's state (no backpressure), so generating
ahead never changes what is generated. A block is generated port by port (each source keeps its random
state in a register for the whole block), then compacted into slot order; each source draws from its
own stream, in the same order as the slot-by-slot twin, and sends only VCs of its own input
(Fabric.load_traffic checks it), so the order in which the ports are generated does not matter.
Modes:

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
from hw.fabric.rng import next_u32, xorshift_step

MODE_OFF = 0
MODE_BERNOULLI = 1
MODE_ONOFF = 2
MODE_CBR = 3

LEN_ONE = 0  # no table: one-cell frames (BERNOULLI/CBR), geometric bursts (ONOFF)
LEN_TABLE = 1

ALWAYS = np.uint64(1 << 32)  # a threshold that always fires

# A generated arrival, packed in one int32 of the block (blk_arr): VC entry in bits 0..19 (at most
# 2^20 entries, config.py), GEN_* flags in bits 20..21, input port in bits 22..30 (at most 257 ports).
ARR_VC_MASK = (1 << 20) - 1
ARR_FLAGS_SHIFT = 20
ARR_PORT_SHIFT = 22
NO_CELL = -1


@nb.njit(cache=True, nogil=True, _nrt=False)
def pack_arrival(i, v, fl):
    return np.int32((np.int64(i) << ARR_PORT_SHIFT) | (np.int64(fl) << ARR_FLAGS_SHIFT) | np.int64(v))


@nb.njit(cache=True, nogil=True, _nrt=False)
def unpack_arrival(e):
    """(input port, VC entry, GEN_* flags) of a packed arrival."""
    x = np.int64(e)
    return (x >> ARR_PORT_SHIFT) & 0x1FF, x & ARR_VC_MASK, (x >> ARR_FLAGS_SHIFT) & 3


@nb.njit(cache=True, nogil=True, _nrt=False)
def length_of(len_off, len_n, len_cdf, len_val, i, u):
    """Frame length (cells) for the draw u from port i's frame-length table."""
    off = np.int64(len_off[i])
    n = np.int64(len_n[i])
    for k in range(n - 1):
        if u < len_cdf[off + k]:
            return len_val[off + k]
    return len_val[off + n - 1]


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def pick_vc(s, i):
    off = s.alias_off[i]
    col = off + np.int64((next_u32(s.rng, i) * np.uint64(s.alias_n[i])) >> np.uint64(32))
    prob = s.alias_prob[col]
    if prob >= ALWAYS or next_u32(s.rng, i) < prob:
        return s.alias_vc[col]
    return s.alias_alt[col]


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def draw_length(s, i):
    return length_of(s.len_off, s.len_n, s.len_cdf, s.len_val, i, next_u32(s.rng, i))


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


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def _bernoulli_params(s, i):
    return (s.gen_thr[i], s.alias_off[i], np.uint64(s.alias_n[i]), s.gen_len_kind[i] == LEN_TABLE,
            s.gen_clp_thr[i])


@nb.njit(cache=True, nogil=True, _nrt=False)
def _bernoulli_rest(s, i, x, col, prob, v, table, cthr):
    """A cell arrives: the draws after the VC column (the alias coin if the column's probability is
    below 1; the frame length when the VC starts a frame, table only; CLP)."""
    if prob < ALWAYS:
        x, u = xorshift_step(x)
        if u >= prob:
            v = s.alias_alt[col]
    left = s.vc_left[v]
    if left == 0:
        if table:
            x, u = xorshift_step(x)
            left = length_of(s.len_off, s.len_n, s.len_cdf, s.len_val, i, u)
        else:
            left = 1
    left -= 1
    s.vc_left[v] = left
    fl = GEN_AUU if left == 0 else np.uint8(0)
    if cthr > 0:
        x, u = xorshift_step(x)
        if u < cthr:
            fl |= GEN_CLP
    return x, np.int64(pack_arrival(i, v, fl))


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def _bernoulli_cell(s, i, x, thr, off, ncol, table, cthr):
    """One slot of a BERNOULLI source whose random state x is in a register: (new state, packed cell
    or NO_CELL). The draws, in order: arrival; then, for a cell, the VC column and _bernoulli_rest.

    The column is drawn and looked up whether or not a cell arrives, and the result chosen after
    (the state then steps once or twice): a Bernoulli arrival is a coin toss the branch predictor
    cannot learn, so the common case (uniform VC choice, one-cell frames or a frame in progress, no
    CLP) has no branch on it. Looking up a column that is then not used changes nothing."""
    x1, u = xorshift_step(x)
    cell = u < thr
    x2, u2 = xorshift_step(x1)
    col = off + np.int64((u2 * ncol) >> np.uint64(32))
    prob = s.alias_prob[col]
    v = s.alias_vc[col]
    left = s.vc_left[v]
    if prob < ALWAYS or cthr > 0 or (table and left == 0):
        # a cell here would need more draws: decide by a branch
        if not cell:
            return x1, NO_CELL
        return _bernoulli_rest(s, i, x2, col, prob, v, table, cthr)
    nl = max(left, 1) - 1  # left == 0 here starts a one-cell frame (no table)
    s.vc_left[v] = nl if cell else left
    e = np.int64(pack_arrival(i, v, GEN_AUU if nl == 0 else np.uint8(0)))
    return (x2 if cell else x1), (e if cell else NO_CELL)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def _bernoulli_ports(s, i, j, B, P):
    """The cells of the block of BERNOULLI ports i and j (j < 0: i alone), the two sources side by
    side so that their random streams (each a chain of dependent steps) advance in parallel."""
    thr, off, ncol, table, cthr = _bernoulli_params(s, i)
    x = s.rng[i]
    if j < 0:
        for k in range(B):
            x, e = _bernoulli_cell(s, i, x, thr, off, ncol, table, cthr)
            s.blk_arr[k * P + i] = e
        s.rng[i] = x
        return
    thr2, off2, ncol2, table2, cthr2 = _bernoulli_params(s, j)
    y = s.rng[j]
    for k in range(B):
        x, e = _bernoulli_cell(s, i, x, thr, off, ncol, table, cthr)
        y, f = _bernoulli_cell(s, j, y, thr2, off2, ncol2, table2, cthr2)
        s.blk_arr[k * P + i] = e
        s.blk_arr[k * P + j] = f
    s.rng[i] = x
    s.rng[j] = y


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def _onoff_port(s, i, B, P):
    for k in range(B):
        e = NO_CELL
        start = True
        if s.gen_left[i] == 0:
            if next_u32(s.rng, i) >= s.gen_thr[i]:
                start = False
            else:
                s.gen_vc[i] = pick_vc(s, i)
                s.gen_left[i] = 1 if s.gen_len_kind[i] != LEN_TABLE else draw_length(s, i)
        if start:
            if s.gen_len_kind[i] != LEN_TABLE:
                end = next_u32(s.rng, i) < s.gen_end_thr[i]
                if end:
                    s.gen_left[i] = 0
            else:
                s.gen_left[i] -= 1
                end = s.gen_left[i] == 0
            e = pack_arrival(i, s.gen_vc[i], (GEN_AUU if end else np.uint8(0)) | clp_flag(s, i))
        s.blk_arr[k * P + i] = e


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def _cbr_port(s, i, t0, B, P):
    for k in range(B):
        e = NO_CELL
        v = s.cal_vc[s.cal_off[i] + (t0 + k) % s.cal_len[i]]
        if v >= 0:
            fl = frame_flags(s, i, v)
            e = pack_arrival(i, v, fl | clp_flag(s, i))
        s.blk_arr[k * P + i] = e


@nb.njit(cache=True, nogil=True, _nrt=False)
def generate_block(s, t0, B, P):
    """The arrivals of slots t0 .. t0+B-1: blk_arr[blk_end[k-1] .. blk_end[k]-1] are the cells of slot
    t0 + k, packed by :func:`pack_arrival`, in port order."""
    n_on = 0
    for i in range(P):
        if s.gen_mode[i] != MODE_OFF:
            s.gen_ports[n_on] = i
            n_on += 1
    # 1. port by port into blk_arr[k * P + i], BERNOULLI ports two at a time
    pending = -1
    for x in range(n_on):
        i = s.gen_ports[x]
        mode = s.gen_mode[i]
        if mode == MODE_BERNOULLI:
            if pending < 0:
                pending = np.int64(i)
            else:
                _bernoulli_ports(s, pending, np.int64(i), B, P)
                pending = -1
        elif mode == MODE_ONOFF:
            _onoff_port(s, i, B, P)
        elif mode == MODE_CBR:
            _cbr_port(s, i, t0, B, P)
        else:
            for k in range(B):
                s.blk_arr[k * P + i] = NO_CELL
    if pending >= 0:
        _bernoulli_ports(s, pending, -1, B, P)
    # 2. compact in place, slot by slot (a cell never moves to a later position: gen_ports ascends)
    j = 0
    for k in range(B):
        base = k * P
        for x in range(n_on):
            e = s.blk_arr[base + s.gen_ports[x]]
            s.blk_arr[j] = e
            j += 1 if e >= 0 else 0
        s.blk_end[k] = j
