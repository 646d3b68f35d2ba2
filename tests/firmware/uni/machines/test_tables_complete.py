"""Whole-table checks on every UNI table: reachability, no dead ends, timers (every timer that may run
in a state has an expiry row there, none runs in Null), answers total on messages and harmless,
clauses on every row, signals that reach real party events, and the renderings."""

from __future__ import annotations

from collections import deque

import pytest

from firmware.uni.machines import TABLES, Timers
from firmware.uni.machines import call_network, call_user, events as ev, party
from firmware.uni.machines.table import (
    TO_ALL_PARTIES,
    TO_CALLS,
    TO_NAMED_PARTY,
    TO_NEW_PARTY,
    CountCause,
    Discard,
    EventKind,
    Forward,
    Send,
    Signal,
    StartTimer,
    StopTimer,
    Table,
)

ALL = list(TABLES.values()) + [call_user.build(Timers(T303=1.0)), party.build(party.Side.NETWORK, Timers(T398=2.0))]
IDS = [t.name for t in ALL]
CALLS = [call_user.USER_CALL, call_network.NETWORK_CALL]


def reachable(table: Table, start: str, reverse: bool = False) -> set[str]:
    edges: dict[str, set[str]] = {}
    for r in table.transitions:
        a, b = (r.next_state, r.state) if reverse else (r.state, r.next_state)
        edges.setdefault(a, set()).add(b)
    seen, todo = {start}, deque([start])
    while todo:
        for n in edges.get(todo.popleft(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


@pytest.mark.parametrize("table", ALL, ids=IDS)
def test_every_state_is_reachable_and_can_get_back_to_null(table: Table) -> None:
    states = set(table.state_names)
    assert reachable(table, table.initial) == states
    assert reachable(table, table.initial, reverse=True) == states


@pytest.mark.parametrize("table", ALL, ids=IDS)
def test_state_codes_are_unique(table: Table) -> None:
    codes = [s.code for s in table.states]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("table", ALL, ids=IDS)
def test_every_running_timer_can_expire_and_none_runs_in_null(table: Table) -> None:
    possible = table.possible_timers()
    assert possible[table.initial] == frozenset()
    for state, timers in possible.items():
        for t in timers:
            names = table.refinements.get(t, (t,))
            missing = [n for n in names if table.lookup(state, n) is None]
            assert not missing, f"{table.name}: {state} may run {t} but has no row for {missing}"


@pytest.mark.parametrize("module, table", [(call_user, call_user.USER_CALL), (call_network, call_network.NETWORK_CALL),
                                           (party, party.USER_PARTY), (party, party.NETWORK_PARTY)])
def test_declared_running_timers_match_the_data_flow(module, table: Table) -> None:
    assert table.possible_timers() == {s: frozenset(t) for s, t in module.RUNNING.items()}


@pytest.mark.parametrize("table", ALL, ids=IDS)
def test_answers_are_total_on_messages_and_harmless(table: Table) -> None:
    messages = [e for e, k in table.row_events.items() if k is EventKind.MESSAGE]
    for state in table.state_names:
        for m in messages:
            if table.lookup(state, m) is not None:
                continue
            ans = table.answer(state, m, {})
            assert ans is not None, f"{table.name}: no answer for {m} in {state}"
            assert ans.clause.startswith("Q.29")
            kinds = {type(a) for a in ans.actions}
            assert kinds <= {Send, CountCause, Discard}, f"{table.name}: answer to {m} in {state} does {kinds}"
            # nothing is answered silently: a counted cause or a counted discard
            assert kinds & {CountCause, Discard}


@pytest.mark.parametrize("table", ALL, ids=IDS)
def test_every_row_cites_the_standard(table: Table) -> None:
    for r in table.transitions:
        assert r.clause.startswith(("Q.2931", "Q.2971")), r


@pytest.mark.parametrize("table", ALL, ids=IDS)
def test_every_primitive_and_timer_has_a_row_somewhere(table: Table) -> None:
    used = {r.event for r in table.transitions}
    for name, kind in table.row_events.items():
        if kind in (EventKind.PRIMITIVE, EventKind.TIMER, EventKind.INTERNAL) and not name.endswith("/pending"):
            assert name in used, f"{table.name}: {name} is never accepted"


@pytest.mark.parametrize("table", CALLS, ids=lambda t: t.name)
def test_call_signals_reach_party_events(table: Table) -> None:
    party_table = party.USER_PARTY if table.side is party.Side.USER else party.NETWORK_PARTY
    for r in table.transitions:
        for a in r.actions:
            if isinstance(a, Signal):
                assert a.to in (TO_ALL_PARTIES, TO_NAMED_PARTY, TO_NEW_PARTY)
                assert party_table.kind(a.event) is EventKind.INTERNAL, r
            if isinstance(a, Forward):
                assert r.event in (*ev.PARTY_MESSAGES, *ev.PARTY_PRIMITIVES, "STATUS/answer",
                                   "STATUS/compatible", "STATUS_ENQUIRY/party"), r
                assert r.state == r.next_state


@pytest.mark.parametrize("table", CALLS, ids=lambda t: t.name)
def test_q2931_exceptions_release_and_release_complete_in_every_state(table: Table) -> None:
    """5.6.4: RELEASE and RELEASE COMPLETE are never answered with STATUS; every call state but Null
    has a row for them and for STATUS ENQUIRY."""
    for state in table.state_names:
        if state == table.initial:
            continue
        for m in (ev.RELEASE, ev.RELEASE_COMPLETE, "STATUS_ENQUIRY"):
            assert table.lookup(state, m) is not None, (state, m)


@pytest.mark.parametrize("table", CALLS, ids=lambda t: t.name)
def test_clearing_always_releases_the_parties_and_the_timers(table: Table) -> None:
    """Whatever row leads into Null or a clearing state from a live state releases the parties."""
    null = table.initial
    clearing = {s.name for s in table.states if s.code in (11, 12)}
    for r in table.transitions:
        if r.state in clearing or r.state == null or r.next_state not in clearing | {null}:
            continue
        assert any(isinstance(a, Signal) and a.event == ev.CALL_RELEASED for a in r.actions), r


def test_restart_signals_clear_calls() -> None:
    for t in (TABLES["restart-start"], TABLES["restart-respond"]):
        sig = [a for r in t.transitions for a in r.actions if isinstance(a, Signal)]
        assert sig and all(a.to == TO_CALLS and a.event == ev.RESTART_CLEAR_CALLS for a in sig)


def test_t399_differs_by_side() -> None:
    starts = {t.side: [a for r in t.transitions for a in r.actions if isinstance(a, StartTimer) and a.timer == "T399"]
              for t in (party.USER_PARTY, party.NETWORK_PARTY)}
    assert {a.seconds for a in starts[party.Side.USER]} == {34.0}
    assert {a.seconds for a in starts[party.Side.NETWORK]} == {14.0}


def test_default_timer_durations_are_the_reference_values() -> None:
    seen: dict[str, set[float]] = {}
    for t in TABLES.values():
        for r in t.transitions:
            for a in r.actions:
                if isinstance(a, StartTimer):
                    seen.setdefault(a.timer, set()).add(a.seconds)
    assert seen == {"T303": {4.0}, "T308": {30.0}, "T309": {10.0}, "T310": {10.0}, "T313": {4.0}, "T316": {120.0},
                    "T322": {4.0}, "T397": {180.0}, "T398": {4.0}, "T399": {34.0, 14.0}}


def test_no_row_stops_a_timer_after_starting_it() -> None:
    for t in TABLES.values():
        for r in t.transitions:
            for i, a in enumerate(r.actions):
                if isinstance(a, StartTimer):
                    later = r.actions[i + 1:]
                    assert not any(isinstance(b, StopTimer) and b.timer == a.timer for b in later), r


@pytest.mark.parametrize("table", list(TABLES.values()), ids=list(TABLES))
def test_renderings_cover_every_row(table: Table) -> None:
    md = table.to_markdown()
    assert md.count("\n| ") >= len(table.transitions) + len(table.states)
    for r in table.transitions:
        assert f"| {r.state} | {r.event} | {r.next_state} |" in md
    dot = table.to_dot()
    assert dot.count("{") == dot.count("}")
    for s in table.states:
        assert f'"{s.name}" [label=' in dot
    edges = {(r.state, r.next_state) for r in table.transitions}
    for a, b in edges:
        assert f'"{a}" -> "{b}"' in dot
