"""The ATM network adapter: a component with explicit ports, driven by the virtual clock.

Ports (as an HDL entity would list them):

    host side                                      line side
    ---------                                      ---------
    read32(offset) -> value   register bus         port        an hw.link Port (attach())
    write32(offset, value)    (read64/write64)     wake_rx(cells?, slots?)  cell-available input:
    memory                    host memory (DMA)                the far end put cells on the line
    irq                       interrupt line,      far_wake    cell-available output, wired to the
                              irq.connect(isr)                 far end's input (connect())

Time: the adapter owns no thread; it schedules its own work as events on the hw.clock.Clock:

- a write to TXR[r].TAIL (the doorbell) schedules the descriptor fetch at the same slot;
- the cell scheduler runs whenever cells are queued: each run commits up to CONFIG.TX_FIFO
  back-to-back cells to the line from the current slot, one per slot, and the next run is scheduled at
  the end of that run or at the next slot a shaped VC conforms, whichever is later;
- the receiver runs at slot a + 1 for a cell that arrived in slot a (the cell is whole at the end of
  its slot), so a frame's descriptor write-back and its interrupt happen at the exact slot after its
  last cell. It knows when to run from the far end's cell-available signal (wake_rx: with the cells
  sent, it runs only after the cells that can end a frame; without, after every cell) and from the
  cells already on the wire; an adapter at the other end of a link drives it through connect().
  RX_POLL is a fallback for far ends that do not signal (frames then carry their exact arrival slot
  in the descriptor, but are written back at the next poll);
- interrupts: the ISR is called synchronously at the slot of the event that raised the line.

Convention for everyone who touches a link: advance it to the clock's now, never beyond (the adapter
does so before it sends or receives). A cell sent at slot s arrives at s + the link's delay.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Callable, NamedTuple

import numpy as np

from hw.adapter.errors import AdapterConfigError, AdapterFault
from hw.adapter.host_memory import HostMemory
from hw.adapter.interrupts import LINE_BIT, InterruptLine
from hw.adapter.registers import (AAL_VALUES, COUNTERS, FAULT_DIR, INT_FAULT, INT_LINK, SERVICE_VALUES,
                                  VC_COUNTERS, AdapterConfig, build_map)
from hw.adapter.rings import RX_DESC, TX_DESC
from hw.adapter.sar import Counters, RxEngine, TxEngine
from hw.adapter.shaper import check_traffic
from hw.cell import CELL_OCTETS
from hw.clock import Clock, EventHandle
from hw.errors import FieldError
from hw.link import Link, Port
from hw.regs import Access, AccessError, RegisterFile, UnmappedOffset

#: faults kept in Adapter.faults
FAULT_LOG = 256

_NO_CELLS = np.zeros((0, CELL_OCTETS), np.uint8)


class _BusPlan(NamedTuple):
    """A decoded bus offset: the register's base offset, which 32-bit word of it, its width, the
    printed name ("TXR[1].TAIL"), the hook name ("TXR.TAIL"), the window index, the writable
    fields as (name, lsb, mask, is W1C, backing array, packed shift or None) and the readable ones as
    (lsb, mask, backing array, packed shift or None, is RC)."""

    base: int
    word: int
    width: int
    name: str
    reg: str
    index: int
    idx: np.ndarray
    fields: tuple
    readable: tuple
_NO_SLOTS = np.zeros(0, np.int64)


class Adapter:
    """The emulated ATM adapter. ``strict``: a fault (DMA outside any buffer, a descriptor not owned)
    is raised as an exception out of the clock event after it is recorded in the registers; with
    ``strict=False`` it is only recorded (STATUS.FAULT, FAULT_INFO, the FAULT interrupt), as on real
    hardware. ``engine``: "kernel" (numba) or "twin" for the HEC receiver and the reassembler."""

    def __init__(self, clock: Clock, memory: HostMemory, config: AdapterConfig | None = None, *,
                 name: str = "adapter", strict: bool = True, engine: str = "kernel") -> None:
        if not isinstance(clock, Clock):
            raise FieldError("clock", clock, "an hw.clock.Clock")
        if not isinstance(memory, HostMemory):
            raise FieldError("memory", memory, "an hw.adapter.HostMemory")
        self.cfg = config if config is not None else AdapterConfig()
        self.clock = clock
        self.memory = memory
        self.name = name
        self.strict = strict
        self.map = build_map(self.cfg)
        self.counters = Counters(self.cfg.vcs)
        self._int_words = {reg: np.zeros(1, np.uint32) for reg in ("INT_STATUS", "INT_MASK", "INT_PENDING")}
        self.regs = RegisterFile(self.map, self._backing(), on_write=self._on_write, on_read=self._on_read,
                                 check=self._check)
        # the ring registers the doorbell check reads (live views of the register file)
        self._ring_checks = {w: (self.regs.array(f"{w}.CTRL.ENABLE"), self.regs.array(f"{w}.SIZE.ENTRIES"))
                             for w in ("TXR", "RXR")}
        self.irq = InterruptLine(clock, self._int_words["INT_STATUS"], self._int_words["INT_MASK"],
                                 self._int_words["INT_PENDING"], self.regs.array("COALESCE.MAX_FRAMES"),
                                 self.regs.array("COALESCE.MAX_DELAY"), lambda: self.counters.add("INTERRUPTS"))
        self.tx = TxEngine(self.cfg, self.regs, memory, self.counters, self.irq, self._fault)
        self.rx = RxEngine(self.cfg, self.regs, memory, self.counters, self.irq, self._fault, engine=engine)
        self.port: Port | None = None
        self.far_wake: Callable[..., None] | None = None
        # the last faults met, in order (the registers keep the first since reset)
        self.faults: deque[AdapterFault] = deque(maxlen=FAULT_LOG)
        self._raise: AdapterFault | None = None
        self._fetch_ev: EventHandle | None = None
        self._tx_ev: EventHandle | None = None
        self._rx_ev: EventHandle | None = None
        self._poll_ev: EventHandle | None = None
        self._expire_ev: EventHandle | None = None
        self._line_free_at = 0  # first slot not yet committed to the line
        self._inflight: list[tuple[np.ndarray, np.ndarray]] = []  # cells on the wire, arrival >= now
        self._loop: list[tuple[np.ndarray, np.ndarray]] = []  # loopback cells not yet received
        self._wakes: list[int] = []  # heap: slots at which the receiver must run (see wake_rx)
        self._fallback = False  # cells on their way that nobody announced: run after each cell
        self._latch: tuple[int, int] | None = None  # (register offset, high word) of a 64-bit read
        self._plans: dict[int, _BusPlan] = {}  # bus offset -> decoded access (see _decode_access)
        self._tx_shadow = np.zeros(self.cfg.vcs, bool)  # TX_EN as last seen (a 1 -> 0 edge flushes)
        self._link_up = False

    def _backing(self) -> dict:
        backing: dict = {}
        for reg, word in self._int_words.items():
            for f in self.map.register(reg).fields:
                backing[f"{reg}.{f.name}"] = (word, f.lsb)
        for i, (name, _) in enumerate(COUNTERS):
            backing[f"{name}.COUNT"] = self.counters.g[i:i + 1]
        for k, (name, _, _) in enumerate(VC_COUNTERS):
            backing[f"VC.{name}.COUNT"] = self.counters.vc[:, k]
        return backing

    # ==============================================================================================
    # host side: the register bus
    # ==============================================================================================

    def _decode32(self, offset: int) -> tuple[int, str, int]:
        """(offset of the register, its name, word: 0 low / 1 high) of a 32-bit bus access."""
        if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)):
            raise FieldError("offset", offset, "an integer register offset")
        offset = int(offset)
        if offset % 4:
            raise UnmappedOffset(self.name, offset, "not aligned to 4 octets (32-bit register bus)")
        try:
            w, index, r = self.map.decode(offset)
            base, word = offset, 0
        except UnmappedOffset as exc:
            try:
                w, index, r = self.map.decode(offset - 4)
            except UnmappedOffset:
                raise exc from None
            if r.width != 64:
                raise exc from None
            base, word = offset - 4, 1
        name = r.name if w is None else f"{w.name}[{index}].{r.name}"
        return base, name, word

    def read32(self, offset: int) -> int:
        """A 32-bit register read. Reading the low word of a 64-bit register latches its high word,
        which the next read of the high word returns (a consistent 64-bit counter in two reads)."""
        plan = self._plans.get(offset)
        if plan is None:
            plan = self._decode_access(offset)
        if plan.width == 32:
            return self._bus_read(plan)
        base = plan.base
        if plan.word == 0:
            value = self._bus_read(plan)
            self._latch = (base, value >> 32)
            return value & 0xFFFF_FFFF
        if self._latch is not None and self._latch[0] == base:
            high = self._latch[1]
            self._latch = None
            return high
        return self._bus_read(plan) >> 32

    def _bus_read(self, plan: "_BusPlan") -> int:
        """A bus read of a whole register, with the semantics of :meth:`hw.regs.RegisterFile.read`
        (the read hook first, write-only fields read 0, read-to-clear fields cleared)."""
        self._on_read(plan.reg, plan.idx)
        index = plan.index
        value = 0
        for lsb, mask, arr, shift, rc in plan.readable:
            v = int(arr[index]) if shift is None else (int(arr[index]) >> shift) & mask
            value |= (v & mask) << lsb
            if rc:
                arr[index] = 0 if shift is None else int(arr[index]) & ~(mask << shift)
        return value

    def write32(self, offset: int, value: int) -> None:
        """A 32-bit register write. Writing a register with no writable field raises
        :class:`hw.regs.AccessError` (a driver bug; read-only bits of a mixed register are ignored,
        as hardware does). A word of a 64-bit register replaces that half only."""
        plan = self._plans.get(offset)
        if plan is None:
            plan = self._decode_access(offset)
        if value.__class__ is not int:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise FieldError(f"{plan.name} value", value, "an unsigned 32-bit value")
            value = int(value)
        if not 0 <= value <= 0xFFFF_FFFF:
            raise FieldError(f"{plan.name} value", value, "an unsigned 32-bit value")
        if not plan.fields:
            raise AccessError(f"{self.name} {plan.name} at {plan.base:#x}", "RO", "written")
        if plan.width == 64:
            current = self._peek_raw(plan.base)
            value = (current & ~0xFFFF_FFFF) | value if plan.word == 0 else (current & 0xFFFF_FFFF) | (value << 32)
        self._bus_write(plan, value)
        self._finish_event()

    def _decode_access(self, offset: int) -> "_BusPlan":
        """What a bus access at ``offset`` reaches (decoded once per offset, then cached): the
        register, the word of it, and its writable fields with their backing arrays."""
        base, name, word = self._decode32(offset)
        w, index, r = self.map.decode(base)
        reg = r.name if w is None else f"{w.name}.{r.name}"
        fields, readable = [], []
        for f in r.fields:
            key = f"{reg}.{f.name}"
            arr, shift = self.regs.array(key), self.regs._shift[key]
            if f.access.writable:
                fields.append((f.name, f.lsb, f.mask, f.access is Access.W1C, arr, shift))
            if f.access.readable:
                readable.append((f.lsb, f.mask, arr, shift, f.access is Access.RC))
        plan = _BusPlan(base, word, r.width, name, reg, index, np.array([index]), tuple(fields), tuple(readable))
        self._plans[int(offset)] = plan
        return plan

    def _bus_write(self, plan: "_BusPlan", value: int) -> None:
        """A bus write of a whole register, with the semantics of :meth:`hw.regs.RegisterFile.write`
        (read-only bits ignored, W1C bits clear, the check hook before and the write hook after), on
        Python ints: the driver's per-frame writes (doorbells, interrupt acknowledgements) take this
        path. tests/hw/adapter/test_bus_fast_path.py holds it equal to the generic path."""
        if value >> plan.width:
            raise FieldError(f"{plan.reg} value", value, f"an unsigned {plan.width}-bit value")
        index = plan.index
        staged = [(fname, (value >> lsb) & mask, mask, w1c, arr, shift)
                  for fname, lsb, mask, w1c, arr, shift in plan.fields]
        self._check(plan.reg, plan.idx, {fname: (v,) for fname, v, *_ in staged})
        for _, v, mask, w1c, arr, shift in staged:
            if shift is None:
                arr[index] = (int(arr[index]) & ~v) if w1c else v
            else:
                cur = int(arr[index])
                if w1c:
                    v = ((cur >> shift) & mask) & ~v
                arr[index] = (cur & ~(mask << shift)) | (v << shift)
        self._on_write(plan.reg, plan.idx)

    def read64(self, offset: int) -> int:
        """A 64-bit read of a 64-bit register (one access, no latch needed)."""
        plan = self._plans.get(offset)
        if plan is None:
            plan = self._decode_access(offset)
        if plan.word or plan.width != 64:
            raise UnmappedOffset(self.name, int(offset), f"{plan.name} is not a 64-bit register at this offset")
        return self._bus_read(plan)

    def write64(self, offset: int, value: int) -> None:
        plan = self._plans.get(offset)
        if plan is None:
            plan = self._decode_access(offset)
        if plan.word or plan.width != 64:
            raise UnmappedOffset(self.name, int(offset), f"{plan.name} is not a 64-bit register at this offset")
        if not plan.fields:
            raise AccessError(f"{self.name} {plan.name} at {plan.base:#x}", "RO", "written")
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 0:
            raise FieldError(f"{plan.name} value", value, "an unsigned 64-bit value")
        self._bus_write(plan, int(value))
        self._finish_event()

    def offset(self, name: str, index: int = 0) -> int:
        """Bus offset of a register by name ("CTRL", "VC.PCR", "TXR.TAIL"), for drivers and tests."""
        return self.map.offset_of(name, index)

    def _peek_raw(self, base: int) -> int:
        w, index, r = self.map.decode(base)
        name = r.name if w is None else f"{w.name}.{r.name}"
        return self.regs.peek(name, index)

    # -- register hooks ------------------------------------------------------------------------
    def _check(self, name: str, idx: np.ndarray, values: dict) -> None:
        head, _, reg = name.partition(".")
        if head in ("TXR", "RXR"):
            for k, i in enumerate(idx.tolist()):
                self._check_ring(head, reg, i, {f: int(v[k]) for f, v in values.items()})
        elif head == "VC":
            batch_keys: dict[int, int] = {}
            for k, i in enumerate(idx.tolist()):
                self._check_vc(reg, i, {f: int(v[k]) for f, v in values.items()}, batch_keys)

    def _check_ring(self, window: str, reg: str, i: int, new: dict) -> None:
        enable_arr, size_arr = self._ring_checks[window]
        enabled = bool(enable_arr[i])
        if reg == "TAIL":  # the doorbell: once per batch of frames
            if enabled and new["INDEX"] < int(size_arr[i]):
                return
            where, size = f"{window}[{i}]", int(size_arr[i])
            if not enabled:
                raise AdapterConfigError(f"{where}.TAIL", new["INDEX"], "a ring enabled first (CTRL.ENABLE = 1)")
            raise AdapterConfigError(f"{where}.TAIL", new["INDEX"], f"an index 0..{size - 1} (SIZE {size})")
        where = f"{window}[{i}]"
        layout = TX_DESC if window == "TXR" else RX_DESC
        if reg in ("BASE", "SIZE") and enabled:
            raise AdapterConfigError(f"{where}.{reg}", new, "a write while CTRL.ENABLE = 0")
        if reg == "CTRL" and new.get("ENABLE") == 1 and not enabled:
            base = int(self.regs.array(f"{window}.BASE.ADDR")[i])
            size = int(self.regs.array(f"{window}.SIZE.ENTRIES")[i])
            if size < 2:
                raise AdapterConfigError(f"{where}.SIZE", size, "2..65535 descriptors before enabling the ring")
            if base % layout.octets:
                raise AdapterConfigError(f"{where}.BASE", hex(base), f"aligned to {layout.octets} octets")
            try:
                self.memory.check(base, size * layout.octets, who="dma", op="ring check")
            except Exception as exc:  # DmaError: typed, re-raised as a configuration error naming the ring
                raise AdapterConfigError(f"{where}.BASE", hex(base),
                                         f"{size} descriptors inside one allocated buffer ({exc})") from exc

    def _check_vc(self, reg: str, i: int, new: dict, batch_keys: dict[int, int]) -> None:
        a = self.regs.array
        where = f"VC[{i}]"
        tx_en, rx_en = bool(a("VC.CTRL.TX_EN")[i]), bool(a("VC.CTRL.RX_EN")[i])
        if reg == "HDR" and (tx_en or rx_en):
            raise AdapterConfigError(f"{where}.HDR", new, "a write while TX_EN = RX_EN = 0")
        if reg in ("PCR", "SCR", "MBS", "CDVT"):
            field = {"PCR": "RATE", "SCR": "RATE", "MBS": "CELLS", "CDVT": "SLOTS"}[reg]
            params = {r: int(a(f"VC.{r}.{f}")[i]) for r, f in
                      (("PCR", "RATE"), ("SCR", "RATE"), ("MBS", "CELLS"), ("CDVT", "SLOTS"))}
            params[reg] = new[field]
            try:
                check_traffic(self.cfg.line_rate.cells_per_second, params["PCR"], params["SCR"], params["MBS"],
                              params["CDVT"])
            except FieldError as exc:
                raise AdapterConfigError(f"{where}.{exc.field}", exc.value, exc.expected) from None
        if reg != "CTRL":
            return
        cur = {f: int(a(f"VC.CTRL.{f}")[i]) for f in ("TX_EN", "RX_EN", "AAL", "SERVICE", "RX_RING")}
        nv = {**cur, **new}
        if nv["AAL"] not in AAL_VALUES.values():
            raise AdapterConfigError(f"{where}.CTRL.AAL", nv["AAL"], "AAL0 (1) or AAL5 (8)")
        if nv["SERVICE"] not in SERVICE_VALUES.values():
            raise AdapterConfigError(f"{where}.CTRL.SERVICE", nv["SERVICE"], "CBR 1, VBR 2, UBR 4 or ABR 8")
        if nv["RX_RING"] >= self.cfg.rx_rings:
            raise AdapterConfigError(f"{where}.CTRL.RX_RING", nv["RX_RING"], f"0..{self.cfg.rx_rings - 1}")
        if nv["AAL"] != cur["AAL"] and (tx_en or rx_en):
            raise AdapterConfigError(f"{where}.CTRL.AAL", nv["AAL"], "a change while TX_EN = RX_EN = 0")
        key = int(a("VC.HDR.VPI")[i]) << 16 | int(a("VC.HDR.VCI")[i])
        if (nv["TX_EN"] or nv["RX_EN"]) and key == 0:
            raise AdapterConfigError(f"{where}.HDR", "VPI 0/VCI 0",
                                     "a VPI/VCI other than 0/0 (the unassigned cell, I.361 Table 2)")
        if nv["RX_EN"] and not cur["RX_EN"]:
            owner = self.rx.cam.get(key, batch_keys.get(key))
            if owner is not None and owner != i:
                raise AdapterConfigError(f"{where}.CTRL.RX_EN", 1,
                                         f"a VPI/VCI {key >> 16}/{key & 0xFFFF} not already received on VC {owner}")
            batch_keys[key] = i

    def _on_write(self, name: str, idx: np.ndarray) -> None:
        head, _, reg = name.partition(".")
        if name == "CTRL":
            if self.regs.array("CTRL.RESET")[0]:
                self.reset()
                return
            self._doorbell()
            self._kick_tx()
        elif name in ("INT_STATUS", "INT_MASK", "COALESCE"):
            self.irq.written()
        elif name == "RX_TIMEOUT":
            self.rx.timeout_changed()
            self._arm_expire()
        elif name == "RX_POLL":
            self._arm_poll()
        elif head in ("TXR", "RXR"):
            if reg == "CTRL":
                on = self.regs.array(f"{head}.CTRL.ENABLE")
                for i in idx.tolist():
                    if not on[i]:  # stopped: indices back to 0, halt cleared
                        self.regs.array(f"{head}.HEAD.INDEX")[i] = 0
                        self.regs.array(f"{head}.TAIL.INDEX")[i] = 0
                        self.regs.array(f"{head}.CTRL.HALTED")[i] = 0
            if head == "TXR" and reg in ("TAIL", "CTRL"):
                self._doorbell()
        elif head == "VC":
            for i in idx.tolist():
                if reg == "CTRL":
                    tx_en = bool(self.regs.array("VC.CTRL.TX_EN")[i])
                    if self._tx_shadow[i] and not tx_en:
                        self.tx.flush(i)
                    elif tx_en:
                        self.tx.configure(i)
                    self._tx_shadow[i] = tx_en
                    self.rx.set_vc(i)
                    if tx_en:
                        self._doorbell()
                elif reg in ("PCR", "SCR", "MBS", "CDVT") and self._tx_shadow[i]:
                    self.tx.configure(i)
                    self._kick_tx()
                elif reg == "MAX_SDU":
                    self.rx.set_vc(i)

    def _on_read(self, name: str, idx: np.ndarray) -> None:
        if name == "STATUS":
            self._check_link(defer=True)
            self.regs.array("STATUS.TX_BUSY")[0] = int(self.tx.queued > 0)
        elif name == "SLOT":
            self.regs.array("SLOT.SLOT")[0] = self.clock.now
        elif name == "INT_PENDING":
            self.irq.refresh()
        elif name == "RX_PENDING_CELLS":
            self.counters.set("RX_PENDING_CELLS", self.rx.pending_cells)

    # ==============================================================================================
    # reset, faults, link state
    # ==============================================================================================

    def reset(self) -> None:
        """Hardware reset (CTRL.RESET): registers and counters to their reset values, rings disabled,
        queued cells and partial PDUs discarded, events cancelled. Host memory is untouched; cells
        already on the wire still arrive (and are counted in RX_DISABLED_CELLS)."""
        for ev in (self._fetch_ev, self._tx_ev, self._rx_ev, self._poll_ev, self._expire_ev):
            if ev is not None:
                ev.cancel()
        self._fetch_ev = self._tx_ev = self._rx_ev = self._poll_ev = self._expire_ev = None
        self.regs.reset()
        self.counters.clear()
        self.tx.clear()
        self.rx.clear()
        self.irq.reset()
        self._loop.clear()
        self._wakes.clear()
        self._latch = None
        self._tx_shadow[:] = False
        self._link_up = self._line_is_up()
        self.regs.array("STATUS.LINK_UP")[0] = int(self._link_up)
        for cells, slots in self._inflight:  # still on the wire: they arrive, and are counted
            self._plan(cells, slots)
        self._fallback = True
        self._arm_rx()

    def _fault(self, exc: AdapterFault) -> None:
        self.faults.append(exc)
        if not self.regs.array("FAULT_INFO.CODE")[0]:
            a = self.regs.array
            a("FAULT_INFO.CODE")[0] = exc.code
            a("FAULT_INFO.DIR")[0] = FAULT_DIR[exc.direction.upper()]
            a("FAULT_INFO.RING")[0] = exc.ring
            a("FAULT_INFO.INDEX")[0] = exc.index & 0xFFFF
            a("FAULT_ADDR.ADDR")[0] = exc.address & ((1 << 64) - 1)
            a("STATUS.FAULT")[0] = 1
        self.irq.cause(INT_FAULT)
        if self.strict and self._raise is None:
            self._raise = exc

    def _finish_event(self) -> None:
        """Raise the first fault recorded during the work just done (strict mode)."""
        if self._raise is not None:
            exc, self._raise = self._raise, None
            raise exc

    def _line_is_up(self) -> bool:
        return self.port is not None and self.port.link.is_up

    def _check_link(self, defer: bool = False) -> None:
        up = self._line_is_up()
        if up != self._link_up:
            self._link_up = up
            self.regs.array("STATUS.LINK_UP")[0] = int(up)
            if defer:  # found by a register read: the line is re-evaluated in an event, not mid-read
                self.irq.status[0] |= np.uint32(1 << INT_LINK)
                self.clock.schedule_in(0, self.irq.update)
            else:
                self.irq.cause(INT_LINK)

    # ==============================================================================================
    # line side
    # ==============================================================================================

    def attach(self, port: Port) -> None:
        """Attach the line: one end of an hw.link.Link running at the adapter's line rate."""
        if not isinstance(port, Port):
            raise FieldError("port", port, "an hw.link Port")
        if port.link.rate != self.cfg.line_rate:
            raise AdapterConfigError("port.link.rate", port.link.rate.name,
                                     f"{self.cfg.line_rate.name}, the adapter's PHY rate (AdapterConfig.rate)")
        self.port = port
        self._check_link()
        self._arm_rx()

    def wake_rx(self, cells: np.ndarray | None = None, slots=None) -> None:
        """Cell-available input: the far end has put cells on the line toward this adapter (after
        advancing the link to the clock's now).

        With ``cells`` and their transmit ``slots`` (what the far end just sent), the receiver runs
        at the slot after the arrival of each cell that can make something visible to the host (the
        end of a PDU, a cell of an AAL0 VC, an OAM cell, a bad header: RxEngine.relevant) and after the
        last one; cells in between are taken with them, each with its own arrival slot. Without, the
        receiver runs after every cell while the line brings cells. Either way every frame is written
        back, and interrupts raised, at the slot after its last cell. (A HEC miscorrection that makes
        an AUU cell out of another is only seen at the next run: the one case not exact.)"""
        if cells is None:
            self._fallback = True
        else:
            if not isinstance(cells, np.ndarray) or cells.ndim != 2 or cells.shape[1] != CELL_OCTETS:
                raise FieldError("cells", getattr(cells, "shape", cells), "a uint8 array of shape (n, 53)")
            arrivals = np.asarray(slots, np.int64).reshape(-1)
            if arrivals.shape[0] != cells.shape[0]:
                raise FieldError("slots", arrivals.shape[0], f"{cells.shape[0]} slots, one per cell")
            delay = self.port.rx.delay_slots if self.port is not None else 0
            self._plan(cells, arrivals + delay)
        self._arm_rx()

    def _plan(self, cells: np.ndarray, arrivals: np.ndarray) -> None:
        """Receiver runs after the relevant cells of a known batch, and after its last cell."""
        n = arrivals.shape[0]
        if not n:
            return
        relevant = self.rx.relevant(cells)
        if n <= self.rx.small_batch:  # a few cells (a signalling frame): on Python values
            at = arrivals.tolist()
            wakes = {t + 1 for t, r in zip(at, relevant.tolist()) if r}
            wakes.add(at[-1] + 1)
        else:
            wakes = set((arrivals[relevant] + 1).tolist())
            wakes.add(int(arrivals[-1]) + 1)
        for w in wakes:
            heapq.heappush(self._wakes, w)

    def _sync_link(self) -> None:
        if self.port is not None and self.port.link.now < self.clock.now:
            self.port.link.advance(self.clock.now)

    def _emit(self, cells: np.ndarray, start: int) -> None:
        k = cells.shape[0]
        slots = start + np.arange(k, dtype=np.int64)
        if self.regs.array("CTRL.LOOPBACK")[0]:
            self._loop.append((cells, slots))
            self._plan(cells, slots)
            self._arm_rx()
            return
        if self.port is None:
            self.counters.add("TX_NO_LINE_CELLS", k)
            return
        self.port.send(cells, at=start)
        if self.far_wake is not None:
            self.far_wake(cells, slots)

    # ==============================================================================================
    # events
    # ==============================================================================================

    def _doorbell(self) -> None:
        if self.regs.array("CTRL.TX_EN")[0] and self._fetch_ev is None:
            self._fetch_ev = self.clock.schedule_in(0, self._fetch_event)

    def _fetch_event(self) -> None:
        self._fetch_ev = None
        if self.regs.array("CTRL.TX_EN")[0]:
            self.tx.fetch()
            self._kick_tx()
        self._finish_event()

    def _kick_tx(self) -> None:
        if not self.regs.array("CTRL.TX_EN")[0] or not self.tx.queued:
            return
        self._want(max(self.clock.now, self._line_free_at), "_tx_ev", self._tx_event)

    def _want(self, slot: int, attr: str, callback: Callable[[], None]) -> None:
        """Have ``callback`` run at ``slot`` (or earlier if it is already due earlier)."""
        slot = max(slot, self.clock.now)
        ev: EventHandle | None = getattr(self, attr)
        if ev is not None and ev.active:
            if ev.time <= slot:
                return
            ev.cancel()
        setattr(self, attr, self.clock.schedule_at(slot, callback))

    def _tx_event(self) -> None:
        self._tx_ev = None
        now = self.clock.now
        if not self.regs.array("CTRL.TX_EN")[0]:
            return
        if now < self._line_free_at:
            self._want(self._line_free_at, "_tx_ev", self._tx_event)
            return
        cells, _, wake = self.tx.run(now, self.cfg.tx_fifo)
        if cells.shape[0]:
            self._line_free_at = now + cells.shape[0]
            self._emit(cells, now)
        if self.tx.blocked:  # cells drained: a frame waiting for room may fit now
            self.tx.fetch()
        self._check_link()
        if self.tx.queued:
            nxt = self._line_free_at if wake is None else max(wake, self._line_free_at)
            self._want(max(nxt, now + 1), "_tx_ev", self._tx_event)
        self._finish_event()

    def _arm_rx(self) -> None:
        """Schedule the receiver at its next planned run; while unannounced cells are on their way,
        at the slot after the next of them."""
        now = self.clock.now
        while self._wakes and self._wakes[0] < now:
            heapq.heappop(self._wakes)
        cands = self._wakes[:1]
        if self._fallback and self.port is not None:
            lane = self.port.rx
            if lane.rx_backlog:  # transmitted, not yet taken (and planned): take them now
                cands.append(now)
            if lane.counters["cells_queued"]:
                cands.append(self.port.link.now + lane.delay_slots + 1)
            elif not lane.rx_backlog:
                self._fallback = False  # every announced-or-not cell is now taken and planned
        if cands:
            self._want(min(cands), "_rx_ev", self._rx_event)

    def _rx_event(self) -> None:
        self._rx_ev = None
        self._rx_service()
        self._finish_event()

    def _poll_event(self) -> None:
        self._poll_ev = None
        self._arm_poll()
        self._rx_service()
        self._finish_event()

    def _arm_poll(self) -> None:
        period = int(self.regs.array("RX_POLL.SLOTS")[0])
        if self._poll_ev is not None:
            self._poll_ev.cancel()
            self._poll_ev = None
        if period:
            self._poll_ev = self.clock.schedule_in(period, self._poll_event)

    @staticmethod
    def _split(parts: list[tuple[np.ndarray, np.ndarray]], now: int):
        """(cells, slots) with slot < now taken out of ``parts``; the rest stays."""
        if len(parts) == 1 and int(parts[0][1][-1]) < now:  # the usual case: one batch, all arrived
            cells, slots = parts.pop()
            return cells, slots
        took_c, took_s, keep = [], [], []
        for cells, slots in parts:
            cut = int(np.searchsorted(slots, now, side="left"))
            if cut:
                took_c.append(cells[:cut])
                took_s.append(slots[:cut])
            if cut < slots.shape[0]:
                keep.append((cells[cut:], slots[cut:]))
        parts[:] = keep
        if not took_c:
            return _NO_CELLS, _NO_SLOTS
        return np.concatenate(took_c), np.concatenate(took_s)

    def _rx_service(self) -> None:
        now = self.clock.now
        if self.port is not None:
            self._sync_link()
            d = self.port.receive()
            if len(d):
                self._inflight.append((d.cells, d.slots))
                if int(d.slots[-1]) >= now:  # some arrive later: runs for them (the others are taken now)
                    self._plan(d.cells, d.slots)
        # the runs planned up to now are this one: every cell that arrived before now is taken below
        while self._wakes and self._wakes[0] <= now:
            heapq.heappop(self._wakes)
        line_c, line_s = self._split(self._inflight, now) if self._inflight else (_NO_CELLS, _NO_SLOTS)
        loop_c, loop_s = self._split(self._loop, now) if self._loop else (_NO_CELLS, _NO_SLOTS)
        if self.regs.array("CTRL.LOOPBACK")[0] and line_c.shape[0]:
            self.rx.discard(line_c.shape[0])
            line_c, line_s = _NO_CELLS, _NO_SLOTS
        cells = np.concatenate([loop_c, line_c]) if loop_c.shape[0] and line_c.shape[0] else (
            loop_c if loop_c.shape[0] else line_c)
        slots = np.concatenate([loop_s, line_s]) if loop_s.shape[0] and line_s.shape[0] else (
            loop_s if loop_s.shape[0] else line_s)
        if cells.shape[0]:
            if cells.shape[0] > 1 and (slots[1:] < slots[:-1]).any():  # parts from the line and the loop
                order = np.argsort(slots, kind="stable")
                cells, slots = cells[order], slots[order]
            if self.regs.array("CTRL.RX_EN")[0]:
                self.rx.receive(cells, slots, now)
            else:
                self.rx.discard(cells.shape[0])
        self._check_link()
        self._arm_rx()
        self._arm_expire()

    def _arm_expire(self) -> None:
        if self._expire_ev is not None:
            self._expire_ev.cancel()
            self._expire_ev = None
        timeout = self.rx.sar.timeout_slots
        if timeout is not None and self.rx.pending_cells:
            self._expire_ev = self.clock.schedule_in(timeout + 1, self._expire_event)

    def _expire_event(self) -> None:
        self._expire_ev = None
        self.rx.expire(self.clock.now)
        self._arm_expire()
        self._finish_event()

    # ==============================================================================================
    # conveniences for tests, tools and traces (a driver uses the bus)
    # ==============================================================================================

    def counter(self, name: str, vc: int | None = None) -> int:
        """A statistics counter by name (global, or of VC ``vc``), read without side effects."""
        if vc is None:
            return self.regs.get(name, "COUNT")
        return self.regs.get(f"VC.{name}", "COUNT", vc)

    def counter_values(self) -> dict[str, int]:
        return {name: self.counter(name) for name, _ in COUNTERS}

    def check_conservation(self) -> None:
        """Raise AssertionError unless every cell is accounted for (the equations of the map)."""
        c = self.counter_values()
        c["RX_PENDING_CELLS"] = self.rx.pending_cells
        rx_in = (c["RX_HEC_DISCARDS"] + c["RX_IDLE_CELLS"] + c["RX_DISABLED_CELLS"] + c["RX_UNKNOWN_VC"]
                 + c["RX_OAM_CELLS"] + c["RX_CELLS"])
        if c["RX_PHY_CELLS"] != rx_in:
            raise AssertionError(f"{self.name}: RX_PHY_CELLS {c['RX_PHY_CELLS']} != {rx_in}")
        rx_vc = c["RX_FRAME_CELLS"] + c["RX_ERROR_CELLS"] + c["RX_NO_DESC_CELLS"] + c["RX_PENDING_CELLS"]
        if c["RX_CELLS"] != rx_vc:
            raise AssertionError(f"{self.name}: RX_CELLS {c['RX_CELLS']} != {rx_vc}")
        tx = c["TX_CELLS"] + c["TX_FLUSHED_CELLS"] + self.tx.queued
        if c["TX_SEGMENTED_CELLS"] != tx:
            raise AssertionError(f"{self.name}: TX_SEGMENTED_CELLS {c['TX_SEGMENTED_CELLS']} != {tx}")

    def __repr__(self) -> str:
        line = "no line" if self.port is None else repr(self.port)
        return f"<Adapter {self.name} slot {self.clock.now} {line} irq {'up' if self.irq.level else 'down'}>"


def connect(a: Adapter, b: Adapter, link: Link) -> None:
    """Wire two adapters back to back: ``a`` on port a of ``link``, ``b`` on port b, each one's
    cell-available output to the other's input."""
    a.attach(link.a)
    b.attach(link.b)
    a.far_wake = b.wake_rx
    b.far_wake = a.wake_rx


__all__ = ["Adapter", "connect", "LINE_BIT"]
