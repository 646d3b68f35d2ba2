"""The MCM against a scripted network side over the real adapter, link and SSCOP: every NdisClAddParty
ends in exactly one ProtocolClAddPartyComplete with the status the network decided (SUCCESS, the reject
cause mapped by cm.ndis.cause_status, or the T399 failure); a remote leaf's departure becomes
NdisMCmDispatchIncomingDropParty, the last one an incoming close; the rule checker (strict) sees no
violation, and the adapter, the cable and both SSCOPs balance their counters."""

from __future__ import annotations

import pytest

from cm.mcm import McmConfig, PartyTrafficPolicy
from cm.ndis.cause_status import close_status, completion_status
from cm.ndis.params import (ATM_FLOW_PARAMETERS, ATM_MEDIA_PARAMETERS, ATM_SERVICE_CATEGORY_CBR, CALL_PARAMETERS_CHANGED,
                            make_call_parameters)
from cm.ndis.status import NDIS_STATUS
from cm.rules import RuleViolation
from firmware.endpoint import LeafBehaviour
from hw.adapter.rings import RX_DESC


def adds(tb, party) -> list[str]:
    return [str(c) for c in tb.client.completions("AddParty") if c.target == party.name]


def finish(tb) -> None:
    tb.finish()
    assert tb.checker.report().ok, tb.checker.report().render()
    tb.check_conservation()


def test_make_call_activates_the_vc_before_completing(mb):
    tb = mb.make_bed()
    order = []
    ndis = tb.ndis
    for name in ("NdisMCmActivateVc", "NdisMCmMakeCallComplete"):
        original = getattr(ndis, name)
        setattr(ndis, name, lambda *a, _n=name, _f=original: (order.append(_n), _f(*a))[1])
    call = mb.connected(tb)
    assert call.phase.value == "connected"
    assert order == ["NdisMCmActivateVc", "NdisMCmMakeCallComplete"]
    # the VC entry holds the connection identifier the network gave (CALL PROCEEDING) and sends
    net_call = tb.network.calls[0]
    vc = tb.mcm.vcs[0]
    hdr = tb.adapter.read32(tb.adapter.offset("VC.HDR", vc.entry))
    assert (hdr >> 16 & 0xFF, hdr & 0xFFFF) == (net_call.vpi, net_call.vci)
    ctrl = tb.adapter.read32(tb.adapter.offset("VC.CTRL", vc.entry))
    assert ctrl & 1, "TX_EN"
    # the client's parameters carry the VPI/VCI
    media = call.call_parameters.atm_media
    assert (media.ConnectionId.Vpi, media.ConnectionId.Vci) == (net_call.vpi, net_call.vci)
    finish(tb)


def test_add_party_acknowledged_rejected_and_silent(mb):
    tb = mb.make_bed(behaviours={"2002": LeafBehaviour.accept(), "2003": LeafBehaviour.reject(17),
                                 "2004": LeafBehaviour.silent(), "2005": LeafBehaviour.alert(0.5),
                                 "2006": LeafBehaviour.reject(27, alert_for=0.2)})
    call = mb.connected(tb)
    ok, busy, silent, alerting, refused = (tb.client.add_party(call, mb.e164(n)) for n in
                                           ("2002", "2003", "2004", "2005", "2006"))
    t0 = tb.clock.now
    mb.settle(tb, [ok, busy, alerting, refused], limit=2.0)
    assert adds(tb, ok) == ["AddParty party3: NDIS_STATUS_SUCCESS (async)"]
    assert busy.add_completions == [completion_status(17)] == [NDIS_STATUS.RESOURCES]
    assert refused.add_completions == [completion_status(27)] == [NDIS_STATUS.DEST_OUT_OF_ORDER]
    assert alerting.add_completions == [NDIS_STATUS.SUCCESS]
    assert tb.mcm.counters["uni.party-alerting.indication"] == 2
    assert silent.phase.value == "adding" and not silent.add_completions
    mb.settle(tb, [silent], limit=5.0)
    # T399 ran out (2 s here): the MCM's party machine dropped it with cause 102, the add failed
    assert silent.add_completions == [completion_status(102)] == [NDIS_STATUS.REQUEST_ABORTED]
    waited = tb.clock.seconds(tb.clock.now - t0)
    assert mb.TIMERS.T399_user <= waited < mb.TIMERS.T399_user + 0.1
    for p in (ok, busy, silent, alerting, refused):
        assert len(p.add_completions) == 1
    finish(tb)


@pytest.mark.parametrize("cause", [1, 3, 17, 21, 27, 35, 37, 49, 88, 96])
def test_reject_cause_maps_to_its_ndis_status(mb, cause):
    tb = mb.make_bed(behaviours={"2002": LeafBehaviour.reject(cause)})
    call = mb.connected(tb)
    party = tb.client.add_party(call, mb.e164("2002"))
    mb.settle(tb, [party])
    assert party.add_completions == [completion_status(cause)]
    assert party.add_completions[0] != NDIS_STATUS.SUCCESS
    finish(tb)


def test_remote_leaf_leaving_is_an_incoming_drop_then_the_last_an_incoming_close(mb):
    tb = mb.make_bed(behaviours={"2002": LeafBehaviour.accept(drop_after=0.1, drop_cause=27)})
    call = mb.connected(tb)
    leaving = tb.client.add_party(call, mb.e164("2002"))
    mb.settle(tb, [leaving])
    assert leaving.phase.value == "active"
    tb.run(0.2)
    # DROP PARTY (27) -> NdisMCmDispatchIncomingDropParty -> the client's NdisClDropParty -> DROP PARTY ACK
    incoming = tb.client.completions("IncomingDropParty")
    assert [(c.target, c.status) for c in incoming] == [(leaving.name, close_status(27))]
    assert leaving.phase.value == "gone" and leaving.drop_completions == [NDIS_STATUS.SUCCESS]
    net_call = tb.network.calls[0]
    assert net_call.parties[1].outcome == "left"
    assert "drop-party-ack.indication" in net_call.parties[1].events()
    assert not [p for p in tb.mcm.vcs[0].parties.values() if p.epref == 1]
    # the first party leaves too: the last one -> RELEASE -> incoming close, the call ends
    assert tb.network.drop_party(net_call, 0, cause=16)
    tb.run(0.1)
    assert [c.status for c in tb.client.completions("IncomingCloseCall")] == [NDIS_STATUS.SUCCESS]
    assert call.phase.value == "closed" and call.vc_deleted
    finish(tb)


def test_network_release_completes_pending_adds_and_closes(mb):
    tb = mb.make_bed(behaviours={"2003": LeafBehaviour.silent()})
    call = mb.connected(tb)
    active = tb.client.add_party(call, mb.e164("2002"))
    mb.settle(tb, [active])
    pending = tb.client.add_party(call, mb.e164("2003"))
    tb.run(0.05)
    assert tb.network.release(tb.network.calls[0], cause=38)
    tb.run(0.1)
    assert pending.add_completions == [completion_status(38)]
    assert [c.status for c in tb.client.completions("IncomingCloseCall")] == [close_status(38)]
    assert call.phase.value == "closed" and active.phase.value == "gone"
    finish(tb)


def test_make_call_refused_by_the_network(mb):
    tb = mb.make_bed(behaviours={"2001": LeafBehaviour.reject(3)})
    call = mb.connected(tb)
    assert call.phase.value == "failed"
    assert call.make_completions == [completion_status(3)] == [NDIS_STATUS.NO_ROUTE_TO_DESTINATION]
    assert call.vc_deleted
    finish(tb)


def test_make_call_unanswered_fails_on_t310(mb):
    tb = mb.make_bed(behaviours={"2001": LeafBehaviour.silent()})
    call = tb.client.make_call(mb.e164("2001"))
    tb.run_while(lambda: call.phase.value == "making", limit_seconds=10)
    assert call.make_completions == [completion_status(102)]
    finish(tb)


def test_close_call_waits_for_release_complete(mb):
    tb = mb.make_bed()
    call = mb.connected(tb)
    status = tb.client.close_call(call)
    assert status == NDIS_STATUS.PENDING and call.phase.value == "closing"
    tb.run(0.01)
    assert call.close_completions == [NDIS_STATUS.SUCCESS]
    vc_entry_ctrl = [tb.adapter.read32(tb.adapter.offset("VC.CTRL", i)) & 3 for i in range(1, 4)]
    assert vc_entry_ctrl == [0, 0, 0]  # the call's entry no longer sends nor receives
    assert tb.network.calls[0].closed
    finish(tb)


def test_frames_sent_on_the_vc_reach_the_network(mb):
    tb = mb.make_bed()
    call = mb.connected(tb)
    vc = tb.mcm.vcs[0]
    frames = [bytes([i]) * (40 + 97 * i) for i in range(12)]  # up to 1107 octets: one buffer each (2048)
    statuses = tb.mcm.MiniportCoSendNetBufferLists(vc, frames)
    assert statuses == [NDIS_STATUS.SUCCESS] * len(frames)
    tb.run(0.01)
    assert tb.network.frames(tb.network.calls[0]) == frames
    finish(tb)


def test_signalling_frames_longer_than_a_buffer_span_several_descriptors(mb):
    tb = mb.make_bed(config=McmConfig(timers=mb.TIMERS, signalling_buffer=16))
    call = mb.connected(tb)
    party = tb.client.add_party(call, mb.e164("2002"))
    mb.settle(tb, [party])
    assert party.add_completions == [NDIS_STATUS.SUCCESS]
    rings = tb.mcm.ring_counters()
    assert rings["tx1"]["descriptors"] > rings["tx1"]["frames"]  # every PDU but the shortest exceeds 16 octets
    assert rings["rx1"]["descriptors"] > rings["rx1"]["frames"]
    finish(tb)


@pytest.mark.parametrize("policy", list(PartyTrafficPolicy))
def test_per_party_traffic_policy(mb, policy):
    tb = mb.make_bed(config=McmConfig(timers=mb.TIMERS, party_traffic_policy=policy))
    media = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(ATM_SERVICE_CATEGORY_CBR, PeakCellRate=10_000))
    call = tb.client.make_call(mb.e164("2001"), call_parameters=make_call_parameters(mb.e164("2001"), media=media))
    tb.run(0.01)
    vc = tb.mcm.vcs[0]
    pcr = lambda: tb.adapter.read32(tb.adapter.offset("VC.PCR", vc.entry))  # noqa: E731
    assert pcr() == 10_000
    lower = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(ATM_SERVICE_CATEGORY_CBR, PeakCellRate=5_000))
    higher = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(ATM_SERVICE_CATEGORY_CBR, PeakCellRate=50_000))
    p_low = tb.client.add_party(call, mb.e164("2002"), call_parameters=make_call_parameters(mb.e164("2002"), media=lower))
    p_high = tb.client.add_party(call, mb.e164("2003"), call_parameters=make_call_parameters(mb.e164("2003"), media=higher))
    mb.settle(tb, [p_low, p_high])
    if policy is PartyTrafficPolicy.REJECT:
        assert p_low.add_completions == p_high.add_completions == [NDIS_STATUS.NOT_SUPPORTED]
        assert pcr() == 10_000
    elif policy is PartyTrafficPolicy.RESET:
        assert p_low.add_completions == p_high.add_completions == [NDIS_STATUS.SUCCESS]
        assert pcr() == 10_000
        params = [c for c in tb.client.completions("AddParty")]
        assert params  # the completions carried the VC's rate back, flagged as changed
        assert tb.mcm.counters["party_traffic.reset"] == 2
    else:  # change for all: within the contract only
        assert p_low.add_completions == [NDIS_STATUS.SUCCESS]
        assert p_high.add_completions == [NDIS_STATUS.CELLRATE_NOT_AVAILABLE]
        assert pcr() == 5_000
    finish(tb)


def test_reset_policy_returns_the_vcs_traffic_flagged_changed(mb):
    tb = mb.make_bed()
    media = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(ATM_SERVICE_CATEGORY_CBR, PeakCellRate=10_000))
    call = tb.client.make_call(mb.e164("2001"), call_parameters=make_call_parameters(mb.e164("2001"), media=media))
    tb.run(0.01)
    seen = []
    original = tb.client.ProtocolClAddPartyComplete

    def spy(Status, ProtocolPartyContext, NdisPartyHandle, CallParameters):
        seen.append(CallParameters)
        return original(Status, ProtocolPartyContext, NdisPartyHandle, CallParameters)

    tb.client.ProtocolClAddPartyComplete = spy
    tb.client.protocol_handle.client_handlers.ClAddPartyCompleteHandler = spy
    other = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(ATM_SERVICE_CATEGORY_CBR, PeakCellRate=3_000))
    party = tb.client.add_party(call, mb.e164("2002"), call_parameters=make_call_parameters(mb.e164("2002"), media=other))
    mb.settle(tb, [party])
    assert seen[0].atm_media.Transmit.PeakCellRate == 10_000
    assert seen[0].Flags & CALL_PARAMETERS_CHANGED
    finish(tb)


def test_close_data_is_refused(mb):
    tb = mb.make_bed()
    call = mb.connected(tb)
    party = tb.client.add_party(call, mb.e164("2002"))
    mb.settle(tb, [party])
    assert tb.ndis.NdisClDropParty(party.handle, b"bye", 3) == NDIS_STATUS.INVALID_DATA
    # NDIS ends the party on the final status: the client completes its own request, and the MCM has
    # dropped the party in the network without the data
    tb.client._drop_party_complete(NDIS_STATUS.INVALID_DATA, party, True)
    tb.run(0.01)
    assert tb.network.calls[0].parties[1].outcome == "dropped-by-root"
    assert tb.mcm.counters["party_gone_unknown"] == 1  # its DROP PARTY ACKNOWLEDGE, counted
    finish(tb)


def test_halt_gives_back_every_buffer_and_stops_the_adapter(mb):
    tb = mb.make_bed(up=False)
    before = tb.adapter.memory.allocated_octets
    assert before > 0  # rings and buffers
    tb.up()
    call = mb.connected(tb)
    tb.client.close_call(call)
    tb.run(0.01)
    tb.client.close_af()
    tb.client.unload()
    tb.mcm.unload()
    assert tb.adapter.memory.allocated_octets == 0
    assert tb.adapter.read32(tb.adapter.offset("INT_MASK")) == 0
    assert tb.adapter.read32(tb.adapter.offset("CTRL")) & 0b110 == 0
    assert tb.checker.report().ok
    tb.run(3.0)  # timers of the halted driver's SSCOP expire into nothing
    assert tb.mcm.counters["timer_after_halt"] > 0


def test_rx_ring_is_kept_full(mb):
    tb = mb.make_bed()
    call = mb.connected(tb)
    parties = [tb.client.add_party(call, mb.e164(f"3{i:03d}")) for i in range(40)]
    mb.settle(tb, parties)
    ring = tb.mcm.rx[1]
    posted = sum(RX_DESC.read(tb.adapter.memory, ring.base + i * RX_DESC.octets)["OWN"] for i in range(ring.entries))
    assert posted == ring.entries - 1
    finish(tb)


def test_strict_checker_stops_a_run_that_breaks_a_rule(mb):
    tb = mb.make_bed()
    call = mb.connected(tb)
    with pytest.raises(RuleViolation, match="DropLastParty"):
        tb.ndis.NdisClDropParty(call.parties[0].handle)


def test_parameters_that_cannot_be_signalled_are_refused_at_once(mb):
    from cm.ndis.params import ATM_ADDRESS, ATM_RAW_IE, Q2931_IE, Q2931_IE_TYPE
    tb = mb.make_bed()
    call = mb.connected(tb)
    raw_called = Q2931_IE(Q2931_IE_TYPE.IE_Raw, ATM_RAW_IE(0x70, bytes.fromhex("70800005a1") + b"2002"))
    params = make_call_parameters(ATM_ADDRESS(), info_elements=[raw_called])
    party = tb.client.add_party(call, mb.e164("2002"), call_parameters=params)
    assert party.add_completions == [NDIS_STATUS.NOT_SUPPORTED]
    assert [str(c) for c in tb.client.completions("AddParty")] == [f"AddParty {party.name}: NDIS_STATUS_NOT_SUPPORTED (sync)"]
    assert tb.network.uni.counters.messages_in["ADD_PARTY"] == 0  # nothing went out
    finish(tb)
