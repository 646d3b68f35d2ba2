"""Classic pcap export, for tools that read only pcap: one link type per file, no comments.

Format: draft-ietf-opsawg-pcap. A 24-octet File Header (section 4: magic, version 2.4, two reserved
words, SnapLen, LinkType and additional information), then Packet Records (section 5: seconds,
microseconds or nanoseconds, captured length, original length, the data unpadded). The magic says
the byte order and the timestamp unit (section 4.1)::

    octets on disk   d4 c3 b2 a1  little-endian, microseconds    a1 b2 c3 d4  big-endian, microseconds
                     4d 3c b2 a1  little-endian, nanoseconds     a1 b2 3c 4d  big-endian, nanoseconds

Microsecond files get the time truncated to the microsecond (floor), as libpcap does.

:func:`pcapng_to_pcap` converts the packets of one interface of a pcapng file; the comments a pcap
cannot hold are counted in its report, not silently lost.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, NamedTuple

import numpy as np

from captures.errors import CaptureFieldError
from captures.pcapng import BULK_CHUNK_RECORDS, MAX_RECORD_OCTETS
from captures.records import NS_PER_S, checked_orig_lengths, checked_times
from captures.stream import StreamWriter, check_byteorder

MAGIC_US = 0xA1B2C3D4  # section 4: seconds and microseconds
MAGIC_NS = 0xA1B23C4D  # section 4: seconds and nanoseconds
VERSION_MAJOR, VERSION_MINOR = 2, 4
FILE_HEADER_OCTETS = 24
RECORD_HEADER_OCTETS = 16
#: Exclusive upper bound of a pcap timestamp: the seconds field is 32 bits (unsigned).
MAX_TIME_NS = (1 << 32) * NS_PER_S


class PcapWriter(StreamWriter):
    """Streams a classic pcap file of one link type.

    ``file`` is a path (opened, buffered and closed by the writer) or a binary file object (left open).
    ``nanosecond`` picks the magic 0xA1B23C4D (else 0xA1B2C3D4, microseconds); ``byteorder`` "<" or
    ">". Packets longer than ``snaplen`` are cut to it (``packets_truncated`` counts them)."""

    def __init__(
        self,
        file: str | os.PathLike | BinaryIO,
        linktype: int,
        *,
        snaplen: int = MAX_RECORD_OCTETS,
        nanosecond: bool = True,
        byteorder: str = "<",
        buffer_octets: int = 1 << 20,
    ) -> None:
        check_byteorder(byteorder)
        if not 0 <= linktype <= 0xFFFF:
            raise CaptureFieldError("linktype", linktype, "a 16-bit LinkType")
        # Section 4: SnapLen MUST NOT be zero.
        if not 1 <= snaplen <= MAX_RECORD_OCTETS:
            raise CaptureFieldError("snaplen", snaplen, f"1..{MAX_RECORD_OCTETS}")
        self.linktype = linktype
        self.snaplen = snaplen
        self.nanosecond = nanosecond
        self._bo = byteorder
        self._record = struct.Struct(byteorder + "4I")
        self._u32_dtype = np.dtype(byteorder + "u4")
        self._divisor = 1 if nanosecond else 1000
        self.packets_written = 0
        self.packets_truncated = 0
        self._open(file, buffer_octets)
        magic = MAGIC_NS if nanosecond else MAGIC_US
        # Reserved1/Reserved2 zero; LinkType in the low 16 bits, FCS length / reserved bits zero.
        header = struct.pack(byteorder + "IHHIIII", magic, VERSION_MAJOR, VERSION_MINOR, 0, 0, snaplen, linktype)
        self._file.write(header)

    def write_packet(self, time_ns: int, data: bytes, *, orig_len: int | None = None) -> None:
        """One Packet Record (section 5)."""
        if not 0 <= time_ns < MAX_TIME_NS:
            raise CaptureFieldError("time_ns", time_ns, "0 <= time_ns < 2**32 s (pcap keeps 32 bits of seconds)")
        length = len(data)
        if orig_len is None:
            orig_len = length
        elif not length <= orig_len <= 0xFFFFFFFF:
            raise CaptureFieldError("orig_len", orig_len, f"{length}..2**32-1 (at least the packet's length)")
        if length > self.snaplen:
            data = bytes(data[: self.snaplen])
            length = self.snaplen
            self.packets_truncated += 1
        seconds, rest = divmod(time_ns, NS_PER_S)
        self._check_open()
        self._file.write(self._record.pack(seconds, rest // self._divisor, length, orig_len) + bytes(data))
        self.packets_written += 1

    def write_packets(self, times_ns, data, orig_len=None) -> None:
        """Many packets of one length at once: row i of ``data`` ((n, L) uint8) at ``times_ns[i]``,
        built with numpy and written in chunks. ``orig_len``: None (= L), an int or n ints >= L."""
        data = np.asarray(data)
        if data.dtype != np.uint8 or data.ndim != 2:
            raise CaptureFieldError("data", f"{data.dtype} array of shape {data.shape}", "a 2-D uint8 array (n, L)")
        n, length = data.shape
        times = checked_times(times_ns, n, MAX_TIME_NS, "pcap keeps 32 bits of seconds")
        origs = checked_orig_lengths(orig_len, n, length)
        if length > self.snaplen:
            data = data[:, : self.snaplen]
            length = self.snaplen
            self.packets_truncated += n
        width = RECORD_HEADER_OCTETS + length
        for start in range(0, n, BULK_CHUNK_RECORDS):
            stop = min(n, start + BULK_CHUNK_RECORDS)
            t = times[start:stop].astype(np.uint64)
            head = np.empty((stop - start, 4), dtype=self._u32_dtype)
            seconds = t // np.uint64(NS_PER_S)
            head[:, 0] = seconds
            head[:, 1] = (t - seconds * np.uint64(NS_PER_S)) // np.uint64(self._divisor)
            head[:, 2] = length
            head[:, 3] = origs if np.ndim(origs) == 0 else origs[start:stop]
            rows = np.empty((stop - start, width), dtype=np.uint8)
            rows[:, :RECORD_HEADER_OCTETS] = head.view(np.uint8)
            rows[:, RECORD_HEADER_OCTETS:] = data[start:stop]
            self._check_open()
            self._file.write(rows.data)
        self.packets_written += n


class ConversionReport(NamedTuple):
    """What :func:`pcapng_to_pcap` did: packets written, comments that pcap could not keep, and packets
    of other interfaces left out."""

    packets: int
    comments_dropped: int
    other_packets: int
    linktype: int


def pcapng_to_pcap(
    source: str | os.PathLike | BinaryIO,
    destination: str | os.PathLike | BinaryIO,
    *,
    interface: int | str = 0,
    section: int | None = None,
    nanosecond: bool = True,
    byteorder: str = "<",
) -> ConversionReport:
    """Copy the packets of one interface of a pcapng file into a classic pcap file, streaming.

    ``interface`` is an interface id (in ``section``, 0 by default) or an if_name (matched in every
    section, or in ``section`` if given; all matches must share one link type). The pcap's snap
    length is the interface's (the reader's limit when the IDB says 0, "no limit")."""
    from captures import reader as capture_reader  # the reader imports this package's writers

    by_name = isinstance(interface, str)
    if not by_name and section is None:
        section = 0
    writer: PcapWriter | None = None
    packets = comments_dropped = others = 0

    def matches(iface) -> bool:
        if section is not None and iface.section != section:
            return False
        return iface.name == interface if by_name else iface.id == interface

    def open_writer(iface) -> PcapWriter:
        snaplen = iface.snaplen if 0 < iface.snaplen <= MAX_RECORD_OCTETS else MAX_RECORD_OCTETS
        return PcapWriter(destination, iface.linktype, snaplen=snaplen, nanosecond=nanosecond, byteorder=byteorder)

    try:
        with capture_reader.open(source) as rd:
            if rd.format != "pcapng":
                raise CaptureFieldError("source", str(source), "a pcapng file")
            for batch in rd.batches():
                select = np.zeros(len(batch.interface), dtype=bool)
                for iface_id in np.unique(batch.interface).tolist():
                    iface = rd.interface(batch.section, iface_id)
                    if not matches(iface):
                        continue
                    if writer is None:
                        writer = open_writer(iface)
                    elif iface.linktype != writer.linktype:
                        raise CaptureFieldError(
                            "interface", interface, f"interfaces of one link type; {iface.name!r} in section "
                            f"{iface.section} is linktype {iface.linktype}, not {writer.linktype}"
                        )
                    select |= batch.interface == iface_id
                count = int(select.sum())
                others += len(select) - count
                if count:
                    writer.write_packets(batch.time_ns[select], batch.data[select], batch.orig_len[select])
                    packets += count
                    if batch.comments is not None:
                        comments_dropped += sum(len(c) for c, s in zip(batch.comments, select.tolist()) if s)
            if writer is None:
                found = [i for i in rd.interfaces if matches(i)]
                if not found:
                    names = ", ".join(f"{i.section}/{i.id} {i.name!r}" for i in rd.interfaces) or "none"
                    raise CaptureFieldError("interface", interface,
                                            f"an interface of the capture (section/id name: {names})")
                writer = open_writer(found[0])
    finally:
        if writer is not None:
            writer.close()
    return ConversionReport(packets, comments_dropped, others, writer.linktype)
