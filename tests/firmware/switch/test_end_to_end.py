"""End to end (issue 5): a 16-port switch on the real fabric, a root on port 0 and 15 leaves.

The root sets up a point-to-multipoint call to port 1 and adds 14 parties (port 3 rejects with cause 17,
port 4 stays silent until the root's T399 expires, port 2 alerts first, port 5 leaves by itself) plus
two the switch refuses itself (cause 1, cause 3); it streams AAL5 frames on the VC between the steps;
it drops some parties, then the rest, and releases. Checked: every outcome and cause, on the root and
on the leaves; every active leaf receives exactly the frames sent while it was a member (a corrupted
frame is caught by every member's CRC check), none after; after the release the fabric counts the
root's cells as unknown-VC drops; every party and call ends in Null, the fabric's tables end empty and
all the counters balance."""

from __future__ import annotations

import numpy as np
import pytest
from switch_bed import Bed, traffic

from firmware.endpoint import LeafBehaviour
from firmware.switch.interface import cause_of
from firmware.uni import builders as B
from firmware.uni.constants import CauseLocation
from firmware.uni.machines import Timers

OUTSIDE = B.aesa("47.0005.80.ffe100.0000.0000.0001.000000000001.00")
BEHAVIOUR = {2: LeafBehaviour.alert(0.5), 3: LeafBehaviour.reject(17), 4: LeafBehaviour.silent(),
             5: LeafBehaviour.accept(drop_after=2.0)}


@pytest.mark.slow
def test_sixteen_port_point_to_multipoint_call_end_to_end() -> None:
    # the switch waits 2 x 30 s on a SETUP, so the root's T399 (34 s) is what ends the silent party
    bed = Bed(16, timers=Timers(T303=30.0), data=True)
    root = bed.root(0, traffic=traffic(20_000))
    leaves = {p: bed.leaf(p, BEHAVIOUR.get(p, LeafBehaviour.accept())) for p in range(1, 16)}
    expected: dict[int, list[bytes]] = {p: [] for p in leaves}
    sent_cells: dict[int, int] = {p: 0 for p in leaves}
    bursts = []

    def members() -> list[int]:
        return sorted(port_of[e] for e in call.active_parties())

    def burst(tag: str, n: int = 5, corrupt: int | None = None) -> None:
        sdus = [(f"{tag}:{i}:".encode() * (3 + 37 * i))[: 9000] for i in range(n)]
        cells = [call.cells(s) for s in sdus]
        if corrupt is not None:
            cells[corrupt] = cells[corrupt].copy()
            cells[corrupt][0, 20] ^= 0x01                     # one payload bit: the CRC-32 must catch it
        who = members()
        bed.send(0, np.concatenate(cells))
        for p in who:
            expected[p] += [s for i, s in enumerate(sdus) if i != corrupt]
            sent_cells[p] += sum(len(c) for c in cells)
        bursts.append((tag, who))
        bed.run(0.01)

    call = root.setup(bed.addr(1))
    port_of = {0: 1}
    bed.run(0.01)
    assert call.state == "U10" and call.connection == (0, 32)
    burst("one-leaf")
    for p in range(2, 16):
        port_of[call.add_party(bed.addr(p))] = p
    e_unalloc, e_noroute = call.add_party(bed.in_domain(16)), call.add_party(OUTSIDE)
    bed.run(1.0)
    assert members() == [1, 2] + list(range(5, 16))
    burst("thirteen")
    bed.run(3.0)                                              # port 5 leaves 2 s after it became active
    assert members() == [1, 2] + list(range(6, 16))
    burst("twelve")
    bed.run(31.0)                                             # the root's T399 for port 4 runs out at 34 s
    epref = {p: e for e, p in port_of.items()}
    assert call.parties[epref[4]].outcome == "timed-out"
    for p in (6, 7, 8):
        call.drop_party(epref[p])
    bed.run(0.01)
    burst("nine", corrupt=2)
    for p in range(9, 15):
        call.drop_party(epref[p], cause=31)
    bed.run(0.01)
    burst("three")
    assert members() == [1, 2, 15]
    call.release()
    bed.run(0.01)
    after = np.concatenate([call.cells(b"after the release") for _ in range(3)])
    bed.send(0, after)
    bed.run(40.0)

    # ---- the root saw every outcome with the right cause
    outcome = {port_of[e]: (r.outcome, r.cause) for e, r in call.parties.items() if e in port_of}
    refused = {e: (call.parties[e].outcome, call.parties[e].cause) for e in (e_unalloc, e_noroute)}
    assert refused == {e_unalloc: ("rejected", 1), e_noroute: ("rejected", 3)}
    assert outcome[3] == ("rejected", 17) and outcome[4] == ("timed-out", 102) and outcome[5] == ("dropped", 16)
    assert {outcome[p] for p in (6, 7, 8)} == {("dropped-locally", 16)}
    assert {outcome[p] for p in range(9, 15)} == {("dropped-locally", 31)}
    assert {outcome[p] for p in (1, 2, 15)} == {("released", 16)}
    assert call.parties[epref[2]].events()[:3] == ["add-party.request", "party-alerting.indication",
                                                   "add-party-ack.indication"]
    assert cause_of(call.ucall.received["ADD_PARTY_REJECT"])[1] in (CauseLocation.USER,
                                                                  CauseLocation.PRIVATE_NETWORK_LOCAL_USER)
    # ---- and so did the leaves
    leaf_outcome = {p: (leaf.parties[0].outcome, leaf.parties[0].cause) for p, leaf in leaves.items()}
    assert leaf_outcome[3] == ("rejected", 17) and leaf_outcome[4] == ("released", 102)
    assert leaf_outcome[5] == ("left", 16)
    assert {leaf_outcome[p] for p in (1, 2, 6, 7, 8, 15)} == {("released", 16)}
    assert {leaf_outcome[p] for p in range(9, 15)} == {("released", 31)}
    assert leaves[2].parties[0].events()[:3] == ["offered", "alert", "answer"]

    # ---- data: exactly the frames sent while a member, none after; the corrupted one caught
    for p, leaf in leaves.items():
        got = [sdu for vc in sorted(leaf.sink.received) for _, sdu in leaf.sink.received[vc]]
        assert got == expected[p], (p, len(got), len(expected[p]))
        assert sum(leaf.sink.cells.values()) == sent_cells[p], p
        assert leaf.sink.crc_errors == (1 if p in (1, 2, 15, *range(9, 15)) else 0), p
        leaf.sink.check_conservation()
        vc = leaf.parties[0].connection
        if p not in (3, 4):
            assert bed.switch.fabric.delivered[(0, 0, 32, p)] == sent_cells[p] and vc is not None
    assert bed.fabric.regs.get("PORT.DROP_IN_UNKNOWN_VC", "COUNT", 0) == len(after)
    assert bed.fabric.queued_copies() == 0

    # ---- everything back in Null, the tables empty, the counters balanced
    sw = bed.switch
    sw.check_balance()
    assert sw.idle() and sw.fabric.empty and not sw.calls
    assert call.closed and not root.iface.calls
    for leaf in leaves.values():
        assert not leaf.iface.calls and all(p.outcome is not None for p in leaf.parties)
    c = sw.counters
    assert c.calls_offered == 1 and c.call_outcomes == {("cleared", 16): 1}
    assert c.parties_offered == 17 and c.parties_connected == 13 and c.parties_alerting == 1
    assert c.party_outcomes == {("rejected", 1): 1, ("rejected", 3): 1, ("rejected", 17): 1, ("withdrawn", 102): 1,
                                ("dropped-by-leaf", 16): 1, ("dropped-by-root", 16): 6, ("dropped-by-root", 31): 6}
    assert c.branches_opened == c.branches_closed == 15
    ic = sw.interface_counters()
    assert ic.messages_in["ADD_PARTY"] == 16 and ic.messages_out["ADD_PARTY_REJECT"] == 3
    # 15 SETUPs, and the silent leaf's again on the first expiry of T303 (Q.2931 5.2.1)
    assert ic.messages_out["DROP_PARTY_ACK"] == 10 and ic.messages_out["SETUP"] == 16
    assert sw.ports[4].counters.messages_out["SETUP"] == 2 and ic.timers_expired == {"T303": 1}
    assert not ic.answered                                    # nobody sent anything out of turn
    for (a, b) in bed.pairs:                                  # every message sent was received
        assert a.counters["sent"] == b.counters["delivered"] and b.counters["sent"] == a.counters["delivered"]
    f = sw.fabric
    assert (f.vcs_installed, f.vcs_removed, f.leaves_added, f.leaves_removed) == (1, 1, 13, 13)
