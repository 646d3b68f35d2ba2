"""The cell tap's VC filter: the numba kernel and its plain twin agree on random cells and key sets, and
both agree with the definition (VPI/VCI read field by field from the header, I.361 2.2)."""

from __future__ import annotations

import numpy as np
import pytest

from captures.vcfilter import vc_mask, vc_mask_twin


def fields_key(cells: np.ndarray) -> list[int]:
    """VPI << 16 | VCI of each cell, field by field: VPI is the low nibble of octet 0 and the high nibble
    of octet 1; VCI the low nibble of octet 1, octet 2 and the high nibble of octet 3."""
    out = []
    for row in cells.tolist():
        vpi = (row[0] & 0x0F) << 4 | row[1] >> 4
        vci = (row[1] & 0x0F) << 12 | row[2] << 4 | row[3] >> 4
        out.append(vpi << 16 | vci)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_kernel_and_twin_agree_with_the_definition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3000))
    cells = rng.integers(0, 256, (n, 53), dtype=np.uint8)
    # Few distinct VCs so that the key set hits often; GFC, PTI and CLP bits random (they must not matter).
    pool = rng.integers(0, 1 << 24, 8)
    keys_of = pool[rng.integers(0, len(pool), n)]
    cells[:, 0] = (cells[:, 0] & 0xF0) | (keys_of >> 20)
    cells[:, 1] = (keys_of >> 12) & 0xFF
    cells[:, 2] = (keys_of >> 4) & 0xFF
    cells[:, 3] = ((keys_of & 0xF) << 4) | (cells[:, 3] & 0x0F)
    keys = np.array(sorted(set(rng.choice(pool, int(rng.integers(0, 6))).tolist())
                           | set(rng.integers(0, 1 << 24, 3).tolist())), np.uint32)
    truth = np.isin(np.array(fields_key(cells), dtype=np.int64), keys.astype(np.int64))
    for exclude in (False, True):
        kernel = vc_mask(cells, keys, exclude)
        twin = vc_mask_twin(cells, keys, exclude)
        assert np.array_equal(kernel, twin)
        assert np.array_equal(kernel, truth != exclude)
    assert truth.any() or n == 0 or not len(keys)


def test_empty_key_set_keeps_nothing_or_everything():
    cells = np.zeros((5, 53), np.uint8)
    empty = np.zeros(0, np.uint32)
    assert not vc_mask(cells, empty).any() and vc_mask(cells, empty, exclude=True).all()
    assert np.array_equal(vc_mask_twin(cells, empty, False), vc_mask(cells, empty))
