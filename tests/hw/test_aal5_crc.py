"""AAL5 CRC-32 (I.363.5 9.2.2.2.1): known values, the residue, kernel vs twin vs the bitstring reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.aal5 import CRC32_CHECK, CRC32_RESIDUE, cpcs_pdu, crc32, crc32_batch, crc32_register, crc32_twin
from hw.aal5.crc import crc32_batch_twin, crc32_update, crc32_update_twin
from hw.errors import FieldError
from hw.ref import aal5 as ref

# The three example CPCS-PDUs quoted with I.363.5 (40-octet SDU, UU = CPI = 0, Length 0x0028):
# every AAL5 CRC implementation is checked against them.
EXAMPLE_PDUS = [
    (bytes(40), 0x864D7F99),
    (b"\xff" * 40, 0xC55E457A),
    (bytes(range(1, 41)), 0xBF671ED0),
]


def test_check_value_is_crc32_bzip2():
    # CRC-32/BZIP2 has AAL5's parameters (poly 04C11DB7, init and xorout all ones, not reflected).
    assert CRC32_CHECK == 0xFC891918
    assert crc32(b"123456789") == 0xFC891918
    assert crc32_twin(b"123456789") == 0xFC891918
    assert ref.crc32(b"123456789") == 0xFC891918


@pytest.mark.parametrize("sdu, expected", EXAMPLE_PDUS)
def test_example_pdus(sdu, expected):
    pdu = cpcs_pdu(sdu)
    assert pdu[40:44] == b"\x00\x00\x00\x28"
    assert int.from_bytes(pdu[44:], "big") == expected
    assert ref.cpcs_pdu(sdu) == pdu
    assert crc32_register(pdu) == CRC32_RESIDUE


def test_residue_constant():
    assert CRC32_RESIDUE == 0xC704DD7B
    rng = np.random.default_rng(5)
    for n in (0, 1, 39, 40, 41, 1500, 9180):
        pdu = cpcs_pdu(rng.integers(0, 256, n, dtype=np.uint8))
        assert crc32_register(pdu) == CRC32_RESIDUE
        assert crc32_update_twin(0xFFFFFFFF, pdu) == CRC32_RESIDUE


def test_reference_residue():
    assert ref.crc32_register(ref.cpcs_pdu(b"atm cell tax")) == CRC32_RESIDUE


def test_every_single_bit_error_leaves_the_residue():
    pdu = bytearray(cpcs_pdu(bytes(range(60))))
    for bit in range(len(pdu) * 8):
        pdu[bit // 8] ^= 0x80 >> (bit % 8)
        assert crc32_register(pdu) != CRC32_RESIDUE, bit
        pdu[bit // 8] ^= 0x80 >> (bit % 8)


@settings(max_examples=60)
@given(st.binary(min_size=0, max_size=3000), st.integers(0, 15))
def test_kernel_agrees_with_twin(data, skip):
    # slicing-by-8 vs bytewise, at an unaligned start so every tail length is exercised
    arr = np.frombuffer(data, np.uint8)
    assert crc32(data) == crc32_twin(data)
    start = min(skip, len(data))
    assert int(crc32_update(np.uint32(0x12345678), arr, start, len(data))) == crc32_update_twin(0x12345678, data[start:])


@settings(max_examples=25)
@given(st.binary(min_size=0, max_size=120))
def test_kernel_agrees_with_bitstring_reference(data):
    assert crc32(data) == ref.crc32(data)
    assert crc32_register(data) == ref.crc32_register(data)


def test_batch_agrees_with_single_and_twin():
    rng = np.random.default_rng(11)
    lengths = rng.integers(0, 700, 200)
    buf = rng.integers(0, 256, int(lengths.sum()) + 50, dtype=np.uint8)
    offsets = rng.integers(0, 50, 200) + np.concatenate(([0], np.cumsum(lengths)[:-1]))
    got = crc32_batch(buf, offsets, lengths)
    assert got.dtype == np.uint32
    assert [int(x) for x in got] == [crc32(buf[o:o + n]) for o, n in zip(offsets, lengths)]
    assert np.array_equal(got, crc32_batch_twin(buf, offsets, lengths))


def test_bad_input_names_the_field():
    with pytest.raises(FieldError) as e:
        crc32("text")
    assert e.value.field == "data"
    with pytest.raises(FieldError) as e:
        crc32(np.zeros(4, np.int32))
    assert e.value.field == "data"
    with pytest.raises(FieldError) as e:
        crc32_batch(np.zeros(10, np.uint8), [0, 8], [4, 4])
    assert e.value.field == "frame[1]"
