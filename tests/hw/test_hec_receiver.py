"""The I.432.1 HEC receiver (hw.hec_receiver): correction and detection modes, counters, the
syndrome table against the bitstring reference, and the kernel against its twin."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw import cell as C
from hw import hec_receiver as R
from hw.errors import FieldError
from hw.ref import cell as ref


def _cells(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    headers = C.pack_headers(rng.integers(0, 256, n), rng.integers(32, 65536, n), rng.integers(0, 2, n))
    return C.make_cells(headers, rng.integers(0, 256, (n, 48), dtype=np.uint8))


def _flip(cells: np.ndarray, row: int, bits: tuple[int, ...]) -> None:
    for bit in bits:  # bit 0 = MSB of octet 0, bit 39 = LSB of the HEC
        cells[row, bit // 8] ^= 0x80 >> (bit % 8)


def _interleave_with_good(bad: np.ndarray, good: np.ndarray) -> np.ndarray:
    """bad0 good0 bad1 good1 ...: each errored cell arrives in correction mode."""
    out = np.empty((2 * len(bad), 53), np.uint8)
    out[0::2], out[1::2] = bad, good
    return out


def test_transition_table_is_complete_and_cites_the_clause():
    assert set(R.TRANSITIONS) == set(itertools.product(R.HecMode, R.HecEvent))
    for (mode, event), t in R.TRANSITIONS.items():
        assert "I.432.1" in t.clause
        assert R.NEXT_MODE[mode, event] == t.next_mode and R.ACTION[mode, event] == t.action


def test_syndrome_table_matches_reference_for_all_40_bits():
    header = bytearray(C.CellHeader(7, 1234, 2, 1, 9).pack())
    seen = set()
    for bit in range(40):
        damaged = bytearray(header)
        damaged[bit // 8] ^= 0x80 >> (bit % 8)
        s = ref.header_syndrome(bytes(damaged))
        assert s == R.header_syndrome(bytes(damaged)) != 0
        assert R.SYNDROME_BIT[s] == bit
        seen.add(s)
    assert len(seen) == 40 and int((R.SYNDROME_BIT >= 0).sum()) == 40
    assert ref.header_syndrome(bytes(header)) == 0


def test_every_single_bit_header_error_is_corrected():
    good = _cells(40, seed=1)
    bad = good.copy()
    for bit in range(40):
        _flip(bad, bit, (bit,))
    stream = _interleave_with_good(bad, good)
    rx = R.HecReceiver()
    result = rx.receive(stream)
    assert result.keep.all()
    np.testing.assert_array_equal(result.cells[0::2], good)  # all 40 positions, HEC bits included
    c = rx.counters
    assert (c.cells_in, c.cells_ok, c.corrected, c.discarded) == (80, 40, 40, 0)
    assert rx.mode is R.HecMode.CORRECTION  # the good cell after each correction brought it back


def test_detection_mode_discards_and_the_first_good_cell_ends_it():
    good = _cells(5, seed=2)
    stream = good.copy()
    _flip(stream, 0, (3,))  # corrected -> detection mode
    _flip(stream, 1, (17,))  # single-bit, but in detection mode: discarded
    _flip(stream, 2, (38,))  # still detection mode: discarded
    # row 3 good: back to correction mode; row 4 single-bit: corrected again
    _flip(stream, 4, (0,))
    rx = R.HecReceiver()
    result = rx.receive(stream)
    assert result.keep.tolist() == [True, False, False, True, True]
    np.testing.assert_array_equal(result.cells, good[[0, 3, 4]])
    c = rx.counters
    assert (c.cells_ok, c.corrected, c.discarded_detection_mode, c.discarded_uncorrectable) == (1, 2, 2, 0)
    assert rx.mode is R.HecMode.DETECTION


def test_every_two_bit_error_is_discarded_never_miscorrected():
    # (x + 1) divides the generator, so a 2-bit error has an even-weight syndrome and no single-bit
    # error has one: the receiver always sees a multi-bit error.
    pairs = list(itertools.combinations(range(40), 2))
    good = np.repeat(_cells(1, seed=3), len(pairs), axis=0)
    bad = good.copy()
    for row, pair in enumerate(pairs):
        _flip(bad, row, pair)
    rx = R.HecReceiver()
    keep = rx.receive(_interleave_with_good(bad, good)).keep
    assert not keep[0::2].any() and keep[1::2].all()
    c = rx.counters
    assert c.discarded_uncorrectable == len(pairs) == 780 and c.corrected == 0


def test_three_bit_errors_are_discarded_or_miscorrected_as_the_code_dictates():
    # The (40, 32) code has minimum distance 4: a 3-bit error whose syndrome is a single-bit one is
    # "corrected" into a header 4 bits away from the original (I.432's known miscorrection); every
    # other 3-bit error is discarded. Nothing wrong is ever delivered as the original header.
    triples = list(itertools.combinations(range(40), 3))
    good = np.repeat(_cells(1, seed=4), len(triples), axis=0)
    bad = good.copy()
    for row, triple in enumerate(triples):
        _flip(bad, row, triple)
    expected_miscorrected = np.array([ref.header_syndrome(bad[row, :5].tobytes()) in
                                      {int(s) for s in np.flatnonzero(R.SYNDROME_BIT >= 0)} for row in range(len(bad))])
    rx = R.HecReceiver()
    stream = _interleave_with_good(bad, good)
    keep = rx.receive_mask(stream)  # corrects in place
    delivered_bad = keep[0::2]
    np.testing.assert_array_equal(delivered_bad, expected_miscorrected)
    assert 0 < delivered_bad.sum() < len(triples)
    wrong = np.unpackbits(stream[0::2][delivered_bad] ^ good[delivered_bad], axis=1).sum(axis=1)
    assert (wrong == 4).all()  # never the original, always at distance 4
    c = rx.counters
    assert c.corrected == delivered_bad.sum()
    assert c.discarded_uncorrectable == len(triples) - delivered_bad.sum()


def test_payload_errors_are_not_the_receivers_business():
    good = _cells(3, seed=5)
    stream = good.copy()
    stream[:, 20] ^= 0xFF
    result = R.HecReceiver().receive(stream)
    assert result.keep.all()
    np.testing.assert_array_equal(result.cells, stream)


def test_input_untouched_unless_in_place():
    good = _cells(2, seed=6)
    stream = good.copy()
    _flip(stream, 0, (9,))
    before = stream.copy()
    R.HecReceiver().receive(stream)
    np.testing.assert_array_equal(stream, before)
    R.HecReceiver().receive(stream, in_place=True)
    np.testing.assert_array_equal(stream, good)


def _random_errored_stream(n: int, seed: int, error_rate: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cells = _cells(n, seed)
    for row in np.flatnonzero(rng.random(n) < error_rate):
        weight = int(rng.choice([1, 1, 1, 2, 3, 5]))
        _flip(cells, row, tuple(rng.choice(40, weight, replace=False)))
    return cells


@settings(max_examples=40)
@given(st.integers(0, 400), st.integers(0, 2**32 - 1), st.floats(0, 1), st.sampled_from(list(R.HecMode)))
def test_kernel_and_twin_agree(n, seed, error_rate, mode):
    cells = _random_errored_stream(n, seed, error_rate)
    a, b = cells.copy(), cells.copy()
    keep_a, keep_b = np.empty(n, np.bool_), np.empty(n, np.bool_)
    counters_a, counters_b = np.zeros(R.N_COUNTERS, np.int64), np.zeros(R.N_COUNTERS, np.int64)
    mode_a = R.hec_receive_kernel(a, keep_a, int(mode), counters_a)
    mode_b = R.hec_receive_twin(b, keep_b, int(mode), counters_b)
    assert mode_a == mode_b
    np.testing.assert_array_equal(keep_a, keep_b)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(counters_a, counters_b)
    assert counters_a[R.C_CELLS_IN] == counters_a[1:].sum() == n  # conservation


@settings(max_examples=25)
@given(st.integers(1, 300), st.integers(0, 2**32 - 1), st.lists(st.integers(0, 300), max_size=5))
def test_state_carries_across_batches(n, seed, cuts):
    cells = _random_errored_stream(n, seed, 0.3)
    whole_rx = R.HecReceiver()
    whole = whole_rx.receive(cells)
    split_rx = R.HecReceiver(engine="twin")
    bounds = [0, *sorted(min(c, n) for c in cuts), n]
    parts = [split_rx.receive(cells[lo:hi]) for lo, hi in zip(bounds, bounds[1:])]
    np.testing.assert_array_equal(np.concatenate([p.keep for p in parts]), whole.keep)
    np.testing.assert_array_equal(np.concatenate([p.cells for p in parts]), whole.cells)
    assert split_rx.counters == whole_rx.counters and split_rx.mode == whole_rx.mode
    c = whole_rx.counters
    assert c.cells_in == c.delivered + c.discarded == n


def test_bad_input_raises_field_error():
    with pytest.raises(FieldError) as err:
        R.HecReceiver().receive(np.zeros((3, 5), np.uint8))
    assert err.value.field == "cells"
    with pytest.raises(FieldError) as err:
        R.HecReceiver().receive([[0] * 53])
    assert err.value.field == "cells"
    with pytest.raises(FieldError) as err:
        R.HecReceiver(engine="fpga")
    assert err.value.field == "engine"
