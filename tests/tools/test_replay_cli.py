"""atmemu replay, through tools.cli.main as a user runs it: the comparison table and JSON with the exit code
that says equal (0) or different (1), bad inputs (2), --cells through the fabric, and the golden modes.

The emulated network is the driver's business (captures.replay.SwitchNodeDriver); here a stand-in driver
records chosen answers, so the command's own work (reading, comparing, printing, exit codes) is what is
tested, whatever the emulator does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import captures.replay as replay_module
from captures.exchange import read_exchanges
from captures.recorder import Recorder
from captures.replay import DriverRun
from captures.synth import SignallingWriter
from captures.taps import CellTap
from firmware.uni import builders as b
from hw.aal5 import segment
from hw.clock import Clock
from tools import cli
from tools.commands import replay as replay_command

LEAF = "+4930001"


def write_capture(path: Path) -> Path:
    with Recorder(path, Clock("OC-3c")) as rec:
        link = rec.link("root", "switch:0")
        w = SignallingWriter(rec)
        w.establish(link, 0)
        w.message(link, "user", b.Setup(1, called=LEAF), 10)
        w.message(link, "network", b.CallProceeding(1), 20)
        w.message(link, "network", b.Connect(1), 30)
        w.message(link, "user", b.ConnectAcknowledge(1), 40)
        w.message(link, "user", b.AddParty(1, 1, "+4930002"), 50)
        w.message(link, "network", b.AddPartyReject(1, 1, cause=17), 60)
    return path


class StandIn:
    """Records the capture's own answers (or, with ``cause``, the ADD PARTY REJECT with another cause)."""

    cause: int | None = None
    runs: list = []
    name = "stand-in"

    def run(self, script, *, pace, capture):
        StandIn.runs.append((script.link, pace))
        originals = [f.message for f in read_exchanges(script.source)[script.link].messages("network")]
        with Recorder(capture, Clock("OC-3c")) as rec:
            link = rec.link("driver", "node:0")
            w = SignallingWriter(rec)
            w.establish(link, 0)
            for i, octets in enumerate(originals):
                if i == 2 and StandIn.cause is not None:
                    octets = bytes(b.AddPartyReject(1, 1, cause=StandIn.cause))
                w.message(link, "network", octets, 10 + i)
        return DriverRun(capture, "driver<->node:0")


@pytest.fixture
def stand_in(monkeypatch):
    StandIn.cause, StandIn.runs = None, []
    monkeypatch.setattr(replay_module, "SwitchNodeDriver", StandIn)
    return StandIn


def test_equal_answers_exit_0_with_a_table(tmp_path, capsys, stand_in):
    path = write_capture(tmp_path / "c.pcapng")
    assert cli.main(["replay", str(path), "--plain", "--pace", "recorded"]) == 0
    out = capsys.readouterr().out
    assert "link root<->switch:0, user side replayed (recorded pace), 3 messages sent, 3 answers expected, 3 got" in out
    assert "equal: 3 answers as in the capture" in out
    assert stand_in.runs == [("root<->switch:0", "recorded")]
    lines = out.splitlines()[1:-1]
    assert [line.split()[1] for line in lines] == ["\u2192", "=", "=", "\u2192", "\u2192", "="]


def test_the_rich_table_on_a_terminal(tmp_path, capsys, stand_in, monkeypatch):
    stand_in.cause = 21
    monkeypatch.setattr(replay_command, "_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "240")  # one table row a line
    path = write_capture(tmp_path / "c.pcapng")
    assert cli.main(["replay", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Expected (capture)" in out and "Got (emulator)" in out
    assert "cause 17 user busy" in out and "cause 21" in out and "causes" in out
    assert "DIFFERENT: 1 differ, 0 missing, 0 extra (2 as in the capture)" in out


def test_a_different_cause_exits_1_and_names_the_field(tmp_path, capsys, stand_in):
    stand_in.cause = 21
    path = write_capture(tmp_path / "c.pcapng")
    assert cli.main(["replay", str(path), "--plain"]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT: 1 differ, 0 missing, 0 extra (2 as in the capture)" in out
    row = [line for line in out.splitlines() if "\u2260" in line]
    assert len(row) == 1 and "cause 17" in row[0] and "cause 21" in row[0] and "[causes]" in row[0]


def test_json_document(tmp_path, capsys, stand_in):
    stand_in.cause = 21
    path = write_capture(tmp_path / "c.pcapng")
    assert cli.main(["replay", str(path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"equal": False, "same": 2, "differs": 1, "missing": 0, "extra": 0, "sent": 3}
    assert doc["link"] == "root<->switch:0" and doc["replayed"] == "user" and doc["pace"] == "fast"
    differs = [r for r in doc["rows"] if r["status"] == "differs"]
    assert differs[0]["fields"] == ["causes"] and differs[0]["got"]["causes"] == [21]
    assert doc["leaves"]["+4930002"]["kind"] == "reject" and doc["leaves"]["+4930002"]["cause"] == 17


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    assert cli.main(["replay", str(tmp_path / "missing.pcapng")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["replay", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    (tmp_path / "junk.pcap").write_bytes(b"not a capture at all")
    assert cli.main(["replay", str(tmp_path / "junk.pcap")]) == 2
    assert "magic" in capsys.readouterr().err
    assert cli.main(["replay"]) == 2
    assert "a capture file" in capsys.readouterr().err
    path = write_capture(tmp_path / "c.pcapng")
    assert cli.main(["replay", str(path), "--link", "nowhere"]) == 2
    assert "no signalling on link 'nowhere' (links: root<->switch:0)" in capsys.readouterr().err
    assert cli.main(["replay", "--golden", str(path)]) == 2


def test_cells_through_the_fabric(tmp_path, capsys):
    path = tmp_path / "cells.pcapng"
    cells = segment(bytes(4800), 1, 32)
    with Recorder(path, Clock("OC-3c")) as rec:
        CellTap(rec, rec.link("adapter0", "switch:0"), vcs=[(1, 32)])("adapter0->switch:0", cells,
                                                                        np.arange(len(cells)))
    assert cli.main(["replay", "--cells", str(path), "--json", "--ports", "4"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["cells_read"], doc["cells_in"], doc["cells_out"], doc["cells_dropped"]) == (len(cells),) * 3 + (0,)
    assert doc["conserved"] and doc["cells_per_second"] > 0
    assert cli.main(["replay", "--cells", str(path), "--ports", "1"]) == 2


def test_golden_modes(tmp_path, monkeypatch, capsys, stand_in):
    monkeypatch.setattr(replay_command.golden_captures, "GOLDEN_DIR", tmp_path / "golden")
    assert cli.main(["replay", "--golden"]) == 2
    assert "no golden captures" in capsys.readouterr().err
    monkeypatch.setattr(replay_command, "record_scenario", lambda scenario, capture: write_capture(capture))
    assert cli.main(["replay", "--update-golden"]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'golden' / 'default.pcapng'}\n"
    assert cli.main(["replay", "--golden"]) == 0
    assert capsys.readouterr().out == "default.pcapng: equal: 3 answers as in the capture\n"
    assert stand_in.runs[-1] == ("root<->switch:0", "recorded")
    stand_in.cause = 31
    assert cli.main(["replay", "--golden"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("default.pcapng: DIFFERENT: 1 differ") and "cause 31" in out
