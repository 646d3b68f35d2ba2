"""The dispatcher between the client and a call manager, with the correct scripted MCMs (pending and
synchronous) and the client: every request ends in exactly one completion with the status the MCM
decided, and the rule checker sees zero violations."""

from __future__ import annotations

import pytest

from cm.client import CallPhase, ClientError, CoNdisClient, PartyPhase
from cm.ndis.dispatcher import Ndis, NdisObserver, tag_text, tag_value
from cm.ndis.errors import NdisHandleError, NdisRegistrationError
from cm.ndis.handles import OpState, Out, PartyState
from cm.ndis.characteristics import NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS
from cm.ndis.params import CO_ADDRESS_FAMILY, make_call_parameters
from cm.ndis.status import (NDIS_STATUS_DEST_OUT_OF_ORDER, NDIS_STATUS_FAILURE, NDIS_STATUS_INCOMPATABLE_QOS,
                            NDIS_STATUS_NOT_ACCEPTED, NDIS_STATUS_PENDING, NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS)
from hw.errors import FieldError


def decide(number: str) -> int:
    """The network's verdict by called number: ...9 out of order, ...8 incompatible QoS."""
    if number.endswith("9"):
        return NDIS_STATUS_DEST_OUT_OF_ORDER
    if number.endswith("8"):
        return NDIS_STATUS_INCOMPATABLE_QOS
    return NDIS_STATUS_SUCCESS


class HandlerCounter(NdisObserver):
    """Counts the handlers NDIS calls, and the client calls that returned PENDING."""

    def __init__(self) -> None:
        self.handlers: dict[str, int] = {}
        self.pended: dict[str, int] = {}

    def on_handler_call(self, hc) -> None:
        self.handlers[hc.handler] = self.handlers.get(hc.handler, 0) + 1

    def on_return(self, call) -> None:
        if call.result == NDIS_STATUS_PENDING:
            self.pended[call.function] = self.pended.get(call.function, 0) + 1


def assert_clean(w) -> None:
    assert w.checker.report().ok, w.checker.report().render()
    assert not w.ndis.outstanding
    assert not w.ndis.allocations
    assert not w.ndis.counters, w.ndis.counters


@pytest.mark.parametrize("pend", [True, False], ids=["pending-mcm", "synchronous-mcm"])
@pytest.mark.parametrize("mode", ["strict", "report"])
def test_multipoint_call_life(d, pend, mode):
    w = d.make_world(mode, pend=pend, decide=decide)
    counter = w.ndis.attach(HandlerCounter())
    c = w.client
    call = c.make_call(d.e164("1000"))
    w.mcm.complete_all()
    assert call.phase is CallPhase.CONNECTED and call.make_completions == [NDIS_STATUS_SUCCESS]
    numbers = ["1001", "1002", "1009", "1003", "1008", "1004"]
    parties = [c.add_party(call, d.e164(n)) for n in numbers]
    if pend:
        assert all(p.phase is PartyPhase.ADDING for p in parties)
    w.mcm.complete_all()
    for p, n in zip(parties, numbers):
        assert p.add_completions == [decide(n)], p
        assert p.phase is (PartyPhase.ACTIVE if decide(n) == NDIS_STATUS_SUCCESS else PartyPhase.GONE)
    # the client drops one, a remote leaf leaves (incoming drop, answered with NdisClDropParty)
    assert c.drop_party(parties[0]) == (NDIS_STATUS_PENDING if pend else NDIS_STATUS_SUCCESS)
    w.mcm.complete_all()
    leaving = next(p for p in w.mcm.active_parties() if p.address == "1002")
    w.mcm.remote_leaves(leaving)
    w.mcm.complete_all()
    assert parties[1].remote_left and parties[1].drop_completions == [NDIS_STATUS_SUCCESS]
    live = call.live()
    assert {p.address.digits for p in live} == {b"1000", b"1003", b"1004"}
    w.finish()
    assert call.phase is CallPhase.CLOSED and call.close_completions == [NDIS_STATUS_SUCCESS] and call.vc_deleted
    # every request ended exactly once
    assert len(call.all_parties) == 7 and not call.parties
    for p in call.all_parties:
        assert len(p.add_completions) == 1
        ended_by_drop = len(p.drop_completions)
        assert ended_by_drop <= 1
        assert p.phase is PartyPhase.GONE
    kinds = c.summary()
    assert kinds["AddParty"] == {"NDIS_STATUS_SUCCESS": 4, "NDIS_STATUS_DEST_OUT_OF_ORDER": 1,
                                 "NDIS_STATUS_INCOMPATABLE_QOS": 1}
    assert kinds["MakeCall"] == {"NDIS_STATUS_SUCCESS": 1} and kinds["CloseCall"] == {"NDIS_STATUS_SUCCESS": 1}
    # synchronous-return convention: NDIS calls the client's completion handler only for what pended
    requests = {"ProtocolClAddPartyComplete": "NdisClAddParty", "ProtocolClDropPartyComplete": "NdisClDropParty",
                "ProtocolClMakeCallComplete": "NdisClMakeCall", "ProtocolClCloseCallComplete": "NdisClCloseCall"}
    for handler, request in requests.items():
        assert counter.handlers.get(handler, 0) == counter.pended.get(request, 0), handler
    sync_flags = {x.synchronous for x in c.log if x.kind in ("AddParty", "DropParty", "MakeCall", "CloseCall")}
    assert sync_flags == {not pend}
    assert_clean(w)


def test_incoming_close_with_several_parties(d):
    """The network closes the whole call: the client drops all parties but one, waits, then closes."""
    w = d.make_world("strict", pend=True)
    c = w.client
    call = c.make_call(d.e164("2000"))
    w.mcm.complete_all()
    for n in ("2001", "2002", "2003"):
        c.add_party(call, d.e164(n))
    w.mcm.complete_all()
    vc = w.mcm.vcs[0]
    w.ndis.NdisMCmDispatchIncomingCloseCall(NDIS_STATUS_SUCCESS, vc.handle, None, 0)
    assert call.incoming_close and call.phase is CallPhase.CONNECTED
    assert sum(p.phase is PartyPhase.DROPPING for p in call.parties) == 3  # all but one dropped at once
    assert len(call.parties) == 4
    w.mcm.complete_all()  # drops complete, then the close is issued and completes
    assert call.phase is CallPhase.CLOSED
    assert [x.kind for x in c.log].count("DropParty") == 3
    w.finish()
    assert_clean(w)


def test_last_party_leaves_becomes_incoming_close(d):
    w = d.make_world("strict", pend=True)
    c = w.client
    call = c.make_call(d.e164("3000"))
    w.mcm.complete_all()
    w.mcm.remote_leaves(w.mcm.active_parties()[0])
    assert call.incoming_close
    w.mcm.complete_all()
    assert call.phase is CallPhase.CLOSED and call.all_parties[0].phase is PartyPhase.GONE
    w.finish()
    assert_clean(w)


def test_drop_of_last_party_closes_the_call(d):
    w = d.make_world("strict", pend=False)
    call = w.client.make_call(d.e164("4000"))
    p2 = w.client.add_party(call, d.e164("4001"))
    assert w.client.drop_party(p2) == NDIS_STATUS_SUCCESS
    assert w.client.drop_party(call.parties[0]) == NDIS_STATUS_SUCCESS  # the last one: NdisClCloseCall
    assert call.phase is CallPhase.CLOSED
    assert [x.kind for x in w.client.log][-2:] == ["DropParty", "CloseCall"]
    w.finish()
    assert_clean(w)


def test_completion_from_inside_the_handler(d):
    """A call manager may complete before it returns PENDING: the client sees the completion first."""

    class EarlyMcm(d.ScriptedMcm):
        def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
            status = super().ProtocolCmAddParty(CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext)
            assert status == NDIS_STATUS_PENDING
            self.complete_all()  # from inside the handler
            return NDIS_STATUS_PENDING

    w = d.make_world("strict", mcm_cls=EarlyMcm, pend=True)
    call = w.client.make_call(d.e164("5000"))
    w.mcm.complete_all()
    party = w.client.add_party(call, d.e164("5001"))
    assert party.phase is PartyPhase.ACTIVE and party.add_completions == [NDIS_STATUS_SUCCESS]
    assert party.handle.add_op.state is OpState.COMPLETED and party.handle.add_op.early
    w.finish()
    assert_clean(w)


def test_allocation_failure_gives_resources(d):
    w = d.make_world("strict", pend=True)
    call = w.client.make_call(d.e164("6000"))
    w.mcm.complete_all()
    w.ndis.inject_allocation_failures(1)
    with pytest.raises(ClientError):
        w.client.add_party(call, d.e164("6001"))  # the client's own allocation failed
    # now the call manager's allocation fails: ProtocolCmAddParty returns RESOURCES synchronously
    orig = w.mcm.alloc
    w.mcm.alloc = lambda obj, tag: None if tag == d.TAG_PARTY else orig(obj, tag)
    party = w.client.add_party(call, d.e164("6002"))
    assert party.add_completions == [NDIS_STATUS_RESOURCES] and party.phase is PartyPhase.GONE
    assert w.client.log[-1].synchronous
    w.mcm.alloc = orig
    assert w.ndis.counters["NdisAllocateMemoryWithTagPriority: injected allocation failure"] == 1
    w.ndis.counters.clear()
    w.finish()
    assert_clean(w)


def test_client_bound_before_the_af_is_registered(d):
    """ProtocolCoAfRegisterNotify runs when the MCM registers its AF after the client bound."""
    ndis = Ndis()
    client = CoNdisClient(ndis)

    class LateMcm(d.ScriptedMcm):
        def MiniportInitializeEx(self):
            self.ndis.NdisMSetMiniportAttributes(self.adapter, self)
            self.ndis.NdisSetOptionalHandlers(self.adapter, self.handlers())

    mcm = LateMcm(ndis)
    client.bind(mcm.adapter)
    assert not client.binding.af_open
    assert ndis.NdisMCmRegisterAddressFamilyEx(mcm.adapter, CO_ADDRESS_FAMILY()) == NDIS_STATUS_SUCCESS
    assert client.binding.af_open and client.log[-1].kind == "OpenAf"
    # registering the same AF twice is refused and counted
    assert ndis.NdisMCmRegisterAddressFamilyEx(mcm.adapter, CO_ADDRESS_FAMILY()) == NDIS_STATUS_FAILURE
    assert sum(ndis.counters.values()) == 1


def test_handle_checks(d):
    w = d.make_world("strict", pend=False)
    call = w.client.make_call(d.e164("7000"))
    party = call.parties[0]
    with pytest.raises(NdisHandleError, match="NdisClDropParty: NdisPartyHandle"):
        w.ndis.NdisClDropParty(call.vc)  # a VC handle where a party handle is expected
    with pytest.raises(NdisHandleError):
        w.ndis.NdisMCmAddPartyComplete(NDIS_STATUS_SUCCESS, object(), None, None)
    other = Ndis()
    with pytest.raises(NdisHandleError, match="this NDIS instance"):
        other.NdisClDropParty(party.handle)
    with pytest.raises(FieldError, match="Size"):
        w.ndis.NdisClDropParty(party.handle, b"abc", 2)
    with pytest.raises(FieldError, match="CallParameters"):
        w.ndis.NdisClAddParty(call.vc, object(), "not parameters", Out())
    with pytest.raises(FieldError, match="Out"):
        w.ndis.NdisClAddParty(call.vc, object(), make_call_parameters(d.e164("1")), None)


def test_refusals_are_counted(d):
    w = d.make_world("strict", pend=False)
    c = w.client
    vc = Out()
    assert w.ndis.NdisCoCreateVc(c.binding_handle, c.af_handle, object(), vc) == NDIS_STATUS_SUCCESS
    h = Out()
    # no call on the VC yet: NDIS fails the add (ProtocolClAddPartyComplete page: "invalid NdisVcHandle")
    assert w.ndis.NdisClAddParty(vc.value, object(), make_call_parameters(d.e164("1")), h) == NDIS_STATUS_FAILURE
    assert h.value is None
    assert w.ndis.counters["NdisClAddParty: no established multipoint call on the VC"] == 1
    # a deactivate of an inactive VC: NOT_ACCEPTED (reference)
    assert w.ndis.NdisMCmDeactivateVc(vc.value) == NDIS_STATUS_NOT_ACCEPTED
    assert w.ndis.NdisCoDeleteVc(vc.value) == NDIS_STATUS_SUCCESS
    assert w.checker.report().ok


def test_closed_vc_cannot_carry_another_call(d):
    """NdisClCloseCall page: the VC handle "cannot be reused to make another call because it is marked
    as closing"; it stays valid until deleted."""
    w = d.make_world("strict", pend=False)
    w.client.auto_delete_vc = False
    call = w.client.make_call(d.e164("8000"))
    w.client.close_call(call)
    assert call.phase is CallPhase.CLOSED and not call.vc_deleted and call.vc.valid
    status = w.ndis.NdisClMakeCall(call.vc, make_call_parameters(d.e164("8001")), object(), Out())
    assert status == NDIS_STATUS_FAILURE
    assert w.client.delete_vc(call) == NDIS_STATUS_SUCCESS and not call.vc.valid


def test_party_handle_state_as_ndis_sees_it(d):
    w = d.make_world("strict", pend=True)
    call = w.client.make_call(d.e164("9000"))
    w.mcm.complete_all()
    p = w.client.add_party(call, d.e164("9001"))
    h = p.handle
    assert h.state is PartyState.ADDING and not h.released and h.valid
    w.mcm.complete_all()
    assert h.state is PartyState.ACTIVE and h.CallMgrPartyContext is w.mcm.vcs[0].parties[1]
    alloc = w.ndis.allocation_of(h.CallMgrPartyContext)
    assert alloc is not None and alloc.party is h and alloc.tag_text == d.TAG_PARTY
    w.client.drop_party(p)
    assert h.released and h.state is PartyState.ACTIVE  # given back by the client, drop pending at the CM
    w.mcm.complete_all()
    assert h.state is PartyState.DEAD and not h.valid and "dropped" in repr(h)
    w.finish()


def test_registration_errors(d):
    ndis = Ndis()
    adapter = ndis.register_miniport("incomplete")
    ndis.NdisSetOptionalHandlers(adapter, NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS(CmMakeCallHandler=lambda *a: 0))
    with pytest.raises(NdisRegistrationError, match="CmAddPartyHandler"):
        ndis.NdisMCmRegisterAddressFamilyEx(adapter, CO_ADDRESS_FAMILY())
    proto = ndis.register_protocol("no handlers")
    with pytest.raises(NdisRegistrationError):
        ndis.bind(proto, adapter)
    with pytest.raises(NdisRegistrationError):
        ndis.NdisSetOptionalHandlers(proto, NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS())


def test_pool_tags():
    assert tag_text(tag_value("McPy")) == "McPy"
    assert tag_value(0x7974_7250) == 0x79747250 and tag_text(0x79747250) == "Prty"
    with pytest.raises(FieldError):
        tag_value("toolong")


def test_no_handler_calls_into_an_unloaded_driver(d):
    w = d.make_world("report", pend=False)
    call = w.client.make_call(d.e164("1000"))
    w.mcm.unload()
    with pytest.raises(NdisRegistrationError, match="unloaded"):
        w.client.add_party(call, d.e164("1001"))


@pytest.mark.parametrize("early", [False, True], ids=["completed-later", "completed-inside-handler"])
def test_pended_address_family_open_and_close(d, early):
    class AfMcm(d.ScriptedMcm):
        def ProtocolCmOpenAf(self, CallMgrBindingContext, AddressFamily, NdisAfHandle, CallMgrAfContext):
            self.af_handle = NdisAfHandle
            self.queue.append(lambda: self.ndis.NdisMCmOpenAddressFamilyComplete(NDIS_STATUS_SUCCESS, NdisAfHandle,
                                                                                 self))
            if early:
                self.complete_all()
            return NDIS_STATUS_PENDING

        def ProtocolCmCloseAf(self, CallMgrAfContext):
            self.queue.append(lambda: self.ndis.NdisMCmCloseAddressFamilyComplete(NDIS_STATUS_SUCCESS, self.af_handle))
            return NDIS_STATUS_PENDING

    w = d.make_world("strict", mcm_cls=AfMcm, pend=False)
    assert w.client.binding.af_open is early
    w.mcm.complete_all()
    assert w.client.binding.af_open and w.client.af_handle is w.mcm.af_handle
    assert [(x.kind, x.synchronous) for x in w.client.log] == [("OpenAf", False)]
    call = w.client.make_call(d.e164("1000"))
    w.client.close_call(call)
    assert w.client.close_af() == NDIS_STATUS_PENDING
    w.mcm.complete_all()
    assert w.client.log[-1].kind == "CloseAf" and w.client.af_handle is None
    w.client.unload()
    w.mcm.unload()
    assert_clean(w)
