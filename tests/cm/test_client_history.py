"""The client keeps bounded records (issue 9's soak: it must be able to run for ever): the log holds the
most recent completions while the counters count every one; a call keeps its most recent gone parties,
the client its most recent closed calls; what falls out of a record is freed."""

from __future__ import annotations

import gc
import weakref
from functools import partial

import pytest

from cm.client import CallPhase, ClientError, CoNdisClient, PartyPhase
from cm.ndis.status import NDIS_STATUS_DEST_OUT_OF_ORDER, NDIS_STATUS_SUCCESS


def world(d, history: int, **kw):
    return d.make_world("strict", pend=True, client_cls=partial(CoNdisClient, history=history), **kw)


def test_log_and_gone_parties_are_bounded_counts_are_not(d):
    w = world(d, 3, decide=lambda n: NDIS_STATUS_DEST_OUT_OF_ORDER if n.endswith("9") else NDIS_STATUS_SUCCESS)
    c = w.client
    call = c.make_call(d.e164("1000"))
    w.mcm.complete_all()
    gone = []
    for k in range(10):
        p = c.add_party(call, d.e164(f"20{k}"))
        w.mcm.complete_all()
        if p.phase is PartyPhase.ACTIVE:
            c.drop_party(p)
            w.mcm.complete_all()
        gone.append(weakref.ref(p))
        del p
    # 1 OpenAf + 1 MakeCall + 10 AddParty + 9 DropParty (the add to ...9 failed): all counted
    assert c.completed == 21
    assert c.summary()["AddParty"] == {"NDIS_STATUS_SUCCESS": 9, "NDIS_STATUS_DEST_OUT_OF_ORDER": 1}
    assert c.summary()["DropParty"] == {"NDIS_STATUS_SUCCESS": 9}
    # the log: the last three completions, oldest first
    assert [(x.kind, x.target) for x in c.log] == [("AddParty", "party11"), ("DropParty", "party11"),
                                                  ("AddParty", "party12")]
    assert [x.kind for x in c.completions("AddParty")] == ["AddParty", "AddParty"]
    # the call: its first party, the last three gone ones; every gone one counted
    assert call.parties_ended == 10 and [p.name for p in call.ended] == ["party10", "party11", "party12"]
    assert [p.name for p in call.all_parties] == ["party10", "party11", "party12", "party2"]
    gc.collect()
    assert [r() is None for r in gone] == [True] * 7 + [False] * 3     # the older records are freed
    w.finish()
    assert w.checker.report().ok and not w.ndis.allocations


def test_closed_calls_are_bounded_records(d):
    w = world(d, 2)
    c = w.client
    refs = []
    for k in range(5):
        call = c.make_call(d.e164(f"30{k}"))
        w.mcm.complete_all()
        c.close_call(call)
        w.mcm.complete_all()
        assert call.phase is CallPhase.CLOSED and call.vc_deleted
        refs.append(weakref.ref(call))
        del call
    open_call = c.make_call(d.e164("3999"))
    w.mcm.complete_all()
    # the two most recent closed calls, then the one still holding a VC
    assert [x.name for x in c.calls] == ["call7", "call9", "call11"] and c.calls[-1] is open_call
    assert list(c.ended_calls) == c.calls[:2]
    gc.collect()
    assert [r() is None for r in refs] == [True, True, True, False, False]
    assert c.summary()["CloseCall"] == {"NDIS_STATUS_SUCCESS": 5}
    w.finish()
    assert w.checker.report().ok and not w.ndis.allocations


def test_history_zero_keeps_nothing_but_counts(d):
    w = world(d, 0)
    c = w.client
    call = c.make_call(d.e164("4000"))
    w.mcm.complete_all()
    p = c.add_party(call, d.e164("4001"))
    w.mcm.complete_all()
    c.drop_party(p)
    w.mcm.complete_all()
    assert not c.log and not call.ended and call.parties_ended == 1 and c.completed == 4
    w.finish()
    assert w.checker.report().ok


def test_history_must_be_a_count(d):
    with pytest.raises(ClientError, match="history"):
        world(d, -1)
