"""What the AAL5 receiver reports: its counters, its error records, and the SDUs it delivers.

Shared by the numba kernel (hw.aal5.rx_kernel) and its plain twin (hw.aal5.rx_twin): both count in
one int64 array indexed by the constants here, and both describe each discarded CPCS-PDU by an error
record ``(kind, key, slot, cells, a, b, c)`` that :func:`error_object` turns into a typed error.
"""

from __future__ import annotations

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


class Reassembled:
    """What one call to :meth:`Reassembler.feed` produced: the SDUs and one typed error per discarded
    PDU. No object per frame unless you iterate, and no array until you read one.

    Frames are kept as the engine wrote them, one row per frame (offset, length, key = VPI << 16 | VCI,
    CPCS-UU, CPI, slot of the last cell, cells), with the SDUs end to end in ``data``. The columns
    (``offsets``, ``lengths``, ``vpi``, ``vci``, ``uu``, ``cpi``, ``slot``, ``cells``: int64 arrays) are
    made on first reading. The small-batch path of the receiver gives its rows as a list and its SDUs as
    ``bytes``, so a one-frame result costs no numpy call unless a column is read; iterate
    (:class:`Sdu` per frame) or use :meth:`sdu` to stay on Python values."""

    __slots__ = ("_fr", "_data", "_sdus", "_cols", "errors", "error_records")

    def __init__(self, fr, data=None, sdus: list[bytes] | None = None, errors: list | None = None,
                 error_records: np.ndarray | None = None) -> None:
        self._fr = fr  # (n, 7) int64 array, or a list of n 7-tuples of ints
        self._data = data  # uint8 array of the SDUs end to end (None: made from ``sdus``)
        self._sdus = sdus  # the SDUs as bytes, when the engine made them so
        self._cols: dict[str, np.ndarray] | None = None
        self.errors = [] if errors is None else errors
        self.error_records = _ZE if error_records is None else error_records

    def __len__(self) -> int:
        fr = self._fr
        return len(fr) if fr.__class__ is list else int(fr.shape[0])

    def __repr__(self) -> str:
        return f"<Reassembled {len(self)} frames, {len(self.errors)} errors>"

    def _column(self, name: str) -> np.ndarray:
        cols = self._cols
        if cols is None:
            fr = self._fr
            table = np.array(fr, np.int64).reshape(-1, 7) if fr.__class__ is list else fr
            rows = table.T.copy()  # one copy, then views of its rows
            key = rows[2]
            cols = self._cols = {"offsets": rows[0], "lengths": rows[1], "vpi": key >> 16, "vci": key & 0xFFFF,
                                 "uu": rows[3], "cpi": rows[4], "slot": rows[5], "cells": rows[6]}
        return cols[name]

    offsets = property(lambda self: self._column("offsets"), doc="offset of each SDU in ``data`` (int64)")
    lengths = property(lambda self: self._column("lengths"), doc="length of each SDU (int64)")
    vpi = property(lambda self: self._column("vpi"), doc="VPI of each frame (int64)")
    vci = property(lambda self: self._column("vci"), doc="VCI of each frame (int64)")
    uu = property(lambda self: self._column("uu"), doc="CPCS-UU of each frame (int64)")
    cpi = property(lambda self: self._column("cpi"), doc="CPI of each frame (int64)")
    slot = property(lambda self: self._column("slot"), doc="slot of the cell that completed each frame")
    cells = property(lambda self: self._column("cells"), doc="cells of each frame's CPCS-PDU")

    @property
    def data(self) -> np.ndarray:
        """The SDUs end to end (uint8)."""
        if self._data is None:
            sdus = self._sdus
            self._data = np.frombuffer(b"".join(sdus), np.uint8) if sdus else _ZU8
        return self._data

    def sdu(self, i: int) -> bytes:
        if self._sdus is not None:
            return self._sdus[i]
        fr = self._fr
        if fr.__class__ is list:
            o, n = fr[i][0], fr[i][1]
        else:
            o, n = int(fr[i, 0]), int(fr[i, 1])
        return self._data[o: o + n].tobytes()

    def __iter__(self) -> Iterator[Sdu]:
        fr = self._fr
        rows = fr if fr.__class__ is list else fr.tolist()
        for i, (_, _, key, uu, cpi, slot, cells) in enumerate(rows):
            yield Sdu(key >> 16, key & 0xFFFF, self.sdu(i), uu, cpi, slot, cells)


def frames_from(data: np.ndarray, fr: np.ndarray, errs: np.ndarray) -> Reassembled:
    """The result of a run from its frame rows (offset, length, key, UU, CPI, slot, cells) and error
    records; ``fr`` and ``errs`` are copied (the engines reuse their buffers)."""
    if not errs.shape[0]:
        if not fr.shape[0]:
            return empty_result()
        return Reassembled(fr.copy(), data)
    errs = errs.copy()
    return Reassembled(fr.copy(), data, None, [error_object(r) for r in errs], errs)


_Z = np.zeros(0, np.int64)
_Z.setflags(write=False)
_ZU8 = np.zeros(0, np.uint8)
_ZU8.setflags(write=False)
_ZE = np.zeros((0, 7), np.int64)
_ZE.setflags(write=False)
_NO_ROWS = np.zeros((0, 7), np.int64)
_NO_ROWS.setflags(write=False)


def empty_result() -> Reassembled:
    """No frame and no error (read-only empty arrays, shared)."""
    return Reassembled(_NO_ROWS, _ZU8, None, [], _ZE)


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


