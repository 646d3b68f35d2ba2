"""Background traffic of a scenario run: the program the fabric's generator runs (every background
input offers the load, every background output carries it, the root's port takes no part, the VCs
stay off the control plane's VPI), and what a user sees of congestion in a run: the call's cells
dropped with their cause and frames lost at the leaves near load 1 with a small buffer, none at
load 0, with the background's own books balanced."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from hw.fabric.config import FabricConfig
from hw.fabric.fabric import Fabric
from tools.scenario import loads
from tools.scenario import model as m
from tools.scenario.background import BACKGROUND_VPI, entries_needed, program, vcs_per_input
from tools.scenario.runner import ScenarioRun, run

DOC = Path(__file__).parents[3] / "docs" / "scenario.md"


def congested(load: float, model: str = "uniform") -> str:
    """The example of docs/scenario.md ("Background traffic") at ``load``."""
    text = re.search(r"```toml\n(name = \"congested\".*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    if load == 0:
        return text.replace('model = "uniform"\nload = 0.98', 'model = "none"\nload = 0')
    return text.replace('model = "uniform"\nload = 0.98', f'model = "{model}"\nload = {load}')


@pytest.mark.parametrize("model", [t for t in m.TRAFFIC_MODELS if t != "none"])
@pytest.mark.parametrize("ports", [4, 16])
def test_every_background_output_carries_the_load_of_one_input(model, ports):
    sources = tuple(range(1, ports))  # the root on port 0 takes no part
    k = vcs_per_input(ports, len(sources), max(256, 4 * ports), max(512, 8 * ports))
    prog = program(model, 0.6, ports, sources, k, hot_port=1)
    assert set(prog.leaf_port.tolist()) == set(sources) and 0 not in prog.vc_port.tolist()
    assert (prog.vc_vpi == BACKGROUND_VPI).all() and (prog.leaf_vpi == BACKGROUND_VPI).all()
    # a VC never goes back to its own input; an output gets each VC header once
    assert not (prog.vc_port[prog.leaf_vc] == prog.leaf_port).any()
    pairs = set(zip(prog.leaf_port.tolist(), prog.leaf_vci.tolist()))
    assert len(pairs) == prog.leaf_count
    fabric = Fabric(FabricConfig(ports=ports, vcs=max(256, 4 * ports), leaves=max(512, 8 * ports)))
    fabric.load_traffic(prog, seed=7)
    slots = 30_000
    fabric.run(slots)
    rx = fabric.regs.array("PORT.RX_CELLS.COUNT")[:ports] / slots
    tx = fabric.regs.array("PORT.TX_CELLS.COUNT")[:ports] / slots
    assert rx[0] == 0 and tx[0] == 0
    assert np.allclose(rx[1:], 0.6, atol=0.03)
    if model == "hotspot":  # half of every other input's cells (and its uniform share) go to port 1
        hot = min(1.0, k * 0.6 * (0.5 + 0.5 / k))  # k inputs reach each output
        assert tx[1] == pytest.approx(hot, abs=0.03) and (tx[2:] < 0.6).all()
    else:
        assert np.allclose(tx[1:], 0.6, atol=0.06 if model == "bursty" else 0.03)


def test_the_table_room_bounds_the_vcs_per_input():
    assert vcs_per_input(4, 3, 256, 512) == 2            # every other background port
    assert vcs_per_input(16, 15, 256, 512) == 13         # (256 - 32 - 16) // 15
    assert vcs_per_input(64, 63, 256, 512) == 1          # at least one
    assert entries_needed(loads(congested(0.5)), 256, 512) == 3 * 2   # 3 background ports x 2 VCs
    assert entries_needed(loads(congested(0)), 256, 512) == 0
    with pytest.raises(ValueError):
        program("uniform", 0.5, 4, (1, 2, 3), 3)


def test_congestion_drops_the_calls_cells_and_loses_frames_while_load_0_loses_none():
    """What a user notices: near load 1 with a small shared memory the call's cells are dropped
    (memory_full) and the leaves miss frames, the run fails its frame check and says why; at load 0
    the same scenario delivers every frame and passes. Both keep every counter balanced."""
    busy_run = ScenarioRun(loads(congested(0.98)))
    busy = busy_run.execute()
    quiet = run(loads(congested(0)))

    assert quiet.ok and quiet.background is None
    assert quiet.call_cells.dropped == {} and quiet.call_cells.delivered == quiet.call_cells.offered > 0
    assert all(f.lost == 0 and f.match for f in quiet.frames_per_leaf.values())

    assert not busy.ok and busy.counters_balanced, busy.counter_problems
    cells = busy.call_cells
    assert cells.dropped.get("memory_full", 0) > 0
    assert cells.offered == cells.delivered + sum(cells.dropped.values())
    for port in (0, 1, 2):
        assert busy.frames_per_leaf[port].lost > 0 and not busy.frames_per_leaf[port].match
        assert cells.per_leaf[port].dropped > 0 and cells.per_leaf[port].frames_bad + busy.frames_per_leaf[port].lost
        assert any(f.startswith(f"leaf {port}: received") and "memory_full" in f for f in busy.failures)
    # the background: offered at the load on ports 0..2, its books balance, nothing left queued
    bg = busy.background
    assert bg.ports == [0, 1, 2] and bg.balanced and bg.queued == 0
    assert bg.offered > 0 and bg.dropped.get("memory_full", 0) > 0
    assert sum(bg.per_leaf.values()) == bg.delivered  # every background output is a leaf's port here
    # ...and left the fabric there, counted, without reaching the leaf stations (LEAF.CTRL.ACCOUNT_ONLY)
    node = busy_run.net.node
    uncaptured = node.fabric.regs.array("PORT.TX_UNCAPTURED.COUNT")
    assert {p: int(uncaptured[p]) for p in (0, 1, 2)} == bg.per_leaf
    background_vcs = set().union(*(busy_run.background.out_vcs(p) for p in (0, 1, 2)))
    for port in (0, 1, 2):
        assert not background_vcs & set(busy_run.net.leaves[port].sink.cells)
    # the fabric stopped for the cells software takes (the call's, the signalling), not the background's
    tx = node.fabric.regs.array("PORT.TX_CELLS.COUNT")
    for_software = int(tx.sum() - uncaptured.sum())
    assert node.stops <= for_software < bg.delivered
    # the control plane's entries start above the background's
    assert node.control_plane.fabric.first_entry == 2 * 4 + bg.vcs_per_input * len(bg.ports)
    # the call's cells waited behind the background: slower than on the quiet switch
    assert max(c.mean_delay_us for c in cells.per_leaf.values()) > \
        max(c.mean_delay_us for c in quiet.call_cells.per_leaf.values())
    # every party still ended as its leaf says: the signalling got through (SSCOP recovers its losses)
    assert [p.outcome for p in busy.parties] == ["active"] * 3
    summary = busy.summary()
    assert summary["background"]["balanced"] and summary["background"]["generated"] == bg.offered + bg.blocked
    assert summary["call_cells"]["dropped"]["memory_full"] == cells.dropped["memory_full"]
