"""The receiver's two ways through a batch of cells: whole-array operations, and cell by cell on Python
ints for batches of at most ``RxEngine.small_batch`` cells (a signalling frame is one or two cells). Two
adapters, one forced onto the whole-array path (``small_batch = 0``), take the same cell stream - AAL5
frames on two VCs, AAL0 cells, idle and unassigned cells, cells of an unknown VC, OAM cells, header
errors of one and of two bits - cut into the same small batches: they must deliver the same frames at
the same slots and end with every counter equal."""

from __future__ import annotations

import numpy as np
import pytest

from hw.aal5 import segment
from hw.adapter import Adapter, HostMemory
from hw.adapter.sar import SMALL_BATCH
from hw.cell import idle_cells, pack_headers, unassigned_cells
from hw.clock import Clock
from hw.link import Link


def _stream(rng: np.random.Generator) -> np.ndarray:
    """A few hundred cells of everything the receiver tells apart, in random order of pieces."""
    pieces = []
    for _ in range(60):
        kind = rng.integers(0, 8)
        if kind <= 2:  # an AAL5 frame on VCI 100 or 101 (one to four cells)
            size = int(rng.integers(1, 180))
            pieces.append(segment(bytes(rng.integers(0, 256, size, dtype=np.uint8)), 0, 100 + int(kind % 2)))
        elif kind == 3:  # AAL0 cells on VCI 42, any PTI / CLP
            n = int(rng.integers(1, 3))
            cells = np.zeros((n, 53), np.uint8)
            cells[:, 5:] = rng.integers(0, 256, (n, 48), dtype=np.uint8)
            pack_headers(0, 42, rng.integers(0, 4, n), rng.integers(0, 2, n), 0, out=cells, n=n)
            pieces.append(cells)
        elif kind == 4:
            pieces.append(idle_cells(int(rng.integers(1, 3))) if rng.random() < 0.5
                          else unassigned_cells(int(rng.integers(1, 3))))
        elif kind == 5:  # a VC the adapter does not know, and an OAM cell (PTI 100) on a known one
            cells = np.zeros((2, 53), np.uint8)
            pack_headers(0, np.array([77, 100]), np.array([0, 4]), np.array([0, 0]), 0, out=cells, n=2)
            pieces.append(cells)
        else:  # a frame with header errors: one bit (corrected in correction mode) or two (discarded)
            cells = segment(bytes(rng.integers(0, 256, int(rng.integers(1, 100)), dtype=np.uint8)), 0, 100)
            row = int(rng.integers(0, cells.shape[0]))
            bits = rng.choice(32, size=int(rng.integers(1, 3)), replace=False)
            for b in bits:
                cells[row, b // 8] ^= np.uint8(1 << (b % 8))
            pieces.append(cells)
    return np.concatenate(pieces)


def _adapter(driver_cls, small_batch: int):
    clock = Clock("OC-3c")
    link = Link("OC-3c")
    ad = Adapter(clock, HostMemory(1 << 21))
    ad.attach(link.a)
    ad.rx.small_batch = small_batch
    d = driver_cls(ad, rx_ring_size=128)
    d.bring_up()
    d.open_vc(1, 0, 100)
    d.open_vc(2, 0, 101)
    d.open_vc(4, 0, 42, aal="AAL0")
    return clock, link, ad, d


def _run(driver_cls, small_batch: int, cells: np.ndarray, cuts: list[int], announce: bool):
    clock, link, ad, d = _adapter(driver_cls, small_batch)
    clock.run_for(10)
    start = 0
    for cut in cuts:
        batch = cells[start:cut].copy()
        start = cut
        link.advance(clock.now)
        link.b.send(batch, at=clock.now)
        if announce:  # the lane was idle: the batch goes out in the slots from now on
            ad.wake_rx(batch, clock.now + np.arange(batch.shape[0], dtype=np.int64))
        else:
            ad.wake_rx()
        clock.run_for(batch.shape[0] + 3)
        d.harvest(0)
    clock.run_for(100)
    d.harvest(0)
    ad.check_conservation()
    return [(f.vc, f.data, f.err, f.slot, f.clp) for f in d.frames], ad.counter_values()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("announce", [True, False])
def test_small_batches_take_the_per_cell_path_with_the_same_outcome(driver_cls, seed, announce):
    rng = np.random.default_rng(seed)
    cells = _stream(rng)
    sizes = rng.integers(1, SMALL_BATCH + 5, cells.shape[0])  # mostly small, a few over the threshold
    cuts = [int(c) for c in np.cumsum(sizes) if c < cells.shape[0]] + [cells.shape[0]]
    fast = _run(driver_cls, SMALL_BATCH, cells, cuts, announce)
    bulk = _run(driver_cls, 0, cells, cuts, announce)
    assert fast == bulk
    frames, counters = fast
    # the stream did exercise every branch
    assert {vc for vc, *_ in frames} == {1, 2, 4}
    for name in ("RX_IDLE_CELLS", "RX_UNKNOWN_VC", "RX_OAM_CELLS", "RX_HEC_DISCARDS", "RX_HEC_CORRECTED"):
        assert counters[name] > 0, name


@pytest.mark.parametrize("seed", range(3))
def test_relevant_cells_are_the_same_cell_by_cell(driver_cls, seed):
    """Which cells make the receiver run (end of a PDU, PTI 1xx, an AAL0 VC, a bad header)."""
    rng = np.random.default_rng(100 + seed)
    _, _, ad, _ = _adapter(driver_cls, SMALL_BATCH)
    cells = _stream(rng)
    for start in range(0, cells.shape[0], 7):
        batch = cells[start:start + 7]
        ad.rx.small_batch = SMALL_BATCH
        few = ad.rx.relevant(batch)
        ad.rx.small_batch = 0
        bulk = ad.rx.relevant(batch)
        assert few.dtype == bulk.dtype and few.tolist() == bulk.tolist()
