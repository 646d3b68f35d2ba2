"""The recorder: one pcapng file for a whole emulation, one interface per link, time from the clock.

A :class:`Recorder` owns one pcapng file (:class:`captures.pcapng.PcapngWriter`). Each link of the
emulated network is declared once (:meth:`Recorder.link`) and is named after its two ends,
``"switch:3<->leaf3"``; it gets

- a LINKTYPE_SUNATM interface, written when the link is declared, for its signalling frames: one
  record per SSCOP PDU on VPI 0/VCI 5, the SunATM direction bit set for what the user side sent
  (DTE->DCE, reference/atm-wire-formats.md "pcap link types"); signalling is always recorded;
- a LINKTYPE_ERF interface of the same name, written the first time it is needed, for data: ERF
  type 3 records of cells and ERF type 4 records of whole AAL5 CPCS-PDUs. ERF records carry no
  direction, only a capture port (flags bits 0-1): port 0 is what end ``a`` sent, port 1 what end
  ``b`` sent, and the interface's description says which end is the user side
  (:func:`erf_port0_side` reads it back).

Timestamps are nanoseconds of the virtual clock (:func:`slots_to_ns`, exact integer arithmetic at
the clock's line rate) plus ``epoch_ns``; every interface has if_tsresol 9.

Comments tie a frame to the NDIS call it serves: :meth:`Recorder.annotate` (``link, slot, text``)
leaves a comment pending on a link; it is attached to the next signalling frame recorded on that link
at or after ``slot`` (by default the next one carrying a Q.2931 message, an SSCOP SD PDU, optionally
only one sent by a given side). A comment still pending when the recorder closes is not lost: it is
counted (``comments_unattached``), kept in :attr:`Recorder.unattached_comments`, and written as a
comment of the link's Interface Statistics Block.

At close, each interface gets an Interface Statistics Block (pcapng 4.6): first and last packet time,
what the taps saw (isb_ifrecv), what a count bound refused (isb_ifdrop) and what the VC filter kept
(isb_filteraccept).

The taps that feed a recorder (:mod:`captures.taps`) are attached with :meth:`Recorder.tap_signalling`
(a ``firmware.signalling_link.SignallingLink``) and :meth:`Recorder.tap_cells` (a ``hw.link.Link``).
"""

from __future__ import annotations

import os
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable

import numpy as np

from captures.errors import CaptureError, CaptureFieldError
from captures.pcap import pcapng_to_pcap
from captures.pcapng import PcapngWriter, link_name
from captures.records import (
    LINKTYPE_ERF,
    LINKTYPE_SUNATM,
    NS_PER_S,
    SUNATM_TYPE_QSAAL,
    erf_aal5_record,
    sunatm_record,
)
from hw.clock import Clock

if TYPE_CHECKING:  # pragma: no cover
    from captures.taps import CellTap, SignallingTap

#: The two sides of a UNI (Q.2931): the user side (DTE) and the network side (DCE).
USER, NETWORK = "user", "network"
SIDES = (USER, NETWORK)
SIGNALLING_VPI, SIGNALLING_VCI = 0, 5  # I.361 2.2.3, Q.2931 2.1
#: Frames a link remembers as sent and not yet seen arriving (a far end never tapped never takes them:
#: the oldest are forgotten, so the memory stays bounded).
IN_FLIGHT_LIMIT = 4096
#: The low nibble of the octet four from the end of an SSCOP PDU is its type; SD is 0x8 (Q.2110 7.2).
_SSCOP_SD = 0x8

_ERF_DESCRIPTION = "data (ERF): port 0 = sent by {a} ({side_a} side), port 1 = sent by {b} ({side_b} side)"
_ERF_PORT0 = re.compile(r"port 0 = sent by .* \((user|network) side\), port 1 = ")


def other_side(side: str) -> str:
    return NETWORK if side == USER else USER


def erf_port0_side(description: str | None) -> str | None:
    """The side ("user" or "network") whose cells an ERF interface written by a :class:`Recorder` holds
    on capture port 0, read from the interface's description; None for any other description."""
    if not description:
        return None
    match = _ERF_PORT0.search(description)
    return match.group(1) if match else None


def slots_to_ns(slots, cells_per_second: int, epoch_ns: int = 0):
    """Cell slots to integer nanoseconds at ``cells_per_second``, rounded down, exactly: an int for an
    int, an int64 array for an integer array. ``slot * 10^9 // rate`` is computed, for an array, from its
    first slot ``s0``: ``(s0 * 10^9) // rate`` and its remainder ``r0`` in Python integers, then
    ``(r0 + (slot - s0) * 10^9) // rate`` per slot, one int64 division by a constant, exact while the
    array spans fewer than 9 x 10^9 slots (more goes through quotient and remainder per slot)."""
    if not isinstance(slots, np.ndarray):
        return int(slots) * NS_PER_S // cells_per_second + epoch_ns
    s = slots.astype(np.int64, copy=False)
    if not s.shape[0]:
        return np.zeros(0, np.int64)
    s0, span = int(s.min()), int(s.max()) - int(s.min())
    if span < 9 * 10**9:
        q0, r0 = divmod(s0 * NS_PER_S, cells_per_second)
        return (r0 + (s - s0) * np.int64(NS_PER_S)) // np.int64(cells_per_second) + np.int64(q0 + epoch_ns)
    q, r = np.divmod(s, np.int64(cells_per_second))
    return q * np.int64(NS_PER_S) + (r * np.int64(NS_PER_S)) // np.int64(cells_per_second) + np.int64(epoch_ns)


class RecorderError(CaptureError):
    """Base of the recorder's errors."""


class RecorderFieldError(RecorderError, CaptureFieldError):
    """A value the recorder cannot take: an unknown side or link, a clock without a line rate..."""


@dataclass
class _Pending:
    slot: int
    text: str
    sent_by: str | None
    messages_only: bool


@dataclass
class RecordedLink:
    """One link of the recording: its name, ends, which end is the user side, its interfaces, its
    pending comments and its counters.

    Counters: ``frames`` (signalling frames recorded), ``frames.user`` / ``frames.network`` (by the
    side that sent them), ``frames_seen_twice`` (a frame the receiving end's tap saw that the sending
    end's tap recorded already: not recorded again), ``frames_recorded_at_receiver`` (a frame whose
    sender had no tap when it was sent), ``frames_lost_after_tap`` (recorded by the sender's tap, never
    seen by the receiver's: lost on the line), ``comments``, ``comments_unattached`` (at close),
    ``cells_seen``, ``cells_filtered_out`` (on a VC the cell tap does not record), ``cells``
    (recorded), ``cells_over_limit`` (refused by the count bound), ``aal5_pdus``,
    ``aal5_pdus_over_limit``, ``aal5_discarded.<kind>`` (PDUs the reassembler refused), ``aal5_cells_pending``."""

    name: str
    end_a: str
    end_b: str
    user_end: str
    sunatm: int
    erf: int | None = None
    counters: Counter = field(default_factory=Counter)
    signalling_taps: dict[str, int] = field(default_factory=dict)  # side -> number of taps on that side
    #: side -> the PDUs its tap recorded that the far end's tap has not seen arrive yet (oldest first)
    in_flight: dict[str, deque] = field(default_factory=lambda: {USER: deque(maxlen=IN_FLIGHT_LIMIT),
                                                                 NETWORK: deque(maxlen=IN_FLIGHT_LIMIT)})
    pending: list[_Pending] = field(default_factory=list)
    first_ns: dict[int, int] = field(default_factory=dict)  # interface -> first packet time
    last_ns: dict[int, int] = field(default_factory=dict)

    def side_of(self, end: str) -> str:
        """The UNI side of one end of this link."""
        if end not in (self.end_a, self.end_b):
            raise RecorderFieldError("end", end, f"{self.end_a!r} or {self.end_b!r} (the ends of {self.name})")
        return USER if end == self.user_end else NETWORK

    def erf_port(self, sent_by: str) -> int:
        """The ERF capture port of what ``sent_by`` (an end's name, or "user"/"network") sent."""
        if sent_by in SIDES:
            sent_by = self.user_end if sent_by == USER else (self.end_b if self.user_end == self.end_a else self.end_a)
        self.side_of(sent_by)
        return 0 if sent_by == self.end_a else 1


class Recorder:
    """Records an emulation into one pcapng file. See the module documentation.

    ``file``: a path (opened and closed by the recorder) or a binary file object (left open).
    ``clock``: the virtual clock (it needs a line rate). ``epoch_ns``: the wall time of slot 0
    (default 0: times read as seconds since the start of the emulation). ``comment``: a comment on
    the section (the scenario's name...). Use as a context manager, or call :meth:`close`."""

    def __init__(self, file: str | os.PathLike | BinaryIO, clock: Clock, *, epoch_ns: int = 0,
                 comment: str | None = None, byteorder: str = "<") -> None:
        if not isinstance(clock, Clock):
            raise RecorderFieldError("clock", clock, "a hw.clock.Clock")
        if clock.rate is None:
            raise RecorderFieldError("clock", clock, "a Clock with a line rate (timestamps are in nanoseconds)")
        if not isinstance(epoch_ns, int) or epoch_ns < 0:
            raise RecorderFieldError("epoch_ns", epoch_ns, "an integer >= 0 (nanoseconds since 1970)")
        self.clock = clock
        self.epoch_ns = epoch_ns
        self._cps = clock.rate.cells_per_second
        self.path = Path(os.fsdecode(file)) if isinstance(file, (str, bytes, os.PathLike)) else None
        self.writer = PcapngWriter(file, byteorder=byteorder, comment=comment)
        self.links: dict[str, RecordedLink] = {}
        self.unattached_comments: list[tuple[str, int, str]] = []  # (link, slot, text) at close
        self.taps: list[Any] = []  # the taps attached (captures.taps), finished at close
        self.closed = False

    # ------------------------------------------------------------------ time
    def slot_ns(self, slot: int) -> int:
        """The capture time of a cell slot, in nanoseconds."""
        return slots_to_ns(slot, self._cps, self.epoch_ns)

    def slots_ns(self, slots: np.ndarray) -> np.ndarray:
        """:meth:`slot_ns` of an integer array, vectorised (int64)."""
        return slots_to_ns(np.asarray(slots), self._cps, self.epoch_ns)

    # ------------------------------------------------------------------ links
    def link(self, end_a: str, end_b: str, *, user: str | None = None) -> RecordedLink:
        """The link between ends ``end_a`` and ``end_b`` (declared on first use, its SunATM interface
        written then). ``user``: the end on the user side of the UNI (default ``end_a``); the other end
        is the network side."""
        self._check_open()
        name = link_name(end_a, end_b)
        known = self.links.get(name)
        user = end_a if user is None else user
        if user not in (end_a, end_b):
            raise RecorderFieldError("user", user, f"{end_a!r} or {end_b!r}, an end of the link")
        if known is not None:
            if known.user_end != user:
                raise RecorderFieldError("user", user, f"{known.user_end!r}, as the link was declared")
            return known
        if end_a == end_b:
            raise RecorderFieldError("end_b", end_b, f"an end other than {end_a!r}")
        network = end_b if user == end_a else end_a
        iface = self.writer.add_interface(
            LINKTYPE_SUNATM, name, description=f"signalling (SunATM, VPI 0/VCI 5): user side {user}, "
            f"network side {network}")
        rec = RecordedLink(name, end_a, end_b, user, iface)
        self.links[name] = rec
        return rec

    def _link(self, link: RecordedLink | str) -> RecordedLink:
        if isinstance(link, RecordedLink):
            if self.links.get(link.name) is not link:
                raise RecorderFieldError("link", link.name, "a link declared on this recorder")
            return link
        found = self.links.get(link)
        if found is None:
            names = ", ".join(self.links) or "none yet"
            raise RecorderFieldError("link", link, f"a link declared with Recorder.link ({names})")
        return found

    def _erf_interface(self, rec: RecordedLink) -> int:
        if rec.erf is None:
            side_a, side_b = rec.side_of(rec.end_a), rec.side_of(rec.end_b)
            rec.erf = self.writer.add_interface(LINKTYPE_ERF, rec.name, description=_ERF_DESCRIPTION.format(
                a=rec.end_a, b=rec.end_b, side_a=side_a, side_b=side_b))
        return rec.erf

    def _stamp(self, rec: RecordedLink, iface: int, first: int, last: int) -> None:
        rec.first_ns.setdefault(iface, first)
        rec.last_ns[iface] = max(last, rec.last_ns.get(iface, last))

    # ------------------------------------------------------------------ signalling
    def annotate(self, link: RecordedLink | str, slot: int, text: str, *, sent_by: str | None = None,
                 messages_only: bool = True) -> None:
        """Leave ``text`` pending on ``link``: it becomes a comment of the next signalling frame recorded
        there at or after ``slot`` (``NdisClAddParty party=3 -> PENDING``). ``sent_by``: only a frame
        sent by that side ("user" or "network"); ``messages_only``: only a frame carrying a Q.2931
        message (an SSCOP SD PDU; False: any SSCOP PDU)."""
        rec = self._link(link)
        if sent_by is not None and sent_by not in SIDES:
            raise RecorderFieldError("sent_by", sent_by, "None, 'user' or 'network'")
        if not isinstance(text, str) or not text:
            raise RecorderFieldError("text", text, "a non-empty string")
        rec.pending.append(_Pending(int(slot), text, sent_by, messages_only))

    def _take_comments(self, rec: RecordedLink, slot: int, sent_by: str, is_message: bool) -> list[str]:
        taken, kept = [], []
        for p in rec.pending:
            if p.slot <= slot and (p.sent_by is None or p.sent_by == sent_by) and (is_message or not p.messages_only):
                taken.append(p.text)
            else:
                kept.append(p)
        rec.pending = kept
        return taken

    def record_signalling(self, link: RecordedLink | str, sent_by: str, sdu: bytes, slot: int, *,
                          comments: Iterable[str] = ()) -> None:
        """One SSCOP PDU (the AAL5 SDU ``sdu``) that side ``sent_by`` sent on ``link`` at ``slot``, as a
        SunATM record on VPI 0/VCI 5 with the direction bit of that side, the comments pending on the
        link for it and ``comments`` attached."""
        rec = self._link(link)
        if sent_by not in SIDES:
            raise RecorderFieldError("sent_by", sent_by, "'user' or 'network'")
        is_message = len(sdu) >= 4 and sdu[-4] & 0x0F == _SSCOP_SD
        notes = self._take_comments(rec, slot, sent_by, is_message) if rec.pending else []
        notes += list(comments)
        time_ns = self.slot_ns(slot)
        record = sunatm_record(sent_by == USER, SIGNALLING_VPI, SIGNALLING_VCI, sdu, SUNATM_TYPE_QSAAL)
        self._check_open()
        self.writer.write_packet(rec.sunatm, time_ns, record, comments=notes)
        c = rec.counters
        c["frames"] += 1
        c[f"frames.{sent_by}"] += 1
        c["comments"] += len(notes)
        self._stamp(rec, rec.sunatm, time_ns, time_ns)

    # ------------------------------------------------------------------ data
    def record_cells(self, link: RecordedLink | str, sent_by: str, cells: np.ndarray, slots: np.ndarray) -> None:
        """Cells ((n, 53) uint8) that ``sent_by`` (an end of the link, or "user"/"network") sent on
        ``link``, arriving at ``slots``, as ERF type 3 records written in bulk (no object per cell)."""
        rec = self._link(link)
        port = rec.erf_port(sent_by)
        n = int(cells.shape[0])
        if not n:
            return
        times = self.slots_ns(slots)
        iface = self._erf_interface(rec)
        self._check_open()
        self.writer.write_erf_cells(iface, cells, times, erf_interface=port)
        rec.counters["cells"] += n
        self._stamp(rec, iface, int(times[0]), int(times[-1]))

    def record_aal5(self, link: RecordedLink | str, sent_by: str, vpi: int, vci: int, cpcs_pdu: bytes, slot: int,
                    *, clp: int = 0) -> None:
        """One whole AAL5 CPCS-PDU (I.363.5: SDU, pad, UU, CPI, Length, CRC-32) of VPI/VCI, complete at
        ``slot``, as an ERF type 4 record; its cell header is that of the last cell (PTI 001, AUU = 1)."""
        rec = self._link(link)
        port = rec.erf_port(sent_by)
        if not 0 <= vpi <= 0xFF or not 0 <= vci <= 0xFFFF:
            raise RecorderFieldError("vpi/vci", (vpi, vci), "a UNI VPI 0..255 and VCI 0..65535")
        header4 = ((vpi << 20) | (vci << 4) | (1 << 1) | (clp & 1)).to_bytes(4, "big")  # I.361 2.2: PTI 001
        time_ns = self.slot_ns(slot)
        iface = self._erf_interface(rec)
        self._check_open()
        self.writer.write_packet(iface, time_ns, erf_aal5_record(header4, cpcs_pdu, time_ns, interface=port))
        rec.counters["aal5_pdus"] += 1
        self._stamp(rec, iface, time_ns, time_ns)

    # ------------------------------------------------------------------ taps
    def tap_signalling(self, link: RecordedLink | str, endpoint: Any) -> "SignallingTap":
        """Record every SSCOP PDU that ``endpoint`` (a ``SignallingLink`` at one end of ``link``) sends
        and receives. See :class:`captures.taps.SignallingTap`."""
        from captures.taps import SignallingTap

        return SignallingTap(self, self._link(link), endpoint)

    def tap_cells(self, link: RecordedLink | str, hw_link: Any = None, **options: Any) -> "CellTap":
        """Record the data cells ``hw_link`` (a ``hw.link.Link`` between the link's ends) delivers.
        See :class:`captures.taps.CellTap` for the options (``vcs``, ``limit``, ``cells``, ``aal5``...)."""
        from captures.taps import CellTap

        return CellTap(self, self._link(link), hw_link, **options)

    # ------------------------------------------------------------------ results
    @property
    def counters(self) -> Counter:
        """Every link's counters added up."""
        total: Counter = Counter()
        for rec in self.links.values():
            total.update(rec.counters)
        return total

    def _check_open(self) -> None:
        if self.closed:
            raise RecorderFieldError("recorder", "closed", "an open recorder")

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        """Account for the comments still pending, write each interface's statistics, close the file.
        Closing twice is harmless."""
        if self.closed:
            return
        from captures.taps import finish_taps

        finish_taps(self)
        for rec in self.links.values():
            leftover = [f"annotation for slot {p.slot} attached to no frame: {p.text}" for p in rec.pending]
            rec.counters["comments_unattached"] += len(rec.pending)
            self.unattached_comments += [(rec.name, p.slot, p.text) for p in rec.pending]
            rec.pending = []
            c = rec.counters
            self._statistics(rec, rec.sunatm, c["frames"] + c["frames_seen_twice"], None, None, leftover)
            if rec.erf is not None:
                seen = c["cells_seen"]
                self._statistics(rec, rec.erf, seen, c["cells_over_limit"] + c["aal5_pdus_over_limit"],
                                 seen - c["cells_filtered_out"], ())
        self.writer.close()
        self.closed = True

    def _statistics(self, rec: RecordedLink, iface: int, received: int, dropped: int | None,
                    accepted: int | None, comments: Iterable[str]) -> None:
        end = max(rec.last_ns.get(iface, 0), self.slot_ns(self.clock.now))
        self.writer.write_interface_statistics(
            iface, end, start_ns=rec.first_ns.get(iface), end_ns=rec.last_ns.get(iface), received=received,
            dropped=dropped, filter_accepted=accepted, comments=comments)

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ classic pcap
    def export_pcap(self, destination: str | os.PathLike, link: RecordedLink | str, *,
                    kind: str = "signalling", nanosecond: bool = True) -> int:
        """Copy one interface of the recording (``kind`` "signalling": the link's SunATM frames, "data":
        its ERF records) into a classic pcap file (one link type per file, no comments: see
        :func:`captures.pcap.pcapng_to_pcap`). The recorder must write to a path; it is flushed first.
        Returns the packets written."""
        rec = self._link(link)
        iface = self._export_interface(rec, kind)
        self._need_path()
        if not self.closed:
            self.flush()
        return pcapng_to_pcap(self.path, destination, interface=iface, section=0, nanosecond=nanosecond).packets

    def export_all_pcap(self, folder: str | os.PathLike, *, nanosecond: bool = True) -> list[Path]:
        """:meth:`export_pcap` of every interface that holds packets, into ``folder`` (created if
        needed) as ``<capture>.<link>.<signalling|data>.pcap``; returns the paths written."""
        self._need_path()
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for rec in self.links.values():
            for kind, iface in (("signalling", rec.sunatm), ("data", rec.erf)):
                if iface is None or iface not in rec.first_ns:
                    continue
                safe = re.sub(r"[^A-Za-z0-9._-]+", "_", rec.name)
                path = out / f"{self.path.stem}.{safe}.{kind}.pcap"
                self.export_pcap(path, rec, kind=kind, nanosecond=nanosecond)
                paths.append(path)
        return paths

    def _export_interface(self, rec: RecordedLink, kind: str) -> int:
        if kind == "signalling":
            return rec.sunatm
        if kind == "data":
            if rec.erf is None:
                raise RecorderFieldError("kind", kind, f"'signalling': {rec.name} has no data recorded")
            return rec.erf
        raise RecorderFieldError("kind", kind, "'signalling' or 'data'")

    def _need_path(self) -> None:
        if self.path is None:
            raise RecorderFieldError("file", "a file object", "a recorder writing to a path (pcap export reads it)")


__all__ = ["NETWORK", "RecordedLink", "Recorder", "RecorderError", "RecorderFieldError", "SIDES", "USER",
           "erf_port0_side", "other_side", "slots_to_ns"]
