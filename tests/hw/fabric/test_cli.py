"""atmemu throughput and atmemu regs, as a user runs them."""

from __future__ import annotations

import json

import pytest

from hw.fabric.errors import FabricConfigError
from tools.cli import main
from tools.commands.throughput import parse_loads, run_sweep, template_from
from hw.fabric.experiment import sweep_points


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["-q", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_load_ranges():
    assert parse_loads("0.9") == [0.9]
    assert parse_loads("0.1:0.3:0.1") == [0.1, 0.2, 0.3]
    assert parse_loads("0.5,0.7") == [0.5, 0.7]
    for bad in ("x", "0.1:0.5", "0.5:0.1:0.1", "1.5", "0.1:0.9:0"):
        with pytest.raises(FabricConfigError):
            parse_loads(bad)


def test_bad_input_exits_2(capsys):
    code, _, err = run_cli(capsys, "throughput", "--load", "2")
    assert code == 2 and "--load" in err
    code, _, err = run_cli(capsys, "throughput", "--ports", "300")
    assert code == 2 and "--ports" in err


def test_json_point_has_the_promised_fields_and_adds_up(capsys):
    code, out, _ = run_cli(capsys, "throughput", "--ports", "4", "--arch", "iq-fifo", "--load", "0.95",
                           "--slots", "5000", "--buffers", "64", "--json")
    assert code == 0
    (line,) = out.strip().splitlines()
    r = json.loads(line)
    for key in ("ports", "arch", "load", "slots", "throughput", "mean_delay", "p99_delay", "loss_ratio",
                "offered", "delivered", "dropped", "queued_at_end"):
        assert key in r, key
    assert r["arch"] == "iq-fifo" and r["ports"] == 4 and r["load"] == 0.95
    assert r["offered"] == r["delivered"] + sum(r["dropped"].values()) + r["queued_at_end"]
    assert r["dropped"]["queue_full"] + r["dropped"]["memory_full"] > 0  # HOL blocking at 0.95 overflows
    assert 0.5 < r["throughput"] < 0.7


def test_sweep_results_do_not_depend_on_the_number_of_workers():
    class Args:
        ports, arch, traffic, slots, warmup, seed, iterations, batches = 6, "voq-pim", "bursty", 4000, 400, 5, 2, 10
        buffers = queue_limit = clp_threshold = epd_threshold = 0
        multicast_fraction, fanout, burst, hot_port, hot_fraction, clp, epd, ppd = 0.3, 3, 8.0, 0, 0.5, 0.1, True, True

    points = sweep_points(template_from(Args), [0.4, 0.7, 0.9], base_seed=5)
    one = run_sweep(points, workers=1)
    two = run_sweep(points, workers=2)
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("elapsed_s", "input_cells_per_s")} for r in rs]
    assert strip(one) == strip(two)
    assert [r["load"] for r in one] == [0.4, 0.7, 0.9]
    assert len({r["seed"] for r in one}) == 3  # each point its own stream


def test_plot_is_written(tmp_path, capsys):
    png = tmp_path / "sweep.png"
    code, out, _ = run_cli(capsys, "throughput", "--ports", "4", "--load", "0.5", "--slots", "3000",
                           "--plot", str(png))
    assert code == 0 and "throughput" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_regs_prints_the_fabric_map(capsys):
    code, out, _ = run_cli(capsys, "regs", "fabric")
    assert code == 0
    assert out.startswith("# Switch fabric register map")
    assert "### VC.KEY (+0x08" in out and "DROP_OUT_PPD" in out
    code, out, _ = run_cli(capsys, "regs", "--list")
    assert code == 0 and "fabric" in out.split()
    code, _, err = run_cli(capsys, "regs", "no-such-device")
    assert code == 2
