"""The signalling exchanges of a capture: per link, the SSCOP PDUs of VPI 0/VCI 5 in order, with the
side that sent each, its SSCOP sequence number and the Q.2931 message of each SD PDU as octets.

This is what ``atmemu replay`` works from, on captures atmemu wrote and on captures from elsewhere:

- LINKTYPE_SUNATM records whose traffic type sends them to SSCOP (Wireshark's rule,
  :func:`captures.linktypes.sunatm.carries_sscop`): the direction bit says who sent them;
- LINKTYPE_ERF type 4 (AAL5) records on VPI 0/VCI 5: the CPCS-PDU is checked (I.363.5: CRC-32,
  Length) and its SDU is the SSCOP PDU;
- LINKTYPE_ERF type 3 cells on VPI 0/VCI 5, reassembled per interface and capture port with the AAL5
  receiver of ``hw.aal5`` (a PDU with a bad CRC or length is counted in ``aal5_discarded`` and dropped,
  as a receiver would). Cells of other VCs are counted (``data_cells``) and skipped, read in numpy
  batches without a Python object per cell.

ERF records carry a capture port, not a direction: ``erf_port0`` ("user" or "network") says whose
frames port 0 holds; without it, an interface written by :class:`captures.recorder.Recorder` says so
in its description, and other ERF records have no direction (``direction`` None).

SSCOP retransmits an SD PDU with its sequence number N(S) unchanged (Q.2110 7.2, 20.x): a second SD
with an N(S) already seen in the same direction since the connection was last (re)started (BGN, BGAK,
RS, RSAK) is marked ``retransmission`` and is not a new message. Memory: every signalling frame of the
capture is kept (frames of data are not).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

import numpy as np

from captures import reader as capture_reader
from captures.reader import CaptureReader, Record, RecordBatch
from captures.recorder import erf_port0_side
from captures.records import (
    ERF_CELL_RECORD_OCTETS,
    ERF_FLAG_INTERFACE,
    ERF_HEADER_OCTETS,
    ERF_TYPE_ATM,
    LINKTYPE_ERF,
    LINKTYPE_SUNATM,
    SUNATM_HEADER_OCTETS,
    erf_cells_from_records,
)
from captures.summary import (
    KIND_SSCOP,
    NETWORK_TO_USER,
    USER_TO_NETWORK,
    FrameSummary,
    SummaryFieldError,
    signalling_fields,
    summarize_record,
)
from firmware.sscop.layout import PDUType
from hw.aal5 import Reassembler, parse_cpcs_pdu
from hw.errors import DecodeError

SIGNALLING_VPI, SIGNALLING_VCI = 0, 5
_SIGNALLING_HEADER = (SIGNALLING_VPI << 20 | SIGNALLING_VCI << 4)  # the 28 VPI/VCI bits of the 4-octet header
_RESTARTS = frozenset({PDUType.BGN.name, PDUType.BGAK.name, PDUType.RS.name, PDUType.RSAK.name})
_SD = PDUType.SD.name


@dataclass(frozen=True)
class SignallingFrame:
    """One SSCOP PDU of a signalling channel, as the capture holds it.

    ``sdu``: the PDU's octets (the AAL5 SDU). ``message``: the Q.2931 message an SD carries (its
    information field, Q.2130), None for other PDUs and undecodable ones. ``summary``: the decoded
    facts (message type, call and endpoint references, causes, states...)."""

    summary: FrameSummary
    sdu: bytes
    message: bytes | None
    retransmission: bool = False

    @property
    def frame(self) -> int:
        return self.summary.frame

    @property
    def time_ns(self) -> int:
        return self.summary.time_ns

    @property
    def direction(self) -> str | None:
        return self.summary.direction

    @property
    def sent_by(self) -> str | None:
        """"user" or "network" (the side that sent the frame), or None when the record has no direction."""
        return {USER_TO_NETWORK: "user", NETWORK_TO_USER: "network"}.get(self.summary.direction)

    @property
    def is_message(self) -> bool:
        """A new Q.2931 message: an SD PDU whose information field is there, not a retransmission."""
        return self.message is not None and not self.retransmission


@dataclass
class Exchange:
    """The signalling frames of one link (a pcapng interface name, or ``if<N>``), in capture order."""

    link: str
    frames: list[SignallingFrame] = field(default_factory=list)

    def messages(self, sent_by: str | None = None) -> list[SignallingFrame]:
        """The new Q.2931 messages (retransmissions left out), all or those ``sent_by`` one side."""
        return [f for f in self.frames if f.is_message and (sent_by is None or f.sent_by == sent_by)]

    @property
    def directed(self) -> bool:
        """Whether every frame has a direction (SunATM always has; ERF needs ``erf_port0``)."""
        return all(f.sent_by is not None for f in self.frames)


@dataclass
class Exchanges:
    """Every link's exchange, in the order the links first appear, and what was read besides.

    Counters: ``signalling_frames``, ``retransmissions``, ``undecodable`` (frames on the signalling
    channel whose SSCOP PDU or message did not decode: kept, with ``summary.error``),
    ``cells_reassembled`` / ``frames_reassembled`` (ERF cells of 0/5), ``aal5_discarded.<kind>``,
    ``aal5_cells_pending`` (cells of 0/5 left in an unfinished PDU at the end), ``data_cells``
    (ERF cells of other VCs), ``other_records`` (records that are no signalling)."""

    source: str
    links: dict[str, Exchange] = field(default_factory=dict)
    counters: Counter = field(default_factory=Counter)

    def __getitem__(self, link: str) -> Exchange:
        return self.links[link]

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.links.values())

    def __len__(self) -> int:
        return len(self.links)


def _cell_headers(records: np.ndarray) -> np.ndarray:
    """The 4 header octets (without HEC) of ERF type 3 records, as big-endian uint32 words."""
    return np.ascontiguousarray(records[:, ERF_HEADER_OCTETS:ERF_HEADER_OCTETS + 4]).view(">u4").reshape(-1)


class _Reader:
    def __init__(self, rd: CaptureReader, erf_port0: str | None) -> None:
        self.rd = rd
        self.erf_port0 = erf_port0
        self.out = Exchanges(rd.name)
        self.frame = 0
        self.names: dict[tuple[int, int], str] = {}
        self.port0: dict[tuple[int, int], str | None] = {}
        # ERF cells of 0/5: a reassembler per (section, interface, port), and the time of each cell's frame
        self.sar: dict[tuple[int, int, int], Reassembler] = {}
        self.cell_times: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}
        self.seen: dict[str, dict[str | None, set[int]]] = {}

    # ------------------------------------------------------------------ interfaces
    def link(self, section: int, interface: int) -> str:
        key = (section, interface)
        name = self.names.get(key)
        if name is None:
            try:
                iface = self.rd.interface(section, interface)
                name, description = iface.name, iface.description
            except KeyError:
                name, description = None, None
            if not name:
                name = f"if{interface}" if section == 0 else f"if{section}.{interface}"
            self.names[key] = name
            self.port0[key] = self.erf_port0 or erf_port0_side(description)
        return name

    def direction(self, section: int, interface: int, port: int) -> str | None:
        self.link(section, interface)
        side = self.port0[(section, interface)]
        if side is None or port > 1:
            return None
        user_port = 0 if side == "user" else 1
        return USER_TO_NETWORK if port == user_port else NETWORK_TO_USER

    # ------------------------------------------------------------------ records
    def run(self) -> Exchanges:
        for item in self.rd.items():
            if isinstance(item, Record):
                self.record(item)
            else:
                self.batch(item)
        for key, sar in self.sar.items():
            self.out.counters["aal5_cells_pending"] += sar.counters["cells_pending"]
        return self.out

    def batch(self, batch: RecordBatch) -> None:
        n, width = batch.data.shape
        if n > 1 and width == ERF_CELL_RECORD_OCTETS and (batch.linktype == LINKTYPE_ERF).all() \
                and (batch.data[:, 8] == ERF_TYPE_ATM).all():
            self.cells(batch)
            return
        for rec in batch.records():
            self.record(rec)

    def cells(self, batch: RecordBatch) -> None:
        """ERF type 3 records in bulk: the cells of VPI 0/VCI 5 go to their reassembler, the rest are counted."""
        first = self.frame + 1
        self.frame += len(batch.data)
        headers = _cell_headers(batch.data)
        signalling = (headers & np.uint32(0x0FFFFFF0)) == np.uint32(_SIGNALLING_HEADER)
        self.out.counters["data_cells"] += int((~signalling).sum())
        rows = np.flatnonzero(signalling)
        if not rows.size:
            return
        ports = batch.data[rows, 9] & ERF_FLAG_INTERFACE
        ifaces = batch.interface[rows]
        done: list[tuple[str, FrameSummary, bytes]] = []
        for iface in np.unique(ifaces).tolist():
            for port in np.unique(ports[ifaces == iface]).tolist():
                sel = rows[(ifaces == iface) & (ports == port)]
                done += self.feed(batch.section, int(iface), int(port), batch.data[sel], first + sel,
                                  batch.time_ns[sel])
        for link, summary, sdu in sorted(done, key=lambda item: item[1].frame):  # capture order
            self.add(link, summary, sdu)

    def record(self, rec: Record) -> None:
        self.frame += 1
        data = rec.data
        if rec.linktype == LINKTYPE_ERF and len(data) == ERF_CELL_RECORD_OCTETS and data[8] == ERF_TYPE_ATM:
            header = int.from_bytes(data[ERF_HEADER_OCTETS:ERF_HEADER_OCTETS + 4], "big")
            if header & 0x0FFFFFF0 != _SIGNALLING_HEADER:
                self.out.counters["data_cells"] += 1
                return
            records = np.frombuffer(data, np.uint8).reshape(1, -1)
            for link, summary, sdu in self.feed(rec.section, rec.interface, data[9] & ERF_FLAG_INTERFACE, records,
                                                np.array([self.frame]), np.array([rec.time_ns])):
                self.add(link, summary, sdu)
            return
        if rec.linktype not in (LINKTYPE_SUNATM, LINKTYPE_ERF):
            self.out.counters["other_records"] += 1
            return
        link = self.link(rec.section, rec.interface)
        summary = summarize_record(rec, frame=self.frame, link=link, erf_port0=self.port0[(rec.section, rec.interface)])
        if summary.kind != KIND_SSCOP:
            self.out.counters["other_records"] += 1
            return
        if rec.linktype == LINKTYPE_SUNATM:
            sdu = data[SUNATM_HEADER_OCTETS:]
        else:
            try:
                sdu = parse_cpcs_pdu(data[ERF_HEADER_OCTETS + 4:])[0]
            except DecodeError:
                sdu = b""  # the summary holds the error; the frame stays visible, with nothing to replay
        self.add(link, summary, sdu)

    def feed(self, section: int, interface: int, port: int, records: np.ndarray, frames: np.ndarray,
             times: np.ndarray) -> list[tuple[str, FrameSummary, bytes]]:
        """Cells of VPI 0/VCI 5 of one interface and port, in capture order, into their reassembler; returns
        the frames they complete (link, summary, SDU). The frame numbers stand for the slots (they only
        grow); the times of the cells of the PDU still open are kept to time-stamp it when it completes."""
        key = (section, interface, port)
        sar = self.sar.get(key)
        if sar is None:
            sar = self.sar[key] = Reassembler()
            self.cell_times[key] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        held_frames, held_times = self.cell_times[key]
        frames = np.concatenate([held_frames, frames.astype(np.int64)])
        times = np.concatenate([held_times, times.astype(np.int64)])
        cells = erf_cells_from_records(records).cells
        self.out.counters["cells_reassembled"] += len(cells)
        result = sar.feed(cells, frames[len(held_frames):])
        for error in result.errors:
            self.out.counters[f"aal5_discarded.{error.kind}"] += 1
        link = self.link(section, interface)
        direction = self.direction(section, interface, port)
        done = []
        for i in range(len(result)):
            last = int(result.slot[i])
            sdu = result.sdu(i)
            summary = FrameSummary(
                frame=last, time_ns=int(times[np.searchsorted(frames, last)]), link=link, interface=interface,
                section=section, linktype=LINKTYPE_ERF, direction=direction, vpi=SIGNALLING_VPI,
                vci=SIGNALLING_VCI, erf_port=port, cells=int(result.cells[i]), **signalling_fields(sdu))
            self.out.counters["frames_reassembled"] += 1
            done.append((link, summary, sdu))
        # One VC per reassembler: the cells still pending are the last ones fed.
        pending = sar.counters["cells_pending"]
        self.cell_times[key] = (frames[len(frames) - pending:], times[len(times) - pending:])
        return done

    # ------------------------------------------------------------------ SSCOP
    def add(self, link: str, summary: FrameSummary, sdu: bytes) -> None:
        counters = self.out.counters
        counters["signalling_frames"] += 1
        message = None
        retransmission = False
        seen = self.seen.setdefault(link, {})
        if summary.sscop in _RESTARTS:
            seen.clear()  # Q.2110: BGN/BGAK and RS/RSAK start the sequence numbers again
        n_s = summary.sscop_seq.get("n_s")
        if summary.sscop == _SD and n_s is not None:
            # The SD decoded (it has its N(S)): its information field is all before the pad and the
            # trailer word, the pad length being PL, the top two bits of that word (Q.2110 7.2).
            message = sdu[:len(sdu) - 4 - (sdu[-4] >> 6)]
            numbers = seen.setdefault(summary.direction, set())
            if n_s in numbers:
                retransmission = True
                counters["retransmissions"] += 1
            numbers.add(n_s)
        if summary.error is not None:
            counters["undecodable"] += 1
        exchange = self.out.links.get(link)
        if exchange is None:
            exchange = self.out.links[link] = Exchange(link)
        exchange.frames.append(SignallingFrame(summary, bytes(sdu), message, retransmission))


def read_exchanges(source: str | os.PathLike | BinaryIO | CaptureReader, *,
                   erf_port0: str | None = None) -> Exchanges:
    """The signalling exchanges of a pcap or pcapng capture (see the module documentation). A damaged
    file raises the reader's :class:`~captures.errors.CaptureDecodeError`."""
    if erf_port0 not in (None, "user", "network"):
        raise SummaryFieldError("erf_port0", erf_port0, 'None, "user" or "network"')
    if isinstance(source, CaptureReader):
        return _Reader(source, erf_port0).run()
    with capture_reader.open(source) as rd:
        return _Reader(rd, erf_port0).run()


__all__ = ["Exchange", "Exchanges", "SignallingFrame", "read_exchanges"]
