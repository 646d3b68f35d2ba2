"""Ingress: a cell arrives on an input: HEC check (injected cells), lookup, leaf list walk, buffer
management per copy, one buffer write, one pointer node per accepted copy.

Which queue a copy joins depends on the architecture:
- OQ: the output queue of the leaf's port (thresholds against that output's occupancy, in copies);
- IQ-FIFO: the input's single FIFO, all copies of a cell side by side (occupancy: cells at the input);
- VOQ: the VOQ (input, leaf port) for a VC without MCAST; the input's multicast queue for an MCAST VC
  (thresholds against the input's occupancy in cells).
For input-queued fabrics every copy of a cell is judged against the input occupancy *before* the
cell, so a cell is taken or refused as a whole (per-leaf frame discard states aside).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.cell import hec_of
from hw.fabric.admission import ACCEPT, admit
from hw.fabric.config import Arch
from hw.fabric.counters import (
    BUF_FIRST,
    BUF_PAYLOAD,
    BUF_PTI_SHIFT,
    LEAF_DROPPED,
    LEAF_VALID,
    NIL,
    PORT_DROP_IN,
    PORT_DROP_OUT,
    PORT_RX_CELLS,
    PORT_RX_COPIES,
    VC_AAL5,
    VC_DROP,
    VC_EPD,
    VC_IN_CELLS,
    VC_MCAST,
    VC_OFFERED,
    VC_PPD,
    VC_VALID,
    Drop,
)
from hw.fabric.memory import buffer_alloc, enqueue
from hw.fabric.state import LS_DISCARD_MASK, SC_FREE, SC_NODE_AVAIL
from hw.fabric.tables import cam_lookup

_OQ = int(Arch.OQ)
_IQ = int(Arch.IQ_FIFO)
_UNKNOWN = int(Drop.UNKNOWN_VC)
_NO_LEAF = int(Drop.NO_LEAF)
_HEC = int(Drop.HEC_ERROR)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def _drop_unrouted(s, i, cause):
    s.port_cnt[i, PORT_RX_COPIES] += 1
    s.port_cnt[i, PORT_DROP_IN + cause] += 1


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def ingress(s, t, i, v, pti, clp, cells, row, P, arch):
    """Cell on VC entry v (or v < 0: unknown) arrives on input i in slot t. ``cells[row]`` holds the
    cell when it was injected (row >= 0): its header and payload are stored in the cell memory."""
    s.port_cnt[i, PORT_RX_CELLS] += 1
    if v < 0 or (s.vc_flags[v] & VC_VALID) == 0:
        _drop_unrouted(s, i, _UNKNOWN)
        return
    vf = s.vc_flags[v]
    s.vc_cnt[v, VC_IN_CELLS] += 1
    seq = s.vc_seq[v]
    s.vc_seq[v] = (np.int64(seq) + 1) & 0xFFFFFFFF
    user = pti < 4  # PTI 0..3: user data; 4..7: OAM/RM, not part of AAL5 frames (I.361 Table 4)
    last = (pti & 1) == 1
    first = False
    if user:
        first = s.vc_mid[v] == 0
        s.vc_mid[v] = 0 if last else 1
    frames = user and (vf & VC_AAL5) != 0
    epd_on = (vf & VC_EPD) != 0
    ppd_on = (vf & VC_PPD) != 0

    mem_ok = s.sc[SC_FREE] > 0
    in_qlen = s.occ[i]  # input-queued fabrics: occupancy before this cell
    mcast = (vf & VC_MCAST) != 0
    b = -1
    refs = 0
    fanout = 0
    leaf = s.vc_head[v]
    while leaf != NIL:
        if (s.leaf_flags[leaf] & LEAF_VALID) == 0:
            leaf = s.leaf_next[leaf]
            continue
        fanout += 1
        o = np.int64(s.leaf_port[leaf])
        if arch == _OQ:
            qport = o
            qlen = s.occ[o]
        else:
            qport = i
            qlen = in_qlen
        st = np.int64(s.leaf_state[leaf])
        cause, nst = admit(
            st & LS_DISCARD_MASK, frames, epd_on, ppd_on, first, last, clp != 0, qlen,
            s.port_qlimit[qport], s.port_clp_th[qport], s.port_epd_th[qport], mem_ok, s.sc[SC_NODE_AVAIL] > 0,
        )
        s.leaf_state[leaf] = (st & ~LS_DISCARD_MASK) | nst
        if cause == ACCEPT:
            if b < 0:
                b = buffer_alloc(s)
                s.buf_vc[b] = v
                s.buf_seq[b] = seq
                s.buf_arr[b] = t
                s.buf_in[b] = i
                fl = (clp & 1) | (pti << BUF_PTI_SHIFT)
                if first:
                    fl |= BUF_FIRST
                if row >= 0:
                    fl |= BUF_PAYLOAD
                    for k in range(4):
                        s.cell_mem[b, k] = cells[row, k]
                    for k in range(48):
                        s.cell_mem[b, 4 + k] = cells[row, 5 + k]
                s.buf_flags[b] = fl
                if arch != _OQ:
                    s.occ[i] += 1
            if arch == _OQ:
                q = o
                s.occ[o] += 1
            elif arch == _IQ:
                q = i
            elif mcast:
                q = P * P + i
            else:
                q = i * P + o
            enqueue(s, q, b, leaf)
            refs += 1
        else:
            s.port_cnt[i, PORT_DROP_IN + cause] += 1
            s.port_cnt[o, PORT_DROP_OUT + cause] += 1
            s.vc_cnt[v, VC_DROP + cause] += 1
            s.leaf_cnt[leaf, LEAF_DROPPED] += 1
        leaf = s.leaf_next[leaf]
    if fanout == 0:
        s.vc_cnt[v, VC_OFFERED] += 1
        s.vc_cnt[v, VC_DROP + _NO_LEAF] += 1
        _drop_unrouted(s, i, _NO_LEAF)
        return
    s.port_cnt[i, PORT_RX_COPIES] += fanout
    s.vc_cnt[v, VC_OFFERED] += fanout
    if b >= 0:
        s.buf_ref[b] = refs


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def ingress_injected(s, t, i, tag, cells, row, P, arch):
    """An injected cell: HEC check (I.432: a cell with an errored header is discarded), then lookup
    of (input, VPI, VCI) unless the cell carries a routing tag (tag >= 0: a VC entry number, used by
    the control port to send a cell unchanged out of a chosen port)."""
    c0 = cells[row, 0]
    c1 = cells[row, 1]
    c2 = cells[row, 2]
    c3 = cells[row, 3]
    if hec_of(c0, c1, c2, c3) != cells[row, 4]:
        s.port_cnt[i, PORT_RX_CELLS] += 1
        _drop_unrouted(s, i, _HEC)
        return
    pti = (c3 >> 1) & 7
    clp = c3 & 1
    v = tag
    if v < 0:
        vpi = ((np.int64(c0) & 0xF) << 4) | (np.int64(c1) >> 4)
        vci = ((np.int64(c1) & 0xF) << 12) | (np.int64(c2) << 4) | (np.int64(c3) >> 4)
        v = cam_lookup(s.cam_key, s.cam_vc, (np.int64(i) << 24) | (vpi << 16) | vci)
    ingress(s, t, i, v, np.int64(pti), np.int64(clp), cells, row, P, arch)
