"""Replay without the emulator: the script taken from a capture (which side, which link, what is sent
and what is expected), the leaf behaviours the capture implies, the pace plan, the comparison of a
driver's recording, and the cell replay through the fabric."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from captures.compare import DIFFERS, MISSING, SAME, SENT
from captures.exchange import read_exchanges
from captures.recorder import Recorder
from captures.replay import (
    FAST,
    NETWORK,
    RECORDED,
    DriverRun,
    ReplayFieldError,
    ReplayInputError,
    ReplayScript,
    build_script,
    pace_plan,
    replay,
    replay_cells,
    tail_slots,
)
from captures.synth import SignallingWriter
from captures.taps import CellTap
from firmware.uni import bearer_capability
from firmware.uni import builders as b
from hw.aal5 import segment
from hw.clock import Clock

CPS = 353_208
MS = CPS // 1000  # slots in a millisecond, about
L1 = "47.0005.80.ffe100.0000.f21a.0001.0020.4800.1234.00"
L1_TEXT = "47.0005.80ffe1000000f21a0001.002048001234.00"  # as the capture summary prints it
L2, L3, L4, L5 = "+4930001", "+4930002", "+4930003", "+4930004"


def root_capture(path: Path, *, with_leaf_link: bool = True, retransmit: bool = True) -> Path:
    """A root's UNI and (optionally) the first leaf's, written by hand:

    SETUP (L1) -> CALL PROCEEDING, CONNECT; ADD PARTY L2 -> ADD PARTY REJECT 17 (the leaf is busy);
    ADD PARTY L3 -> PARTY ALERTING, ADD PARTY ACK, later DROP PARTY 31 (the leaf left);
    ADD PARTY L4 -> ADD PARTY REJECT 3 (no route: the network's own); ADD PARTY L5 -> REJECT 18."""
    clock = Clock("OC-3c")
    with Recorder(path, clock) as rec:
        root = rec.link("root", "switch:0")
        w = SignallingWriter(rec)
        w.establish(root, 0)
        w.message(root, "user", b.Setup(1, called=L1, bearer=bearer_capability(atc=10, point_to_multipoint=True)),
                  1 * MS, comments=["NdisClMakeCall -> PENDING"])
        w.message(root, "network", b.CallProceeding(1), 2 * MS)
        if with_leaf_link:
            leaf = rec.link("switch:1", "leaf1", user="leaf1")
            w.establish(leaf, 0)
            w.message(leaf, "network", b.Setup(7, called=L1, flag=0), 3 * MS)
            w.message(leaf, "user", b.Alerting(7, flag=1), 4 * MS)
            w.message(leaf, "user", b.Connect(7, flag=1), 504 * MS)  # rang for half a second
            w.message(leaf, "network", b.ConnectAcknowledge(7, flag=0), 505 * MS)
        w.message(root, "network", b.Connect(1, endpoint_ref=0), 506 * MS)
        w.message(root, "user", b.ConnectAcknowledge(1), 507 * MS)
        w.message(root, "user", b.AddParty(1, 1, L2), 600 * MS)
        if retransmit:
            w.poll(root, "user", 650 * MS)
            w.message(root, "user", b.AddParty(1, 1, L2), 651 * MS, n_s=2)  # sent again, same N(S)
        w.message(root, "network", b.AddPartyReject(1, 1, cause=17), 700 * MS)
        w.message(root, "user", b.AddParty(1, 2, L3), 800 * MS)
        w.message(root, "network", b.PartyAlerting(1, 2), 801 * MS)
        w.message(root, "network", b.AddPartyAcknowledge(1, 2), 900 * MS)
        w.message(root, "network", b.DropParty(1, 2, 31, flag=1), 2900 * MS)  # two seconds after the answer
        w.message(root, "user", b.DropPartyAcknowledge(1, 2), 2901 * MS)
        w.message(root, "user", b.AddParty(1, 3, L4), 3000 * MS)
        w.message(root, "network", b.AddPartyReject(1, 3, cause=3), 3001 * MS)
        w.message(root, "user", b.AddParty(1, 4, L5), 3100 * MS)
        w.message(root, "network", b.AddPartyReject(1, 4, cause=18), 3200 * MS)
    return path


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    return root_capture(tmp_path_factory.mktemp("replay") / "root.pcapng")


def test_script_of_the_root_side(capture):
    script = build_script(read_exchanges(capture))
    assert (script.link, script.side, script.sent_by) == ("root<->switch:0", "root", "user")
    assert [s.view.message for s in script.steps] == ["SETUP", "CONNECT ACKNOWLEDGE", "ADD PARTY", "ADD PARTY",
                                                     "DROP PARTY ACKNOWLEDGE", "ADD PARTY", "ADD PARTY"]
    assert [s.answers_before for s in script.steps] == [0, 2, 2, 3, 6, 6, 7]
    assert [m.message for m in script.expected] == [
        "CALL PROCEEDING", "CONNECT", "ADD PARTY REJECT", "PARTY ALERTING", "ADD PARTY ACKNOWLEDGE", "DROP PARTY",
        "ADD PARTY REJECT", "ADD PARTY REJECT"]
    # What is not replayed is counted: SSCOP's own PDUs (BGN, BGAK, POLL, STAT) and the retransmission.
    assert script.counters == {"sscop_frames": 4, "retransmissions": 1}
    assert script.steps[0].octets == bytes(b.Setup(1, called=L1, bearer=bearer_capability(
        atc=10, point_to_multipoint=True)))
    assert script.steps[0].offset_ns == MS * 10**9 // CPS
    assert script.duration_ns == 3200 * MS * 10**9 // CPS


def test_the_network_side_of_a_leaf_link(capture):
    script = build_script(read_exchanges(capture), side=NETWORK, link="switch:1<->leaf1")
    assert [s.view.message for s in script.steps] == ["SETUP", "CONNECT ACKNOWLEDGE"]
    assert [m.message for m in script.expected] == ["ALERTING", "CONNECT"]


def test_links_and_sides_that_cannot_be_replayed(capture, tmp_path):
    ex = read_exchanges(capture)
    with pytest.raises(ReplayInputError, match="no signalling on link 'nope'"):
        build_script(ex, link="nope")
    with pytest.raises(ReplayFieldError):
        build_script(ex, side="leaf")
    with Recorder(tmp_path / "empty.pcapng", Clock("OC-3c")) as rec:
        rec.link("a", "b")
    with pytest.raises(ReplayInputError, match="no signalling frames"):
        build_script(read_exchanges(tmp_path / "empty.pcapng"))
    with Recorder(tmp_path / "quiet.pcapng", Clock("OC-3c")) as rec:
        w = SignallingWriter(rec)
        link = rec.link("root", "switch:0")
        w.establish(link, 0)
        w.message(link, "network", b.Status(1, cause=30, state=0), 10)
    with pytest.raises(ReplayInputError, match="sent no Q.2931 message"):
        build_script(read_exchanges(tmp_path / "quiet.pcapng"))


def test_leaf_behaviours_inferred_from_the_capture(capture):
    leaves = build_script(read_exchanges(capture)).leaves
    # The leaf's own UNI is the evidence for L1: it alerted, then connected half a second later.
    assert leaves[L1_TEXT].kind == "alert" and leaves[L1_TEXT].evidence == "switch:1<->leaf1 frame 7"
    assert leaves[L1_TEXT].alert_for == round(500 * MS / CPS, 3)  # to the ms
    assert (leaves[L2].kind, leaves[L2].cause) == ("reject", 17)
    assert leaves[L3].kind == "alert" and leaves[L3].drop_after == round(2000 * MS / CPS, 3)
    assert leaves[L3].drop_cause == 31
    assert L4 not in leaves  # cause 3, no route: the network answers that by itself
    assert leaves[L5].kind == "silent"  # cause 18: the leaf never answered
    # Without the leaf's UNI, the root's view says the same of L1, from the network's answers.
    alone = build_script(read_exchanges(root_capture(Path(capture).with_name("alone.pcapng"), with_leaf_link=False)))
    assert alone.leaves[L1_TEXT].kind == "accept" and alone.leaves[L1_TEXT].evidence.startswith("root<->switch:0")


def test_pace_plan(capture):
    script = build_script(read_exchanges(capture))
    plan = pace_plan(script, FAST, CPS)
    # The slots the messages were written at (nanoseconds in the file, slots again in the plan).
    assert [p[0] for p in plan] == [MS * k for k in (1, 507, 600, 800, 2901, 3000, 3100)]
    assert [p[1] for p in plan] == [s.answers_before for s in script.steps]
    gaps = np.diff([0] + [s.offset_ns for s in script.steps])
    assert [p[2] for p in plan] == [(g + 10**9) * CPS // 10**9 for g in gaps.tolist()]
    tail, grace = tail_slots(script, CPS)
    assert grace == CPS and tail == (script.duration_ns - script.steps[-1].offset_ns + 10**9) * CPS // 10**9
    with pytest.raises(ReplayFieldError):
        pace_plan(script, "slow", CPS)


class EchoDriver:
    """A stand-in for the emulator: records, as the network of a replayed UNI would, the answers the
    script expects, with ``change`` applied (index -> message or None to leave it out). It lets the test
    check what replay() does with a driver's recording, whatever the emulator."""

    name = "echo"

    def __init__(self, change: dict | None = None) -> None:
        self.change = change or {}
        self.scripts: list[tuple[ReplayScript, str]] = []

    def run(self, script: ReplayScript, *, pace: str, capture: Path) -> DriverRun:
        self.scripts.append((script, pace))
        from captures.recorder import USER

        with Recorder(capture, Clock("OC-3c")) as rec:
            link = rec.link("replay-root", "emulated-switch:0")
            w = SignallingWriter(rec)
            w.establish(link, 0)
            slot = 10
            answers = iter(enumerate(script.expected))
            for step in script.steps:
                w.message(link, USER, step.octets, slot)
                slot += 1
            for i, view in answers:
                message = self.change.get(i, "keep")
                if message is None:
                    continue
                octets = (b.AddPartyReject(1, 1, cause=21) if message != "keep" else None)
                w.message(link, "network", bytes(octets) if octets is not None else _octets(script, i), slot)
                slot += 1
        return DriverRun(capture, "replay-root<->emulated-switch:0", {"steps": len(script.steps)})


def _octets(script: ReplayScript, index: int) -> bytes:
    """The expected answer's octets, from the original capture."""
    frames = [f for f in read_exchanges(script.source)[script.link].messages("network")]
    return frames[index].message


def test_replay_compares_what_the_driver_recorded(capture, tmp_path):
    same = replay(capture, driver=EchoDriver(), pace=RECORDED, output=tmp_path / "same.pcapng")
    assert same.equal and same.comparison.counts[SAME] == 8 and same.comparison.counts[SENT] == 7
    assert (tmp_path / "same.pcapng").exists()  # kept when asked for
    changed = replay(capture, driver=EchoDriver({2: "reject 21", 5: None}))
    assert not changed.equal
    rows = changed.comparison.differences
    assert [(r.status, r.fields) for r in rows] == [(DIFFERS, ("causes",)), (MISSING, ())]
    assert rows[0].expected.causes == (17,) and rows[0].got.causes == (21,)


# ------------------------------------------------------------------------------------------ cells
def cell_capture(path: Path) -> tuple[np.ndarray, np.ndarray]:
    clock = Clock("OC-3c")
    a = np.concatenate([segment(bytes(1000), 1, 32), segment(bytes(500), 1, 33)])
    c = segment(bytes(2000), 2, 40)
    with Recorder(path, clock) as rec:
        link = rec.link("adapter0", "switch:0")
        tap = CellTap(rec, link, vcs=[(1, 32), (1, 33), (2, 40)])
        tap("adapter0->switch:0", a, np.arange(len(a)) * 10)  # sparse: one cell every 10 slots
        tap("switch:0->adapter0", c, 5 + np.arange(len(c)) * 10)
    return a, c


def test_cells_replayed_through_the_fabric_are_conserved(tmp_path):
    a, c = cell_capture(tmp_path / "cells.pcapng")
    fast = replay_cells(tmp_path / "cells.pcapng", ports=4)
    assert (fast.cells_read, fast.cells_in, fast.cells_out) == (len(a) + len(c),) * 3
    assert fast.conserved and fast.cells_dropped == 0 and fast.vcs == 3
    assert fast.inputs == {"adapter0<->switch:0 port 0": 0, "adapter0<->switch:0 port 1": 1}
    recorded = replay_cells(tmp_path / "cells.pcapng", ports=4, pace=RECORDED)
    assert recorded.cells_out == fast.cells_out
    # Back to back, the longer line needs as many slots as it has cells (plus the fabric's latency);
    # at the recorded pace the cells keep their spacing of 10 slots (the last one sent at slot 5 + 10 x 41,
    # give or take the rounding of slot -> ns -> slot).
    assert fast.slots < max(len(a), len(c)) + 10
    assert 5 + 10 * (len(c) - 1) <= recorded.slots <= 5 + 10 * (len(c) - 1) + 10
