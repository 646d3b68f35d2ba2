"""Benchmarks of the cell layer's HEC, I.432.1 receiver, delineation and OAM CRC-10 (suite "cells").

Each figure is the numba kernel's rate, with ``ratio_to_twin`` = kernel rate / plain twin rate, both
measured in this run (the twin on a smaller batch: it is the same algorithm, only slower).
"""

from __future__ import annotations

import time

import numpy as np

from hw import cell as C
from hw import delineation as D
from hw import hec_receiver as R
from hw import oam as O
from tools.bench import Context, Figure, best_rate, figures

OC48_CELLS_PER_S = 5_651_321  # reference/atm-wire-formats.md


def _sizes(ctx: Context, full: int, twin: int) -> tuple[int, int]:
    return max(1000, int(full * ctx.scale)), max(500, int(twin * ctx.scale))


def _cells(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    headers = C.pack_headers(rng.integers(0, 256, n), rng.integers(32, 65536, n), rng.integers(0, 2, n))
    return C.make_cells(headers, rng.integers(0, 256, (n, 48), dtype=np.uint8))


@figures("cells")
def hec_figures(ctx: Context):
    n, n_twin = _sizes(ctx, 10_000_000, 100_000)
    headers = np.random.default_rng(1).integers(0, 256, (n, 5), dtype=np.uint8)
    out = np.empty(n, dtype=np.uint8)
    C.hec_batch_kernel(headers[:10], out[:10])  # compile (or load from cache) outside the timing
    ctx.log(f"hec_batch: {n:,} headers (twin: {n_twin:,})")
    rate = best_rate(lambda: C.hec_batch_kernel(headers, out), n)
    twin_out = np.empty(n_twin, dtype=np.uint8)
    twin = best_rate(lambda: C.hec_batch_twin(headers[:n_twin], twin_out), n_twin, repeat=1)
    yield Figure("hec_batch", rate, "headers/s", ratio_to_twin=rate / twin, target=100e6,
                 note=f"{n:,} headers, 1 thread")


def _time_once(fn, prepare) -> float:
    """Seconds of one call of ``fn(arg)``, ``arg = prepare()`` made outside the timing."""
    arg = prepare()
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start


@figures("cells")
def receiver_figures(ctx: Context):
    n, n_twin = _sizes(ctx, 1_000_000, 20_000)
    clean = _cells(n, 2)
    noisy = clean.copy()
    rng = np.random.default_rng(3)
    rows = np.flatnonzero(rng.random(n) < 0.01)  # 1 % of headers with a single-bit error
    bits = rng.integers(0, 40, len(rows))
    noisy[rows, bits // 8] ^= (0x80 >> (bits % 8)).astype(np.uint8)
    R.HecReceiver().receive_mask(noisy[:10].copy())  # compile outside the timing
    ctx.log(f"hec_receiver: {n:,} cells, 1 % single-bit header errors (twin: {n_twin:,})")

    def run(engine: str, cells: np.ndarray) -> None:
        R.HecReceiver(engine=engine).receive_mask(cells)  # corrects in place: a fresh copy per run

    rate = n / min(_time_once(lambda c: run("kernel", c), noisy.copy) for _ in range(3))
    twin = n_twin / _time_once(lambda c: run("twin", c), lambda: noisy[:n_twin].copy())
    yield Figure("hec_receiver", rate, "cells/s", ratio_to_twin=rate / twin,
                 note=f"{rate / OC48_CELLS_PER_S:,.0f}x OC-48c")


@figures("cells")
def delineation_figures(ctx: Context):
    n, n_twin = _sizes(ctx, 20_000, 2_000)
    stream = _cells(n, 4).ravel()
    twin_stream = stream[: n_twin * C.CELL_OCTETS]
    kernel = D.CellDelineator()
    kernel.feed(stream)  # acquire SYNC (and compile) outside the timing; whole cells keep it aligned
    twin = D.CellDelineator(engine="twin")
    twin.feed(twin_stream)
    ctx.log(f"delineation in SYNC: chunks of {n:,} cells (twin: {n_twin:,})")
    rate = best_rate(lambda: kernel.feed(stream), n)
    twin_rate = best_rate(lambda: twin.feed(twin_stream), n_twin, repeat=1)
    assert kernel.state is D.State.SYNC and kernel.counters.sync_to_hunt == 0
    yield Figure("delineation_sync", rate, "cells/s", ratio_to_twin=rate / twin_rate,
                 note="in SYNC")


@figures("cells")
def oam_figures(ctx: Context):
    n, n_twin = _sizes(ctx, 1_000_000, 20_000)
    cells = O.stamp_crc10(_cells(n, 5))
    O.crc10_ok(cells[:10])
    ctx.log(f"oam_crc10: {n:,} cells (twin: {n_twin:,})")
    out = np.empty(n, dtype=np.uint16)
    rate = best_rate(lambda: O.oam_edc_kernel(cells, out), n)
    twin_out = np.empty(n_twin, dtype=np.uint16)
    twin = best_rate(lambda: O.oam_edc_twin(cells[:n_twin], twin_out), n_twin, repeat=1)
    yield Figure("oam_crc10", rate, "cells/s", ratio_to_twin=rate / twin)
