"""Signalling captures written by hand: Q.2931 messages wrapped in SSCOP PDUs numbered as SSCOP
numbers them, through a :class:`~captures.recorder.Recorder`, without running the protocol machines.

For tests, examples and benchmarks of the capture tools: a capture of a known exchange, whose
every frame is chosen. :meth:`SignallingWriter.establish` writes the BGN/BGAK pair that opens an SSCOP
connection (Q.2110 7.2: N(SQ) and N(MR)); :meth:`SignallingWriter.message` writes one SD PDU carrying a
message, N(S) counting from 0 per link and direction (Q.2110 20.x: VT(S) starts at 0 on establishment)
or given (to write a retransmission); :meth:`SignallingWriter.poll` writes a POLL/STAT pair.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from captures.recorder import NETWORK, SIDES, USER, RecordedLink, Recorder, RecorderFieldError
from firmware.sscop import fastcodec
from firmware.sscop.layout import PDUType

#: N(MR) of the BGN/BGAK written here: the UNI window (Q.2130 clause 11: initial credit).
WINDOW = 128


class SignallingWriter:
    """Writes SSCOP PDUs of hand-picked Q.2931 messages through ``recorder``."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._next_s: Counter = Counter()  # (link name, side) -> VT(S)

    def _link(self, link: RecordedLink | str) -> RecordedLink:
        return self.recorder._link(link)

    def establish(self, link: RecordedLink | str, slot: int, *, by: str = USER, n_sq: int = 1) -> None:
        """BGN from ``by`` and BGAK from the other side one slot later; both sides' N(S) restart at 0."""
        rec = self._link(link)
        if by not in SIDES:
            raise RecorderFieldError("by", by, "'user' or 'network'")
        other = NETWORK if by == USER else USER
        self.recorder.record_signalling(rec, by, fastcodec.encode(PDUType.BGN, n_sq=n_sq, n_mr=WINDOW), slot)
        self.recorder.record_signalling(rec, other, fastcodec.encode(PDUType.BGAK, n_mr=WINDOW), slot + 1)
        self._next_s[(rec.name, USER)] = self._next_s[(rec.name, NETWORK)] = 0

    def message(self, link: RecordedLink | str, sent_by: str, message: Any, slot: int, *,
                comments: Iterable[str] = (), n_s: int | None = None) -> int:
        """One SD PDU carrying ``message`` (a scapy ``Q2931`` layer or its octets) sent by ``sent_by``;
        returns its N(S). Without ``n_s`` the next number of that side is used (a new message)."""
        rec = self._link(link)
        key = (rec.name, sent_by)
        if n_s is None:
            n_s = self._next_s[key]
            self._next_s[key] = (n_s + 1) & 0xFFFFFF
        self.recorder.record_signalling(rec, sent_by, fastcodec.encode_sd(n_s, bytes(message)), slot,
                                        comments=comments)
        return n_s

    def poll(self, link: RecordedLink | str, sent_by: str, slot: int, *, n_ps: int = 1) -> None:
        """POLL from ``sent_by`` (N(S) its next number) and the STAT answer of the other side a slot later."""
        rec = self._link(link)
        other = NETWORK if sent_by == USER else USER
        n_s = self._next_s[(rec.name, sent_by)]
        self.recorder.record_signalling(rec, sent_by, fastcodec.encode(PDUType.POLL, n_ps=n_ps, n_s=n_s), slot)
        n_r = self._next_s[(rec.name, sent_by)]
        stat = fastcodec.encode(PDUType.STAT, n_r=n_r, n_mr=n_r + WINDOW, n_ps=n_ps, list_=[])
        self.recorder.record_signalling(rec, other, stat, slot + 1)


__all__ = ["SignallingWriter", "WINDOW"]
