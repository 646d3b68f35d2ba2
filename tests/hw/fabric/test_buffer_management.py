"""Buffer management as a switch designer sees it: what each discard policy does to AAL5 goodput and
to CLP=1 cells (switch-models.md, "Buffer management for AAL5 traffic")."""

from __future__ import annotations

from hw.fabric.experiment import Experiment, run

# 8 ports, half of every input's cells to output 0, 1500-octet IP packets (32 cells): output 0 is
# offered 0.3 x (0.5 x 8 + 0.5) = 1.35 cells per slot and must discard a quarter of them. 1e5 slots:
# ~5000 frames reach output 0, so the goodput shares below are known to about 1 %.
HOT = dict(ports=8, arch="oq", traffic="hotspot", load=0.3, hot_fraction=0.5, slots=100_000, warmup=10_000,
           seed=4, frame_sizes=((1500, 1.0),), buffers=8192, queue_limit=256, epd_threshold=128)


def test_epd_beats_ppd_beats_plain_tail_drop_on_goodput():
    tail = run(Experiment(**HOT))
    ppd = run(Experiment(**HOT, ppd=True))
    epd = run(Experiment(**HOT, epd=True))
    # the link carries the same number of cells whatever the policy...
    for r in (ppd, epd):
        assert abs(r["throughput"] - tail["throughput"]) < 0.005
    # ...but the share of them that belong to whole frames differs: Romanow & Floyd (1995)
    assert tail["goodput_share"] < 0.7
    assert ppd["goodput_share"] > tail["goodput_share"] + 0.1
    assert epd["goodput_share"] > ppd["goodput_share"] + 0.05
    assert epd["frames_bad"] == 0  # EPD refuses whole frames: nothing half-delivered
    assert epd["dropped"]["epd"] > 0 and epd["dropped"]["queue_full"] == 0
    assert ppd["dropped"]["ppd"] > ppd["dropped"]["queue_full"] > 0
    assert tail["dropped"]["queue_full"] > 0 and tail["dropped"]["ppd"] == tail["dropped"]["epd"] == 0


def test_clp_selective_discard_protects_clp0_cells():
    # output 0 is offered 0.25 x (0.5 x 8 + 0.5) = 1.125 cells per slot, half of them CLP=1; the
    # CLP=0 half alone (0.56) fits, so with a CLP threshold every loss should fall on CLP=1 cells
    base = dict(ports=8, arch="oq", traffic="hotspot", load=0.25, hot_fraction=0.5, slots=50_000, warmup=5_000,
                seed=8, buffers=4096, queue_limit=200, clp=0.5)
    plain = run(Experiment(**base))
    selective = run(Experiment(**base, clp_threshold=100))
    assert plain["dropped"]["queue_full"] > 0 and plain["dropped"]["clp_discard"] == 0
    assert selective["dropped"]["clp_discard"] > 0 and selective["dropped"]["queue_full"] == 0
    # the same overload is shed either way
    assert abs(selective["loss_ratio"] - plain["loss_ratio"]) < 0.01
