"""The fabric against switching theory (reference/switch-models.md).

Delay is the queueing delay of a copy in slots, departure slot minus arrival slot, where a copy that
finds its queue empty leaves in its arrival slot: Karol, Hluchyj and Morgan's waiting time W (IEEE
Trans. Commun. 35(12), 1987), which excludes the slot of transmission itself.

Tolerances. A mean from a simulation is compared with theory within 4 standard errors, estimated by
the method of batch means (20 batches, each thousands of times longer than the correlation time of
the queues at these loads), so a correct model fails about once in 16 000 runs; each test also
requires that standard error to be small (stated per test) so that the comparison has teeth: a
model off by a few per cent fails. Runs are seeded, so the tests are reproducible.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hw.fabric.counters import LEAF_LOST, LEAF_MISORDERED, LEAF_OUT, TX_CELLS, VC_IN_CELLS
from hw.fabric.experiment import Experiment, run
from hw.fabric.memory import queue_nodes
from hw.fabric.stats import batch_standard_error

KAROL_FIFO = {2: 0.7500, 4: 0.6553, 8: 0.6184}


def window_throughput_batches(exp: Experiment) -> tuple[float, float]:
    """Throughput (copies per output per slot) and its batch-means standard error."""
    fab = exp.build_fabric()
    fab.run(exp.warmup)
    N = exp.ports
    edges = exp.warmup + np.linspace(0, exp.slots - exp.warmup, exp.batches + 1).round().astype(int)
    means = []
    prev = fab.state.port_tx[:N, TX_CELLS].sum()
    for k in range(exp.batches):
        fab.run(int(edges[k + 1]))
        cur = fab.state.port_tx[:N, TX_CELLS].sum()
        means.append((cur - prev) / (N * (edges[k + 1] - edges[k])))
        prev = cur
    return float(np.mean(means)), batch_standard_error(np.array(means))


@pytest.mark.parametrize("p", [0.5, 0.8, 0.9])
def test_output_queueing_mean_delay_matches_karol(p):
    N = 16
    w = (N - 1) / N * p / (2 * (1 - p))
    # 3e5 slots (16 x p x 3e5 ~ 4e6 copies); at p = 0.9 the queue forgets its state in ~(1-p)^-2 =
    # 100 slots, far shorter than a batch (1.35e4 slots). The standard error comes out near 0.5 % of W.
    r = run(Experiment(ports=N, arch="oq", load=p, slots=300_000, warmup=30_000, seed=101))
    se = r["mean_delay_se"]
    assert se < 0.02 * w
    assert abs(r["mean_delay"] - w) < 4 * se, f"W={r['mean_delay']:.4f} +- {se:.4f}, theory {w:.4f}"
    assert abs(r["throughput"] - p) < 0.01  # output queueing carries the whole load
    assert r["loss_ratio"] == 0.0


@pytest.mark.parametrize("N", [2, 4, 8])
def test_input_fifo_saturation_throughput_matches_karol(N):
    # Every input always backlogged: load 1 and input buffers that stay full (arrivals beyond them
    # are dropped); the HOL cells' outputs are uniform and independent, contention is resolved at
    # random: exactly Karol's model. 1.5e5 slots give a standard error near 0.001.
    exp = Experiment(ports=N, arch="iq-fifo", load=1.0, slots=150_000, warmup=10_000, seed=7, buffers=64 * N)
    thr, se = window_throughput_batches(exp)
    assert se < 0.003
    assert abs(thr - KAROL_FIFO[N]) < max(4 * se, 0.002), f"N={N}: {thr:.4f} +- {se:.4f}"


def test_input_fifo_saturation_approaches_two_minus_root_two():
    limit = 2 - math.sqrt(2)
    got = {}
    for N, slots in ((8, 40_000), (32, 20_000), (128, 8_000)):
        exp = Experiment(ports=N, arch="iq-fifo", load=1.0, slots=slots, warmup=2_000, seed=9, buffers=32 * N)
        got[N], se = window_throughput_batches(exp)
        assert se < 0.003
    # decreasing towards the limit, roughly as 1/N (0.6184 at 8; about 0.59 at 32 and 128)
    assert got[8] > got[32] > got[128] > limit
    assert got[128] - limit < 0.006, got


def test_pim_one_iteration_saturation_throughput():
    N = 16
    theory = 1 - (1 - 1 / N) ** N  # 0.6439
    # Every VOQ must stay backlogged: 16384 cells per input (1024 per VOQ), filled during the
    # warm-up (at net 0.36 cells/slot, ~45 000 slots); a VOQ's length then wanders by about
    # sqrt(1e5 x 0.08) ~ 90 cells during the window, far from empty.
    exp = Experiment(ports=N, arch="voq-pim", load=1.0, slots=150_000, warmup=50_000, seed=5,
                     buffers=16384 * N, queue_limit=16384)
    thr, se = window_throughput_batches(exp)
    assert se < 0.003
    assert abs(thr - theory) < max(4 * se, 0.002), f"{thr:.4f} +- {se:.4f}, theory {theory:.4f}"


def test_islip_one_iteration_carries_a_099_uniform_load():
    N = 16
    r = run(Experiment(ports=N, arch="voq-islip", load=0.99, slots=400_000, warmup=100_000, seed=3,
                       buffers=4096 * N, queue_limit=4096))
    assert r["throughput"] >= 0.99 * 0.99, r["throughput"]
    assert r["loss_ratio"] < 0.001
    # and PIM with one iteration cannot: it saturates near 0.64 (the contrast that makes the test bite)
    r_pim = run(Experiment(ports=N, arch="voq-pim", load=0.99, slots=40_000, warmup=10_000, seed=3,
                           buffers=256 * N, queue_limit=256))
    assert r_pim["throughput"] < 0.7


@pytest.mark.parametrize("arch", ["oq", "iq-fifo", "voq-islip", "voq-pim"])
def test_multicast_every_leaf_gets_every_cell_once_in_order(arch):
    N = 8
    exp = Experiment(ports=N, arch=arch, traffic="uniform", load=0.3, slots=20_000, seed=17,
                     multicast_fraction=0.5, fanout=4, buffers=8192, queue_limit=8192)
    fab = exp.build_fabric()
    fab.run(exp.slots)
    s = fab.state
    v0, v1 = fab.traffic_vcs
    queued = np.zeros(fab.config.leaves, np.int64)
    for q in range(fab.config.queue_count):
        for _, leaf in queue_nodes(s, q):
            queued[leaf] += 1
    mc_leaves = 0
    for v in range(v0, v1):
        leaf = s.vc_head[v]
        while leaf != 0xFFFFFF:
            # every cell of the VC reached this leaf or is still queued for it, none twice, in order
            assert s.leaf_cnt[leaf, LEAF_OUT] + queued[leaf] == s.vc_cnt[v, VC_IN_CELLS]
            assert s.leaf_cnt[leaf, LEAF_LOST] == 0 and s.leaf_cnt[leaf, LEAF_MISORDERED] == 0
            mc_leaves += s.vc_head[v] != leaf or s.leaf_next[leaf] != 0xFFFFFF
            leaf = s.leaf_next[leaf]
    assert mc_leaves >= N * 4 * 4 * 0.5  # the multicast VCs were there and checked
    assert s.vc_cnt[v0:v1, VC_IN_CELLS].sum() > 0.25 * N * exp.slots
