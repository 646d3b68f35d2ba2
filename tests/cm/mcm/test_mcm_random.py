"""Random runs of the real client and MCM against a scripted network whose leaves accept, alert, refuse
with random causes, stay silent or leave by themselves, while the client adds and drops parties and
the network drops parties or releases the call at random moments. Whatever happens: no rule is broken
(strict checker), every NdisClAddParty ends in exactly one completion, with the status the network
decided, every drop in at most one, nothing stays pending past a deadline, and every counter of the
adapter, the cable and both SSCOPs balances."""

from __future__ import annotations

import random

import pytest

from cm.ndis.cause_status import completion_status
from cm.ndis.status import NDIS_STATUS
from firmware.endpoint import LeafBehaviour

CAUSES = (1, 3, 17, 18, 21, 27, 31, 35, 37, 41, 47, 49, 63, 88)


def _behaviour(rng: random.Random) -> LeafBehaviour:
    kind = rng.random()
    if kind < 0.45:
        return LeafBehaviour.accept(after=rng.choice((0.0, 0.001, 0.02)),
                                    drop_after=rng.choice((None, None, 0.03, 0.2)))
    if kind < 0.6:
        return LeafBehaviour.alert(rng.choice((0.01, 0.1)))
    if kind < 0.85:
        return LeafBehaviour.reject(rng.choice(CAUSES), alert_for=rng.choice((0.0, 0.0, 0.05)))
    return LeafBehaviour.silent()


def _expected(behaviour: LeafBehaviour) -> int | None:
    """The add completion the network decides (None: it depends on timing, e.g. a release)."""
    if behaviour.kind in ("accept", "alert"):
        return NDIS_STATUS.SUCCESS
    if behaviour.kind == "reject":
        return completion_status(behaviour.cause)
    return completion_status(102)  # silent: T399


@pytest.mark.parametrize("seed", range(12))
def test_random_runs_break_no_rule(mb, seed):
    rng = random.Random(seed)
    # nothing may stay pending longer than T399 (2 s here) plus the network's answer: a 3 s deadline
    tb = mb.make_bed(deadline=3 * 353_208)
    network = tb.network
    expected: dict[str, int | None] = {}
    calls = []
    serial = 0
    call = None
    for _ in range(120):
        if call is None or call.phase.value != "connected" or call.closing:
            if len(calls) == 4:
                break
            call = mb.connected(tb)  # the next call (the previous one ended)
            calls.append(call)
            continue
        action = rng.random()
        live = [p for p in call.parties if p.phase.value == "active"]
        net_call = network.calls[-1]
        if action < 0.5:
            serial += 1
            number = f"4{serial:04d}"
            behaviour = _behaviour(rng)
            network.behaviours[number.encode()] = behaviour
            party = tb.client.add_party(call, mb.e164(number))
            expected[party.name] = _expected(behaviour)
        elif action < 0.7:
            if len(live) > 1:
                tb.client.drop_party(rng.choice(live))
        elif action < 0.85:
            if len(net_call.active()) > 1:  # a leaf leaves (not the first party: the call would end too often)
                network.drop_party(net_call, rng.choice(net_call.active()[1:]), cause=rng.choice((16, 27, 41)))
        elif action < 0.87:
            network.release(net_call, cause=rng.choice((16, 38)))
        elif action < 0.89:
            tb.client.close_call(call)
        tb.run(rng.choice((0.0005, 0.005, 0.05, 0.5)))
    tb.run(3 * mb.TIMERS.T399_user)  # every pending add is answered or timed out
    tb.finish(settle_seconds=3.0)
    assert tb.checker.report().ok, tb.checker.report().render(width=220)
    assert sum(len(c.all_parties) for c in calls) > 10
    for call in calls:
        for party in call.all_parties:
            assert len(party.add_completions) == 1, party
            assert len(party.drop_completions) <= 1, party
            want = expected.get(party.name)
            got = party.add_completions[0]
            if want is not None and got != want:
                # only a call cleared under the party (the network's RELEASE, the last party leaving, the
                # client's close) changes what the network decided for it
                assert call.incoming_close or call.close_completions, (party, got, want)
        assert call.phase.value in ("closed", "failed") and call.vc_deleted
    tb.check_conservation()
