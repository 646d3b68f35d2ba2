"""Plain-Python twin of the engine kernels (engine.run_oq, run_iq_fifo, run_voq and all they call).

An independent reference model: the same algorithm and the same random draws, but written with
Python objects (a deque per queue, a small object per buffered cell, counts instead of a free list),
so the tests check the kernel's linked lists, free list and reference counts against a model whose
correctness is easy to read. It reads the fabric's tables (the arrays behind the register file) and
the traffic program from a Fabric, and keeps all its dynamic state to itself.

It is slow (~1e5 copies/s): the tests run it on small fabrics and short runs, and the benchmark
reports the kernel's speed as a multiple of it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from hw.cell import hec
from hw.fabric import generator as gen
from hw.fabric.admission import ACCEPT, admit_twin
from hw.fabric.config import Arch
from hw.fabric.counters import (
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
    LEAF_VALID,
    NIL,
    PORT_CAPTURE,
    PORT_COLUMNS,
    PORT_DROP_IN,
    PORT_DROP_OUT,
    PORT_GEN_BLOCKED,
    PORT_RX_CELLS,
    PORT_RX_COPIES,
    PORT_STOP,
    PORT_TX_UNCAPTURED,
    TX_CELLS,
    TX_COLUMNS,
    TX_DELAY_MAX,
    TX_DELAY_SUM,
    VC_AAL5,
    VC_COLUMNS,
    VC_DROP,
    VC_EPD,
    VC_IN_CELLS,
    VC_MCAST,
    VC_OFFERED,
    VC_PPD,
    VC_VALID,
    Drop,
)
from hw.fabric.egress import STOP_CAPTURE, STOP_PORT
from hw.fabric.rng import XorShift64Star
from hw.fabric.state import SC_GEN_ON
from hw.fabric.stats import HIST_BINS, hist_bin_twin
from hw.fabric.tables import header_twin, parse_header_twin, payload_of_test_cell


@dataclass
class Buffered:
    """One cell in the shared memory."""

    vc: int
    seq: int
    arrival: int
    in_port: int
    pti: int
    clp: int
    first: bool
    cell: bytes | None  # 52 octets (header without HEC + payload) for injected cells
    refs: int = 0


@dataclass
class Copy:
    buf: Buffered
    leaf: int


@dataclass
class LeafChecker:
    """What the emulated endpoint behind a leaf remembers (egress.check_leaf)."""

    synced: bool = False
    expect: int = 0
    frame_ok: bool = False
    pdu: list = field(default_factory=list)  # sequence numbers in the reassembly buffer


class TwinFabric:
    def __init__(self, fabric) -> None:
        cfg = fabric.config
        s = fabric.state
        self.cfg = cfg
        self.s = s  # tables are read from here (never written)
        self.N = cfg.ports
        self.P = cfg.port_count
        self.arch = cfg.arch
        self.now = int(fabric.now)
        self.free_buffers = cfg.buffers  # build the twin before the fabric's first advance: memory empty
        self.free_nodes = cfg.nodes
        self.capacity = cfg.capture
        self.queues: dict[object, deque] = {}
        self.occ = [0] * self.P
        self.vc_seq: dict[int, int] = {}
        self.vc_mid: dict[int, bool] = {}
        self.discard: dict[int, int] = {}
        self.checker: dict[int, LeafChecker] = {}
        self.port_cnt = np.zeros((self.P, PORT_COLUMNS), np.int64)
        self.port_tx = np.zeros((self.P, TX_COLUMNS), np.int64)
        self.vc_cnt = np.zeros((cfg.vcs, VC_COLUMNS), np.int64)
        self.vc_out = np.zeros(cfg.vcs, np.int64)
        self.leaf_cnt = np.zeros((cfg.leaves, LEAF_COLUMNS), np.int64)
        self.leaf_drop = np.zeros(cfg.leaves, np.int64)
        self.port_dsq = np.zeros(self.P, np.float64)
        self.hist = np.zeros(HIST_BINS, np.int64)
        self.captured: list[tuple] = []  # (slot, port, in port, vc, leaf, cell bytes)
        self.received: dict[int, list[tuple]] = {}
        # one stream per port (the sources), then the scheduler's
        self.rng = [XorShift64Star(int(x)) for x in s.rng] + [XorShift64Star(int(s.sched_rng[0]))]
        self.gen_vc = [0] * self.P
        self.gen_left = [0] * self.P
        self.vc_left: dict[int, int] = {}
        self.gen_on = bool(s.sc[SC_GEN_ON])
        self.ptr_grant = [0] * self.P
        self.ptr_accept = [0] * self.P
        self.ptr_mc = [0] * self.P
        self.pending: list[tuple[int, int, int, bytes]] = []  # (slot, port, tag, cell)
        self.line_next = [0] * self.P

    # -- tables --------------------------------------------------------------------------------------
    def lookup(self, port: int, vpi: int, vci: int) -> int:
        s = self.s
        for v in range(self.cfg.vcs):
            if s.vc_flags[v] & VC_VALID and (s.vc_port[v], s.vc_vpi[v], s.vc_vci[v]) == (port, vpi, vci):
                return v
        return -1

    def leaves(self, v: int) -> list[int]:
        out = []
        leaf = int(self.s.vc_head[v])
        while leaf != NIL:
            if self.s.leaf_flags[leaf] & LEAF_VALID:
                out.append(leaf)
            leaf = int(self.s.leaf_next[leaf])
        return out

    # -- cells in ------------------------------------------------------------------------------------
    def inject(self, port: int, cells: np.ndarray, at: int | None = None, tag: int = -1) -> list[int]:
        start = self.now if at is None else at
        first = max(start, self.line_next[port])
        slots = list(range(first, first + len(cells)))
        if slots:
            self.line_next[port] = slots[-1] + 1
        for t, c in zip(slots, cells):
            self.pending.append((t, port, tag, bytes(c)))
        self.pending.sort(key=lambda x: (x[0], x[1]))
        return slots

    # -- traffic sources (generator.py) ----------------------------------------------------------------
    def _pick_vc(self, i: int) -> int:
        s = self.s
        off, n = int(s.alias_off[i]), int(s.alias_n[i])
        col = (self.rng[i].u32() * n) >> 32
        prob = int(s.alias_prob[off + col])
        if prob >= 1 << 32 or self.rng[i].u32() < prob:
            return int(s.alias_vc[off + col])
        return int(s.alias_alt[off + col])

    def _draw_length(self, i: int) -> int:
        s = self.s
        u = self.rng[i].u32()
        off, n = int(s.len_off[i]), int(s.len_n[i])
        for k in range(n - 1):
            if u < int(s.len_cdf[off + k]):
                return int(s.len_val[off + k])
        return int(s.len_val[off + n - 1])

    def _frame_auu(self, i: int, v: int) -> bool:
        left = self.vc_left.get(v, 0)
        if left == 0:
            left = self._draw_length(i) if self.s.gen_len_kind[i] == gen.LEN_TABLE else 1
        left -= 1
        self.vc_left[v] = left
        return left == 0

    def _clp(self, i: int) -> int:
        thr = int(self.s.gen_clp_thr[i])
        return int(thr > 0 and self.rng[i].u32() < thr)

    def _generate(self, i: int, t: int):
        """(vc, auu, clp) of the cell source i sends in slot t, or None."""
        s = self.s
        mode = int(s.gen_mode[i])
        if mode == gen.MODE_BERNOULLI:
            if self.rng[i].u32() < int(s.gen_thr[i]):
                v = self._pick_vc(i)
                auu = self._frame_auu(i, v)
                return v, auu, self._clp(i)
        elif mode == gen.MODE_ONOFF:
            geometric = s.gen_len_kind[i] != gen.LEN_TABLE
            if self.gen_left[i] == 0:
                if self.rng[i].u32() >= int(s.gen_thr[i]):
                    return None
                self.gen_vc[i] = self._pick_vc(i)
                self.gen_left[i] = 1 if geometric else self._draw_length(i)
            if geometric:
                end = self.rng[i].u32() < int(s.gen_end_thr[i])
                if end:
                    self.gen_left[i] = 0
            else:
                self.gen_left[i] -= 1
                end = self.gen_left[i] == 0
            return self.gen_vc[i], end, self._clp(i)
        elif mode == gen.MODE_CBR:
            v = int(s.cal_vc[int(s.cal_off[i]) + t % int(s.cal_len[i])])
            if v >= 0:
                auu = self._frame_auu(i, v)
                return v, auu, self._clp(i)
        return None

    # -- ingress (ingress.py) --------------------------------------------------------------------------
    def _queue_of(self, i: int, o: int, mcast: bool):
        if self.arch == Arch.OQ:
            return o
        if self.arch == Arch.IQ_FIFO:
            return ("in", i)
        return ("mc", i) if mcast else (i, o)

    def _drop(self, i, o, v, leaf, cause):
        self.port_cnt[i, PORT_DROP_IN + cause] += 1
        self.port_cnt[o, PORT_DROP_OUT + cause] += 1
        self.vc_cnt[v, VC_DROP + cause] += 1
        self.leaf_drop[leaf] += 1

    def arrive(self, t: int, i: int, v: int, pti: int, clp: int, cell: bytes | None) -> None:
        s = self.s
        self.port_cnt[i, PORT_RX_CELLS] += 1
        if v < 0 or not s.vc_flags[v] & VC_VALID:
            self.port_cnt[i, PORT_RX_COPIES] += 1
            self.port_cnt[i, PORT_DROP_IN + Drop.UNKNOWN_VC] += 1
            return
        vf = int(s.vc_flags[v])
        self.vc_cnt[v, VC_IN_CELLS] += 1
        seq = self.vc_seq.get(v, 0)
        self.vc_seq[v] = (seq + 1) % (1 << 32)
        user = pti < 4
        last = bool(pti & 1)
        first = False
        if user:
            first = not self.vc_mid.get(v, False)
            self.vc_mid[v] = not last
        frames = user and bool(vf & VC_AAL5)
        leaves = self.leaves(v)
        if not leaves:
            self.vc_cnt[v, VC_OFFERED] += 1
            self.vc_cnt[v, VC_DROP + Drop.NO_LEAF] += 1
            self.port_cnt[i, PORT_RX_COPIES] += 1
            self.port_cnt[i, PORT_DROP_IN + Drop.NO_LEAF] += 1
            return
        self.port_cnt[i, PORT_RX_COPIES] += len(leaves)
        self.vc_cnt[v, VC_OFFERED] += len(leaves)
        memory_ok = self.free_buffers > 0
        in_qlen = self.occ[i]
        buf = None
        for leaf in leaves:
            o = int(s.leaf_port[leaf])
            qport, qlen = (o, self.occ[o]) if self.arch == Arch.OQ else (i, in_qlen)
            cause, state = admit_twin(
                self.discard.get(leaf, 0), frames, bool(vf & VC_EPD), bool(vf & VC_PPD), first, last, bool(clp),
                qlen, int(s.port_qlimit[qport]), int(s.port_clp_th[qport]), int(s.port_epd_th[qport]),
                memory_ok, self.free_nodes > 0,
            )
            self.discard[leaf] = state
            if cause != ACCEPT:
                self._drop(i, o, v, leaf, cause)
                continue
            if buf is None:
                buf = Buffered(v, seq, t, i, pti, clp, first, cell)
                self.free_buffers -= 1
                if self.arch != Arch.OQ:
                    self.occ[i] += 1
            if self.arch == Arch.OQ:
                self.occ[o] += 1
            buf.refs += 1
            self.free_nodes -= 1
            self.queues.setdefault(self._queue_of(i, o, bool(vf & VC_MCAST)), deque()).append(Copy(buf, leaf))

    def arrive_injected(self, t: int, i: int, tag: int, cell: bytes) -> None:
        if hec(cell[:4]) != cell[4]:
            self.port_cnt[i, PORT_RX_CELLS] += 1
            self.port_cnt[i, PORT_RX_COPIES] += 1
            self.port_cnt[i, PORT_DROP_IN + Drop.HEC_ERROR] += 1
            return
        _, vpi, vci, pti, clp = parse_header_twin(cell)
        v = tag if tag >= 0 else self.lookup(i, vpi, vci)
        self.arrive(t, i, v, pti, clp, cell[:4] + cell[5:])

    # -- egress (egress.py) ----------------------------------------------------------------------------
    def _check_leaf(self, leaf: int, v: int, b: Buffered) -> None:
        c = self.checker.setdefault(leaf, LeafChecker())
        gap = False
        if c.synced:
            diff = (b.seq - c.expect) % (1 << 32)
            if diff >= 1 << 31:
                self.leaf_cnt[leaf, LEAF_MISORDERED] += 1
                return
            if diff:
                self.leaf_cnt[leaf, LEAF_LOST] += diff
                gap = True
        c.synced = True
        c.expect = (b.seq + 1) % (1 << 32)
        if b.pti >= 4 or not self.s.vc_flags[v] & VC_AAL5:
            return
        if not c.pdu:  # the reassembly buffer was empty: a PDU starts with this cell
            c.pdu = [b.seq]
            c.frame_ok = b.first
        else:
            c.pdu.append(b.seq)
            c.frame_ok = c.frame_ok and not gap
        if b.pti & 1:
            self.leaf_cnt[leaf, LEAF_FRAMES_OK if c.frame_ok else LEAF_FRAMES_BAD] += 1
            if c.frame_ok:
                self.leaf_cnt[leaf, LEAF_GOOD_CELLS] += len(c.pdu)
            c.pdu = []
            c.frame_ok = False

    def _cell_bytes(self, b: Buffered, leaf: int) -> bytes:
        s = self.s
        if s.leaf_flags[leaf] & LEAF_KEEP_HEADER:
            if b.cell is not None:
                head = b.cell[:4] + bytes([hec(b.cell[:4])])
            else:
                head = header_twin(0, int(s.vc_vpi[b.vc]), int(s.vc_vci[b.vc]), b.pti, b.clp)
        else:
            head = header_twin(0, int(s.leaf_vpi[leaf]), int(s.leaf_vci[leaf]), b.pti, b.clp)
        payload = b.cell[4:] if b.cell is not None else payload_of_test_cell(b.seq, b.arrival, b.vc)
        return head + payload

    def deliver(self, t: int, o: int, copy: Copy) -> None:
        b, leaf, v = copy.buf, copy.leaf, copy.buf.vc
        d = t - b.arrival
        self.free_nodes += 1
        self.port_tx[o, TX_CELLS] += 1
        self.port_tx[o, TX_DELAY_SUM] += d
        self.port_tx[o, TX_DELAY_MAX] = max(self.port_tx[o, TX_DELAY_MAX], d)
        self.port_dsq[o] += float(d) * float(d)
        self.hist[hist_bin_twin(d)] += 1
        self.vc_out[v] += 1
        lc = self.leaf_cnt[leaf]
        lc[LEAF_OUT] += 1
        lc[LEAF_DELAY_SUM] += d
        lc[LEAF_DELAY_MIN] = d + 1 if lc[LEAF_DELAY_MIN] == 0 else min(lc[LEAF_DELAY_MIN], d + 1)
        lc[LEAF_DELAY_MAX] = max(lc[LEAF_DELAY_MAX], d)
        self._check_leaf(leaf, v, b)
        flags = int(self.s.port_flags[o])
        if flags and self.s.leaf_flags[leaf] & LEAF_ACCOUNT_ONLY:
            self.port_cnt[o, PORT_TX_UNCAPTURED] += 1  # delivered and counted, not for software
        else:
            if flags & PORT_CAPTURE:
                self.captured.append((t, o, b.in_port, v, leaf, self._cell_bytes(b, leaf)))
            if flags & PORT_STOP:
                self.stop = STOP_PORT
        if self.arch == Arch.OQ:
            self.occ[o] -= 1
        b.refs -= 1
        if b.refs == 0:
            if self.arch != Arch.OQ:
                self.occ[b.in_port] -= 1
            self.free_buffers += 1

    # -- service (arch_*.py) ---------------------------------------------------------------------------
    def _q(self, key) -> deque:
        return self.queues.setdefault(key, deque())

    def _hol(self, q: deque) -> list[Copy]:
        """Copies of the head-of-line cell (side by side at the head of an input FIFO)."""
        if not q:
            return []
        b = q[0].buf
        out = []
        for c in q:
            if c.buf is not b:
                break
            out.append(c)
        return out

    def _send_hol_copy(self, t: int, o: int, key) -> None:
        q = self._q(key)
        for c in self._hol(q):
            if int(self.s.leaf_port[c.leaf]) == o:
                q.remove(c)
                self.deliver(t, o, c)
                return

    def _sched_below(self, n: int) -> int:
        return self.rng[self.P].below(n)

    def serve(self, t: int) -> None:
        P = self.P
        if self.arch == Arch.OQ:
            for o in range(P):
                q = self.queues.get(o)
                if q:
                    self.deliver(t, o, q.popleft())
            return
        mc_key = (lambda i: ("in", i)) if self.arch == Arch.IQ_FIFO else (lambda i: ("mc", i))
        requests: list[list[int]] = [[] for _ in range(P)]
        for i in range(P):
            for c in self._hol(self.queues.get(mc_key(i), deque())):
                requests[int(self.s.leaf_port[c.leaf])].append(i)
        if self.arch == Arch.IQ_FIFO:
            for o in range(P):
                r = requests[o]
                if r:
                    w = r[0] if len(r) == 1 else r[self._sched_below(len(r))]
                    self._send_hol_copy(t, o, ("in", w))
            return
        islip = self.arch == Arch.VOQ_ISLIP
        match_in = [-1] * P
        match_out = [-1] * P
        mc_win = [-1] * P
        for o in range(P):
            r = requests[o]
            if not r:
                continue
            if islip:
                w = min(r, key=lambda i: (i - self.ptr_mc[o]) % P)
                self.ptr_mc[o] = (w + 1) % P
            else:
                w = r[0] if len(r) == 1 else r[self._sched_below(len(r))]
            mc_win[o] = w
            match_out[o] = w
            match_in[w] = o
        for it in range(self.cfg.iterations):
            grant = [-1] * P
            for o in range(P):
                if match_out[o] >= 0:
                    continue
                req = [i for i in range(P) if match_in[i] < 0 and self.queues.get((i, o))]
                if not req:
                    continue
                if islip:
                    grant[o] = min(req, key=lambda i: (i - self.ptr_grant[o]) % P)
                else:
                    grant[o] = req[0] if len(req) == 1 else req[self._sched_below(len(req))]
            progress = False
            for i in range(P):
                if match_in[i] >= 0:
                    continue
                granted = [o for o in range(P) if grant[o] == i]
                if not granted:
                    continue
                if islip:
                    o = min(granted, key=lambda o: (o - self.ptr_accept[i]) % P)
                else:
                    o = granted[0] if len(granted) == 1 else granted[self._sched_below(len(granted))]
                match_in[i] = o
                match_out[o] = i
                progress = True
                if islip and it == 0:
                    self.ptr_grant[o] = (i + 1) % P
                    self.ptr_accept[i] = (o + 1) % P
            if not progress:
                break
        for o in range(P):
            if mc_win[o] >= 0:
                self._send_hol_copy(t, o, ("mc", mc_win[o]))
            elif match_out[o] >= 0:
                self.deliver(t, o, self.queues[(match_out[o], o)].popleft())

    # -- time ------------------------------------------------------------------------------------------
    def _run(self, until: int) -> int:
        self.stop = 0
        t = self.now
        reason = 0
        while t < until:
            if self.capacity - len(self.captured) < self.P:
                reason = STOP_CAPTURE
                break
            for i in range(self.P):
                g = self._generate(i, t) if self.gen_on else None
                if self.pending and self.pending[0][0] == t and self.pending[0][1] == i:
                    _, _, tag, cell = self.pending.pop(0)
                    self.arrive_injected(t, i, tag, cell)
                    if g is not None:
                        self.port_cnt[i, PORT_GEN_BLOCKED] += 1
                elif g is not None:
                    v, auu, clp = g
                    self.arrive(t, i, v, int(auu), clp, None)
            self.serve(t)
            t += 1
            if self.stop:
                reason = self.stop
                break
        self.now = t
        return reason

    def advance(self, until: int) -> tuple[int, bool]:
        """Same contract as Fabric.advance: (slot reached, stopped at a STOP port)."""
        while True:
            reason = self._run(until)
            for rec in self.captured:
                self.received.setdefault(rec[1], []).append(rec)
            self.captured = []
            if reason == STOP_PORT:
                return self.now, True
            if reason != STOP_CAPTURE:
                return self.now, False

    def receive(self, port: int) -> list[tuple]:
        return self.received.pop(port, [])

    def queue_contents(self) -> dict:
        """{queue key: [(vc, seq, leaf), ...]} of the non-empty queues."""
        return {k: [(c.buf.vc, c.buf.seq, c.leaf) for c in q] for k, q in self.queues.items() if q}
