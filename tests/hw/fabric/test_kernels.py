"""Each small kernel agrees with its plain-Python twin on random cases."""

from __future__ import annotations

import itertools

import numba as nb
import numpy as np
import pytest

from hw.cell import hec
from hw.fabric.admission import ACCEPT, EPD_DISCARDING, NORMAL, PPD_DISCARDING, admit, admit_twin
from hw.fabric.counters import Drop
from hw.fabric.errors import FabricConfigError
from hw.fabric.rng import XorShift64Star, below, next_u32, stream_seed, threshold, xorshift_step
from hw.fabric.stats import EXACT, HIST_BINS, bin_lower, hist_bin, hist_bin_twin, percentile
from hw.fabric.tables import (
    Cam,
    cam_key,
    cam_lookup,
    header_twin,
    parse_header_twin,
    parse_test_cell_payload,
    payload_of_test_cell,
    write_header,
    write_test_cell_payload,
)


def test_xorshift_kernel_and_twin_give_the_same_stream():
    state = np.array([stream_seed(7, 0), stream_seed(7, 1)], np.uint64)
    twins = [XorShift64Star(int(x)) for x in state]
    for k in range(2000):
        i = k % 2
        assert int(next_u32(state, i)) == twins[i].u32()
        n = 1 + k % 97
        assert int(below(state, i, n)) == twins[i].below(n)
    assert int(state[0]) == twins[0].x


def test_streams_are_distinct_and_uniform_enough():
    twin = XorShift64Star(stream_seed(1, 0))
    draws = np.array([twin.below(10) for _ in range(20000)])
    counts = np.bincount(draws, minlength=10)
    # chi-square with 9 degrees of freedom: 99.9th percentile is 27.9
    chi2 = ((counts - 2000) ** 2 / 2000).sum()
    assert chi2 < 27.9
    assert stream_seed(1, 0) != stream_seed(1, 1) != stream_seed(2, 0)


def test_threshold_is_exact_at_the_ends():
    assert threshold(0.0) == 0
    assert threshold(1.0) == 1 << 32  # u32 < 2^32 always: p = 1 fires every time
    with pytest.raises(Exception):
        threshold(1.5)


@nb.njit(cache=True)
def _bins(values):
    out = np.empty(values.shape[0], np.int64)
    for k in range(values.shape[0]):
        out[k] = hist_bin(values[k])
    return out


def test_hist_bin_kernel_and_twin_agree():
    rng = np.random.default_rng(0)
    values = np.concatenate([
        np.arange(0, 5000), rng.integers(0, 2**40, 5000), 2 ** np.arange(0, 62), 2 ** np.arange(1, 62) - 1,
    ]).astype(np.int64)
    got = _bins(values)
    want = np.array([hist_bin_twin(int(v)) for v in values])
    np.testing.assert_array_equal(got, want)
    assert got.max() < HIST_BINS
    # the lower edge of each value's bin is <= the value and within 1/128 of it
    low = bin_lower(got)
    assert np.all(low <= values)
    assert np.all(values - low <= np.maximum(values // 128, 0))
    assert np.all(low[values < EXACT] == values[values < EXACT])


def test_percentile_is_exact_below_1024():
    hist = np.zeros(HIST_BINS, np.int64)
    hist[[0, 3, 10]] = [50, 40, 10]
    assert percentile(hist, 0.5) == 0
    assert percentile(hist, 0.51) == 3
    assert percentile(hist, 0.99) == 10
    assert np.isnan(percentile(np.zeros(HIST_BINS, np.int64), 0.5))


def test_admit_kernel_and_twin_agree_on_every_case():
    cases = 0
    for discard, frames, epd, ppd, first, last, clp, mem, node in itertools.product(
        (NORMAL, EPD_DISCARDING, PPD_DISCARDING), *([(False, True)] * 8)
    ):
        for qlen, limit, clp_th, epd_th in ((0, 4, 2, 3), (2, 4, 2, 3), (3, 4, 2, 3), (4, 4, 2, 3), (5, 4, 9, 9)):
            args = (discard, frames, epd, ppd, first, last, clp, qlen, limit, clp_th, epd_th, mem, node)
            assert admit(*args) == admit_twin(*args), args
            cases += 1
    assert cases == 3 * 256 * 5


def test_admit_rules():
    # EPD refuses a whole frame at its first cell, last cell included
    assert admit_twin(NORMAL, True, True, False, True, False, False, 5, 10, 10, 5, True, True) == (Drop.EPD, EPD_DISCARDING)
    assert admit_twin(EPD_DISCARDING, True, True, False, False, True, False, 0, 10, 10, 5, True, True) == (Drop.EPD, NORMAL)
    # PPD: after a tail drop, the rest of the frame goes, but the last cell is offered again
    assert admit_twin(NORMAL, True, False, True, False, False, False, 10, 10, 10, 10, True, True) == (Drop.QUEUE_FULL, PPD_DISCARDING)
    assert admit_twin(PPD_DISCARDING, True, False, True, False, False, False, 0, 10, 10, 10, True, True) == (Drop.PPD, PPD_DISCARDING)
    assert admit_twin(PPD_DISCARDING, True, False, True, False, True, False, 0, 10, 10, 10, True, True) == (ACCEPT, NORMAL)
    # CLP=1 goes first above the CLP threshold; CLP=0 still accepted there
    assert admit_twin(NORMAL, False, False, False, False, False, True, 6, 10, 6, 10, True, True) == (Drop.CLP_DISCARD, NORMAL)
    assert admit_twin(NORMAL, False, False, False, False, False, False, 6, 10, 6, 10, True, True) == (ACCEPT, NORMAL)
    assert admit_twin(NORMAL, False, False, False, False, False, False, 0, 10, 6, 10, False, True) == (Drop.MEMORY_FULL, NORMAL)


@nb.njit(cache=True)
def _lookups(keys, vcs, queries):
    out = np.empty(queries.shape[0], np.int64)
    for k in range(queries.shape[0]):
        out[k] = cam_lookup(keys, vcs, queries[k])
    return out


def test_cam_lookup_agrees_with_a_dictionary_through_inserts_and_deletes():
    rng = np.random.default_rng(5)
    size = 64  # small, so probe chains wrap and collide
    cam = Cam(np.full(size, -1, np.int64), np.full(size, -1, np.int32))
    truth: dict[int, int] = {}
    universe = [cam_key(p, vpi, vci) for p in range(3) for vpi in range(3) for vci in range(30, 40)]
    for step in range(3000):
        vc = int(rng.integers(0, 30))
        if rng.random() < 0.6:
            key = universe[int(rng.integers(0, len(universe)))]
            if key in truth.values() and cam.owner.get(key) != vc:
                with pytest.raises(FabricConfigError):
                    cam.install(vc, key)
                continue
            cam.install(vc, key)
            truth[vc] = key
        else:
            cam.remove(vc)
            truth.pop(vc, None)
        if step % 50 == 0:
            queries = np.array(universe, np.int64)
            got = _lookups(cam.keys, cam.vcs, queries)
            inverse = {k: v for v, k in truth.items()}
            np.testing.assert_array_equal(got, [inverse.get(int(q), -1) for q in queries])


@nb.njit(cache=True)
def _header(gfc, vpi, vci, pti, clp):
    out = np.zeros(53, np.uint8)
    write_header(out, gfc, vpi, vci, pti, clp)
    return out


@nb.njit(cache=True)
def _payload(seq, slot, vc):
    out = np.zeros(53, np.uint8)
    write_test_cell_payload(out, seq, slot, vc)
    return out


def test_header_and_test_payload_kernels_agree_with_twins():
    rng = np.random.default_rng(2)
    for _ in range(500):
        gfc, vpi, vci, pti, clp = (int(rng.integers(0, m)) for m in (16, 256, 65536, 8, 2))
        got = bytes(_header(gfc, vpi, vci, pti, clp)[:5])
        assert got == header_twin(gfc, vpi, vci, pti, clp)
        assert got[4] == hec(got[:4])
        assert parse_header_twin(got) == (gfc, vpi, vci, pti, clp)
        seq, slot, vc = int(rng.integers(0, 2**32)), int(rng.integers(0, 2**40)), int(rng.integers(0, 2**20))
        pay = bytes(_payload(seq, slot, vc)[5:])
        assert pay == payload_of_test_cell(seq, slot, vc)
        assert parse_test_cell_payload(pay) == (seq, slot, vc)


def test_signalling_header_is_the_known_one():
    # VPI 0 / VCI 5, PTI 1 (AUU): 00 00 00 52 and its HEC
    assert header_twin(0, 0, 5, 1, 0)[:4] == bytes([0, 0, 0, 0x52])


@nb.njit(cache=True)
def _steps(x, n):
    out = np.empty(n, np.uint64)
    for k in range(n):
        x, u = xorshift_step(x)
        out[k] = u
    return out, x


def test_a_stream_in_a_register_draws_what_the_array_stream_draws():
    """generator.py keeps a source's state in a register (xorshift_step) for a block: same draws as
    next_u32 on the state array, and the same state after."""
    state = np.array([stream_seed(11, 3)], np.uint64)
    draws, x = _steps(np.uint64(state[0]), 500)
    twin = XorShift64Star(int(state[0]))
    assert [int(d) for d in draws] == [twin.u32() for _ in range(500)]
    assert int(x) == twin.x
