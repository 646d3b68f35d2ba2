"""AAL5 segmentation (ITU-T I.363.5 clause 9.1, SAR sublayer; I.361 for the cell header).

The CPCS-PDU is cut into 48-octet cell payloads, in order; every cell gets the VC's header with
PTI = 000 except the last one, which carries ATM-user-to-ATM-user indication AUU = 1 (PTI = 001,
I.363.5 9.1.2.1 / I.361 2.2.4): that bit is how the receiver finds the end of the PDU.

Many frames are segmented at once into one (total, 53) uint8 array by :func:`segment_kernel`, which
builds each PDU in place inside the cell rows (pad, trailer, CRC-32 computed cell by cell as a SAR
engine does) with :func:`segment_frame_kernel`, the one-frame kernel that :func:`segment` calls
directly; :func:`segment_batch_twin` is their plain-Python twin: it builds each PDU as ``bytes`` with
the bytewise CRC, cuts it and stamps headers with :func:`hw.cell.hec`.
"""

from __future__ import annotations

from typing import Sequence

import numba as nb
import numpy as np

from hw.aal5.cpcs import CELL_PAYLOAD, MAX_SDU, TRAILER_OCTETS, check_octet, check_sdu_length
from hw.aal5.crc import as_octets, crc32_twin, crc32_update
from hw.cell import hec, hec_of
from hw.errors import FieldError

CELL_OCTETS = 53
HEADER_OCTETS = 5
#: PTI bit 0 (AUU, "SDU type") seen in header octet 3: PTI occupies bits 3..1 of that octet.
AUU_BIT = 0x02

UNI_MAX_VPI = 0xFF
NNI_MAX_VPI = 0xFFF
MAX_VCI = 0xFFFF


# --------------------------------------------------------------------------------------------------
# argument checks (shared with the reassembler)


def per_frame(name: str, value, n: int, lo: int, hi: int) -> np.ndarray:
    """``value`` (one integer, or a sequence of ``n``) as an int64 array of ``n``, each in ``lo..hi``;
    a FieldError names the field, and the index of the first bad value of a sequence."""
    arr = np.asarray(value)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer) or arr.ndim not in (0, 1):
        raise FieldError(name, value, f"an integer {lo}..{hi}, or {n} of them")
    if arr.ndim == 0:
        if not lo <= int(arr) <= hi:
            raise FieldError(name, int(arr), f"{lo}..{hi}")
        return np.full(n, int(arr), dtype=np.int64)
    if arr.shape != (n,):
        raise FieldError(name, f"{arr.shape[0]} values", f"one value or {n} (one per frame)")
    arr = arr.astype(np.int64)
    bad = np.flatnonzero((arr < lo) | (arr > hi))
    if bad.size:
        i = int(bad[0])
        raise FieldError(f"{name}[{i}]", int(arr[i]), f"{lo}..{hi}")
    return arr


def max_vpi(nni: bool) -> int:
    return NNI_MAX_VPI if nni else UNI_MAX_VPI


def header_octets_py(vpi: int, vci: int, pti: int, clp: int) -> bytes:
    """Five header octets (GFC = 0): UNI GFC(4) VPI(8) VCI(16) PTI(3) CLP(1) HEC(8); with GFC = 0 the
    octets of a UNI header are those of an NNI header with the same VPI (I.361 2.1)."""
    b0 = (vpi >> 4) & 0xFF
    b1 = ((vpi & 0xF) << 4) | (vci >> 12)
    b2 = (vci >> 4) & 0xFF
    b3 = ((vci & 0xF) << 4) | (pti << 1) | clp
    head = bytes((b0, b1, b2, b3))
    return head + bytes((hec(head),))


# --------------------------------------------------------------------------------------------------
# the kernel


@nb.njit(cache=True, nogil=True)
def segment_frame_kernel(buf, s, n, vpi, vci, clp, uu, cpi, out, c0):
    """Segment one frame (``buf[s:s+n]``) into rows ``c0`` on of ``out`` (shape (total, 53)). The
    CPCS-PDU is built inside the cell payloads: SDU, zero pad, trailer, and the CRC-32 run cell by cell
    over the payloads."""
    ncells = (n + TRAILER_OCTETS + CELL_PAYLOAD - 1) // CELL_PAYLOAD
    h0 = np.uint8((vpi >> 4) & 0xFF)
    h1 = np.uint8(((vpi & 0xF) << 4) | ((vci >> 12) & 0xF))
    h2 = np.uint8((vci >> 4) & 0xFF)
    h3 = np.uint8(((vci & 0xF) << 4) | (clp & 1))
    hec_body = hec_of(h0, h1, h2, h3)
    h3_last = np.uint8(h3 | AUU_BIT)
    hec_last = hec_of(h0, h1, h2, h3_last)
    reg = np.uint32(0xFFFFFFFF)
    for k in range(ncells):
        row = out[c0 + k]
        row[0] = h0
        row[1] = h1
        row[2] = h2
        pos = k * CELL_PAYLOAD
        take = n - pos
        if take > CELL_PAYLOAD:
            take = CELL_PAYLOAD
        if take < 0:
            take = 0
        for b in range(take):
            row[HEADER_OCTETS + b] = buf[s + pos + b]
        for b in range(HEADER_OCTETS + take, CELL_OCTETS):
            row[b] = 0
        if k < ncells - 1:
            row[3] = h3
            row[4] = hec_body
            reg = crc32_update(reg, row, HEADER_OCTETS, CELL_OCTETS)
        else:
            row[3] = h3_last
            row[4] = hec_last
            row[45] = uu
            row[46] = cpi
            row[47] = (n >> 8) & 0xFF
            row[48] = n & 0xFF
            reg = crc32_update(reg, row, HEADER_OCTETS, CELL_OCTETS - 4) ^ np.uint32(0xFFFFFFFF)
            row[49] = (reg >> 24) & 0xFF
            row[50] = (reg >> 16) & 0xFF
            row[51] = (reg >> 8) & 0xFF
            row[52] = reg & 0xFF


@nb.njit(cache=True, nogil=True)
def segment_kernel(buf, offsets, lengths, vpi, vci, clp, uu, cpi, first_cell, out):
    """Segment frame j (``buf[offsets[j]:offsets[j]+lengths[j]]``) into rows ``first_cell[j]`` on of
    ``out`` (shape (total, 53)), each by :func:`segment_frame_kernel`."""
    for j in range(offsets.shape[0]):
        segment_frame_kernel(buf, offsets[j], lengths[j], vpi[j], vci[j], clp[j], uu[j], cpi[j], out,
                             first_cell[j])


# --------------------------------------------------------------------------------------------------
# public API


def pack_sdus(sdus: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lay SDUs end to end in one flat uint8 buffer; returns (buf, offsets, lengths)."""
    lengths = np.array([len(s) for s in sdus], dtype=np.int64)
    offsets = np.zeros(len(sdus), dtype=np.int64)
    if len(sdus) > 1:
        np.cumsum(lengths[:-1], out=offsets[1:])
    buf = np.frombuffer(b"".join(bytes(s) for s in sdus), dtype=np.uint8)
    return buf, offsets, lengths


class _Frames:
    """Checked, broadcast arguments of a batch segmentation."""

    def __init__(self, buf, offsets, lengths, vpi, vci, clp, uu, cpi, nni) -> None:
        self.buf = as_octets(buf, "buf")
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        self.lengths = np.ascontiguousarray(lengths, dtype=np.int64)
        if self.offsets.ndim != 1 or self.offsets.shape != self.lengths.shape:
            raise FieldError("offsets/lengths", (self.offsets.shape, self.lengths.shape), "two 1-D arrays of the same length")
        n = self.offsets.shape[0]
        if n:
            too_long = np.flatnonzero(self.lengths > MAX_SDU)
            if too_long.size:
                check_sdu_length(int(self.lengths[too_long[0]]), f"lengths[{int(too_long[0])}]")
            bad = np.flatnonzero((self.offsets < 0) | (self.lengths < 0) | (self.offsets + self.lengths > self.buf.shape[0]))
            if bad.size:
                i = int(bad[0])
                raise FieldError(f"frame[{i}]", (int(self.offsets[i]), int(self.lengths[i])),
                                 f"offset and length inside a buffer of {self.buf.shape[0]} octets")
        self.vpi = per_frame("vpi", vpi, n, 0, max_vpi(nni))
        self.vci = per_frame("vci", vci, n, 0, MAX_VCI)
        self.clp = per_frame("clp", clp, n, 0, 1)
        self.uu = per_frame("CPCS-UU", uu, n, 0, 0xFF)
        self.cpi = per_frame("CPI", cpi, n, 0, 0xFF)
        self.ncells = (self.lengths + TRAILER_OCTETS + CELL_PAYLOAD - 1) // CELL_PAYLOAD
        self.first_cell = np.zeros(n, dtype=np.int64)
        if n > 1:
            np.cumsum(self.ncells[:-1], out=self.first_cell[1:])
        self.total = int(self.ncells.sum())


def segment_batch(buf, offsets, lengths, vpi, vci, clp=0, *, uu=0, cpi=0, nni: bool = False) -> np.ndarray:
    """Segment many SDUs (frame j is ``buf[offsets[j]:offsets[j]+lengths[j]]``) into one (total, 53)
    uint8 array, frames one after another. ``vpi``, ``vci``, ``clp``, ``uu``, ``cpi`` are scalars or one
    value per frame. ``nni`` allows 12-bit VPIs (NNI header; GFC is always 0)."""
    f = _Frames(buf, offsets, lengths, vpi, vci, clp, uu, cpi, nni)
    out = np.empty((f.total, CELL_OCTETS), dtype=np.uint8)
    segment_kernel(f.buf, f.offsets, f.lengths, f.vpi, f.vci, f.clp, f.uu, f.cpi, f.first_cell, out)
    return out


def segment_batch_twin(buf, offsets, lengths, vpi, vci, clp=0, *, uu=0, cpi=0, nni: bool = False) -> np.ndarray:
    """Plain-Python twin of :func:`segment_batch`: PDU as bytes, bytewise CRC, cut, header per cell."""
    f = _Frames(buf, offsets, lengths, vpi, vci, clp, uu, cpi, nni)
    raw = f.buf.tobytes()
    cells = bytearray()
    for j in range(f.offsets.shape[0]):
        o, n = int(f.offsets[j]), int(f.lengths[j])
        body = raw[o: o + n]
        pad = int(f.ncells[j]) * CELL_PAYLOAD - n - TRAILER_OCTETS
        pdu = body + bytes(pad) + bytes((int(f.uu[j]), int(f.cpi[j]))) + n.to_bytes(2, "big")
        pdu += crc32_twin(pdu).to_bytes(4, "big")
        last = len(pdu) // CELL_PAYLOAD - 1
        for k in range(last + 1):
            pti = 1 if k == last else 0
            cells += header_octets_py(int(f.vpi[j]), int(f.vci[j]), pti, int(f.clp[j]))
            cells += pdu[k * CELL_PAYLOAD: (k + 1) * CELL_PAYLOAD]
    return np.frombuffer(bytes(cells), dtype=np.uint8).reshape(-1, CELL_OCTETS).copy()


def _plain(value, hi: int) -> bool:
    """``value`` is a plain int (not a bool, not a sequence) in 0..hi: no per_frame check needed."""
    return value.__class__ is int and 0 <= value <= hi


def segment(sdu, vpi: int, vci: int, clp: int = 0, *, uu: int = 0, cpi: int = 0, nni: bool = False) -> np.ndarray:
    """Cells (n, 53) uint8 carrying one SDU on VPI/VCI: AUU on the last cell, HEC on every header.

    One frame costs one allocation and one kernel call: with plain ints in range (the usual case) the
    batch machinery is skipped; anything else (numpy integers, out-of-range values, wrong types) takes
    the checked batch path, with the same result or the same FieldError."""
    octets = as_octets(sdu, "sdu")
    n = octets.shape[0]
    if (n <= MAX_SDU and _plain(vpi, NNI_MAX_VPI if nni else UNI_MAX_VPI) and _plain(vci, MAX_VCI)
            and _plain(clp, 1) and _plain(uu, 0xFF) and _plain(cpi, 0xFF)):
        out = np.empty(((n + TRAILER_OCTETS + CELL_PAYLOAD - 1) // CELL_PAYLOAD, CELL_OCTETS), dtype=np.uint8)
        segment_frame_kernel(octets, 0, n, vpi, vci, clp, uu, cpi, out, 0)
        return out
    check_sdu_length(n)
    check_octet("CPCS-UU", uu)
    check_octet("CPI", cpi)
    return segment_batch(octets, np.zeros(1, np.int64), np.array([n], np.int64), vpi, vci, clp,
                         uu=uu, cpi=cpi, nni=nni)
