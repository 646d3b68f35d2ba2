"""A driver-like harness for the adapter tests: it programs the adapter only through the register bus
(read32/write32), descriptor rings in host memory and the interrupt line, the way a miniport would.
Register field positions come from the declared map (as a generated C header would give them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from hw.adapter import RX_DESC, TX_DESC, Adapter, AdapterConfig, HostMemory, connect
from hw.adapter.registers import AAL_VALUES, SERVICE_VALUES
from hw.adapter.rings import ring_free, ring_next
from hw.clock import Clock
from hw.link import Impairments, Link


@dataclass
class RxFrame:
    vc: int
    data: bytes
    err: int
    uu: int
    slot: int
    buffers: int
    clp: int = 0


@dataclass
class IsrRecord:
    slot: int
    status: int


class MiniDriver:
    """Programs one adapter. ``isr`` acknowledges every cause (W1C), reclaims transmit descriptors
    and harvests receive descriptors at once (a driver that does its DPC work in the ISR)."""

    def __init__(self, adapter: Adapter, *, tx_ring_size: int = 16, rx_ring_size: int = 32,
                 rx_buf_size: int = 2048, post: int | None = None, connect_isr: bool = True) -> None:
        self.ad = adapter
        self.mem = adapter.memory
        self.map = adapter.map
        self.tx_size = tx_ring_size
        self.rx_size = rx_ring_size
        self.rx_buf_size = rx_buf_size
        self.post_count = rx_ring_size - 1 if post is None else post
        cfg = adapter.cfg
        self.tx_tail = [0] * cfg.tx_rings
        self.tx_clean = [0] * cfg.tx_rings
        self.tx_bufs: list[dict[int, int]] = [{} for _ in range(cfg.tx_rings)]  # index -> buffer address
        self.tx_status: list[tuple[int, int]] = []  # (VC, STATUS) of every descriptor reclaimed
        self.rx_tail = [0] * cfg.rx_rings
        self.rx_clean = [0] * cfg.rx_rings
        self.rx_bufs: list[dict[int, tuple[int, int]]] = [{} for _ in range(cfg.rx_rings)]
        self.rx_partial: list[list] = [[] for _ in range(cfg.rx_rings)]
        self.frames: list[RxFrame] = []
        self.isr_log: list[IsrRecord] = []
        self.tx_ring_base: list[int] = []
        self.rx_ring_base: list[int] = []
        self.connect_isr = connect_isr

    # -- registers, as a driver with a generated header would write them ----------------------
    def off(self, name: str, index: int = 0) -> int:
        return self.ad.offset(name, index)

    def bits(self, reg: str, **fields) -> int:
        _, r = self.map.resolve(reg)
        value = 0
        for fname, v in fields.items():
            f = r.field(fname)
            if isinstance(v, str):
                v = f.values[v]
            value |= (v & f.mask) << f.lsb
        return value

    def field(self, reg: str, fname: str, value: int) -> int:
        _, r = self.map.resolve(reg)
        f = r.field(fname)
        return (value >> f.lsb) & f.mask

    def rd(self, name: str, index: int = 0) -> int:
        return self.ad.read32(self.off(name, index))

    def wr(self, name: str, value: int, index: int = 0) -> None:
        self.ad.write32(self.off(name, index), value)

    def rd64(self, name: str, index: int = 0) -> int:
        o = self.off(name, index)
        low = self.ad.read32(o)
        return low | (self.ad.read32(o + 4) << 32)

    def wr64(self, name: str, value: int, index: int = 0) -> None:
        o = self.off(name, index)
        self.ad.write32(o, value & 0xFFFF_FFFF)
        self.ad.write32(o + 4, value >> 32)

    def counter(self, name: str, vc: int | None = None) -> int:
        return self.rd64(name) if vc is None else self.rd64(f"VC.{name}", vc)

    # -- bring-up ------------------------------------------------------------------------------
    def bring_up(self, *, int_mask: int | None = None, max_frames: int = 0, max_delay: int = 0) -> None:
        self.wr("CTRL", self.bits("CTRL", RESET=1))
        assert self.rd("CTRL") == 0
        for r in range(self.ad.cfg.tx_rings):
            base = self.mem.alloc(self.tx_size * TX_DESC.octets, align=TX_DESC.octets)
            self.tx_ring_base.append(base)
            self.wr64("TXR.BASE", base, r)
            self.wr("TXR.SIZE", self.tx_size, r)
            self.wr("TXR.CTRL", self.bits("TXR.CTRL", ENABLE=1), r)
        for r in range(self.ad.cfg.rx_rings):
            base = self.mem.alloc(self.rx_size * RX_DESC.octets, align=RX_DESC.octets)
            self.rx_ring_base.append(base)
            self.wr64("RXR.BASE", base, r)
            self.wr("RXR.SIZE", self.rx_size, r)
            self.wr("RXR.CTRL", self.bits("RXR.CTRL", ENABLE=1), r)
            self.post(r, self.post_count)
        self.wr("COALESCE", self.bits("COALESCE", MAX_FRAMES=max_frames, MAX_DELAY=max_delay))
        if self.connect_isr:
            self.ad.irq.connect(self.isr)
        self.wr("INT_MASK", 0xFFFF_FFFF & self._all_causes() if int_mask is None else int_mask)
        self.wr("CTRL", self.bits("CTRL", TX_EN=1, RX_EN=1))

    def _all_causes(self) -> int:
        return sum(1 << f.lsb for f in self.map.register("INT_MASK").fields)

    def open_vc(self, vc: int, vpi: int, vci: int, *, aal: str = "AAL5", service: str = "UBR", pcr: int = 0,
                scr: int = 0, mbs: int = 1, cdvt: int = 0, rx_ring: int = 0, tx: bool = True, rx: bool = True,
                max_sdu: int = 0xFFFF) -> None:
        self.wr("VC.HDR", self.bits("VC.HDR", VPI=vpi, VCI=vci), vc)
        self.wr("VC.PCR", pcr, vc)
        self.wr("VC.SCR", scr, vc)
        self.wr("VC.MBS", mbs, vc)
        self.wr("VC.CDVT", cdvt, vc)
        self.wr("VC.MAX_SDU", max_sdu, vc)
        self.wr("VC.CTRL", self.bits("VC.CTRL", AAL=AAL_VALUES[aal], SERVICE=SERVICE_VALUES[service],
                                     RX_RING=rx_ring, TX_EN=int(tx), RX_EN=int(rx)), vc)

    # -- receive buffers -----------------------------------------------------------------------
    def post(self, ring: int, n: int, size: int | None = None) -> int:
        """Post up to ``n`` free buffers; returns how many."""
        size = self.rx_buf_size if size is None else size
        head = self.rd("RXR.HEAD", ring)
        done = 0
        while done < n and ring_free(head, self.rx_tail[ring], self.rx_size) > 0:
            i = self.rx_tail[ring]
            buf = self.mem.alloc(size)
            self.rx_bufs[ring][i] = (buf, size)
            RX_DESC.write(self.mem, self.rx_ring_base[ring] + i * RX_DESC.octets, ADDR=buf, SIZE=size, OWN=1)
            self.rx_tail[ring] = ring_next(i, self.rx_size)
            done += 1
        if done:
            self.wr("RXR.TAIL", self.rx_tail[ring], ring)
        return done

    def harvest(self, ring: int, repost: bool = True) -> int:
        """Collect the descriptors the adapter filled (DONE), rebuild frames, free the buffers,
        post fresh ones."""
        n = 0
        while True:
            i = self.rx_clean[ring]
            if i == self.rx_tail[ring]:
                break
            addr = self.rx_ring_base[ring] + i * RX_DESC.octets
            d = RX_DESC.read(self.mem, addr)
            if not d["DONE"]:
                break
            assert d["OWN"] == 0
            buf, _ = self.rx_bufs[ring].pop(i)
            data = self.mem.read(buf, d["LEN"]) if d["LEN"] else b""
            self.mem.free(buf)
            if d["SOP"]:
                self.rx_partial[ring] = []
            self.rx_partial[ring].append(data)
            if d["EOP"]:
                self.frames.append(RxFrame(d["VC"], b"".join(self.rx_partial[ring]), d["ERR"], d["UU"],
                                           d["SLOT"], len(self.rx_partial[ring]), d["CLP"]))
                self.rx_partial[ring] = []
            self.rx_clean[ring] = ring_next(i, self.rx_size)
            n += 1
        if repost and n:
            self.post(ring, n)
        return n

    # -- transmit ------------------------------------------------------------------------------
    def send(self, vc: int, data: bytes, *, ring: int = 0, uu: int = 0, clp: int = 0,
             chunks: list[int] | None = None, doorbell: bool = True) -> bool:
        """Queue one frame (split into buffers of ``chunks`` octets when given). False: ring full."""
        pieces = [data] if not chunks else _split(data, chunks)
        head = self.rd("TXR.HEAD", ring)
        self.reclaim(ring)
        if ring_free(head, self.tx_tail[ring], self.tx_size) < len(pieces):
            return False
        for k, piece in enumerate(pieces):
            i = self.tx_tail[ring]
            buf = self.mem.alloc(max(1, len(piece)))
            self.mem.write(buf, piece)
            self.tx_bufs[ring][i] = buf
            eop = k == len(pieces) - 1
            TX_DESC.write(self.mem, self.tx_ring_base[ring] + i * TX_DESC.octets, ADDR=buf, LEN=len(piece),
                          UU=uu, CLP=clp, EOP=int(eop), OWN=1, VC=vc)
            self.tx_tail[ring] = ring_next(i, self.tx_size)
        if doorbell:
            self.wr("TXR.TAIL", self.tx_tail[ring], ring)
        return True

    def reclaim(self, ring: int) -> int:
        head = self.rd("TXR.HEAD", ring)
        n = 0
        while self.tx_clean[ring] != head:
            i = self.tx_clean[ring]
            d = TX_DESC.read(self.mem, self.tx_ring_base[ring] + i * TX_DESC.octets)
            assert d["DONE"] == 1 and d["OWN"] == 0
            self.tx_status.append((d["VC"], d["STATUS"]))
            self.mem.free(self.tx_bufs[ring].pop(i))
            self.tx_clean[ring] = ring_next(i, self.tx_size)
            n += 1
        return n

    # -- interrupt -----------------------------------------------------------------------------
    def isr(self) -> None:
        status = self.rd("INT_STATUS")
        self.isr_log.append(IsrRecord(self.ad.clock.now, status))
        self.wr("INT_STATUS", status)  # W1C everything seen
        for r in range(self.ad.cfg.rx_rings):
            self.harvest(r)
        for r in range(self.ad.cfg.tx_rings):
            self.reclaim(r)

    def frames_on(self, vc: int) -> list[RxFrame]:
        return [f for f in self.frames if f.vc == vc]


def _split(data: bytes, chunks: list[int]) -> list[bytes]:
    out, pos = [], 0
    for c in chunks:
        out.append(data[pos:pos + c])
        pos += c
    if pos < len(data):
        out.append(data[pos:])
    return out


@dataclass
class Pair:
    clock: Clock
    link: Link
    a: Adapter
    b: Adapter
    da: MiniDriver
    db: MiniDriver
    extra: dict = field(default_factory=dict)

    def run(self, slots: int) -> None:
        self.clock.run_for(slots)


@pytest.fixture
def make_pair():
    """Two adapters back to back over an OC-3c link, both brought up by a MiniDriver."""

    def build(*, impairments: Impairments | None = None, delay_slots: int = 0, seed: int = 1,
              config: AdapterConfig | None = None, engine: str = "kernel", strict: bool = True,
              driver_a: dict | None = None, driver_b: dict | None = None, bring_up_a: dict | None = None,
              bring_up_b: dict | None = None) -> Pair:
        clock = Clock("OC-3c")
        link = Link("OC-3c", impairments=impairments, delay_slots=delay_slots, seed=seed)
        a = Adapter(clock, HostMemory(8 << 20), config, name="A", engine=engine, strict=strict)
        b = Adapter(clock, HostMemory(8 << 20), config, name="B", engine=engine, strict=strict)
        connect(a, b, link)
        da = MiniDriver(a, **(driver_a or {}))
        db = MiniDriver(b, **(driver_b or {}))
        da.bring_up(**(bring_up_a or {}))
        db.bring_up(**(bring_up_b or {}))
        return Pair(clock, link, a, b, da, db)

    return build


@pytest.fixture
def driver_cls():
    return MiniDriver
