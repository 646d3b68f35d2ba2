"""The ATM network adapter's register map, declared once.

The driver programs the adapter only through this map (over :meth:`hw.adapter.Adapter.read32` /
``write32``), through the descriptor rings in host memory (hw.adapter.rings) and the interrupt line.
``atmemu regs adapter`` prints it as Markdown; docs/adapter.md tells the programming sequence.

Layout (octet offsets on the adapter's 32-bit register bus; a 64-bit register is two 32-bit words,
low word first, and reading the low word latches the high word, as a 64-bit counter must be read):

    0x0000  global control, status, interrupts, coalescing, fault report, slot counter
    0x0200  TXR[ring]  transmit descriptor rings: BASE, SIZE, HEAD, TAIL (the doorbell), CTRL
    0x0300  RXR[ring]  receive descriptor rings (same layout)
    0x0400  64-bit statistics counters
    0x10000 VC[index]  the VC table: header, AAL, service category, traffic parameters, counters
"""

from __future__ import annotations

from dataclasses import dataclass

from hw.errors import FieldError
from hw.rates import OC3C, LineRate, rate as line_rate
from hw.regs import Access, Field, Register, RegisterMap, Window, counter

DEVICE = "adapter"

ADAPTER_ID = 0xA7AD  # "ATM adapter"
ADAPTER_VERSION = 1

RO, RW, W1C, WO = Access.RO, Access.RW, Access.W1C, Access.WO

TXR_BASE = 0x0200
RXR_BASE = 0x0300
RING_STRIDE = 0x20
COUNTER_BASE = 0x0400
VC_BASE = 0x0001_0000
VC_STRIDE = 0x80

MAX_RINGS = 4
MAX_VCS = 4096  # the descriptors carry a 12-bit VC index

#: AAL field values: the AAL_TYPE_* values of atm.h (AAL_TYPE_AAL0 1, AAL_TYPE_AAL5 8).
AAL_VALUES = {"AAL0": 1, "AAL5": 8}
AAL0, AAL5 = AAL_VALUES["AAL0"], AAL_VALUES["AAL5"]
#: SERVICE field values: ATM_FLOW_PARAMETERS.ServiceCategory of atm.h (CBR 1, VBR 2, UBR 4, ABR 8).
SERVICE_VALUES = {"CBR": 1, "VBR": 2, "UBR": 4, "ABR": 8}

# Interrupt causes (INT_STATUS / INT_MASK / INT_PENDING bit numbers).
INT_TX_DONE = 0  # + ring: a transmit descriptor of that ring was completed (written back)
INT_RX_DONE = 4  # + ring: a receive descriptor of that ring was filled (written back)
INT_RX_NO_DESC = 8
INT_RX_ERROR = 9
INT_TX_ERROR = 10
INT_FAULT = 11
INT_LINK = 12
#: the completion causes, which interrupt coalescing delays; every other cause interrupts at once
COMPLETION_CAUSES = 0xFF

# FAULT_INFO.DIR values
FAULT_DIR = {"TX": 0, "RX": 1}

#: 64-bit statistics counters at COUNTER_BASE, in this order: (name, description).
COUNTERS: tuple[tuple[str, str], ...] = (
    ("TX_CELLS", "cells sent: put on the line, or on the loopback"),
    ("TX_FRAMES", "frames whose last cell was sent (AAL5 CPCS-PDUs; AAL0: descriptor chains)"),
    ("TX_OCTETS", "octets fetched by DMA for frames accepted (AAL5 SDU octets; AAL0 52-octet records)"),
    ("TX_DESCRIPTORS", "transmit descriptors completed (written back with DONE), errored ones included"),
    ("TX_DESC_ERRORS", "frames refused by the descriptor checks (written back with a STATUS error code)"),
    ("TX_SEGMENTED_CELLS", "cells made by segmentation = TX_CELLS + TX_FLUSHED_CELLS + TX_QUEUED_CELLS"),
    ("TX_FLUSHED_CELLS", "queued cells discarded because their VC's TX_EN was cleared"),
    ("TX_NO_LINE_CELLS", "cells sent while no line was attached (lost at the PHY; a line that is down counts its own)"),
    ("TX_QUEUED_CELLS", "gauge: cells segmented and waiting for their slot"),
    ("RX_PHY_CELLS", "cells from the PHY (the line, or the loopback), before the HEC check"),
    ("RX_HEC_DISCARDS", "cells discarded by the I.432.1 HEC receiver (header errors)"),
    ("RX_HEC_CORRECTED", "cells delivered after a single-bit header correction"),
    ("RX_IDLE_CELLS", "idle and unassigned cells removed (I.432.1 4.5.1; I.361 Table 2)"),
    ("RX_DISABLED_CELLS", "cells dropped because CTRL.RX_EN is 0, or line cells in loopback"),
    ("RX_UNKNOWN_VC", "cells whose VPI/VCI matches no VC entry with RX_EN"),
    ("RX_OAM_CELLS", "cells with PTI 1xx (F5 OAM, RM) on an AAL5 VC: not AAL5 user data, dropped"),
    ("RX_CELLS", "cells accepted on a VC = RX_FRAME_CELLS + RX_ERROR_CELLS + RX_NO_DESC_CELLS + RX_PENDING_CELLS"),
    ("RX_FRAMES", "frames written to host buffers (AAL0: cells), errored frames excluded"),
    ("RX_OCTETS", "octets written to host buffers"),
    ("RX_FRAME_CELLS", "cells of the frames in RX_FRAMES"),
    ("RX_CRC_ERRORS", "AAL5 CPCS-PDUs discarded: CRC-32 mismatch (I.363.5 9.2.2.2)"),
    ("RX_LENGTH_ERRORS", "AAL5 CPCS-PDUs discarded: Length inconsistent with the PDU size"),
    ("RX_OVERSIZE", "AAL5 CPCS-PDUs discarded: longer than the VC's MAX_SDU"),
    ("RX_TIMEOUTS", "AAL5 partial PDUs discarded by the reassembly timer (RX_TIMEOUT)"),
    ("RX_ABORTS", "AAL5 CPCS-PDUs with Length 0 (the abort function)"),
    ("RX_SAR_NO_BUFFER", "AAL5 PDUs discarded: the adapter's reassembly buffer pool was full"),
    ("RX_ERROR_CELLS", "cells of the PDUs counted in RX_CRC_ERRORS .. RX_SAR_NO_BUFFER"),
    ("RX_NO_DESC", "frames (AAL0: cells) dropped: too few descriptors posted on their ring"),
    ("RX_NO_DESC_CELLS", "cells of the frames in RX_NO_DESC"),
    ("RX_UNREPORTED", "errored PDUs counted above but not reported in a descriptor (none posted)"),
    ("RX_PENDING_CELLS", "gauge: cells held in partial AAL5 PDUs now"),
    ("INTERRUPTS", "times the interrupt line was asserted (rising edges)"),
)
COUNTER_INDEX = {name: i for i, (name, _) in enumerate(COUNTERS)}

#: per-VC 64-bit counters in the VC window: (name, offset in the entry, description)
VC_COUNTERS: tuple[tuple[str, int, str], ...] = (
    ("TX_CELLS", 0x28, "cells of this VC sent"),
    ("TX_FRAMES", 0x30, "frames of this VC whose last cell was sent"),
    ("RX_CELLS", 0x38, "cells accepted on this VC"),
    ("RX_FRAMES", 0x40, "frames of this VC written to host buffers"),
    ("RX_ERRORS", 0x48, "PDUs of this VC discarded in error (CRC, length, oversize, timeout, abort, pool)"),
    ("RX_DROPS", 0x50, "frames of this VC dropped for lack of receive descriptors"),
)
VC_COUNTER_INDEX = {name: i for i, (name, _, _) in enumerate(VC_COUNTERS)}


@dataclass(frozen=True)
class AdapterConfig:
    """Build-time configuration (what the silicon was made with; read back in CONFIG)."""

    vcs: int = 256  # VC table entries
    tx_rings: int = 2  # ring 1 is meant for signalling (docs/adapter.md)
    rx_rings: int = 2
    tx_fifo: int = 8  # cells between the cell scheduler and the PHY (committed ahead of the line)
    tx_buffer_cells: int = 8192  # segmentation buffer shared by all VCs
    rx_pool_cells: int = 8192  # reassembly buffer pool shared by all VCs
    rate: LineRate | str = OC3C  # the PHY's line rate; the attached link must run at it

    def __post_init__(self) -> None:
        checks = (("vcs", 1, MAX_VCS), ("tx_rings", 1, MAX_RINGS), ("rx_rings", 1, MAX_RINGS),
                  ("tx_fifo", 1, 255), ("tx_buffer_cells", 1, 1 << 24), ("rx_pool_cells", 1, 1 << 24))
        for name, lo, hi in checks:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise FieldError(f"AdapterConfig.{name}", v, f"an integer {lo}..{hi}")
        object.__setattr__(self, "rate", line_rate(self.rate))

    @property
    def line_rate(self) -> LineRate:
        return self.rate  # type: ignore[return-value]


def _interrupt_fields(cfg: AdapterConfig, access: Access, verb: str) -> tuple[Field, ...]:
    fields = [Field(f"TX_DONE{r}", INT_TX_DONE + r, INT_TX_DONE + r, access, 0,
                    f"transmit ring {r}: descriptors completed{verb}") for r in range(cfg.tx_rings)]
    fields += [Field(f"RX_DONE{r}", INT_RX_DONE + r, INT_RX_DONE + r, access, 0,
                     f"receive ring {r}: descriptors filled{verb}") for r in range(cfg.rx_rings)]
    fields += [
        Field("RX_NO_DESC", INT_RX_NO_DESC, INT_RX_NO_DESC, access, 0,
              f"a frame was dropped for lack of receive descriptors (RX_NO_DESC){verb}"),
        Field("RX_ERROR", INT_RX_ERROR, INT_RX_ERROR, access, 0,
              f"an errored PDU was reported in a receive descriptor{verb}"),
        Field("TX_ERROR", INT_TX_ERROR, INT_TX_ERROR, access, 0,
              f"a transmit descriptor was written back with an error STATUS{verb}"),
        Field("FAULT", INT_FAULT, INT_FAULT, access, 0,
              f"a DMA or descriptor fault halted a ring (FAULT_INFO, FAULT_ADDR){verb}"),
        Field("LINK", INT_LINK, INT_LINK, access, 0, f"STATUS.LINK_UP changed{verb}"),
    ]
    return tuple(fields)


def _global_registers(cfg: AdapterConfig) -> tuple[Register, ...]:
    regs = [
        Register("ID", 0x000, (
            Field("DEVICE", 31, 16, RO, ADAPTER_ID, "device identifier 0xA7AD"),
            Field("VERSION", 15, 0, RO, ADAPTER_VERSION, "register-map version"),
        ), "identification"),
        Register("CONFIG", 0x004, (
            Field("VCS", 12, 0, RO, cfg.vcs, "VC table entries"),
            Field("TX_RINGS", 18, 16, RO, cfg.tx_rings, "transmit descriptor rings"),
            Field("RX_RINGS", 22, 20, RO, cfg.rx_rings, "receive descriptor rings"),
            Field("TX_FIFO", 31, 24, RO, cfg.tx_fifo,
                  "cells the scheduler commits ahead of the line (transmit cell FIFO depth)"),
        ), "build-time configuration"),
        Register("LINE_RATE", 0x008, (
            Field("CELLS", 31, 0, RO, cfg.line_rate.cells_per_second, "cell slots per second"),
        ), f"the PHY's cell rate ({cfg.line_rate.name}); one slot is one cell time"),
        Register("CTRL", 0x00C, (
            Field("RESET", 0, 0, WO, 0, "write 1: reset the adapter (every register to its reset value, "
                  "rings disabled, queued cells and partial PDUs discarded); reads 0"),
            Field("TX_EN", 1, 1, RW, 0, "transmit engine on: doorbells are served and queued cells sent "
                  "(0 pauses both; queued cells wait)"),
            Field("RX_EN", 2, 2, RW, 0, "receive engine on (cells are dropped and counted while off)"),
            Field("LOOPBACK", 3, 3, RW, 0,
                  "PHY loopback: transmitted cells go to the own receiver, not the line; line cells are "
                  "dropped (RX_DISABLED_CELLS)"),
        ), "global control"),
        Register("STATUS", 0x010, (
            Field("LINK_UP", 0, 0, RO, 0, "the attached line is up"),
            Field("TX_BUSY", 1, 1, RO, 0, "cells are queued for transmission"),
            Field("FAULT", 2, 2, RO, 0, "a fault was recorded (FAULT_INFO); cleared by reset"),
        ), "global status"),
        Register("INT_STATUS", 0x014, _interrupt_fields(cfg, W1C, " (write 1 to clear)"),
                 "interrupt causes, set by the adapter whatever the mask; write 1 to clear"),
        Register("INT_MASK", 0x018, _interrupt_fields(cfg, RW, ": 1 lets it assert the line"),
                 "interrupt enables, bit for bit as INT_STATUS"),
        Register("INT_PENDING", 0x01C,
                 _interrupt_fields(cfg, RO, " and enabled") +
                 (Field("LINE", 31, 31, RO, 0, "the interrupt line is asserted now"),),
                 "INT_STATUS & INT_MASK, and the line level (read-only, no side effects)"),
        Register("COALESCE", 0x020, (
            Field("MAX_FRAMES", 15, 0, RW, 0,
                  "completions (descriptors written back) before the line is asserted; 0 or 1: at once"),
            Field("MAX_DELAY", 31, 16, RW, 0,
                  "slots after the first held completion before the line is asserted anyway; 0: no timer"),
        ), "interrupt coalescing of the completion causes TX_DONE*/RX_DONE* (other causes assert at once)"),
        Register("RX_TIMEOUT", 0x024, (
            Field("SLOTS", 31, 0, RW, 0, "reassembly timer: a partial AAL5 PDU idle longer is discarded; 0: off"),
        ), "AAL5 reassembly timer"),
        Register("RX_POLL", 0x028, (
            Field("SLOTS", 15, 0, RW, 0,
                  "poll the line every this many slots, for far ends that do not signal cell arrival "
                  "(Adapter.wake_rx); 0: off"),
        ), "receive line polling period"),
        Register("FAULT_INFO", 0x02C, (
            Field("CODE", 7, 0, RO, 0, "0 none, 1 DMA fault, 2 descriptor not owned (OWN = 0)"),
            Field("DIR", 8, 8, RO, 0, "ring direction", FAULT_DIR),
            Field("RING", 15, 12, RO, 0, "ring index"),
            Field("INDEX", 31, 16, RO, 0, "descriptor index"),
        ), "the first fault since reset (later faults are counted in INT_STATUS.FAULT only)"),
        Register("FAULT_ADDR", 0x030, (Field("ADDR", 63, 0, RO, 0, "host address of the faulting access"),),
                 "host address of the first fault", 64),
        Register("SLOT", 0x038, (Field("SLOT", 63, 0, RO, 0, "current cell slot (virtual time)"),),
                 "free-running slot counter (the timestamps in receive descriptors use it)", 64),
    ]
    return tuple(regs)


def _ring_window(name: str, base: int, count: int, desc_octets: int, direction: str) -> Window:
    if direction == "tx":
        tail_doc = ("producer index: the driver writes the index after the last descriptor it filled; "
                    "the write is the doorbell")
        head_doc = "consumer index: the next descriptor the adapter will complete"
    else:
        tail_doc = ("producer index of free buffers: the driver writes the index after the last "
                    "descriptor it posted; the write is the doorbell")
        head_doc = "the next descriptor the adapter will fill"
    regs = (
        Register("BASE", 0x00, (Field("ADDR", 63, 0, RW, 0,
                                      f"physical address of descriptor 0 (aligned to {desc_octets})"),),
                 "ring base address (write while CTRL.ENABLE = 0)", 64),
        Register("SIZE", 0x08, (Field("ENTRIES", 15, 0, RW, 0, "descriptors in the ring, 2..65535"),),
                 "ring size (write while CTRL.ENABLE = 0)"),
        Register("HEAD", 0x0C, (Field("INDEX", 15, 0, RO, 0, head_doc),), "adapter's index"),
        Register("TAIL", 0x10, (Field("INDEX", 15, 0, RW, 0, tail_doc),), "driver's index (doorbell)"),
        Register("CTRL", 0x14, (
            Field("ENABLE", 0, 0, RW, 0,
                  "1: ring in use (BASE/SIZE checked); 0: ring stopped, HEAD = TAIL = 0, HALTED cleared"),
            Field("HALTED", 1, 1, RO, 0, "the ring stopped on a fault; disable and re-enable it"),
        ), "ring control"),
    )
    what = "transmit" if direction == "tx" else "receive"
    doc = (f"{what} descriptor rings, {desc_octets}-octet descriptors in host memory (hw/adapter/rings.py). "
           "HEAD == TAIL: nothing for the adapter; the ring holds at most SIZE - 1 descriptors in flight.")
    return Window(name, base, count, RING_STRIDE, regs, doc, f"{direction}_rings")


def _vc_window(cfg: AdapterConfig) -> Window:
    regs: list[Register] = [
        Register("CTRL", 0x00, (
            Field("TX_EN", 0, 0, RW, 0, "transmit on this VC (clearing it discards its queued cells)"),
            Field("RX_EN", 1, 1, RW, 0, "receive on this VC (installs VPI/VCI in the receive lookup)"),
            Field("AAL", 7, 4, RW, AAL5, "adaptation: AAL5 frames, or raw 52-octet cells (AAL0)", AAL_VALUES),
            Field("SERVICE", 11, 8, RW, SERVICE_VALUES["UBR"],
                  "service category: scheduling priority CBR > VBR > ABR > UBR", SERVICE_VALUES),
            Field("RX_RING", 13, 12, RW, 0, "receive ring of this VC's frames"),
        ), "entry control (VPI/VCI and AAL can change only while TX_EN = RX_EN = 0)"),
        Register("HDR", 0x04, (
            Field("VPI", 23, 16, RW, 0, "VPI (UNI: 8 bits)"),
            Field("VCI", 15, 0, RW, 0, "VCI"),
        ), "cell header of this VC"),
        Register("PCR", 0x08, (Field("RATE", 31, 0, RW, 0, "peak cell rate, cells/s; 0: the line rate"),),
                 "peak cell rate: the shaper's GCRA(T = 1/PCR, CDVT) (I.371)"),
        Register("SCR", 0x0C, (Field("RATE", 31, 0, RW, 0, "sustainable cell rate, cells/s; 0: none"),),
                 "sustainable cell rate: a second GCRA(1/SCR, (MBS - 1)(1/SCR - 1/PCR) + CDVT)"),
        Register("MBS", 0x10, (Field("CELLS", 23, 0, RW, 1, "maximum burst size at the PCR, cells"),),
                 "maximum burst size (used with SCR)"),
        Register("CDVT", 0x14, (Field("SLOTS", 23, 0, RW, 0, "cell delay variation tolerance tau, slots"),),
                 "tolerance of the PCR GCRA: bursts above the PCR up to tau are sent back to back"),
        Register("MAX_SDU", 0x18, (Field("OCTETS", 15, 0, RW, 0xFFFF, "largest AAL5 SDU received"),),
                 "receive maximum SDU (longer PDUs are discarded as oversize)"),
        Register("QUEUED", 0x1C, (Field("CELLS", 23, 0, RO, 0, "cells waiting for a slot"),),
                 "transmit queue depth"),
        Register("TAT", 0x20, (Field("SLOT", 63, 0, RO, 0, "theoretical arrival time of the next cell, "
                                     "rounded up to a slot"),), "PCR shaper state", 64),
    ]
    regs += [counter(name, offset, doc) for name, offset, doc in VC_COUNTERS]
    doc = ("The VC table. The receive lookup matches VPI/VCI among entries with RX_EN; two entries "
           "with RX_EN cannot share a VPI/VCI. The transmit descriptors name an entry by index.")
    return Window("VC", VC_BASE, cfg.vcs, VC_STRIDE, tuple(regs), doc, "vcs")


def build_map(cfg: AdapterConfig) -> RegisterMap:
    from hw.adapter.rings import RX_DESC_OCTETS, TX_DESC_OCTETS

    counters = tuple(counter(name, COUNTER_BASE + 8 * i, doc) for i, (name, doc) in enumerate(COUNTERS))
    doc = (
        "ATM network adapter: a SAR engine (AAL5 and raw AAL0) with per-VC GCRA shaping, descriptor "
        "rings in host memory, interrupts with coalescing. 32-bit register bus; a 64-bit register is "
        "two words, low first; reading the low word latches the high word. Counters are 64-bit, free "
        "running, cleared by reset. Every cell from the PHY is counted once: RX_PHY_CELLS = "
        "RX_HEC_DISCARDS + RX_IDLE_CELLS + RX_DISABLED_CELLS + RX_UNKNOWN_VC + RX_OAM_CELLS + RX_CELLS."
    )
    return RegisterMap(
        DEVICE,
        "ATM adapter register map",
        _global_registers(cfg) + counters,
        (
            _ring_window("TXR", TXR_BASE, cfg.tx_rings, TX_DESC_OCTETS, "tx"),
            _ring_window("RXR", RXR_BASE, cfg.rx_rings, RX_DESC_OCTETS, "rx"),
            _vc_window(cfg),
        ),
        doc,
    )


def register_map() -> RegisterMap:
    """The map of the default configuration (for ``atmemu regs adapter``)."""
    return build_map(AdapterConfig())


__all__ = [
    "DEVICE", "AdapterConfig", "build_map", "register_map", "COUNTERS", "COUNTER_INDEX", "VC_COUNTERS",
    "VC_COUNTER_INDEX", "AAL_VALUES", "AAL0", "AAL5", "SERVICE_VALUES", "COMPLETION_CAUSES",
    "INT_TX_DONE", "INT_RX_DONE", "INT_RX_NO_DESC", "INT_RX_ERROR", "INT_TX_ERROR", "INT_FAULT", "INT_LINK",
]
