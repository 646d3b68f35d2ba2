"""The I.432.1 HEC receiver: single-bit header correction, then detection mode.

I.432.1 §4.3.1 (HEC functions, figure "HEC: receiver modes of operation"): the receiver starts in
*correction mode*. A header with a single-bit error is corrected and the receiver moves to *detection
mode*; a header with a multi-bit error is discarded and the receiver moves to detection mode too. In
detection mode every header with an error is discarded; the first header without error sends the
receiver back to correction mode. The table :data:`TRANSITIONS` below is that figure.

Syndromes. With the coset removed, the syndrome of a received header is the CRC-8 of its 40 bits,
i.e. ``hec_of(o0..o3) ^ o4``; it is 0 for a header without error, and for a single-bit error it is a
value that depends only on the bit's position. The 40 such values are distinct (x^8+x^2+x+1 =
(x+1)(x^7+x^6+x^5+x^4+x^3+x^2+1), and the second factor is primitive, of period 127 > 40), so a
table :data:`SYNDROME_BIT` of 256 entries maps a syndrome to the bit to flip (bit 0 = most
significant bit of octet 0, bit 39 = least significant bit of the HEC), or to -1.

What the code guarantees, and what it cannot (a known property of I.432's HEC, not a fault here):
the (40, 32) code has minimum distance 4. Because (x+1) divides the generator, an error of even
weight has a syndrome of even weight and a single-bit error one of odd weight; so every 2-bit error
is detected and discarded, never miscorrected. A 3-bit (or any odd-weight >= 3) error may have the
syndrome of a single-bit error at another position: correction mode then "corrects" that bit and
delivers a header 4 bits away from the one sent (a miscorrection): 2,908 of the 9,880 3-bit patterns
do this, whatever the header (the syndrome depends on the error pattern only; the tests check all of
them against the reference). Detection mode exists to limit this on error bursts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

import numba as nb
import numpy as np

from hw.cell import CELL_OCTETS, HEC_TABLE, HEADER_OCTETS, check_cells, hec_of
from hw.errors import FieldError


class HecMode(IntEnum):
    CORRECTION = 0
    DETECTION = 1


class HecEvent(IntEnum):
    NO_ERROR = 0  # syndrome 0
    SINGLE_BIT_ERROR = 1  # syndrome of a single-bit error (or of a pattern that looks like one)
    MULTI_BIT_ERROR = 2  # any other non-zero syndrome


class HecAction(IntEnum):
    """What happens to the cell; each action has its own counter (see :class:`HecCounters`)."""

    DELIVER = 0  # counted in cells_ok
    CORRECT_AND_DELIVER = 1  # counted in corrected
    DISCARD_IN_DETECTION_MODE = 2  # counted in discarded_detection_mode
    DISCARD_UNCORRECTABLE = 3  # counted in discarded_uncorrectable


class Transition(NamedTuple):
    next_mode: HecMode
    action: HecAction
    clause: str


_FIG = "I.432.1 §4.3.1, figure 'HEC: receiver modes of operation'"

_CORRECTION, _DETECTION = HecMode.CORRECTION, HecMode.DETECTION

#: (mode, event) -> (next mode, action, clause): the receiver, as data.
TRANSITIONS: dict[tuple[HecMode, HecEvent], Transition] = {
    (_CORRECTION, HecEvent.NO_ERROR):
        Transition(_CORRECTION, HecAction.DELIVER, f"{_FIG}: no error detected (no action)"),
    (_CORRECTION, HecEvent.SINGLE_BIT_ERROR):
        Transition(_DETECTION, HecAction.CORRECT_AND_DELIVER, f"{_FIG}: single-bit error detected (correction)"),
    (_CORRECTION, HecEvent.MULTI_BIT_ERROR):
        Transition(_DETECTION, HecAction.DISCARD_UNCORRECTABLE, f"{_FIG}: multi-bit error detected (cell discarded)"),
    (_DETECTION, HecEvent.NO_ERROR):
        Transition(_CORRECTION, HecAction.DELIVER, f"{_FIG}: no error detected (no action)"),
    (_DETECTION, HecEvent.SINGLE_BIT_ERROR):
        Transition(_DETECTION, HecAction.DISCARD_IN_DETECTION_MODE, f"{_FIG}: error detected (cell discarded)"),
    (_DETECTION, HecEvent.MULTI_BIT_ERROR):
        Transition(_DETECTION, HecAction.DISCARD_IN_DETECTION_MODE, f"{_FIG}: error detected (cell discarded)"),
}

#: The table as arrays for the kernels: NEXT_MODE[mode, event], ACTION[mode, event].
NEXT_MODE = np.zeros((len(HecMode), len(HecEvent)), dtype=np.int8)
ACTION = np.zeros((len(HecMode), len(HecEvent)), dtype=np.int8)
for (_mode, _event), _t in TRANSITIONS.items():
    NEXT_MODE[_mode, _event] = _t.next_mode
    ACTION[_mode, _event] = _t.action

HEADER_BITS = 40


def _syndrome_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    bit_of = np.full(256, -1, dtype=np.int8)
    for bit in range(HEADER_BITS):
        octet, shift = divmod(bit, 8)
        header = [0] * HEADER_OCTETS
        header[octet] = 0x80 >> shift
        crc = 0
        for value in header[:4]:
            crc = int(HEC_TABLE[crc ^ value])
        syndrome = crc ^ header[4]
        if syndrome == 0 or bit_of[syndrome] != -1:  # cannot happen for this generator; guard anyway
            raise AssertionError(f"HEC syndrome of bit {bit} is not unique")
        bit_of[syndrome] = bit
    octet_of = np.where(bit_of >= 0, bit_of // 8, -1).astype(np.int8)
    mask_of = np.where(bit_of >= 0, 0x80 >> (bit_of.astype(np.int64) % 8), 0).astype(np.uint8)
    return bit_of, octet_of, mask_of


#: SYNDROME_BIT[s]: header bit (0..39, transmission order) whose single error gives syndrome s, or -1.
#: SYNDROME_OCTET / SYNDROME_MASK: the same as (octet 0..4, bit mask) for the kernels.
SYNDROME_BIT, SYNDROME_OCTET, SYNDROME_MASK = _syndrome_tables()

# Counter slots in the kernels' int64 counter array.
C_CELLS_IN = 0
C_CELLS_OK = 1 + HecAction.DELIVER
C_CORRECTED = 1 + HecAction.CORRECT_AND_DELIVER
C_DISCARDED_DETECTION = 1 + HecAction.DISCARD_IN_DETECTION_MODE
C_DISCARDED_UNCORRECTABLE = 1 + HecAction.DISCARD_UNCORRECTABLE
N_COUNTERS = 5


def header_syndrome(header: bytes) -> int:
    """Syndrome of one received 5-octet header (0: no error)."""
    if len(header) < HEADER_OCTETS:
        raise FieldError("header", f"{len(header)} octets", "at least 5 octets")
    crc = 0
    for octet in header[:4]:
        crc = int(HEC_TABLE[crc ^ octet])
    return crc ^ 0x55 ^ header[4]


def classify(syndrome: int) -> HecEvent:
    if syndrome == 0:
        return HecEvent.NO_ERROR
    return HecEvent.SINGLE_BIT_ERROR if SYNDROME_BIT[syndrome] >= 0 else HecEvent.MULTI_BIT_ERROR


# ---------------------------------------------------------------------------------------------------
# The kernel and its plain twin: same algorithm, same tables
# ---------------------------------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True)
def hec_receive_kernel(cells, keep, mode, counters):
    """Run the receiver over the rows of ``cells`` (n, >= 5) uint8, correcting headers in place.
    Writes ``keep[i]`` (cell i is delivered), adds to ``counters`` (int64[N_COUNTERS]) and returns
    the mode after the last cell."""
    for i in range(cells.shape[0]):
        syndrome = hec_of(cells[i, 0], cells[i, 1], cells[i, 2], cells[i, 3]) ^ cells[i, 4]
        if syndrome == 0:
            event = 0  # HecEvent.NO_ERROR
        elif SYNDROME_OCTET[syndrome] >= 0:
            event = 1  # HecEvent.SINGLE_BIT_ERROR
        else:
            event = 2  # HecEvent.MULTI_BIT_ERROR
        action = ACTION[mode, event]
        mode = NEXT_MODE[mode, event]
        if action == 1:  # HecAction.CORRECT_AND_DELIVER
            octet = SYNDROME_OCTET[syndrome]
            cells[i, octet] ^= SYNDROME_MASK[syndrome]
        keep[i] = action <= 1
        counters[1 + action] += 1
    counters[0] += cells.shape[0]
    return mode


def hec_receive_twin(cells, keep, mode, counters) -> int:
    """Plain-Python twin of :func:`hec_receive_kernel` (same algorithm and tables, no numba)."""
    hec_table = HEC_TABLE.tolist()
    octet_of = SYNDROME_OCTET.tolist()
    mask_of = SYNDROME_MASK.tolist()
    action_of = ACTION.tolist()
    next_of = NEXT_MODE.tolist()
    for i in range(cells.shape[0]):
        o0, o1, o2, o3, o4 = (int(v) for v in cells[i, :5])
        crc = hec_table[hec_table[hec_table[hec_table[o0] ^ o1] ^ o2] ^ o3]
        syndrome = crc ^ 0x55 ^ o4
        if syndrome == 0:
            event = HecEvent.NO_ERROR
        elif octet_of[syndrome] >= 0:
            event = HecEvent.SINGLE_BIT_ERROR
        else:
            event = HecEvent.MULTI_BIT_ERROR
        action = action_of[mode][event]
        mode = next_of[mode][event]
        if action == HecAction.CORRECT_AND_DELIVER:
            cells[i, octet_of[syndrome]] ^= mask_of[syndrome]
        keep[i] = action <= HecAction.CORRECT_AND_DELIVER
        counters[1 + action] += 1
    counters[0] += cells.shape[0]
    return mode


# ---------------------------------------------------------------------------------------------------
# The receiver object: state and counters carried across batches
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HecCounters:
    """What the receiver did. Conservation: cells_in = cells_ok + corrected + discarded."""

    cells_in: int = 0
    cells_ok: int = 0  # delivered with no header error
    corrected: int = 0  # delivered after a single-bit correction (a miscorrection counts here too)
    discarded_detection_mode: int = 0  # any header error seen in detection mode
    discarded_uncorrectable: int = 0  # multi-bit error seen in correction mode

    @property
    def delivered(self) -> int:
        return self.cells_ok + self.corrected

    @property
    def discarded(self) -> int:
        return self.discarded_detection_mode + self.discarded_uncorrectable


class HecResult(NamedTuple):
    cells: np.ndarray  # (m, 53) delivered cells, headers corrected
    keep: np.ndarray  # (n,) bool, which input cells were delivered


class HecReceiver:
    """The I.432.1 HEC receiver over batches of cells; the mode is carried from batch to batch.

    ``engine="kernel"`` (default) runs the numba kernel, ``engine="twin"`` its plain twin.
    """

    def __init__(self, mode: HecMode = HecMode.CORRECTION, *, engine: str = "kernel") -> None:
        if engine not in ("kernel", "twin"):
            raise FieldError("engine", engine, "'kernel' or 'twin'")
        self._run = hec_receive_kernel if engine == "kernel" else hec_receive_twin
        self._mode = int(HecMode(mode))
        self._counters = np.zeros(N_COUNTERS, dtype=np.int64)

    @property
    def mode(self) -> HecMode:
        return HecMode(self._mode)

    @property
    def counters(self) -> HecCounters:
        c = self._counters
        return HecCounters(
            cells_in=int(c[C_CELLS_IN]),
            cells_ok=int(c[C_CELLS_OK]),
            corrected=int(c[C_CORRECTED]),
            discarded_detection_mode=int(c[C_DISCARDED_DETECTION]),
            discarded_uncorrectable=int(c[C_DISCARDED_UNCORRECTABLE]),
        )

    def receive_mask(self, cells: np.ndarray) -> np.ndarray:
        """Run the receiver over (n, 53) cells, correcting headers in place; (n,) bool keep mask."""
        check_cells("cells", cells, CELL_OCTETS)
        keep = np.empty(cells.shape[0], dtype=np.bool_)
        self._mode = int(self._run(cells, keep, self._mode, self._counters))
        return keep

    def receive(self, cells: np.ndarray, *, in_place: bool = False) -> HecResult:
        """Run the receiver over (n, 53) cells; the delivered cells (headers corrected) and the mask.
        The input is left untouched unless ``in_place``."""
        check_cells("cells", cells, CELL_OCTETS)
        work = cells if in_place else cells.copy()
        keep = self.receive_mask(work)
        return HecResult(work[keep], keep)
