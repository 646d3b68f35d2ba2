"""Shared machinery of the UNI state machines: transition rows, tables, the machine that runs them, and
their rendering as Graphviz DOT and Markdown.

A table is data: rows ``(state, event) -> (next state, actions, clause)``. The machine looks the row
up, resolves the row's placeholders against the event's parameters, keeps a little bookkeeping
(running timers, expiry counts, counters) and moves to the next state. It never does I/O and never
reads a clock: actions are *requests* to the caller (send this message, tell the user that, start that
timer for so many seconds).

What happens when no row matches depends on where the event came from:

* a **message** from the peer gets the answer the standard gives for an unexpected message in that
  state (``Table.answer``: STATUS with cause 101, RELEASE COMPLETE with cause 81 ...). The state is
  unchanged, the answer's cause is counted, and the step is marked ``answered``;
* a **primitive** from the local user, a **timer** expiry or an **internal** signal raises
  :class:`~firmware.uni.machines.errors.UNIProtocolError`, state unchanged.

Before the lookup, an event may be *refined* into the name the table uses: the first and second
expiry of a counted timer become ``T303#1`` and ``T303#2`` (Q.2931 retransmits once, then gives up);
a received STATUS becomes ``STATUS/null``, ``STATUS/compatible``... according to the state it reports
(Q.2931 5.6.12). Refinement is a pure function of the machine (its state, running timers and last
messages sent), the event and its parameters, so the table stays flat and every row can be drawn.

Timer requests: ``StartTimer`` means (re)start - cancel a pending expiry of that timer and schedule
one after ``seconds``; ``StopTimer`` of a timer that is not running is a no-op. The caller feeds an
expiry back as the timer's name (``T303``), with the endpoint reference for a party timer.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

from firmware.uni.machines.errors import (
    ParameterError,
    TableError,
    UNIProtocolError,
    UnknownEventError,
)
from firmware.uni.machines.events import ALIASES as _ALIASES
from firmware.uni.machines.events import canonical
from firmware.uni.machines.timers import COUNTED_TIMERS, EXPIRIES


class Side(enum.Enum):
    """Which side of the user-network interface a machine plays (Q.2931 2.1.1 / 2.1.2)."""

    USER = "user"
    NETWORK = "network"


class EventKind(enum.Enum):
    MESSAGE = "message"      # received from the peer
    PRIMITIVE = "primitive"  # from the local user
    TIMER = "timer"          # a timer this machine started has run out
    INTERNAL = "internal"    # from a companion machine (call <-> party, restart -> calls)


# ---- placeholders: values a row takes from the event or from the machine ------------------------


@dataclass(frozen=True)
class FromEvent:
    """The event parameter ``param``, or ``default`` when the event does not carry it."""

    param: str
    default: Any = None

    def __str__(self) -> str:
        return f"event.{self.param}" + ("" if self.default is None else f" or {self.default}")


@dataclass(frozen=True)
class Recall:
    """Parameter ``param`` of the last ``event`` this machine accepted (e.g. the restart indicator
    of the RESTART being acknowledged), or ``default``."""

    event: str
    param: str
    default: Any = None

    def __str__(self) -> str:
        return f"{self.event}.{self.param}" + ("" if self.default is None else f" or {self.default}")


class _StateCode:
    """The wire code of the machine's state when the event arrived (Call state / Endpoint state IE)."""

    _instance: ClassVar[_StateCode | None] = None

    def __new__(cls) -> _StateCode:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "STATE_CODE"

    def __str__(self) -> str:
        return "current state"


STATE_CODE = _StateCode()

Value = Union[int, str, FromEvent, Recall, _StateCode, None]


# ---- actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Send ``message`` to the peer. ``cause`` is the Cause IE's value when there is one; ``ies`` are
    other fields as (name, value) pairs (``call_state``, ``endpoint_state``, ``restart_class``...).
    ``instance`` is the endpoint reference for a party machine's message, None for a call's.
    ``retransmit`` means: the same message again, with the contents it had the first time."""

    message: str
    cause: Value = None
    ies: tuple[tuple[str, Value], ...] = ()
    instance: int | None = None
    retransmit: bool = False

    def describe(self) -> str:
        parts = [] if self.cause is None else [f"cause {self.cause}"]
        parts += [f"{k}={v}" for k, v in self.ies]
        head = ("resend " if self.retransmit else "send ") + self.message
        return head + (f" ({', '.join(parts)})" if parts else "")


@dataclass(frozen=True)
class Retransmit:
    """Send again the last ``message`` this machine sent (SETUP on T303, RELEASE on T308...)."""

    message: str

    def describe(self) -> str:
        return f"resend {self.message}"


@dataclass(frozen=True)
class Indicate:
    """Give the local user primitive ``primitive`` (an indication or a confirm), with a cause."""

    primitive: str
    cause: Value = None
    instance: int | None = None

    def describe(self) -> str:
        return f"indicate {self.primitive}" + ("" if self.cause is None else f" (cause {self.cause})")


@dataclass(frozen=True)
class StartTimer:
    """(Re)start ``timer`` to run out ``seconds`` from now. ``retry`` keeps the count of expiries in
    a row (the restart after a first expiry); a plain start resets it."""

    timer: str
    seconds: float
    retry: bool = False
    instance: int | None = None

    def describe(self) -> str:
        return f"{'restart' if self.retry else 'start'} {self.timer} ({self.seconds:g} s)"


@dataclass(frozen=True)
class StopTimer:
    timer: str
    instance: int | None = None

    def describe(self) -> str:
        return f"stop {self.timer}"


@dataclass(frozen=True)
class CountCause:
    """Count one occurrence of a cause value this machine produced (errors, timer recoveries)."""

    cause: Value

    def describe(self) -> str:
        return f"count cause {self.cause}"


@dataclass(frozen=True)
class Discard:
    """The event is dropped on purpose; counted under ``reason`` (nothing is dropped silently)."""

    reason: str

    def describe(self) -> str:
        return f"discard ({self.reason})"


@dataclass(frozen=True)
class Forward:
    """Pass the event on to the party machine named by its endpoint reference (Q.2971): the call
    state allows the message, the party state decides."""

    def describe(self) -> str:
        return "forward to the party (epref)"


#: Signal targets.
TO_ALL_PARTIES = "all parties"
TO_NAMED_PARTY = "named party"      # the party of the event's epref, else the call's first party
TO_NEW_PARTY = "new first party"    # create the first party (epref of the SETUP, 0 by default)
TO_CALL = "call"
TO_CALLS = "calls in the restart's scope"


@dataclass(frozen=True)
class Signal:
    """Send internal event ``event`` to a companion machine (see ``call.py``)."""

    event: str
    to: str
    cause: Value = None

    def describe(self) -> str:
        return f"signal {self.event} to {self.to}" + ("" if self.cause is None else f" (cause {self.cause})")


Action = Union[Send, Retransmit, Indicate, StartTimer, StopTimer, CountCause, Discard, Forward, Signal]


# ---- rows and tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateInfo:
    """A state: its short name (``U10``), the code the Call state / Endpoint state IE carries for it,
    and its name in the standard."""

    name: str
    code: int
    title: str


@dataclass(frozen=True)
class Transition:
    """One row: in ``state``, on ``event``, do ``actions`` and go to ``next_state``, because
    ``clause`` of the standard says so."""

    state: str
    event: str
    next_state: str
    actions: tuple[Action, ...]
    clause: str
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.state, self.event)


@dataclass(frozen=True)
class Answer:
    """The standard answer to a message with no row in the current state (state unchanged)."""

    actions: tuple[Action, ...]
    clause: str


AnswerFn = Callable[[str, str, Mapping[str, Any]], Union[Answer, None]]
RefineFn = Callable[["Machine", str, Mapping[str, Any]], str]


class Table:
    """A transition table with its vocabulary, its default answer and its refinement function.

    ``events`` maps every event name a caller may feed to its kind. ``refinements`` maps such a name
    to the names rows use instead (``STATUS`` -> ``STATUS/null``, ...); counted timers (T303, T308,
    T316, T322) get ``#1``/``#2`` automatically. ``answer(state, event, params)`` gives the answer to
    a message with no row; it must be total on messages (``tests`` check that)."""

    def __init__(self, name: str, *, title: str, states: Sequence[StateInfo], initial: str,
                 events: Mapping[str, EventKind], transitions: Iterable[Transition],
                 answer: AnswerFn, refine: RefineFn | None = None,
                 refinements: Mapping[str, Sequence[str]] | None = None,
                 counted_timers: Sequence[str] = COUNTED_TIMERS, side: Side | None = None) -> None:
        self.name = name
        self.title = title
        self.side = side
        self.states: tuple[StateInfo, ...] = tuple(states)
        self._state_info = {s.name: s for s in self.states}
        if len(self._state_info) != len(self.states):
            raise TableError(name, "duplicate state names")
        if initial not in self._state_info:
            raise TableError(name, f"initial state {initial!r} is not a state")
        self.initial = initial
        self.events: dict[str, EventKind] = dict(events)
        self.answer_fn = answer
        self.refine_fn = refine
        refs = {k: tuple(v) for k, v in (refinements or {}).items()}
        for timer in counted_timers:
            if self.events.get(timer) is EventKind.TIMER:
                refs[timer] = tuple(f"{timer}#{n}" for n in range(1, EXPIRIES + 1))
        for raw in refs:
            if raw not in self.events:
                raise TableError(name, f"refinement of unknown event {raw!r}")
        self.refinements = refs
        #: every name a row may use, with the kind of the event it stands for
        self.row_events: dict[str, EventKind] = {}
        for ev, kind in self.events.items():
            for r in refs.get(ev, (ev,)):
                self.row_events[r] = kind
        self.transitions: tuple[Transition, ...] = tuple(transitions)
        self._rows: dict[tuple[str, str], Transition] = {}
        for row in self.transitions:
            self._check_row(row)
            if row.key in self._rows:
                raise TableError(name, f"two rows for state {row.state} and event {row.event}")
            self._rows[row.key] = row
        #: (state, event) -> (row, plan): the rows as Machine.handle runs them (see _plan)
        self._plans: dict[tuple[str, str], tuple[Transition, tuple]] = {
            key: (row, tuple(_plan(a) for a in row.actions)) for key, row in self._rows.items()}
        #: (state, event) -> (next state, ops, clause, keep params) for the rows whose event needs no
        #: refinement and is no timer: the compiled form Machine.step runs (see _compile)
        self._fast: dict[tuple[str, str], tuple[str, tuple, str, bool]] = {
            key: _compile(self, row, plan) for key, (row, plan) in self._plans.items()
            if key[1] in self.events and key[1] not in refs and self.events[key[1]] is not EventKind.TIMER}
        self._codes = {s.name: s.code for s in self.states}

    def _check_row(self, row: Transition) -> None:
        where = f"row ({row.state}, {row.event})"
        if row.state not in self._state_info or row.next_state not in self._state_info:
            raise TableError(self.name, f"{where}: unknown state")
        if row.event not in self.row_events:
            raise TableError(self.name, f"{where}: unknown event (refined events use their refined name)")
        if not row.clause.strip():
            raise TableError(self.name, f"{where}: no clause")
        for a in row.actions:
            if not isinstance(a, (Send, Retransmit, Indicate, StartTimer, StopTimer, CountCause,
                                  Discard, Forward, Signal)):
                raise TableError(self.name, f"{where}: {a!r} is not an action")

    # ---- queries
    def state_info(self, name: str) -> StateInfo:
        return self._state_info[name]

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    def lookup(self, state: str, event: str) -> Transition | None:
        return self._rows.get((state, event))

    def rows_from(self, state: str) -> list[Transition]:
        return [r for r in self.transitions if r.state == state]

    def kind(self, event: str) -> EventKind | None:
        return self.events.get(event)

    def answer(self, state: str, event: str, params: Mapping[str, Any]) -> Answer | None:
        return self.answer_fn(state, event, params)

    def possible_timers(self) -> dict[str, frozenset[str]]:
        """For every state, the timers that may be running in it (a fixed point over the rows,
        starting from no timer in the initial state). A timer expiry row removes its timer first."""
        running: dict[str, set[str]] = {s: set() for s in self.state_names}
        changed = True
        while changed:
            changed = False
            for row in self.transitions:
                now = set(running[row.state])
                raw = row.event.split("#", 1)[0]
                if self.events.get(raw) is EventKind.TIMER:
                    now.discard(raw)
                for a in row.actions:
                    if isinstance(a, StartTimer):
                        now.add(a.timer)
                    elif isinstance(a, StopTimer):
                        now.discard(a.timer)
                if not now <= running[row.next_state]:
                    running[row.next_state] |= now
                    changed = True
        return {s: frozenset(t) for s, t in running.items()}

    # ---- rendering
    def to_markdown(self) -> str:
        """The table as Markdown: states, rows, and the answers to unexpected messages."""
        out = [f"### {self.title} (`{self.name}`)", "", "| State | Code | Name |", "|---|---|---|"]
        out += [f"| {s.name} | {s.code} | {s.title} |" for s in self.states]
        out += ["", "| State | Event | Next state | Actions | Clause |", "|---|---|---|---|---|"]
        order = {name: i for i, name in enumerate(self.state_names)}
        for row in sorted(self.transitions, key=lambda r: order[r.state]):
            acts = "; ".join(a.describe() for a in row.actions) or "-"
            note = f" ({row.note})" if row.note else ""
            out.append(f"| {row.state} | {_md(row.event)} | {row.next_state} | {_md(acts)} | "
                       f"{_md(row.clause + note)} |")
        answers = self._answer_summary()
        if answers:
            out += ["", "Messages with no row (state unchanged):", "",
                    "| State | Messages | Answer | Clause |", "|---|---|---|---|"]
            for state, messages, text, clause in answers:
                out.append(f"| {state} | {_md(', '.join(messages))} | {_md(text)} | {_md(clause)} |")
        return "\n".join(out) + "\n"

    def _answer_summary(self) -> list[tuple[str, list[str], str, str]]:
        result = []
        messages = [e for e, k in self.row_events.items() if k is EventKind.MESSAGE]
        for state in self.state_names:
            groups: dict[tuple[str, str], list[str]] = {}
            for ev in messages:
                if self.lookup(state, ev) is not None:
                    continue
                ans = self.answer(state, ev, {})
                text = "(none: table incomplete)" if ans is None else (
                    "; ".join(a.describe() for a in ans.actions) or "-")
                clause = "" if ans is None else ans.clause
                groups.setdefault((text, clause), []).append(ev)
            for (text, clause), evs in groups.items():
                result.append((state, evs, text, clause))
        return result

    def to_dot(self, *, self_loops: bool = True, actions: bool = False) -> str:
        """The table as a Graphviz digraph; parallel rows between two states share one edge."""
        lines = [f"digraph {_dot_id(self.name)} {{", "  rankdir=LR;",
                 '  node [shape=box, style=rounded, fontname="Helvetica"];',
                 '  edge [fontname="Helvetica", fontsize=9];',
                 f"  label={_dot_id(self.title)}; labelloc=t;"]
        for s in self.states:
            extra = ", peripheries=2" if s.name == self.initial else ""
            lines.append(f"  {_dot_id(s.name)} [label={_dot_id(f'{s.name} ({s.code})' + chr(10) + s.title)}{extra}];")
        edges: dict[tuple[str, str], list[str]] = {}
        for row in self.transitions:
            if row.state == row.next_state and not self_loops:
                continue
            label = row.event
            if actions and row.actions:
                label += " / " + ", ".join(a.describe() for a in row.actions)
            edges.setdefault((row.state, row.next_state), []).append(label)
        for (a, b), labels in edges.items():
            lines.append(f"  {_dot_id(a)} -> {_dot_id(b)} [label={_dot_id(chr(10).join(labels))}];")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"<Table {self.name}: {len(self.states)} states, {len(self.transitions)} rows>"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ---- running a table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """What one event did: the row (or the standard answer) applied, with its actions resolved."""

    machine: str
    before: str
    event: str          # as fed by the caller
    matched: str        # the name the table used (refined)
    after: str
    actions: tuple[Action, ...]
    clause: str
    answered: bool = False   # True: the standard answer to an unexpected message, state unchanged

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def sends(self) -> list[Send]:
        return [a for a in self.actions if isinstance(a, Send)]


#: Parameters with a numeric range, checked on every event (Q.850 cause, Q.2931 call state,
#: Q.2971 endpoint state and endpoint reference value).
_RANGES = {"cause": (0, 127), "call_state": (0, 63), "endpoint_state": (0, 63), "epref": (0, 32767)}


#: An empty Counter, made without Counter.__init__ (Python code that has nothing to do for no argument):
#: a party machine is made per party, with three of them.
_counter = dict.__new__


class Machine:
    """Runs one table. ``instance`` names the machine among its siblings (the endpoint reference of a
    party machine) and tags the timers and messages it asks for."""

    def __init__(self, table: Table, *, state: str | None = None, instance: int | None = None) -> None:
        self.table = table
        self._state = table.initial if state is None else state
        if self._state not in table._state_info:
            raise TableError(table.name, f"{self._state!r} is not a state")
        self.instance = instance
        #: timers running now -> their duration
        self.running: dict[str, float] = {}
        self._expiries: Counter[str] = _counter(Counter)
        #: causes this machine produced, and events it discarded, by reason
        self.cause_counts: Counter[int] = _counter(Counter)
        self.discards: Counter[str] = _counter(Counter)
        #: last message of each type sent (for retransmission) and last parameters of each event
        self.sent: dict[str, Send] = {}
        self.received: dict[str, dict[str, Any]] = {}

    @property
    def state(self) -> str:
        return self._state

    @property
    def code(self) -> int:
        return self.table._codes[self._state]

    @property
    def name(self) -> str:
        return self.table.name if self.instance is None else f"{self.table.name}[{self.instance}]"

    def expiries(self, timer: str) -> int:
        """How many times in a row ``timer`` has run out without being stopped or started afresh."""
        return self._expiries[timer]

    # ---- the event loop step
    def refine(self, event: str, params: Mapping[str, Any]) -> str:
        """The name the table uses for ``event`` now (see the module docstring)."""
        kind = self.table.kind(event)
        if kind is None:
            raise UnknownEventError(self.table.name, self._state, event)
        refined = self.table.refinements.get(event)
        if refined is None:
            return event
        if kind is EventKind.TIMER:
            n = min(self._expiries[event] + 1, len(refined))
            return refined[n - 1]
        if self.table.refine_fn is None:
            raise TableError(self.table.name, f"{event!r} has refinements but no refine function")
        name = self.table.refine_fn(self, event, params)
        if name not in refined:
            raise TableError(self.table.name, f"refine gave {name!r} for {event!r}")
        return name

    def accepts(self, event: str, /, **params: Any) -> bool:
        """True when ``event`` has a row in the current state (a timer must also be running)."""
        if (self._state, event) in self.table._fast:
            return True   # a row that needs no refinement, for an event that is no timer
        event = _ALIASES.get(event, event)
        table = self.table
        kind = table.events.get(event)
        if kind is None:
            return False
        if kind is _TIMER and event not in self.running:
            return False
        matched = self.refine(event, params) if event in table.refinements else event
        return (self._state, matched) in table._rows

    def handle(self, event: str, /, **params: Any) -> Step:
        """Apply ``event``; return the step. Raises :class:`UNIProtocolError` (state unchanged) for a
        primitive, timer or internal event with no row; answers a message with no row."""
        if params:
            _check_params(params)
        return self.step(_ALIASES.get(event, event), params)

    def step(self, event: str, params: dict[str, Any]) -> Step:
        """``handle`` for a caller that has checked ``params`` already (see :func:`check_params`) and
        gives the event under its canonical name; ``params`` becomes the machine's (not copied).

        The fast form of :meth:`general_step` for the rows of ``Table._fast`` (no refinement, no timer):
        the same bookkeeping and the same step, with the row's actions compiled once (tests prove the two
        equal on every row of every table)."""
        entry = self.table._fast.get((self._state, event))
        if entry is None:
            return self.general_step(event, params)
        next_state, ops, clause, keep, made = entry
        instance = self.instance
        if made is not None and (instance is None or not made[1]):
            # every action as the table has it: the step itself was made once (a Step is immutable); only
            # the machine's bookkeeping is done here
            for action, op in made[2]:
                if op is _OP_SEND:
                    self.sent[action.message] = action
                elif op is _OP_START:
                    self.running[action.timer] = action.seconds
                    if not action.retry:
                        self._expiries[action.timer] = 0
                elif op is _OP_STOP:
                    self.running.pop(action.timer, None)
                    self._expiries[action.timer] = 0
                elif op is _OP_COUNT:
                    if action.cause is not None:
                        self.cause_counts[action.cause] += 1
                else:  # _OP_DISCARD
                    self.discards[action.reason] += 1
            if keep:
                self.received[event] = params
            self._state = next_state
            return made[0]
        actions = []
        for action, op, with_instance in ops:
            if op is _OP_DYNAMIC:
                action = self._resolve(action, params)
                op = _OPS.get((action.__class__, getattr(action, "retransmit", False)), _OP_NONE)
            elif op is _OP_CAUSE_SEND or op is _OP_CAUSE_INDICATE:
                # _resolve of a Send / Indicate whose one placeholder is a FromEvent cause, inlined
                placeholder = action.cause
                got = params.get(placeholder.param)
                new = _object_new(action.__class__)
                d = new.__dict__
                d.update(action.__dict__)
                d["cause"] = placeholder.default if got is None else got
                d["instance"] = instance
                action = new
                if op is _OP_CAUSE_SEND:
                    self.sent[action.message] = action
                actions.append(action)
                continue
            elif with_instance and instance is not None:
                new = _object_new(action.__class__)   # _with(action, instance), inlined
                d = new.__dict__
                d.update(action.__dict__)
                d["instance"] = instance
                action = new
            if op is not _OP_NONE:
                if op is _OP_SEND:
                    self.sent[action.message] = action
                elif op is _OP_START:
                    self.running[action.timer] = action.seconds
                    if not action.retry:
                        self._expiries[action.timer] = 0
                elif op is _OP_STOP:
                    self.running.pop(action.timer, None)
                    self._expiries[action.timer] = 0
                elif op is _OP_COUNT:
                    if action.cause is not None:
                        self.cause_counts[action.cause] += 1
                else:  # _OP_DISCARD
                    self.discards[action.reason] += 1
            actions.append(action)
        if keep:
            self.received[event] = params
        before = self._state
        self._state = next_state
        return _make_step(self.table.name, before, event, event, next_state, tuple(actions), clause, False)

    def general_step(self, event: str, params: dict[str, Any]) -> Step:
        """The definition of a step: ``handle`` after its parameter check, for any event and row."""
        table = self.table
        kind = table.events.get(event)
        if kind is None:
            raise UnknownEventError(table.name, self._state, event)
        if kind is _TIMER and event not in self.running:
            raise UNIProtocolError(table.name, self._state, event, reason=f"timer {event} is not running")
        matched = self.refine(event, params) if event in table.refinements else event
        found = table._plans.get((self._state, matched))
        if found is None:
            return self.reject(event, _matched=matched, **params)
        row, plan = found
        if kind is _TIMER:
            del self.running[event]
            self._expiries[event] += 1
        instance = self.instance
        actions = []
        for action, how in plan:
            if how is _DYNAMIC:
                action = self._resolve(action, params)
            elif how is _WITH_INSTANCE and instance is not None:
                action = _with(action, instance)
            # _AS_IS: the table's own object (no placeholder, no instance field to set)
            cls = action.__class__
            if cls is Send:
                if not action.retransmit:
                    self.sent[action.message] = action
            elif cls is StartTimer:
                self.running[action.timer] = action.seconds
                if not action.retry:
                    self._expiries[action.timer] = 0
            elif cls is StopTimer:
                self.running.pop(action.timer, None)
                self._expiries[action.timer] = 0
            elif cls is CountCause:
                if action.cause is not None:
                    self.cause_counts[action.cause] += 1
            elif cls is Discard:
                self.discards[action.reason] += 1
            actions.append(action)
        if kind is _MESSAGE or kind is _PRIMITIVE:
            self.received[event] = params
        before, self._state = self._state, row.next_state
        return _make_step(table.name, before, event, matched, row.next_state, tuple(actions), row.clause, False)

    def reject(self, event: str, /, _matched: str | None = None, _reason: str | None = None,
               **params: Any) -> Step:
        """Treat ``event`` as not allowed here: the standard answer for a message, else the typed
        error. Used by ``handle`` and by compositions that know better than the table (a party
        message on a point-to-point call)."""
        event = canonical(event)
        kind = self.table.kind(event)
        if kind is None:
            raise UnknownEventError(self.table.name, self._state, event)
        matched = _matched or self.refine(event, params)
        if kind is not EventKind.MESSAGE:
            raise UNIProtocolError(self.table.name, self._state, matched,
                                   reason=_reason or f"{kind.value} not allowed in this state")
        ans = self.table.answer(self._state, matched, params)
        if ans is None:
            raise TableError(self.table.name, f"no row and no answer for {matched} in {self._state}")
        actions = tuple(self._apply(self._resolve(a, params)) for a in ans.actions)
        return Step(self.table.name, self._state, event, matched, self._state, actions, ans.clause,
                    answered=True)

    # ---- internals
    def _value(self, value: Value, params: Mapping[str, Any]) -> Any:
        if isinstance(value, FromEvent):
            got = params.get(value.param)
            return value.default if got is None else got
        if isinstance(value, Recall):
            got = self.received.get(value.event, {}).get(value.param)
            return value.default if got is None else got
        if value is STATE_CODE:
            return self.code
        return value

    def _resolve(self, action: Action, params: Mapping[str, Any]) -> Action:
        cls = action.__class__
        if cls is Send:
            ies = tuple((k, v) for k, v in ((k, self._value(v, params)) for k, v in action.ies) if v is not None)
            return _copy(action, cause=self._value(action.cause, params), ies=ies, instance=self.instance)
        if cls is Retransmit:
            prev = self.sent.get(action.message)
            if prev is None:
                return Send(action.message, instance=self.instance, retransmit=True)
            return _copy(prev, retransmit=True)
        if cls is Indicate:
            return _copy(action, cause=self._value(action.cause, params), instance=self.instance)
        if cls is StartTimer or cls is StopTimer:
            return _copy(action, instance=self.instance)
        if cls is CountCause:
            return CountCause(self._value(action.cause, params))
        if cls is Signal:
            return _copy(action, cause=self._value(action.cause, params))
        return action

    def _apply(self, action: Action) -> Action:
        if isinstance(action, StartTimer):
            self.running[action.timer] = action.seconds
            if not action.retry:
                self._expiries[action.timer] = 0
        elif isinstance(action, StopTimer):
            self.running.pop(action.timer, None)
            self._expiries[action.timer] = 0
        elif isinstance(action, CountCause):
            if action.cause is not None:
                self.cause_counts[action.cause] += 1
        elif isinstance(action, Discard):
            self.discards[action.reason] += 1
        elif isinstance(action, Send) and not action.retransmit:
            self.sent[action.message] = action
        return action

    def __repr__(self) -> str:
        return f"<Machine {self.name} in {self._state}>"


def check_params(params: Mapping[str, Any]) -> None:
    """Raise :class:`ParameterError` for an event parameter out of its range (see ``_RANGES``)."""
    for name, value in params.items():
        bounds = _RANGES.get(name)
        if bounds is None or value is None:
            continue
        lo, hi = bounds
        if value.__class__ is not int and (not isinstance(value, int) or isinstance(value, bool)):
            raise ParameterError(name, value, f"an integer in {lo}..{hi}")
        if not lo <= value <= hi:
            raise ParameterError(name, value, f"an integer in {lo}..{hi}")


_check_params = check_params


# ---- how Machine.handle runs a row's actions ----------------------------------------------------------
#
# A row's actions are resolved against the event (placeholders) and tagged with the machine's instance
# (Machine._resolve). Most actions of most rows have no placeholder: their resolved form only differs
# from the table's object by the instance, so the table plans each action once (Table._plans):
# _AS_IS (the object itself: nothing to resolve, no instance field), _WITH_INSTANCE (a copy with the
# instance set, or the object itself for a machine with no instance), _DYNAMIC (the general _resolve).

_AS_IS, _WITH_INSTANCE, _DYNAMIC = "as is", "with instance", "dynamic"
_TIMER, _MESSAGE, _PRIMITIVE = EventKind.TIMER, EventKind.MESSAGE, EventKind.PRIMITIVE


def _static(value: Any) -> bool:
    return not isinstance(value, (FromEvent, Recall, _StateCode))


def _plan(action: Action) -> tuple[Action, str]:
    """(action, how) for one action of a row; see above. The planned object equals what
    Machine._resolve makes of it for a machine with no instance (tests check every row)."""
    cls = action.__class__
    if cls is Send:
        if action.instance is None and _static(action.cause) and all(_static(v) and v is not None
                                                                     for _, v in action.ies):
            return action, _WITH_INSTANCE
        return action, _DYNAMIC
    if cls is Indicate:
        return (action, _WITH_INSTANCE) if action.instance is None and _static(action.cause) else (action, _DYNAMIC)
    if cls is StartTimer or cls is StopTimer:
        return (action, _WITH_INSTANCE) if action.instance is None else (action, _DYNAMIC)
    if cls is CountCause or cls is Signal:
        return (action, _AS_IS) if _static(action.cause) else (action, _DYNAMIC)
    if cls is Discard or cls is Forward:
        return action, _AS_IS
    return action, _DYNAMIC  # Retransmit: depends on what the machine sent last


# Machine.step runs the rows of Table._fast from ops compiled once per row: (action, op, with instance),
# op naming the bookkeeping the action asks of the machine (the branches of general_step's loop).
_OP_NONE, _OP_SEND, _OP_START, _OP_STOP, _OP_COUNT, _OP_DISCARD, _OP_DYNAMIC = (
    "none", "send", "start", "stop", "count", "discard", "dynamic")
#: a Send (not a retransmission) / an Indicate whose only placeholder is its cause, taken from the event
_OP_CAUSE_SEND, _OP_CAUSE_INDICATE = "send, cause from the event", "indicate, cause from the event"
#: op of a resolved action by (class, retransmit): a retransmitted Send is not kept as the last one sent
_OPS = {(Send, False): _OP_SEND, (StartTimer, False): _OP_START, (StopTimer, False): _OP_STOP,
        (CountCause, False): _OP_COUNT, (Discard, False): _OP_DISCARD}
_object_new = object.__new__


def _compile(table: Table, row: Transition, plan: tuple) -> tuple[str, tuple, str, bool, tuple | None]:
    """One row of ``Table._fast``: (next state, ops, clause, whether the event's parameters are kept, made).
    ``made`` is for a row with no placeholder: (its step, whether a machine with an instance must copy
    actions to set it - then the step is made per event -, the (action, op) pairs that ask for bookkeeping),
    else None."""
    ops = []
    for action, how in plan:
        cls = action.__class__
        cause_only = (cls is Indicate or cls is Send and not action.retransmit
                      and all(_static(v) and v is not None for _, v in action.ies))
        if how is _DYNAMIC and cause_only and action.instance is None and action.cause.__class__ is FromEvent:
            ops.append((action, _OP_CAUSE_SEND if cls is Send else _OP_CAUSE_INDICATE, False))
        elif how is _DYNAMIC:
            ops.append((action, _OP_DYNAMIC, False))
        else:
            op = _OPS.get((action.__class__, getattr(action, "retransmit", False)), _OP_NONE)
            ops.append((action, op, how is _WITH_INSTANCE))
    keep = table.events[row.event] in (EventKind.MESSAGE, EventKind.PRIMITIVE)
    made = None
    if all(op is not _OP_DYNAMIC and op is not _OP_CAUSE_SEND and op is not _OP_CAUSE_INDICATE for _, op, _ in ops):
        step = _make_step(table.name, row.state, row.event, row.event, row.next_state, tuple(a for a, _, _ in ops),
                          row.clause, False)
        made = (step, any(w for _, _, w in ops), tuple((a, op) for a, op, _ in ops if op is not _OP_NONE))
    return row.next_state, tuple(ops), row.clause, keep, made


def _with(action: Action, instance: int) -> Action:
    """``replace(action, instance=instance)`` without dataclasses' per-call machinery (the frozen
    dataclass's fields copied as they are, ``instance`` set)."""
    new = object.__new__(action.__class__)
    d = new.__dict__
    d.update(action.__dict__)
    d["instance"] = instance
    return new


def _copy(action: Action, **changes: Any) -> Action:
    """``dataclasses.replace`` for the frozen action classes (no field has a default factory or an
    ``__post_init__``): the fields copied, ``changes`` set."""
    new = object.__new__(action.__class__)
    d = new.__dict__
    d.update(action.__dict__)
    d.update(changes)
    return new


def _make_step(machine: str, before: str, event: str, matched: str, after: str, actions: tuple, clause: str,
               answered: bool) -> "Step":
    step = _object_new(Step)   # the frozen dataclass, its fields set in its __dict__ directly
    d = step.__dict__
    d["machine"] = machine
    d["before"] = before
    d["event"] = event
    d["matched"] = matched
    d["after"] = after
    d["actions"] = actions
    d["clause"] = clause
    d["answered"] = answered
    return step


@dataclass
class Counters:
    """Cause and discard counters summed over several machines (a call and its parties)."""

    causes: Counter[int] = field(default_factory=lambda: _counter(Counter))
    discards: Counter[str] = field(default_factory=lambda: _counter(Counter))

    def add(self, actions: Iterable[Action]) -> None:
        for a in actions:
            if isinstance(a, CountCause) and isinstance(a.cause, int):
                self.causes[a.cause] += 1
            elif isinstance(a, Discard):
                self.discards[a.reason] += 1
