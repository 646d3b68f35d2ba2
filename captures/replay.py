"""Replay: the messages one side of a UNI sent in a capture drive a fresh emulator, and what the
emulator answers is compared, frame by frame, with what the capture holds.

Three parts, each usable alone:

1. **The script** (:func:`build_script`): from the capture's signalling exchanges
   (:mod:`captures.exchange`: SunATM, ERF AAL5 or ERF cells on VPI 0/VCI 5, captures atmemu did not
   write included), the link and the side to replay, the Q.2931 messages that side sent (as octets,
   SSCOP left out: the replaying driver runs its own SSCOP), their times, how many answers of the
   other side came before each, the answers expected, and the parties the root offered with the way
   each ended (:class:`PartyPlan`), from which leaf behaviours are inferred (:func:`leaf_plans`).
2. **The driver** (:class:`Driver`): builds a fresh emulator, sends the script's messages at the
   recorded pace or as fast as the answers allow, and records its own capture of the run with a
   :class:`~captures.recorder.Recorder`. The emulated network is ``firmware.switch.node.SwitchNode``
   (:class:`SwitchNodeDriver`), the emulated leaf ``firmware.endpoint.leaf.LeafEndpoint``
   (:class:`LeafDriver`); :mod:`captures.drivers` builds them.
3. **The comparison** (:mod:`captures.compare`): the answers read back from the driver's capture,
   through the same extraction as the original, against the expected ones.

Sides: ``root`` replays the user side of the root's UNI (the link whose user side sent SETUP or ADD
PARTY; the network is emulated); ``user`` the user side of ``link``; ``network`` the network side of
``link`` (the user endpoint is emulated).

Pace: ``recorded`` sends each message at its time in the capture (from the first frame of the link);
``fast`` sends each message as soon as the answers that preceded it in the capture have come (at most
the recorded gap plus :data:`FAST_WAIT_SLACK_S` of virtual time later), so the run takes as little
virtual time as the emulator's own timers allow.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np

from captures import reader as capture_reader
from captures.compare import Comparison, MessageView, compare
from captures.errors import CaptureError, CaptureFieldError
from captures.exchange import Exchange, Exchanges, read_exchanges
from captures.records import ERF_CELL_RECORD_OCTETS, ERF_TYPE_ATM, LINKTYPE_ERF, erf_cells_from_records
from firmware.uni.constants import CauseValue, MessageType

ROOT, USER, NETWORK = "root", "user", "network"
REPLAY_SIDES = (ROOT, USER, NETWORK)
RECORDED, FAST = "recorded", "fast"
PACES = (RECORDED, FAST)
#: In ``fast`` pace, how much longer than the capture's gap a step waits for the answers before it.
FAST_WAIT_SLACK_S = 1.0
#: After the last step: the longest wait for the answers still expected, beyond the capture's own tail.
TAIL_SLACK_S = 1.0
#: After the answers are in: how long the run goes on to catch answers the capture does not have.
GRACE_S = 1.0

#: Causes a called user gives (Q.850 normal class: busy, rejected, incompatible destination...): a
#: party refused with one of these was refused by its leaf. NO_USER_RESPONDING (18) is the network's
#: T303 running out on a silent leaf. Any other cause (routing 1/3/28, resources 35/37/45/47/49,
#: protocol errors 81-111...) is the network's own answer and makes no leaf behaviour.
LEAF_CAUSES = frozenset({16, 17, 19, 21, 22, 23, 27, 31, 88})
CAUSE_NO_USER_RESPONDING = int(CauseValue.NO_USER_RESPONDING)

_OFFERS = {int(MessageType.SETUP), int(MessageType.ADD_PARTY)}
_ALERTS = {int(MessageType.ALERTING), int(MessageType.PARTY_ALERTING)}
_ACCEPTS = {int(MessageType.CONNECT), int(MessageType.ADD_PARTY_ACKNOWLEDGE)}
_REFUSALS = {int(MessageType.ADD_PARTY_REJECT), int(MessageType.RELEASE_COMPLETE), int(MessageType.RELEASE)}
_DROPS = {int(MessageType.DROP_PARTY), int(MessageType.RELEASE)}
_NS = 1_000_000_000


class ReplayError(CaptureError):
    """Base of the replay's errors."""


class ReplayInputError(ReplayError):
    """The capture cannot be replayed as asked: no signalling, no such link, frames without a
    direction, nothing sent by the side to replay..."""


class ReplayFieldError(ReplayError, CaptureFieldError):
    """An argument out of range (an unknown side or pace)."""


# ------------------------------------------------------------------------------------------ the script
@dataclass(frozen=True)
class ScriptStep:
    """One message the replayed side sent: its capture frame, its time from the link's first frame,
    its Q.2931 octets, what it is, and how many answers of the other side preceded it."""

    frame: int
    offset_ns: int
    octets: bytes
    view: MessageView
    answers_before: int


@dataclass(frozen=True)
class PartyPlan:
    """A party offered on a UNI (SETUP or ADD PARTY) and how the capture shows it ended.

    ``called``: the called party number as the capture gives it (dotted AESA or +digits); ``outcome``:
    "accepted", "rejected", "dropped" (accepted, then dropped or released by the far side) or
    "unanswered"; times in seconds from the offer."""

    call_ref: int
    endpoint_ref: int | None
    called: str | None
    offered_ns: int
    outcome: str = "unanswered"
    cause: int | None = None
    alerted_after_s: float | None = None
    answered_after_s: float | None = None
    refused_after_s: float | None = None
    dropped_after_s: float | None = None  # from the answer
    frame: int = 0


@dataclass(frozen=True)
class LeafPlan:
    """How an emulated leaf should answer for one address, as inferred from the capture: the fields of
    ``firmware.endpoint.leaf.LeafBehaviour`` (``kind`` accept, alert, reject or silent)."""

    kind: str
    cause: int = int(CauseValue.CALL_REJECTED)
    after: float = 0.0
    alert_for: float = 0.0
    drop_after: float | None = None
    drop_cause: int = int(CauseValue.NORMAL_CALL_CLEARING)
    evidence: str = ""  # the link and frame the plan comes from


@dataclass
class ReplayScript:
    """What a driver needs: see the module documentation. ``sent_by`` is the side replayed ("user" or
    "network"); ``expected`` the other side's messages; ``leaves`` the inferred behaviour per called
    address; ``counters`` what was left out (``sscop_frames``: SSCOP's own PDUs, which the driver's
    SSCOP makes; ``retransmissions``; ``not_replayable``: frames of the replayed side whose SSCOP PDU
    did not decode)."""

    source: str
    link: str
    side: str
    sent_by: str
    steps: list[ScriptStep]
    expected: list[MessageView]
    parties: list[PartyPlan]
    leaves: dict[str, LeafPlan]
    duration_ns: int
    counters: Counter = field(default_factory=Counter)


def _root_link(exchanges: Exchanges) -> Exchange:
    """The root's UNI: the first link whose user side sent ADD PARTY, else SETUP; the only link else."""
    for wanted in (int(MessageType.ADD_PARTY), int(MessageType.SETUP)):
        for ex in exchanges:
            if any(f.summary.message_type == wanted for f in ex.messages("user")):
                return ex
    if len(exchanges) == 1:
        return next(iter(exchanges))
    names = ", ".join(ex.link for ex in exchanges)
    undirected = [ex.link for ex in exchanges if not ex.directed]
    hint = (f"; links {', '.join(undirected)} have frames without a direction (ERF): --erf-port0 user|network"
            if undirected else "")
    raise ReplayInputError(f"{exchanges.source}: no link where the user side sent SETUP or ADD PARTY (a root); "
                           f"name the link to replay ({names}){hint}")


def select_link(exchanges: Exchanges, side: str, link: str | None = None) -> Exchange:
    """The exchange to replay: ``link`` when given, else the root's UNI."""
    if side not in REPLAY_SIDES:
        raise ReplayFieldError("side", side, " or ".join(REPLAY_SIDES))
    if not len(exchanges):
        raise ReplayInputError(f"{exchanges.source}: no signalling frames (SunATM, or ERF AAL5/cells on VPI 0/VCI 5)")
    if link is None:
        return _root_link(exchanges)
    if link not in exchanges.links:
        names = ", ".join(ex.link for ex in exchanges)
        raise ReplayInputError(f"{exchanges.source}: no signalling on link {link!r} (links: {names})")
    return exchanges[link]


def build_script(exchanges: Exchanges, *, side: str = ROOT, link: str | None = None) -> ReplayScript:
    """The replay script of one side of one link of a capture's exchanges (see the module doc)."""
    ex = select_link(exchanges, side, link)
    if not ex.directed:
        raise ReplayInputError(f"{exchanges.source}: link {ex.link!r} has signalling frames without a direction "
                               "(ERF records carry none): say whose frames ERF port 0 holds (--erf-port0 user|network)")
    sent_by = NETWORK if side == NETWORK else USER
    t0 = ex.frames[0].time_ns
    steps: list[ScriptStep] = []
    expected: list[MessageView] = []
    counters: Counter = Counter()
    for f in ex.frames:
        if f.retransmission:
            counters["retransmissions"] += 1
        elif f.message is not None:
            view = MessageView.of(f.summary)
            if f.sent_by == sent_by:
                steps.append(ScriptStep(f.frame, f.time_ns - t0, f.message, view, len(expected)))
            else:
                expected.append(view)
        elif f.summary.sscop is None or (f.summary.sscop == "SD" and f.sent_by == sent_by):
            counters["not_replayable" if f.sent_by == sent_by else "undecodable_answers"] += 1
        else:
            counters["sscop_frames"] += 1
    if not steps:
        raise ReplayInputError(f"{exchanges.source}: the {sent_by} side of {ex.link!r} sent no Q.2931 message to replay")
    parties = party_plans(ex, offered_by=sent_by)
    if sent_by == USER:
        leaves = leaf_plans(exchanges, ex.link)
    else:  # the leaf of this link is the one emulated: its own answers say how it behaves
        leaves = {}
        for party in parties:
            plan = _plan_of(party, f"{ex.link} frame {party.frame}") if party.called is not None else None
            if plan is not None and party.called not in leaves:
                leaves[party.called] = plan
    return ReplayScript(source=exchanges.source, link=ex.link, side=side, sent_by=sent_by, steps=steps,
                        expected=expected, parties=parties, leaves=leaves,
                        duration_ns=ex.frames[-1].time_ns - t0, counters=counters)


# ------------------------------------------------------------------------------------------ parties
def party_plans(ex: Exchange, *, offered_by: str) -> list[PartyPlan]:
    """Every party ``offered_by`` one side of a link (SETUP, ADD PARTY) and how the far side answered
    it (ALERTING/PARTY ALERTING, CONNECT/ADD PARTY ACKNOWLEDGE, ADD PARTY REJECT or RELEASE
    (COMPLETE) with a cause, a later DROP PARTY or RELEASE)."""
    plans: dict[tuple[int, int | None], dict[str, Any]] = {}
    first_party: dict[int, tuple[int, int | None]] = {}  # call reference -> the SETUP's party
    for f in ex.messages():
        s = f.summary
        if s.call_ref is None or s.message_type is None:
            continue
        t = f.time_ns
        if f.sent_by == offered_by:
            if s.message_type in _OFFERS:
                key = (s.call_ref, s.endpoint_ref)
                plans[key] = {"call_ref": s.call_ref, "endpoint_ref": s.endpoint_ref, "called": s.called,
                              "offered_ns": t, "frame": s.frame}
                if s.message_type == int(MessageType.SETUP):
                    first_party[s.call_ref] = key
            continue
        key = (s.call_ref, s.endpoint_ref) if s.endpoint_ref is not None else first_party.get(s.call_ref)
        plan = plans.get(key) if key is not None else None
        if plan is None:
            if s.endpoint_ref is None and s.message_type in _DROPS | _REFUSALS:
                for other in (p for p in plans.values() if p["call_ref"] == s.call_ref):
                    _party_event(other, s.message_type, s.causes, t)  # a call-level clearing: every party
            continue
        _party_event(plan, s.message_type, s.causes, t)
    return [PartyPlan(**p) for p in plans.values()]


def _party_event(plan: dict[str, Any], message_type: int, causes: tuple[int, ...], t: int) -> None:
    since = (t - plan["offered_ns"]) / _NS
    outcome = plan.get("outcome", "unanswered")
    cause = causes[0] if causes else None
    if message_type in _ALERTS and outcome == "unanswered":
        plan.setdefault("alerted_after_s", since)
    elif message_type in _ACCEPTS and outcome == "unanswered":
        plan["outcome"], plan["answered_after_s"] = "accepted", since
    elif message_type in _REFUSALS and outcome == "unanswered":
        plan["outcome"], plan["cause"], plan["refused_after_s"] = "rejected", cause, since
    elif message_type in _DROPS and outcome == "accepted":
        plan["outcome"], plan["cause"] = "dropped", cause
        plan["dropped_after_s"] = since - plan["answered_after_s"]


def _user_delay(seconds: float) -> float:
    """A leaf's own delay (answering, ringing, staying) as the capture shows it, to the millisecond: what
    is under half a millisecond is the latency of the stack and the lines, which the emulator adds by
    itself (an OC-3c slot is 2.8 us; the SAAL of a UNI answers within a few slots)."""
    return max(0.0, round(seconds, 3))


def _plan_of(party: PartyPlan, evidence: str) -> LeafPlan | None:
    """The leaf behaviour a party's ending implies, or None when the network ended it by itself."""
    alerted = party.alerted_after_s
    if party.outcome == "accepted" or party.outcome == "dropped":
        answered = party.answered_after_s or 0.0
        drop = {}
        if party.outcome == "dropped" and party.cause in LEAF_CAUSES:
            drop = {"drop_after": _user_delay(party.dropped_after_s), "drop_cause": party.cause}
        if alerted is not None:
            return LeafPlan("alert", alert_for=_user_delay(answered - alerted), evidence=evidence, **drop)
        return LeafPlan("accept", after=_user_delay(answered), evidence=evidence, **drop)
    if party.outcome == "rejected":
        if party.cause == CAUSE_NO_USER_RESPONDING:
            return LeafPlan("silent", evidence=evidence)
        if party.cause in LEAF_CAUSES:
            alert_for = 0.0
            if alerted is not None:
                alert_for = _user_delay((party.refused_after_s or 0.0) - alerted)
            return LeafPlan("reject", cause=party.cause, alert_for=alert_for, evidence=evidence)
        return None
    if party.outcome == "unanswered":
        return LeafPlan("silent", evidence=evidence)
    return None


def leaf_plans(exchanges: Exchanges, root_link: str) -> dict[str, LeafPlan]:
    """The behaviour of the leaf behind each called address. A leaf's own UNI in the capture (a link
    where the network offered the party) is the best evidence; the root's view (the answer the network
    passed on, with its cause) serves for addresses whose UNI is not in the capture. The first offer of
    an address decides."""
    plans: dict[str, LeafPlan] = {}
    for ex in exchanges:
        if ex.link == root_link or not ex.directed:
            continue
        for party in party_plans(ex, offered_by=NETWORK):
            if party.called is not None and party.called not in plans:
                plan = _plan_of(party, f"{ex.link} frame {party.frame}")
                if plan is not None:
                    plans[party.called] = plan
    if root_link in exchanges.links and exchanges[root_link].directed:
        for party in party_plans(exchanges[root_link], offered_by=USER):
            if party.called is not None and party.called not in plans:
                plan = _plan_of(party, f"{root_link} frame {party.frame}")
                if plan is not None:
                    plans[party.called] = plan
    return plans


# ------------------------------------------------------------------------------------------ drivers
@dataclass
class DriverRun:
    """What a driver did: the capture it recorded, the name of the replayed link in it, its counters."""

    capture: Path
    link: str
    counters: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Driver(Protocol):
    """Runs a script against a fresh emulator and records the run in ``capture`` (a path)."""

    name: str

    def run(self, script: ReplayScript, *, pace: str, capture: Path) -> DriverRun: ...


def pace_plan(script: ReplayScript, pace: str, cells_per_second: int) -> list[tuple[int, int, int]]:
    """For each step: (slot to send at in recorded pace, answers to wait for, longest wait in slots) —
    the schedule every driver follows. Recorded pace: the step's own time; fast: wait for the answers
    that preceded it, at most the recorded gap since the previous step plus the slack."""
    if pace not in PACES:
        raise ReplayFieldError("pace", pace, " or ".join(PACES))
    out = []
    previous = 0
    for step in script.steps:
        # Rounded to the nearest slot: a capture's nanoseconds are slots rounded down, and the difference
        # of two is within a nanosecond of a whole number of slots (a slot is over 40 ns).
        at = (step.offset_ns * cells_per_second + _NS // 2) // _NS
        gap = max(0, step.offset_ns - previous)
        wait = (gap + int(FAST_WAIT_SLACK_S * _NS)) * cells_per_second // _NS
        out.append((at, step.answers_before, wait))
        previous = step.offset_ns
    return out


def tail_slots(script: ReplayScript, cells_per_second: int) -> tuple[int, int]:
    """(longest wait for the answers still expected after the last step, grace after them), in slots."""
    last = script.steps[-1].offset_ns if script.steps else 0
    tail = max(0, script.duration_ns - last) + int(TAIL_SLACK_S * _NS)
    return tail * cells_per_second // _NS, int(GRACE_S * cells_per_second)


class SwitchNodeDriver:
    """The root's side replayed against the emulated switch (``firmware.switch.node.SwitchNode``):
    the driver acts as the root through its own SSCOP on port 0; leaves with the inferred behaviours
    on the other ports (:func:`captures.drivers.run_on_switch_node`)."""

    name = "switch-node"

    def run(self, script: ReplayScript, *, pace: str, capture: Path) -> DriverRun:
        from captures import drivers  # here: captures.drivers imports this module

        return drivers.run_on_switch_node(script, pace=pace, capture=capture)


class LeafDriver:
    """The network's side of a leaf's UNI replayed against an emulated leaf endpoint
    (:func:`captures.drivers.run_on_leaf`)."""

    name = "leaf"

    def run(self, script: ReplayScript, *, pace: str, capture: Path) -> DriverRun:
        from captures import drivers  # here: captures.drivers imports this module

        return drivers.run_on_leaf(script, pace=pace, capture=capture)


def default_driver(script: ReplayScript) -> Driver:
    """The emulator for a script: the switch for a user side, a leaf for a network side."""
    return LeafDriver() if script.sent_by == NETWORK else SwitchNodeDriver()


DRIVERS: dict[str, type] = {SwitchNodeDriver.name: SwitchNodeDriver, LeafDriver.name: LeafDriver}


# ------------------------------------------------------------------------------------------ replay
@dataclass
class ReplayResult:
    script: ReplayScript
    run: DriverRun
    got: list[MessageView]
    comparison: Comparison

    @property
    def equal(self) -> bool:
        return self.comparison.equal


def answers_in(capture: str | os.PathLike, link: str, sent_by: str) -> list[MessageView]:
    """The new messages ``sent_by`` one side of ``link`` in a capture (a driver's recording)."""
    exchanges = read_exchanges(capture)
    if link not in exchanges.links:
        return []
    return [MessageView.of(f.summary) for f in exchanges[link].messages(sent_by)]


def replay(source: str | os.PathLike | BinaryIO, *, side: str = ROOT, link: str | None = None, pace: str = FAST,
           driver: Driver | None = None, erf_port0: str | None = None,
           output: str | os.PathLike | None = None) -> ReplayResult:
    """Replay one side of a capture against a fresh emulator and compare (see the module doc).
    ``output``: where the driver's own capture goes (default: a temporary file, removed after)."""
    if pace not in PACES:
        raise ReplayFieldError("pace", pace, " or ".join(PACES))
    script = build_script(read_exchanges(source, erf_port0=erf_port0), side=side, link=link)
    driver = driver if driver is not None else default_driver(script)
    answered_by = NETWORK if script.sent_by == USER else USER
    if output is not None:
        run = driver.run(script, pace=pace, capture=Path(output))
        got = answers_in(run.capture, run.link, answered_by)
    else:
        with tempfile.TemporaryDirectory(prefix="atmemu-replay-") as folder:
            run = driver.run(script, pace=pace, capture=Path(folder) / "replay.pcapng")
            got = answers_in(run.capture, run.link, answered_by)
    comparison = compare(script.expected, got, sent=[(s.answers_before, s.view) for s in script.steps])
    return ReplayResult(script, run, got, comparison)


# ------------------------------------------------------------------------------------------ cells
@dataclass
class CellReplay:
    """A cell capture through the fabric: cells in, out and dropped (by cause), still queued, the
    virtual slots run and the wall time of the fabric's work (reading the file left out). ``inputs`` maps each (interface name, ERF port) to its input."""

    cells_read: int
    cells_in: int
    cells_out: int
    dropped: dict[str, int]
    queued: int
    slots: int
    seconds: float
    inputs: dict[str, int]
    vcs: int
    other_records: int

    @property
    def cells_dropped(self) -> int:
        return sum(self.dropped.values())

    @property
    def rate(self) -> float:
        """Cells through the fabric per second of wall time."""
        return self.cells_in / self.seconds if self.seconds > 0 else 0.0

    @property
    def conserved(self) -> bool:
        """cells in = out + dropped + queued (one copy per cell: every VC here has one leaf)."""
        return self.cells_in == self.cells_out + self.cells_dropped + self.queued

    def as_json(self) -> dict[str, Any]:
        return {"cells_read": self.cells_read, "cells_in": self.cells_in, "cells_out": self.cells_out,
                "cells_dropped": self.cells_dropped, "dropped": self.dropped, "queued": self.queued,
                "slots": self.slots, "seconds": self.seconds, "cells_per_second": self.rate,
                "inputs": self.inputs, "vcs": self.vcs, "other_records": self.other_records,
                "conserved": self.conserved}


def replay_cells(source: str | os.PathLike | BinaryIO, *, pace: str = FAST, ports: int = 16,
                 rate: str = "OC-3c", arch: str = "oq", drain_slots: int = 1 << 20) -> CellReplay:
    """Feed the ERF type 3 cells of a capture into a fresh fabric (``hw.fabric.Fabric.inject``), as a
    throughput test. Each (interface, ERF port) of the capture is one input line (0, 1, ... in order of
    appearance); each VC met is programmed through the fabric's registers to the mirror output
    (``ports - 1 - input``), header kept. ``fast``: cells back to back on their line; ``recorded``: at
    their capture time (``rate`` gives the slot), or the next free slot of the line. The fabric then
    runs until its queues are empty (at most ``drain_slots``)."""
    from hw.fabric.fabric import Fabric
    from hw.fabric.config import FabricConfig
    from hw.fabric.counters import NIL, Drop
    from hw.rates import rate as line_rate

    if pace not in PACES:
        raise ReplayFieldError("pace", pace, " or ".join(PACES))
    cps = line_rate(rate).cells_per_second
    fabric = Fabric(FabricConfig(ports=ports, arch=arch))
    regs = fabric.regs
    inputs: dict[tuple[int, int, int], int] = {}
    names: dict[str, int] = {}
    vcs: dict[tuple[int, int], int] = {}  # (input, VPI << 16 | VCI) -> VC entry
    next_entry = 2 * ports  # entries 0..2N-1 are the fabric's reserved ones
    cells_read = other = 0
    line_next: dict[int, int] = {}  # input line -> its next free slot
    t0: int | None = None
    seconds = 0.0  # wall time of the fabric's work (injecting and running), not of reading the file
    with capture_reader.open(source) as rd:
        for batch in rd.batches():
            d = batch.data
            is_cell = (batch.linktype == LINKTYPE_ERF) & (d.shape[1] == ERF_CELL_RECORD_OCTETS)
            if d.shape[1] >= 9:
                is_cell &= d[:, 8] == ERF_TYPE_ATM
            other += int((~is_cell).sum())
            if not is_cell.any():
                continue
            rows = np.flatnonzero(is_cell)
            got = erf_cells_from_records(d[rows])
            cells_read += len(rows)
            ports_of = got.interface.astype(np.int64)
            ifaces = batch.interface[rows].astype(np.int64)
            if t0 is None:
                t0 = int(got.time_ns[0])
            for iface, port in sorted(set(zip(ifaces.tolist(), ports_of.tolist()))):
                key = (batch.section, iface, port)
                if key not in inputs:
                    if len(inputs) >= ports:
                        raise ReplayInputError(f"{rd.name}: more than {ports} (interface, ERF port) inputs; "
                                               "give the fabric more ports")
                    inputs[key] = len(inputs)
                    name = rd.interface(batch.section, iface).name or f"if{iface}"
                    names[f"{name} port {port}"] = inputs[key]
                line = inputs[key]
                start = time.perf_counter()
                sel = (ifaces == iface) & (ports_of == port)
                cells = got.cells[sel]
                words = np.ascontiguousarray(cells[:, :4]).view(">u4").reshape(-1)
                for vc in np.unique((words >> np.uint32(4)) & np.uint32(0xFFFFFF)).tolist():
                    if (line, vc) in vcs:
                        continue
                    if next_entry >= fabric.config.vcs or next_entry >= fabric.config.leaves:
                        raise ReplayInputError(f"{rd.name}: more VCs than the fabric's tables hold")
                    out = ports - 1 - line
                    regs.set("LEAF.PORT", next_entry, PORT=out)
                    regs.set("LEAF.HDR", next_entry, VPI=vc >> 16, VCI=vc & 0xFFFF)
                    regs.set("LEAF.NEXT", next_entry, LEAF=NIL)
                    regs.set("LEAF.CTRL", next_entry, VALID=1, KEEP_HEADER=1)
                    regs.set("VC.HEAD", next_entry, LEAF=next_entry)
                    regs.set("VC.PORT", next_entry, PORT=line)
                    regs.set("VC.KEY", next_entry, VPI=vc >> 16, VCI=vc & 0xFFFF)
                    regs.set("VC.CTRL", next_entry, VALID=1)
                    vcs[(line, vc)] = next_entry
                    next_entry += 1
                if pace == FAST:
                    last = int(fabric.inject(line, cells)[-1])
                else:
                    first_free = max(line_next.get(line, 0), fabric.now)
                    last = _inject_recorded(fabric, line, cells, got.time_ns[sel], t0, cps, first_free)
                line_next[line] = last + 1
                seconds += time.perf_counter() - start
            start = time.perf_counter()
            fabric.run(max(line_next.values(), default=fabric.now))
            seconds += time.perf_counter() - start
        start = time.perf_counter()
        limit = fabric.now + drain_slots
        while fabric.queued_copies() and fabric.now < limit:
            fabric.run(min(limit, fabric.now + 4096))
        seconds += time.perf_counter() - start
    p = range(ports)
    cells_in = sum(regs.get("PORT.RX_CELLS", "COUNT", i) for i in p)
    cells_out = sum(regs.get("PORT.TX_CELLS", "COUNT", i) for i in p)
    dropped = {cause.key: sum(regs.get(f"PORT.DROP_IN_{cause.name}", "COUNT", i) for i in p) for cause in Drop}
    return CellReplay(cells_read, cells_in, cells_out, {k: v for k, v in dropped.items() if v},
                      fabric.queued_copies(), fabric.now, seconds, names, len(vcs), other)


def _inject_recorded(fabric: Any, line: int, cells: np.ndarray, times: np.ndarray, t0: int, cps: int,
                     first_free: int) -> int:
    """Cells at their recorded slots, or the next free slot of the line (``s'[i] = max(s[i], s'[i-1] + 1,
    first_free + i)``, vectorised), one inject per run of consecutive slots; returns the last slot."""
    slots = (times.astype(np.int64) - t0) * cps // _NS
    slots = np.maximum.accumulate(np.maximum(slots, first_free + np.arange(len(slots)))
                                  - np.arange(len(slots))) + np.arange(len(slots))
    breaks = np.flatnonzero(np.diff(slots) != 1) + 1
    for part_cells, part_slots in zip(np.split(cells, breaks), np.split(slots, breaks)):
        fabric.inject(line, part_cells, at=int(part_slots[0]))
    return int(slots[-1])


__all__ = ["CellReplay", "DRIVERS", "Driver", "DriverRun", "FAST", "LeafPlan", "PACES", "PartyPlan", "RECORDED",
           "REPLAY_SIDES", "ReplayError", "ReplayFieldError", "ReplayInputError", "ReplayResult", "ReplayScript",
"ScriptStep", "SwitchNodeDriver", "LeafDriver", "default_driver", "answers_in", "build_script",
           "leaf_plans", "pace_plan", "party_plans", "replay", "replay_cells", "select_link", "tail_slots"]
