"""The shared machinery: rows, refinement of counted timers, placeholders, typed errors, the standard
answer, table validation and the DOT / Markdown renderings. Uses a small table of its own so that
each mechanism is checked apart from the UNI tables."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from firmware.uni.machines.errors import (
    ParameterError,
    TableError,
    UNIError,
    UNIProtocolError,
    UnknownEventError,
)
from firmware.uni.machines.table import (
    STATE_CODE,
    Answer,
    CountCause,
    Discard,
    EventKind,
    FromEvent,
    Indicate,
    Machine,
    Recall,
    Retransmit,
    Send,
    StartTimer,
    StateInfo,
    StopTimer,
    Table,
    Transition,
)
from hw.errors import AtmemuError, FieldError

STATES = (StateInfo("A", 0, "Idle"), StateInfo("B", 1, "Waiting"), StateInfo("C", 7, "Closing"))
EVENTS = {"go": EventKind.PRIMITIVE, "MSG": EventKind.MESSAGE, "OTHER": EventKind.MESSAGE,
          "T303": EventKind.TIMER, "sig": EventKind.INTERNAL}


def rows() -> list[Transition]:
    return [
        Transition("A", "go", "B",
                   (Send("X", cause=FromEvent("cause", 16), ies=(("k", FromEvent("k")), ("fixed", 5))),
                    StartTimer("T303", 4.0)), "Q.2931 test 1"),
        Transition("B", "T303#1", "B", (Retransmit("X"), StartTimer("T303", 4.0, retry=True)), "Q.2931 test 2"),
        Transition("B", "T303#2", "A", (CountCause(102), Indicate("gave.up", cause=102)), "Q.2931 test 3"),
        Transition("B", "MSG", "C", (StopTimer("T303"), Indicate("got", cause=FromEvent("cause"))), "Q.2931 test 4"),
        Transition("C", "MSG", "A", (Send("Y", ies=(("state", STATE_CODE), ("echo", Recall("MSG", "cause")))),),
                   "Q.2931 test 5"),
        Transition("C", "OTHER", "C", (Discard("not now"),), "Q.2931 test 6"),
    ]


def answer(state: str, event: str, params: dict) -> Answer:
    return Answer((Send("STATUS", cause=101, ies=(("call_state", STATE_CODE),)), CountCause(101)), "Q.2931 5.6.4")


def table(transitions: list[Transition] | None = None, **kw) -> Table:
    args = dict(title="Toy", states=STATES, initial="A", events=EVENTS,
                transitions=rows() if transitions is None else transitions, answer=answer)
    args.update(kw)
    return Table("toy", **args)


def test_row_applies_and_resolves_placeholders() -> None:
    m = Machine(table(), instance=7)
    step = m.handle("go", k="v")
    assert (step.before, step.after, step.matched, step.answered) == ("A", "B", "go", False)
    send, start = step.actions
    assert send == Send("X", cause=16, ies=(("k", "v"), ("fixed", 5)), instance=7)
    assert start == StartTimer("T303", 4.0, instance=7)
    assert m.running == {"T303": 4.0}
    # a parameter absent from the event drops the IE; a given cause wins over the default
    m2 = Machine(table())
    assert m2.handle("go", cause=31).actions[0] == Send("X", cause=31, ies=(("fixed", 5),))


def test_counted_timer_retransmits_then_gives_up_and_count_restarts() -> None:
    m = Machine(table())
    m.handle("go", cause=21, k=1)
    first = m.handle("T303")
    assert first.matched == "T303#1" and first.after == "B"
    resend = first.actions[0]
    assert resend == Send("X", cause=21, ies=(("k", 1), ("fixed", 5)), retransmit=True)
    assert m.expiries("T303") == 1 and "T303" in m.running
    second = m.handle("T303")
    assert second.matched == "T303#2" and second.after == "A"
    assert m.cause_counts[102] == 1 and m.running == {}
    # a fresh start resets the count: the next first expiry is #1 again
    m.handle("go")
    assert m.expiries("T303") == 0
    assert m.handle("T303").matched == "T303#1"


def test_state_code_and_recall() -> None:
    m = Machine(table())
    m.handle("go")
    m.handle("MSG", cause=44)
    step = m.handle("MSG")
    assert step.actions == (Send("Y", ies=(("state", 7), ("echo", 44))),)


def test_unexpected_message_gets_the_answer_and_keeps_the_state() -> None:
    m = Machine(table())
    step = m.handle("MSG")
    assert step.answered and step.before == step.after == "A"
    assert step.actions == (Send("STATUS", cause=101, ies=(("call_state", 0),)), CountCause(101))
    assert step.clause == "Q.2931 5.6.4"
    assert m.cause_counts[101] == 1 and m.state == "A"


@pytest.mark.parametrize("event", ["go", "sig"])
def test_primitive_or_internal_not_allowed_raises_with_state_unchanged(event: str) -> None:
    m = Machine(table())
    m.handle("go")
    with pytest.raises(UNIProtocolError) as info:
        m.handle(event)
    err = info.value
    assert (err.machine, err.state, err.event, err.cause) == ("toy", "B", event, 101)
    assert isinstance(err, UNIError) and isinstance(err, AtmemuError)
    assert m.state == "B" and m.running == {"T303": 4.0}


def test_timer_that_is_not_running_raises() -> None:
    m = Machine(table())
    with pytest.raises(UNIProtocolError, match="not running"):
        m.handle("T303")
    assert m.state == "A" and m.expiries("T303") == 0


def test_unknown_event_raises_a_typed_error() -> None:
    with pytest.raises(UnknownEventError):
        Machine(table()).handle("NOT_AN_EVENT")
    assert not Machine(table()).accepts("NOT_AN_EVENT")


@pytest.mark.parametrize("params", [{"cause": 128}, {"cause": -1}, {"cause": "16"}, {"epref": 1 << 15},
                                    {"call_state": True}])
def test_bad_parameters_raise_parameter_error(params: dict) -> None:
    m = Machine(table())
    with pytest.raises(ParameterError) as info:
        m.handle("go", **params)
    assert isinstance(info.value, FieldError)
    assert m.state == "A"


def test_accepts_and_discard_counter() -> None:
    m = Machine(table())
    assert m.accepts("go") and not m.accepts("MSG") and not m.accepts("T303")
    m.handle("go")
    m.handle("MSG")
    m.handle("OTHER")
    assert m.discards["not now"] == 1


@pytest.mark.parametrize("bad, reason", [
    (rows() + [Transition("A", "go", "C", (), "Q.2931 x")], "two rows"),
    ([Transition("A", "go", "Z", (), "Q.2931 x")], "unknown state"),
    ([Transition("A", "nope", "B", (), "Q.2931 x")], "unknown event"),
    ([Transition("B", "T303", "B", (), "Q.2931 x")], "unknown event"),   # counted timers use T303#n
    ([Transition("A", "go", "B", (), "  ")], "no clause"),
    ([Transition("A", "go", "B", ("send X",), "Q.2931 x")], "not an action"),
])
def test_malformed_tables_are_refused(bad: list, reason: str) -> None:
    with pytest.raises(TableError, match=reason):
        table(bad)


def test_initial_state_must_exist() -> None:
    with pytest.raises(TableError, match="initial"):
        table(initial="Q")


def test_possible_timers_follows_the_rows() -> None:
    assert table().possible_timers() == {"A": frozenset(), "B": frozenset({"T303"}), "C": frozenset()}


def test_markdown_has_every_state_row_and_answer() -> None:
    md = table().to_markdown()
    for s in STATES:
        assert f"| {s.name} | {s.code} | {s.title} |" in md
    for r in rows():
        assert f"| {r.state} | {r.event} | {r.next_state} |" in md
        assert r.clause in md
    assert "Messages with no row" in md and "count cause 101" in md
    assert "resend X" in md and "restart T303 (4 s)" in md


def test_dot_is_well_formed() -> None:
    dot = table().to_dot(actions=True)
    assert dot.startswith('digraph "toy" {') and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    for s in STATES:
        assert f'"{s.name}" [label=' in dot
    assert '"A" -> "B"' in dot and '"C" -> "A"' in dot and '"B" -> "B"' in dot
    assert '"B" -> "B"' not in table().to_dot(self_loops=False)
    assert "peripheries=2" in dot   # the initial state


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_dot_renders_with_graphviz() -> None:
    out = subprocess.run(["dot", "-Tsvg"], input=table().to_dot(), capture_output=True, text=True, check=True)
    assert "<svg" in out.stdout
