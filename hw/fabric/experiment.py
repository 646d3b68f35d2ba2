"""Throughput experiments: one fabric, one traffic program, one load point, measured.

A run has a warm-up (slots whose statistics are discarded, so the queues reach their steady state)
and a measurement window cut into batches; the batch means of the delay give its standard error
(method of batch means, e.g. Law & Kelton, "Simulation modeling and analysis", 9.5.3).

Definitions of the figures (per load point):
- throughput: copies delivered per output per slot in the window (the issue's "throughput");
- offered_load: copies offered per output per slot in the window (load x mean fanout);
- mean_delay, p50/p99/p999_delay, max_delay: queueing delay in slots (see stats.py: Karol's W);
- cdv_2pt: two-point cell delay variation, the 1 - 10^-3 quantile minus the minimum delay
  (ITU-T I.356 8.2.2 defines 2-point CDV from the CTD quantiles);
- loss_ratio: dropped / offered copies in the window; dropped: per cause;
- offered / delivered / dropped / queued_at_end: whole-run counts, which add up
  (offered = delivered + sum(dropped) + queued_at_end);
- frames_ok / frames_bad: AAL5 frames the emulated leaves reassembled whole / broken;
  goodput: cells of whole frames per output per slot; goodput_share: their share of all delivered
  copies over the whole run.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Callable

import numpy as np

from hw.fabric.config import Arch, FabricConfig
from hw.fabric.counters import (
    LEAF_FRAMES_BAD,
    LEAF_FRAMES_OK,
    LEAF_GOOD_CELLS,
    LEAF_LOST,
    LEAF_MISORDERED,
    N_DROP,
    PORT_DROP_IN,
    PORT_RX_CELLS,
    PORT_RX_COPIES,
    TX_CELLS,
    TX_DELAY_SUM,
    Drop,
)
from hw.fabric.errors import FabricConfigError
from hw.fabric.fabric import Fabric
from hw.fabric.state import octets_per_buffered_cell, state_bytes
from hw.fabric.stats import batch_standard_error, bin_lower, minimum, percentile
from hw.fabric.traffic import Traffic, build, mean_fanout


@dataclass(frozen=True)
class Experiment:
    ports: int = 16
    arch: str = "oq"
    traffic: str = "uniform"
    load: float = 0.5
    slots: int = 100_000
    seed: int = 1
    iterations: int = 1
    warmup: int = 0  # slots before the measurement window
    batches: int = 20
    buffers: int = 0  # shared memory (cells); 0: 1024 per port
    queue_limit: int = 0  # QLIMIT of every port; 0: the whole memory (OQ), memory / N per input otherwise
    clp_threshold: int = 0  # 0: = queue limit
    epd_threshold: int = 0  # 0: = queue limit
    multicast_fraction: float = 0.0
    fanout: int = 4
    burst: float = 16.0
    hot_port: int = 0
    hot_fraction: float = 0.5
    clp: float = 0.0
    epd: bool = False
    ppd: bool = False
    frame_sizes: tuple = ()
    threads: int = 1  # 2: the fabric's traffic sources and accounting on a second thread (same results)
    block: int = 1024  # slots generated ahead at a time (and the two-thread chunk); same results

    def __post_init__(self) -> None:
        Arch.parse(self.arch)
        if self.slots < 1 or not 0 <= self.warmup < self.slots:
            raise FabricConfigError("slots/warmup", (self.slots, self.warmup), "slots >= 1 and 0 <= warmup < slots")
        if not 1 <= self.batches <= self.slots - self.warmup:
            raise FabricConfigError("batches", self.batches, f"1..{self.slots - self.warmup}")

    def traffic_spec(self) -> Traffic:
        return Traffic(
            self.traffic, self.load, multicast_fraction=self.multicast_fraction, fanout=self.fanout,
            hot_port=self.hot_port, hot_fraction=self.hot_fraction, burst=self.burst,
            frame_sizes=tuple(tuple(x) for x in self.frame_sizes) or None, clp=self.clp, epd=self.epd, ppd=self.ppd,
        )

    def build_fabric(self) -> Fabric:
        N = self.ports
        program = build(self.traffic_spec(), N)
        buffers = self.buffers or 1024 * N
        cfg = FabricConfig(
            ports=N, arch=Arch.parse(self.arch), iterations=self.iterations, buffers=buffers,
            vcs=2 * N + program.vc_count, leaves=2 * N + program.leaf_count, capture=4 * (N + 1),
            payload=False, block=self.block, threads=self.threads,
        )
        fab = Fabric(cfg, seed=self.seed)
        fab.load_traffic(program, seed=self.seed)
        limit = self.queue_limit or (buffers if cfg.arch == Arch.OQ else max(1, buffers // N))
        limit = min(limit, 0xFFFFFF)
        for p in range(cfg.port_count):
            fab.regs.set("PORT.QLIMIT", p, LIMIT=limit)
            fab.regs.set("PORT.CLP_THRESH", p, LIMIT=min(self.clp_threshold or limit, 0xFFFFFF))
            fab.regs.set("PORT.EPD_THRESH", p, LIMIT=min(self.epd_threshold or limit, 0xFFFFFF))
        return fab


@dataclass
class _Snapshot:
    port: np.ndarray
    tx: np.ndarray
    leaf: np.ndarray
    hist: np.ndarray
    dsq: float

    @classmethod
    def of(cls, fab: Fabric) -> "_Snapshot":
        s = fab.state
        return cls(s.port_cnt.copy(), s.port_tx.copy(), s.leaf_cnt.copy(), s.hist.copy(), float(s.port_dsq.sum()))


def run(exp: Experiment, progress: Callable[[int, int], None] | None = None) -> dict:
    """Run one load point; ``progress(done_slots, total_slots)`` is called after each batch."""
    fab = exp.build_fabric()
    N = exp.ports
    start = time.perf_counter()
    if exp.warmup:
        fab.run(exp.warmup)
    base = _Snapshot.of(fab)
    window = exp.slots - exp.warmup
    edges = exp.warmup + np.linspace(0, window, exp.batches + 1).round().astype(np.int64)
    batch_means = []
    prev = base
    for k in range(exp.batches):
        fab.run(int(edges[k + 1]))
        cur = _Snapshot.of(fab)
        n = cur.tx[:, TX_CELLS].sum() - prev.tx[:, TX_CELLS].sum()
        d = cur.tx[:, TX_DELAY_SUM].sum() - prev.tx[:, TX_DELAY_SUM].sum()
        if n:
            batch_means.append(d / n)
        prev = cur
        if progress:
            progress(int(edges[k + 1]), exp.slots)
    elapsed = time.perf_counter() - start
    s = fab.state
    end = _Snapshot.of(fab)
    port = end.port - base.port
    tx = end.tx - base.tx
    hist = end.hist - base.hist
    leaf = end.leaf - base.leaf
    delivered_w = int(tx[:, TX_CELLS].sum())
    offered_w = int(port[:, PORT_RX_COPIES].sum())
    dropped_w = port[:, PORT_DROP_IN:PORT_DROP_IN + N_DROP].sum(0)
    delay_sum = int(tx[:, TX_DELAY_SUM].sum())
    dsq = end.dsq - base.dsq
    mean = delay_sum / delivered_w if delivered_w else float("nan")
    std = float(np.sqrt(max(dsq / delivered_w - mean * mean, 0.0))) if delivered_w else float("nan")
    nz = np.flatnonzero(hist)
    total = s.port_cnt
    delivered = int(s.port_tx[:, TX_CELLS].sum())
    dropped_all = total[:, PORT_DROP_IN:PORT_DROP_IN + N_DROP].sum(0)
    frames_ok = int(leaf[:, LEAF_FRAMES_OK].sum())
    cells_in = int(total[:, PORT_RX_CELLS].sum())
    prog = fab.traffic
    result = {
        "ports": N,
        "arch": Arch.parse(exp.arch).label,
        "traffic": exp.traffic,
        "load": exp.load,
        "slots": exp.slots,
        "warmup": exp.warmup,
        "seed": exp.seed,
        "iterations": exp.iterations,
        "multicast_fraction": exp.multicast_fraction,
        "fanout": exp.fanout if exp.multicast_fraction else 1,
        "mean_fanout": mean_fanout(prog) if prog else 1.0,
        "throughput": delivered_w / (N * window),
        "throughput_per_port": (tx[:N, TX_CELLS] / window).tolist(),
        "offered_load": offered_w / (N * window),
        "mean_delay": mean,
        "mean_delay_se": batch_standard_error(np.array(batch_means)) if len(batch_means) > 1 else float("nan"),
        "delay_std": std,
        "p50_delay": percentile(hist, 0.5),
        "p99_delay": percentile(hist, 0.99),
        "p999_delay": percentile(hist, 0.999),
        "min_delay": minimum(hist),
        "max_delay": float(bin_lower(nz[-1])) if nz.size else float("nan"),
        "cdv_2pt": percentile(hist, 0.999) - minimum(hist),
        "loss_ratio": float(dropped_w.sum() / offered_w) if offered_w else 0.0,
        "offered": int(total[:, PORT_RX_COPIES].sum()),
        "delivered": delivered,
        "dropped": {Drop(c).key: int(dropped_all[c]) for c in range(N_DROP)},
        "queued_at_end": fab.queued_copies(),
        "cells_in": cells_in,
        "replication": float(delivered / cells_in) if cells_in else 0.0,
        "frames_ok": frames_ok,
        "frames_bad": int(leaf[:, LEAF_FRAMES_BAD].sum()),
        "goodput": float(leaf[:, LEAF_GOOD_CELLS].sum() / (N * window)),
        "goodput_share": float(s.leaf_cnt[:, LEAF_GOOD_CELLS].sum() / max(delivered, 1)),
        "leaf_lost": int(leaf[:, LEAF_LOST].sum()),
        "leaf_misordered": int(leaf[:, LEAF_MISORDERED].sum()),
        "delay_hist": {"lower": bin_lower(nz).tolist(), "count": hist[nz].tolist()},
        "elapsed_s": elapsed,
        "input_cells_per_s": cells_in / elapsed if elapsed > 0 else float("inf"),
        "state_octets": state_bytes(s),
        "octets_per_buffered_cell": octets_per_buffered_cell(s)["total"],
    }
    return result


def seed_for(base_seed: int, exp: Experiment) -> int:
    """A point's seed, derived from the base seed and the point's own parameters (not its position in
    a sweep), so a point gives the same result in any sweep and on any worker."""
    import hashlib
    import json

    key = {k: v for k, v in asdict(exp).items() if k not in ("seed", "threads", "block")}  # no effect on results
    digest = hashlib.blake2b(json.dumps([base_seed, key], sort_keys=True).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def sweep_points(template: Experiment, loads: list[float], base_seed: int) -> list[Experiment]:
    points = []
    for load in loads:
        exp = replace(template, load=float(load))
        points.append(replace(exp, seed=seed_for(base_seed, exp)))
    return points


__all__ = ["Experiment", "run", "seed_for", "sweep_points"]
