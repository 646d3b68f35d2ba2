"""The cell-level demonstration (tools/cell_demo.py, a library since `atmemu run` runs scenarios): its checks
hold, and they can fail."""

from __future__ import annotations

from tools.cell_demo import CellDemoOptions, run_cell_demo


def test_clean_line_delivers_every_frame_identical():
    r = run_cell_demo(CellDemoOptions(frames=300, ber=0.0, slip_after_cells=None, seed=3))
    assert r.ok
    assert r.frames_delivered == r.frames_identical == 300
    delineation = next(s for s in r.stages if s.name == "cell delineation")
    assert delineation.counters["sync_lost"] == 0


def test_bit_slip_and_bit_errors_lose_frames_but_every_stage_balances():
    r = run_cell_demo(CellDemoOptions(frames=600, ber=2e-5, slip_after_cells=4000, seed=5))
    stages = {s.name: s for s in r.stages}
    assert all(s.balanced for s in r.stages), [s.name for s in r.stages if not s.balanced]
    assert stages["cell delineation"].counters["sync_lost"] == 1  # the slip, found again
    assert stages["HEC receiver"].counters["corrected"] > 0
    assert stages["AAL5 reassembly"].counters["crc_errors"] > 0
    assert 0 < r.frames_delivered < 600
    assert r.frames_mismatched == 0 and r.frames_identical == r.frames_delivered


def test_same_seed_same_counters():
    a = run_cell_demo(CellDemoOptions(frames=200, ber=1e-5, seed=9))
    b = run_cell_demo(CellDemoOptions(frames=200, ber=1e-5, seed=9))
    assert [s.counters for s in a.stages] == [s.counters for s in b.stages]
