"""Output-queued shared memory: each output sends the head of its queue every slot.

Every copy joined its output's queue at ingress (ingress.py), so an output is never blocked by
another; with infinite memory this is the ideal work-conserving switch whose mean waiting time is
((N-1)/N) p / (2 (1 - p)) under uniform Bernoulli traffic (Karol, Hluchyj, Morgan 1987).
"""

from __future__ import annotations

import numba as nb

from hw.fabric.config import Arch
from hw.fabric.egress import deliver

_OQ = int(Arch.OQ)


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def serve_oq(s, t, P):
    for o in range(P):
        n = s.q_head[o]
        if n >= 0:
            deliver(s, t, o, o, -1, n, _OQ)
