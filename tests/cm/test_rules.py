"""The rule checker: for every rule, deliberately broken call manager or client variants that the checker
catches, naming that rule, in strict mode (RuleViolation raised at the violation) and in report mode
(collected, the run carries on). The correct drivers run the same prefixes with zero violations (the
expected rule is the first one reported)."""

from __future__ import annotations

from typing import Callable

import pytest

from cm.client import CoNdisClient
from cm.ndis.dispatcher import Ndis
from cm.ndis.handles import Out
from cm.ndis.irql import DIRQL, DISPATCH_LEVEL, NDIS_SPIN_LOCK, NdisAcquireSpinLock, at_irql
from cm.ndis.params import make_call_parameters
from cm.ndis.status import (NDIS_STATUS_DEST_OUT_OF_ORDER, NDIS_STATUS_NOT_ACCEPTED, NDIS_STATUS_PENDING,
                            NDIS_STATUS_SUCCESS)
from cm.rules import RULES, Mode, Report, RuleChecker, RuleViolation
from cm.rules.registry import markdown

SCENARIOS: dict[str, list[Callable]] = {}


def scenario(rule_name: str):
    def register(fn):
        SCENARIOS.setdefault(rule_name, []).append(fn)
        return fn
    return register


def connected(d, mode, *, mcm_cls=None, client_cls=CoNdisClient, pend=True, numbers=(), **kw):
    """A world with an established multipoint call to 1000 plus parties to ``numbers``."""
    w = d.make_world(mode, mcm_cls=mcm_cls or d.ScriptedMcm, client_cls=client_cls, pend=pend, **kw)
    call = w.client.make_call(d.e164("1000"))
    w.mcm.complete_all()
    parties = [w.client.add_party(call, d.e164(n)) for n in numbers]
    w.mcm.complete_all()
    return w, call, parties


# -- completions ------------------------------------------------------------------------------------


@scenario("CompleteNeverPended")
def complete_after_synchronous_success(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            status = super().ProtocolCmAddParty(CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext)
            # bug: returns SUCCESS and completes later anyway
            self.queue.append(lambda: self.ndis.NdisMCmAddPartyComplete(status, NdisPartyHandle,
                                                                        CallMgrPartyContext.value, CallParameters))
            return status

    w, call, _ = connected(d, mode, mcm_cls=M, pend=False, numbers=("1001",))
    w.finish()
    return w


@scenario("CompleteNeverPended")
def complete_inside_handler_then_return_success(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            self.pend = True
            super().ProtocolCmAddParty(CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext)
            self.complete_all()
            self.pend = False
            return NDIS_STATUS_SUCCESS  # bug: completed, then returns a final status

    w, call, _ = connected(d, mode, mcm_cls=M, pend=False, numbers=("1001",))
    w.finish()
    return w


@scenario("CompleteNeverPended")
def drop_complete_for_a_party_never_dropped(d, mode):
    w, call, parties = connected(d, mode, numbers=("1001",))
    party = w.mcm.active_parties()[-1]
    with at_irql(DISPATCH_LEVEL):
        w.ndis.NdisMCmDropPartyComplete(NDIS_STATUS_SUCCESS, party.handle)  # bug: nothing was dropped
    w.finish()
    return w


@scenario("CompleteTwice")
def add_completed_twice(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            status = super().ProtocolCmAddParty(CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext)
            self.queue.append(lambda: self.ndis.NdisMCmAddPartyComplete(NDIS_STATUS_SUCCESS, NdisPartyHandle,
                                                                        CallMgrPartyContext.value, CallParameters))
            return status

    w, call, _ = connected(d, mode, mcm_cls=M, numbers=("1001",))
    w.finish()
    return w


@scenario("CompleteWithPending")
def drop_completed_with_pending(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmDropParty(self, CallMgrPartyContext, CloseData, Size):
            party = CallMgrPartyContext
            party.state = "dropping"
            return self.run(lambda: self.ndis.NdisMCmDropPartyComplete(NDIS_STATUS_PENDING, party.handle))

    w, call, parties = connected(d, mode, mcm_cls=M, numbers=("1001",))
    w.client.drop_party(parties[0])
    w.finish()
    return w


@scenario("AddPartySuccessWithoutContext")
def add_complete_success_without_context(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            party = self.new_party(CallMgrVcContext, NdisPartyHandle, CallParameters)
            CallMgrPartyContext.value = party

            def finish():
                party.state = "active"
                self.ndis.NdisMCmAddPartyComplete(NDIS_STATUS_SUCCESS, NdisPartyHandle, None, CallParameters)
            return self.run(finish)

        def ProtocolCmDropParty(self, CallMgrPartyContext, CloseData, Size):
            if CallMgrPartyContext is None:  # the consequence: NDIS has no context to give back
                return NDIS_STATUS_SUCCESS
            return super().ProtocolCmDropParty(CallMgrPartyContext, CloseData, Size)

    w, call, _ = connected(d, mode, mcm_cls=M, numbers=("1001",))
    w.finish()
    return w


@scenario("AddPartySuccessWithoutContext")
def synchronous_add_without_context(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            status = super().ProtocolCmAddParty(CallMgrVcContext, CallParameters, NdisPartyHandle, Out())
            return status  # bug: *CallMgrPartyContext never set

        def ProtocolCmDropParty(self, CallMgrPartyContext, CloseData, Size):
            if CallMgrPartyContext is None:  # the consequence: NDIS has no context to give back
                return NDIS_STATUS_SUCCESS
            return super().ProtocolCmDropParty(CallMgrPartyContext, CloseData, Size)

    w, call, _ = connected(d, mode, mcm_cls=M, pend=False, numbers=("1001",))
    w.finish()
    return w


@scenario("AddPartySuccessWithoutContext")
def multipoint_make_call_without_party_context(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmMakeCall(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            vc = CallMgrVcContext
            party = self.new_party(vc, NdisPartyHandle, CallParameters)
            CallMgrPartyContext.value = party

            def finish():
                self.ndis.NdisMCmActivateVc(vc.handle, CallParameters)
                party.state = "active"
                self.ndis.NdisMCmMakeCallComplete(NDIS_STATUS_SUCCESS, vc.handle, NdisPartyHandle, None, CallParameters)
            return self.run(finish)

    w, call, _ = connected(d, mode, mcm_cls=M)
    w.finish()
    return w


# -- party handles ----------------------------------------------------------------------------------


@scenario("PartyHandleAfterDrop")
def client_drops_again_after_drop_completed(d, mode):
    class C(CoNdisClient):
        def _drop(self, party):
            self.stale = party.handle
            return super()._drop(party)

        def ProtocolClDropPartyComplete(self, Status, ProtocolPartyContext):
            super().ProtocolClDropPartyComplete(Status, ProtocolPartyContext)
            self.ndis.NdisClDropParty(self.stale)  # bug: the handle died with the completion

    w, call, parties = connected(d, mode, client_cls=C, numbers=("1001", "1002"))
    w.client.drop_party(parties[0])
    w.finish()
    return w


@scenario("PartyHandleAfterDrop")
def mcm_uses_handle_after_failed_add(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            status = super().ProtocolCmAddParty(CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext)
            # later, a stray RELEASE for that leaf: indicated on the handle of the failed party
            self.queue.append(lambda: self.ndis.NdisMCmDispatchIncomingDropParty(NDIS_STATUS_SUCCESS, NdisPartyHandle,
                                                                                 None, 0))
            return status

    w, call, _ = connected(d, mode, mcm_cls=M, numbers=("1009",), decide=lambda n: (
        NDIS_STATUS_DEST_OUT_OF_ORDER if n.endswith("9") else NDIS_STATUS_SUCCESS))
    w.finish()
    return w


@scenario("CloseCallWithPartiesLeft")
def client_closes_with_parties_left(d, mode):
    class C(CoNdisClient):
        def close_call(self, call):  # bug: forgets to drop the other parties first
            first = call.parties[0]
            return self.ndis.NdisClCloseCall(call.vc, first.handle, None, 0)

    w, call, _ = connected(d, mode, client_cls=C, numbers=("1001", "1002"))
    w.finish()
    return w


@scenario("DropLastParty")
def client_drops_the_last_party(d, mode):
    class C(CoNdisClient):
        def drop_party(self, party):  # bug: no count of parties; NdisClDropParty even for the last
            return self._drop(party)

    w, call, _ = connected(d, mode, client_cls=C)
    w.client.drop_party(call.parties[0])
    w.finish()
    return w


@scenario("IncomingDropForLastParty")
def incoming_drop_for_the_only_party(d, mode):
    class M(d.ScriptedMcm):
        def remote_leaves(self, party, cause_status=NDIS_STATUS_SUCCESS):
            with at_irql(DISPATCH_LEVEL):  # bug: always an incoming drop, even for the last party
                self.ndis.NdisMCmDispatchIncomingDropParty(cause_status, party.handle, None, 0)

    w, call, _ = connected(d, mode, mcm_cls=M)
    w.mcm.remote_leaves(w.mcm.active_parties()[0])
    w.finish()
    return w


# -- VCs --------------------------------------------------------------------------------------------


@scenario("MakeCallSuccessBeforeActivate")
def make_call_complete_without_activate(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmMakeCall(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            vc = CallMgrVcContext
            party = self.new_party(vc, NdisPartyHandle, CallParameters)
            CallMgrPartyContext.value = party

            def finish():  # bug: no NdisMCmActivateVc
                party.state = "active"
                self.ndis.NdisMCmMakeCallComplete(NDIS_STATUS_SUCCESS, vc.handle, NdisPartyHandle, party,
                                                  CallParameters)
            return self.run(finish)

    w, call, _ = connected(d, mode, mcm_cls=M)
    w.finish()
    return w


@scenario("MakeCallSuccessBeforeActivate")
def synchronous_make_call_without_activate(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmMakeCall(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            party = self.new_party(CallMgrVcContext, NdisPartyHandle, CallParameters)
            party.state = "active"
            CallMgrPartyContext.value = party
            return NDIS_STATUS_SUCCESS  # bug: never activated

    w, call, _ = connected(d, mode, mcm_cls=M, pend=False)
    w.finish()
    return w


@scenario("DeleteVcWhileActive")
def client_deletes_vc_with_call_up(d, mode):
    w, call, _ = connected(d, mode, numbers=("1001",))
    assert w.client.delete_vc(call) == NDIS_STATUS_NOT_ACCEPTED  # bug: the call is still up
    w.finish()
    return w


@scenario("DeleteVcWhileActive")
def mcm_deletes_its_active_vc(d, mode):
    class M(d.ScriptedMcm):
        def incoming_vc(self):
            vc = Out()
            with at_irql(DISPATCH_LEVEL):
                assert self.ndis.NdisMCmCreateVc(self.adapter, self.af_handle, object(), vc) == NDIS_STATUS_SUCCESS
                self.ndis.NdisMCmActivateVc(vc.value, make_call_parameters(d.e164("2000")))
                self.ndis.NdisMCmDeleteVc(vc.value)  # bug: still active
                self.ndis.NdisMCmDeactivateVc(vc.value)
                assert self.ndis.NdisMCmDeleteVc(vc.value) == NDIS_STATUS_SUCCESS

    w, call, _ = connected(d, mode, mcm_cls=M)
    w.mcm.incoming_vc()
    w.finish()
    return w


@scenario("VcHandlerPending")
def create_vc_handler_pends(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCoCreateVc(self, ProtocolAfContext, NdisVcHandle, ProtocolVcContext):
            return NDIS_STATUS_PENDING  # bug: ProtocolCoCreateVc never pends

    w = d.make_world(mode, mcm_cls=M)
    call = w.client.make_call(d.e164("1000"))
    assert call.phase.value == "failed"
    w.finish()
    return w


@scenario("StaleHandle")
def client_uses_deleted_vc(d, mode):
    w, call, _ = connected(d, mode)
    w.client.close_call(call)
    w.mcm.complete_all()
    assert call.vc_deleted
    w.ndis.NdisClMakeCall(call.vc, make_call_parameters(d.e164("1000")), None, None)  # bug: VC deleted
    w.finish()
    return w


@scenario("StaleHandle")
def client_uses_closed_af(d, mode):
    w = d.make_world(mode)
    af = w.client.af_handle
    w.client.close_af()
    w.ndis.NdisCoCreateVc(w.client.binding_handle, af, object(), Out())  # bug: AF closed
    w.finish()
    return w


# -- memory -----------------------------------------------------------------------------------------


@scenario("PartyStateNotFreed")
def drop_forgets_to_free_party_state(d, mode):
    class M(d.ScriptedMcm):
        def free_party(self, party):  # bug: unlinks but never NdisFreeMemoryWithTagPriority
            if party in party.vc.parties:
                party.vc.parties.remove(party)

    w, call, parties = connected(d, mode, mcm_cls=M, numbers=("1001",))
    w.client.drop_party(parties[0])
    w.finish()
    return w


@scenario("MemoryLeak")
def delete_vc_forgets_to_free_vc_state(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCoDeleteVc(self, ProtocolVcContext):
            self.vcs.remove(ProtocolVcContext)  # bug: the per-VC block is never freed
            return NDIS_STATUS_SUCCESS

    w, call, _ = connected(d, mode, mcm_cls=M)
    w.finish()
    return w


@scenario("BadFree")
def party_state_freed_twice(d, mode):
    class M(d.ScriptedMcm):
        def ProtocolCmDropParty(self, CallMgrPartyContext, CloseData, Size):
            status = super().ProtocolCmDropParty(CallMgrPartyContext, CloseData, Size)
            self.free(CallMgrPartyContext, d.TAG_PARTY)  # bug: free_party already freed it
            return status

    w, call, parties = connected(d, mode, mcm_cls=M, pend=False, numbers=("1001",))
    w.client.drop_party(parties[0])
    w.finish()
    return w


@scenario("BadFree")
def freed_with_another_tag(d, mode):
    class M(d.ScriptedMcm):
        def free(self, obj, tag):
            super().free(obj, "Oops" if tag == d.TAG_PARTY else tag)  # bug: wrong pool tag

    w, call, parties = connected(d, mode, mcm_cls=M, pend=False, numbers=("1001",))
    w.client.drop_party(parties[0])
    w.finish()
    return w


# -- pending forever --------------------------------------------------------------------------------


@scenario("PendingForever")
def add_never_completed_found_at_unload(d, mode):
    class M(d.ScriptedMcm):
        def run(self, job):
            if job.__qualname__.startswith("ScriptedMcm.ProtocolCmAddParty"):
                return NDIS_STATUS_PENDING  # bug: the completion is lost
            return super().run(job)

    w, call, _ = connected(d, mode, mcm_cls=M, numbers=("1001",))
    w.mcm.unload()
    return w


@scenario("PendingForever")
def add_never_completed_found_on_deadline(d, mode):
    class M(d.ScriptedMcm):
        def run(self, job):
            if job.__qualname__.startswith("ScriptedMcm.ProtocolCmAddParty"):
                return NDIS_STATUS_PENDING  # bug: the completion is lost
            return super().run(job)

    w, call, _ = connected(d, mode, mcm_cls=M, numbers=("1001",), deadline=1000)
    w.clock.advance(1000)
    assert w.checker.check_deadlines() == []  # not yet: deadline not exceeded
    w.clock.advance(1)
    w.checker.check_deadlines()
    return w


@scenario("PendingForever")
def client_never_answers_incoming_drop(d, mode):
    class C(CoNdisClient):
        def ProtocolClIncomingDropParty(self, DropStatus, ProtocolPartyContext, CloseData, Size):
            pass  # bug: neither NdisClDropParty nor NdisClCloseCall

    w, call, parties = connected(d, mode, client_cls=C, numbers=("1001",))
    w.mcm.remote_leaves(w.mcm.active_parties()[-1])
    w.client.unload()
    return w


# -- IRQL -------------------------------------------------------------------------------------------


@scenario("IrqlTooHigh")
def completion_from_the_isr(d, mode):
    class M(d.ScriptedMcm):
        def complete_next(self):
            if not self.queue:
                return False
            with at_irql(DIRQL):  # bug: completes from MiniportInterrupt instead of the DPC
                self.queue.popleft()()
            return True

    w, call, _ = connected(d, mode, mcm_cls=M)
    w.finish()
    return w


@scenario("IrqlTooHigh")
def af_opened_under_a_spin_lock(d, mode):
    class C(CoNdisClient):
        lock = NDIS_SPIN_LOCK("client")

        def ProtocolCoAfRegisterNotify(self, ProtocolBindingContext, AddressFamily):
            NdisAcquireSpinLock(self.lock)  # bug: NdisClOpenAddressFamilyEx is PASSIVE_LEVEL only
            try:
                super().ProtocolCoAfRegisterNotify(ProtocolBindingContext, AddressFamily)
            finally:
                from cm.ndis.irql import NdisReleaseSpinLock
                NdisReleaseSpinLock(self.lock)

    ndis = Ndis()
    checker = RuleChecker(mode).attach(ndis)
    mcm = d.ScriptedMcm(ndis)
    client = C(ndis)
    client.bind(mcm.adapter)
    return d.World(ndis, checker, mcm, client, d.FakeClock())


@scenario("IrqlNotRestored")
def handler_returns_holding_a_spin_lock(d, mode):
    class M(d.ScriptedMcm):
        lock = NDIS_SPIN_LOCK("mcm")

        def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            NdisAcquireSpinLock(self.lock)  # bug: returns with the lock held (at DISPATCH_LEVEL)
            return super().ProtocolCmAddParty(CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext)

    w, call, _ = connected(d, mode, mcm_cls=M, numbers=("1001",))
    return w


# -- the tests --------------------------------------------------------------------------------------

CASES = [(name, fn) for name, fns in SCENARIOS.items() for fn in fns]
IDS = [f"{name}-{fn.__name__}" for name, fn in CASES]


def test_every_rule_has_a_broken_variant():
    assert set(SCENARIOS) == set(RULES)


@pytest.mark.parametrize("name,fn", CASES, ids=IDS)
def test_strict_mode_raises_at_the_violation(d, name, fn):
    with pytest.raises(RuleViolation) as info:
        fn(d, "strict")
    v = info.value.violation
    assert v.rule.name == name, str(v)
    # the location is in the broken driver (test doubles or the client), never in the NDIS machinery
    assert "/cm/ndis/" not in v.where.file and "/cm/rules/" not in v.where.file, v.where
    assert v.where.line > 0 and v.message and v.handle


@pytest.mark.parametrize("name,fn", CASES, ids=IDS)
def test_report_mode_collects_and_carries_on(d, name, fn):
    w = fn(d, "report")
    report = w.checker.report()
    assert report.names() and report.names()[0] == name, report.render()
    assert w.checker.mode is Mode.REPORT
    text = report.render(width=200)
    assert name in text and RULES[name].source.split()[0] in text


def test_every_rule_is_documented():
    for r in RULES.values():
        assert r.title and r.description and r.source and r.checked
        assert r.blame in ("call manager", "client", "either")
    table = markdown().splitlines()
    assert len(table) == 2 + len(RULES)
    assert all(f"| `{name}` |" in "\n".join(table) for name in RULES)


def test_render_table_and_summary(d):
    w = complete_after_synchronous_success(d, "report")
    text = w.checker.report().render(width=220)
    assert "Rule checker: 1 violation(s)" in text
    assert "CompleteNeverPended" in text and "NdisMCmAddPartyComplete" in text
    assert "test_rules.py:" in text  # where: the broken driver's line
    assert "Source: Seed page NdisMCmAddPartyComplete" in text
    assert Report([]).render().strip() == "Rule checker: no violations."


def test_rules_subset(d):
    w = d.make_world("report")
    w.checker.enabled = frozenset({"CompleteTwice"})
    call = w.client.make_call(d.e164("1000"))
    w.mcm.complete_all()
    w.client.delete_vc(call)  # DeleteVcWhileActive, but not enabled
    assert w.checker.report().ok


def test_deadline_flags_once(d):
    w = add_never_completed_found_on_deadline(d, "report")
    assert w.checker.report().names() == ["PendingForever"]
    w.clock.advance(5000)
    w.checker.check_deadlines()
    w.mcm.unload()  # already reported: not reported again at unload
    assert w.checker.report().by_rule()["PendingForever"] == 1


def test_checker_arguments():
    with pytest.raises(ValueError):
        RuleChecker("report", deadline=-1)
    with pytest.raises(ValueError):
        RuleChecker("lenient")
    with pytest.raises(KeyError, match="known"):
        RuleChecker(rules=["NoSuchRule"])
