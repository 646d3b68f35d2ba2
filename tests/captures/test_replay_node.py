"""Replay against the emulator itself: a run of the emulated network (switch node, root and leaves over the
whole stack) is recorded by the recorder's taps, and replaying its root's side against a fresh switch -
or the network's side of a leaf's UNI against a fresh leaf - gets the same answers, at both paces. A
capture whose leaf answered otherwise than the emulated one does shows the difference."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("firmware.switch.node") is None,
                                reason="firmware.switch.node is not in this tree")

from captures.compare import DIFFERS, SAME  # noqa: E402
from captures.exchange import read_exchanges  # noqa: E402
from captures.pcap import pcapng_to_pcap  # noqa: E402
from captures.recorder import Recorder  # noqa: E402
from captures.replay import FAST, NETWORK, RECORDED, replay  # noqa: E402
from captures.synth import SignallingWriter  # noqa: E402
from firmware.uni import builders as b  # noqa: E402


def record_run(path: Path) -> Path:
    """A root on port 0 calls leaf 1, adds leaves 2 (busy, cause 17), 3 (rings 0.5 s), 4 (accepts, leaves
    after 1 s), an unallocated number and one the switch has no route to; drops leaf 3; releases. Every
    UNI is tapped at both ends."""
    from firmware.endpoint.leaf import LeafBehaviour
    from firmware.network import Network

    net = Network(5)
    with Recorder(path, net.clock, comment="emulated run") as rec:
        root = net.add_root(0)  # a station sends its BGN as it is made, before its tap: the capture starts later
        rl = rec.link("root", "switch:0", user="root")
        rec.tap_signalling(rl, root.saal)
        rec.tap_signalling(rl, net.node.saal[0])
        for port, behaviour in ((1, None), (2, LeafBehaviour.reject(17)), (3, LeafBehaviour.alert(0.5)),
                                (4, LeafBehaviour.accept(drop_after=1.0))):
            leaf = net.add_leaf(port, behaviour)
            link = rec.link(f"switch:{port}", f"leaf{port}", user=f"leaf{port}")
            rec.tap_signalling(link, net.node.saal[port])
            rec.tap_signalling(link, leaf.saal)
        s = net.script()
        s.wait(0.01)
        s.make_call(1)
        s.wait(0.05)
        for port in (2, 3, 4):
            s.add_party(port)
        s.add_party(bytes.fromhex("39840f80113744000000000009") + bytes(7))  # in the domain, on no port: 1
        s.add_party(bytes.fromhex("47000580ffe1000000f21a0001") + bytes(7))  # outside the domain: cause 3
        s.wait(2.0)
        s.drop_party(3)
        s.wait(0.1)
        s.close_call()
        s.wait(0.5)
        net.check()
    return path


@pytest.fixture(scope="module")
def run_capture(tmp_path_factory) -> Path:
    return record_run(tmp_path_factory.mktemp("node") / "run.pcapng")


@pytest.mark.parametrize("pace", [FAST, RECORDED])
def test_the_roots_side_of_an_emulated_run_replays_the_same(run_capture, tmp_path, pace):
    result = replay(run_capture, pace=pace, output=tmp_path / "replay.pcapng")
    assert result.equal, [(r.status, r.expected and r.expected.text(), r.got and r.got.text())
                          for r in result.comparison.differences]
    answers = [r.expected.message for r in result.comparison.rows if r.status == SAME]
    assert answers == ["CALL PROCEEDING", "CONNECT", "ADD PARTY REJECT", "ADD PARTY REJECT", "PARTY ALERTING",
                       "ADD PARTY REJECT", "ADD PARTY ACKNOWLEDGE", "ADD PARTY ACKNOWLEDGE", "DROP PARTY",
                       "DROP PARTY ACKNOWLEDGE", "RELEASE COMPLETE"]
    # The leaves were rebuilt from the capture: busy, ringing, leaving after a second; the unallocated
    # number in the switch's domain on no port, the other outside it (the switch answers 1 and 3 itself).
    notes = "\n".join(result.run.notes)
    assert "reject, cause 17" in notes and "alert, ringing 0.5 s" in notes and "drop after 1 s cause 16" in notes
    rejects = [r.got.causes for r in result.comparison.rows if r.status == SAME and r.got.message == "ADD PARTY REJECT"]
    assert sorted(rejects) == [(1,), (3,), (17,)]
    # The replay's own recording holds the root's UNI and one UNI per leaf.
    assert set(read_exchanges(tmp_path / "replay.pcapng").links) == {
        "switch:0<->root", "switch:1<->leaf1", "switch:2<->leaf2", "switch:3<->leaf3", "switch:4<->leaf4"}


def test_a_root_only_classic_pcap_replays_the_same(run_capture, tmp_path):
    """Only the root's UNI, as a pcap without interface names: the leaves come from the root's view."""
    pcap = tmp_path / "root.pcap"
    pcapng_to_pcap(run_capture, pcap, interface="root<->switch:0")
    result = replay(pcap)
    assert result.script.link == "if0"
    assert result.equal and result.comparison.counts[SAME] == 11


@pytest.mark.parametrize("link", ["switch:2<->leaf2", "switch:3<->leaf3", "switch:4<->leaf4"])
def test_the_networks_side_of_a_leafs_uni_replays_the_same(run_capture, link):
    result = replay(run_capture, side=NETWORK, link=link)
    assert result.script.sent_by == "network" and result.script.steps
    assert result.equal and result.comparison.counts[SAME] == len(result.script.expected) > 0


def test_a_leaf_that_answered_otherwise_shows_as_a_difference(run_capture, tmp_path):
    """The capture's root link as recorded, but leaf 2's UNI says it refused with cause 21 (call rejected),
    not 17: the emulated leaf does as its UNI says, the switch passes 21 on, the capture says 17."""
    mixed = tmp_path / "mixed.pcapng"
    exchanges = read_exchanges(run_capture)
    from hw.clock import Clock

    with Recorder(mixed, Clock("OC-3c")) as rec:
        root = rec.link("root", "switch:0", user="root")
        for f in exchanges["root<->switch:0"].frames:
            rec.record_signalling(root, f.sent_by, f.sdu, f.time_ns * 353_208 // 10**9)
        leaf = rec.link("switch:2", "leaf2", user="leaf2")
        w = SignallingWriter(rec)
        w.establish(leaf, 0)
        offer = exchanges["switch:2<->leaf2"].messages("network")[0]
        slot = offer.time_ns * 353_208 // 10**9
        w.message(leaf, "network", offer.message, slot)
        w.message(leaf, "user", b.ReleaseComplete(offer.summary.call_ref, 21, flag=1), slot + 3)
    result = replay(mixed)
    diffs = result.comparison.differences
    assert [(r.status, r.fields) for r in diffs] == [(DIFFERS, ("causes",))]
    assert (diffs[0].expected.causes, diffs[0].got.causes) == ((17,), (21,))
    assert not result.equal


def test_the_command_on_an_emulated_run(run_capture, tmp_path, capsys):
    from tools import cli

    saved = tmp_path / "kept.pcapng"
    assert cli.main(["replay", str(run_capture), "--plain", "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("equal: 11 answers as in the capture")
    assert saved.exists() and "switch:0<->root" in read_exchanges(saved).links
    assert cli.main(["replay", str(run_capture), "--side", "network", "--link", "switch:3<->leaf3", "--json"]) == 0
    assert '"equal": true' in capsys.readouterr().out
