"""The SSCOP connection-control table (firmware/sscop/states.py) as data: complete, consistent with
Q.2110's state numbering and SDL pages, implementable by the machine, drawable as a diagram."""

from __future__ import annotations

import ast
import inspect
import re
from collections import Counter, deque

import pytest

from firmware.sscop import states
from firmware.sscop.events import MAA_ERROR_CODES
from firmware.sscop.machine import _ACTIONS
from firmware.sscop.protocol_errors import SSCOPProtocolError
from firmware.sscop.states import (
    ILLEGAL,
    OUTCOMES,
    PDU_EVENTS,
    TIMER_EVENTS,
    TRANSITIONS,
    USER_EVENTS,
    Act,
    Choice,
    Event,
    Rule,
    State,
    reaction,
    rules,
    to_dot,
)

ALL_PAIRS = {(state, event) for state in State for event in Event}

#: SDL pages of Q.2110 (07/94) 8.2 per state; unnumbered data (UD, MD) is on pp.73-74 for all.
PAGES = {
    State.IDLE: (31, 33),
    State.OUTGOING_CONNECTION_PENDING: (34, 36),
    State.INCOMING_CONNECTION_PENDING: (37, 39),
    State.OUTGOING_DISCONNECTION_PENDING: (40, 42),
    State.OUTGOING_RESYNC_PENDING: (43, 45),
    State.INCOMING_RESYNC_PENDING: (46, 48),
    State.OUTGOING_RECOVERY_PENDING: (49, 52),
    State.RECOVERY_RESPONSE_PENDING: (53, 55),
    State.INCOMING_RECOVERY_PENDING: (56, 59),
    State.DATA_TRANSFER_READY: (60, 72),
}
UNNUMBERED = {Event.UD, Event.MD, Event.AA_UNITDATA_REQUEST, Event.MAA_UNITDATA_REQUEST}


def test_states_are_the_ten_of_q2110_7_3():
    assert [int(s) for s in State] == list(range(1, 11))
    assert State(7).label == "Outgoing Recovery Pending"
    assert State(10).label == "Data Transfer Ready"
    assert len(PDU_EVENTS) == 15 and len(TIMER_EVENTS) == 5 and len(USER_EVENTS) == 10
    assert set(PDU_EVENTS) | set(TIMER_EVENTS) | set(USER_EVENTS) == set(Event)


def test_every_pair_has_a_reaction_or_is_a_documented_illegal_pair():
    defined, illegal = set(TRANSITIONS), set(ILLEGAL)
    assert not defined & illegal
    assert defined | illegal == ALL_PAIRS
    for pair, reason in ILLEGAL.items():
        assert re.search(r"\b(6\.2|7\.6)\b", reason), (pair, reason)


def test_received_pdus_are_never_illegal():
    # Q.2110 8.2 gives a reaction (ignore, MAA-ERROR, END...) to every PDU in every state.
    for state in State:
        for event in PDU_EVENTS:
            assert (state, event) in TRANSITIONS, (state, event)


def test_timers_are_legal_only_where_they_can_run():
    cc_states = {state for state in State if (state, Event.TIMER_CC) in TRANSITIONS}
    assert cc_states == {State.OUTGOING_CONNECTION_PENDING, State.OUTGOING_DISCONNECTION_PENDING,
                         State.OUTGOING_RESYNC_PENDING, State.OUTGOING_RECOVERY_PENDING}
    for event in TIMER_EVENTS[1:]:
        assert {s for s in State if (s, event) in TRANSITIONS} == {State.DATA_TRANSFER_READY}


def test_every_rule_cites_an_sdl_page_of_its_state():
    for state, event, _outcome, rule in rules():
        match = re.fullmatch(r"8\.2 pp?\.(\d+)(?:-(\d+))?", rule.clause)
        assert match, (state, event, rule.clause)
        first = int(match.group(1))
        last = int(match.group(2) or first)
        low, high = (73, 74) if event in UNNUMBERED else PAGES[state]
        assert low <= first <= last <= high, (state, event, rule.clause)


def test_choices_cover_exactly_the_outcomes_of_their_decision():
    for (state, event), found in TRANSITIONS.items():
        if isinstance(found, Choice):
            assert tuple(name for name, _ in found.branches) == OUTCOMES[found.decision], (state, event)


def test_every_action_is_implemented_and_every_maa_code_exists():
    assert set(_ACTIONS) == set(Act)
    used = {act for _s, _e, _o, rule in rules() for act in rule.actions}
    assert used == set(Act), f"actions never used: {set(Act) - used}"
    for act in Act:
        if act.name.startswith("MAA_ERROR_"):
            assert act.name.removeprefix("MAA_ERROR_") in MAA_ERROR_CODES


def test_unexpected_pdus_report_the_annex_a_code_of_their_type():
    # Where a rule raises MAA-ERROR A..M, it is the code of the PDU received (Annex A).
    code_of = dict(zip("SD BGN BGAK BGREJ END ENDAK POLL STAT USTAT RS RSAK ER ERAK".split(), "ABCDEFGHIJKLM"))
    for state, event, _outcome, rule in rules():
        codes = [a.name[-1] for a in rule.actions if a.name.startswith("MAA_ERROR_") and a.name[-1] <= "M"]
        for code in codes:
            assert code_of[event.value] == code, (state, event, rule)


def test_no_row_is_written_twice():
    """A dict literal silently keeps the last of two equal keys: check the source itself."""
    tree = ast.parse(inspect.getsource(states))
    table = next(node.value for node in ast.walk(tree)
                 if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "TRANSITIONS")
    keys: list[str] = []
    for key, value in zip(table.keys, table.values):
        if key is not None:
            keys.append(ast.unparse(key))
            continue
        call = value
        assert isinstance(call, ast.Call)
        state = ast.unparse(call.args[0])
        if call.func.id == "_common":
            events = ["E.UD", "E.MD", "E.AA_UNITDATA_REQUEST", "E.MAA_UNITDATA_REQUEST"]
        else:
            assert call.func.id == "_ignore"
            events = [ast.unparse(arg) for arg in call.args[2:]]
        keys.extend(f"({state}, {event})" for event in events)
    duplicates = [key for key, count in Counter(keys).items() if count > 1]
    assert not duplicates
    assert len(keys) == len(TRANSITIONS)


def _graph() -> dict[State, set[State]]:
    graph: dict[State, set[State]] = {state: set() for state in State}
    for state, _event, _outcome, rule in rules():
        graph[state].add(rule.next_state)
    return graph


def _reachable(graph: dict[State, set[State]], start: State) -> set[State]:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in graph[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_is_reachable_from_idle_and_can_return_to_it():
    graph = _graph()
    assert _reachable(graph, State.IDLE) == set(State)
    for state in State:
        assert State.IDLE in _reachable(graph, state), state


def test_reaction_raises_a_typed_error_for_an_illegal_pair():
    with pytest.raises(SSCOPProtocolError) as caught:
        reaction(State.IDLE, Event.AA_DATA_REQUEST)
    assert caught.value.state is State.IDLE and caught.value.event is Event.AA_DATA_REQUEST
    assert "6.2" in str(caught.value) and "1 Idle" in str(caught.value)
    assert isinstance(reaction(State.IDLE, Event.BGN), Choice)
    assert isinstance(reaction(State.IDLE, Event.END), Rule)


def test_dot_rendering_draws_every_state_and_the_main_road():
    dot = to_dot()
    assert dot.startswith('digraph "sscop" {') and dot.rstrip().endswith("}")
    nodes = set(re.findall(r"^  (s\d+) \[label=", dot, re.M))
    assert nodes == {f"s{int(s)}" for s in State}
    edges = re.findall(r"^  (s\d+) -> (s\d+) \[label=\"((?:[^\"\\]|\\.)*)\"\];$", dot, re.M)
    assert edges
    for source, target, _label in edges:
        assert source in nodes and target in nodes
    labels = {(source, target): label.split("\\n") for source, target, label in edges}
    assert "AA-ESTABLISH.request" in labels["s1", "s2"]
    assert "BGAK" in labels["s2", "s10"]
    assert "Timer_CC [VT(CC) >= MaxCC]" in labels["s2", "s1"]
    assert "SD [VR(R) < N(S) < VR(H), buffered]" in labels["s10", "s7"]
    assert all(source != target for source, target, _ in edges)
    # Every state-changing rule appears on an edge.
    changing = {(f"s{int(s)}", f"s{int(r.next_state)}") for s, _e, _o, r in rules() if r.next_state is not s}
    assert changing == set(labels)
    with_loops = to_dot(include_self_loops=True)
    assert 's10 -> s10 [label="' in with_loops and "AA-DATA.request" in with_loops
