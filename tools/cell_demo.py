"""The cell-level demonstration: AAL5 frames through an impaired link and a receiving PHY (a library:
`atmemu run` runs scenarios, tools/scenario/runner.py; `run_cell_demo(CellDemoOptions(...))` runs this).

    transmitter                        link (OC-3c)               receiver
    AAL5 SAR  --cells-->  idle-cell insertion, bit errors  -->  byte stream with a bit slip
                                                                -> cell delineation (I.432.1)
                                                                -> HEC receiver (correct / discard)
                                                                -> idle cells removed
                                                                -> AAL5 reassembly per VC (CRC-32)

Every stage reports its counters, and the run checks what a user of the emulator relies on: each
stage conserves cells (in = out + counted discards), and every frame the receiver delivers is
byte-identical to one the transmitter sent on that VC, in order. Seeded: the same options give the
same counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hw.aal5 import Reassembler, pack_sdus, segment_batch
from hw.aal5.rx_records import DISCARD_COUNTERS
from hw.cell import CELL_OCTETS, is_physical_layer
from hw.delineation import CellDelineator
from hw.hec_receiver import HecReceiver
from hw.link import Impairments, Link

#: (VPI, VCI) of the demonstration's VCs.
VCS = ((0, 100), (0, 101), (1, 200))
#: SDU sizes drawn for the frames: a small control frame, IP datagrams, a classical-IP-over-ATM MTU.
FRAME_SIZES = np.array([40, 576, 1500, 9180])
#: Idle cells on the line before the first frame: enough for HUNT + PRESYNC (DELTA = 6) to reach SYNC.
IDLE_LEAD_IN = 32


@dataclass
class CellDemoOptions:
    frames: int = 3000
    ber: float = 1e-6
    slip_after_cells: int | None = 20000  # delete one bit from the stream after this many cells
    seed: int = 1


@dataclass
class StageReport:
    name: str
    counters: dict[str, int]
    balanced: bool
    equation: str


@dataclass
class CellDemoResult:
    options: CellDemoOptions
    stages: list[StageReport] = field(default_factory=list)
    frames_sent: int = 0
    frames_delivered: int = 0
    frames_identical: int = 0
    frames_mismatched: int = 0

    @property
    def ok(self) -> bool:
        return all(s.balanced for s in self.stages) and self.frames_mismatched == 0 and (
            self.frames_identical == self.frames_delivered
        )


def _interleave_vcs(per_vc_cells: list[np.ndarray]) -> np.ndarray:
    """Cells of several VCs multiplexed cell by cell (round robin), each VC's order kept: the
    receiver must then keep one reassembly per VC."""
    order_keys = np.concatenate(
        [np.arange(len(c), dtype=np.int64) * len(per_vc_cells) + i for i, c in enumerate(per_vc_cells)]
    )
    return np.concatenate(per_vc_cells)[np.argsort(order_keys, kind="stable")]


def _slip_one_bit(stream: np.ndarray, at_bit: int) -> np.ndarray:
    """The octet stream with bit ``at_bit`` deleted (a receiver clock slip), padded back to octets."""
    bits = np.unpackbits(stream)
    bits = np.delete(bits, at_bit)
    return np.packbits(bits)  # the last octet is padded with zero bits


def run_cell_demo(opts: CellDemoOptions) -> CellDemoResult:
    rng = np.random.default_rng(opts.seed)
    result = CellDemoResult(opts)

    # Transmitter: frames of random sizes and contents on each VC, segmented by the AAL5 SAR.
    sent: dict[tuple[int, int], list[bytes]] = {vc: [] for vc in VCS}
    for _ in range(opts.frames):
        vc = VCS[int(rng.integers(len(VCS)))]
        size = int(rng.choice(FRAME_SIZES))
        sent[vc].append(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
    per_vc = []
    for vpi, vci in VCS:
        buf, offsets, lengths = pack_sdus(sent[(vpi, vci)])
        per_vc.append(segment_batch(buf, offsets, lengths, vpi, vci))
    tx_cells = _interleave_vcs(per_vc)
    result.frames_sent = opts.frames

    # Link: OC-3c with bit errors; idle cells fill the slots with no data (cell rate decoupling). The
    # line carries idle cells for a while before the first frame, as a real line does after power-up,
    # so the receiver is in SYNC when the data starts.
    link = Link("OC-3c", name="demo", a="sar", b="phy", seed=opts.seed, emit_idle=True,
                impairments=Impairments(ber=opts.ber))
    link.a.send(tx_cells, at=IDLE_LEAD_IN)
    link.advance(IDLE_LEAD_IN + len(tx_cells) + 64)
    arrived = link.b.receive()
    lane = link.counters["sar->phy"]
    result.stages.append(StageReport(
        "link sar->phy (OC-3c)",
        {k: lane[k] for k in ("cells_offered", "cells_delivered", "idle_inserted", "bits_flipped", "cells_errored")},
        lane["cells_offered"] == lane["cells_delivered"] + lane["cells_lost_random"] + lane["cells_lost_burst"]
        + lane["cells_lost_down"] + lane["cells_dropped_queue_full"] + lane["cells_queued"],
        "offered = delivered + lost + queued",
    ))

    # Receiving PHY: the cells become an octet stream, which slips one bit; delineation finds the
    # cell boundaries again, then the HEC receiver corrects or discards errored headers.
    stream = np.ascontiguousarray(arrived.cells).reshape(-1)
    if opts.slip_after_cells is not None and opts.slip_after_cells < len(arrived.cells):
        stream = _slip_one_bit(stream, opts.slip_after_cells * CELL_OCTETS * 8 + 3)
    delineator = CellDelineator()
    chunks = [delineator.feed(stream[i:i + 65536]) for i in range(0, stream.shape[0], 65536)]
    delineated = np.concatenate(chunks) if chunks else np.zeros((0, CELL_OCTETS), np.uint8)
    d = delineator.counters
    result.stages.append(StageReport(
        "cell delineation",
        {"bits_in": d.bits_in, "bits_hunted": d.bits_hunted, "cells_presync": d.cells_presync,
         "cells_delivered": d.cells_delivered, "sync_lost": d.sync_to_hunt, "sync_gained": d.presync_to_sync,
         "bits_pending": d.bits_pending},
        d.bits_in == d.bits_hunted + 424 * (d.cells_presync + d.cells_delivered) + d.bits_pending,
        "bits in = hunted + 424 x (presync + delivered cells) + pending",
    ))

    hec_rx = HecReceiver()
    good = hec_rx.receive(delineated).cells
    h = hec_rx.counters
    result.stages.append(StageReport(
        "HEC receiver",
        {"cells_in": h.cells_in, "cells_ok": h.cells_ok, "corrected": h.corrected,
         "discarded_detection_mode": h.discarded_detection_mode,
         "discarded_uncorrectable": h.discarded_uncorrectable},
        h.cells_in == h.cells_ok + h.corrected + h.discarded,
        "in = ok + corrected + discarded",
    ))

    physical = is_physical_layer(good)
    atm_cells = good[~physical]
    result.stages.append(StageReport(
        "idle cell removal",
        {"cells_in": len(good), "idle_removed": int(physical.sum()), "cells_out": len(atm_cells)},
        len(good) == int(physical.sum()) + len(atm_cells),
        "in = idle + out",
    ))

    # AAL5 receiver: per-VC reassembly; the slip and payload bit errors show up as CRC/length errors.
    rx = Reassembler(timeout_slots=None)
    out = rx.feed(atm_cells, np.arange(len(atm_cells), dtype=np.int64))
    counters = rx.counters
    discarded = sum(counters[k] for k in DISCARD_COUNTERS)
    result.stages.append(StageReport(
        "AAL5 reassembly",
        {k: v for k, v in counters.items() if v or k in ("cells_in", "frames_delivered", "crc_errors")},
        counters["cells_in"] == counters["cells_delivered"] + discarded + counters["cells_pending"],
        "in = delivered + discarded + pending",
    ))

    # Every delivered frame must be one that was sent on its VC, in order (a subsequence).
    cursor = {vc: 0 for vc in VCS}
    for sdu in out:
        vc = (sdu.vpi, sdu.vci)
        result.frames_delivered += 1
        frames = sent.get(vc, [])
        i = cursor.get(vc, 0)
        while i < len(frames) and frames[i] != sdu.sdu:
            i += 1
        if i < len(frames):
            result.frames_identical += 1
            cursor[vc] = i + 1
        else:
            result.frames_mismatched += 1
    return result
