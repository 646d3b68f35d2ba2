"""The emulated ATM network adapter, as a driver sees it (docs/adapter.md).

    HostMemory            emulated host memory: allocator, checked CPU and DMA access   host_memory.py
    Adapter               the component: register bus, DMA, interrupt line, line port   adapter.py
    connect(a, b, link)   two adapters back to back over an hw.link.Link                adapter.py
    AdapterConfig         build-time configuration (VC table size, rings, FIFOs, rate)  registers.py
    register_map()        the register map, declared once (``atmemu regs adapter``)     registers.py
    TX_DESC, RX_DESC      descriptor formats and the ring index protocol               rings.py
    Gcra, VcShaper        I.371 GCRA shaping and the cell scheduler                     shaper.py
    InterruptLine         INT_STATUS/INT_MASK, coalescing, the level-triggered line     interrupts.py
    TxEngine, RxEngine    the SAR engine                                                sar.py

The adapter is protocol-agnostic: it moves AAL5 frames and AAL0 cells; SSCOP and Q.2931 run on the
host, in the driver (docs/adapter.md explains why).
"""

from hw.adapter.adapter import Adapter, connect
from hw.adapter.errors import (AdapterConfigError, AdapterError, AdapterFault, BadFree, DescriptorFault,
                               DmaError, DmaFault, HostMemoryError, InterruptStorm, OutOfHostMemory)
from hw.adapter.host_memory import HostMemory
from hw.adapter.interrupts import InterruptLine
from hw.adapter.registers import AdapterConfig, build_map, register_map
from hw.adapter.rings import RX_DESC, RX_ERR, TX_DESC, TX_STATUS, ring_free, ring_next, ring_used
from hw.adapter.shaper import CellScheduler, Gcra, VcShaper

__all__ = [
    "Adapter", "connect", "AdapterConfig", "build_map", "register_map", "HostMemory", "InterruptLine",
    "TX_DESC", "RX_DESC", "TX_STATUS", "RX_ERR", "ring_free", "ring_next", "ring_used",
    "Gcra", "VcShaper", "CellScheduler",
    "AdapterError", "AdapterConfigError", "AdapterFault", "DmaFault", "DescriptorFault", "HostMemoryError",
    "OutOfHostMemory", "BadFree", "DmaError", "InterruptStorm",
]
