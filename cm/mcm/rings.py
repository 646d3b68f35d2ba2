"""The driver's half of the descriptor rings (docs/adapter.md, "How a driver programs the adapter",
steps 2, 3, 7 and 8; the index protocol of hw/adapter/rings.py).

Each ring owns, in shared host memory, its descriptor array and one buffer per descriptor (descriptor
i always uses buffer i: nothing is allocated per frame). The driver keeps its own indices:

* transmit: ``tail`` (next descriptor to fill) and ``clean`` (next to reclaim). A frame takes
  ceil(len / buffer) descriptors, EOP on the last. Descriptors between ``clean`` and ``tail`` are the
  adapter's until reclaimed, so the free count needs no register read. The doorbell (TXR.TAIL) is
  written once per batch: :meth:`HostTxRing.doorbell` after the frames of one handler or DPC are posted;
  a frame that finds the ring full waits in a backlog (counted) until completions free descriptors.
* receive: every descriptor but one is posted (HEAD == TAIL means "none posted"). The DPC harvests
  from ``clean`` while DONE is set, a frame being SOP ... EOP, copies the data out, re-arms each
  descriptor at ``tail`` with its buffer, and writes RXR.TAIL once per harvest.

Everything the adapter reports is counted: descriptors written back with an error STATUS (transmit),
PDUs reported with ERR (receive, by code).
"""

from __future__ import annotations

import struct
from collections import Counter, deque
from typing import NamedTuple

from cm.mcm.hal import RXD, TXD, RegisterHeader, RegisterWindow
from hw.adapter.host_memory import HostMemory
from hw.adapter.rings import RX_ERR, TX_STATUS, status_name

_TX_OWN = TXD.flag("OWN")
_TX_EOP = TXD.flag("EOP")
_TX_DONE = TXD.flag("DONE")
_TX_CMD = TXD.word["LEN"]          # the CMD word: LEN, UU, CLP, EOP, OWN
_TX_VCW = TXD.word["VC"]           # the VC word: VC, STATUS, DONE
_RX_OWN = RXD.flag("OWN")
_RX_DONE = RXD.flag("DONE")
_RX_SOP = RXD.flag("SOP")
_RX_EOP = RXD.flag("EOP")
_RX_BUF = RXD.word["SIZE"]
_RX_LENW = RXD.word["LEN"]
_RX_STW = RXD.word["DONE"]
_RX_SLOTW = RXD.word["SLOT"]


class RxFrame(NamedTuple):
    """One frame taken from a receive ring: VC table index, octets, ERR code (0 for a good frame),
    CPCS-UU and the slot of its last cell."""

    vc: int
    data: bytes
    err: int
    uu: int
    slot: int


class HostTxRing:
    """Transmit ring ``ring`` as the driver keeps it."""

    def __init__(self, bus: RegisterWindow, hdr: RegisterHeader, memory: HostMemory, ring: int, entries: int,
                 buffer_octets: int) -> None:
        self.bus, self.hdr, self.memory = bus, hdr, memory
        self.ring = ring
        self.entries = entries
        self.buffer_octets = buffer_octets
        self.base = memory.alloc(entries * TXD.octets, align=TXD.octets)
        self.buffers = memory.alloc(entries * buffer_octets, align=64)
        self.tail = 0
        self.clean = 0
        self.rung = 0          # the tail the adapter was last told about
        self.backlog: deque[tuple[int, bytes, int, int]] = deque()
        self.counters: Counter[str] = Counter()
        self._tail_reg = hdr.off("TXR.TAIL", ring)
        self._head_reg = hdr.off("TXR.HEAD", ring)

    def program(self) -> None:
        """BASE, SIZE, then CTRL.ENABLE (the adapter checks the ring there)."""
        bus, hdr = self.bus, self.hdr
        bus.write64(hdr.off("TXR.BASE", self.ring), self.base)
        bus.write32(hdr.off("TXR.SIZE", self.ring), self.entries)
        bus.write32(hdr.off("TXR.CTRL", self.ring), hdr.bits("TXR.CTRL", ENABLE=1))

    def stop(self) -> None:
        self.bus.write32(self.hdr.off("TXR.CTRL", self.ring), 0)
        self.tail = self.clean = self.rung = 0

    def free_memory(self) -> None:
        self.memory.free(self.base)
        self.memory.free(self.buffers)

    @property
    def free(self) -> int:
        return self.entries - 1 - (self.tail - self.clean) % self.entries

    def send(self, vc: int, data: bytes, uu: int = 0, clp: int = 0) -> bool:
        """Queue one frame on VC table entry ``vc``. True when it went into the ring now, False when
        it waits in the backlog (posted by :meth:`reclaim` when descriptors come back)."""
        if self.backlog or not self._post(vc, data, uu, clp):
            self.backlog.append((vc, data, uu, clp))
            self.counters["backlogged"] += 1
            self.counters["backlog_high"] = max(self.counters["backlog_high"], len(self.backlog))
            return False
        return True

    def _post(self, vc: int, data: bytes, uu: int, clp: int) -> bool:
        size = self.buffer_octets
        n = len(data)
        pieces = max(1, -(-n // size))
        if pieces > self.free:
            return False
        mem, entries = self.memory, self.entries
        i = self.tail
        vcw = TXD.put("VC", vc)
        for k in range(pieces):
            chunk = data[k * size:(k + 1) * size]
            buf = self.buffers + i * size
            if chunk:
                mem.write(buf, chunk)
            cmd = _TX_OWN | TXD.put("LEN", len(chunk))
            if k == pieces - 1:
                cmd |= _TX_EOP | TXD.put("UU", uu) | TXD.put("CLP", clp)
            mem.write(self.base + i * TXD.octets, struct.pack("<QII", buf, cmd, vcw))
            i = (i + 1) % entries
        self.tail = i
        self.counters["frames"] += 1
        self.counters["descriptors"] += pieces
        self.counters["octets"] += n
        return True

    def doorbell(self) -> None:
        """Tell the adapter about the descriptors filled since the last doorbell (one register write)."""
        if self.tail != self.rung:
            self.bus.write32(self._tail_reg, self.tail)
            self.rung = self.tail
            self.counters["doorbells"] += 1

    def reclaim(self) -> int:
        """Take back the descriptors the adapter completed (up to TXR.HEAD), count their STATUS, then
        post what waits in the backlog. Returns descriptors reclaimed."""
        head = self.bus.read32(self._head_reg)
        n = 0
        mem, base, entries = self.memory, self.base, self.entries
        while self.clean != head:
            word = mem.read_uint(base + self.clean * TXD.octets + _TX_VCW, 4)
            if not word & _TX_DONE:
                self.counters["not_done_below_head"] += 1  # cannot happen with a correct adapter
                break
            status = TXD.get("STATUS", word)
            if status:
                self.counters[f"error.{status_name(TX_STATUS, status)}"] += 1
            self.clean = (self.clean + 1) % entries
            n += 1
        self.counters["reclaimed"] += n
        while self.backlog:
            vc, data, uu, clp = self.backlog[0]
            if not self._post(vc, data, uu, clp):
                break
            self.backlog.popleft()
        return n

    @property
    def in_flight(self) -> int:
        return (self.tail - self.clean) % self.entries


class HostRxRing:
    """Receive ring ``ring`` as the driver keeps it."""

    def __init__(self, bus: RegisterWindow, hdr: RegisterHeader, memory: HostMemory, ring: int, entries: int,
                 buffer_octets: int) -> None:
        self.bus, self.hdr, self.memory = bus, hdr, memory
        self.ring = ring
        self.entries = entries
        self.buffer_octets = buffer_octets
        self.base = memory.alloc(entries * RXD.octets, align=RXD.octets)
        self.buffers = memory.alloc(entries * buffer_octets, align=64)
        self.tail = 0
        self.clean = 0
        self.counters: Counter[str] = Counter()
        self._tail_reg = hdr.off("RXR.TAIL", ring)
        self._posted = struct.pack("<I", _RX_OWN | RXD.put("SIZE", buffer_octets))

    def program(self) -> None:
        bus, hdr = self.bus, self.hdr
        bus.write64(hdr.off("RXR.BASE", self.ring), self.base)
        bus.write32(hdr.off("RXR.SIZE", self.ring), self.entries)
        bus.write32(hdr.off("RXR.CTRL", self.ring), hdr.bits("RXR.CTRL", ENABLE=1))
        for _ in range(self.entries - 1):
            self._arm()
        self.bus.write32(self._tail_reg, self.tail)

    def _arm(self) -> None:
        """Post the buffer of descriptor ``tail`` (ADDR, SIZE, OWN; the write-back words cleared)."""
        i = self.tail
        addr = self.base + i * RXD.octets
        self.memory.write(addr, struct.pack("<Q", self.buffers + i * self.buffer_octets) + self._posted
                          + bytes(RXD.octets - 12))
        self.tail = (i + 1) % self.entries

    def stop(self) -> None:
        self.bus.write32(self.hdr.off("RXR.CTRL", self.ring), 0)
        self.tail = self.clean = 0

    def free_memory(self) -> None:
        self.memory.free(self.base)
        self.memory.free(self.buffers)

    def harvest(self, budget: int) -> tuple[list[RxFrame], bool]:
        """Frames the adapter wrote back, at most ``budget`` descriptors' worth; each descriptor is
        re-armed. Returns (frames, more): ``more`` when the budget ran out with DONE descriptors left."""
        frames: list[RxFrame] = []
        mem, base, entries, size = self.memory, self.base, self.entries, self.buffer_octets
        taken = 0
        more = False
        while True:
            i = self.clean
            if i == self.tail:
                break
            first = mem.read(base + i * RXD.octets, RXD.octets)
            status = int.from_bytes(first[_RX_STW:_RX_STW + 4], "little")
            if not status & _RX_DONE:
                break
            if taken >= budget:
                more = True
                break
            # a frame: SOP ... EOP in consecutive descriptors (written back together by the adapter)
            parts = []
            descs = 0
            raw, st = first, status
            j = i
            while True:
                lenw = int.from_bytes(raw[_RX_LENW:_RX_LENW + 4], "little")
                length = RXD.get("LEN", lenw)
                if length:
                    parts.append(mem.read(self.buffers + j * size, length))
                descs += 1
                j = (j + 1) % entries
                if st & _RX_EOP:
                    break
                raw = mem.read(base + j * RXD.octets, RXD.octets)
                st = int.from_bytes(raw[_RX_STW:_RX_STW + 4], "little")
                if not st & _RX_DONE:  # the adapter writes a frame back whole: never seen
                    self.counters["torn_frame"] += 1
                    return frames, False
            if not status & _RX_SOP:
                self.counters["no_sop"] += 1
            err = RXD.get("ERR", status)
            slot = int.from_bytes(raw[_RX_SLOTW:_RX_SLOTW + 8], "little")
            frames.append(RxFrame(RXD.get("VC", lenw), b"".join(parts), err, RXD.get("UU", st), slot))
            if err:
                self.counters[f"error.{status_name(RX_ERR, err)}"] += 1
            else:
                self.counters["frames"] += 1
            self.counters["descriptors"] += descs
            taken += descs
            for _ in range(descs):
                self.clean = (self.clean + 1) % entries
                self._arm()
        if taken:
            self.bus.write32(self._tail_reg, self.tail)
        return frames, more


__all__ = ["HostRxRing", "HostTxRing", "RxFrame"]
