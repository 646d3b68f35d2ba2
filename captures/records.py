"""SunATM and ERF records as raw bytes: the fast writers (and the bulk cell reader) of the two ATM
link types that captures use.

The scapy layers in ``captures/linktypes/`` are the definition of these formats for dissection; this
module builds the same octets without a Python object per record, and tests prove the two agree.

LINKTYPE_SUNATM (123), after libpcap's link-type list and Wireshark's ``wiretap/pcap-common.c``: a
4-octet pseudo-header, then one reassembled AAL5 SDU (no AAL5 pad or trailer)::

    octet 0    0x80 = DTE->DCE (sent by the user side) | low nibble: traffic type (6 = Q.2931 / QSAAL)
    octet 1    VPI
    octets 2-3 VCI, big-endian

LINKTYPE_ERF (197), the Endace Extensible Record Format (Endace's "ERF types" reference, as decoded
by Wireshark's ``packet-erf.c``): a 16-octet record header, then the record body::

    0  timestamp  u64 little-endian, 32.32 fixed-point seconds since 1970
    8  type       bit 7 = an extension header follows; 3 = ATM cell, 4 = AAL5 PDU
    9  flags      bits 0-1 capture interface, 0x04 varlen, 0x08 truncated, 0x10 rx error
    10 rlen       u16 big-endian, the record's length including this header
    12 lctr       u16 big-endian, loss counter
    14 wlen       u16 big-endian, the length on the wire of what follows the header

Type 3 carries one cell as its 4 header octets without the HEC and its 48 payload octets (52 octets,
rlen 68); type 4 carries a 4-octet cell header and the whole AAL5 CPCS-PDU (I.363.5: SDU, pad, UU,
CPI, Length, CRC-32). Records written here set ``varlen`` (no padding after the body) and
``wlen = rlen - 16``.

ERF timestamps from nanoseconds (documented rounding): with ``s = ns // 10**9`` and
``r = ns % 10**9``, the fraction is ``(r << 32) // 10**9``: r * 2^32 / 10^9 rounded down, as Endace's
libraries and the scapy layer (``captures.linktypes.erf.erf_timestamp``) do, so the octets agree. It
never reaches 2^32 (r <= 999,999,999). Back to nanoseconds, ``(frac * 10**9 + 2**31) >> 32``
rounds to nearest, as Wireshark does. A unit of 2^-32 s (0.23 ns) is finer than a nanosecond: the
way in loses less than 0.24 ns, so the way back lands on the same nanosecond, and ns -> ERF -> ns
is exact for every timestamp the format can hold (0 <= ns < 2^32 s).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from captures.errors import BadFieldError, CaptureFieldError
from hw.cell import CELL_OCTETS, HEADER_OCTETS, PAYLOAD_OCTETS, stamp_hec

# Link types of the pcap/pcapng LinkType registry (draft-ietf-opsawg-pcaplinktype).
LINKTYPE_SUNATM = 123
LINKTYPE_ERF = 197

NS_PER_S = 1_000_000_000

# ---------------------------------------------------------------------------------------- SunATM
SUNATM_HEADER_OCTETS = 4
SUNATM_DTE_TO_DCE = 0x80
SUNATM_TYPE_LANE = 1
SUNATM_TYPE_LLC = 2
SUNATM_TYPE_MARS = 3
SUNATM_TYPE_IFMP = 4
SUNATM_TYPE_ILMI = 5
SUNATM_TYPE_QSAAL = 6  # Q.2931 signalling over the SAAL: Wireshark hands it to SSCOP -> Q.2931
AAL5_MAX_SDU_OCTETS = 65535  # I.363.5: the CPCS-PDU Length field is 16 bits

_SUNATM_HEADER = struct.Struct(">BBH")


def sunatm_record(
    direction_dte_to_dce: bool, vpi: int, vci: int, sdu: bytes, type: int = SUNATM_TYPE_QSAAL
) -> bytes:
    """One LINKTYPE_SUNATM record: the pseudo-header, then the AAL5 SDU as it is.

    ``direction_dte_to_dce`` is True for what the user side (the adapter, DTE) sent towards the
    network (DCE); ``type`` is the traffic type nibble (6 for Q.2931 signalling)."""
    if not 0 <= vpi <= 0xFF:
        raise CaptureFieldError("vpi", vpi, "0..255 (SunATM keeps one octet of VPI)")
    if not 0 <= vci <= 0xFFFF:
        raise CaptureFieldError("vci", vci, "0..65535")
    if not 0 <= type <= 0x0F:
        raise CaptureFieldError("type", type, "a traffic type 0..15")
    if len(sdu) > AAL5_MAX_SDU_OCTETS:
        raise CaptureFieldError("sdu", f"{len(sdu)} octets", f"at most {AAL5_MAX_SDU_OCTETS} octets (I.363.5)")
    first = (SUNATM_DTE_TO_DCE if direction_dte_to_dce else 0) | type
    return _SUNATM_HEADER.pack(first, vpi, vci) + bytes(sdu)


# ------------------------------------------------------------------------------------------- ERF
ERF_HEADER_OCTETS = 16
ERF_TYPE_ATM = 3
ERF_TYPE_AAL5 = 4
ERF_TYPE_EXTENSION = 0x80  # bit 7 of the type octet: an 8-octet extension header follows
ERF_FLAG_INTERFACE = 0x03
ERF_FLAG_VARLEN = 0x04
ERF_FLAG_TRUNCATED = 0x08
ERF_FLAG_RX_ERROR = 0x10
ERF_CELL_OCTETS = 4 + PAYLOAD_OCTETS  # header without HEC + payload
ERF_CELL_RECORD_OCTETS = ERF_HEADER_OCTETS + ERF_CELL_OCTETS  # 68
ERF_MAX_RECORD_OCTETS = 0xFFFF  # rlen is 16 bits
ERF_MAX_AAL5_PDU_OCTETS = ERF_MAX_RECORD_OCTETS - ERF_HEADER_OCTETS - 4
ERF_MAX_TIME_NS = (1 << 32) * NS_PER_S  # exclusive: the seconds part is 32 bits
_MASK32 = (1 << 32) - 1
_U64 = np.uint64

_ERF_HEADER = struct.Struct("<QBB")
_ERF_LENGTHS = struct.Struct(">HHH")


def erf_timestamp(time_ns: int) -> int:
    """ERF 32.32 fixed-point timestamp of a time in nanoseconds (fraction rounded down, see above)."""
    if not 0 <= time_ns < ERF_MAX_TIME_NS:
        raise CaptureFieldError("time_ns", time_ns, "0 <= time_ns < 2**32 s (ERF keeps 32 bits of seconds)")
    seconds, rest = divmod(time_ns, NS_PER_S)
    return (seconds << 32) | ((rest << 32) // NS_PER_S)


def erf_timestamp_to_ns(timestamp: int) -> int:
    """Nanoseconds of an ERF 32.32 timestamp, rounded to nearest (the inverse of erf_timestamp)."""
    return (timestamp >> 32) * NS_PER_S + (((timestamp & _MASK32) * NS_PER_S + (1 << 31)) >> 32)


def erf_timestamps(times_ns) -> np.ndarray:
    """Vectorised :func:`erf_timestamp`: uint64 32.32 timestamps of an integer array of nanoseconds."""
    times = np.asarray(times_ns)
    n = times.shape[0] if times.ndim == 1 else -1
    return _erf_timestamps(checked_times(times, n, ERF_MAX_TIME_NS, "ERF keeps 32 bits of seconds"))


def _erf_timestamps(times: np.ndarray) -> np.ndarray:
    t = times.astype(_U64, copy=False)
    seconds = t // _U64(NS_PER_S)
    frac = ((t - seconds * _U64(NS_PER_S)) << _U64(32)) // _U64(NS_PER_S)
    return (seconds << _U64(32)) | frac


def erf_timestamps_to_ns(timestamps: np.ndarray) -> np.ndarray:
    """Vectorised :func:`erf_timestamp_to_ns`: int64 nanoseconds of uint64 32.32 timestamps."""
    ts = np.asarray(timestamps, dtype=_U64)
    frac_ns = ((ts & _U64(_MASK32)) * _U64(NS_PER_S) + _U64(1 << 31)) >> _U64(32)
    return ((ts >> _U64(32)) * _U64(NS_PER_S) + frac_ns).astype(np.int64)  # < 2**32 * 10**9 + 10**9 < 2**63


def _check_interface(interface: int) -> None:
    if not 0 <= interface <= ERF_FLAG_INTERFACE:
        raise CaptureFieldError("interface", interface, "an ERF capture interface 0..3 (flags bits 0-1)")


def erf_header(type: int, time_ns: int, body_octets: int, *, interface: int = 0, lctr: int = 0) -> bytes:
    """The 16-octet ERF record header of a record whose body (after the header) has ``body_octets``:
    varlen set, rlen = 16 + body, wlen = body."""
    _check_interface(interface)
    rlen = ERF_HEADER_OCTETS + body_octets
    if body_octets < 0 or rlen > ERF_MAX_RECORD_OCTETS:
        raise CaptureFieldError("rlen", rlen, f"at most {ERF_MAX_RECORD_OCTETS} octets (16-bit field)")
    if not 0 <= lctr <= 0xFFFF:
        raise CaptureFieldError("lctr", lctr, "0..65535")
    flags = ERF_FLAG_VARLEN | interface
    return _ERF_HEADER.pack(erf_timestamp(time_ns), type, flags) + _ERF_LENGTHS.pack(rlen, lctr, body_octets)


def erf_aal5_record(cell_header4: bytes, cpcs_pdu: bytes, time_ns: int, *, interface: int = 0) -> bytes:
    """One ERF type 4 (AAL5) record: header, the 4 cell-header octets (no HEC), the whole CPCS-PDU."""
    if len(cell_header4) != 4:
        raise CaptureFieldError("cell_header4", bytes(cell_header4), "the 4 cell header octets, without the HEC")
    if len(cpcs_pdu) > ERF_MAX_AAL5_PDU_OCTETS:
        raise CaptureFieldError(
            "cpcs_pdu", f"{len(cpcs_pdu)} octets", f"at most {ERF_MAX_AAL5_PDU_OCTETS} octets (ERF rlen is 16 bits)"
        )
    header = erf_header(ERF_TYPE_AAL5, time_ns, 4 + len(cpcs_pdu), interface=interface)
    return header + bytes(cell_header4) + bytes(cpcs_pdu)


def erf_cell_record(cell: bytes, time_ns: int, *, interface: int = 0) -> bytes:
    """One ERF type 3 record of one 53-octet cell (the HEC is not kept)."""
    if len(cell) != CELL_OCTETS:
        raise CaptureFieldError("cell", f"{len(cell)} octets", f"{CELL_OCTETS} octets")
    header = erf_header(ERF_TYPE_ATM, time_ns, ERF_CELL_OCTETS, interface=interface)
    return header + bytes(cell[:4]) + bytes(cell[HEADER_OCTETS:])


def erf_cell_records(cells, times_ns, interface: int = 0, out: np.ndarray | None = None) -> np.ndarray:
    """ERF type 3 records of many cells at once, vectorised: a (n, 68) uint8 array, row i the record of
    ``cells[i]`` (shape (n, 53), uint8) at ``times_ns[i]``. With ``out`` (any (n, 68) uint8 view, for
    example the record columns of a block of pcapng EPBs) the rows are written there in place."""
    _check_interface(interface)
    cells = np.asarray(cells)
    if cells.dtype != np.uint8 or cells.ndim != 2 or cells.shape[1] != CELL_OCTETS:
        raise CaptureFieldError("cells", f"{cells.dtype} array of shape {cells.shape}",
                                f"uint8 array of shape (n, {CELL_OCTETS})")
    n = cells.shape[0]
    ts = _erf_timestamps(checked_times(times_ns, n, ERF_MAX_TIME_NS, "ERF keeps 32 bits of seconds"))
    if out is None:
        out = np.empty((n, ERF_CELL_RECORD_OCTETS), dtype=np.uint8)
    elif out.dtype != np.uint8 or out.shape != (n, ERF_CELL_RECORD_OCTETS):
        raise CaptureFieldError("out", f"{out.dtype} array of shape {out.shape}", f"uint8 array of shape ({n}, 68)")
    # The 8 octets after the timestamp are the same in every record: type, flags, rlen, lctr, wlen.
    tail = bytes((ERF_TYPE_ATM, ERF_FLAG_VARLEN | interface)) + _ERF_LENGTHS.pack(
        ERF_CELL_RECORD_OCTETS, 0, ERF_CELL_OCTETS)
    out[:, 0:8] = ts.astype("<u8", copy=False).view(np.uint8).reshape(n, 8)
    out[:, 8:16] = np.frombuffer(tail, dtype=np.uint8)
    out[:, 16:20] = cells[:, 0:4]
    out[:, 20:68] = cells[:, HEADER_OCTETS:]
    return out


class ErfCells(NamedTuple):
    """Cells recovered from ERF type 3 records."""

    cells: np.ndarray  # (n, 53) uint8, the HEC recomputed (I.432 4.3.2)
    time_ns: np.ndarray  # (n,) int64, from the ERF timestamps
    interface: np.ndarray  # (n,) uint8, ERF flags bits 0-1


def erf_cells_from_records(records: np.ndarray) -> ErfCells:
    """Cells of a (n, L) uint8 array of ERF type 3 records (L >= 68, one record a row, as the capture
    reader's batches hold them), vectorised. Refuses, with :class:`BadFieldError` whose offset is the
    octet offset in ``records`` (row * L + field), a row that is not a plain ATM cell record."""
    records = np.asarray(records)
    if records.dtype != np.uint8 or records.ndim != 2:
        raise CaptureFieldError("records", f"{records.dtype} array of shape {records.shape}", "a 2-D uint8 array")
    n, width = records.shape
    what = "ERF cell record"
    if n and width < ERF_CELL_RECORD_OCTETS:
        raise BadFieldError(what, 0, "length", f"{width} octets, a cell record holds {ERF_CELL_RECORD_OCTETS}")
    types = records[:, 8]
    bad = np.flatnonzero(types != ERF_TYPE_ATM)
    if bad.size:
        row, t = int(bad[0]), int(types[bad[0]])
        why = "an extension header follows (not supported)" if t & ERF_TYPE_EXTENSION else f"type {t}"
        raise BadFieldError(what, row * width + 8, "type", f"{why}, expected {ERF_TYPE_ATM} (ATM cell)")
    rlen = (records[:, 10].astype(np.uint16) << 8) | records[:, 11]
    bad = np.flatnonzero(rlen < ERF_CELL_RECORD_OCTETS)
    if bad.size:
        row = int(bad[0])
        raise BadFieldError(what, row * width + 10, "rlen",
                            f"{int(rlen[row])}, a cell record holds {ERF_CELL_RECORD_OCTETS}")
    cells = np.empty((n, CELL_OCTETS), dtype=np.uint8)
    cells[:, 0:4] = records[:, 16:20]
    cells[:, HEADER_OCTETS:] = records[:, 20:68]
    stamp_hec(cells)  # ERF does not keep the HEC: recompute it (I.432 4.3.2)
    ts = np.ascontiguousarray(records[:, 0:8]).view("<u8").reshape(n)
    return ErfCells(cells, erf_timestamps_to_ns(ts), records[:, 9] & np.uint8(ERF_FLAG_INTERFACE))


# --------------------------------------------------------------------- bulk arguments of the writers
def checked_times(times_ns, n: int, limit: int, what: str) -> np.ndarray:
    """``times_ns`` as an integer array of shape (n,) whose values are in [0, limit), not copied:
    callers convert it to uint64 chunk by chunk, so no copy of a long input is made at once."""
    times = np.asarray(times_ns)
    if times.shape != (n,) or times.dtype.kind not in "iu":
        raise CaptureFieldError("times_ns", f"{times.dtype} array of shape {times.shape}",
                                f"an integer array of shape ({n},)")
    if n and (int(times.min()) < 0 or int(times.max()) >= limit):
        raise CaptureFieldError("times_ns", f"{int(times.min())}..{int(times.max())}",
                                f"0 <= time_ns < {limit} ({what})")
    return times


def checked_orig_lengths(orig_len, n: int, length: int) -> int | np.ndarray:
    """Original lengths of n packets of ``length`` captured octets: None (= length), an int, or an
    integer array of shape (n,); each at least ``length`` and at most 2^32 - 1."""
    if orig_len is None:
        return length
    origs = np.asarray(orig_len)
    if origs.dtype.kind not in "iu" or origs.shape not in ((), (n,)):
        raise CaptureFieldError("orig_len", f"{origs.dtype} of shape {origs.shape}",
                                f"an int or an integer array of shape ({n},)")
    if origs.size and (int(origs.min()) < length or int(origs.max()) > 0xFFFFFFFF):
        raise CaptureFieldError("orig_len", f"{int(origs.min())}..{int(origs.max())}",
                                f"{length}..2**32-1 (at least the packets' captured length)")
    return origs
