"""Input-queued fabric with one FIFO per input: head-of-line (HOL) blocking.

Each slot, the HOL cell of every input requests the outputs of its copies still to be sent; each
output picks one requesting input uniformly at random (the contention model of Karol, Hluchyj and
Morgan 1987, whose saturation throughput is 0.75 for N=2, 0.6553 for N=4, 0.6184 for N=8, tending to
2 - sqrt(2)); the crossbar is multicast-capable, so an input may send its HOL cell to several outputs
in one slot. Fanout splitting (Prabhakar, McKeown, Ahuja, IEEE JSAC 15(5), 1997): a multicast cell
sends its copies to whichever of its outputs chose it, the rest (the residue) stays at the head until
served; only then does the next cell reach the head.

A cell's copies sit side by side in the FIFO (one node per leaf, same buffer), so the HOL cell is the
run of nodes at the head that point to the same buffer.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.fabric.config import Arch
from hw.fabric.egress import deliver
from hw.fabric.memory import node_buf, node_leaf, node_next
from hw.fabric.rng import below

_IQ = int(Arch.IQ_FIFO)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def hol_requests(s, q, i):
    """Add input i to the request list of every output its HOL cell (in queue q) still needs."""
    n = s.q_head[q]
    if n < 0:
        return
    b = node_buf(s.node, np.uint32(n))
    while n >= 0 and node_buf(s.node, np.uint32(n)) == b:
        o = s.leaf_port[node_leaf(s.node, np.uint32(n))]
        s.req_list[o, s.req_cnt[o]] = i
        s.req_cnt[o] += 1
        n = node_next(s.node, np.uint32(n))


@nb.njit(cache=True, nogil=True, _nrt=False)
def hol_copy(node, leaf_port, q_head, q, o):
    """(predecessor, node) of the copy for output o of the HOL cell of queue q (node -1: none)."""
    prev = -1
    n = q_head[q]
    b = node_buf(node, np.uint32(n))
    while n >= 0 and node_buf(node, np.uint32(n)) == b:
        if leaf_port[node_leaf(node, np.uint32(n))] == o:
            return np.int64(prev), np.int64(n)
        prev = n
        n = node_next(node, np.uint32(n))
    return np.int64(-1), np.int64(-1)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def serve_iq_fifo(s, t, P, free, nfree):
    for o in range(P):
        s.req_cnt[o] = 0
    for i in range(P):
        hol_requests(s, i, i)
    for o in range(P):
        c = s.req_cnt[o]
        if c == 0:
            continue
        if c == 1:
            w = s.req_list[o, 0]
        else:
            w = s.req_list[o, below(s.sched_rng, 0, c)]
        prev, n = hol_copy(s.node, s.leaf_port, s.q_head, w, o)
        if n >= 0:  # (always: w requested o for its HOL cell)
            free, nfree = deliver(s, t, o, w, prev, np.uint32(n), _IQ, free, nfree)
    return free, nfree
