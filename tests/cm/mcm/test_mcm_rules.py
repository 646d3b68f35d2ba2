"""Every rule of cm/rules caught on the real driver: for each rule, a deliberately broken variant of the
real MCM (a subclass with the bug a driver writer makes) or of the real client, run on the testbed
(adapter, link, host SSCOP, scripted network), and the checker names that rule - raising at the violation
in strict mode, reporting it first in report mode. The unbroken MCM and client run the same scenarios
clean (test_clean_runs_of_the_same_scenarios)."""

from __future__ import annotations

from typing import Callable

import pytest

from cm.client import CoNdisClient
from cm.mcm import AtmMcm, McmConfig
from cm.mcm.parties import PartyState
from cm.ndis.irql import DIRQL, KeLowerIrql, KeRaiseIrql, NdisAcquireSpinLock
from cm.ndis.params import make_call_parameters
from cm.ndis.status import NDIS_STATUS, NDIS_STATUS_PENDING, NDIS_STATUS_SUCCESS
from cm.rules import RULES, Mode, RuleViolation
from firmware.endpoint import LeafBehaviour

SCENARIOS: dict[str, list[Callable]] = {}


def scenario(rule_name: str):
    def register(fn):
        SCENARIOS.setdefault(rule_name, []).append(fn)
        return fn
    return register


def bed(mb, mode, *, mcm_cls=AtmMcm, client_cls=CoNdisClient, **kw):
    return mb.make_bed(mode=mode, mcm_cls=mcm_cls, client_cls=client_cls, **kw)


def with_parties(mb, tb, *numbers):
    call = mb.connected(tb)
    parties = [tb.client.add_party(call, mb.e164(n)) for n in numbers]
    mb.settle(tb, parties)
    return call, parties


# -- completions ------------------------------------------------------------------------------------


@scenario("CompleteNeverPended")
def add_party_returns_success_then_completes(mb, mode):
    class Mcm(AtmMcm):
        def ProtocolCmAddParty(self, *args):
            status = super().ProtocolCmAddParty(*args)
            return NDIS_STATUS_SUCCESS if status == NDIS_STATUS_PENDING else status  # bug: not PENDING

    tb = bed(mb, mode, mcm_cls=Mcm)
    with_parties(mb, tb, "2002")  # the ADD PARTY ACK completes what never pended
    tb.finish()
    return tb


@scenario("CompleteTwice")
def add_party_completed_twice(mb, mode):
    class Mcm(AtmMcm):
        def _ev_party_connected(self, vc, epref, params):
            super()._ev_party_connected(vc, epref, params)
            party = vc.parties.get(epref)
            if party is not None:  # bug: a second completion queued for the same request
                self._defer(self.ndis.NdisMCmAddPartyComplete, NDIS_STATUS_SUCCESS, party.handle, party, params)

    tb = bed(mb, mode, mcm_cls=Mcm)
    with_parties(mb, tb, "2002")
    tb.finish()
    return tb


@scenario("CompleteWithPending")
def reject_completed_with_pending(mb, mode):
    class Mcm(AtmMcm):
        def _fail_add(self, vc, party, cause):
            del vc.parties[party.epref]
            # bug: the cause's status was looked up in the wrong table: PENDING
            self._defer(self.ndis.NdisMCmAddPartyComplete, NDIS_STATUS_PENDING, party.handle, None, party.params)
            self._defer(self._free_party, party)

    tb = bed(mb, mode, mcm_cls=Mcm, behaviours={"2003": LeafBehaviour.reject(17)})
    with_parties(mb, tb, "2003")
    tb.finish()
    return tb


@scenario("AddPartySuccessWithoutContext")
def add_party_success_without_context(mb, mode):
    class Mcm(AtmMcm):
        def _ev_party_connected(self, vc, epref, params):
            party = vc.parties.get(epref)
            party.state = PartyState.ACTIVE
            # bug: NULL for CallMgrPartyContext on SUCCESS
            self._defer(self.ndis.NdisMCmAddPartyComplete, NDIS_STATUS_SUCCESS, party.handle, None, params)

    tb = bed(mb, mode, mcm_cls=Mcm)
    with_parties(mb, tb, "2002")
    return tb


# -- party handles ----------------------------------------------------------------------------------


@scenario("PartyHandleAfterDrop")
def reject_also_indicated_as_a_departure(mb, mode):
    class Mcm(AtmMcm):
        def _ev_party_rejected(self, vc, epref, cause):
            party = vc.parties.get(epref)
            super()._ev_party_rejected(vc, epref, cause)
            # bug: ADD PARTY REJECT also taken for a leaf leaving: an incoming drop on the dead handle
            self._defer(self.ndis.NdisMCmDispatchIncomingDropParty, NDIS_STATUS.FAILURE, party.handle, None, 0)

    tb = bed(mb, mode, mcm_cls=Mcm, behaviours={"2003": LeafBehaviour.reject(21)})
    with_parties(mb, tb, "2002", "2003")
    tb.finish()
    return tb


@scenario("PartyHandleAfterDrop")
def client_drops_a_handle_again(mb, mode):
    class Client(CoNdisClient):
        def _drop(self, party):
            self.stale = party.handle
            return super()._drop(party)

        def ProtocolClDropPartyComplete(self, Status, ProtocolPartyContext):
            super().ProtocolClDropPartyComplete(Status, ProtocolPartyContext)
            self.ndis.NdisClDropParty(self.stale)  # bug: the handle died with the completion

    tb = bed(mb, mode, client_cls=Client)
    call, parties = with_parties(mb, tb, "2002", "2003")
    tb.client.drop_party(parties[0])
    tb.run(0.01)
    tb.finish()
    return tb


@scenario("CloseCallWithPartiesLeft")
def client_closes_with_parties_left(mb, mode):
    class Client(CoNdisClient):
        def close_call(self, call):  # bug: no drops before the close
            first = call.parties[0]
            return self.ndis.NdisClCloseCall(call.vc, first.handle, None, 0)

    tb = bed(mb, mode, client_cls=Client)
    call, _ = with_parties(mb, tb, "2002")
    tb.client.close_call(call)
    return tb


@scenario("DropLastParty")
def client_drops_its_last_party(mb, mode):
    class Client(CoNdisClient):
        def drop_party(self, party):  # bug: no count of parties
            return self._drop(party)

    tb = bed(mb, mode, client_cls=Client)
    call = mb.connected(tb)
    tb.client.drop_party(call.parties[0])
    return tb


@scenario("IncomingDropForLastParty")
def release_of_the_last_party_indicated_as_a_drop(mb, mode):
    class Mcm(AtmMcm):
        def _deliver_incoming_close(self, vc, status):
            # bug: the network's RELEASE taken for the departure of the party that was left
            for party in list(vc.parties.values()):
                self.ndis.NdisMCmDispatchIncomingDropParty(status, party.handle, None, 0)

    tb = bed(mb, mode, mcm_cls=Mcm, behaviours={"2002": LeafBehaviour.accept(drop_after=0.05)})
    call, parties = with_parties(mb, tb, "2002")
    tb.client.drop_party(call.parties[0])  # the first party goes: the leaf of 2002 is the last
    tb.run(0.2)  # it leaves: the network releases the call (Q.2971 last-party rule)
    return tb


# -- VCs --------------------------------------------------------------------------------------------


@scenario("MakeCallSuccessBeforeActivate")
def make_call_completed_before_activate(mb, mode):
    class Mcm(AtmMcm):
        def _defer(self, function, *args):
            if getattr(function, "__name__", "") == "NdisMCmActivateVc":
                self._late_activate = (function, args)  # bug: activation queued after the completion
                return
            super()._defer(function, *args)
            late = getattr(self, "_late_activate", None)
            if late is not None and getattr(function, "__name__", "") == "NdisMCmMakeCallComplete":
                self._late_activate = None
                super()._defer(late[0], *late[1])

    tb = bed(mb, mode, mcm_cls=Mcm)
    mb.connected(tb)
    tb.finish()
    return tb


@scenario("DeleteVcWhileActive")
def close_without_deactivate(mb, mode):
    class Mcm(AtmMcm):
        def _defer(self, function, *args):
            if getattr(function, "__name__", "") == "NdisMCmDeactivateVc":
                return  # bug: the VC is never deactivated; the client's delete finds it active
            super()._defer(function, *args)

    tb = bed(mb, mode, mcm_cls=Mcm)
    call = mb.connected(tb)
    tb.client.close_call(call)
    tb.run(0.01)
    return tb


@scenario("VcHandlerPending")
def create_vc_pends(mb, mode):
    class Mcm(AtmMcm):
        def ProtocolCoCreateVc(self, ProtocolAfContext, NdisVcHandle, ProtocolVcContext):
            return NDIS_STATUS_PENDING  # bug: waits for a VC table entry; ProtocolCoCreateVc never pends

    tb = bed(mb, mode, mcm_cls=Mcm)
    call = tb.client.make_call(mb.e164("2001"))
    assert call.phase.value == "failed"
    tb.finish()
    return tb


@scenario("StaleHandle")
def client_makes_a_call_on_a_deleted_vc(mb, mode):
    tb = bed(mb, mode)
    call = mb.connected(tb)
    tb.client.close_call(call)
    tb.run(0.01)
    assert call.vc_deleted
    tb.ndis.NdisClMakeCall(call.vc, make_call_parameters(mb.e164("2001")), None, None)  # bug
    tb.finish()
    return tb


# -- memory -----------------------------------------------------------------------------------------


@scenario("PartyStateNotFreed")
def drop_forgets_the_party_state(mb, mode):
    class Mcm(AtmMcm):
        def _free_party(self, party):
            if party.state is PartyState.DROPPING:
                return  # bug: the state of a dropped party is never freed
            super()._free_party(party)

    tb = bed(mb, mode, mcm_cls=Mcm)
    call, parties = with_parties(mb, tb, "2002")
    tb.client.drop_party(parties[0])
    tb.run(0.01)
    tb.finish()
    return tb


@scenario("MemoryLeak")
def delete_vc_keeps_the_vc_state(mb, mode):
    class Mcm(AtmMcm):
        def ProtocolCoDeleteVc(self, ProtocolVcContext):
            self._enter()
            try:
                self._release_call_vc(ProtocolVcContext)
                self.vcs.remove(ProtocolVcContext)
            finally:
                self._leave()
            return NDIS_STATUS_SUCCESS  # bug: the per-VC block is never freed

    tb = bed(mb, mode, mcm_cls=Mcm)
    mb.connected(tb)
    tb.finish()
    return tb


@scenario("BadFree")
def party_state_freed_twice(mb, mode):
    class Mcm(AtmMcm):
        def _ev_party_gone(self, vc, epref, cause):
            party = vc.parties.get(epref)
            super()._ev_party_gone(vc, epref, cause)
            if party is not None:
                self._defer(self._free_party, party)  # bug: freed again

    tb = bed(mb, mode, mcm_cls=Mcm)
    call, parties = with_parties(mb, tb, "2002")
    tb.client.drop_party(parties[0])
    tb.run(0.01)
    tb.finish()
    return tb


# -- pending forever --------------------------------------------------------------------------------


@scenario("PendingForever")
def reject_never_completed_found_at_unload(mb, mode):
    class Mcm(AtmMcm):
        def _ev_party_rejected(self, vc, epref, cause):
            vc.parties.pop(epref, None)  # bug: forgotten, never completed (and never freed)

    tb = bed(mb, mode, mcm_cls=Mcm, behaviours={"2003": LeafBehaviour.reject(17)})
    call, parties = with_parties(mb, tb, "2003")
    tb.mcm.unload()
    return tb


@scenario("PendingForever")
def reject_never_completed_found_on_the_deadline(mb, mode):
    class Mcm(AtmMcm):
        def _ev_party_rejected(self, vc, epref, cause):
            vc.parties.pop(epref, None)  # bug: forgotten

    deadline = 2 * 353_207  # two seconds of slots at OC-3c
    tb = bed(mb, mode, mcm_cls=Mcm, behaviours={"2003": LeafBehaviour.reject(17)}, deadline=deadline)
    call = mb.connected(tb)
    tb.client.add_party(call, mb.e164("2003"))
    tb.run(1.5)
    assert tb.checker.check_deadlines() == []  # not yet
    tb.run(1.0)
    tb.checker.check_deadlines()
    return tb


# -- IRQL -------------------------------------------------------------------------------------------


@scenario("IrqlTooHigh")
def address_family_registered_from_the_dpc(mb, mode):
    class Mcm(AtmMcm):
        def _saal_link_state(self, up, cause):
            self.saal_up = up
            if up and not self.af_registered:  # bug: no work item; PASSIVE_LEVEL function at DISPATCH
                self.af_registered = True
                self._defer(self.ndis.NdisMCmRegisterAddressFamilyEx, self.adapter_handle,
                            __import__("cm.ndis.params", fromlist=["CO_ADDRESS_FAMILY"]).CO_ADDRESS_FAMILY())

    tb = bed(mb, mode, mcm_cls=Mcm, up=False)
    tb.run(0.01)
    return tb


@scenario("IrqlTooHigh")
def isr_does_the_dpc_work(mb, mode):
    class Mcm(AtmMcm):
        def MiniportInterrupt(self):
            old = KeRaiseIrql(DIRQL)
            try:
                bus = self.res.bus
                status = bus.read32(self._int_status_reg) & self._int_mask
                if not status:
                    return False
                bus.write32(self._int_status_reg, status)
                # bug: the DPC's work done in the ISR (no DPC queued): NDIS is called at DIRQL
                frames, _ = self.rx[1].harvest(self.cfg.dpc_budget)
                for frame in frames:
                    self._saal_frame_in(frame)
                for ring in self.tx.values():
                    ring.reclaim()
                self._ring_doorbells()
                self._indicate()
                return True
            finally:
                KeLowerIrql(old)

    tb = bed(mb, mode, mcm_cls=Mcm)
    tb.client.make_call(mb.e164("2001"))  # CONNECT: NdisMCmActivateVc from the ISR
    tb.run(0.01)
    return tb


@scenario("IrqlNotRestored")
def add_party_returns_holding_the_lock(mb, mode):
    class Mcm(AtmMcm):
        def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            if CallMgrVcContext.state.value != "connected":
                NdisAcquireSpinLock(self.Lock)
                return NDIS_STATUS.FAILURE  # bug: early return with the adapter lock held
            return super().ProtocolCmAddParty(CallMgrVcContext, CallParameters, NdisPartyHandle,
                                              CallMgrPartyContext)

    tb = bed(mb, mode, mcm_cls=Mcm)
    call = mb.connected(tb)
    tb.mcm.vcs[0].state = tb.mcm.vcs[0].state.__class__.CLOSING  # the call is being torn down
    tb.client.add_party(call, mb.e164("2002"))
    return tb


# -- the tests --------------------------------------------------------------------------------------

CASES = [(name, fn) for name, fns in SCENARIOS.items() for fn in fns]
IDS = [f"{name}-{fn.__name__}" for name, fn in CASES]


def test_every_rule_is_caught_on_the_real_driver():
    assert set(SCENARIOS) == set(RULES)


@pytest.mark.parametrize("name,fn", CASES, ids=IDS)
def test_strict_mode_raises_at_the_violation(mb, name, fn):
    with pytest.raises(RuleViolation) as info:
        fn(mb, "strict")
    v = info.value.violation
    assert v.rule.name == name, str(v)
    assert "/cm/ndis/" not in v.where.file and "/cm/rules/" not in v.where.file, v.where
    assert v.where.line > 0 and v.handle and v.message


@pytest.mark.parametrize("name,fn", CASES, ids=IDS)
def test_report_mode_names_the_rule_first(mb, name, fn):
    tb = fn(mb, "report")
    report = tb.checker.report()
    assert tb.checker.mode is Mode.REPORT
    assert report.names() and report.names()[0] == name, report.render(width=220)


def test_clean_runs_of_the_same_scenarios(mb):
    """The unbroken MCM and client through the same steps: no violation, every add and drop completed
    once, conservation everywhere."""
    tb = mb.make_bed(behaviours={"2003": LeafBehaviour.reject(17), "2004": LeafBehaviour.accept(drop_after=0.05)},
                     config=McmConfig(timers=mb.TIMERS))
    call, parties = with_parties(mb, tb, "2002", "2003", "2004")
    tb.run(0.2)  # 2004 leaves by itself
    tb.client.drop_party(parties[0])
    tb.run(0.01)
    tb.finish()
    assert tb.checker.report().ok, tb.checker.report().render()
    for party in call.all_parties:
        assert len(party.add_completions) == 1
    assert parties[1].add_completions == [NDIS_STATUS.RESOURCES]
    tb.check_conservation()
