"""Leaf endpoints with configurable behaviour, and the data-plane sink that checks what they receive.

A :class:`LeafEndpoint` is a user-side UNI (its own Q.2931/Q.2971 machines on a signalling channel)
answering for one or more addresses, each with a :class:`LeafBehaviour`:

* ``accept`` - CONNECT to a SETUP (ADD PARTY ACKNOWLEDGE to an ADD PARTY), after ``after`` seconds;
* ``alert`` - ALERTING (PARTY ALERTING) at once, CONNECT (ADD PARTY ACKNOWLEDGE) ``alert_for`` seconds
  later: the root sees ALERTING or PARTY ALERTING first;
* ``reject`` - RELEASE COMPLETE with the given cause to a SETUP (Q.2931 5.2.5: the called user refuses
  before answering), ADD PARTY REJECT with it to an ADD PARTY (Q.2971); with ``alert_for``, ALERTING
  (PARTY ALERTING) first and then RELEASE (DROP PARTY) with the cause - a user that rang, then refused;
* ``silent`` - no answer at all to the offer (the network's T303, or the root's T399, runs out); the
  leaf still takes part in clearing, as a user whose application does not answer but whose signalling
  entity works;
* any accepting behaviour with ``drop_after``: the leaf leaves by itself that many seconds after its
  party became active - RELEASE when it is the call's only party on this UNI, DROP PARTY otherwise.

A called number the leaf does not answer for is refused with cause 88, "incompatible destination"
(Q.931 Annex B.3.1, which Q.2931 keeps for its compatibility checking). The leaf acknowledges every
DROP PARTY and answers every RELEASE, and records each party's history (slot, event, cause) and how it
ended (``released``, ``dropped``, ``rejected``, ``left`` for its own drop).

What the leaf keeps is bounded, so a leaf can run for ever (issue 9's soak): a party's protocol state
is the interface's (its :class:`UniCall`, forgotten by the interface when the call is back in Null,
Q.2931 state U0); the leaf keeps the parties still going, plus the ``history`` most recent ended ones as
records (:attr:`LeafEndpoint.ended`, a deque). A record lets go of its call once that call is closed: it
keeps the VC (``connection``) and its own history, not the call. Offers refused for an unknown number:
the latest ``history`` ones. Everything else is a counter (:attr:`LeafEndpoint.counters`: offers, refusals,
outcomes), and the data sink's per-VC tallies are keyed by VPI/VCI, bounded by the VC space.

The data plane: :class:`DataSink` takes the cells the fabric delivers on the leaf's port, counts them
per VC, reassembles the AAL5 frames (hw.aal5.Reassembler: CRC-32, length, size checks, I.363.5
9.2.2.2) and counts good frames and errors per VC.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Mapping

import numpy as np

from firmware.endpoint.errors import BehaviourError, EndpointError
from firmware.switch.channel import SignallingChannel
from firmware.switch.interface import Message, UniCall, UniInterface
from firmware.switch.routing import format_aesa
from firmware.uni.constants import NumberingPlan
from firmware.uni import access
from firmware.uni.fastcodec import FastIE
from firmware.uni.ies import CalledPartyNumberIE
from firmware.uni.machines import Indicate
from firmware.uni.machines import events as ev
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers
from hw.aal5 import Reassembled, Reassembler
from hw.clock import Clock

ACCEPT, ALERT, REJECT, SILENT = "accept", "alert", "reject", "silent"
#: Ended parties (and refused offers) a leaf keeps as records by default.
HISTORY = 32
#: Q.850 cause 88, "incompatible destination": a call for a number this user does not answer for.
CAUSE_INCOMPATIBLE_DESTINATION = 88


@dataclass(frozen=True)
class LeafBehaviour:
    """How a leaf answers an offer for one of its addresses (times in seconds of the virtual clock)."""

    kind: str = ACCEPT
    cause: int = ev.CAUSE_CALL_REJECTED
    after: float = 0.0
    alert_for: float = 0.0
    drop_after: float | None = None
    drop_cause: int = ev.CAUSE_NORMAL_CLEARING

    def __post_init__(self) -> None:
        if self.kind not in (ACCEPT, ALERT, REJECT, SILENT):
            raise BehaviourError("kind", self.kind, f"one of {ACCEPT}, {ALERT}, {REJECT}, {SILENT}")
        for name in ("cause", "drop_cause"):
            v = getattr(self, name)
            if not isinstance(v, int) or not 1 <= v <= 127:
                raise BehaviourError(name, v, "a cause value 1..127 (Q.850)")
        for name in ("after", "alert_for"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or v < 0:
                raise BehaviourError(name, v, "a duration >= 0 s")
        if self.drop_after is not None and (not isinstance(self.drop_after, (int, float)) or self.drop_after < 0):
            raise BehaviourError("drop_after", self.drop_after, "None or a duration >= 0 s")
        if self.drop_after is not None and self.kind in (REJECT, SILENT):
            raise BehaviourError("drop_after", self.drop_after, f"None for a leaf that does not {ACCEPT}")

    @classmethod
    def accept(cls, *, after: float = 0.0, drop_after: float | None = None,
               drop_cause: int = ev.CAUSE_NORMAL_CLEARING) -> LeafBehaviour:
        return cls(ACCEPT, after=after, drop_after=drop_after, drop_cause=drop_cause)

    @classmethod
    def alert(cls, alert_for: float, *, drop_after: float | None = None,
              drop_cause: int = ev.CAUSE_NORMAL_CLEARING) -> LeafBehaviour:
        return cls(ALERT, alert_for=alert_for, drop_after=drop_after, drop_cause=drop_cause)

    @classmethod
    def reject(cls, cause: int = ev.CAUSE_CALL_REJECTED, *, alert_for: float = 0.0) -> LeafBehaviour:
        return cls(REJECT, cause=cause, alert_for=alert_for)

    @classmethod
    def silent(cls) -> LeafBehaviour:
        return cls(SILENT)


def address_key(number: Any) -> str:
    """One text form for an address however it is given: an AESA (20 octets, or hex text with or
    without dots) as dotted hex, E.164 digits as "+digits", or a Called party number IE."""
    if number.__class__ is FastIE or isinstance(number, CalledPartyNumberIE):
        plan, address = access.field(number, "numbering_plan"), bytes(access.field(number, "address"))
        if plan == NumberingPlan.NSAP:
            return format_aesa(address)
        return "+" + address.decode("latin-1")
    if isinstance(number, (bytes, bytearray)):
        return format_aesa(bytes(number)) if len(number) == 20 else bytes(number).hex()
    text = str(number)
    if text.lstrip("+").isdigit() and len(text.lstrip("+")) <= 15:
        return "+" + text.lstrip("+")
    digits = text.translate({ord(c): None for c in ".: "}).lower()
    return format_aesa(bytes.fromhex(digits)) if len(digits) == 40 else text


_serials = count(1)


@dataclass(eq=False)
class LeafParty:
    """One party this leaf was offered: on a call (``epref``: the network's endpoint reference).
    ``ucall`` is None once the party ended and its call is closed (:meth:`detach`); ``connection``
    (VPCI, VCI) stays."""

    address: str
    behaviour: LeafBehaviour
    ucall: UniCall | None
    epref: int | None
    history: list[tuple[int, str, int | None]] = field(default_factory=list)
    active: bool = False
    outcome: str | None = None
    cause: int | None = None
    serial: int = field(default_factory=lambda: next(_serials))    # order of the offers
    _connection: tuple[int, int] | None = field(default=None, repr=False)

    def events(self) -> list[str]:
        return [e for _, e, _ in self.history]

    @property
    def connection(self) -> tuple[int, int] | None:
        return self.ucall.connection if self.ucall is not None else self._connection

    def detach(self) -> None:
        """The call is back in Null: keep the VC it had, let go of the call."""
        if self.ucall is not None:
            self._connection, self.ucall = self.ucall.connection, None


class DataSink:
    """Cells delivered to a leaf: counted per VC, reassembled into AAL5 frames (CRC-32 checked), kept
    (with ``keep=True``) as (slot, SDU) per VC. ``engine``: the reassembler's "kernel" or "twin"."""

    def __init__(self, *, engine: str = "kernel", keep: bool = True, timeout_slots: int | None = None) -> None:
        self.reassembler = Reassembler(engine=engine, timeout_slots=timeout_slots)
        self.keep = keep
        self.cells: Counter[tuple[int, int]] = Counter()
        self.frames: Counter[tuple[int, int]] = Counter()
        self.octets: Counter[tuple[int, int]] = Counter()
        self.errors: Counter[tuple[tuple[int, int], str]] = Counter()
        self.received: dict[tuple[int, int], list[tuple[int, bytes]]] = {}

    def feed(self, cells: np.ndarray, slots: np.ndarray | int) -> Reassembled:
        cells = np.asarray(cells, dtype=np.uint8).reshape(-1, 53)
        if cells.shape[0]:
            vpi = ((cells[:, 0].astype(np.int64) & 0xF) << 4) | (cells[:, 1] >> 4)
            vci = (((cells[:, 1].astype(np.int64) & 0xF) << 12) | (cells[:, 2].astype(np.int64) << 4)
                   | (cells[:, 3] >> 4))
            keys, counts = np.unique((vpi << 16) | vci, return_counts=True)
            for k, n in zip(keys.tolist(), counts.tolist()):
                self.cells[(k >> 16, k & 0xFFFF)] += n
        out = self.reassembler.feed(cells, slots)
        for sdu in out:
            vc = (sdu.vpi, sdu.vci)
            self.frames[vc] += 1
            self.octets[vc] += len(sdu.sdu)
            if self.keep:
                self.received.setdefault(vc, []).append((sdu.slot, sdu.sdu))
        for err in out.errors:
            self.errors[((err.vpi, err.vci), err.kind)] += 1
        return out

    def close(self, vpi: int, vci: int) -> None:
        """The VC's connection is released: a partial AAL5 PDU it holds is discarded (counted as a
        ``closed`` error of that VC, hw.aal5.Reassembler.close)."""
        error = self.reassembler.close(vpi, vci)
        if error is not None:
            self.errors[((vpi, vci), error.kind)] += 1

    def sdus(self, vpi: int, vci: int) -> list[bytes]:
        return [s for _, s in self.received.get((vpi, vci), [])]

    @property
    def crc_errors(self) -> int:
        return sum(n for (_, kind), n in self.errors.items() if kind == "crc")

    def check_conservation(self) -> None:
        self.reassembler.check_conservation()


class LeafEndpoint:
    """A user-side UNI answering for the addresses in ``behaviours`` (address -> :class:`LeafBehaviour`)."""

    def __init__(self, clock: Clock, channel: SignallingChannel, behaviours: Mapping[Any, LeafBehaviour], *,
                 timers: Timers = DEFAULT_TIMERS, name: str = "leaf", sink: DataSink | None = None,
                 codec: str | None = None, history: int = HISTORY) -> None:
        if not isinstance(history, int) or history < 0:
            raise BehaviourError("history", history, "a number of records >= 0")
        self.clock = clock
        self.name = name
        self.behaviours = {address_key(a): b for a, b in behaviours.items()}
        self.iface = UniInterface(clock, channel, "user", timers=timers, name=name, listener=self, codec=codec)
        self.sink = sink if sink is not None else DataSink()
        #: the ``history`` most recent ended parties, oldest first (records: see the module's docstring)
        self.ended: deque[LeafParty] = deque(maxlen=history)
        #: the ``history`` most recent offers refused for a number the leaf does not answer for: (slot, number)
        self.refused: deque[tuple[int, str]] = deque(maxlen=history)
        #: ``offered``, ``refused`` and one per outcome (``released``, ``dropped``, ``rejected``, ``left``)
        self.counters: Counter[str] = Counter()
        self._live: dict[UniCall, list[LeafParty]] = {}   # parties not ended yet, by call
        self._scheduled: list = []

    # ---- queries
    @property
    def parties(self) -> list[LeafParty]:
        """The parties still going and the recent ended ones, in the order they were offered."""
        return sorted([*self.ended, *self.live_parties()], key=lambda p: p.serial)

    def party(self, address: Any) -> LeafParty:
        """The latest party offered for ``address`` (still going, or among the recent ended ones)."""
        key = address_key(address)
        for p in reversed(self.parties):
            if p.address == key:
                return p
        raise EndpointError(f"{self.name}: no party was offered for {key} (or it ended more than "
                            f"{self.ended.maxlen} parties ago)")

    def live_parties(self) -> list[LeafParty]:
        return [p for ps in self._live.values() for p in ps]

    # ---- the interface's listener
    def on_indication(self, iface: UniInterface, ucall: UniCall, ind: Indicate, message: Message | None) -> None:
        p, cause = ind.primitive, ind.cause
        if p == "setup.indication":
            self._offered(ucall, message, call_level=True)
            return
        if p == "add-party.indication":
            self._offered(ucall, message, call_level=False, epref=ind.instance)
            return
        mine = list(self._live.get(ucall, ()))
        if ind.instance is not None:
            named = [x for x in mine if x.epref == ind.instance]
        else:
            first = ucall.machine.first_epref
            named = [x for x in mine if x.epref == first] or mine[:1]
        for x in named if p not in ("release.indication", "release.confirm") else mine:
            x.history.append((self.clock.now, p, cause))
        if p == "setup-complete.indication":                 # CONNECT ACK: the first party is active
            for x in named:
                self._active(x)
        elif p == "drop-party.indication":
            if ucall.party_state(ind.instance) == "P12":
                iface.request(ucall, ev.DROP_PARTY_ACK_REQUEST, epref=ind.instance)      # Q.2971
            for x in named:
                self._end(x, "dropped", cause)
        elif p == "drop-party-ack.indication":
            for x in named:
                self._end(x, "dropped", cause)
        elif p in ("release.indication", "release.confirm"):
            for x in mine:
                self._end(x, "released", cause)
            if not ucall.closed and ucall.state == "U12":
                iface.request(ucall, ev.RELEASE_RESPONSE)                                  # Q.2931 5.4.4

    def on_closed(self, iface: UniInterface, ucall: UniCall) -> None:
        for x in list(self._live.get(ucall, ())):
            self._end(x, "released", None)
        self._live.pop(ucall, None)
        for x in self.ended:                   # the call is in Null (U0): its records let go of it
            if x.ucall is ucall:
                x.detach()
        if ucall.connection is not None:       # the VC is gone (VPCI = VPI on this UNI, Q.2931 4.5.16)
            self.sink.close(*ucall.connection)

    # ---- behaviours
    def _offered(self, ucall: UniCall, message: Message | None, *, call_level: bool, epref: int | None = None) -> None:
        called = access.called_number(message)
        key = address_key(called) if called is not None else "(none)"
        behaviour = self.behaviours.get(key)
        if call_level:
            epref = access.endpoint_reference(message)
        if behaviour is None:
            self.refused.append((self.clock.now, key))
            self.counters["refused"] += 1
            if call_level:
                self.iface.request(ucall, ev.RELEASE_RESPONSE, cause=CAUSE_INCOMPATIBLE_DESTINATION)
            else:
                self.iface.request(ucall, ev.ADD_PARTY_REJECT_REQUEST, epref=epref,
                                   cause=CAUSE_INCOMPATIBLE_DESTINATION)
            return
        party = LeafParty(key, behaviour, ucall, epref)
        party.history.append((self.clock.now, "offered", None))
        self.counters["offered"] += 1
        self._live.setdefault(ucall, []).append(party)
        b = behaviour
        if b.kind == SILENT:
            return
        if b.kind == REJECT and b.alert_for == 0:
            party.history.append((self.clock.now, "reject", b.cause))
            self._end(party, "rejected", b.cause)
            if call_level:
                self.iface.request(ucall, ev.RELEASE_RESPONSE, cause=b.cause)        # Q.2931 5.2.5
            else:
                self.iface.request(ucall, ev.ADD_PARTY_REJECT_REQUEST, epref=epref, cause=b.cause)   # Q.2971
            return
        if b.kind in (ALERT, REJECT):
            party.history.append((self.clock.now, "alert", None))
            if call_level:
                self.iface.request(ucall, ev.ALERTING_REQUEST)
            else:
                self.iface.request(ucall, ev.PARTY_ALERTING_REQUEST, epref=epref)
        if b.kind == REJECT:
            self._later(b.alert_for, self._refuse_late, party)
            return
        delay = b.after + (b.alert_for if b.kind == ALERT else 0.0)
        self._later(delay, self._answer, party, call_level)

    def _refuse_late(self, party: LeafParty) -> None:
        """Refuse an offer after alerting: RELEASE (Q.2931 5.4.3) when it is the call's only party here,
        DROP PARTY otherwise (Q.2971: ADD PARTY REJECT is no longer possible once PARTY ALERTING went)."""
        if party.outcome is not None or party.ucall.closed:
            return
        party.history.append((self.clock.now, "reject", party.behaviour.cause))
        self._end(party, "rejected", party.behaviour.cause)
        self._clear(party, party.behaviour.cause)

    def _answer(self, party: LeafParty, call_level: bool) -> None:
        if party.outcome is not None or party.ucall.closed:
            return
        party.history.append((self.clock.now, "answer", None))
        if call_level:
            self.iface.request(party.ucall, ev.SETUP_RESPONSE)                  # CONNECT; active on CONNECT ACK
        else:
            self.iface.request(party.ucall, ev.ADD_PARTY_ACK_REQUEST, epref=party.epref)
            self._active(party)                                                 # Q.2971: active once acknowledged

    def _active(self, party: LeafParty) -> None:
        if party.active or party.outcome is not None:
            return
        party.active = True
        party.history.append((self.clock.now, "active", None))
        if party.behaviour.drop_after is not None:
            self._later(party.behaviour.drop_after, self._leave, party)

    def _leave(self, party: LeafParty) -> None:
        """The leaf drops its party by itself: RELEASE when it is the only party of the call here, else
        DROP PARTY (Q.2971)."""
        if party.outcome is not None or party.ucall.closed:
            return
        cause = party.behaviour.drop_cause
        party.history.append((self.clock.now, "leave", cause))
        self._end(party, "left", cause)
        self._clear(party, cause)

    def _clear(self, party: LeafParty, cause: int) -> None:
        others = [x for x in self._live.get(party.ucall, ()) if x is not party]
        if others and self.iface.accepts(party.ucall, ev.DROP_PARTY_REQUEST, party.epref):
            self.iface.request(party.ucall, ev.DROP_PARTY_REQUEST, epref=party.epref, cause=cause)
        elif self.iface.accepts(party.ucall, ev.RELEASE_REQUEST):
            self.iface.request(party.ucall, ev.RELEASE_REQUEST, cause=cause)

    def _end(self, party: LeafParty, outcome: str, cause: int | None) -> None:
        if party.outcome is None:
            party.outcome, party.cause = outcome, cause
            self.counters[outcome] += 1
            live = self._live.get(party.ucall)
            if live is not None:
                live.remove(party)
                if not live:
                    del self._live[party.ucall]
            self.ended.append(party)
            if party.ucall.closed:
                party.detach()

    def _later(self, seconds: float, fn, *args: Any) -> None:
        if seconds <= 0:
            fn(*args)
        else:
            self._scheduled = [h for h in self._scheduled if h.active]
            self._scheduled.append(self.clock.schedule_in(self.clock.slots(seconds), fn, *args))

    @property
    def pending(self) -> bool:
        """True while an answer or a drop of this leaf waits on the clock."""
        return any(h.active for h in self._scheduled)


__all__ = ["ACCEPT", "ALERT", "CAUSE_INCOMPATIBLE_DESTINATION", "DataSink", "HISTORY", "LeafBehaviour", "LeafEndpoint",
           "LeafParty", "REJECT", "SILENT", "address_key"]
