"""Egress: a copy leaves the fabric on output o in slot t.

Per delivered copy: statistics (counters, delay histogram, per-port delay sums), the emulated leaf's
checker, the capture buffer for outputs whose consumer wants every cell (with the header rewritten
and the HEC regenerated for this copy) unless the copy's leaf is ACCOUNT_ONLY (counted in
PORT.TX_UNCAPTURED instead: it leaves at line rate, software never sees it and the kernel does not stop
for it), and the buffer's reference count (the buffer returns to the
free list with its last copy). The statistics and the checker (``account``) depend on nothing but the
copy: a two-thread run appends the copy to a delivery log instead, and the other thread accounts it,
in the same order (pipeline.py).

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
    LEAF_ACCOUNT_ONLY,
    LEAF_COLUMNS,
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
    PORT_COLUMNS,
    PORT_STOP,
    PORT_TX_UNCAPTURED,
    TX_CELLS,
    TX_COLUMNS,
    TX_DELAY_MAX,
    TX_DELAY_SUM,
    VC_AAL5,
    leaf_add,
)
from hw.fabric.memory import (
    desc_arrival,
    desc_get_word,
    node_buf,
    node_leaf,
    unlink,
    word_flags,
    word_seq,
    word_vc,
)
from hw.fabric.state import (
    LOG_DELAY,
    LOG_WHERE,
    LOG_WIDTH,
    LOG_WORD,
    LS_FRAME_OK,
    LS_IN_PDU,
    LS_SYNC,
    SC_CAP_N,
    SC_LOG_N,
    SC_STOP,
)
from hw.fabric.stats import hist_bin
from hw.fabric.tables import write_header, write_test_cell_payload

_OQ = int(Arch.OQ)
STOP_PORT = 1  # a cell reached a port with STOP set
STOP_CAPTURE = 2  # the capture buffer is nearly full


@nb.njit(cache=True, nogil=True, _nrt=False)
def check_leaf(leaf_rx, leaf_expect, leaf_pdu_cells, leaf_cf, vc_flags, leaf, v, seq, flags):
    st = np.int64(leaf_rx[leaf])
    gap = False
    if st & LS_SYNC:
        # serial-number arithmetic mod 2^32 (RFC 1982): a difference of 2^31 or more is "behind"
        diff = (np.int64(seq) - np.int64(leaf_expect[leaf])) & 0xFFFFFFFF
        if diff >= 0x80000000:
            leaf_add(leaf_cf, leaf, LEAF_MISORDERED, 1)
            return
        # a jump forward: the skipped numbers were lost upstream (0 when none)
        leaf_add(leaf_cf, leaf, LEAF_LOST, diff)
        gap = diff != 0
    st |= LS_SYNC
    leaf_expect[leaf] = (np.int64(seq) + 1) & 0xFFFFFFFF
    pti = (flags >> BUF_PTI_SHIFT) & 7
    if pti < 4 and (vc_flags[v] & VC_AAL5):
        if (st & LS_IN_PDU) == 0:
            # reassembly buffer empty: a PDU starts here, whole if this is its frame's first cell
            if flags & BUF_FIRST:
                st |= LS_FRAME_OK
            else:
                st &= ~LS_FRAME_OK
            st |= LS_IN_PDU
            leaf_pdu_cells[leaf] = 0
        elif gap:
            st &= ~LS_FRAME_OK
        leaf_pdu_cells[leaf] += 1
        if pti & 1:  # AUU: the receiver closes the PDU (I.363.5)
            if st & LS_FRAME_OK:
                leaf_add(leaf_cf, leaf, LEAF_FRAMES_OK, 1)
                leaf_add(leaf_cf, leaf, LEAF_GOOD_CELLS, leaf_pdu_cells[leaf])
            else:
                leaf_add(leaf_cf, leaf, LEAF_FRAMES_BAD, 1)
            st &= ~(LS_IN_PDU | LS_FRAME_OK)
    leaf_rx[leaf] = st


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
    w = desc_get_word(s.buf_desc, b)
    fl = word_flags(w)
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
        write_test_cell_payload(out, word_seq(w), desc_arrival(s.buf_desc, b), np.int64(v))


@nb.njit(cache=True, nogil=True, _nrt=False)
def count_delivery(port_txf, port_dsq, hist, vc_out, leaf_cf, o, v, leaf, d):
    """Counters and histogram of a copy of VC v delivered to ``leaf`` on output o with delay d."""
    p = o * TX_COLUMNS
    port_txf[p + TX_CELLS] += 1
    port_txf[p + TX_DELAY_SUM] += d
    port_txf[p + TX_DELAY_MAX] = max(port_txf[p + TX_DELAY_MAX], d)
    port_dsq[o] += np.float64(d) * np.float64(d)
    hist[hist_bin(d)] += 1
    vc_out[v] += 1
    r = leaf * LEAF_COLUMNS
    leaf_cf[r + LEAF_OUT] += 1
    leaf_cf[r + LEAF_DELAY_SUM] += d
    mn = leaf_cf[r + LEAF_DELAY_MIN]  # delay + 1 of the fastest copy, 0 before the first
    leaf_cf[r + LEAF_DELAY_MIN] = d + 1 if (mn == 0 or d + 1 < mn) else mn
    leaf_cf[r + LEAF_DELAY_MAX] = max(leaf_cf[r + LEAF_DELAY_MAX], d)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def account(s, o, leaf, d, word):
    """What the fabric and the emulated leaf record about a delivered copy (counters, histogram,
    leaf checker): all of it depends only on the copy, so it may run later, on another thread,
    from the delivery log (pipeline.py), in delivery order."""
    v = word_vc(word)
    count_delivery(s.port_txf, s.port_dsq, s.hist, s.vc_out, s.leaf_cf, o, v, leaf, d)
    check_leaf(s.leaf_rx, s.leaf_expect, s.leaf_pdu_cells, s.leaf_cf, s.vc_flags, leaf, v, word_seq(word),
               word_flags(word))


@nb.njit(cache=True, nogil=True, _nrt=False)
def log_delivery(dlog, sc, o, leaf, d, word):
    """Append a delivered copy to the delivery log (sc[SC_LOG_N] records of LOG_WIDTH words)."""
    k = sc[SC_LOG_N]
    sc[SC_LOG_N] = k + 1
    r = np.uint32(k) * LOG_WIDTH
    dlog[r + LOG_DELAY] = d
    dlog[r + LOG_WORD] = word
    dlog[r + LOG_WHERE] = (np.int64(o) << 32) | np.int64(leaf)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def deliver_copy(s, t, o, q, prev, n, b, leaf, arrival, word, arch, free, nfree):
    """Copy at node n (predecessor prev in queue q; buffer b, leaf, and the buffer's descriptor
    already read) leaves on output o in slot t. ``free``/``nfree``: the free buffer and node counts (memory.py);
    returns their new values. Its accounting is done here, or logged when the state carries a
    delivery log (two-thread runs, pipeline.py)."""
    nfree = unlink(s.node, s.node_stack, s.q_head, s.q_tail, q, prev, n, nfree)
    if s.dlog.shape[0] == 0:
        account(s, o, leaf, t - arrival, word)
    else:
        log_delivery(s.dlog, s.sc, o, leaf, t - arrival, word)
    pf = s.port_flags[o]
    if pf != 0:
        if s.leaf_flags[leaf] & LEAF_ACCOUNT_ONLY:
            # accounted above, not for software: no capture, no stop (registers.py, LEAF.CTRL)
            s.port_cf[o * PORT_COLUMNS + PORT_TX_UNCAPTURED] += 1
        else:
            if pf & PORT_CAPTURE:
                capture(s, t, o, b, word_vc(word), leaf)
            if pf & PORT_STOP:
                s.sc[SC_STOP] = STOP_PORT
    if arch == _OQ:
        s.occ[o] -= 1
    r = s.buf_ref[b] - 1
    s.buf_ref[b] = r
    # the buffer returns to the free list with its last copy. Written without a branch (whether a
    # multicast buffer's last copy leaves is a coin toss for the branch predictor): the stack slot
    # is always written, and counted only when r == 0; it is in range, since b is not free yet.
    last = np.int64(r == 0)
    if arch != _OQ:
        s.occ[s.buf_in[b]] -= last
    s.free_stack[free] = b
    return free + last, nfree


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def deliver(s, t, o, q, prev, n, arch, free, nfree):
    """Copy at node n (predecessor prev in queue q) leaves on output o in slot t."""
    b = node_buf(s.node, n)
    return deliver_copy(s, t, o, q, prev, n, b, node_leaf(s.node, n), desc_arrival(s.buf_desc, b),
                        desc_get_word(s.buf_desc, b), arch, free, nfree)
