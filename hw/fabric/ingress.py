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
    port_add,
    vc_add,
)
from hw.fabric.memory import buffer_alloc, desc_write, enqueue
from hw.fabric.tables import cam_lookup

_OQ = int(Arch.OQ)
_IQ = int(Arch.IQ_FIFO)
_UNKNOWN = int(Drop.UNKNOWN_VC)
_NO_LEAF = int(Drop.NO_LEAF)
_HEC = int(Drop.HEC_ERROR)
_MEM = int(Drop.MEMORY_FULL)


@nb.njit(cache=True, nogil=True, _nrt=False)
def _drop_unrouted(port_cf, i, cause):
    port_add(port_cf, i, PORT_RX_COPIES, 1)
    port_add(port_cf, i, PORT_DROP_IN + cause, 1)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def ingress(s, t, i, vc, pti, clp, cells, row, P, arch, free, nfree):
    """Cell on VC entry vc (or vc < 0: unknown) arrives on input i in slot t. ``cells[row]`` holds the
    cell when it was injected (row >= 0): its header and payload are stored in the cell memory.
    ``free``/``nfree`` are the free buffer and node counts (memory.py); returns their new values."""
    port_add(s.port_cf, i, PORT_RX_CELLS, 1)
    if vc < 0:
        _drop_unrouted(s.port_cf, i, _UNKNOWN)
        return free, nfree
    v = np.uint32(vc)
    vf = s.vc_flags[v]
    if (vf & VC_VALID) == 0:
        _drop_unrouted(s.port_cf, i, _UNKNOWN)
        return free, nfree
    vc_add(s.vc_cf, v, VC_IN_CELLS, 1)
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
    clp_on = clp != 0
    fl = (clp & 1) | (pti << BUF_PTI_SHIFT)
    if first:
        fl |= BUF_FIRST
    if row >= 0:
        fl |= BUF_PAYLOAD

    mem_ok = free > 0
    in_qlen = s.occ[i]  # input-queued fabrics: occupancy before this cell
    mcast = (vf & VC_MCAST) != 0
    b = np.uint32(0)
    have_b = False
    refs = 0
    fanout = 0
    if not mem_ok and not frames:
        # the shared memory is full: every copy is refused before any other check (admission.py),
        # and a refused copy leaves its leaf's discard state NORMAL
        leaf = s.vc_head[v]
        while leaf != NIL:
            nxt = s.leaf_next[leaf]
            if s.leaf_flags[leaf] & LEAF_VALID:
                fanout += 1
                port_add(s.port_cf, s.leaf_port[leaf], PORT_DROP_OUT + _MEM, 1)
                s.leaf_drop[leaf] += 1
                s.leaf_discard[leaf] = 0
            leaf = nxt
        if fanout > 0:
            port_add(s.port_cf, i, PORT_DROP_IN + _MEM, fanout)
            vc_add(s.vc_cf, v, VC_DROP + _MEM, fanout)
    else:
        leaf = s.vc_head[v]
        while leaf != NIL:
            nxt = s.leaf_next[leaf]
            if (s.leaf_flags[leaf] & LEAF_VALID) == 0:
                leaf = nxt
                continue
            fanout += 1
            o = s.leaf_port[leaf]
            if arch == _OQ:
                qport = o
                qlen = s.occ[o]
            else:
                qport = i
                qlen = in_qlen
            cause, nst = admit(
                np.int64(s.leaf_discard[leaf]), frames, epd_on, ppd_on, first, last, clp_on, qlen,
                s.port_qlimit[qport], s.port_clp_th[qport], s.port_epd_th[qport], mem_ok, nfree > 0,
            )
            s.leaf_discard[leaf] = nst
            if cause == ACCEPT:
                if not have_b:
                    have_b = True
                    b, free = buffer_alloc(s.free_stack, free)
                    desc_write(s.buf_desc, b, t, seq, v, fl)
                    s.buf_in[b] = i
                    if row >= 0:
                        for k in range(4):
                            s.cell_mem[b, k] = cells[row, k]
                        for k in range(48):
                            s.cell_mem[b, 4 + k] = cells[row, 5 + k]
                    if arch != _OQ:
                        s.occ[i] += 1
                if arch == _OQ:
                    q = np.int64(o)
                    s.occ[o] = qlen + 1
                elif arch == _IQ:
                    q = np.int64(i)
                elif mcast:
                    q = P * P + i
                else:
                    q = i * P + o
                nfree = enqueue(s.node, s.node_stack, s.q_head, s.q_tail, q, b, leaf, nfree)
                refs += 1
            else:
                port_add(s.port_cf, i, PORT_DROP_IN + cause, 1)
                port_add(s.port_cf, o, PORT_DROP_OUT + cause, 1)
                vc_add(s.vc_cf, v, VC_DROP + cause, 1)
                s.leaf_drop[leaf] += 1
            leaf = nxt
    if fanout == 0:
        vc_add(s.vc_cf, v, VC_OFFERED, 1)
        vc_add(s.vc_cf, v, VC_DROP + _NO_LEAF, 1)
        _drop_unrouted(s.port_cf, i, _NO_LEAF)
        return free, nfree
    port_add(s.port_cf, i, PORT_RX_COPIES, fanout)
    vc_add(s.vc_cf, v, VC_OFFERED, fanout)
    if have_b:
        s.buf_ref[b] = refs
    return free, nfree


@nb.njit(cache=True, nogil=True, _nrt=False)
def injected_header(port_cf, cam_key_arr, cam_vc_arr, i, tag, cells, row):
    """An injected cell's header: HEC check (I.432: a cell with an errored header is discarded and
    counted here), then lookup of (input, VPI, VCI) unless the cell carries a routing tag (tag >= 0:
    a VC entry number, used by the control port to send a cell unchanged out of a chosen port).
    Returns (VC entry or -1, PTI, CLP, False when the cell was discarded)."""
    c0 = cells[row, 0]
    c1 = cells[row, 1]
    c2 = cells[row, 2]
    c3 = cells[row, 3]
    if hec_of(c0, c1, c2, c3) != cells[row, 4]:
        port_add(port_cf, i, PORT_RX_CELLS, 1)
        _drop_unrouted(port_cf, i, _HEC)
        return np.int64(-1), np.int64(0), np.int64(0), False
    v = np.int64(tag)
    if v < 0:
        vpi = ((np.int64(c0) & 0xF) << 4) | (np.int64(c1) >> 4)
        vci = ((np.int64(c1) & 0xF) << 12) | (np.int64(c2) << 4) | (np.int64(c3) >> 4)
        v = np.int64(cam_lookup(cam_key_arr, cam_vc_arr, (np.int64(i) << 24) | (vpi << 16) | vci))
    return v, np.int64((c3 >> 1) & 7), np.int64(c3 & 1), True
