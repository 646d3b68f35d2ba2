"""Shared cell memory and pointer RAM: free list, reference counts, linked pointer queues.

As in shared-memory switch chips (switch-models.md, "Hardware practice"): a cell is written once into
a free buffer; each queue is a linked list of pointer nodes in a separate pointer RAM; a multicast
cell gets one node per leaf that all point to the same buffer, and the buffer's reference count says
how many copies are still queued. The buffer returns to the free list when the last copy leaves.

These helpers are parts of the engine kernel (engine.py); the twin (twin.py) models the same queues
with Python deques, and tests/hw/fabric/test_memory.py checks the two agree on random operations.
"""

from __future__ import annotations

import numba as nb

from hw.fabric.state import SC_FREE, SC_NODE_AVAIL, SC_NODE_FREE


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def buffer_alloc(s):
    """Pop a free buffer (the caller has checked sc[SC_FREE] > 0)."""
    top = s.sc[SC_FREE] - 1
    s.sc[SC_FREE] = top
    return s.free_stack[top]


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def buffer_free(s, b):
    top = s.sc[SC_FREE]
    s.free_stack[top] = b
    s.sc[SC_FREE] = top + 1


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def enqueue(s, q, b, leaf):
    """Take a node from the free node list (the caller has checked one is free), point it at
    buffer b / leaf, and append it to queue q."""
    n = s.sc[SC_NODE_FREE]
    s.sc[SC_NODE_FREE] = s.node_next[n]
    s.sc[SC_NODE_AVAIL] -= 1
    s.node_buf[n] = b
    s.node_leaf[n] = leaf
    s.node_next[n] = -1
    t = s.q_tail[q]
    if t >= 0:
        s.node_next[t] = n
    else:
        s.q_head[q] = n
    s.q_tail[q] = n
    s.q_len[q] += 1


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def unlink(s, q, prev, n):
    """Remove node n (whose predecessor in queue q is prev, -1 for the head) and free it."""
    nxt = s.node_next[n]
    if prev < 0:
        s.q_head[q] = nxt
    else:
        s.node_next[prev] = nxt
    if s.q_tail[q] == n:
        s.q_tail[q] = prev
    s.q_len[q] -= 1
    s.node_next[n] = s.sc[SC_NODE_FREE]
    s.sc[SC_NODE_FREE] = n
    s.sc[SC_NODE_AVAIL] += 1
