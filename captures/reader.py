"""Capture reader: classic pcap and pcapng, streaming, refusing damaged files with typed errors.

``open(path)`` looks at the first four octets and reads either format:

- pcap (draft-ietf-opsawg-pcap): both byte orders, microsecond and nanosecond magics (section 4.1);
- pcapng (draft-ietf-opsawg-pcapng): any number of sections, each in its own byte order (3.6.1),
  interfaces declared per section (4.2), Enhanced Packet Blocks (4.3) and the obsolete Packet Block
  (appendix A). Blocks it does not use (Name Resolution, Interface Statistics, Simple Packet Blocks,
  custom blocks...) are skipped, as section 3.1 allows, and counted in :attr:`CaptureReader.skipped`;
  so are sections of a version it cannot read (section 3.4: skip to the next Section Header Block).

It yields :class:`Record` objects, scapy packets (:meth:`CaptureReader.packets`), or numpy batches
(:meth:`CaptureReader.batches`) for bulk work such as cells. Timestamps are integer nanoseconds since
1970 (:class:`captures.pcapng.TimeResolution`): pcapng ticks of if_tsresol 10^-v or 2^-e seconds, plus
if_tsoffset seconds, are converted exactly when the resolution is 1 ns or coarser and rounded down
when it is finer; a time that does not fit an int64 of nanoseconds is refused.

Damaged files raise a :class:`captures.errors.CaptureDecodeError` naming the file offset of the faulty
header, block, record or option, the field, and the reason. Guarantees:

- every length field is checked against the octets left in the file and against the limits
  (``MAX_RECORD_OCTETS`` for a packet, ``MAX_BLOCK_OCTETS`` for a block that is parsed) before
  anything of that size is read or allocated; blocks that are only skipped are sought over;
- every step consumes at least one whole header (12 octets for a pcapng block, 16 for a pcap
  record), so a damaged file cannot make the reader loop;
- memory is bounded by the read chunk and one batch (a few MiB), whatever the capture's length.

Speed: runs of packets with the same block length and no options (cells above all) are decoded
vectorised, checked row by row with numpy against exactly the rules of the one-block path; the first
row that breaks a rule ends the run and goes through the one-block path, which raises the error.
"""

from __future__ import annotations

import builtins
import io
import os
import struct
from collections import Counter
from typing import BinaryIO, Iterator, NamedTuple, NoReturn

import numpy as np

from captures import pcap as _pcap
from captures import pcapng as _ng
from captures.errors import (
    BadFieldError,
    BadMagicError,
    BadOptionError,
    BlockLengthError,
    BlockLengthMismatchError,
    CaptureDecodeError,
    RecordTooLongError,
    TruncatedError,
    UnknownInterfaceError,
    UnsupportedVersionError,
)
from captures.pcapng import MAX_BLOCK_OCTETS, MAX_RECORD_OCTETS, TimeResolution, pad4

#: Octets read from the file at a time.
CHUNK_OCTETS = 1 << 20
#: Largest batch the vectorised path builds, in records and in octets of the file.
BATCH_RECORDS = 1 << 15
BATCH_OCTETS = 1 << 20

_U64_MAX = (1 << 64) - 1
_NS = 10**9

_BLOCK_NAMES = {
    _ng.BLOCK_SHB: "Section Header Block",
    _ng.BLOCK_IDB: "Interface Description Block",
    _ng.BLOCK_PB: "Packet Block",
    _ng.BLOCK_SPB: "Simple Packet Block",
    _ng.BLOCK_NRB: "Name Resolution Block",
    _ng.BLOCK_ISB: "Interface Statistics Block",
    _ng.BLOCK_EPB: "Enhanced Packet Block",
}


def _block_name(block_type: int) -> str:
    return _BLOCK_NAMES.get(block_type, f"block type 0x{block_type:08X}")


class Interface(NamedTuple):
    """An interface of a capture: one per IDB of a pcapng section, the single one of a pcap file."""

    section: int
    id: int
    linktype: int
    snaplen: int  # 0: no limit (pcapng)
    name: str | None
    description: str | None
    tsresol: int  # the if_tsresol octet: 6 = microseconds (the default), 9 = nanoseconds...
    tsoffset: int  # if_tsoffset, seconds


class Record(NamedTuple):
    """One packet of a capture."""

    interface: int
    linktype: int
    time_ns: int
    data: bytes
    orig_len: int
    comments: tuple[str, ...]
    section: int
    offset: int  # file offset of the block (pcapng) or the record header (pcap)


class RecordBatch(NamedTuple):
    """Packets of one section and one captured length, as numpy arrays (row i = packet i)."""

    section: int
    offset: np.ndarray  # int64, file offsets
    interface: np.ndarray  # uint32
    linktype: np.ndarray  # uint16
    time_ns: np.ndarray  # int64
    orig_len: np.ndarray  # uint32
    data: np.ndarray  # (n, captured length) uint8
    comments: tuple[tuple[str, ...], ...] | None  # None: no packet of the batch has a comment

    def records(self) -> Iterator[Record]:
        n, width = self.data.shape
        blob = self.data.tobytes()
        comments = self.comments or ((),) * n
        linktypes = self.linktype.tolist()
        for i, (iface, t, orig, off) in enumerate(
            zip(self.interface.tolist(), self.time_ns.tolist(), self.orig_len.tolist(), self.offset.tolist())
        ):
            data = blob[i * width : (i + 1) * width]
            yield Record(iface, linktypes[i], t, data, orig, comments[i], self.section, off)


class _Source:
    """The file, read in chunks: ``buf[pos:]`` holds the octets from file offset ``offset`` on.

    Each refill moves the unread tail and the new octets into one fresh buffer (``readinto``, no
    intermediate copies), so the reader holds at most about two chunks at a time."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.buf = bytearray()
        self.pos = 0
        self.base = 0  # file offset of buf[0]
        self.size = self._size(file)
        try:
            self.seekable = file.seekable()
        except (AttributeError, OSError, ValueError):
            self.seekable = False

    @staticmethod
    def _size(file: BinaryIO) -> int | None:
        try:
            st = os.fstat(file.fileno())
            if st.st_mode & 0o170000 == 0o100000:  # a regular file
                return st.st_size - file.tell()
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            pass
        try:
            here = file.tell()
            end = file.seek(0, io.SEEK_END)
            file.seek(here)
            return end - here
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return None

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def remaining(self) -> int | None:
        """Octets left in the file from the current offset, when the file's size is known."""
        return None if self.size is None else self.size - self.offset

    def octets(self, start: int, n: int) -> bytes:
        """``n`` octets from ``buf[start]``, as bytes (one copy)."""
        with memoryview(self.buf) as view:
            return bytes(view[start : start + n])

    def _readinto(self, view: memoryview) -> int:
        readinto = getattr(self.file, "readinto", None)
        if readinto is not None:
            return readinto(view) or 0
        data = self.file.read(len(view))
        view[: len(data or b"")] = data or b""
        return len(data or b"")

    def fill(self, n: int) -> int:
        """Make ``n`` octets available from the current offset if the file has them; returns how many
        are available (less than ``n`` only at the end of the file). Callers bound ``n`` first."""
        have = len(self.buf) - self.pos
        if have >= n:
            return have
        new = bytearray(have + max(n - have, CHUNK_OCTETS))
        with memoryview(new) as view, memoryview(self.buf) as old:
            view[:have] = old[self.pos :]
            while have < n:
                got = self._readinto(view[have:])
                if not got:
                    break
                have += got
        del new[have:]
        self.base += self.pos
        self.pos = 0
        self.buf = new
        return have

    def skip(self, n: int) -> None:
        """Advance ``n`` octets (known to be in the file) without reading them when possible."""
        have = len(self.buf) - self.pos
        if n <= have:
            self.pos += n
            return
        self.base += len(self.buf)
        self.buf = bytearray()
        self.pos = 0
        rest = n - have
        if self.seekable:
            self.file.seek(rest, io.SEEK_CUR)
            self.base += rest
            return
        while rest:
            data = self.file.read(min(rest, CHUNK_OCTETS))
            if not data:
                break
            rest -= len(data)
            self.base += len(data)


def open(file: str | os.PathLike | BinaryIO) -> "CaptureReader":  # noqa: A001 - the module's verb
    """Open a pcap or pcapng capture (a path, or a binary file object positioned at its start)."""
    return CaptureReader(file)


class CaptureReader:
    """A capture, read once from start to end. Iterate for :class:`Record` objects, or use
    :meth:`records`, :meth:`packets` or :meth:`batches` (all share one position in the file).

    ``format`` is "pcap" or "pcapng"; ``interfaces`` lists the interfaces seen so far (pcapng IDBs
    appear as the file is read); ``skipped`` counts what was passed over, by kind."""

    def __init__(self, file: str | os.PathLike | BinaryIO) -> None:
        if isinstance(file, (str, bytes, os.PathLike)):
            self._file: BinaryIO = builtins.open(file, "rb", buffering=0)
            self._owns = True
            self.name = os.fsdecode(file)
        else:
            self._file = file
            self._owns = False
            self.name = str(getattr(file, "name", "<stream>"))
        self.interfaces: list[Interface] = []
        self._by_id: dict[tuple[int, int], Interface] = {}  # (section, id) -> interface: one probe a lookup
        # The per-interface columns the vectorised run checks against, for the interfaces of the current
        # section; made again only when an interface is added (so a run costs nothing per interface).
        self._tables: _InterfaceTables | None = None
        self.skipped: Counter[str] = Counter()
        self._src = _Source(self._file)
        try:
            self.format = self._detect()
        except BaseException:
            self.close()
            raise
        self._items = self._pcap_items() if self.format == "pcap" else self._pcapng_items()

    # ------------------------------------------------------------------ public API
    def interface(self, section: int, interface_id: int) -> Interface:
        """The interface ``interface_id`` of ``section`` (once its IDB has been read)."""
        return self._by_id[(section, interface_id)]

    def _add_interface(self, iface: Interface) -> None:
        self.interfaces.append(iface)
        self._by_id[(iface.section, iface.id)] = iface
        self._tables = None

    def __iter__(self) -> Iterator[Record]:
        return self.records()

    def records(self) -> Iterator[Record]:
        """The packets as :class:`Record` objects."""
        for item in self._items:
            if isinstance(item, Record):
                yield item
            else:
                yield from item.records()

    def items(self) -> Iterator[Record | RecordBatch]:
        """The packets as the reader makes them: a :class:`RecordBatch` for each run of uniform packets,
        a :class:`Record` for every other packet (no conversion either way)."""
        return self._items

    def batches(self) -> Iterator[RecordBatch]:
        """The packets as numpy batches: each batch is one section and one captured length; runs of
        uniform packets come as large batches, other packets as batches of one."""
        for item in self._items:
            yield item if isinstance(item, RecordBatch) else _batch_of_one(item)

    def packets(self) -> Iterator:
        """The packets as scapy packets: the class registered for the link type in
        ``conf.l2types`` (``conf.raw_layer`` when none is), with ``time`` (seconds, exact decimal),
        ``wirelen``, ``comments`` (list of bytes, as scapy's pcapng reader gives) and ``sniffed_on``
        (the interface name). SunATM and ERF decode with the layers of ``captures.linktypes``."""
        from scapy.config import conf
        from scapy.utils import EDecimal

        import captures.linktypes  # noqa: F401 - registers SunATM and ERF in conf.l2types

        for rec in self.records():
            cls = conf.l2types.num2layer.get(rec.linktype, conf.raw_layer)
            try:
                pkt = cls(rec.data)
            except Exception:  # scapy's own readers fall back the same way
                if conf.debug_dissector:
                    raise
                pkt = conf.raw_layer(rec.data)
            pkt.time = EDecimal(rec.time_ns) / EDecimal(_NS)
            pkt.wirelen = rec.orig_len
            pkt.comments = [c.encode("utf-8") for c in rec.comments] or None
            pkt.sniffed_on = self.interface(rec.section, rec.interface).name
            yield pkt

    def close(self) -> None:
        if self._owns:
            self._file.close()

    def __enter__(self) -> "CaptureReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ errors and checks
    def _fail(self, error: type[CaptureDecodeError], offset: int, field: str, reason: str) -> NoReturn:
        raise error(self.name, offset, field, reason)

    def _check_caplen(self, start: int, caplen: int, snaplen: int, snap_what: str) -> None:
        if caplen > MAX_RECORD_OCTETS:
            self._fail(RecordTooLongError, start, "captured_length",
                       f"{caplen} octets, more than the reader's limit of {MAX_RECORD_OCTETS}")
        if snaplen and caplen > snaplen:
            self._fail(RecordTooLongError, start, "captured_length",
                       f"{caplen} octets, more than {snap_what} {snaplen}")

    # ------------------------------------------------------------------ format detection
    def _detect(self) -> str:
        have = self._src.fill(4)
        head = self._src.octets(self._src.pos, 4)
        if have < 4:
            self._fail(TruncatedError, 0, "magic", f"{have} octets: too short for a capture file")
        if head == _SHB_TYPE:
            return "pcapng"
        if head in _PCAP_MAGICS:
            return "pcap"
        self._fail(BadMagicError, 0, "magic", f"{head.hex()}: neither a pcap magic (a1b2c3d4 or a1b23c4d, either "
                   "byte order) nor a pcapng Section Header Block (0a0d0d0a)")

    # ------------------------------------------------------------------ pcap
    def _pcap_items(self) -> Iterator[Record | RecordBatch]:
        """draft-ietf-opsawg-pcap: the File Header (section 4), then Packet Records (section 5)."""
        src = self._src
        if src.fill(_pcap.FILE_HEADER_OCTETS) < _pcap.FILE_HEADER_OCTETS:
            self._fail(TruncatedError, 0, "file header", f"{len(src.buf)} octets, the pcap file header has 24")
        order, nanosecond = _PCAP_MAGICS[src.octets(0, 4)]
        major, minor, _, _, snaplen, link = struct.unpack_from(order + "HHIIII", src.buf, 4)
        if major != _pcap.VERSION_MAJOR:
            self._fail(UnsupportedVersionError, 4, "version_major", f"version {major}.{minor}, this reader reads 2.x")
        # Section 4: a reader SHOULD treat a non-zero Reserved3 or R bit as an error.
        if link & 0x0BFF0000:
            self._fail(BadFieldError, 20, "linktype", f"0x{link:08x}: reserved bits set (Reserved3 or R)")
        linktype = link & 0xFFFF
        frac_ns = 1 if nanosecond else 1000
        self._add_interface(Interface(0, 0, linktype, snaplen, None, None, 9 if nanosecond else 6, 0))
        head = struct.Struct(order + "IIII")
        src.pos += _pcap.FILE_HEADER_OCTETS
        while True:
            start = src.offset
            have = src.fill(_pcap.RECORD_HEADER_OCTETS)
            if have == 0:
                return
            if have < _pcap.RECORD_HEADER_OCTETS:
                self._fail(TruncatedError, start, "record header", f"{have} octets left, a record header has 16")
            seconds, frac, caplen, orig = head.unpack_from(src.buf, src.pos)
            # SnapLen MUST NOT be 0 (section 4), but some writers leave it 0: read that as "no limit".
            self._check_caplen(start, caplen, snaplen, "the file's SnapLen")
            size = _pcap.RECORD_HEADER_OCTETS + caplen
            left = src.remaining()
            if left is not None and size > left:
                self._fail(TruncatedError, start, "captured_length", f"{caplen} octets of data, {left - 16} left")
            if src.fill(size) < size:
                self._fail(TruncatedError, start, "captured_length", f"{caplen} octets of data, the file ends first")
            data = src.octets(src.pos + _pcap.RECORD_HEADER_OCTETS, caplen)
            yield Record(0, linktype, seconds * _NS + frac * frac_ns, data, orig, (), 0, start)
            src.pos += size
            run = self._pcap_run(caplen, order, linktype, frac_ns)
            if run is not None:
                yield run

    def _pcap_run(self, caplen: int, order: str, linktype: int, frac_ns: int) -> RecordBatch | None:
        """The following records with the same captured length, vectorised (the rules of the
        one-record path: that length was checked already); None when fewer than two."""
        src = self._src
        width = _pcap.RECORD_HEADER_OCTETS + caplen
        if src.fill(16) < 16 or struct.unpack_from(order + "I", src.buf, src.pos + 8)[0] != caplen:
            return None
        k = min(BATCH_RECORDS, max(1, BATCH_OCTETS // width))
        k = min(k, src.fill(k * width) // width)
        if k < 2:
            return None
        rows = np.frombuffer(src.buf, np.uint8, count=k * width, offset=src.pos).reshape(k, width)
        head = np.ascontiguousarray(rows[:, :16]).view(order + "u4")
        ok = head[:, 2] == caplen
        m = k if ok.all() else int(np.argmin(ok))
        if m < 2:
            return None
        head = head[:m]
        batch = RecordBatch(
            section=0,
            offset=src.offset + width * np.arange(m, dtype=np.int64),
            interface=np.zeros(m, np.uint32),
            linktype=np.full(m, linktype, np.uint16),
            time_ns=head[:, 0].astype(np.int64) * _NS + head[:, 1].astype(np.int64) * frac_ns,
            orig_len=head[:, 3].astype(np.uint32),
            data=rows[:m, 16:].copy(),
            comments=None,
        )
        src.pos += m * width
        return batch

    # ------------------------------------------------------------------ pcapng
    def _pcapng_items(self) -> Iterator[Record | RecordBatch]:
        """draft-ietf-opsawg-pcapng: blocks (section 3.1) in sections, each opened by an SHB (4.1)."""
        src = self._src
        section = -1
        order = "<"
        readable = False
        ifaces: list[Interface] = []
        times: list[TimeResolution] = []
        while True:
            start = src.offset
            have = src.fill(8)
            if have == 0:
                return
            if have < 8:
                self._fail(TruncatedError, start, "block header", f"{have} octets left, a block header has 8")
            if src.octets(src.pos, 4) == _SHB_TYPE:
                # Section 4.1: the type is a palindrome; the byte-order magic 8 octets on gives the order.
                if src.fill(12) < 12:
                    self._fail(TruncatedError, start, "byte_order_magic", "the file ends inside the Section Header")
                order = _BYTE_ORDERS.get(src.octets(src.pos + 8, 4))
                if order is None:
                    self._fail(BadMagicError, start, "byte_order_magic",
                               f"{src.octets(src.pos + 8, 4).hex()}, expected 1a2b3c4d in either byte order")
                section += 1
                ifaces, times = [], []
                self._tables = None
            block_type, length = struct.unpack_from(order + "II", src.buf, src.pos)
            if section < 0:
                self._fail(BadMagicError, start, "block_type", "a pcapng file begins with a Section Header Block")
            parsed = block_type == _ng.BLOCK_SHB or (readable and block_type in _PARSED_BLOCKS)
            self._check_block_length(start, block_type, length, order, parsed)
            if block_type == _ng.BLOCK_SHB:
                readable = self._read_shb(start, length, order)
            elif not readable:
                self.skipped["block in an unreadable section"] += 1
                self._skip_block(start, length, order)
            elif block_type == _ng.BLOCK_IDB:
                iface, resolution = self._read_idb(start, length, order, section, len(ifaces))
                ifaces.append(iface)
                times.append(resolution)
                self._add_interface(iface)
            elif block_type in (_ng.BLOCK_EPB, _ng.BLOCK_PB):
                record = self._read_packet(start, block_type, length, order, section, ifaces, times)
                yield record
                plain = not record.comments and length == _ng.EPB_HEADER_OCTETS + pad4(len(record.data)) + 4
                if block_type == _ng.BLOCK_EPB and plain:
                    run = self._pcapng_run(length, len(record.data), order, section, ifaces, times)
                    if run is not None:
                        yield run
            else:
                self.skipped[_block_name(block_type)] += 1
                self._skip_block(start, length, order)

    def _check_block_length(self, start: int, block_type: int, length: int, order: str, parsed: bool) -> None:
        """Section 3.1: a multiple of 4, at least the block's minimum, within the file, and (for a
        block that is parsed, not skipped) within the reader's limit."""
        name = _block_name(block_type)
        if length % 4:
            self._fail(BlockLengthError, start, "block_total_length", f"{length}, not a multiple of 4 ({name})")
        minimum = _ng.MIN_BLOCK_OCTETS.get(block_type, _ng.GENERAL_MIN_BLOCK_OCTETS)
        if length < minimum:
            self._fail(BlockLengthError, start, "block_total_length",
                       f"{length}, less than the {minimum} octets of a {name}")
        left = self._src.remaining()
        if left is not None and length > left:
            self._fail(TruncatedError, start, "block_total_length",
                       f"{length} octets claimed, {left} left in the file ({name})")
        if parsed and length > MAX_BLOCK_OCTETS:
            if block_type in (_ng.BLOCK_EPB, _ng.BLOCK_PB) and self._src.fill(24) >= 24:
                # The more telling error first: the packet itself is too long.
                caplen = struct.unpack_from(order + "I", self._src.buf, self._src.pos + 20)[0]
                self._check_caplen(start, caplen, 0, "")
            self._fail(BlockLengthError, start, "block_total_length",
                       f"{length}, more than the reader's limit of {MAX_BLOCK_OCTETS} ({name})")

    def _block(self, start: int, length: int, order: str) -> memoryview:
        """The whole block (its length already checked), its trailing length checked (section 3.1)."""
        src = self._src
        if src.fill(length) < length:
            self._fail(TruncatedError, start, "block_total_length", f"{length} octets claimed, the file ends first")
        trailing = struct.unpack_from(order + "I", src.buf, src.pos + length - 4)[0]
        if trailing != length:
            self._fail(BlockLengthMismatchError, start, "block_total_length", f"leading {length}, trailing {trailing}")
        return memoryview(src.buf)[src.pos : src.pos + length]

    def _skip_block(self, start: int, length: int, order: str) -> None:
        """Pass over a block without reading its body; its trailing length is still checked."""
        src = self._src
        src.skip(length - 4)
        if src.fill(4) < 4:
            self._fail(TruncatedError, start, "block_total_length", f"{length} octets claimed, the file ends first")
        trailing = struct.unpack_from(order + "I", src.buf, src.pos)[0]
        if trailing != length:
            self._fail(BlockLengthMismatchError, start, "block_total_length", f"leading {length}, trailing {trailing}")
        src.pos += 4

    def _options(self, start: int, block: memoryview, first: int, order: str) -> Iterator[tuple[int, bytes, int]]:
        """Options (section 3.5) from ``first`` to the trailing length: (code, value, file offset).
        Stops at opt_endofopt or at the end of the block (a missing opt_endofopt is tolerated)."""
        end = len(block) - 4
        p = first
        # Options start on a 32-bit boundary and the block length is a multiple of 4 (section 3.1), so
        # a whole option header is always there while p < end.
        while p < end:
            code, olen = struct.unpack_from(order + "HH", block, p)
            if code == _ng.OPT_ENDOFOPT:
                return
            if p + 4 + olen > end:
                self._fail(BadOptionError, start + p, f"option {code}",
                           f"length {olen} overruns the block ({end - p - 4} octets left)")
            yield code, bytes(block[p + 4 : p + 4 + olen]), start + p
            p += 4 + pad4(olen)

    @staticmethod
    def _text(value: bytes) -> str:
        # Section 3.5: a zero octet ends a string; 3.6.3: invalid UTF-8 may be repaired (U+FFFD).
        return value.split(b"\0", 1)[0].decode("utf-8", "replace")

    def _read_shb(self, start: int, length: int, order: str) -> bool:
        """Section 4.1. Returns whether the section can be read (version 1.0, or 1.2 read as 1.0);
        other versions are skipped to the next SHB as section 3.4 requires, and counted."""
        block = self._block(start, length, order)
        major, minor = struct.unpack_from(order + "HH", block, 12)
        for _ in self._options(start, block, 24, order):
            pass  # SHB options (hardware, os, application, comments) are checked, not kept
        self._src.pos += length
        if major == _ng.VERSION_MAJOR and minor in (0, 2):
            return True
        self.skipped[f"section of version {major}.{minor}"] += 1
        return False

    def _read_idb(
        self, start: int, length: int, order: str, section: int, number: int
    ) -> tuple[Interface, TimeResolution]:
        """Section 4.2."""
        block = self._block(start, length, order)
        linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", block, 8)
        name = description = None
        tsresol, tsoffset = _ng.TSRESOL_DEFAULT, 0
        seen: set[int] = set()
        for code, value, at in self._options(start, block, 16, order):
            if code in (_ng.IF_TSRESOL, _ng.IF_TSOFFSET):
                if code in seen:  # these change the meaning of every timestamp: no guessing
                    self._fail(BadOptionError, at, f"option {code}", "repeated; it may appear once (section 4.2)")
                seen.add(code)
            if code == _ng.IF_NAME and name is None:
                name = self._text(value)
            elif code == _ng.IF_DESCRIPTION and description is None:
                description = self._text(value)
            elif code == _ng.IF_TSRESOL:
                if len(value) != 1:
                    self._fail(BadOptionError, at, "if_tsresol", f"length {len(value)}, must be 1")
                tsresol = value[0]
            elif code == _ng.IF_TSOFFSET:
                if len(value) != 8:
                    self._fail(BadOptionError, at, "if_tsoffset", f"length {len(value)}, must be 8")
                tsoffset = struct.unpack(order + "q", value)[0]
        self._src.pos += length
        iface = Interface(section, number, linktype, snaplen, name, description, tsresol, tsoffset)
        return iface, TimeResolution(tsresol, tsoffset)

    def _read_packet(self, start, block_type, length, order, section, ifaces, times) -> Record:
        """An Enhanced Packet Block (section 4.3) or an obsolete Packet Block (appendix A)."""
        block = self._block(start, length, order)
        if block_type == _ng.BLOCK_EPB:
            iface, hi, lo, caplen, orig = struct.unpack_from(order + "5I", block, 8)
        else:  # appendix A: 16-bit interface id and drops count
            iface, _drops, hi, lo, caplen, orig = struct.unpack_from(order + "HH4I", block, 8)
        if iface >= len(ifaces):
            self._fail(UnknownInterfaceError, start, "interface_id",
                       f"interface {iface}, the section has declared {len(ifaces)} so far")
        self._check_caplen(start, caplen, ifaces[iface].snaplen, f"the snap length of interface {iface}:")
        data_end = _ng.EPB_HEADER_OCTETS + pad4(caplen)
        if data_end + 4 > length:
            self._fail(BlockLengthError, start, "captured_length", f"{caplen} octets overrun the block of {length}")
        ticks = (hi << 32) | lo
        resolution = times[iface]
        if not resolution.in_range(ticks):
            self._fail(BadFieldError, start, "timestamp", f"{ticks} ticks of if_tsresol {resolution.tsresol}: "
                       "beyond the int64 nanoseconds this reader keeps")
        comments = tuple(
            self._text(value) for code, value, _ in self._options(start, block, data_end, order)
            if code == _ng.OPT_COMMENT
        )
        data = bytes(block[_ng.EPB_HEADER_OCTETS : _ng.EPB_HEADER_OCTETS + caplen])
        self._src.pos += length
        return Record(iface, ifaces[iface].linktype, resolution.ns(ticks), data, orig, comments, section, start)

    def _pcapng_run(self, length, caplen, order, section, ifaces, times) -> RecordBatch | None:
        """The following EPBs with the same block length and captured length and no options, checked
        row by row against the rules of :meth:`_read_packet`; None when fewer than two qualify."""
        src = self._src
        if src.fill(8) < 8 or struct.unpack_from(order + "II", src.buf, src.pos) != (_ng.BLOCK_EPB, length):
            return None
        k = min(BATCH_RECORDS, max(1, BATCH_OCTETS // length))
        k = min(k, src.fill(k * length) // length)
        if k < 2:
            return None
        u32 = np.dtype(order + "u4")
        rows = np.frombuffer(src.buf, np.uint8, count=k * length, offset=src.pos).reshape(k, length)
        head = np.ascontiguousarray(rows[:, : _ng.EPB_HEADER_OCTETS]).view(u32)
        trailing = np.ascontiguousarray(rows[:, length - 4 :]).view(u32)[:, 0]
        ids = head[:, 2]
        known = ids < len(ifaces)
        per_row = np.where(known, ids, 0)  # an index into the per-interface tables below
        if self._tables is None or self._tables.count != len(ifaces):
            self._tables = _InterfaceTables.of(ifaces, times)
        tables = self._tables
        snaps = tables.snaplen[per_row]
        lows = tables.low[per_row]
        highs = tables.high[per_row]
        vector = tables.vector[per_row]
        ticks = (head[:, 3].astype(np.uint64) << np.uint64(32)) | head[:, 4].astype(np.uint64)
        ok = (
            (head[:, 0] == _ng.BLOCK_EPB)
            & (head[:, 1] == length)
            & (trailing == length)
            & (head[:, 5] == caplen)
            & known
            & ((snaps == 0) | (caplen <= snaps))
            & vector
            & (ticks >= lows)
            & (ticks <= highs)
        )
        m = k if ok.all() else int(np.argmin(ok))
        if m < 2:  # one row: the one-block path is as quick, and it owns the errors
            return None
        ids, ticks = ids[:m], ticks[:m]
        if (ids == ids[0]).all():
            time_ns = times[int(ids[0])].ns_array(ticks)
        else:
            time_ns = np.empty(m, dtype=np.int64)
            for i in np.unique(ids).tolist():
                time_ns[ids == i] = times[i].ns_array(ticks[ids == i])
        batch = RecordBatch(
            section=section,
            offset=src.offset + length * np.arange(m, dtype=np.int64),
            interface=ids.astype(np.uint32),
            linktype=tables.linktype[ids],
            time_ns=time_ns,
            orig_len=head[:m, 6].astype(np.uint32),
            data=rows[:m, _ng.EPB_HEADER_OCTETS : _ng.EPB_HEADER_OCTETS + caplen].copy(),
            comments=None,
        )
        src.pos += m * length
        return batch


_SHB_TYPE = struct.pack("<I", _ng.BLOCK_SHB)  # 0a 0d 0d 0a: the same in both byte orders
_BYTE_ORDERS = {struct.pack("<I", _ng.BYTE_ORDER_MAGIC): "<", struct.pack(">I", _ng.BYTE_ORDER_MAGIC): ">"}
_PARSED_BLOCKS = frozenset((_ng.BLOCK_SHB, _ng.BLOCK_IDB, _ng.BLOCK_EPB, _ng.BLOCK_PB))

# First four octets of a pcap file -> (byte order, nanosecond timestamps). draft-ietf-opsawg-pcap 4.
_PCAP_MAGICS = {
    struct.pack("<I", _pcap.MAGIC_US): ("<", False),
    struct.pack(">I", _pcap.MAGIC_US): (">", False),
    struct.pack("<I", _pcap.MAGIC_NS): ("<", True),
    struct.pack(">I", _pcap.MAGIC_NS): (">", True),
}


class _InterfaceTables(NamedTuple):
    """Columns of the interfaces of a section, indexed by interface id: what a vectorised run checks."""

    count: int
    snaplen: np.ndarray  # int64
    low: np.ndarray  # uint64: the smallest timestamp in ticks the reader keeps
    high: np.ndarray  # uint64: the largest
    vector: np.ndarray  # bool: the resolution has a vectorised conversion
    linktype: np.ndarray  # uint16

    @classmethod
    def of(cls, ifaces: list[Interface], times: list[TimeResolution]) -> "_InterfaceTables":
        return cls(
            len(ifaces),
            np.array([i.snaplen for i in ifaces], dtype=np.int64),
            np.array([min(t.min_ticks, _U64_MAX) for t in times], dtype=np.uint64),
            np.array([max(t.max_ticks, 0) for t in times], dtype=np.uint64),
            np.array([t.vector and t.min_ticks <= t.max_ticks for t in times], dtype=bool),
            np.array([i.linktype for i in ifaces], dtype=np.uint16),
        )


def _batch_of_one(rec: Record) -> RecordBatch:
    return RecordBatch(
        section=rec.section,
        offset=np.array([rec.offset], dtype=np.int64),
        interface=np.array([rec.interface], dtype=np.uint32),
        linktype=np.array([rec.linktype], dtype=np.uint16),
        time_ns=np.array([rec.time_ns], dtype=np.int64),
        orig_len=np.array([rec.orig_len], dtype=np.uint32),
        data=np.frombuffer(rec.data, dtype=np.uint8).reshape(1, len(rec.data)).copy(),
        comments=(rec.comments,) if rec.comments else None,
    )
