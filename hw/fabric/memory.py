"""Shared cell memory and pointer RAM: free list, reference counts, linked pointer queues.

As in shared-memory switch chips (switch-models.md, "Hardware practice"): a cell is written once into
a free buffer; each queue is a linked list of pointer nodes in a separate pointer RAM; a multicast
cell gets one node per leaf that all point to the same buffer, and the buffer's reference count says
how many copies are still queued. The buffer returns to the free list when the last copy leaves.

Records. A buffer descriptor is two int64 words (``buf_desc[b * DESC_WIDTH + k]``): the arrival slot,
then ``seq | vc << 32 | flags << 52`` (sequence number 32 bits, VC entry 20 bits: config.py allows at
most 2^20 entries, BUF_* flags 6 bits). A pointer node is three int32 words (``node[n * NODE_WIDTH +
k]``): buffer, leaf, next node (-1: last). A delivery reads one descriptor and one node that were
written long before (the copy waited in its queue), so each is one cache line (a node, rarely two)
rather than one line per field.

Free buffers and free nodes are stacks (free_stack, node_stack). Their depths are the hardware's
free-count registers: inside a kernel run they live in local variables (``free``, ``nfree``), loaded
from ``sc`` when the run starts and stored back when it returns (engine.py), so the per-cell work
never waits on a memory round trip for them; the helpers take them and return the new values. The
copies queued are the nodes not free: ``nodes - nfree``.

These helpers are parts of the engine kernels (engine.py); the twin (twin.py) models the same queues
with Python deques. Indices are cast to unsigned where they are read back from memory: the kernels
then skip numba's negative-index wraparound on every access.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

DESC_WIDTH = 2
DESC_ARRIVAL = 0
DESC_WORD = 1
DESC_VC_SHIFT = 32
DESC_FLAGS_SHIFT = 52

NODE_WIDTH = 3
NODE_BUF = 0
NODE_LEAF = 1
NODE_NEXT = 2


@nb.njit(cache=True, nogil=True, _nrt=False)
def desc_word(seq, v, flags):
    return np.int64(seq) | (np.int64(v) << DESC_VC_SHIFT) | (np.int64(flags) << DESC_FLAGS_SHIFT)


@nb.njit(cache=True, nogil=True, _nrt=False)
def word_seq(w):
    return w & 0xFFFFFFFF


@nb.njit(cache=True, nogil=True, _nrt=False)
def word_vc(w):
    return np.uint32((w >> DESC_VC_SHIFT) & 0xFFFFF)


@nb.njit(cache=True, nogil=True, _nrt=False)
def word_flags(w):
    return (w >> DESC_FLAGS_SHIFT) & 0x3F


@nb.njit(cache=True, nogil=True, _nrt=False)
def desc_write(buf_desc, b, arrival, seq, v, flags):
    buf_desc[b * DESC_WIDTH + DESC_ARRIVAL] = arrival
    buf_desc[b * DESC_WIDTH + DESC_WORD] = desc_word(seq, v, flags)


@nb.njit(cache=True, nogil=True, _nrt=False)
def desc_arrival(buf_desc, b):
    return buf_desc[b * DESC_WIDTH + DESC_ARRIVAL]


@nb.njit(cache=True, nogil=True, _nrt=False)
def desc_get_word(buf_desc, b):
    return buf_desc[b * DESC_WIDTH + DESC_WORD]


@nb.njit(cache=True, nogil=True, _nrt=False)
def node_buf(node, n):
    return np.uint32(node[n * NODE_WIDTH + NODE_BUF])


@nb.njit(cache=True, nogil=True, _nrt=False)
def node_leaf(node, n):
    return np.uint32(node[n * NODE_WIDTH + NODE_LEAF])


@nb.njit(cache=True, nogil=True, _nrt=False)
def node_next(node, n):
    return node[n * NODE_WIDTH + NODE_NEXT]


@nb.njit(cache=True, nogil=True, _nrt=False)
def buffer_alloc(free_stack, free):
    """Pop a free buffer (the caller has checked free > 0): (buffer, new free)."""
    free -= 1
    return free_stack[free], free


@nb.njit(cache=True, nogil=True, _nrt=False)
def enqueue(node, node_stack, q_head, q_tail, q, b, leaf, nfree):
    """Take a node from the free node stack (``nfree`` deep; the caller has checked one is free),
    point it at buffer b / leaf, and append it to queue q. Returns the new depth."""
    nfree -= 1
    n = node_stack[nfree]
    node[n * NODE_WIDTH + NODE_BUF] = b
    node[n * NODE_WIDTH + NODE_LEAF] = leaf
    node[n * NODE_WIDTH + NODE_NEXT] = -1
    t = q_tail[q]
    if q_head[q] >= 0:
        node[np.uint32(t) * NODE_WIDTH + NODE_NEXT] = n
    else:
        q_head[q] = n
    q_tail[q] = n
    return nfree


@nb.njit(cache=True, nogil=True, _nrt=False)
def unlink(node, node_stack, q_head, q_tail, q, prev, n, nfree):
    """Remove node n (whose predecessor in queue q is prev, -1 for the head) and push it on the free
    node stack. Returns the new depth. (q_tail is meaningful only while q_head >= 0.)"""
    nxt = node[n * NODE_WIDTH + NODE_NEXT]
    if prev < 0:
        q_head[q] = nxt
    else:
        node[np.uint32(prev) * NODE_WIDTH + NODE_NEXT] = nxt
        if q_tail[q] == n:
            q_tail[q] = prev
    node_stack[nfree] = n
    return nfree + 1


# -- reading the memories from Python (tests, queue_contents) ------------------------------------------


def queue_nodes(s, q: int) -> list[tuple[int, int]]:
    """(buffer, leaf) of every copy in queue q, head first."""
    node = s.node.reshape(-1, NODE_WIDTH)
    out = []
    n = int(s.q_head[q])
    while n >= 0:
        out.append((int(node[n, NODE_BUF]), int(node[n, NODE_LEAF])))
        n = int(node[n, NODE_NEXT])
    return out


def descriptor(s, b: int) -> tuple[int, int, int, int]:
    """(arrival slot, sequence number, VC entry, BUF_* flags) of buffer b."""
    arrival = int(s.buf_desc[b * DESC_WIDTH + DESC_ARRIVAL])
    w = int(s.buf_desc[b * DESC_WIDTH + DESC_WORD])
    return arrival, w & 0xFFFFFFFF, (w >> DESC_VC_SHIFT) & 0xFFFFF, (w >> DESC_FLAGS_SHIFT) & 0x3F


@intrinsic
def prefetch(typingctx, arr, idx):
    """Ask the cache for element ``idx`` of a 1-D array ahead of its use (LLVM llvm.prefetch: read,
    keep in all levels). A hint: no effect on results, no fault on any address."""
    if not isinstance(arr, types.Array) or arr.ndim != 1 or not isinstance(idx, types.Integer):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        i = context.cast(builder, args[1], idxty, types.intp)
        ptr = cgutils.get_item_pointer2(
            context, builder, data=ary.data, shape=cgutils.unpack_tuple(builder, ary.shape),
            strides=cgutils.unpack_tuple(builder, ary.strides), layout=aryty.layout, inds=[i],
            wraparound=False, boundscheck=False,
        )
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(cache=True, nogil=True, _nrt=False)
def prefetch_node(node, n):
    prefetch(node, n * NODE_WIDTH)


@nb.njit(cache=True, nogil=True, _nrt=False)
def prefetch_buffer(buf_desc, buf_ref, b):
    prefetch(buf_desc, b * DESC_WIDTH)
    prefetch(buf_ref, b)
