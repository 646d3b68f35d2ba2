"""One call at one interface: a Q.2931 call machine and, for a point-to-multipoint call, one Q.2971
party machine per endpoint reference, composed the way Q.2971 composes them.

* The call machine sees every event first. A party message or primitive that its state allows comes
  back as ``Forward``; the party machine named by the endpoint reference then handles it. A message
  naming an endpoint reference not in use reaches a fresh party machine in P0, which answers it as
  Q.2971 says (DROP PARTY ACKNOWLEDGE, cause 89) and is not kept.
* The call machine's ``Signal`` actions drive the parties: its SETUP creates the first party
  (endpoint reference of the SETUP, 0 by default), ALERTING / CONNECT / CONNECT ACK move it, and
  clearing the call releases every party.
* The last party rule of Q.2971: when a party event leaves no party being added or active while the
  call is not already clearing, the call is cleared with RELEASE instead - the DROP PARTY, DROP PARTY
  ACKNOWLEDGE or ADD PARTY REJECT that the party would have sent is not sent (ngatm's
  ``SIGC_SEND_DROP_PARTY`` & co.), and the cause of the party's event goes into the RELEASE.

``Call.handle`` returns a :class:`CallStep` whose ``actions`` are all the caller has to carry out, in
order: ``Send`` (``instance`` = endpoint reference for a party's message), ``Indicate``,
``StartTimer`` / ``StopTimer`` (``instance`` = endpoint reference for T397/T398/T399), ``CountCause``
and ``Discard``. A STATUS always carries the call state, and the endpoint reference and endpoint state
when it concerns a party. Party timers are fed back with their endpoint reference:
``call.handle("T399", epref=3)``.

Not here: the call reference flag and the mapping of call references to calls (the interface's call
table), the global call reference (``restart.RestartControl``), the decoding of messages.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from firmware.uni.machines import call_network, call_user, party
from firmware.uni.machines import events as ev
from firmware.uni.machines.errors import ParameterError, UNIError, UNIProtocolError, UnknownEventError
from firmware.uni.machines.table import (
    TO_ALL_PARTIES,
    TO_NAMED_PARTY,
    TO_NEW_PARTY,
    Action,
    CountCause,
    Counters,
    Discard,
    EventKind,
    Forward,
    Machine,
    Send,
    Side,
    Signal,
    Step,
    Table,
    check_params,
)
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers

#: Largest call reference value (23 bits, Q.2931 4.3) and endpoint reference value (15 bits, Q.2971).
MAX_CREF = (1 << 23) - 1
MAX_EPREF = (1 << 15) - 1

#: What the party would have sent for its own clearing, replaced by RELEASE for the last party.
_LAST_PARTY_MESSAGES = (ev.DROP_PARTY, ev.DROP_PARTY_ACK, ev.ADD_PARTY_REJECT)
_PARTY_EVENTS = frozenset((*ev.PARTY_MESSAGES, *ev.PARTY_PRIMITIVES))
_NAMED_BY_FIRST_PARTY = frozenset((ev.SETUP, ev.CALL_PROCEEDING, ev.ALERTING, ev.CONNECT))
_LIVE = frozenset(party.LIVE)
_ALIASES = ev.ALIASES
_AAL = frozenset(ev.AAL_PRIMITIVES)
_PARTY_TIMERS = frozenset(ev.PARTY_TIMERS)
_SETUPS = frozenset((ev.SETUP, ev.SETUP_REQUEST))
_INTERNAL, _PRIMITIVE = EventKind.INTERNAL, EventKind.PRIMITIVE
_object_new = object.__new__


@functools.lru_cache(maxsize=16)
def _kinds(call_table: Table, party_table: Table) -> dict[str, EventKind]:
    """Kind of every event a call with these tables takes: the call table's, else the party table's
    (``Call.kind`` as one lookup)."""
    return {**party_table.events, **call_table.events}


@functools.lru_cache(maxsize=16)
def tables(side: Side, timers: Timers = DEFAULT_TIMERS) -> tuple[Table, Table]:
    """(call table, party table) of one side, built once per set of timer durations."""
    if side is Side.USER:
        call_table = call_user.USER_CALL if timers == DEFAULT_TIMERS else call_user.build(timers)
    else:
        call_table = call_network.NETWORK_CALL if timers == DEFAULT_TIMERS else call_network.build(timers)
    if timers == DEFAULT_TIMERS:
        party_table = party.USER_PARTY if side is Side.USER else party.NETWORK_PARTY
    else:
        party_table = party.build(side, timers)
    return call_table, party_table


#: (call table, party table, kinds) of each side with the default timers
_DEFAULT_TABLES = {side: (*tables(side), _kinds(*tables(side))) for side in Side}


@dataclass(frozen=True)
class CallStep:
    """What one event did to the call and its parties."""

    event: str
    epref: int | None
    steps: tuple[Step, ...]       # the machine steps, in the order they ran
    actions: tuple[Action, ...]   # what the caller has to do, in order
    state: str                    # the call state afterwards

    @property
    def answered(self) -> bool:
        """True when the event was an unexpected message that got the standard answer."""
        for s in self.steps:
            if s.answered:
                return True
        return False

    def sends(self) -> list[Send]:
        return [a for a in self.actions if isinstance(a, Send)]

    def messages(self) -> list[str]:
        return [a.message for a in self.sends()]

    def indications(self) -> list[str]:
        return [a.primitive for a in self.actions if hasattr(a, "primitive")]


class Call:
    """A call with its parties. ``side`` is the side of the interface this end plays."""

    def __init__(self, cref: int, side: Side | str, *, multipoint: bool | None = None,
                 timers: Timers = DEFAULT_TIMERS) -> None:
        if not isinstance(cref, int) or isinstance(cref, bool) or not 0 <= cref <= MAX_CREF:
            raise ParameterError("cref", cref, f"a call reference value in 0..{MAX_CREF}")
        self.cref = cref
        self.side = side if side.__class__ is Side else Side(side)
        if timers is DEFAULT_TIMERS:   # (the tables' cache without hashing the timers)
            self.call_table, self.party_table, self._kinds = _DEFAULT_TABLES[self.side]
        else:
            self.call_table, self.party_table = tables(self.side, timers)
            self._kinds = _kinds(self.call_table, self.party_table)
        self.machine = Machine(self.call_table)
        self.parties: dict[int, Machine] = {}
        self.first_epref: int | None = None
        self.multipoint = multipoint
        self.counters = Counters()
        self._next_epref = 1

    # ---- queries
    @property
    def state(self) -> str:
        return self.machine.state

    @property
    def released(self) -> bool:
        """The call is in Null: its call reference may be reused."""
        return self.machine.state == self.call_table.initial

    def party_state(self, epref: int) -> str:
        p = self.parties.get(epref)
        return self.party_table.initial if p is None else p.state

    def party_states(self) -> dict[int, str]:
        return {e: p.state for e, p in sorted(self.parties.items())}

    def live_parties(self) -> list[int]:
        return [e for e, p in sorted(self.parties.items()) if p._state in _LIVE]

    def live_count(self) -> int:
        """How many parties are being added or active (the last-party rule's count)."""
        n = 0
        for p in self.parties.values():
            if p._state in _LIVE:
                n += 1
        return n

    def allocate_epref(self) -> int:
        """The next endpoint reference value not in use, counting on from the last one given (as
        ngatm does, so that a value just released is not reused at once), wrapping at 2**15."""
        start = self._next_epref
        while True:
            value = self._next_epref
            self._next_epref = (value + 1) & MAX_EPREF
            if value not in self.parties and value != self.first_epref:
                return value
            if self._next_epref == start:
                raise UNIProtocolError(self.party_table.name, self.party_table.initial, ev.ADD_PARTY_REQUEST,
                                       cause=47, reason="no endpoint reference value free")

    def kind(self, event: str) -> EventKind | None:
        return self._kinds.get(event)

    def allowed_primitives(self) -> list[tuple[str, int | None]]:
        """The local primitives the call and its parties accept now, as (primitive, endpoint reference)
        pairs; ``add-party.request`` comes with None (a free endpoint reference is chosen)."""
        out: list[tuple[str, int | None]] = []
        for name, kind in self.call_table.events.items():
            if kind is not EventKind.PRIMITIVE or name in _AAL or not self.machine.accepts(name):
                continue   # (the AAL's primitives come from the layer below, not from the local user)
            if name not in _PARTY_EVENTS:
                out.append((name, None))
            elif not self.multipoint:
                continue
            elif name == ev.ADD_PARTY_REQUEST:
                out.append((name, None))
            else:
                out += [(name, e) for e, p in sorted(self.parties.items()) if p.accepts(name)]
        return out

    # ---- the event
    def handle(self, event: str, /, *, epref: int | None = None, **params: Any) -> CallStep:
        """Apply ``event`` (a message, a primitive or a timer expiry) to the call and its parties."""
        return self.handle_params(event, epref, params, checked=False)

    def handle_params(self, event: str, epref: int | None, params: dict[str, Any], *,
                      checked: bool) -> CallStep:
        """:meth:`handle` with the parameters as a dict, which becomes the call's. ``checked``: the caller
        vouches that every parameter is within its range (``table.check_params``), as the values decoded
        from a message are (the decoder has checked each field's width: cause 7 bits, call and endpoint
        state 6 bits, endpoint reference value 15 bits), so they are not checked again."""
        event = _ALIASES.get(event, event)
        kind = self._kinds.get(event)
        if kind is None:
            raise UnknownEventError(self.call_table.name, self.state, event)
        if kind is _INTERNAL:
            raise UNIProtocolError(self.call_table.name, self.state, event, reason="internal signal, not for callers")
        if epref is not None:
            params["epref"] = epref
        saved = (self.multipoint, self._next_epref)
        try:
            run = self._run(event, epref, params, checked)
        except UNIError:
            # nothing has moved in the machines; undo the bookkeeping done on the way
            self.multipoint, self._next_epref = saved
            raise
        actions = tuple(run.out)
        counters = self.counters
        for a in actions:
            cls = a.__class__
            if cls is CountCause:
                if isinstance(a.cause, int):
                    counters.causes[a.cause] += 1
            elif cls is Discard:
                counters.discards[a.reason] += 1
        step = _object_new(CallStep)   # the frozen dataclass, its fields set in its __dict__ directly
        d = step.__dict__
        d["event"] = event
        d["epref"] = params.get("epref")
        d["steps"] = tuple(run.steps)
        d["actions"] = actions
        d["state"] = self.machine._state
        return step

    def _run(self, event: str, epref: int | None, params: dict[str, Any], checked: bool) -> _Run:
        # The event's parameters are checked (check_params) just before the first machine takes them, as
        # Machine.handle would; the machines then run them with Machine.step, unchecked and uncopied.
        run = _Run(self, event, params)
        if event in _PARTY_TIMERS:
            target = self.parties.get(epref) if epref is not None else None
            if target is None:
                raise UNIProtocolError(self.party_table.name, self.party_table.initial, event,
                                       reason=f"no party with endpoint reference {epref}")
            if not checked:
                check_params(params)
            run.party_event(epref, event, params)
        elif event in _PARTY_EVENTS:
            run.party_primitive_checks()
            if self.multipoint is not True and not self.released:
                step = self.machine.reject(event, _reason="not a point-to-multipoint call", **params)
            else:
                if not checked:
                    check_params(params)
                step = self.machine.step(event, params)
            run.call_step(step)
        else:
            if event in _SETUPS and self.released:
                if self.multipoint is None:
                    self.multipoint = bool(params.get("multipoint", epref is not None))
                if self.multipoint and params.get("epref") is None:
                    params["epref"] = 0       # the first party's endpoint reference by default
            if params and not checked:
                check_params(params)
            run.call_step(self.machine.step(event, params))
        if run.live_delta < 0:
            run.last_party_rule()
        return run

    def __repr__(self) -> str:
        return f"<Call {self.cref} {self.side.value} {self.state} parties={self.party_states()}>"


class _Run:
    """The work of one ``Call.handle``: collects steps and actions, routes Forward and Signal."""

    __slots__ = ("call", "event", "params", "steps", "out", "live_delta", "party_ran", "party_sends")

    def __init__(self, call: Call, event: str, params: dict[str, Any]) -> None:
        self.call = call
        self.event = event
        self.params = params
        self.steps: list[Step] = []
        self.out: list[Action] = []
        self.live_delta = 0   # live parties gained by this event (each party step's before/after states)
        self.party_ran = False
        self.party_sends: list[Send] = []

    def party_primitive_checks(self) -> None:
        c, e = self.call, self.event
        if c._kinds.get(e) is not _PRIMITIVE or self.params.get("epref") is not None:
            return
        if e == ev.ADD_PARTY_REQUEST:
            self.params["epref"] = c.allocate_epref()
        else:
            raise UNIProtocolError(c.party_table.name, "P0", e, reason="an endpoint reference is required")

    def call_step(self, step: Step) -> None:
        self.steps.append(step)
        for action in step.actions:
            cls = action.__class__
            if cls is Forward:
                self.forward()
            elif cls is Signal:
                self.signal(action)
            elif cls is Send:
                self.out.append(self.complete(action, None))
            else:
                self.out.append(action)

    def forward(self) -> None:
        epref = self.params.get("epref")
        if epref is not None:
            self.party_event(epref, self.event, self.params)
        elif self.event in ev.PARTY_MESSAGES:
            # The endpoint reference IE is mandatory in every party message (Q.2971 message definitions).
            c = self.call
            self.out += [self.complete(Send(ev.STATUS, cause=ev.CAUSE_MANDATORY_IE_MISSING,
                                            ies=(("call_state", c.machine.code),)), None),
                         CountCause(ev.CAUSE_MANDATORY_IE_MISSING)]
        # STATUS / STATUS ENQUIRY without an endpoint reference concern the call only.

    def party_event(self, epref: int, event: str, params: dict[str, Any]) -> None:
        c = self.call
        p = c.parties.get(epref)
        fresh = p is None
        if fresh:
            p = Machine(c.party_table, instance=epref)
        step = p.step(event, params)     # params checked by Call._run
        if fresh and p.state != c.party_table.initial:
            c.parties[epref] = p
        self.record_party(p, step)

    def signal(self, action: Signal) -> None:
        c = self.call
        if action.to == TO_NEW_PARTY:
            if not c.multipoint:
                return
            epref = self.params.get("epref", 0)
            p = Machine(c.party_table, instance=epref)
            c.parties[epref] = p
            c.first_epref = epref
            self.record_party(p, p.step(action.event, {}))
        elif action.to == TO_NAMED_PARTY:
            epref = self.params.get("epref")
            if epref not in c.parties:
                epref = c.first_epref
            p = c.parties.get(epref) if epref is not None else None
            if p is None:
                return          # a point-to-point call, or the first party is gone already
            if p.accepts(action.event):
                self.record_party(p, p.step(action.event, {}))
            else:
                self.out.append(Discard(f"{action.event} not applicable in party state {p.state}"))
        elif action.to == TO_ALL_PARTIES:
            for epref in sorted(c.parties):
                p = c.parties[epref]
                if p.accepts(action.event):
                    self.record_party(p, p.step(action.event, {}))
        else:
            raise UNIProtocolError(c.call_table.name, c.state, action.event,
                                   reason=f"unknown signal target {action.to}")

    def record_party(self, p: Machine, step: Step) -> None:
        self.party_ran = True
        self.steps.append(step)
        self.live_delta += (step.after in _LIVE) - (step.before in _LIVE)
        for action in step.actions:
            if action.__class__ is Send:
                done = self.complete(action, p)
                if done.message in _LAST_PARTY_MESSAGES and not step.answered:
                    self.party_sends.append(done)
                self.out.append(done)
            else:
                self.out.append(action)
        if p._state == self.call.party_table.initial:
            self.call.parties.pop(p.instance, None)

    def complete(self, action: Action, p: Machine | None) -> Action:
        """Add what the caller needs to a message: to a STATUS the call state, endpoint reference and
        endpoint state; to the call's establishment messages of a point-to-multipoint call the
        endpoint reference of its first party (Q.2971: mandatory there)."""
        if action.__class__ is not Send:
            return action
        c = self.call
        message = action.message
        if message in _NAMED_BY_FIRST_PARTY:
            if c.multipoint and c.first_epref is not None:
                ies = dict(action.ies)
                if "endpoint_reference" not in ies:
                    ies["endpoint_reference"] = c.first_epref
                    new = object.__new__(Send)   # replace(action, ies=...) without its per-call machinery
                    new.__dict__.update(action.__dict__)
                    new.__dict__["ies"] = tuple(ies.items())
                    return new
            return action
        if message != ev.STATUS:
            return action
        ies = dict(action.ies)
        ies.setdefault("call_state", self.call.machine.code)
        if p is not None:
            ies.setdefault("endpoint_reference", p.instance)
        if "endpoint_reference" in ies and "endpoint_state" not in ies:
            other = self.call.parties.get(ies["endpoint_reference"])
            ies["endpoint_state"] = 0 if other is None else other.code
        return replace(action, ies=tuple(ies.items()))

    def last_party_rule(self) -> None:
        # (Call._run calls this only when the event lost live parties, live_delta < 0: with no loss, a
        # call that had live parties still has some, and the rule below cannot fire.)
        c = self.call
        if not (self.party_ran and c.multipoint):
            return
        live_after = c.live_count()
        # every party state change of the event went through record_party, so the count before it is:
        if live_after - self.live_delta <= 0:
            return
        if live_after or not c.machine.accepts(ev.PARTIES_NONE_LEFT):
            return
        # Q.2971: the last party is not dropped with DROP PARTY / DROP PARTY ACK / ADD PARTY REJECT,
        # the call is cleared with RELEASE.
        cause = self.params.get("cause")
        for s in self.party_sends:
            if cause is None and isinstance(s.cause, int):
                cause = s.cause
            self.out.remove(s)
        self.call_step(c.machine.handle(ev.PARTIES_NONE_LEFT, cause=cause))
