"""Frame-by-frame comparison of two sequences of Q.2931 / Q.2971 messages: what a capture holds
(expected) against what the emulator answered (got).

What is compared, per message (:data:`COMPARED`): the message type, the call reference and its flag
(Q.2931 4.3), the endpoint reference and its flag (Q.2971), the cause values (Q.2931 4.5.15, in
order) and the endpoint state (Q.2971). What legitimately varies between two runs is not: times,
SSCOP sequence numbers and retransmissions (the exchange keeps new messages only), VPI/VCI
allocated by the network, the other information elements.

The two sequences are aligned as ``difflib`` aligns lines (longest matching blocks of identical
messages), so one missing or extra message shows as one row, not as every later row differing. Each
row is ``same``, ``differs`` (the fields that differ are named), ``missing`` (expected, not got) or
``extra`` (got, not expected); rows of the messages the replay sent (``sent``) can be interleaved
for context, placed where the capture had them.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from captures.summary import FrameSummary, cause_text, flag_text

#: The fields compared, in the order reported.
COMPARED = ("message_type", "call_ref", "call_ref_flag", "endpoint_ref", "endpoint_ref_flag", "causes",
            "endpoint_state")
SAME, DIFFERS, MISSING, EXTRA, SENT = "same", "differs", "missing", "extra", "sent"
STATUSES = (SAME, DIFFERS, MISSING, EXTRA, SENT)


@dataclass(frozen=True)
class MessageView:
    """The compared facts of one message, and where it was (frame number and time, not compared)."""

    message: str
    message_type: int | None
    call_ref: int | None = None
    call_ref_flag: int | None = None
    endpoint_ref: int | None = None
    endpoint_ref_flag: int | None = None
    causes: tuple[int, ...] = ()
    endpoint_state: int | None = None
    frame: int | None = field(default=None, compare=False)
    time_ns: int | None = field(default=None, compare=False)
    error: str | None = field(default=None, compare=False)

    @classmethod
    def of(cls, summary: FrameSummary) -> "MessageView":
        return cls(
            message=summary.message or "(undecodable)", message_type=summary.message_type,
            call_ref=summary.call_ref, call_ref_flag=summary.call_ref_flag, endpoint_ref=summary.endpoint_ref,
            endpoint_ref_flag=summary.endpoint_ref_flag, causes=tuple(summary.causes),
            endpoint_state=summary.endpoint_state, frame=summary.frame, time_ns=summary.time_ns,
            error=summary.error)

    def key(self) -> tuple:
        return tuple(getattr(self, name) for name in COMPARED)

    def text(self) -> str:
        """``ADD PARTY REJECT cref=0x000001/term epref=3 cause 21 call rejected``."""
        parts = [self.message]
        if self.call_ref is not None:
            parts.append(f"cref=0x{self.call_ref:06X}/{flag_text(self.call_ref_flag)}")
        if self.endpoint_ref is not None:
            ep = f"epref={self.endpoint_ref}"
            if self.endpoint_ref_flag is not None and self.endpoint_ref_flag != self.call_ref_flag:
                ep += f"/{flag_text(self.endpoint_ref_flag)}"
            parts.append(ep)
        if self.endpoint_state is not None:
            parts.append(f"ep-state={self.endpoint_state}")
        parts += [cause_text(c) for c in self.causes]
        return " ".join(parts)

    def as_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in ("message", *COMPARED, "frame", "time_ns", "error")}
        out["causes"] = list(self.causes)
        return out


@dataclass(frozen=True)
class Row:
    """One row of the comparison: ``fields`` names what differs in a ``differs`` row."""

    status: str
    expected: MessageView | None
    got: MessageView | None
    fields: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "fields": list(self.fields),
                "expected": None if self.expected is None else self.expected.as_json(),
                "got": None if self.got is None else self.got.as_json()}


@dataclass
class Comparison:
    """The rows, in capture order; :attr:`equal` when no row is differs, missing or extra."""

    rows: list[Row]

    @property
    def counts(self) -> Counter:
        return Counter(row.status for row in self.rows)

    @property
    def equal(self) -> bool:
        counts = self.counts
        return not (counts[DIFFERS] or counts[MISSING] or counts[EXTRA])

    @property
    def differences(self) -> list[Row]:
        return [row for row in self.rows if row.status in (DIFFERS, MISSING, EXTRA)]

    def as_json(self) -> dict[str, Any]:
        counts = self.counts
        return {"equal": self.equal, **{status: counts[status] for status in STATUSES}}


def differing_fields(expected: MessageView, got: MessageView) -> tuple[str, ...]:
    return tuple(name for name in COMPARED if getattr(expected, name) != getattr(got, name))


def compare(expected: Sequence[MessageView], got: Sequence[MessageView], *,
            sent: Iterable[tuple[int, MessageView]] = ()) -> Comparison:
    """Align ``got`` on ``expected`` and name every difference. ``sent``: (answers before it, message)
    pairs, shown as ``sent`` rows before the first row of an expected answer with that index or more."""
    keys_e = [m.key() for m in expected]
    keys_g = [m.key() for m in got]
    aligned: list[tuple[int | None, Row]] = []  # (index of the expected message, row)
    matcher = difflib.SequenceMatcher(None, keys_e, keys_g, autojunk=False)
    for op, e0, e1, g0, g1 in matcher.get_opcodes():
        if op == "equal":
            aligned += [(e0 + k, Row(SAME, expected[e0 + k], got[g0 + k])) for k in range(e1 - e0)]
            continue
        pairs = min(e1 - e0, g1 - g0)
        for k in range(pairs):
            e, g = expected[e0 + k], got[g0 + k]
            aligned.append((e0 + k, Row(DIFFERS, e, g, differing_fields(e, g))))
        aligned += [(e, Row(MISSING, expected[e], None)) for e in range(e0 + pairs, e1)]
        aligned += [(None, Row(EXTRA, None, got[g])) for g in range(g0 + pairs, g1)]
    rows: list[Row] = []
    pending = sorted(sent, key=lambda item: item[0])
    p = 0
    for index, row in aligned:
        while p < len(pending) and index is not None and pending[p][0] <= index:
            rows.append(Row(SENT, pending[p][1], pending[p][1]))
            p += 1
        rows.append(row)
    rows += [Row(SENT, message, message) for _, message in pending[p:]]
    return Comparison(rows)


__all__ = ["COMPARED", "Comparison", "DIFFERS", "EXTRA", "MISSING", "MessageView", "Row", "SAME", "SENT",
           "STATUSES", "compare", "differing_fields"]
