"""Property: any sequence of client operations (make calls, add and drop parties, close calls), remote
leaves and completions in any order, against the correct scripted MCM, gives zero rule violations, and
every request ends in exactly one completion with the status the MCM decided."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cm.client import CallPhase, PartyPhase
from cm.ndis.dispatcher import NdisObserver
from cm.ndis.status import NDIS_STATUS_DEST_OUT_OF_ORDER, NDIS_STATUS_INCOMPATABLE_QOS, NDIS_STATUS_SUCCESS

EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))


def decide(number: str) -> int:
    if number.endswith("9"):
        return NDIS_STATUS_DEST_OUT_OF_ORDER
    if number.endswith("8"):
        return NDIS_STATUS_INCOMPATABLE_QOS
    return NDIS_STATUS_SUCCESS


class Ledger(NdisObserver):
    """Every operation NDIS tracks starts once and settles exactly once."""

    def __init__(self) -> None:
        self.started: set[int] = set()
        self.settled: dict[int, int] = {}

    def on_operation(self, op, event) -> None:
        if event == "start":
            assert op.serial not in self.started
            self.started.add(op.serial)
        else:
            self.settled[op.serial] = self.settled.get(op.serial, 0) + 1


ACTIONS = st.sampled_from(["call", "add", "add", "add", "drop", "complete", "remote", "close"])
#: (action, a choice index, how many queued completions to run afterwards, in random order)
OPS = st.lists(st.tuples(ACTIONS, st.integers(0, 99), st.integers(0, 3)), min_size=10, max_size=80)


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pend=st.booleans(), ops=OPS, seed=st.integers(0, 2**32 - 1))
def test_random_client_sequences_are_clean(d, pend, ops, seed):
    rng = random.Random(seed)
    w = d.make_world("strict", pend=pend, decide=decide)
    ledger = w.ndis.attach(Ledger())
    c, mcm = w.client, w.mcm
    serial = 0
    c.make_call(d.e164("1000"))
    mcm.complete_all()
    for op, k, then in ops:
        open_calls = [x for x in c.calls if x.phase is CallPhase.CONNECTED and not x.closing]
        if op == "call" and len([x for x in c.calls if x.phase in (CallPhase.MAKING, CallPhase.CONNECTED)]) < 3:
            c.make_call(d.e164(f"1{k}00"))
        elif op == "add" and open_calls:
            serial += 1
            c.add_party(open_calls[k % len(open_calls)], d.e164(f"2{serial:03d}{k % 10}"))
        elif op == "drop":
            active = [p for x in open_calls for p in x.parties if p.phase is PartyPhase.ACTIVE]
            if active:
                c.drop_party(active[k % len(active)])
        elif op == "complete":
            mcm.complete_random(rng)
        elif op == "remote":
            leaving = mcm.active_parties()
            if leaving:
                mcm.remote_leaves(leaving[k % len(leaving)])
        elif op == "close" and open_calls:
            c.close_call(open_calls[k % len(open_calls)])
        for _ in range(then):
            mcm.complete_random(rng)
        w.clock.advance(1)
    w.finish()
    kinds = {x.kind for x in c.log}
    for kind in ("IncomingDropParty", "IncomingCloseCall", "DropParty"):
        event(f"{kind}: {'yes' if kind in kinds else 'no'}")
    event(f"parties added: {min(sum(len(x.all_parties) for x in c.calls) // 5 * 5, 20)}+")

    assert w.checker.report().ok
    assert not w.ndis.outstanding and not w.ndis.allocations
    # every operation NDIS tracked settled exactly once
    assert set(ledger.settled) == ledger.started and set(ledger.settled.values()) <= {1}
    for call in c.calls:
        assert call.phase in (CallPhase.CLOSED, CallPhase.FAILED)
        assert len(call.make_completions) == 1
        assert len(call.close_completions) == (1 if call.make_completions[0] == NDIS_STATUS_SUCCESS else 0)
        assert call.vc_deleted
        for party in call.all_parties:
            # exactly one add completion, with the status the MCM decided
            assert party.add_completions == [decide(party.address.digits.decode())], party
            assert len(party.drop_completions) <= 1
            assert party.phase is PartyPhase.GONE
