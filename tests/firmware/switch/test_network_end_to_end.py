"""End to end over the real stack (issue 5): a 16-port switch on the fabric, its signalling on SSCOP over
AAL5 cells through the control port, a root on port 0 and 15 leaves each on its own link with its own
SAAL.

The root sets up a point-to-multipoint call to port 1 and adds 14 parties (port 3 rejects with cause 17,
port 4 stays silent until the root's T399 expires, port 2 alerts first, port 5 leaves by itself) plus two
the switch refuses itself (cause 1, cause 3); it streams AAL5 frames on the VC between the steps; it drops
some parties, then the rest, and releases. Checked: every outcome and cause, on the root and on the
leaves; every active leaf receives exactly the frames sent while it was a member (a corrupted frame is
caught by every member's CRC check), none after; after the release the fabric counts the root's cells as
unknown-VC drops; every party and call ends in Null; the switch's tables, read through the fabric's
registers, end empty; the counters of every layer balance: links, PHYs, CellPorts, SSCOP/SSCF endpoints,
the fabric's copies, the control plane's books."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.endpoint import LeafBehaviour
from firmware.network import Network
from firmware.switch.interface import cause_of
from firmware.uni import builders as B
from firmware.uni.constants import CauseLocation
from firmware.uni.machines import Timers

OUTSIDE = B.aesa("47.0005.80.ffe100.0000.0000.0001.000000000001.00")
BEHAVIOUR = {2: LeafBehaviour.alert(0.5), 3: LeafBehaviour.reject(17), 4: LeafBehaviour.silent(),
             5: LeafBehaviour.accept(drop_after=2.0)}


def in_domain(net: Network, index: int) -> bytes:
    """An AESA inside the switch's domain under prefix ``index`` (unassigned when no port has it)."""
    dom = net.config.domain[0]
    head = dom.value.to_bytes(20, "big")[: dom.bits // 8]
    return head + index.to_bytes(2, "big") + (1).to_bytes(6, "big") + b"\0"


def fabric_tables_empty(net: Network) -> bool:
    """No VC or leaf entry beyond the reserved ones (VPI 0/VCI 5 of every port, and the control port's
    routing tags), read through the fabric's register file."""
    regs, n = net.node.fabric.regs, net.config.port_count
    vc_valid = regs.array("VC.CTRL.VALID")
    leaf_valid = regs.array("LEAF.CTRL.VALID")
    return not vc_valid[2 * n:].any() and not leaf_valid[2 * n:].any() and vc_valid[:2 * n].all()


@pytest.mark.parametrize("codec", ["fast", "scapy"])
def test_sixteen_port_point_to_multipoint_call_over_cells(codec: str) -> None:
    # the switch waits 2 x 30 s on a SETUP, so the root's T399 (34 s) is what ends the silent party
    net = Network(16, timers=Timers(T303=30.0), codec=codec, link_delay_slots=2)
    root = net.add_root(0, pcr=20_000)
    leaves = {p: net.add_leaf(p, BEHAVIOUR.get(p, LeafBehaviour.accept())) for p in range(1, 16)}
    script = net.script()
    corrupted: list[bytes] = []

    def burst(tag: str, n: int = 5, corrupt: int | None = None) -> None:
        call = script.call
        sdus = [(f"{tag}:{i}:".encode() * (3 + 37 * i))[:9000] for i in range(n)]
        cells = [call.cells(s) for s in sdus]
        if corrupt is not None:
            cells[corrupt] = cells[corrupt].copy()
            cells[corrupt][0, 20] ^= 0x01                     # one payload bit: the CRC-32 must catch it
            corrupted.append(sdus[corrupt])
        root.send_cells(np.concatenate(cells), frames=n)
        for p in script.members():
            script.expected.setdefault(p, []).extend(s for i, s in enumerate(sdus) if i != corrupt)
        net.run(0.01)

    net.run(0.05)                                             # every SAAL link comes up
    assert all(ch.up for ch in net.node.channels) and all(l.channel.up for l in leaves.values())
    call = script.make_call(1)
    net.run(0.01)
    assert call.state == "U10" and call.connection == (0, 32)
    burst("one-leaf")
    for p in range(2, 16):
        script.add_party(p)
    e_unalloc, e_noroute = call.add_party(in_domain(net, 16)), call.add_party(OUTSIDE)
    net.run(1.0)
    assert script.members() == [1, 2] + list(range(5, 16))
    burst("thirteen")
    net.run(3.0)                                              # port 5 leaves 2 s after it became active
    assert script.members() == [1, 2] + list(range(6, 16))
    burst("twelve")
    net.run(31.0)                                             # the root's T399 for port 4 runs out at 34 s
    epref = script.party
    assert call.parties[epref[4]].outcome == "timed-out"
    for p in (6, 7, 8):
        script.drop_party(p)
    net.run(0.01)
    burst("nine", corrupt=2)
    for p in range(9, 15):
        script.drop_party(p, cause=31)
    net.run(0.01)
    burst("three")
    assert script.members() == [1, 2, 15]
    script.close_call()
    net.run(0.01)
    after = np.concatenate([call.cells(b"after the release") for _ in range(3)])
    root.send_cells(after)
    assert net.run_until_idle(60.0)

    # ---- the root saw every outcome with the right cause
    outcome = {script.port_of[e]: (r.outcome, r.cause) for e, r in call.parties.items() if e in script.port_of}
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
    cells_per_member: dict[int, int] = {}
    for p, leaf in leaves.items():
        got = [sdu for vc in sorted(leaf.sink.received) for _, sdu in leaf.sink.received[vc]]
        assert got == script.expected.get(p, []), (p, len(got), len(script.expected.get(p, [])))
        assert corrupted[0] not in got
        assert leaf.sink.crc_errors == (1 if p in (1, 2, 15, *range(9, 15)) else 0), p
        cells_per_member[p] = sum(leaf.sink.cells.values())
        leaf.sink.check_conservation()
        if p not in (3, 4):
            assert leaf.parties[0].connection is not None
            assert net.node.control_plane.fabric.delivered[(0, 0, 32, p)] == cells_per_member[p]
        else:
            assert cells_per_member[p] == 0
    fabric = net.node.fabric
    assert fabric.regs.get("PORT.DROP_IN_UNKNOWN_VC", "COUNT", 0) == len(after)
    assert fabric.queued_copies() == 0 and net.node.in_flight() == 0

    # ---- everything back in Null, the tables empty (registers), the counters balanced
    sw = net.node.control_plane
    assert sw.idle() and sw.fabric.empty and not sw.calls and fabric_tables_empty(net)
    assert call.closed and not root.endpoint.iface.calls
    for leaf in leaves.values():
        assert not leaf.endpoint.iface.calls and all(p.outcome is not None for p in leaf.parties)
    net.check()                                               # links, PHYs, CellPorts, SAAL, fabric, books
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
    f = sw.fabric
    assert (f.vcs_installed, f.vcs_removed, f.leaves_added, f.leaves_removed) == (1, 1, 13, 13)
    # every Q.2931 message went as one SSCOP SD and arrived once, in order: nothing lost, nothing refused
    for st in (root, *leaves.values()):
        peer = net.node.saal[st.port]
        assert st.saal.counters["messages_out"] == peer.counters["messages_in"]
        assert peer.counters["messages_out"] == st.saal.counters["messages_in"]
        assert not st.channel.counters["refused"] and not net.node.channels[st.port].counters["refused"]
    n = net.node.counters
    assert n["cells_late"] == 0 and n["frames_late"] == 0 and n["hec_discarded"] == 0
