"""The adapter's SAR engine: transmit (descriptors -> DMA -> segmentation -> shaped cells) and receive
(cells -> HEC receiver -> VC lookup -> reassembly -> DMA into posted buffers -> descriptors).

Both halves work on the adapter's state: the register file (hw.regs.RegisterFile over the map of
hw.adapter.registers), host memory (DMA, ``who="dma"``), the counters, and the interrupt line. They
do not know about time beyond the slots they are given: hw.adapter.adapter schedules them on the
clock.

Transmit (:class:`TxEngine`)
    :meth:`TxEngine.fetch` serves the transmit rings, highest ring first (ring 1 is the signalling
    ring, docs/adapter.md). For each whole frame posted (descriptors up to one with EOP, all before
    TAIL) it checks the descriptors, DMAs the buffers, segments the frame with the VC's header
    (AAL5: hw.aal5.segment, I.363.5; AAL0: the driver's 52-octet cells, HEC added), queues the cells
    on the VC, writes every descriptor back and advances HEAD. A frame that does not fit in the
    segmentation buffer waits (HEAD stays) until cells drain. :meth:`TxEngine.run` asks the cell
    scheduler (hw.adapter.shaper) for the next run of back-to-back cells.

Receive (:class:`RxEngine`)
    :meth:`RxEngine.receive` takes cells with their arrival slots. Every cell is counted exactly once
    (see the conservation equations in the register map): HEC receiver (I.432.1: single-bit
    correction, then detection mode), idle and unassigned cells removed, VC lookup (a CAM of the
    entries with RX_EN), F5 OAM / RM cells on AAL5 VCs dropped, AAL5 cells into the per-VC
    reassembler (hw.aal5.Reassembler), AAL0 cells delivered one by one. Completed frames and errored
    PDUs go, in slot order, to their VC's receive ring.
"""

from __future__ import annotations

from collections import Counter as _Tally
from collections import deque
from typing import Callable, NamedTuple

import numpy as np

from hw.aal5 import MAX_SDU, Reassembler, pdu_cells, segment
from hw.adapter.errors import AdapterFault, DescriptorFault, DmaError, DmaFault
from hw.adapter.host_memory import HostMemory
from hw.adapter.interrupts import InterruptLine
from hw.adapter.registers import (AAL0, AAL5, COUNTER_INDEX, COUNTERS, INT_RX_DONE, INT_RX_ERROR, INT_RX_NO_DESC,
                                  INT_TX_DONE, INT_TX_ERROR, VC_COUNTER_INDEX, VC_COUNTERS, AdapterConfig)
from hw.adapter.rings import RX_DESC, RX_ERR, TX_DESC, TX_STATUS, ring_next
from hw.adapter.shaper import CellScheduler, VcShaper
from hw.cell import CELL_OCTETS, hec_ok, pack_headers
from hw.cell import hec as _hec
from hw.hec_receiver import HecReceiver
from hw.regs import RegisterFile

#: octets of one AAL0 cell in a host buffer: 4 header octets (no HEC) + 48 payload octets
#: (the format of Linux-ATM's AAL0 sockets, ATM_AAL0_SDU = 52)
AAL0_CELL_OCTETS = 52

#: the fields of a posted receive descriptor the adapter reads, and its write-back (one descriptor write:
#: LEN, VC, the status word with DONE, SLOT, OWN cleared), compiled once from the RX_DESC declaration
_RX_POSTED = RX_DESC.getter("OWN", "SIZE", "ADDR")
_RX_WRITE_BACK = RX_DESC.merger("LEN", "VC", "ERR", "UU", "CPI", "SOP", "EOP", "CLP", "DONE", "SLOT", "OWN")
#: a transmit descriptor's write-back (STATUS, DONE = 1, OWN = 0)
_TX_WRITE_BACK = TX_DESC.merger("STATUS", "DONE", "OWN")

#: receive batches up to this many cells are classified cell by cell on Python ints (RxEngine._receive_few):
#: below it, the per-call cost of whole-array operations is more than the work
SMALL_BATCH = 16

#: Reassembler error kind -> (receive descriptor ERR code, global counter of PDUs)
ERROR_KINDS = {
    "crc": ("CRC", "RX_CRC_ERRORS"),
    "length": ("LENGTH", "RX_LENGTH_ERRORS"),
    "oversize": ("OVERSIZE", "RX_OVERSIZE"),
    "timeout": ("TIMEOUT", "RX_TIMEOUTS"),
    "abort": ("ABORT", "RX_ABORTS"),
    "no_buffer": ("NO_BUFFER", "RX_SAR_NO_BUFFER"),
}

FaultHandler = Callable[[AdapterFault], None]


class Counters:
    """The adapter's statistics counters: one uint64 per global counter, one row per VC. The
    register file reads them through views (registers.COUNTERS, registers.VC_COUNTERS)."""

    def __init__(self, vcs: int) -> None:
        self.g = np.zeros(len(COUNTERS), np.uint64)
        self.vc = np.zeros((vcs, len(VC_COUNTERS)), np.uint64)
        # the same counters as memoryviews: one counter updated on Python ints costs a fraction of a
        # numpy scalar operation (the arrays stay the storage the register file reads)
        self.gv = memoryview(self.g)
        self.vcv = memoryview(self.vc)

    def add(self, name: str, n: int = 1) -> None:
        self.gv[COUNTER_INDEX[name]] += n

    def set(self, name: str, n: int) -> None:
        self.gv[COUNTER_INDEX[name]] = n

    def add_vc(self, vc: int, name: str, n: int = 1) -> None:
        self.vcv[vc, VC_COUNTER_INDEX[name]] += n

    def __getitem__(self, name: str) -> int:
        return int(self.g[COUNTER_INDEX[name]])

    def vc_value(self, vc: int, name: str) -> int:
        return int(self.vc[vc, VC_COUNTER_INDEX[name]])

    def clear(self) -> None:
        self.g[:] = 0
        self.vc[:] = 0


class _Ring:
    """Live views of one ring's registers (memoryviews of the register file's arrays: Python ints in
    and out, for the per-descriptor paths)."""

    def __init__(self, regs: RegisterFile, window: str, index: int) -> None:
        self.window = window
        self.index = index
        self._base = memoryview(regs.array(f"{window}.BASE.ADDR"))
        self._size = memoryview(regs.array(f"{window}.SIZE.ENTRIES"))
        self._head = memoryview(regs.array(f"{window}.HEAD.INDEX"))
        self._tail = memoryview(regs.array(f"{window}.TAIL.INDEX"))
        self._enable = memoryview(regs.array(f"{window}.CTRL.ENABLE"))
        self._halted = memoryview(regs.array(f"{window}.CTRL.HALTED"))

    @property
    def usable(self) -> bool:
        return bool(self._enable[self.index]) and not self._halted[self.index]

    @property
    def base(self) -> int:
        return self._base[self.index]

    @property
    def size(self) -> int:
        return self._size[self.index]

    @property
    def head(self) -> int:
        return self._head[self.index]

    @head.setter
    def head(self, value: int) -> None:
        self._head[self.index] = value

    @property
    def tail(self) -> int:
        return self._tail[self.index]

    def halt(self) -> None:
        self._halted[self.index] = 1


class _VcTable:
    """Live views of the VC table's fields."""

    def __init__(self, regs: RegisterFile) -> None:
        a = regs.array
        self.tx_en, self.rx_en = a("VC.CTRL.TX_EN"), a("VC.CTRL.RX_EN")
        self.aal, self.service, self.rx_ring = a("VC.CTRL.AAL"), a("VC.CTRL.SERVICE"), a("VC.CTRL.RX_RING")
        self.vpi, self.vci = a("VC.HDR.VPI"), a("VC.HDR.VCI")
        self.pcr, self.scr, self.mbs, self.cdvt = (a("VC.PCR.RATE"), a("VC.SCR.RATE"), a("VC.MBS.CELLS"),
                                                   a("VC.CDVT.SLOTS"))
        self.max_sdu = a("VC.MAX_SDU.OCTETS")
        self.queued, self.tat = a("VC.QUEUED.CELLS"), a("VC.TAT.SLOT")
        self.count = self.tx_en.shape[0]


# ==================================================================================================
# transmit
# ==================================================================================================


class _Frame:
    __slots__ = ("cells", "pos")

    def __init__(self, cells: np.ndarray) -> None:
        self.cells = cells
        self.pos = 0


class TxEngine:
    def __init__(self, cfg: AdapterConfig, regs: RegisterFile, mem: HostMemory, counters: Counters,
                 irq: InterruptLine, fault: FaultHandler) -> None:
        self.cfg = cfg
        self.mem = mem
        self.cnt = counters
        self.irq = irq
        self.fault = fault
        self.vcs = _VcTable(regs)
        self.rings = [_Ring(regs, "TXR", r) for r in range(cfg.tx_rings)]
        self.line_rate = cfg.line_rate.cells_per_second
        self.scheduler = CellScheduler()
        self.queues: dict[int, deque[_Frame]] = {}
        self.backlog: dict[int, int] = {}
        self.blocked = False  # a frame waits for room in the segmentation buffer

    # -- VC configuration ----------------------------------------------------------------------
    def configure(self, vc: int) -> None:
        """(Re)build the shaper of VC ``vc`` from its registers (TAT restarts)."""
        v = self.vcs
        shaper = VcShaper(self.line_rate, int(v.pcr[vc]), int(v.cdvt[vc]), int(v.scr[vc]), int(v.mbs[vc]))
        self.scheduler.configure(vc, shaper, int(v.service[vc]))
        v.tat[vc] = 0

    def flush(self, vc: int) -> None:
        """Discard the queued cells of ``vc`` (TX_EN cleared), counted in TX_FLUSHED_CELLS."""
        n = self.backlog.pop(vc, 0)
        self.queues.pop(vc, None)
        self.scheduler.remove(vc)
        self.vcs.queued[vc] = 0
        if n:
            self.cnt.add("TX_FLUSHED_CELLS", n)
            self.cnt.set("TX_QUEUED_CELLS", self.queued)
            self.blocked = False

    def clear(self) -> None:
        self.queues.clear()
        self.backlog.clear()
        self.scheduler = CellScheduler()
        self.blocked = False

    @property
    def queued(self) -> int:
        return sum(self.backlog.values())

    # -- descriptors -> cells ------------------------------------------------------------------
    def fetch(self) -> None:
        """Serve every usable transmit ring, highest index first, until each is empty, waits for
        the rest of a frame, or the segmentation buffer is full."""
        self.blocked = False
        for ring in reversed(self.rings):
            while ring.usable and ring.head != ring.tail:
                if not self._fetch_frame(ring):
                    break

    def _fetch_frame(self, ring: _Ring) -> bool:
        """Take one whole frame from ``ring``; False when nothing more can be taken now."""
        size, base = ring.size, ring.base
        descs: list[tuple[int, int, dict[str, int], bytes]] = []  # (index, address, fields, octets)
        i = ring.head
        while True:
            if i == ring.tail:
                return False  # the driver has not posted the frame's EOP descriptor yet
            addr = base + i * TX_DESC.octets
            try:
                raw = self.mem.read(addr, TX_DESC.octets, who="dma")
            except DmaError as exc:
                self._fault(ring, DmaFault("tx", ring.index, i, exc.address, str(exc)))
                return False
            d = TX_DESC.unpack(raw)
            if not d["OWN"]:
                self._fault(ring, DescriptorFault("tx", ring.index, i, addr,
                                                  "OWN = 0 between HEAD and TAIL (not handed to the adapter)"))
                return False
            descs.append((i, addr, d, raw))
            i = ring_next(i, size)
            if d["EOP"]:
                break
        status, cells = self._frame_cells(ring, descs)
        if status is None:
            return False  # waits for room, or faulted
        for index, addr, _, raw in descs:
            try:  # the write-back: STATUS and DONE set, OWN cleared, in one descriptor write
                self.mem.write(addr, _TX_WRITE_BACK(raw, status, 1, 0), who="dma")
            except DmaError as exc:  # the ring memory was freed under the adapter
                self._fault(ring, DmaFault("tx", ring.index, index, exc.address, str(exc)))
                return False
        ring.head = i
        self.cnt.add("TX_DESCRIPTORS", len(descs))
        if status != TX_STATUS["OK"]:
            self.cnt.add("TX_DESC_ERRORS")
            self.irq.cause(INT_TX_ERROR)
        else:
            vc = descs[0][2]["VC"]
            n = cells.shape[0]
            self.queues.setdefault(vc, deque()).append(_Frame(cells))
            self.backlog[vc] = self.backlog.get(vc, 0) + n
            self.vcs.queued[vc] = self.backlog[vc]
            if vc not in self.scheduler.shapers:
                self.configure(vc)
            self.cnt.add("TX_SEGMENTED_CELLS", n)
            self.cnt.set("TX_QUEUED_CELLS", self.queued)
        self.irq.cause(INT_TX_DONE + ring.index, completions=1)
        return True

    def _frame_cells(self, ring: _Ring, descs) -> tuple[int | None, np.ndarray | None]:
        """(STATUS code, cells) of a frame; (None, None) when it must wait or a fault was raised."""
        v = self.vcs
        vc = descs[0][2]["VC"]
        last = descs[-1][2]
        total = sum(d["LEN"] for _, _, d, _ in descs)
        if any(d["VC"] != vc for _, _, d, _ in descs):
            return TX_STATUS["MIXED_VC"], None
        if vc >= v.count:
            return TX_STATUS["BAD_VC"], None
        if not v.tx_en[vc]:
            return TX_STATUS["VC_DISABLED"], None
        aal = int(v.aal[vc])
        if aal == AAL5:
            if not 1 <= total <= MAX_SDU:
                return TX_STATUS["BAD_LENGTH"], None
            need = pdu_cells(total)
        else:
            if total == 0 or total % AAL0_CELL_OCTETS:
                return TX_STATUS["BAD_LENGTH"], None
            need = total // AAL0_CELL_OCTETS
        if need > self.cfg.tx_buffer_cells:
            return TX_STATUS["BAD_LENGTH"], None
        if self.queued + need > self.cfg.tx_buffer_cells:
            self.blocked = True
            return None, None
        parts = []
        for index, _, d, _ in descs:
            try:
                parts.append(self.mem.read(d["ADDR"], d["LEN"], who="dma"))
            except DmaError as exc:
                self._fault(ring, DmaFault("tx", ring.index, index, exc.address, str(exc)))
                return None, None
        data = b"".join(parts)
        self.cnt.add("TX_OCTETS", total)
        vpi, vci = int(v.vpi[vc]), int(v.vci[vc])
        if aal == AAL5:
            cells = segment(data, vpi, vci, last["CLP"], uu=last["UU"])
        else:
            cells = aal0_cells(data, vpi, vci, last["CLP"])
        return TX_STATUS["OK"], cells

    def _fault(self, ring: _Ring, exc: AdapterFault) -> None:
        ring.halt()
        self.fault(exc)

    # -- cells -> slots ------------------------------------------------------------------------
    def run(self, now: int, max_cells: int) -> tuple[np.ndarray, list[int], int | None]:
        """The next run of cells from slot ``now``: (cells (k, 53), VC of each, next slot to run)."""
        backlog = dict(self.backlog)
        order, wake = self.scheduler.plan(now, max_cells, backlog)
        n = len(order)
        cells = np.empty((n, CELL_OCTETS), np.uint8)
        cnt = self.cnt
        k = 0
        while k < n:  # each run of slots given to one VC takes its cells frame by frame, in slices
            vc = order[k]
            j = k + 1
            while j < n and order[j] == vc:
                j += 1
            cnt.add_vc(vc, "TX_CELLS", j - k)
            q = self.queues[vc]
            while k < j:
                frame = q[0]
                m = min(j - k, frame.cells.shape[0] - frame.pos)
                cells[k:k + m] = frame.cells[frame.pos:frame.pos + m]
                frame.pos += m
                k += m
                if frame.pos == frame.cells.shape[0]:
                    q.popleft()
                    cnt.add("TX_FRAMES")
                    cnt.add_vc(vc, "TX_FRAMES")
        for vc in set(order):
            self.backlog[vc] = backlog[vc]
            self.vcs.queued[vc] = backlog[vc]
            self.vcs.tat[vc] = self.scheduler.shapers[vc].tat_slot
            if not backlog[vc]:
                del self.backlog[vc]
                self.queues.pop(vc, None)
        if n:
            self.cnt.add("TX_CELLS", n)
            self.cnt.set("TX_QUEUED_CELLS", self.queued)
        return cells, order, wake


def header_keys(cells: np.ndarray) -> np.ndarray:
    """VPI << 16 | VCI of each cell (UNI header: GFC(4) VPI(8) VCI(16) PTI(3) CLP(1), I.361 2.1)."""
    h = cells[:, :4].astype(np.int64)
    return ((h[:, 0] & 0x0F) << 20) | (h[:, 1] << 12) | (h[:, 2] << 4) | (h[:, 3] >> 4)


def aal0_cells(data: bytes, vpi: int, vci: int, clp: int = 0) -> np.ndarray:
    """Cells from 52-octet AAL0 records: the VC's VPI/VCI, the record's PTI and CLP (OR ``clp``), GFC 0,
    HEC computed, the record's 48 payload octets."""
    rec = np.frombuffer(data, np.uint8).reshape(-1, AAL0_CELL_OCTETS)
    n = rec.shape[0]
    cells = np.empty((n, CELL_OCTETS), np.uint8)
    pti = (rec[:, 3] >> 1) & 0x7
    cell_clp = (rec[:, 3] & 1) | clp
    pack_headers(vpi, vci, pti, cell_clp, 0, out=cells, n=n)
    cells[:, 5:] = rec[:, 4:]
    return cells


# ==================================================================================================
# receive
# ==================================================================================================


class RxItem(NamedTuple):
    """One thing to hand to the host: a frame (``err`` None) or an errored PDU (``err`` its name)."""

    slot: int
    order: int
    vc: int  # -1: the VC is no longer in the table
    data: bytes
    cells: int
    uu: int
    cpi: int
    clp: int
    err: str | None


class RxEngine:
    def __init__(self, cfg: AdapterConfig, regs: RegisterFile, mem: HostMemory, counters: Counters,
                 irq: InterruptLine, fault: FaultHandler, *, engine: str = "kernel") -> None:
        self.cfg = cfg
        self.mem = mem
        self.cnt = counters
        self.irq = irq
        self.fault = fault
        self.engine = engine
        self.vcs = _VcTable(regs)
        self.rings = [_Ring(regs, "RXR", r) for r in range(cfg.rx_rings)]
        self._timeout = regs.array("RX_TIMEOUT.SLOTS")
        self.cam: dict[int, int] = {}  # VPI << 16 | VCI -> VC index, entries with RX_EN
        #: batches of at most this many cells (after the HEC receiver) take the per-cell path
        self.small_batch = SMALL_BATCH
        self.aal0_keys: set[int] = set()  # the keys of the AAL0 entries among them
        self.clear()

    def clear(self) -> None:
        self.hec = HecReceiver(engine=self.engine)
        self._hec_seen = (0, 0)  # the HEC receiver's (discarded, corrected) as last counted into the counters
        # the reassembler's connection table never forgets a VPI/VCI; leave room for re-use of entries
        self._sar_vcs = max(1024, 4 * self.cfg.vcs)
        self.sar = Reassembler(max_vcs=self._sar_vcs, pool_cells=self.cfg.rx_pool_cells,
                               timeout_slots=None, engine=self.engine)
        self._table_full = 0  # the reassembler's cells_vc_table_full and cells_pending after its last batch
        self._pending = 0
        self.cam.clear()
        self.aal0_keys.clear()

    # -- VC table ------------------------------------------------------------------------------
    def set_vc(self, vc: int) -> None:
        """Re-read entry ``vc``: install or remove its key in the CAM, pass MAX_SDU to the reassembler."""
        for key, index in list(self.cam.items()):
            if index == vc:
                del self.cam[key]
                self.aal0_keys.discard(key)
        v = self.vcs
        if v.rx_en[vc]:
            key = int(v.vpi[vc]) << 16 | int(v.vci[vc])
            self.cam[key] = vc
            if int(v.aal[vc]) == AAL0:
                self.aal0_keys.add(key)
            else:
                self.sar.set_max_sdu(int(v.vpi[vc]), int(v.vci[vc]), int(v.max_sdu[vc]))

    def relevant(self, cells: np.ndarray) -> np.ndarray:
        """Cells whose arrival can make something visible to the host, by their header as sent: the
        end of an AAL5 PDU (AUU), a cell with PTI 1xx, a cell on an AAL0 VC, or a header that fails
        its HEC check (what the receiver will make of it is not known before it runs). The adapter
        runs its receiver at the slot after each of them (see Adapter.wake_rx)."""
        if cells.shape[0] <= self.small_batch:
            return self._relevant_few(cells)
        o3 = cells[:, 3]
        out = ((o3 & 0x0A) == 0x02) | ((o3 & 0x08) != 0) | ~hec_ok(cells)
        if self.aal0_keys:
            keys = header_keys(cells)
            out |= np.isin(keys, np.fromiter(self.aal0_keys, np.int64, len(self.aal0_keys)))
        return out

    def _relevant_few(self, cells: np.ndarray) -> np.ndarray:
        """:meth:`relevant` cell by cell, for a few cells (the same answer)."""
        hdr = cells[:, :5].tobytes()
        aal0 = self.aal0_keys
        out = []
        for i in range(cells.shape[0]):
            h = hdr[5 * i:5 * i + 5]
            b3 = h[3]
            hit = (b3 & 0x0A) == 0x02 or bool(b3 & 0x08) or _hec(h) != h[4]
            if not hit and aal0:
                hit = (((h[0] & 0x0F) << 20) | (h[1] << 12) | (h[2] << 4) | (b3 >> 4)) in aal0
            out.append(hit)
        return np.array(out, bool)

    def timeout_changed(self) -> None:
        t = int(self._timeout[0])
        self.sar.timeout_slots = t if t else None

    @property
    def pending_cells(self) -> int:
        """Cells of partial PDUs held by the reassembler (as of its last batch)."""
        return self._pending

    # -- cells in ------------------------------------------------------------------------------
    def discard(self, n: int) -> None:
        """``n`` cells from the PHY dropped unexamined (CTRL.RX_EN = 0, or line cells in loopback)."""
        self.cnt.add("RX_PHY_CELLS", n)
        self.cnt.add("RX_DISABLED_CELLS", n)

    def receive(self, cells: np.ndarray, slots: np.ndarray, now: int) -> None:
        """Process cells (n, 53) that arrived at ``slots`` (non-decreasing, all < now)."""
        n = cells.shape[0]
        if n == 0:
            return
        self.cnt.gv[COUNTER_INDEX["RX_PHY_CELLS"]] += n
        work = np.ascontiguousarray(cells).copy()
        keep = self.hec.receive_mask(work)
        after = self.hec.counters  # read once a batch: the receiver is this engine's alone
        seen = (after.discarded, after.corrected)
        if seen != self._hec_seen:
            self.cnt.add("RX_HEC_DISCARDS", seen[0] - self._hec_seen[0])
            self.cnt.add("RX_HEC_CORRECTED", seen[1] - self._hec_seen[1])
            self._hec_seen = seen
        if not keep.all():
            work, slots = work[keep], slots[keep]
        if work.shape[0] <= self.small_batch:
            self._receive_few(work, slots, now)
            return
        o0, o3 = work[:, 0], work[:, 3]
        keys = header_keys(work)
        # idle cells (00 00 00 01, I.432.1 4.5.1) and unassigned cells (VPI 0, VCI 0, CLP 0, any GFC and
        # PTI: I.361 Table 2) belong to no VC; both have VPI 0 and VCI 0
        idle = (keys == 0) & (((o3 & 1) == 0) | (o0 == 0))
        if idle.any():
            self.cnt.add("RX_IDLE_CELLS", int(idle.sum()))
            work, slots, keys = work[~idle], slots[~idle], keys[~idle]
        if work.shape[0] == 0:
            return
        pti = (work[:, 3] >> 1) & 0x7
        cam = self.cam
        vc_list = [cam.get(k, -1) for k in keys.tolist()]
        vc = np.array(vc_list, np.int64)
        known = vc >= 0
        aal = self.vcs.aal[np.where(known, vc, 0)]
        aal = np.where(known, aal, 0)
        oam = known & (aal == AAL5) & (pti >= 4)  # PTI 1xx: F5 OAM, RM, reserved (I.361 2.2.4)
        accept = known & ~oam
        n_unknown, n_oam = vc_list.count(-1), int(oam.sum())
        if n_unknown:
            self.cnt.add("RX_UNKNOWN_VC", n_unknown)
        if n_oam:
            self.cnt.add("RX_OAM_CELLS", n_oam)
        n_accept = work.shape[0] - n_unknown - n_oam
        if n_accept:
            self.cnt.gv[COUNTER_INDEX["RX_CELLS"]] += n_accept
            col = self.cnt.vc[:, VC_COUNTER_INDEX["RX_CELLS"]]
            for v, k in _Tally(vc[accept].tolist()).items():
                col[v] += np.uint64(k)

        items: list[RxItem] = []
        order = 0
        raw = accept & (aal == AAL0)
        if raw.any():
            for i in np.flatnonzero(raw):
                rec = work[i, :4].tobytes() + work[i, 5:].tobytes()
                items.append(RxItem(int(slots[i]), order, int(vc[i]), rec, 1, 0, 0, int(work[i, 3] & 1), None))
                order += 1
        five = accept & (aal == AAL5)
        if five.all():
            items += self._reassemble(work, slots, now, order)
        elif five.any():
            items += self._reassemble(work[five], slots[five], now, order)
        elif self.sar.timeout_slots is not None and self.pending_cells:
            items += self._reassemble(work[:0], slots[:0], now, order)
        if len(items) > 1:
            items.sort(key=lambda it: (it.slot, it.order))
        for it in items:
            self._deliver(it)

    def _receive_few(self, work: np.ndarray, slots: np.ndarray, now: int) -> None:
        """:meth:`receive` after the HEC receiver, for a few cells (a signalling frame): the same
        classification, counters and items, on Python ints instead of whole-array operations.
        tests/hw/adapter/test_rx_small_batches.py holds the two paths equal."""
        m = work.shape[0]
        if m == 0:
            return
        hdr = work[:, :4].tobytes()
        cam, aal_of = self.cam, self.vcs.aal
        idle = unknown = oam = 0
        per_vc: dict[int, int] = {}
        raw: list[tuple[int, int]] = []   # (row, VC) of the AAL0 cells
        five: list[int] = []              # rows of the AAL5 cells
        rest = 0                          # cells left after idle and unassigned ones
        for i in range(m):
            b0, b1, b2, b3 = hdr[4 * i:4 * i + 4]
            key = ((b0 & 0x0F) << 20) | (b1 << 12) | (b2 << 4) | (b3 >> 4)
            # idle (I.432.1 4.5.1) and unassigned cells (I.361 Table 2): VPI 0, VCI 0
            if key == 0 and (not b3 & 1 or b0 == 0):
                idle += 1
                continue
            rest += 1
            vc = cam.get(key, -1)
            if vc < 0:
                unknown += 1
                continue
            aal = int(aal_of[vc])
            if aal == AAL5 and (b3 >> 1) & 7 >= 4:  # PTI 1xx: F5 OAM, RM, reserved (I.361 2.2.4)
                oam += 1
                continue
            per_vc[vc] = per_vc.get(vc, 0) + 1
            if aal == AAL0:
                raw.append((i, vc))
            elif aal == AAL5:
                five.append(i)
        cnt = self.cnt
        if idle:
            cnt.add("RX_IDLE_CELLS", idle)
        if not rest:
            return
        if unknown:
            cnt.add("RX_UNKNOWN_VC", unknown)
        if oam:
            cnt.add("RX_OAM_CELLS", oam)
        if per_vc:
            cnt.gv[COUNTER_INDEX["RX_CELLS"]] += rest - unknown - oam
            vcv, col = cnt.vcv, VC_COUNTER_INDEX["RX_CELLS"]
            for v, k in per_vc.items():
                vcv[v, col] += k
        items: list[RxItem] = []
        order = 0
        if raw:
            slot_of = slots.tolist()
            for i, vc in raw:
                rec = work[i, :4].tobytes() + work[i, 5:].tobytes()
                items.append(RxItem(int(slot_of[i]), order, vc, rec, 1, 0, 0, int(work[i, 3] & 1), None))
                order += 1
        if len(five) == m:
            items += self._reassemble(work, slots, now, order)
        elif five:
            items += self._reassemble(work[five], slots[five], now, order)
        elif self.sar.timeout_slots is not None and self.pending_cells:
            items += self._reassemble(work[:0], slots[:0], now, order)
        if len(items) > 1:
            items.sort(key=lambda it: (it.slot, it.order))
        for it in items:
            self._deliver(it)

    def expire(self, now: int) -> None:
        """Run the reassembly timer at ``now`` (partial PDUs idle too long are reported)."""
        for it in self._reassemble(np.zeros((0, CELL_OCTETS), np.uint8), np.zeros(0, np.int64), now, 0):
            self._deliver(it)

    def _reassemble(self, cells: np.ndarray, slots: np.ndarray, now: int, order: int) -> list[RxItem]:
        out = self.sar.feed(cells, slots if slots.dtype == np.int64 else slots.astype(np.int64),
                            now=max(now - 1, self.sar.now))
        sar = self.sar
        self._pending = sar.cells_pending
        # cells refused for want of room in the connection table: only once it is full (it never forgets a
        # VPI/VCI, so its size only grows); the whole counter dict is built only then
        full = 0
        if sar.n_vcs >= self._sar_vcs:
            table_full = sar.counters["cells_vc_table_full"]
            full, self._table_full = table_full - self._table_full, table_full
        if full:  # a VPI/VCI the reassembler's connection table has no room for (see docs/adapter.md)
            self.cnt.add("RX_SAR_NO_BUFFER", full)
            self.cnt.add("RX_ERROR_CELLS", full)
        items = []
        cam = self.cam
        for f in out:  # hw.aal5 Sdu records, on Python ints
            items.append(RxItem(f.slot, order, cam.get(f.vpi << 16 | f.vci, -1), f.sdu, f.cells, f.uu, f.cpi, 0, None))
            order += 1
        for e in out.errors:
            key = e.vpi << 16 | e.vci
            items.append(RxItem(e.slot, order, self.cam.get(key, -1), b"", e.cells, 0, 0, 0, e.kind))
            order += 1
        return items

    # -- frames out ----------------------------------------------------------------------------
    def _deliver(self, it: RxItem) -> None:
        if it.err is not None:
            self._deliver_error(it)
            return
        vc = it.vc
        ring = self.rings[int(self.vcs.rx_ring[vc])] if vc >= 0 else None
        placed = self._place(ring, it) if ring is not None else None
        if placed is None:
            self.cnt.add("RX_NO_DESC")
            self.cnt.add("RX_NO_DESC_CELLS", it.cells)
            if vc >= 0:
                self.cnt.add_vc(vc, "RX_DROPS")
            self.irq.cause(INT_RX_NO_DESC)
            return
        self.cnt.add("RX_FRAMES")
        self.cnt.add("RX_OCTETS", len(it.data))
        self.cnt.add("RX_FRAME_CELLS", it.cells)
        self.cnt.add_vc(vc, "RX_FRAMES")
        self.irq.cause(INT_RX_DONE + ring.index, completions=1)

    def _deliver_error(self, it: RxItem) -> None:
        code, counter = ERROR_KINDS[it.err]
        self.cnt.add(counter)
        self.cnt.add("RX_ERROR_CELLS", it.cells)
        if it.vc < 0:
            self.cnt.add("RX_UNREPORTED")
            return
        self.cnt.add_vc(it.vc, "RX_ERRORS")
        ring = self.rings[int(self.vcs.rx_ring[it.vc])]
        if self._place(ring, it, err=RX_ERR[code]) is None:
            self.cnt.add("RX_UNREPORTED")
            return
        self.irq.cause(INT_RX_ERROR)
        self.irq.cause(INT_RX_DONE + ring.index, completions=1)

    def _place(self, ring: _Ring, it: RxItem, err: int = 0) -> int | None:
        """Write ``it`` into the buffers posted on ``ring``: the number of descriptors used, or None
        when too few are posted (nothing written, HEAD unchanged) or a fault halted the ring."""
        if not ring.usable:
            return None
        size, base, tail = ring.size, ring.base, ring.tail
        need = max(1, len(it.data))
        plan: list[tuple[int, int, int, int, bytes]] = []  # (index, descriptor address, buffer, take, octets)
        i, got = ring.head, 0
        while got < need or not plan:
            if i == tail:
                return None
            addr = base + i * RX_DESC.octets
            try:
                raw = self.mem.read(addr, RX_DESC.octets, who="dma")
            except DmaError as exc:
                self._fault(ring, DmaFault("rx", ring.index, i, exc.address, str(exc)))
                return None
            own, bsize, buffer = _RX_POSTED(raw)
            if not own:
                self._fault(ring, DescriptorFault("rx", ring.index, i, addr,
                                                  "OWN = 0 between HEAD and TAIL (not posted to the adapter)"))
                return None
            if bsize == 0:
                self._fault(ring, DescriptorFault("rx", ring.index, i, addr, "buffer SIZE 0"))
                return None
            take = 0 if err else min(bsize, len(it.data) - got)
            plan.append((i, addr, buffer, take, raw))
            got += take if not err else need
            i = ring_next(i, size)
        pos = 0
        last = len(plan) - 1
        vc = max(it.vc, 0)
        for k, (index, addr, buf, take, raw) in enumerate(plan):
            try:
                if take:
                    self.mem.write(buf, it.data[pos:pos + take], who="dma")
                # the write-back, in one descriptor write: LEN, VC, the status word with DONE, SLOT, OWN cleared
                self.mem.write(addr, _RX_WRITE_BACK(raw, take, vc, err, it.uu, it.cpi, int(k == 0), int(k == last),
                                                    it.clp, 1, it.slot, 0), who="dma")
            except DmaError as exc:
                self._fault(ring, DmaFault("rx", ring.index, index, exc.address, str(exc)))
                return None
            pos += take
        ring.head = i
        return len(plan)

    def _fault(self, ring: _Ring, exc: AdapterFault) -> None:
        ring.halt()
        self.fault(exc)


__all__ = ["TxEngine", "RxEngine", "Counters", "RxItem", "aal0_cells", "AAL0_CELL_OCTETS", "ERROR_KINDS"]
