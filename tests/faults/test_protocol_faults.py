"""Faults of the protocol, not of the line, through the MCM root and the real switch: a leaf that never
answers, a switch that rejects, timers that expire mid-operation, drops crossing adds in flight, the
client closing the call while parties are being added. Each NDIS request completes exactly once with the
status the network decided; the rule checker stays silent; every counter balances."""

from __future__ import annotations

from cm.ndis.cause_status import completion_status
from cm.ndis.params import ATM_ADDRESS
from cm.ndis.status import NDIS_STATUS
from firmware.endpoint.leaf import LeafBehaviour


def test_a_leaf_that_never_answers_ends_on_t399(fx) -> None:
    rig = fx.make_rig(behaviours={3: LeafBehaviour.silent()})
    call = fx.connected(rig)
    silent = rig.client.add_party(call, rig.address(3))
    rig.run(1.0)
    assert silent.add_completions == []                      # nothing yet: T399 (2 s) runs at the MCM
    rig.run(2.0)
    # T399 ran out (Q.2971): the MCM dropped the party itself, cause 102 -> the add fails
    assert silent.add_completions == [completion_status(102)]
    assert rig.mcm.uni.counters.timers_expired["T399"] == 1
    fx.promises(rig, [call])


def test_a_switch_that_rejects(fx) -> None:
    rig = fx.make_rig(behaviours={2: LeafBehaviour.reject(17)})
    call = fx.connected(rig)
    c = rig.client
    busy = c.add_party(call, rig.address(2))                 # the leaf rejects: cause 17 user busy
    nowhere = c.add_party(call, ATM_ADDRESS.nsap(bytes.fromhex("47000580ffe1000000000000010000000000010000")[:20]))
    rig.run(0.2)
    assert busy.add_completions == [completion_status(17)]
    assert len(nowhere.add_completions) == 1 and nowhere.add_completions[0] != NDIS_STATUS.SUCCESS
    assert call.phase.value == "connected"
    fx.promises(rig, [call])


def test_t303_at_the_switch_fails_the_make_call(fx) -> None:
    rig = fx.make_rig(behaviours={1: LeafBehaviour.silent()})
    call = rig.client.make_call(rig.address(1))
    rig.run_while(lambda: call.phase.value == "making", limit_seconds=10)
    # the switch's T303 ran out twice towards the leaf (Q.2931 5.2.1: cause 18), the call is released
    assert call.make_completions == [completion_status(18)]
    fx.promises(rig, [call])


def test_t398_expires_when_the_drop_is_never_acknowledged(fx) -> None:
    from dataclasses import replace

    rig = fx.make_rig(timers=replace(fx.TIMERS, T398=0.3))     # before SSCOP notices the dead direction
    call = fx.connected(rig)
    c = rig.client
    p2 = c.add_party(call, rig.address(2))
    rig.run(0.1)
    rig.line(0).set_impairments(type(rig.line(0).a_to_b.impairments)(loss=1.0), "switch->user")
    c.drop_party(p2)                                         # the DROP PARTY ACK never comes back
    rig.run(0.5)                                             # T398 0.3 s at the MCM
    assert p2.drop_completions == [NDIS_STATUS.SUCCESS]      # Q.2971: the party is dropped all the same
    assert rig.mcm.uni.counters.timers_expired["T398"] == 1
    rig.line(0).set_impairments(type(rig.line(0).a_to_b.impairments)(), "switch->user")
    rig.run(6.0)
    fx.promises(rig, [call])


def test_a_leaf_leaving_crosses_adds_in_flight(fx) -> None:
    # port 2 acknowledges and leaves at once: its DROP PARTY follows its ADD PARTY ACK, while the client
    # adds more parties and drops another: every request completes exactly once
    rig = fx.make_rig(behaviours={2: LeafBehaviour.accept(drop_after=1e-6), 4: LeafBehaviour.alert(0.05)})
    call = fx.connected(rig)
    c = rig.client
    p3 = c.add_party(call, rig.address(3))
    rig.run(0.05)
    leaving = c.add_party(call, rig.address(2))
    p4 = c.add_party(call, rig.address(4))
    c.drop_party(p3)                                         # crosses the adds in flight
    rig.run(0.5)
    assert leaving.add_completions == [NDIS_STATUS.SUCCESS] and leaving.remote_left
    assert leaving.drop_completions == [NDIS_STATUS.SUCCESS]   # the client answered the incoming drop
    assert p3.drop_completions == [NDIS_STATUS.SUCCESS] and p4.add_completions == [NDIS_STATUS.SUCCESS]
    fx.promises(rig, [call])


def test_drop_collision_with_the_network(fx) -> None:
    # the leaf leaves exactly when the client drops: DROP PARTY both ways (Q.2971 P11 + DROP PARTY)
    rig = fx.make_rig(behaviours={2: LeafBehaviour.accept(drop_after=0.2)})
    call = fx.connected(rig)
    c = rig.client
    p2 = c.add_party(call, rig.address(2))
    rig.run_while(lambda: p2.phase.value == "adding")
    active_at = rig.clock.now
    rig.run_while(lambda: rig.clock.now < active_at + rig.clock.slots(0.2) - 3, limit_seconds=1)
    if p2.phase.value == "active":
        c.drop_party(p2)
    rig.run(0.5)
    assert len(p2.drop_completions) == 1 and p2.drop_completions[0] == NDIS_STATUS.SUCCESS
    fx.promises(rig, [call])


def test_client_closes_while_parties_are_being_added(fx) -> None:
    rig = fx.make_rig(behaviours={3: LeafBehaviour.alert(0.3), 4: LeafBehaviour.silent()})
    call = fx.connected(rig)
    c = rig.client
    adding = [c.add_party(call, rig.address(p)) for p in (2, 3, 4)]
    c.close_call(call)                                       # while the three adds are in flight
    rig.run(4.0)                                             # the silent one ends on T399 (2 s)
    assert call.phase.value == "closed" and call.close_completions == [NDIS_STATUS.SUCCESS]
    for p in adding:
        assert len(p.add_completions) == 1, p
        assert len(p.drop_completions) <= 1
    fx.promises(rig, [call])
