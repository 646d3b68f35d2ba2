"""The machines' fast path is the tables' meaning: for every action of every row of every table, what
Machine.handle takes from its plan (the table's own object, or a copy with the machine's instance) equals
what resolving the action against the event makes (the dataclasses.replace of the first version), for a
machine with and without an instance."""

from __future__ import annotations

from dataclasses import replace

import pytest

from firmware.uni.machines import call_network, call_user, party, restart
from firmware.uni.machines import table as T

TABLES = [call_user.USER_CALL, call_network.NETWORK_CALL, party.USER_PARTY, party.NETWORK_PARTY,
          restart.RESTART_START, restart.RESTART_RESPOND]


def reference(machine: T.Machine, action: T.Action) -> T.Action:
    """Machine._resolve as first written, with dataclasses.replace (no event parameter)."""
    if isinstance(action, T.Send):
        ies = tuple((k, v) for k, v in ((k, machine._value(v, {})) for k, v in action.ies) if v is not None)
        return replace(action, cause=machine._value(action.cause, {}), ies=ies, instance=machine.instance)
    if isinstance(action, T.Retransmit):
        prev = machine.sent.get(action.message)
        return T.Send(action.message, instance=machine.instance, retransmit=True) if prev is None else \
            replace(prev, retransmit=True)
    if isinstance(action, T.Indicate):
        return replace(action, cause=machine._value(action.cause, {}), instance=machine.instance)
    if isinstance(action, (T.StartTimer, T.StopTimer)):
        return replace(action, instance=machine.instance)
    if isinstance(action, T.CountCause):
        return T.CountCause(machine._value(action.cause, {}))
    if isinstance(action, T.Signal):
        return replace(action, cause=machine._value(action.cause, {}))
    return action


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
@pytest.mark.parametrize("instance", [None, 7])
def test_every_planned_action_is_the_resolved_one(table: T.Table, instance: int | None) -> None:
    planned = 0
    for key, (row, plan) in table._plans.items():
        assert row is table.lookup(*key) and [a for a, _ in plan] == list(row.actions)
        for action, how in plan:
            machine = T.Machine(table, state=row.state, instance=instance)
            want = reference(machine, action)
            assert machine._resolve(action, {}) == want                      # the general path
            if how is T._DYNAMIC:
                continue
            planned += 1
            got = action if how is T._AS_IS or instance is None else T._with(action, instance)
            assert got == want and type(got) is type(want), (row, action)
    assert planned > 0


def test_a_step_made_fast_is_a_step() -> None:
    m = T.Machine(party.USER_PARTY, instance=3)
    step = m.handle("add-party.request", epref=3)
    assert isinstance(step, T.Step) and step.before == "P0" and step.after == "P1" and step.changed
    assert [type(a).__name__ for a in step.actions] == [type(a).__name__ for a in
                                                        party.USER_PARTY.lookup("P0", "add-party.request").actions]
    assert all(getattr(a, "instance", 3) == 3 for a in step.actions)


def _machine(table: T.Table, state: str, instance: int | None) -> T.Machine:
    """A machine in ``state`` with every timer of its table running once expired (so that a start, a
    restart with retry and a stop each leave a different trace)."""
    m = T.Machine(table, state=state, instance=instance)
    for name, kind in table.events.items():
        if kind is T.EventKind.TIMER:
            m.running[name] = 1.5
            m._expiries[name] = 1
    return m


def _trace(m: T.Machine) -> tuple:
    return (m.state, dict(m.running), dict(m._expiries), dict(m.sent), dict(m.cause_counts), dict(m.discards),
            {k: dict(v) for k, v in m.received.items()})


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
@pytest.mark.parametrize("instance", [None, 7])
@pytest.mark.parametrize("params", [{}, {"cause": 21, "epref": 7, "call_state": 10, "endpoint_state": 1}],
                         ids=["no parameters", "parameters"])
def test_the_compiled_rows_step_as_the_general_path(table: T.Table, instance: int | None, params: dict) -> None:
    """Machine.step (the rows compiled in Table._fast) and Machine.general_step (the definition) give equal
    steps, with actions of the same classes, and leave the machine in the same state with the same timers,
    expiry counts, messages kept for retransmission, counters and parameters kept, for every compiled row."""
    assert table._fast, "no compiled row"
    for (state, event), (next_state, ops, clause, _, _) in table._fast.items():
        fast, general = _machine(table, state, instance), _machine(table, state, instance)
        got, want = fast.step(event, dict(params)), general.general_step(event, dict(params))
        assert got == want and [type(a) for a in got.actions] == [type(a) for a in want.actions], (state, event)
        assert _trace(fast) == _trace(general), (state, event)
        assert got.after == next_state and got.clause == clause and len(ops) == len(got.actions)


def test_the_cause_of_an_event_reaches_the_compiled_send_and_indicate() -> None:
    """The inlined FromEvent cause: the event's cause when it has one, the row's default otherwise."""
    m = T.Machine(party.USER_PARTY, state="P10", instance=4)
    sent = m.step("drop-party.request", {"epref": 4, "cause": 31}).actions[0]
    assert (sent.message, sent.cause, sent.instance) == ("DROP_PARTY", 31, 4) and m.sent["DROP_PARTY"] is sent
    m = T.Machine(party.USER_PARTY, state="P10", instance=4)
    assert m.step("drop-party.request", {"epref": 4}).actions[0].cause == 16
    m = T.Machine(party.USER_PARTY, state="P11", instance=4)
    told = m.step("DROP_PARTY_ACK", {"epref": 4, "cause": 41}).actions[-1]
    assert (told.primitive, told.cause, told.instance) == ("drop-party-ack.indication", 41, 4)
