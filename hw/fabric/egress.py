"""Egress: a copy leaves the fabric on output o in slot t.

Per delivered copy: statistics (counters, delay histogram, per-port delay sums), the emulated leaf's
checker, the capture buffer for outputs whose consumer wants every cell (with the header rewritten
and the HEC regenerated for this copy), and the buffer's reference count (the buffer returns to the
free list with its last copy).

Leaf checker (what an emulated endpoint verifies without seeing the cells in Python): the ingress
numbers the cells of each VC 0, 1, 2...; a leaf expects them in order. A jump forward counts the
skipped numbers as LOST; a number already passed counts as MISORDERED (a fabric bug if ever > 0).
For AAL5 VCs the checker models the receiver's reassembly (I.363.5): cells accumulate from the first
one after an AUU=1 cell up to the next AUU=1 cell, which closes the PDU. The PDU counts FRAMES_OK when
it is exactly one original frame (it began with that frame's first cell and no number was skipped
inside it), else FRAMES_BAD (its CPCS CRC or length check would fail). Frames lost whole (EPD) leave
no trace but the gap.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.cell import hec_of
from hw.fabric.config import Arch
from hw.fabric.counters import (
    BUF_FIRST,
    BUF_PAYLOAD,
    BUF_PTI_SHIFT,
    LEAF_DELAY_MAX,
    LEAF_DELAY_MIN,
    LEAF_DELAY_SUM,
    LEAF_FRAMES_BAD,
    LEAF_FRAMES_OK,
    LEAF_GOOD_CELLS,
    LEAF_KEEP_HEADER,
    LEAF_LOST,
    LEAF_MISORDERED,
    LEAF_OUT,
    PORT_CAPTURE,
    PORT_DELAY_MAX,
    PORT_DELAY_SUM,
    PORT_STOP,
    PORT_TX_CELLS,
    VC_AAL5,
    VC_OUT,
)
from hw.fabric.memory import buffer_free, unlink
from hw.fabric.state import LS_FRAME_OK, LS_IN_PDU, LS_SYNC, SC_CAP_N, SC_STOP
from hw.fabric.stats import hist_bin
from hw.fabric.tables import write_header, write_test_cell_payload

_OQ = int(Arch.OQ)
STOP_PORT = 1  # a cell reached a port with STOP set
STOP_CAPTURE = 2  # the capture buffer is nearly full


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def check_leaf(s, leaf, v, seq, flags):
    st = np.int64(s.leaf_state[leaf])
    gap = False
    if st & LS_SYNC:
        # serial-number arithmetic mod 2^32 (RFC 1982): a difference of 2^31 or more is "behind"
        diff = (np.int64(seq) - np.int64(s.leaf_expect[leaf])) & 0xFFFFFFFF
        if diff >= 0x80000000:
            diff -= 0x100000000
        if diff < 0:
            s.leaf_cnt[leaf, LEAF_MISORDERED] += 1
            return
        if diff > 0:
            s.leaf_cnt[leaf, LEAF_LOST] += diff
            gap = True
    st |= LS_SYNC
    s.leaf_expect[leaf] = (np.int64(seq) + 1) & 0xFFFFFFFF
    pti = (flags >> BUF_PTI_SHIFT) & 7
    if pti < 4 and (s.vc_flags[v] & VC_AAL5):
        if (st & LS_IN_PDU) == 0:
            # reassembly buffer empty: a PDU starts here, whole if this is its frame's first cell
            if flags & BUF_FIRST:
                st |= LS_FRAME_OK
            else:
                st &= ~LS_FRAME_OK
            st |= LS_IN_PDU
            s.leaf_pdu_cells[leaf] = 0
        elif gap:
            st &= ~LS_FRAME_OK
        s.leaf_pdu_cells[leaf] += 1
        if pti & 1:  # AUU: the receiver closes the PDU (I.363.5)
            if st & LS_FRAME_OK:
                s.leaf_cnt[leaf, LEAF_FRAMES_OK] += 1
                s.leaf_cnt[leaf, LEAF_GOOD_CELLS] += s.leaf_pdu_cells[leaf]
            else:
                s.leaf_cnt[leaf, LEAF_FRAMES_BAD] += 1
            st &= ~(LS_IN_PDU | LS_FRAME_OK)
    s.leaf_state[leaf] = st


@nb.njit(cache=True, nogil=True, _nrt=False)
def capture(s, t, o, b, v, leaf):
    k = s.sc[SC_CAP_N]
    s.sc[SC_CAP_N] = k + 1
    s.cap_slot[k] = t
    s.cap_port[k] = o
    s.cap_in[k] = s.buf_in[b]
    s.cap_vc[k] = v
    s.cap_leaf[k] = leaf
    out = s.cap_cell[k]
    fl = np.int64(s.buf_flags[b])
    pti = (fl >> BUF_PTI_SHIFT) & 7
    clp = fl & 1
    stored = (fl & BUF_PAYLOAD) != 0
    if s.leaf_flags[leaf] & LEAF_KEEP_HEADER:
        if stored:
            c0, c1, c2, c3 = s.cell_mem[b, 0], s.cell_mem[b, 1], s.cell_mem[b, 2], s.cell_mem[b, 3]
            out[0], out[1], out[2], out[3] = c0, c1, c2, c3
            out[4] = hec_of(c0, c1, c2, c3)
        else:
            write_header(out, 0, np.int64(s.vc_vpi[v]), np.int64(s.vc_vci[v]), pti, clp)
    else:
        # I.361: the switch translates VPI/VCI; GFC is not carried through the network (set to 0)
        write_header(out, 0, np.int64(s.leaf_vpi[leaf]), np.int64(s.leaf_vci[leaf]), pti, clp)
    if stored:
        for k2 in range(48):
            out[5 + k2] = s.cell_mem[b, 4 + k2]
    else:
        write_test_cell_payload(out, np.int64(s.buf_seq[b]), s.buf_arr[b], np.int64(v))


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def deliver(s, t, o, q, prev, n, arch):
    """Copy at node n (predecessor prev in queue q) leaves on output o in slot t."""
    b = s.node_buf[n]
    leaf = s.node_leaf[n]
    unlink(s, q, prev, n)
    v = s.buf_vc[b]
    d = t - s.buf_arr[b]
    s.port_cnt[o, PORT_TX_CELLS] += 1
    s.port_cnt[o, PORT_DELAY_SUM] += d
    if d > s.port_cnt[o, PORT_DELAY_MAX]:
        s.port_cnt[o, PORT_DELAY_MAX] = d
    s.port_dsq[o] += np.float64(d) * np.float64(d)
    s.hist[hist_bin(d)] += 1
    s.vc_cnt[v, VC_OUT] += 1
    s.leaf_cnt[leaf, LEAF_OUT] += 1
    s.leaf_cnt[leaf, LEAF_DELAY_SUM] += d
    mn = s.leaf_cnt[leaf, LEAF_DELAY_MIN]
    if mn == 0 or d + 1 < mn:
        s.leaf_cnt[leaf, LEAF_DELAY_MIN] = d + 1
    if d > s.leaf_cnt[leaf, LEAF_DELAY_MAX]:
        s.leaf_cnt[leaf, LEAF_DELAY_MAX] = d
    check_leaf(s, leaf, v, s.buf_seq[b], s.buf_flags[b])
    pf = s.port_flags[o]
    if pf & PORT_CAPTURE:
        capture(s, t, o, b, v, leaf)
    if pf & PORT_STOP:
        s.sc[SC_STOP] = STOP_PORT
    if arch == _OQ:
        s.occ[o] -= 1
    r = s.buf_ref[b] - 1
    s.buf_ref[b] = r
    if r == 0:
        if arch != _OQ:
            s.occ[s.buf_in[b]] -= 1
        buffer_free(s, b)
