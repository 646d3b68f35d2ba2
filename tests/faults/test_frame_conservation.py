"""Conservation of data with loss on a leaf's line: every frame the root sends reaches each member leaf
intact, or is missing there with its cause on the books - a cell the line lost (by cause: random, burst)
- and never arrives altered; the fabric's copies, the lines, the PHYs, the reassemblers and the SSCOPs
all balance (Network.check())."""

from __future__ import annotations

import pytest

from firmware.network import Network
from hw.link import Impairments


@pytest.mark.parametrize("seed", [5, 6])
def test_frames_reach_their_leaves_or_are_accounted_lost(seed) -> None:
    net = Network(4, seed=seed)
    root = net.add_root(0)
    for p in (1, 2, 3):
        net.add_leaf(p)
    script = net.script()
    script.make_call(1)
    script.wait(0.05)
    script.add_party(2)
    script.add_party(3)
    script.wait(0.05)
    assert script.members() == [1, 2, 3]
    lossy = net.node.links[3]
    lossy.set_impairments(Impairments(loss=2e-3, burst_start=1e-4, burst_mean_slots=5.0))
    frames = [bytes([k % 251]) * (40 + 37 * (k % 11)) for k in range(300)]   # 1..9 cells each
    root.send(script.call, frames)
    script.wait(0.05)
    lossy.set_impairments(Impairments())
    assert net.run_until_idle(30.0)
    vc = {p: net.leaves[p].endpoint.parties[0].connection for p in (1, 2, 3)}
    got = {p: net.leaves[p].sink.sdus(*vc[p]) for p in (1, 2, 3)}
    assert got[1] == frames and got[2] == frames               # clean lines: every frame, in order
    # the lossy line: what arrived is an in-order subsequence of what was sent, unaltered
    it = iter(frames)
    assert all(any(f == g for g in it) for f in got[3])
    missing = len(frames) - len(got[3])
    lane = lossy.b_to_a
    lost_cells = lane.counters["cells_lost_random"] + lane.counters["cells_lost_burst"]
    assert 0 < missing <= lost_cells                           # each missing frame lost at least one cell
    errors = sum(net.leaves[3].sink.errors.values())
    assert 0 < errors <= missing                               # the reassembler counted the broken ones
    net.check()
