"""pcapng: the format's constants, its timestamp resolutions, and the writer.

Format: PCAP Now Generic, draft-ietf-opsawg-pcapng ("the draft" below). A file written here is::

    SHB (section 4.1) | IDB (4.2) per link, written when the link is added | EPB (4.3) per packet

Every block has the general structure of section 3.1 (type, total length, body padded to 32 bits,
total length again); options follow section 3.5 (code, length, value padded to 32 bits, and an
opt_endofopt closing each list). One Interface Description Block per link, named after the link's
ends (:func:`link_name`), with ``if_tsresol`` = 9 so that EPB timestamps count nanoseconds of the
virtual clock. Blocks go straight to the file (a buffered writer): nothing accumulates in memory,
and many cells are written as one buffer of EPBs built with numpy (:meth:`PcapngWriter.write_erf_cells`).

Byte order: little-endian by default; ``byteorder=">"`` writes a big-endian section (section 3.6.1
lets each section choose; the reader reads both).
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, Iterable, NamedTuple

import numpy as np

from captures.errors import CaptureFieldError
from captures.records import (
    ERF_CELL_RECORD_OCTETS,
    ERF_MAX_TIME_NS,
    LINKTYPE_ERF,
    NS_PER_S,
    checked_orig_lengths,
    checked_times,
    erf_cell_records,
)
from captures.stream import StreamWriter, check_byteorder

# Block types (section 10.1 of the draft; Packet Block: appendix A).
BLOCK_SHB = 0x0A0D0D0A
BLOCK_IDB = 0x00000001
BLOCK_PB = 0x00000002  # obsolete Packet Block
BLOCK_SPB = 0x00000003
BLOCK_NRB = 0x00000004
BLOCK_ISB = 0x00000005
BLOCK_EPB = 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D  # section 4.1
VERSION_MAJOR, VERSION_MINOR = 1, 0

# Option codes (section 3.5: common; 4.1: SHB; 4.2: IDB).
OPT_ENDOFOPT = 0
OPT_COMMENT = 1
SHB_HARDWARE = 2
SHB_OS = 3
SHB_USERAPPL = 4
IF_NAME = 2
IF_DESCRIPTION = 3
IF_TSRESOL = 9
IF_TSOFFSET = 14
# Interface Statistics Block options (section 4.6).
ISB_STARTTIME = 2
ISB_ENDTIME = 3
ISB_IFRECV = 4
ISB_IFDROP = 5
ISB_FILTERACCEPT = 6
ISB_OSDROP = 7
ISB_USRDELIV = 8

#: if_tsresol of every interface written here: 10^-9 s, timestamps count nanoseconds (section 4.2).
TSRESOL_NS = 9
#: if_tsresol when the option is absent: 10^-6 s (section 4.2).
TSRESOL_DEFAULT = 6
#: Minimum Block Total Length of each block type: its fixed fields plus the 12 octets of section 3.1.
MIN_BLOCK_OCTETS = {BLOCK_SHB: 28, BLOCK_IDB: 20, BLOCK_PB: 32, BLOCK_SPB: 16, BLOCK_ISB: 24, BLOCK_EPB: 32}
GENERAL_MIN_BLOCK_OCTETS = 12
EPB_HEADER_OCTETS = 28  # type, length, interface, timestamp (2 words), captured and original lengths

#: The longest packet (captured length) that the writers accept and the reader reads: 256 KiB, the
#: largest snap length libpcap and Wireshark use (libpcap's MAXIMUM_SNAPLEN).
MAX_RECORD_OCTETS = 256 * 1024
#: The longest block that the reader parses (packet data plus fixed fields and options). Blocks the
#: reader only skips are checked against the file's size instead.
MAX_BLOCK_OCTETS = MAX_RECORD_OCTETS + 64 * 1024

#: Packets per numpy chunk in the bulk writers: 400 KiB of cell EPBs, which stay in cache (faster
#: than larger chunks) and bound the writers' scratch memory.
BULK_CHUNK_RECORDS = 1 << 12

_MAX_OPTION_OCTETS = 0xFFFF  # Option Length is 16 bits
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_U64_MAX = (1 << 64) - 1


def pad4(n: int) -> int:
    """``n`` rounded up to a multiple of 4 (the 32-bit padding of sections 3.1 and 3.5)."""
    return (n + 3) & ~3


def link_name(end_a: str, end_b: str) -> str:
    """The if_name of a link's interface, after its two ends: ``link_name("adapter0", "switch.port0")``
    is ``"adapter0<->switch.port0"``."""
    return f"{end_a}<->{end_b}"


# ------------------------------------------------------------------------- timestamp resolutions
class TimeResolution:
    """Timestamps of one interface in nanoseconds (section 4.2: if_tsresol, if_tsoffset; 4.3).

    ``if_tsresol`` with the top bit clear is a negative power of 10, with it set a negative power of 2;
    ``if_tsoffset`` seconds are added. :meth:`ns` is exact integer arithmetic: exact for resolutions of
    1 ns or coarser, rounded down for finer ones. Only times that fit an int64 of nanoseconds (years
    1678 to 2262) are accepted: ``min_ticks``..``max_ticks`` (an empty range when none fits).

    :meth:`ns_array` is the vectorised twin for uint64 ticks in that range, computed modulo 2^64,
    which is exact because the true result fits; ``vector`` is False for the odd resolutions it does
    not cover (2^-e with e > 34, where the fraction times 10^9 would overflow 64 bits)."""

    def __init__(self, tsresol: int = TSRESOL_DEFAULT, tsoffset: int = 0) -> None:
        self.tsresol = tsresol
        self.offset_ns = tsoffset * NS_PER_S
        self.shift = self.mul = self.div = None
        if tsresol & 0x80:
            self.shift = tsresol & 0x7F
            self.vector = self.shift <= 34  # frac * 10^9 < 2^shift * 10^9 < 2^64
        else:
            self.mul = 10 ** (9 - tsresol) if tsresol <= 9 else None
            self.div = 10 ** (tsresol - 9) if tsresol > 9 else None
            self.vector = True
        first_in = self._first(lambda t: self.ns(t) >= _I64_MIN)
        first_over = self._first(lambda t: self.ns(t) > _I64_MAX)
        self.min_ticks = _U64_MAX + 1 if first_in is None else first_in
        self.max_ticks = _U64_MAX if first_over is None else first_over - 1

    def ns(self, ticks: int) -> int:
        if self.shift is not None:
            base = (ticks * NS_PER_S) >> self.shift
        elif self.mul is not None:
            base = ticks * self.mul
        else:
            base = ticks // self.div
        return base + self.offset_ns

    def in_range(self, ticks: int) -> bool:
        return self.min_ticks <= ticks <= self.max_ticks

    def _first(self, holds) -> int | None:
        """Smallest tick count in [0, 2^64) for which the monotonic predicate ``holds`` (bisection)."""
        if not holds(_U64_MAX):
            return None
        lo, hi = 0, _U64_MAX
        while lo < hi:
            mid = (lo + hi) // 2
            if holds(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def ns_array(self, ticks: np.ndarray) -> np.ndarray:
        u = np.uint64
        if self.shift is not None:
            mask = u((1 << self.shift) - 1)
            base = (ticks >> u(self.shift)) * u(NS_PER_S) + (((ticks & mask) * u(NS_PER_S)) >> u(self.shift))
        elif self.mul is not None:
            base = ticks * u(self.mul)
        elif self.div <= _U64_MAX:
            base = ticks // u(self.div)
        else:
            base = np.zeros_like(ticks)
        return (base + u(self.offset_ns % (1 << 64))).view(np.int64)


# ---------------------------------------------------------------------------------------- writer
class WriterInterface(NamedTuple):
    """An interface declared by a writer (its IDB is already in the file)."""

    id: int
    linktype: int
    snaplen: int
    name: str


def _utf8(field: str, text: str) -> bytes:
    """A string option value: valid UTF-8 (section 3.6.3) without NUL, which readers must treat as the
    end of the string (section 3.5), and short enough for a 16-bit option length."""
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CaptureFieldError(field, text, "text encodable as UTF-8") from exc
    if b"\0" in raw:
        raise CaptureFieldError(field, text, "text without NUL (readers stop a string at NUL)")
    if len(raw) > _MAX_OPTION_OCTETS:
        raise CaptureFieldError(field, f"{len(raw)} octets", f"at most {_MAX_OPTION_OCTETS} octets of UTF-8")
    return raw


class PcapngWriter(StreamWriter):
    """Streams a pcapng file: ``add_interface`` per link, then packets, one block at a time.

    ``file`` is a path (opened, buffered, and closed by the writer) or a binary file object (left
    open). Use as a context manager, or call :meth:`close`. Counters: ``packets_written`` and
    ``packets_truncated`` (packets cut to their interface's snap length, their original length kept
    in the EPB, as a capture tool does)."""

    def __init__(
        self,
        file: str | os.PathLike | BinaryIO,
        *,
        byteorder: str = "<",
        application: str = "atmemu",
        comment: str | None = None,
        buffer_octets: int = 1 << 20,
    ) -> None:
        check_byteorder(byteorder)
        self._bo = byteorder
        self._u32 = struct.Struct(byteorder + "I")
        self._epb = struct.Struct(byteorder + "7I")
        self._opt = struct.Struct(byteorder + "HH")
        self._u32_dtype = np.dtype(byteorder + "u4")
        self.interfaces: list[WriterInterface] = []
        self.packets_written = 0
        self.packets_truncated = 0
        options = [(SHB_USERAPPL, _utf8("application", application))]
        if comment is not None:
            options.append((OPT_COMMENT, _utf8("comment", comment)))
        self._open(file, buffer_octets)
        # Section 4.1: byte-order magic, version 1.0, section length -1 (not known while streaming).
        body = struct.pack(byteorder + "IHHq", BYTE_ORDER_MAGIC, VERSION_MAJOR, VERSION_MINOR, -1)
        self._write_block(BLOCK_SHB, body + self._options(options))

    # ------------------------------------------------------------------ blocks and options
    def _options(self, options: Iterable[tuple[int, bytes]]) -> bytes:
        """An option list (section 3.5), closed by opt_endofopt; empty when there are no options."""
        parts = []
        for code, value in options:
            parts += (self._opt.pack(code, len(value)), value, bytes(pad4(len(value)) - len(value)))
        if not parts:
            return b""
        parts.append(self._opt.pack(OPT_ENDOFOPT, 0))
        return b"".join(parts)

    def _write_block(self, block_type: int, body: bytes) -> None:
        """One block with the general structure of section 3.1 (``body`` is already padded)."""
        total = self._u32.pack(12 + len(body))
        self._check_open()
        self._file.write(b"".join((self._u32.pack(block_type), total, body, total)))

    def _interface(self, interface: int) -> WriterInterface:
        if not 0 <= interface < len(self.interfaces):
            raise CaptureFieldError("interface", interface,
                                    f"an interface added to this writer (0..{len(self.interfaces) - 1})")
        return self.interfaces[interface]

    # ------------------------------------------------------------------ interfaces and packets
    def add_interface(
        self, linktype: int, name: str, *, snaplen: int = MAX_RECORD_OCTETS, description: str | None = None
    ) -> int:
        """Declare a link: writes its Interface Description Block (section 4.2) and returns its
        interface id (0, 1, ... in the order added). Packets longer than ``snaplen`` are cut to it."""
        if not 0 <= linktype <= 0xFFFF:
            raise CaptureFieldError("linktype", linktype, "a 16-bit LinkType")
        if not 1 <= snaplen <= MAX_RECORD_OCTETS:
            raise CaptureFieldError("snaplen", snaplen, f"1..{MAX_RECORD_OCTETS}")
        options = [(IF_NAME, _utf8("name", name))]
        if description is not None:
            options.append((IF_DESCRIPTION, _utf8("description", description)))
        options.append((IF_TSRESOL, bytes((TSRESOL_NS,))))
        self._write_block(BLOCK_IDB, struct.pack(self._bo + "HHI", linktype, 0, snaplen) + self._options(options))
        self.interfaces.append(WriterInterface(len(self.interfaces), linktype, snaplen, name))
        return len(self.interfaces) - 1

    def write_packet(
        self,
        interface: int,
        time_ns: int,
        data: bytes,
        *,
        comments: str | Iterable[str] = (),
        orig_len: int | None = None,
    ) -> None:
        """One Enhanced Packet Block (section 4.3): ``data`` seen on ``interface`` at ``time_ns``
        nanoseconds of the virtual clock, with zero or more comments (opt_comment, section 3.5)."""
        iface = self._interface(interface)
        if not 0 <= time_ns <= _U64_MAX:
            raise CaptureFieldError("time_ns", time_ns, "0 <= time_ns < 2**64 (a 64-bit count of nanoseconds)")
        length = len(data)
        if orig_len is None:
            orig_len = length
        elif not length <= orig_len <= 0xFFFFFFFF:
            raise CaptureFieldError("orig_len", orig_len, f"{length}..2**32-1 (at least the packet's length)")
        if length > iface.snaplen:
            data, length = bytes(data[: iface.snaplen]), iface.snaplen
            self.packets_truncated += 1
        if isinstance(comments, str):
            comments = (comments,)
        options = self._options((OPT_COMMENT, _utf8("comment", c)) for c in comments)
        padded = pad4(length)
        total = EPB_HEADER_OCTETS + padded + len(options) + 4
        if total > MAX_BLOCK_OCTETS:
            raise CaptureFieldError("comments", f"a block of {total} octets",
                                    f"blocks of at most {MAX_BLOCK_OCTETS} octets")
        self._check_open()
        head = self._epb.pack(BLOCK_EPB, total, interface, time_ns >> 32, time_ns & 0xFFFFFFFF, length, orig_len)
        self._file.write(b"".join((head, data, bytes(padded - length), options, self._u32.pack(total))))
        self.packets_written += 1

    def write_interface_statistics(
        self,
        interface: int,
        time_ns: int,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        received: int | None = None,
        dropped: int | None = None,
        filter_accepted: int | None = None,
        comments: str | Iterable[str] = (),
    ) -> None:
        """One Interface Statistics Block (section 4.6) for ``interface`` at ``time_ns``: the capture's
        start and end times (isb_starttime/isb_endtime), packets the interface received (isb_ifrecv),
        dropped for lack of room (isb_ifdrop) and accepted by its filter (isb_filteraccept), each
        written only when given, and comments (opt_comment). Readers that do not use statistics skip
        the block (section 3.1)."""
        self._interface(interface)
        options: list[tuple[int, bytes]] = []
        for code, value in ((ISB_STARTTIME, start_ns), (ISB_ENDTIME, end_ns), ("time", time_ns)):
            if value is not None and not 0 <= value <= _U64_MAX:
                raise CaptureFieldError("time_ns" if code == "time" else "start_ns/end_ns", value,
                                        "0 <= time < 2**64 (a 64-bit count of nanoseconds)")
            if value is not None and code != "time":
                options.append((code, self._timestamp(value)))
        for code, value, name in ((ISB_IFRECV, received, "received"), (ISB_IFDROP, dropped, "dropped"),
                                  (ISB_FILTERACCEPT, filter_accepted, "filter_accepted")):
            if value is None:
                continue
            if not 0 <= value <= _U64_MAX:
                raise CaptureFieldError(name, value, "a 64-bit count")
            options.append((code, struct.pack(self._bo + "Q", value)))
        if isinstance(comments, str):
            comments = (comments,)
        options += [(OPT_COMMENT, _utf8("comment", c)) for c in comments]
        body = self._u32.pack(interface) + self._timestamp(time_ns) + self._options(options)
        if 12 + len(body) > MAX_BLOCK_OCTETS:
            raise CaptureFieldError("comments", f"a block of {12 + len(body)} octets",
                                    f"blocks of at most {MAX_BLOCK_OCTETS} octets")
        self._write_block(BLOCK_ISB, body)

    def _timestamp(self, time_ns: int) -> bytes:
        """A timestamp as EPBs and ISB options carry it: upper then lower 32 bits (section 4.3)."""
        return struct.pack(self._bo + "II", time_ns >> 32, time_ns & 0xFFFFFFFF)

    def _epb_rows(self, interface: int, times: np.ndarray, length: int, orig_len) -> np.ndarray:
        """A (k, W) uint8 array of k option-less EPBs carrying ``length`` octets each (uint64 ``times``),
        every field filled but the packet data (columns 28 .. 28 + length)."""
        width = EPB_HEADER_OCTETS + pad4(length) + 4
        rows = np.empty((times.shape[0], width), dtype=np.uint8)
        words = rows.view(self._u32_dtype)
        words[:, 0] = BLOCK_EPB
        words[:, 1] = width
        words[:, 2] = interface
        words[:, 3] = times >> np.uint64(32)
        words[:, 4] = times & np.uint64(0xFFFFFFFF)
        words[:, 5] = length
        words[:, 6] = orig_len
        words[:, -1] = width
        if pad4(length) != length:
            rows[:, EPB_HEADER_OCTETS + length : width - 4] = 0
        return rows

    def write_packets(self, interface: int, times_ns, data, orig_len=None) -> None:
        """Many packets of one length at once: row i of ``data`` ((n, L) uint8) at ``times_ns[i]``,
        as n EPBs built with numpy and written in chunks (no Python object per packet).
        ``orig_len``: None (= L), an int, or an array of n ints >= L."""
        iface = self._interface(interface)
        data = np.asarray(data)
        if data.dtype != np.uint8 or data.ndim != 2:
            raise CaptureFieldError("data", f"{data.dtype} array of shape {data.shape}", "a 2-D uint8 array (n, L)")
        n, length = data.shape
        times = checked_times(times_ns, n, _U64_MAX + 1, "a 64-bit count of nanoseconds")
        origs = checked_orig_lengths(orig_len, n, length)
        if length > iface.snaplen:
            data, length = data[:, : iface.snaplen], iface.snaplen
            self.packets_truncated += n
        for start in range(0, n, BULK_CHUNK_RECORDS):
            stop = min(n, start + BULK_CHUNK_RECORDS)
            chunk_origs = origs if np.ndim(origs) == 0 else origs[start:stop]
            rows = self._epb_rows(interface, times[start:stop].astype(np.uint64), length, chunk_origs)
            rows[:, EPB_HEADER_OCTETS : EPB_HEADER_OCTETS + length] = data[start:stop]
            self._check_open()
            self._file.write(rows.data)
        self.packets_written += n

    def write_erf_cells(self, interface: int, cells, times_ns, *, erf_interface: int = 0) -> None:
        """Many cells ((n, 53) uint8) as ERF type 3 records in EPBs, built in place with numpy and
        written in chunks: one buffer per chunk, no Python object per cell. ``interface`` must be a
        LINKTYPE_ERF interface; ``erf_interface`` goes in the ERF flags (bits 0-1)."""
        iface = self._interface(interface)
        if iface.linktype != LINKTYPE_ERF:
            raise CaptureFieldError("interface", interface,
                                    f"a LINKTYPE_ERF ({LINKTYPE_ERF}) interface, not linktype {iface.linktype}")
        if iface.snaplen < ERF_CELL_RECORD_OCTETS:
            raise CaptureFieldError("interface", interface,
                                    f"an interface whose snap length holds a cell record ({ERF_CELL_RECORD_OCTETS})")
        cells = np.asarray(cells)
        n = cells.shape[0] if cells.ndim else 0
        times = checked_times(times_ns, n, ERF_MAX_TIME_NS, "ERF keeps 32 bits of seconds")
        record = slice(EPB_HEADER_OCTETS, EPB_HEADER_OCTETS + ERF_CELL_RECORD_OCTETS)
        for start in range(0, n, BULK_CHUNK_RECORDS):
            stop = min(n, start + BULK_CHUNK_RECORDS)
            chunk_times = times[start:stop].astype(np.uint64)
            rows = self._epb_rows(interface, chunk_times, ERF_CELL_RECORD_OCTETS, ERF_CELL_RECORD_OCTETS)
            erf_cell_records(cells[start:stop], chunk_times, erf_interface, out=rows[:, record])
            self._check_open()
            self._file.write(rows.data)
        self.packets_written += n
