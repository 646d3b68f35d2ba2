"""`atmemu run`: the default scenario end to end (the MCM as root on the emulated adapter, the switch node,
15 leaves), as a user sees it through the command: outcomes per party with their NDIS statuses, frames
per leaf, the rule checker's verdict, the files written, the exit codes (0 ok, 1 a check failed, 2 bad
input); the scenario format's round trip; the run's capture read by tshark."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from pathlib import Path

import pytest

from cm.ndis.cause_status import completion_status
from cm.ndis.status import NDIS_STATUS, status_name
from tools.cli import main as atmemu
from tools.scenario import default_scenario, default_text, loads
from tools.scenario import model as m


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = atmemu(argv)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    rc, stdout, stderr = run_cli(["run", "--json", "--out", str(out)])
    return rc, json.loads(stdout), out


def expected_frames(s: m.Scenario) -> dict[int, int]:
    """Frames each leaf should get, from the scenario alone: a frame sent at script time t reaches the
    leaves that accepted (alerting ones after their delay; one that drops by itself until it does) and
    that the script has not dropped yet. Signalling takes well under a millisecond here."""
    t = 0.0
    joined: dict[int, float] = {}
    left: dict[int, float] = {}
    got = {leaf.port: 0 for leaf in s.leaves}
    for step in s.script:
        if isinstance(step, (m.MakeCall, m.AddParty)):
            leaf = s.leaf(step.leaf)
            if leaf.behaviour in (m.REJECT, m.SILENT):
                continue
            delay = (leaf.alert_delay_ms or 0) / 1000 if leaf.behaviour == m.ALERT_THEN_ACCEPT else 0.0
            joined[leaf.port] = t + delay
            if leaf.behaviour == m.DROP_AFTER:
                left[leaf.port] = t + delay + leaf.after_ms / 1000
        elif isinstance(step, m.DropParty):
            left.setdefault(step.leaf, t)
        elif isinstance(step, m.Wait):
            t += step.ms / 1000
        elif isinstance(step, m.SendFrames):
            for k in range(step.count):
                at = t + k * step.spacing_us / 1e6
                for port, since in joined.items():
                    if since < at and at < left.get(port, float("inf")):
                        got[port] += 1
            t += step.count * step.spacing_us / 1e6
    return got


def test_the_default_scenario_ends_as_it_says(default_run):
    rc, summary, out = default_run
    s = default_scenario()
    assert rc == 0, summary["failures"]
    assert summary["ok"] and summary["failures"] == []
    parties = {p["leaf"]: p for p in summary["parties"]}
    assert sorted(parties) == sorted(s.leaf_ports)
    # one NdisClAddParty (or the make-call) per leaf, each completed exactly once
    assert all(p["add_completions"] == 1 for p in parties.values())
    rejecting = next(leaf for leaf in s.leaves if leaf.behaviour == m.REJECT)
    r = parties[rejecting.port]
    assert r["outcome"] == "rejected" and r["cause"] == rejecting.cause == 21
    assert r["ndis_status"] == status_name(completion_status(21))
    silent = next(leaf for leaf in s.leaves if leaf.behaviour == m.SILENT)
    assert parties[silent.port]["outcome"] == "timed-out"  # the root's T399 (6 s), before the switch's 2 x T303
    assert parties[silent.port]["ndis_status"] == status_name(NDIS_STATUS.REQUEST_ABORTED)
    alerting = next(leaf for leaf in s.leaves if leaf.behaviour == m.ALERT_THEN_ACCEPT)
    assert parties[alerting.port]["alerted"] and parties[alerting.port]["outcome"] == "active"
    leaving = next(leaf for leaf in s.leaves if leaf.behaviour == m.DROP_AFTER)
    assert parties[leaving.port]["outcome"] == "active" and parties[leaving.port]["ended"] == "left"
    dropped = {step.leaf for step in s.script if isinstance(step, m.DropParty)}
    for port, p in parties.items():
        if p["outcome"] == "active" and port != leaving.port:
            assert p["ended"] == ("dropped" if port in dropped else "closed"), (port, p)
            assert p["ndis_status"] == "NDIS_STATUS_SUCCESS"
    # endpoint references: 0 for the make-call's party, then one new one per add
    assert sorted(p["endpoint_ref"] for p in parties.values()) == list(range(len(parties)))
    assert summary["rule_violations"] == [] and summary["counters_balanced"]
    assert [c["phase"] for c in summary["calls"]] == ["closed"]


def test_every_leaf_gets_exactly_the_frames_sent_while_it_was_a_party(default_run):
    _, summary, _ = default_run
    want = expected_frames(default_scenario())
    got = {int(k): v for k, v in summary["frames_per_leaf"].items()}
    assert {p: f["expected"] for p, f in got.items()} == want
    assert {p: f["received"] for p, f in got.items()} == want
    assert all(f["match"] and not f["errors"] for f in got.values())
    # the leaves that never joined switched nothing but their signalling; the others 32 cells a frame
    cells = summary["cells_switched_per_port"]
    for port, n in want.items():
        assert n * 32 <= cells[str(port)] < n * 32 + 100, (port, n, cells[str(port)])
    assert cells["control"] > 0  # the signalling the switch's CPU received
    assert summary["cells_switched"] == sum(cells.values())


def test_the_files_written(default_run):
    _, summary, out = default_run
    assert summary["captures"] == [str(out / "capture.pcapng")]
    assert json.loads((out / "summary.json").read_text())["parties"] == summary["parties"]
    from matplotlib.image import imread

    picture = imread(out / "ladder.png")
    assert picture.shape[0] > 2000 and picture.shape[1] > 1500  # one lifeline per party, a row per event
    assert summary["tshark"].startswith(f"tshark -r {out / 'capture.pcapng'}")


def test_print_default_is_the_default_scenario(tmp_path):
    rc, text, _ = run_cli(["run", "--print-default"])
    assert rc == 0 and text == default_text()
    assert loads(text) == default_scenario()
    rc, _, _ = run_cli(["run", "--print-default", "--out", str(tmp_path / "never")])
    assert rc == 0 and not (tmp_path / "never").exists()


def test_a_bad_key_is_bad_input_naming_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(default_text().replace("buffer_cells = 4096", "buffer_cellz = 4096"))
    rc, _, err = run_cli(["run", str(bad), "--out", str(tmp_path / "out")])
    assert rc == 2
    assert "topology.buffer_cellz" in err and "buffer_cells" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    rc, _, err = run_cli(["run", str(tmp_path / "missing.toml")])
    assert rc == 2 and "missing.toml" in err


LOSSY = """
name = "lossy"
leaves = [{ port = 1, behaviour = "accept" }, { port = 2, behaviour = "accept" }]
script = [
  { make_call = { leaf = 1, pcr = 100000 } },
  { add_party = { leaf = 2 } },
  { wait_ms = 3000 },
  { send_frames = { count = 40, size = 1500, spacing_us = 500 } },
  { wait_ms = 100 },
  { close_call = {} },
]
[topology]
ports = 4
[faults.leaf2]
cell_loss = 0.05
[capture]
cells = true
max_cells = 300
pcap = true
"""


def test_a_leaf_that_misses_frames_fails_the_run(tmp_path):
    """Cells lost on leaf 2's line: its frames do not all arrive, the run says so and exits 1 (the
    signalling got through: SSCOP retransmits what the line lost)."""
    path = tmp_path / "lossy.toml"
    path.write_text(LOSSY)
    rc, stdout, _ = run_cli(["run", str(path), "--json", "--no-ladder", "--out", str(tmp_path / "out")])
    summary = json.loads(stdout)
    assert rc == 1 and not summary["ok"]
    frames = summary["frames_per_leaf"]
    assert frames["1"] == {"expected": 40, "received": 40, "match": True, "errors": {}, "lost": 0}
    assert frames["2"]["expected"] == 40 and frames["2"]["received"] < 40 and not frames["2"]["match"]
    assert frames["2"]["lost"] == 40 - frames["2"]["received"]  # the line lost them: none arrived twice
    assert summary["call_cells"]["dropped"] == {}  # not the fabric: the leaf's line
    assert frames["2"]["errors"]  # the damaged frames were discarded and counted
    assert any(f.startswith("leaf 2: received") for f in summary["failures"])
    assert summary["counters_balanced"] and summary["rule_violations"] == []
    assert summary["ladder"] is None
    # cells were recorded, bounded, and the classic pcap exports are listed with the capture
    assert summary["captures"][0].endswith("capture.pcapng") and len(summary["captures"]) > 1
    assert all(Path(p).stat().st_size > 24 for p in summary["captures"])


_spec = importlib.util.spec_from_file_location(
    "tshark_signalling_cases", Path(__file__).parents[1] / "captures" / "test_tshark_signalling.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)


@pytest.mark.tshark
def test_the_runs_capture_decodes_clean_with_its_ndis_comments(tshark, default_run):
    _, summary, out = default_run
    frames = cases.tshark_fields(tshark, out / "capture.pcapng",
                                 ["frame.interface_name", "frame.comment", "atm.channel", "q2931.message_type",
                                  "q2931.endpoint_reference.identifier_value", *cases.PROBLEM_FIELDS])
    assert frames
    quirks = set(cases.PAST_THE_END_QUIRKS.values())
    for frame in frames:
        assert "_ws.malformed" not in frame, frame
        experts = set(frame.get("_ws.expert.message", [])) - set(frame.get("frame.comment", []))
        assert experts <= quirks, frame  # nothing but tshark 4.0's documented quirks
    adds = [f for f in frames if f.get("q2931.message_type") == ["0x80"]]  # ADD PARTY (Q.2971)
    assert len(adds) == len(default_scenario().leaves) - 1
    leaf_of = {p["endpoint_ref"]: p["leaf"] for p in summary["parties"]}
    for f in adds:  # sent by the root (DTE->DCE), with the NDIS call that made the MCM send it
        assert f["atm.channel"] == ["0"]
        epref = int(f["q2931.endpoint_reference.identifier_value"][0], 0)
        assert f["frame.comment"] == [f"NdisClAddParty party={epref} leaf={leaf_of[epref]}"]
    links = {f["frame.interface_name"][0] for f in frames}
    assert links == {"switch:0<->atm0"} | {f"switch:{p}<->leaf{p}" for p in default_scenario().leaf_ports}


# ------------------------------------------------------------------------------------------ exit codes
def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


REFUSED_THEN_ADD = """
name = "refused"
leaves = [{ port = 1, behaviour = "reject", cause = 21 }, { port = 2 }]
script = [
  { make_call = { leaf = 1, pcr = 10000 } },
  { add_party = { leaf = 2 } },
]
[topology]
ports = 3
"""


def test_a_step_the_network_made_impossible_is_a_failed_check_not_bad_input(tmp_path):
    """The first leaf refuses the call: the add that follows cannot be made. The file was fine, the
    network said no: exit 1, the summary names the step, the rest of the run settles cleanly."""
    rc, stdout, err = run_cli(["run", str(_scenario(tmp_path, REFUSED_THEN_ADD)), "--json", "--no-ladder",
                               "--out", str(tmp_path / "out")])
    assert rc == 1, err
    summary = json.loads(stdout)
    assert [(p["leaf"], p["outcome"], p["cause"]) for p in summary["parties"]] == [(1, "rejected", 21)]
    assert summary["failures"] == ["script[1] add_party: add_party on a call that is failed (the make_call failed "
                                   "or the call was closed): the rest of the script was not run"]
    assert summary["counters_balanced"] and summary["rule_violations"] == []


UNREACHABLE_LEAF = """
name = "unreachable"
leaves = [{ port = 1 }, { port = 2 }]
script = [
  { make_call = { leaf = 1, pcr = 10000 } },
  { add_party = { leaf = 2 } },
  { wait_ms = 100 },
  { close_call = {} },
]
[topology]
ports = 3
[faults.leaf2]
down = [{ down_ms = 0 }]
[timers]
T399 = 2.0
"""


def test_a_party_that_ends_otherwise_than_its_leaf_says_fails_the_run(tmp_path):
    """Leaf 2 accepts, but its line is down: its party does not become active, and the run says that
    this is not what the scenario's leaf would have done (exit 1)."""
    rc, stdout, _ = run_cli(["run", str(_scenario(tmp_path, UNREACHABLE_LEAF)), "--json", "--no-ladder",
                             "--out", str(tmp_path / "out")])
    summary = json.loads(stdout)
    assert rc == 1
    outcome = {p["leaf"]: p["outcome"] for p in summary["parties"]}
    assert outcome[1] == "active" and outcome[2] != "active"
    assert [f for f in summary["failures"] if f.startswith("leaf 2 ")] == [
        next(f for f in summary["failures"] if f.startswith("leaf 2 ") and "but the leaf is accept: expected active" in f)]


@pytest.mark.parametrize("edit, names", [
    (lambda t: t.replace('model = "none"  #', 'model = "uniformm"  #'), "traffic.model"),
    (lambda t: t.replace("load = 0.0 ", "load = 1.5 "), "traffic.load"),
])
def test_bad_values_are_bad_input(tmp_path, edit, names):
    text = edit(default_text())
    assert text != default_text()
    rc, _, err = run_cli(["run", str(_scenario(tmp_path, text)), "--out", str(tmp_path / "out")])
    assert rc == 2 and names in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_file_that_cannot_be_read_is_bad_input(tmp_path):
    rc, _, err = run_cli(["run", str(tmp_path), "--out", str(tmp_path / "out")])  # a directory
    assert rc == 2 and str(tmp_path) in err and "Traceback" not in err
