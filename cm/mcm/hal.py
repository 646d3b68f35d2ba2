"""The hardware the MCM sees, and nothing more: the resources NDIS hands a miniport at
MiniportInitializeEx, and the "generated header" it programs them with.

Resources (:class:`AdapterResources`): the register window (32-bit bus reads and writes, as
NdisReadRegisterUlong / NdisWriteRegisterUlong on the mapped BAR), the shared host memory the driver
allocates rings and buffers in (NdisMAllocateSharedMemory; the adapter reaches it by DMA), the interrupt
(NdisMRegisterInterruptEx: connect the ISR) and the system clock (timers: NdisSetTimerObject). The MCM
keeps only these; it never holds the adapter object, so it cannot reach the adapter's Python internals.

Header (:class:`RegisterHeader`, :class:`DescriptorHeader`): register offsets, field positions and
descriptor layouts come from the declarations of hw/adapter (registers.py, rings.py), as a C driver
includes the header generated from the same declarations. The configuration part (VC table entries,
rings) is probed from the CONFIG register, as a driver for a family of chips does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from cm.mcm.errors import McmHardwareError
from hw.adapter.host_memory import HostMemory
from hw.adapter.registers import ADAPTER_ID, ADAPTER_VERSION, AdapterConfig, build_map, register_map
from hw.adapter.rings import RX_DESC, TX_DESC, DescriptorLayout
from hw.clock import Clock
from hw.regs import RegisterMap


class RegisterWindow:
    """The adapter's register BAR as the driver maps it: four bus operations, nothing else."""

    __slots__ = ("read32", "write32", "read64", "write64", "name")

    def __init__(self, read32: Callable[[int], int], write32: Callable[[int, int], None],
                 read64: Callable[[int], int], write64: Callable[[int, int], None], name: str = "bar0") -> None:
        self.read32, self.write32, self.read64, self.write64 = read32, write32, read64, write64
        self.name = name


@dataclass(frozen=True)
class AdapterResources:
    """What the PnP manager and NDIS give the miniport for one adapter."""

    bus: RegisterWindow
    memory: HostMemory
    connect_interrupt: Callable[[Callable[[], Any] | None], None]
    clock: Clock
    name: str = "atm0"

    @classmethod
    def of(cls, adapter: Any, name: str | None = None) -> "AdapterResources":
        """The resources of an hw.adapter.Adapter: its bus operations, its host memory, its interrupt
        line's connect, the clock (the emulation's PnP start)."""
        bus = RegisterWindow(adapter.read32, adapter.write32, adapter.read64, adapter.write64, adapter.name)
        return cls(bus, adapter.memory, adapter.irq.connect, adapter.clock, name or adapter.name)


class RegisterHeader:
    """Register offsets and field positions for one adapter configuration."""

    def __init__(self, cfg: AdapterConfig) -> None:
        self.cfg = cfg
        self.map: RegisterMap = build_map(cfg)
        self._off: dict[tuple[str, int], int] = {}
        self._fields: dict[str, dict[str, tuple[int, int, dict | None]]] = {}

    @classmethod
    def probe(cls, bus: RegisterWindow) -> "RegisterHeader":
        """Read ID and CONFIG (at their fixed offsets) and build the header of that configuration.
        Raises :class:`McmHardwareError` for a device this driver does not know."""
        fixed = register_map()
        ident = bus.read32(fixed.offset_of("ID"))
        device, version = ident >> 16, ident & 0xFFFF
        if device != ADAPTER_ID or version != ADAPTER_VERSION:
            raise McmHardwareError("ID", hex(ident), f"device {ADAPTER_ID:#x} version {ADAPTER_VERSION}")
        config = bus.read32(fixed.offset_of("CONFIG"))
        reg = fixed.register("CONFIG")

        def get(name: str) -> int:
            f = reg.field(name)
            return (config >> f.lsb) & f.mask

        cfg = AdapterConfig(vcs=get("VCS"), tx_rings=get("TX_RINGS"), rx_rings=get("RX_RINGS"), tx_fifo=get("TX_FIFO"))
        return cls(cfg)

    def off(self, name: str, index: int = 0) -> int:
        """Bus offset of register ``name`` ("CTRL", "TXR.TAIL", "VC.PCR") of entry ``index``."""
        key = (name, index)
        o = self._off.get(key)
        if o is None:
            o = self._off[key] = self.map.offset_of(name, index)
        return o

    def _layout(self, reg: str) -> dict[str, tuple[int, int, dict | None]]:
        layout = self._fields.get(reg)
        if layout is None:
            _, r = self.map.resolve(reg)
            layout = self._fields[reg] = {f.name: (f.lsb, f.mask, f.values) for f in r.fields}
        return layout

    def bits(self, reg: str, **fields: int | str) -> int:
        """The value of register ``reg`` with the given fields (others 0); named values allowed
        (``AAL="AAL5"``)."""
        layout = self._layout(reg)
        value = 0
        for name, v in fields.items():
            lsb, mask, values = layout[name]
            if isinstance(v, str):
                v = values[v]  # type: ignore[index]
            value |= (int(v) & mask) << lsb
        return value

    def field(self, reg: str, name: str, value: int) -> int:
        """Field ``name`` of a value read from register ``reg``."""
        lsb, mask, _ = self._layout(reg)[name]
        return (value >> lsb) & mask

    def bit(self, reg: str, name: str) -> int:
        """The mask of a one-bit field (or of a whole field) in place."""
        lsb, mask, _ = self._layout(reg)[name]
        return mask << lsb


class DescriptorHeader:
    """Word offsets and field positions of a descriptor layout (hw/adapter/rings.py), for drivers that
    read and write descriptors as words."""

    def __init__(self, layout: DescriptorLayout) -> None:
        self.layout = layout
        self.octets = layout.octets
        self.word: dict[str, int] = {}
        self.lsb: dict[str, int] = {}
        self.mask: dict[str, int] = {}
        for w in layout.words:
            for f in w.fields:
                self.word[f.name] = w.offset
                self.lsb[f.name] = f.lsb
                self.mask[f.name] = f.mask

    def put(self, name: str, value: int) -> int:
        """``value`` placed in field ``name`` of its word."""
        return (value & self.mask[name]) << self.lsb[name]

    def get(self, name: str, word: int) -> int:
        return (word >> self.lsb[name]) & self.mask[name]

    def flag(self, name: str) -> int:
        return self.mask[name] << self.lsb[name]


TXD = DescriptorHeader(TX_DESC)
RXD = DescriptorHeader(RX_DESC)

__all__ = ["AdapterResources", "DescriptorHeader", "RXD", "RegisterHeader", "RegisterWindow", "TXD"]
