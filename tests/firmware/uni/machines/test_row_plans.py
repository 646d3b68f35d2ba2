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
