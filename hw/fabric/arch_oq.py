"""Output-queued shared memory: each output sends the head of its queue every slot.

Every copy joined its output's queue at ingress (ingress.py), so an output is never blocked by
another; with infinite memory this is the ideal work-conserving switch whose mean waiting time is
((N-1)/N) p / (2 (1 - p)) under uniform Bernoulli traffic (Karol, Hluchyj, Morgan 1987).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.fabric.config import Arch
from hw.fabric.egress import deliver_copy
from hw.fabric.memory import desc_arrival, desc_get_word, node_buf, node_leaf, node_next, prefetch_buffer, prefetch_node

_OQ = int(Arch.OQ)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def serve_oq(s, t, P, free, nfree):
    # 1. list the outputs with a queued copy, and ask the cache for each head copy's buffer
    # descriptor (its node was asked for when it became the head, below). A copy waited in its queue,
    # so these are cache misses; asking for all of them first lets them overlap. Written without
    # branches: whether an output is busy is a coin toss for the branch predictor at moderate load.
    k = 0
    for o in range(P):
        n = s.q_head[o]
        s.serve_list[k] = o
        k += np.int64(n >= 0)
        # (node 0 when the queue is empty: a harmless hint)
        prefetch_buffer(s.buf_desc, s.buf_ref, node_buf(s.node, np.uint32(max(n, 0))))
    # 2. deliver them, in output order
    for x in range(k):
        o = np.int64(s.serve_list[x])
        n = np.uint32(s.q_head[o])
        b = node_buf(s.node, n)
        nxt = node_next(s.node, n)
        prefetch_node(s.node, np.uint32(max(nxt, 0)))  # the next head, delivered next slot
        free, nfree = deliver_copy(s, t, o, o, -1, n, b, node_leaf(s.node, n), desc_arrival(s.buf_desc, b),
                                   desc_get_word(s.buf_desc, b), _OQ, free, nfree)
    return free, nfree
