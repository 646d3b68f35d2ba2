"""The receiver's plain-Python path for one-cell batches (hw.aal5.rx_kernel.KernelEngine._one_cell_pdu)
against the kernel alone and the twin, and the plain CRC it uses (hw.aal5.crc.crc32_small)."""

from __future__ import annotations

import numpy as np
import pytest

from hw.aal5 import Reassembler, segment
from hw.aal5.crc import CRC32_CHECK, crc32_small, crc32_twin
from hw.aal5.rx_kernel import KernelEngine


def test_crc32_small_is_the_aal5_crc():
    assert crc32_small(b"123456789") == CRC32_CHECK
    rng = np.random.default_rng(5)
    for n in [*range(0, 100), 1000, 4096]:
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc32_small(data) == crc32_twin(data), n


def _stream(rng: np.random.Generator, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames of 0..120 octets (most of one cell) on three VCs, interleaved, with corrupted cells,
    lost cells, OAM cells, unassigned cells and cells of a VC whose maximum SDU is small."""
    vcs = [(0, 5), (1, 40), (2, 41)]
    rows = []
    for _ in range(frames):
        n = int(rng.choice([0, 5, 20, 36, 40, 41, 60, 120]))
        rows.extend(segment(rng.integers(0, 256, n, dtype=np.uint8).tobytes(), *vcs[int(rng.integers(0, 3))],
                            uu=int(rng.integers(0, 256)), cpi=int(rng.integers(0, 256))))
    cells = np.array(rows, np.uint8)
    keep = rng.random(len(cells)) > 0.03  # lost cells: PDUs that run into the next one
    cells = cells[keep]
    hit = rng.random(len(cells)) < 0.03
    cells[hit, rng.integers(5, 53, int(hit.sum()))] ^= 0x10  # CRC errors
    oam = rng.random(len(cells)) < 0.02
    cells[oam, 3] |= 0x08  # PTI 1xx
    unassigned = rng.random(len(cells)) < 0.02
    cells[unassigned, :4] = 0  # VPI 0 / VCI 0
    slots = np.cumsum(rng.integers(1, 4, len(cells))).astype(np.int64)
    return np.ascontiguousarray(cells), slots


def _state(r: Reassembler) -> dict:
    e = r._engine
    # vc_tail and the pool are scratch the kernel rewrites before it reads them (see _one_cell_pdu)
    return {name: getattr(e, name).copy() for name in ("ht_key", "ht_vc", "vc_key", "vc_state", "vc_reg",
                                                       "vc_cells", "vc_head", "vc_last", "vc_max_sdu",
                                                       "vc_discard", "free_stack", "sc", "cnt")}


@pytest.mark.parametrize("seed", range(3))
def test_one_cell_path_equals_the_kernel_and_the_twin(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    cells, slots = _stream(rng, 250)
    small_path = Reassembler(pool_cells=64)
    kernel_only = Reassembler(pool_cells=64)
    twin = Reassembler(engine="twin", pool_cells=64)
    for r in (small_path, kernel_only, twin):
        r.set_max_sdu(2, 41, 20)  # frames of 21..40 octets on 2/41 are oversize: the kernel reports them
    kernel_only._engine._one_cell_pdu = lambda *args: None  # the kernel for every batch
    taken = []
    original = KernelEngine._one_cell_pdu

    def counting(self, *args):
        out = original(self, *args)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(KernelEngine, "_one_cell_pdu", counting)
    for i in range(len(cells)):  # one cell per call, as the control port and the CellPort deliver them
        got = [r.feed(cells[i:i + 1], slots[i:i + 1]) for r in (small_path, kernel_only, twin)]
        frames = [[tuple(s) for s in g] for g in got]
        assert frames[0] == frames[1] == frames[2]
        assert [str(e) for e in got[0].errors] == [str(e) for e in got[1].errors] == [str(e) for e in got[2].errors]
        if len(got[0]):
            assert np.array_equal(got[0].slot, got[1].slot) and np.array_equal(got[0].vci, got[1].vci)
            assert got[0].data.tobytes() == got[1].data.tobytes()
        a, b = _state(small_path), _state(kernel_only)
        for name in a:
            assert np.array_equal(a[name], b[name]), (i, name)
    assert small_path.counters == kernel_only.counters == twin.counters
    # both paths were taken, and the stream had errors for the kernel to find
    assert any(taken) and not all(taken)
    assert small_path.counters["crc_errors"] and small_path.counters["oversize_errors"]
    assert small_path.counters["cells_not_user_data"] and small_path.counters["cells_unassigned"]
