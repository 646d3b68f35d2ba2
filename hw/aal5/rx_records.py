"""What the AAL5 receiver reports: its counters, its error records, and the SDUs it delivers.

Shared by the numba kernel (hw.aal5.rx_kernel) and its plain twin (hw.aal5.rx_twin): both count in
one int64 array indexed by the constants here, and both describe each discarded CPCS-PDU by an error
record ``(kind, key, slot, cells, a, b, c)`` that :func:`error_object` turns into a typed error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, NamedTuple

import numpy as np

from hw.aal5 import errors as E
from hw.aal5.cpcs import CELL_PAYLOAD, TRAILER_OCTETS
from hw.aal5.crc import CRC32_RESIDUE
from hw.errors import FieldError

CELL_OCTETS = 53
HEADER_OCTETS = 5

# VC states
IDLE, ASSEMBLING, DISCARDING = 0, 1, 2

# Counters: one int64 array, indexed by these constants (names in COUNTER_NAMES).
COUNTER_NAMES = (
    "cells_in",
    "cells_delivered",
    "cells_pending",  # a gauge: cells held in partial PDUs now
    "frames_delivered",
    "octets_delivered",
    "crc_errors",
    "length_errors",
    "oversize_errors",
    "timeouts",
    "no_buffer_errors",
    "aborts",
    # discarded cells, by reason (their sum is cells_discarded)
    "cells_crc_error",
    "cells_length_error",
    "cells_oversize",
    "cells_timeout",
    "cells_no_buffer",
    "cells_abort",
    "cells_not_user_data",  # PTI 1xx: F5 OAM, RM, reserved
    "cells_unassigned",  # VPI 0 / VCI 0: unassigned or idle cells, never on a VC
    "cells_vc_table_full",
    # appended after the kernel's own (its compiled indices stay valid): VCs closed by software
    "closes",  # partial PDUs discarded because their VC was closed (Reassembler.close)
    "cells_closed",
)
(C_IN, C_DELIVERED, C_PENDING, F_DELIVERED, O_DELIVERED, F_CRC, F_LENGTH, F_OVERSIZE, F_TIMEOUT, F_NO_BUFFER,
 F_ABORT, C_CRC, C_LENGTH, C_OVERSIZE, C_TIMEOUT, C_NO_BUFFER, C_ABORT, C_NOT_USER, C_UNASSIGNED,
 C_NO_VC, F_CLOSED, C_CLOSED) = range(len(COUNTER_NAMES))
#: The counters of discarded cells, by reason (their sum is ``cells_discarded``).
DISCARD_COUNTERS = ("cells_crc_error", "cells_length_error", "cells_oversize", "cells_timeout", "cells_no_buffer",
                    "cells_abort", "cells_not_user_data", "cells_unassigned", "cells_vc_table_full", "cells_closed")

# Error kinds in the kernel's error records.
K_CRC, K_LENGTH, K_OVERSIZE, K_TIMEOUT, K_NO_BUFFER, K_ABORT = 1, 2, 3, 4, 5, 6
K_CLOSED = 7  # made by Reassembler.close, never by the kernel
#: per error kind: the counter of its discarded cells, and of its discarded PDUs (index 0 unused)
KIND_CELL_COUNTER = np.array([-1, C_CRC, C_LENGTH, C_OVERSIZE, C_TIMEOUT, C_NO_BUFFER, C_ABORT, C_CLOSED],
                             dtype=np.int64)
KIND_PDU_COUNTER = np.array([-1, F_CRC, F_LENGTH, F_OVERSIZE, F_TIMEOUT, F_NO_BUFFER, F_ABORT, F_CLOSED],
                            dtype=np.int64)
ERROR_RECORD_FIELDS = ("kind", "key", "slot", "cells", "a", "b", "c")  # key = VPI << 16 | VCI


class Sdu(NamedTuple):
    vpi: int
    vci: int
    sdu: bytes
    uu: int
    cpi: int
    slot: int  # slot of the cell that completed the PDU
    cells: int


@dataclass
class Reassembled:
    """What one call to :meth:`Reassembler.feed` produced: SDUs as arrays (no object per frame unless
    you iterate), and one typed error per discarded PDU."""

    data: np.ndarray  # uint8, the SDUs end to end
    offsets: np.ndarray  # int64 per frame
    lengths: np.ndarray
    vpi: np.ndarray
    vci: np.ndarray
    uu: np.ndarray
    cpi: np.ndarray
    slot: np.ndarray
    cells: np.ndarray
    errors: list = field(default_factory=list)
    error_records: np.ndarray = field(default_factory=lambda: np.zeros((0, 7), np.int64))

    def __len__(self) -> int:
        return int(self.offsets.shape[0])

    def sdu(self, i: int) -> bytes:
        o = int(self.offsets[i])
        return self.data[o: o + int(self.lengths[i])].tobytes()

    def __iter__(self) -> Iterator[Sdu]:
        for i in range(len(self)):
            yield Sdu(int(self.vpi[i]), int(self.vci[i]), self.sdu(i), int(self.uu[i]), int(self.cpi[i]),
                      int(self.slot[i]), int(self.cells[i]))


def frames_from(data: np.ndarray, fr: np.ndarray, errs: np.ndarray) -> Reassembled:
    """The result of a run from its frame rows (offset, length, key, UU, CPI, slot, cells) and error
    records; ``fr`` and ``errs`` are copied (the engines reuse their buffers)."""
    if not errs.shape[0]:
        if not fr.shape[0]:
            return empty_result()
        cols = fr.T.copy()  # one copy, then views of its rows
        vpi, vci = np.divmod(cols[2], 0x10000)   # key = VPI << 16 | VCI
        return Reassembled(data, cols[0], cols[1], vpi, vci, cols[3], cols[4], cols[5], cols[6], [], _ZE)
    cols = fr.T.copy()
    key = cols[2]
    errs = errs.copy()
    return Reassembled(data=data, offsets=cols[0], lengths=cols[1], vpi=key >> 16, vci=key & 0xFFFF, uu=cols[3],
                       cpi=cols[4], slot=cols[5], cells=cols[6], errors=[error_object(r) for r in errs],
                       error_records=errs)


_Z = np.zeros(0, np.int64)
_Z.setflags(write=False)
_ZU8 = np.zeros(0, np.uint8)
_ZU8.setflags(write=False)
_ZE = np.zeros((0, 7), np.int64)
_ZE.setflags(write=False)


def empty_result() -> Reassembled:
    """No frame and no error (read-only empty arrays, shared)."""
    return Reassembled(_ZU8, _Z, _Z, _Z, _Z, _Z, _Z, _Z, _Z, [], _ZE)


def error_object(rec) -> E.Aal5RxError:
    """The typed error of one error record (kind, key, slot, cells, a, b, c)."""
    kind, key, slot, cells, a, b, c = (int(x) for x in rec)
    vpi, vci = key >> 16, key & 0xFFFF
    common = dict(slot=slot, cells=cells)
    if kind == K_CRC:
        return E.Aal5CrcError(vpi, vci, offset=c - 4, field="CRC-32", reason=(
            f"register ended at 0x{b:08X}, not the residue 0x{CRC32_RESIDUE:08X} (carried CRC 0x{a:08X})"), **common)
    if kind == K_LENGTH:
        why = (f"Length {a} does not fit a PDU of {b} octets" if a + TRAILER_OCTETS > b
               else f"Length {a} leaves a pad of {b - TRAILER_OCTETS - a} octets (max 47): cells gained")
        return E.Aal5LengthError(vpi, vci, offset=b - 6, field="Length", reason=why, **common)
    if kind == K_OVERSIZE:
        if c:  # found at the end of the PDU from its Length field
            return E.Aal5OversizeError(vpi, vci, offset=cells * CELL_PAYLOAD - 6, field="Length",
                                       reason=f"SDU of {a} octets exceeds the maximum SDU {b}", **common)
        return E.Aal5OversizeError(vpi, vci, offset=a * CELL_PAYLOAD, field="CPCS-PDU",
                                   reason=f"no end of PDU after {a} cells (maximum SDU {b})", **common)
    if kind == K_TIMEOUT:
        return E.Aal5TimeoutError(vpi, vci, offset=cells * CELL_PAYLOAD, field="CPCS-PDU",
                                  reason=f"no cell since slot {a}: reassembly timer ({b} slots) expired at slot {slot}",
                                  **common)
    if kind == K_NO_BUFFER:
        return E.Aal5NoBufferError(vpi, vci, offset=(cells - 1) * CELL_PAYLOAD, field="CPCS-PDU",
                                   reason=f"reassembly buffer pool of {a} cells exhausted", **common)
    if kind == K_ABORT:
        return E.Aal5AbortError(vpi, vci, offset=cells * CELL_PAYLOAD - 6, field="Length",
                                reason="Length 0: abort", **common)
    if kind == K_CLOSED:
        return E.Aal5ClosedError(vpi, vci, offset=cells * CELL_PAYLOAD, field="CPCS-PDU",
                                 reason=f"VC closed with {cells} cells of a PDU held", **common)
    raise FieldError("error kind", kind, "a known AAL5 error kind")


