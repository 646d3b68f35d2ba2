"""The engine kernels: run the fabric slot by slot up to a given slot, or stop early.

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

There is one kernel per architecture (``kernel(arch)``), each the same slot loop around its own
service step, so each compiles only its own code and the per-slot dispatch disappears. The
plain-Python twin of all of them is twin.TwinFabric (tests/hw/fabric/test_twin.py).

Compilation. Every kernel of the package is compiled with ``_nrt=False``: the kernels never allocate,
and without numba's reference-counting runtime nothing is incref'd or decref'd per call (about 1 us
per call with a state of ~100 arrays); it also makes any allocation inside a kernel a compile error.
The large steps (arrivals, ingress, service, delivery) take the state and are inlined by numba
(``inline="always"``), each from one place per kernel so that each kernel holds one copy of them.
The small helpers take only the arrays they touch (the pointer RAM, a counter array...) and are
compiled once and inlined by LLVM: a helper taking the whole state costs about half a second of
compilation per signature (every array of the state is marshalled as arguments). Cache freshness
across modules: jitcache.py.

Speed (tools/bench/fabric.py measures it). What the kernels are shaped by: branches the predictor
cannot learn (a Bernoulli arrival, multicast or not, whether a buffer's last copy leaves) are written
as selects where the work allows (generator.py, egress.deliver_copy, arch_oq.serve_oq); records
a delivery reads long after they were written are one cache line each, and asked for ahead
(memory.py); indices read back from memory are unsigned, so numba emits no negative-index
wraparound; counters are flat views with a constant row width (counters.py).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.fabric.arch_iq import serve_iq_fifo
from hw.fabric.arch_oq import serve_oq
from hw.fabric.arch_voq import serve_voq
from hw.fabric.config import Arch
from hw.fabric.counters import PORT_COLUMNS, PORT_GEN_BLOCKED
from hw.fabric.egress import STOP_CAPTURE
from hw.fabric.generator import generate_block, unpack_arrival
from hw.fabric.ingress import ingress, injected_header
from hw.fabric.state import (
    SC_ARCH,
    SC_BLK_LEN,
    SC_BLK_T0,
    SC_CAP_N,
    SC_FREE,
    SC_GEN_ON,
    SC_INJ_POS,
    SC_ITER,
    SC_NODE_FREE,
    SC_NOW,
    SC_PORTS,
    SC_STOP,
)

STOP_NONE = 0  # reached the requested slot
NO_PORT = 1 << 20  # above any port number

_OQ = int(Arch.OQ)
_IQ = int(Arch.IQ_FIFO)
_ISLIP = int(Arch.VOQ_ISLIP)
_VOQ = int(Arch.VOQ_PIM)  # ingress and egress treat both VOQ schedulers alike


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def generated_span(s, t, P):
    """(first, end) positions in blk_arr of the cells generated for slot t, generating the block
    that starts at t when t lies outside the current one."""
    B = s.blk_end.shape[0]
    t0 = s.sc[SC_BLK_T0]
    if t >= t0 + s.sc[SC_BLK_LEN] or t < t0:
        generate_block(s, t, B, P)
        s.sc[SC_BLK_T0] = t
        s.sc[SC_BLK_LEN] = B
        t0 = t
    k = t - t0
    first = s.blk_end[k - 1] if k > 0 else 0
    return first, s.blk_end[k]


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def arrivals(s, t, P, arch, ip, inj_slot, inj_port, inj_tag, inj_cells, free, nfree):
    """Step 1 of slot t: the generated and the injected cells of the slot, port by port (an injected
    cell takes its line: the generated cell of the same port is counted GEN_BLOCKED). Returns the
    next injected cell to take and the free buffer and node counts."""
    x = 0
    end = 0
    if s.sc[SC_GEN_ON] != 0:
        x, end = generated_span(s, t, P)
    ninj = inj_slot.shape[0]
    if not (ip < ninj and inj_slot[ip] == t):
        # generated cells only (the common case, kept apart so its loop stays tight)
        for k in range(x, end):
            i, v, fl = unpack_arrival(s.blk_arr[k])
            free, nfree = ingress(s, t, i, v, fl & 1, (fl >> 1) & 1, inj_cells, -1, P, arch, free, nfree)
        return ip, free, nfree
    while True:
        gi = NO_PORT
        if x < end:
            gi, gv, gfl = unpack_arrival(s.blk_arr[x])
        ii = NO_PORT
        if ip < ninj and inj_slot[ip] == t:
            ii = np.int64(inj_port[ip])
        if ii < gi:
            i = ii
            v, pti, clp, ok = injected_header(s.port_cf, s.cam_key, s.cam_vc, i, inj_tag[ip], inj_cells, ip)
            row = ip
            ip += 1
            if not ok:
                continue
        elif gi < NO_PORT:
            i = gi
            x += 1
            if ii == gi:  # the injected cell takes the line
                s.port_cf[i * PORT_COLUMNS + PORT_GEN_BLOCKED] += 1
                continue
            # GEN_AUU (bit 0) is PTI bit 0 of a user cell; GEN_CLP is bit 1
            v, pti, clp, row = gv, gfl & 1, (gfl >> 1) & 1, -1
        else:
            break
        free, nfree = ingress(s, t, i, v, pti, clp, inj_cells, row, P, arch, free, nfree)
    return ip, free, nfree


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def _capture_room(s, P):
    return s.cap_slot.shape[0] - s.sc[SC_CAP_N] >= P


@nb.njit(cache=True, nogil=True, _nrt=False, inline="always")
def _finish(s, t, ip, free, nfree, stop):
    s.sc[SC_NOW] = t
    s.sc[SC_INJ_POS] = ip
    s.sc[SC_FREE] = free
    s.sc[SC_NODE_FREE] = nfree
    s.sc[SC_STOP] = stop
    return stop


@nb.njit(cache=True, nogil=True, _nrt=False)
def run_oq(s, until, inj_slot, inj_port, inj_tag, inj_cells):
    """Run slots sc[SC_NOW] .. until-1 of an output-queued fabric (or fewer: see the module doc).
    Injected cells are taken from inj_* starting at sc[SC_INJ_POS], sorted by (slot, port), at most
    one per port and slot. Returns the stop reason."""
    P = s.sc[SC_PORTS] + 1
    t = s.sc[SC_NOW]
    ip = s.sc[SC_INJ_POS]
    free = s.sc[SC_FREE]
    nfree = s.sc[SC_NODE_FREE]
    s.sc[SC_STOP] = STOP_NONE
    stop = STOP_NONE
    while t < until:
        if not _capture_room(s, P):
            stop = STOP_CAPTURE  # software must drain the capture buffer first
            break
        ip, free, nfree = arrivals(s, t, P, _OQ, ip, inj_slot, inj_port, inj_tag, inj_cells, free, nfree)
        free, nfree = serve_oq(s, t, P, free, nfree)
        t += 1
        if s.sc[SC_STOP] != STOP_NONE:
            stop = s.sc[SC_STOP]
            break
    return _finish(s, t, ip, free, nfree, stop)


@nb.njit(cache=True, nogil=True, _nrt=False)
def run_iq_fifo(s, until, inj_slot, inj_port, inj_tag, inj_cells):
    """As run_oq, for an input-queued fabric with one FIFO per input."""
    P = s.sc[SC_PORTS] + 1
    t = s.sc[SC_NOW]
    ip = s.sc[SC_INJ_POS]
    free = s.sc[SC_FREE]
    nfree = s.sc[SC_NODE_FREE]
    s.sc[SC_STOP] = STOP_NONE
    stop = STOP_NONE
    while t < until:
        if not _capture_room(s, P):
            stop = STOP_CAPTURE
            break
        ip, free, nfree = arrivals(s, t, P, _IQ, ip, inj_slot, inj_port, inj_tag, inj_cells, free, nfree)
        free, nfree = serve_iq_fifo(s, t, P, free, nfree)
        t += 1
        if s.sc[SC_STOP] != STOP_NONE:
            stop = s.sc[SC_STOP]
            break
    return _finish(s, t, ip, free, nfree, stop)


@nb.njit(cache=True, nogil=True, _nrt=False)
def run_voq(s, until, inj_slot, inj_port, inj_tag, inj_cells):
    """As run_oq, for virtual output queues matched by iSLIP or PIM (sc[SC_ARCH])."""
    P = s.sc[SC_PORTS] + 1
    arch = s.sc[SC_ARCH]
    islip = arch == _ISLIP
    iterations = s.sc[SC_ITER]
    t = s.sc[SC_NOW]
    ip = s.sc[SC_INJ_POS]
    free = s.sc[SC_FREE]
    nfree = s.sc[SC_NODE_FREE]
    s.sc[SC_STOP] = STOP_NONE
    stop = STOP_NONE
    while t < until:
        if not _capture_room(s, P):
            stop = STOP_CAPTURE
            break
        ip, free, nfree = arrivals(s, t, P, _VOQ, ip, inj_slot, inj_port, inj_tag, inj_cells, free, nfree)
        free, nfree = serve_voq(s, t, P, iterations, islip, _VOQ, free, nfree)
        t += 1
        if s.sc[SC_STOP] != STOP_NONE:
            stop = s.sc[SC_STOP]
            break
    return _finish(s, t, ip, free, nfree, stop)


_KERNELS = {Arch.OQ: run_oq, Arch.IQ_FIFO: run_iq_fifo, Arch.VOQ_ISLIP: run_voq, Arch.VOQ_PIM: run_voq}


def kernel(arch: Arch):
    """The engine kernel of an architecture: ``kernel(arch)(s, until, inj_slot, inj_port, inj_tag,
    inj_cells) -> stop reason``."""
    return _KERNELS[Arch(arch)]


def run(s, until, inj_slot, inj_port, inj_tag, inj_cells):
    """Run the kernel of the state's architecture (see run_oq)."""
    return kernel(Arch(int(s.sc[SC_ARCH])))(s, until, inj_slot, inj_port, inj_tag, inj_cells)
