"""The engine kernel: runs the fabric slot by slot up to a given slot, or stops early.

One slot, in order:
1. arrivals, input 0 first: an injected cell due in this slot on this input takes the input line
   (a generated cell for the same line and slot is counted GEN_BLOCKED); otherwise the port's
   generated cell, if any, arrives;
2. service by the architecture (each output sends at most one copy; a copy may leave in its arrival
   slot, delay 0);
3. stop check: the run returns at the end of a slot in which a copy reached an output with STOP set
   (the control port by default; a port whose consumer wants every cell), or when the capture buffer
   could not take another slot's worth of cells. Software then reads the captured cells, each with
   its exact slot, and calls again.

The plain-Python twin of this kernel is twin.TwinFabric (tests/hw/fabric/test_twin.py).

Compilation. Every kernel of the package is compiled with ``_nrt=False``: the kernels never allocate,
and without numba's reference-counting runtime, passing the state (a tuple of ~80 arrays) to a
helper costs nothing, where NRT would incref/decref every array on every call (about 1 us). It also
makes any allocation inside a kernel a compile error. Cache freshness across modules: jitcache.py.
"""

from __future__ import annotations

import numba as nb

from hw.fabric.arch_iq import serve_iq_fifo
from hw.fabric.arch_oq import serve_oq
from hw.fabric.arch_voq import serve_voq
from hw.fabric.config import Arch
from hw.fabric.counters import GEN_AUU, GEN_CLP, PORT_GEN_BLOCKED
from hw.fabric.egress import STOP_CAPTURE
from hw.fabric.generator import generate_block
from hw.fabric.ingress import ingress, ingress_injected
from hw.fabric.state import (
    SC_ARCH,
    SC_BLK_LEN,
    SC_BLK_T0,
    SC_CAP_N,
    SC_GEN_ON,
    SC_INJ_POS,
    SC_ITER,
    SC_NOW,
    SC_PORTS,
    SC_STOP,
)

STOP_NONE = 0  # reached the requested slot

_OQ = int(Arch.OQ)
_IQ = int(Arch.IQ_FIFO)
_ISLIP = int(Arch.VOQ_ISLIP)


@nb.njit(cache=True, nogil=True, _nrt=False)
def run(s, until, inj_slot, inj_port, inj_tag, inj_cells):
    """Run slots sc[SC_NOW] .. until-1 (or fewer: see the module doc). Injected cells are taken from
    inj_* starting at sc[SC_INJ_POS], sorted by (slot, port), at most one per port and slot.
    Returns the stop reason."""
    P = s.sc[SC_PORTS] + 1
    sched = P  # the scheduler's random stream follows the ports' streams in s.rng
    arch = s.sc[SC_ARCH]
    iterations = s.sc[SC_ITER]
    gen = s.sc[SC_GEN_ON] != 0
    B = s.blk_vc.shape[1]
    K = s.cap_slot.shape[0]
    t = s.sc[SC_NOW]
    ip = s.sc[SC_INJ_POS]
    ninj = inj_slot.shape[0]
    s.sc[SC_STOP] = STOP_NONE
    stop = STOP_NONE
    while t < until:
        if K - s.sc[SC_CAP_N] < P:
            stop = STOP_CAPTURE  # software must drain the capture buffer first
            break
        k = 0
        if gen:
            t0 = s.sc[SC_BLK_T0]
            if t >= t0 + s.sc[SC_BLK_LEN] or t < t0:
                generate_block(s, t, B, P)
                s.sc[SC_BLK_T0] = t
                s.sc[SC_BLK_LEN] = B
                t0 = t
            k = t - t0
        for i in range(P):
            gv = -1
            if gen:
                gv = s.blk_vc[i, k]
            if ip < ninj and inj_slot[ip] == t and inj_port[ip] == i:
                ingress_injected(s, t, i, inj_tag[ip], inj_cells, ip, P, arch)
                ip += 1
                if gv >= 0:
                    s.port_cnt[i, PORT_GEN_BLOCKED] += 1
            elif gv >= 0:
                fl = s.blk_fl[i, k]
                ingress(s, t, i, gv, 1 if fl & GEN_AUU else 0, 1 if fl & GEN_CLP else 0, inj_cells, -1, P, arch)
        if arch == _OQ:
            serve_oq(s, t, P)
        elif arch == _IQ:
            serve_iq_fifo(s, t, P, sched)
        else:
            serve_voq(s, t, P, iterations, arch == _ISLIP, sched, arch)
        t += 1
        if s.sc[SC_STOP] != STOP_NONE:
            stop = s.sc[SC_STOP]
            break
    s.sc[SC_NOW] = t
    s.sc[SC_INJ_POS] = ip
    s.sc[SC_STOP] = stop
    return stop

