"""The MCM's signalling link fails under pending NDIS requests (Q.2931 5.6.10, with T309 3 s here): every
pending NdisClMakeCall / NdisClAddParty / NdisClDropParty / NdisClCloseCall completes exactly once, with
a failure status where the network could not answer (cause 27 -> NDIS_STATUS_DEST_OUT_OF_ORDER); an
Active call survives an outage shorter than T309 and is closed from the network (an incoming close)
after a longer one; the switch clears the rest of the call towards the leaves with cause 27; the rule
checker stays silent and every counter balances."""

from __future__ import annotations

from cm.ndis.status import NDIS_STATUS
from firmware.endpoint.leaf import LeafBehaviour


def test_short_outage_keeps_the_call_and_fails_the_adds_in_flight(fx) -> None:
    rig = fx.make_rig(behaviours={3: LeafBehaviour.silent(), 4: LeafBehaviour.alert(0.5)})
    c = rig.client
    call = fx.connected(rig)
    p2 = c.add_party(call, rig.address(2))
    rig.run(0.05)
    assert p2.phase.value == "active"
    silent, alerting = c.add_party(call, rig.address(3)), c.add_party(call, rig.address(4))
    c.drop_party(p2)                                   # DROP PARTY in flight
    rig.run(0.01)                                      # (the switch has them: SETUPs to the leaves are out)
    rig.line(0).down()
    rig.run(1.8)                                       # SSCOP notices within Timer_NO-RESPONSE (1 s)
    rig.line(0).up()
    rig.run(3.0)
    # the call is kept (T309 stopped, STATUS ENQUIRY answered); the adds in flight were cleared internally
    assert call.phase.value == "connected"
    assert silent.add_completions == alerting.add_completions == [NDIS_STATUS.DEST_OUT_OF_ORDER]
    assert p2.drop_completions == [NDIS_STATUS.SUCCESS]
    uni = rig.mcm.uni.counters
    assert uni.link_changes["calls waiting (T309)"] == 1 and uni.link_changes["calls enquired"] == 1
    # one STATUS ENQUIRY for the call and one for its Active party (endpoint reference 0), both answered
    assert uni.messages_out["STATUS_ENQUIRY"] == 2 and uni.messages_in["STATUS"] >= 2
    # the switch cleared the silent leaf's party internally too (its SETUP still unanswered) and gave up
    # the branch with cause 27; the alerting leaf had answered before the switch noticed, so the switch
    # kept that party Active under T309 - the per-party STATUS ENQUIRY after the re-establishment found it
    # Null at the MCM and the switch dropped it then (Q.2931 5.6.12 c) for the endpoint)
    leaf3, leaf4 = (rig.net.leaves[p].endpoint.parties[0] for p in (3, 4))
    assert (leaf3.outcome, leaf3.cause) == ("released", 27), leaf3.history
    assert leaf4.outcome == "released" and "active" in leaf4.events(), leaf4.history
    assert sorted(p.port for p in rig.net.node.control_plane.live_parties()) == [1]
    p5 = c.add_party(call, rig.address(2))             # the call still works
    rig.run(0.1)
    assert p5.add_completions == [NDIS_STATUS.SUCCESS]
    fx.promises(rig, [call])


def test_outage_longer_than_t309_closes_the_call_from_the_network(fx) -> None:
    rig = fx.make_rig()
    c = rig.client
    call = fx.connected(rig)
    parties = [c.add_party(call, rig.address(p)) for p in (2, 3, 4)]
    rig.run(0.1)
    rig.line(0).down()
    rig.run(6.0)                                       # 1 s to notice, 3 s of T309
    # T309 ran out: the MCM indicated the close, the client closed the call, the close completed at once
    assert call.phase.value == "closed" and call.incoming_close
    assert call.close_completions == [NDIS_STATUS.SUCCESS]
    assert rig.mcm.uni.counters.timers_expired["T309"] == 1
    # the switch cleared the call and every branch with cause 27 (T309 expired there too)
    cp = rig.net.node.control_plane
    assert cp.counters.call_outcomes[("cleared", 27)] == 1 and not cp.calls
    assert all(p.outcome == "released" and p.cause == 27 for leaf in rig.net.leaves.values() for p in leaf.parties)
    rig.line(0).up()
    rig.run(2.0)
    assert rig.mcm.saal_up                             # the MCM's channel brought the link back
    again = fx.connected(rig)                          # and calls can be made again
    assert again.phase.value == "connected"
    fx.promises(rig, [call, again] + [])


def test_make_call_in_flight_fails_when_the_link_goes(fx) -> None:
    rig = fx.make_rig(behaviours={1: LeafBehaviour.silent()})
    call = rig.client.make_call(rig.address(1))        # the switch offers it; the leaf never answers
    rig.run(0.05)
    assert call.phase.value == "making"
    rig.line(0).down()
    rig.run(2.0)
    # Q.2931 5.6.10 a): a call not Active is cleared internally, cause 27
    assert call.make_completions == [NDIS_STATUS.DEST_OUT_OF_ORDER] and call.phase.value == "failed"
    rig.line(0).up()
    fx.promises(rig, [call])


def test_close_in_flight_completes_when_the_link_goes(fx) -> None:
    rig = fx.make_rig()
    call = fx.connected(rig)
    rig.line(0).down()                                 # RELEASE goes nowhere (SSCOP does not know yet)
    rig.client.close_call(call)
    rig.run(0.05)
    assert call.phase.value == "closing" and not call.close_completions
    rig.run(2.0)                                       # link lost: the clearing call is cleared internally
    assert call.close_completions == [NDIS_STATUS.SUCCESS] and call.phase.value == "closed"
    rig.line(0).up()
    fx.promises(rig, [call])


def test_a_leaf_line_failing_drops_its_party_only(fx) -> None:
    rig = fx.make_rig()
    c = rig.client
    call = fx.connected(rig)
    p2, p3 = c.add_party(call, rig.address(2)), c.add_party(call, rig.address(3))
    rig.run(0.1)
    rig.line(3).down()
    rig.run(6.0)                                       # the switch's T309 on port 3 runs out
    # the switch dropped the party towards the root with cause 27; the client dropped it (incoming drop)
    assert p3.remote_left and p3.phase.value == "gone" and p3.drop_completions == [NDIS_STATUS.SUCCESS]
    assert p2.phase.value == "active" and call.phase.value == "connected"
    leaf3 = rig.net.leaves[3].endpoint.parties[0]
    assert (leaf3.outcome, leaf3.cause) == ("released", 27)    # the leaf cleared it internally as well
    rig.line(3).up()
    fx.promises(rig, [call])
