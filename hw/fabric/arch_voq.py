"""Virtual output queues with a matching scheduler, plus a multicast queue per input.

Queues at input i: one VOQ per output o (queue i*P + o) for point-to-point VCs (and for VCs without
MCAST whose copies are replicated into the VOQs), and one multicast FIFO (queue P*P + i) for MCAST VCs.

Each slot:
1. Multicast first (the simple priority of ESLIP-like schedulers; McKeown, "A fast switched backplane
   for a gigabit switched router", 1997): every output needed by the HOL cell of some multicast queue
   picks one such input (iSLIP: round robin from its multicast pointer, moved one beyond the winner;
   PIM: uniformly at random). The multicast-capable crossbar sends the HOL cell to every output that
   picked it (fanout splitting: the residue waits for later slots), and the input is then busy.
2. Unicast matching among the inputs and outputs still free, for ``iterations`` rounds of
   request-grant-accept:
   - iSLIP (McKeown, IEEE/ACM ToN 7(2), 1999): an output grants the requesting input next at or after
     its grant pointer; an input accepts the granting output next at or after its accept pointer; in
     the first iteration only, an accepted grant moves the output's pointer one beyond the input and
     the input's pointer one beyond the output (which desynchronises the pointers);
   - PIM (Anderson, Owicki, Saxe, Thacker, ACM TOCS 11(4), 1993): grant and accept uniformly at random.
3. Every matched output sends one copy, in output order.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.fabric.arch_iq import hol_copy, hol_requests
from hw.fabric.egress import deliver
from hw.fabric.rng import below


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def _round_robin(s, o, ptr, P):
    """The requester of output o (req_list) that comes first at or after ptr in cyclic order."""
    best = -1
    best_d = P
    for k in range(s.req_cnt[o]):
        i = s.req_list[o, k]
        d = (i - ptr) % P
        if d < best_d:
            best_d = d
            best = i
    return best


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def serve_voq(s, t, P, iterations, islip, arch, free, nfree):
    mcq = P * P
    for k in range(P):
        s.match_in[k] = -1
        s.match_out[k] = -1
        s.mc_win[k] = -1
        s.req_cnt[k] = 0
    # 1. multicast queues
    any_mc = False
    for i in range(P):
        if s.q_head[mcq + i] >= 0:
            hol_requests(s, mcq + i, i)
            any_mc = True
    if any_mc:
        for o in range(P):
            c = s.req_cnt[o]
            if c == 0:
                continue
            if islip:
                w = _round_robin(s, o, s.ptr_mc[o], P)
                s.ptr_mc[o] = (w + 1) % P
            elif c == 1:
                w = s.req_list[o, 0]
            else:
                w = s.req_list[o, below(s.sched_rng, 0, c)]
            s.mc_win[o] = w
            s.match_out[o] = w
            s.match_in[w] = o
    # 2. unicast matching
    for it in range(iterations):
        progress = False
        for o in range(P):
            s.grant[o] = -1
            if s.match_out[o] >= 0:
                continue
            if islip:
                g = s.ptr_grant[o]
                for k in range(P):
                    i = g + k
                    if i >= P:
                        i -= P
                    if s.match_in[i] < 0 and s.q_head[i * P + o] >= 0:
                        s.grant[o] = i
                        break
            else:
                c = 0
                for i in range(P):
                    if s.match_in[i] < 0 and s.q_head[i * P + o] >= 0:
                        c += 1
                if c > 0:
                    r = 0 if c == 1 else below(s.sched_rng, 0, c)
                    for i in range(P):
                        if s.match_in[i] < 0 and s.q_head[i * P + o] >= 0:
                            if r == 0:
                                s.grant[o] = i
                                break
                            r -= 1
        for i in range(P):
            if s.match_in[i] >= 0:
                continue
            chosen = -1
            if islip:
                a = s.ptr_accept[i]
                for k in range(P):
                    o = a + k
                    if o >= P:
                        o -= P
                    if s.grant[o] == i:
                        chosen = o
                        break
            else:
                c = 0
                for o in range(P):
                    if s.grant[o] == i:
                        c += 1
                if c > 0:
                    r = 0 if c == 1 else below(s.sched_rng, 0, c)
                    for o in range(P):
                        if s.grant[o] == i:
                            if r == 0:
                                chosen = o
                                break
                            r -= 1
            if chosen >= 0:
                s.match_in[i] = chosen
                s.match_out[chosen] = i
                progress = True
                if islip and it == 0:
                    s.ptr_grant[chosen] = (i + 1) % P
                    s.ptr_accept[i] = (chosen + 1) % P
        if not progress:
            break
    # 3. transfer
    for o in range(P):
        w = s.mc_win[o]
        if w >= 0:  # the multicast HOL cell's copy for o (fanout splitting)
            q = mcq + w
            prev, n = hol_copy(s.node, s.leaf_port, s.q_head, q, o)
        elif s.match_out[o] >= 0:
            q = s.match_out[o] * P + o
            prev, n = np.int64(-1), np.int64(s.q_head[q])
        else:
            continue
        if n >= 0:  # (always: the queue holds the copy that made the match)
            free, nfree = deliver(s, t, o, q, prev, np.uint32(n), arch, free, nfree)
    return free, nfree
