"""Bit errors (1e-7 .. 1e-3 per bit), independent cell loss and loss bursts on every line, the signalling
links included, under add/drop cycles through the MCM root (seeded: each case is one reproducible run).
Whatever the line does, SSCOP recovers the lost SD PDUs or reports the link lost (and then the UNI clears
the calls as Q.2931 5.6.10 says); every NdisClAddParty / NdisClDropParty completes exactly once; the rule
checker stays silent; every counter balances (the lines' loss by cause, the PHYs' HEC discards, the
fabric's copies, the reassemblers, the SSCOPs, the control plane)."""

from __future__ import annotations

import pytest

from hw.link import Impairments

CASES = [
    pytest.param(Impairments(ber=1e-7), 11, id="ber-1e-7"),
    pytest.param(Impairments(ber=1e-5), 12, id="ber-1e-5"),
    pytest.param(Impairments(ber=1e-3), 13, id="ber-1e-3"),
    pytest.param(Impairments(loss=1e-2), 14, id="loss-1e-2"),
    pytest.param(Impairments(burst_start=5e-3, burst_mean_slots=20.0), 15, id="bursts"),
]


@pytest.mark.parametrize("impairments, seed", CASES)
def test_cycles_through_a_bad_line_keep_the_promises(fx, impairments, seed) -> None:
    rig = fx.make_rig(impairments=impairments, seed=seed)
    c = rig.client
    calls: list = []
    # at BER 1e-3 a two-cell SD is lost more often than not: the SETUP exchange may fail, so try again
    call = fx.connected(rig, attempts=5, tried=calls)
    assert call.phase.value == "connected", [c.make_completions for c in calls]
    for cycle in range(4):
        if call.phase.value != "connected" or call.closing:
            break            # the network closed the call (its link was lost for longer than T309)
        parties = [c.add_party(call, rig.address(p)) for p in (2, 3, 4)]
        rig.run_while(lambda: any(p.phase.value == "adding" for p in parties), limit_seconds=30)
        for p in parties:
            assert len(p.add_completions) == 1, p
            if p.phase.value == "active" and call.phase.value == "connected" and not call.closing:
                c.drop_party(p)
        rig.run_while(lambda: any(p.phase.value == "dropping" for p in parties), limit_seconds=30)
    faults = rig.cells_lost() + sum(lane.counters["bits_flipped"] for link in rig.net.node.links for lane in link.lanes)
    if impairments.ber >= 1e-5 or impairments.loss or impairments.burst_start:
        assert faults > 0          # the line did something
    lost = rig.mcm.counters["saal_link_down.NO_RESPONSE"] + rig.mcm.counters["saal_link_down.NO_ANSWER"]
    if not lost:
        assert rig.mcm.uni.counters.link_changes["calls cleared"] == 0
    fx.promises(rig, calls)
