"""Random event sequences against every machine and against the composed call: whatever arrives, a
machine stays in a state of its table, only runs timers that can run in that state, answers an
unexpected message with the standard answer (state and timers unchanged, counted), and refuses
anything else with a typed error of this layer (state unchanged) - never another exception."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.uni.machines import TABLES, Call, RestartControl, UNIError
from firmware.uni.machines import party
from firmware.uni.machines.table import (
    CountCause,
    Discard,
    EventKind,
    Forward,
    Machine,
    Retransmit,
    Send,
    Signal,
    StartTimer,
    Table,
)

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))

#: One step of a script: (which event, which parameters), both as small integers decoded below, so
#: that hypothesis draws a whole script at once (cheap) and still shrinks it well.
SCRIPT = st.lists(st.tuples(st.integers(0, 1023), st.integers(0, (1 << 28) - 1)), min_size=1, max_size=40)

_CHOICES = (
    ("cause", [None, 16, 17, 30, 31, 96, 101, 102, 127, 128]),             # 128 is out of range
    ("call_state", [None, 0, 1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 61, 62, 5, 63]),
    ("endpoint_state", [None, 0, 1, 4, 6, 7, 10, 11, 12, 2, 63]),
    ("restart_class", [None, "all", "vp", "vc"]),
    ("connection_id", [None, (0, 32), (1, 0)]),
    ("flag", [None, True, False]),
    ("epref", [None, 0, 1, 2, 3]),
)


def decode(bits: int) -> dict:
    """Parameters from an integer: four bits per field pick a value, or leave the field absent."""
    out = {}
    for name, values in _CHOICES:
        bits, pick = divmod(bits, 16)
        if pick < len(values) and values[pick] is not None:
            out[name] = values[pick]
    return out


def snapshot(m: Machine) -> tuple:
    return (m.state, dict(m.running), {t: m.expiries(t) for t in m.table.events})


def check_step(m: Machine, before: tuple, step, possible: dict[str, frozenset[str]]) -> None:
    table: Table = m.table
    assert step.after == m.state and m.state in table.state_names
    assert set(m.running) <= possible[m.state], (m, m.running)
    for a in step.actions:
        assert not isinstance(a, Retransmit)               # always resolved into a Send
        if isinstance(a, StartTimer):
            assert a.seconds > 0
    if step.answered:
        assert snapshot(m)[:2] == before[:2]
        kinds = {type(a) for a in step.actions}
        assert kinds <= {Send, CountCause, Discard} and kinds & {CountCause, Discard}


@pytest.mark.fuzz
@pytest.mark.parametrize("name", list(TABLES))
@settings(max_examples=FUZZ_EXAMPLES)
@given(script=SCRIPT, instance=st.sampled_from([None, 3]))
def test_single_machine_never_leaves_its_table(name: str, script, instance) -> None:
    table = TABLES[name]
    possible = table.possible_timers()
    names = sorted(table.events) + ["NO_SUCH_EVENT"]
    m = Machine(table, instance=instance)
    for which, bits in script:
        # favour the timers that are running, so that expiries happen
        pool = sorted(m.running) * 3 + names
        event = pool[which % len(pool)]
        params = decode(bits)
        before = snapshot(m)
        try:
            step = m.handle(event, **params)
        except UNIError:
            assert snapshot(m) == before
            continue
        assert table.kind(event) is not None
        check_step(m, before, step, possible)


def test_restart_control_routes_only_to_its_two_machines() -> None:
    r = RestartControl()
    assert r.machine_for("RESTART", {}) is r.respond and r.machine_for("T316", {}) is r.start


CALL_EVENTS = sorted(set(TABLES["call-user"].events) | set(TABLES["call-network"].events)
                     | set(TABLES["party-user"].events)) + ["NO_SUCH_EVENT"]
MESSAGES = sorted(e for e, k in TABLES["call-user"].events.items() if k is EventKind.MESSAGE)


def active(side: str) -> Call:
    """An active point-to-multipoint call with three parties: active, being added, alerting."""
    c = Call(1, side, multipoint=True)
    if side == "user":
        for e in ("setup.request", "CONNECT", "add-party.request", "add-party.request"):
            c.handle(e)
        c.handle("ADD_PARTY_ACK", epref=1)
        c.handle("add-party.request")
        c.handle("PARTY_ALERTING", epref=3)
    else:
        for e in ("SETUP", "setup.response"):
            c.handle(e)
        c.handle("ADD_PARTY", epref=1)
        c.handle("ADD_PARTY", epref=2)
        c.handle("add-party-ack.request", epref=1)
        c.handle("party-alerting.request", epref=2)
    assert len(c.parties) >= 3
    return c


def pick(c: Call, which: int) -> tuple[str, int | None]:
    """An event for the call, biased towards what moves it on: the primitives it accepts, the timers
    running, the messages with a row in its state (for each party too) - and anything at all."""
    pool: list[tuple[str, int | None]] = c.allowed_primitives() * 2
    pool += [(t, e) for e, p in c.parties.items() for t in p.running]
    pool += [(t, None) for t in c.machine.running]
    pool += [(m, None) for m in MESSAGES if c.machine.accepts(m)]
    pool += [(m, e) for e, p in c.parties.items() for m in MESSAGES if p.accepts(m)] * 2
    if which % 4 == 0 or not pool:
        pool = [(e, None) for e in CALL_EVENTS]
    return pool[(which // 4) % len(pool)]


@pytest.mark.fuzz
@pytest.mark.parametrize("side", ["user", "network"])
@settings(max_examples=FUZZ_EXAMPLES)
@given(script=SCRIPT, multipoint=st.sampled_from([None, True, False]), start_active=st.booleans())
def test_composed_call_keeps_its_invariants(side: str, script, multipoint, start_active: bool) -> None:
    c = active(side) if start_active else Call(1, side, multipoint=multipoint)
    call_possible = c.call_table.possible_timers()
    party_possible = c.party_table.possible_timers()
    clearing = {s.name for s in c.call_table.states if s.code in (0, 11, 12)}
    for which, bits in script:
        event, epref = pick(c, which)
        params = decode(bits)
        if epref is not None:
            params["epref"] = epref
        before = (c.state, dict(c.machine.running), c.party_states(), c.multipoint, c._next_epref)
        try:
            step = c.handle(event, **params)
        except UNIError:
            assert (c.state, dict(c.machine.running), c.party_states(), c.multipoint, c._next_epref) == before
            continue
        assert c.state in c.call_table.state_names
        assert set(c.machine.running) <= call_possible[c.state]
        for p in c.parties.values():
            assert p.state != party.P0 and p.state in c.party_table.state_names
            assert set(p.running) <= party_possible[p.state]
        if c.state in clearing:
            assert not c.parties, c
        if not c.multipoint:
            assert not c.parties
        for a in step.actions:
            assert not isinstance(a, (Forward, Signal, Retransmit))
            if isinstance(a, Send) and a.message == "STATUS":
                assert "call_state" in dict(a.ies)
        if step.answered:
            assert (c.state, c.party_states()) == (before[0], before[2])


def test_event_kinds_used_by_the_fuzzers_are_known() -> None:
    kinds = {Call(1, "user").kind(e) for e in CALL_EVENTS if e != "NO_SUCH_EVENT"}
    assert None not in {Call(1, "network").kind(e) for e in CALL_EVENTS
                        if e not in ("NO_SUCH_EVENT", "T313")}
    assert EventKind.INTERNAL in kinds and EventKind.TIMER in kinds
