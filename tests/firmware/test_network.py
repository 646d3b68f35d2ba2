"""The scriptable network (firmware.network), as a scenario runner uses it: build a switch with a root and
leaves of every behaviour, let the root's script run (call, add, drop, frames spaced in time, close), run
until idle, read the outcome of every party from both ends, the frames each leaf received, the cells the
fabric switched, and check that every counter balances."""

from __future__ import annotations

import pytest

from firmware.endpoint import EndpointError, LeafBehaviour
from firmware.network import Network
from firmware.uni.machines import Timers
from hw.aal5 import pdu_cells


def test_a_scripted_run_and_its_results() -> None:
    timers = Timers(T303=1.0)                 # the switch gives up on a silent leaf after 2 x 1 s (cause 18)
    net = Network(8, timers=timers, link_delay_slots=2)
    net.add_root(0, pcr=50_000)
    net.add_leaf(1)
    net.add_leaf(2, LeafBehaviour.alert(0.2))
    net.add_leaf(3, LeafBehaviour.reject(21))
    net.add_leaf(4, LeafBehaviour.silent())
    net.add_leaf(5, LeafBehaviour.accept(drop_after=0.5))
    net.add_leaf(6)
    script = net.script()
    script.make_call(1)
    script.wait(0.01)
    for leaf in (2, 3, 4, 5, 6):
        script.add_party(leaf)
    script.wait(0.3)
    script.send_frames(4, 500, spacing=0.01)          # 4 frames 10 ms apart: leaf 5 leaves in between
    script.wait(0.05)
    assert script.members() == [1, 2, 5, 6] and not net.idle()
    script.wait(2.5)                                  # leaf 5 has left; T303 has run out twice for leaf 4
    assert script.members() == [1, 2, 6]
    script.send_frames(2, 9000)
    script.wait(0.01)
    script.drop_party(6)
    script.wait(0.01)
    script.send_frames(1, 48)
    script.close_call()
    assert net.run_until_idle(10.0) and net.idle()
    res = net.results()
    by_leaf = {p.leaf: p for p in res.parties}
    assert {k: (p.outcome, p.cause) for k, p in by_leaf.items()} == {
        1: ("released", 16), 2: ("released", 16), 3: ("rejected", 21), 4: ("rejected", 18),
        5: ("dropped", 16), 6: ("dropped-locally", 16)}
    assert {k: (p.leaf_outcome, p.leaf_cause) for k, p in by_leaf.items()} == {
        1: ("released", 16), 2: ("released", 16), 3: ("rejected", 21), 4: (None, None),
        5: ("left", 16), 6: ("released", 16)}
    # Q.2931 5.2.1: after T303 twice the switch clears its side without a word to the silent user, whose
    # call stays in Call Present
    assert [c.state for c in net.leaves[4].endpoint.iface.calls.values()] == ["U6"]
    assert by_leaf[2].events[:3] == ["add-party.request", "party-alerting.indication", "add-party-ack.indication"]
    # every leaf got exactly the frames sent while it was a member, and the root said so in advance
    assert {k: p.frames_expected for k, p in by_leaf.items()} == {1: 7, 2: 7, 3: 0, 4: 0, 5: 4, 6: 6}
    assert res.frames == {1: 7, 2: 7, 3: 0, 4: 0, 5: 4, 6: 6}
    for port, leaf in net.leaves.items():
        assert [s for _, s in leaf.sink.received.get((0, 32), [])] == script.expected.get(port, [])
    assert res.frame_errors == {p: {} for p in range(1, 7)}
    # what the fabric sent out of a leaf's port all went on its link: the data, and the switch's signalling
    signalling = net.leaves[1].cell_port.counters["cells_in"] - res.cells_received[1]
    assert res.cells_switched[1] == net.node.port_counters(1)["cells_out"] == res.cells_received[1] + signalling
    assert res.cells_received[1] == 4 * pdu_cells(500) + 2 * pdu_cells(9000) + pdu_cells(48) and signalling > 0
    assert res.node["cells_late"] == 0 and res.control_plane.parties_offered == 6
    net.check()


def test_network_refuses_what_it_cannot_do() -> None:
    net = Network(4)
    net.add_root(0)
    with pytest.raises(EndpointError):
        net.add_leaf(0)                                # the root's port
    net.add_leaf(1)
    net.add_root(2)
    with pytest.raises(EndpointError):
        net.script()                                   # two roots: name one
    script = net.script(0)
    with pytest.raises(EndpointError):
        script.add_party(1)                            # no call yet
    call = script.make_call(1)
    with pytest.raises(EndpointError):
        script.send_frames(1, 100)                     # no connection identifier yet
    net.run(0.05)
    assert call.state == "U10" and script.members() == [1]
    with pytest.raises(EndpointError):
        script.drop_party(3)                           # never added
