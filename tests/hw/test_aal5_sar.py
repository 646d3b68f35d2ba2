"""AAL5 CPCS-PDU (I.363.5 9.2.2.2) and segmentation (I.363.5 9.1): layout, headers, kernel vs twins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.aal5 import (MAX_PDU_CELLS, cpcs_pdu, pack_sdus, pad_octets, parse_cpcs_pdu, pdu_cells, segment, segment_batch,
                     segment_batch_twin)
from hw.cell import hec
from hw.errors import DecodeError, FieldError
from hw.ref import aal5 as ref


@pytest.mark.parametrize("n, cells, pad", [(0, 1, 40), (40, 1, 0), (41, 2, 47), (88, 2, 0), (1500, 32, 28),
                                           (65535, 1366, 25)])
def test_pdu_size_and_pad(n, cells, pad):
    assert pdu_cells(n) == cells and pad_octets(n) == pad
    pdu = cpcs_pdu(bytes(n), uu=0xA5, cpi=0)
    assert len(pdu) == 48 * cells
    assert pdu[n:n + pad] == bytes(pad)
    assert pdu[-8] == 0xA5 and pdu[-7] == 0 and int.from_bytes(pdu[-6:-4], "big") == n


def test_max_pdu_cells():
    assert MAX_PDU_CELLS == 1366  # ceil((65535 + 8) / 48)


def test_sdu_too_long_is_rejected_naming_the_field():
    with pytest.raises(FieldError) as e:
        cpcs_pdu(bytes(65536))
    assert e.value.field == "SDU length" and e.value.value == 65536
    with pytest.raises(FieldError):
        segment(bytes(65536), 0, 32)
    buf, off, ln = pack_sdus([b"a", bytes(65536)])
    with pytest.raises(FieldError) as e:
        segment_batch(buf, off, ln, 0, 32)
    assert e.value.field == "lengths[1]"


@pytest.mark.parametrize("kw, field", [(dict(uu=256), "CPCS-UU"), (dict(cpi=-1), "CPI")])
def test_trailer_octets_out_of_range(kw, field):
    with pytest.raises(FieldError) as e:
        cpcs_pdu(b"x", **kw)
    assert e.value.field == field


@settings(max_examples=30)
@given(st.binary(max_size=400), st.integers(0, 255), st.integers(0, 255))
def test_pdu_matches_reference_and_parses_back(sdu, uu, cpi):
    pdu = cpcs_pdu(sdu, uu, cpi)
    assert pdu == ref.cpcs_pdu(sdu, uu, cpi)
    assert parse_cpcs_pdu(pdu) == (sdu, uu, cpi)


def test_parse_reports_offset_and_field():
    pdu = bytearray(cpcs_pdu(bytes(100)))
    with pytest.raises(DecodeError) as e:
        parse_cpcs_pdu(bytes(pdu[:-1]))
    assert e.value.field == "CPCS-PDU"
    pdu[7] ^= 1
    with pytest.raises(DecodeError) as e:
        parse_cpcs_pdu(bytes(pdu))
    assert (e.value.field, e.value.offset) == ("CRC-32", len(pdu) - 4)
    # a consistent CRC but a Length needing fewer cells: a length error at the Length field
    body = bytearray(96)
    body[-6:-4] = (10).to_bytes(2, "big")
    bad = bytes(body[:-4]) + ref.crc32(bytes(body[:-4])).to_bytes(4, "big")
    with pytest.raises(DecodeError) as e:
        parse_cpcs_pdu(bad)
    assert (e.value.field, e.value.offset) == ("Length", 90)


def test_segment_cells_headers_and_auu():
    sdu = bytes(range(256)) * 2
    cells = segment(sdu, 17, 0x1234, clp=1, uu=7)
    assert cells.shape == (11, 53) and cells.dtype == np.uint8
    for k, row in enumerate(cells):
        pti = 1 if k == 10 else 0  # AUU only on the last cell (I.363.5 9.1.2.1)
        head = bytes([0x01, 0x11, 0x23, 0x40 | pti << 1 | 1])  # GFC 0, VPI 17, VCI 0x1234, CLP 1
        assert bytes(row[:4]) == head
        assert row[4] == hec(head)
    assert cells[:, 5:].tobytes() == cpcs_pdu(sdu, 7)
    assert [bytes(r) for r in cells] == ref.segment(sdu, 17, 0x1234, clp=1, uu=7)


def test_segment_nni_header():
    cells = segment(b"nni", 0xABC, 0x0042, nni=True)
    assert [bytes(r) for r in cells] == ref.segment(b"nni", 0xABC, 0x42, nni=True)


@pytest.mark.parametrize("vpi, vci, kw, field", [
    (256, 32, {}, "vpi"), (4096, 32, {"nni": True}, "vpi"), (-1, 32, {}, "vpi"), (0, 65536, {}, "vci"),
    (0, 32, {"clp": 2}, "clp"),
])
def test_segment_out_of_range_fields(vpi, vci, kw, field):
    with pytest.raises(FieldError) as e:
        segment(b"x", vpi, vci, **kw)
    assert e.value.field == field


def test_batch_per_frame_field_error_names_the_index():
    buf, off, ln = pack_sdus([b"a", b"b", b"c"])
    with pytest.raises(FieldError) as e:
        segment_batch(buf, off, ln, [0, 1, 300], 32)
    assert e.value.field == "vpi[2]" and e.value.value == 300


def test_batch_rejects_frames_outside_the_buffer():
    with pytest.raises(FieldError) as e:
        segment_batch(np.zeros(10, np.uint8), [0, 5], [5, 6], 0, 32)
    assert e.value.field == "frame[1]"


def test_kernel_agrees_with_twin_on_random_batches():
    rng = np.random.default_rng(2024)
    for _ in range(5):
        n = int(rng.integers(1, 40))
        lengths = rng.integers(0, 3000, n)
        edge = rng.random(n) < 0.3  # the pad boundaries: empty, exactly one cell, one octet over
        lengths[edge] = rng.choice([0, 39, 40, 41, 88, 89], int(edge.sum()))
        buf = rng.integers(0, 256, int(lengths.sum()) + 100, dtype=np.uint8)
        offsets = rng.integers(0, 100 + 1, n)
        offsets = np.minimum(offsets, buf.size - lengths)
        vpi, vci = rng.integers(0, 256, n), rng.integers(0, 65536, n)
        clp, uu, cpi = rng.integers(0, 2, n), rng.integers(0, 256, n), rng.integers(0, 256, n)
        fast = segment_batch(buf, offsets, lengths, vpi, vci, clp, uu=uu, cpi=cpi)
        twin = segment_batch_twin(buf, offsets, lengths, vpi, vci, clp, uu=uu, cpi=cpi)
        assert fast.shape == (int(sum(pdu_cells(int(x)) for x in lengths)), 53)
        assert np.array_equal(fast, twin)


def test_batch_equals_frame_by_frame():
    sdus = [b"", b"x" * 40, b"y" * 41, bytes(range(200)) * 10]
    buf, off, ln = pack_sdus(sdus)
    batch = segment_batch(buf, off, ln, [1, 2, 3, 4], 100)
    single = np.concatenate([segment(s, i + 1, 100) for i, s in enumerate(sdus)])
    assert np.array_equal(batch, single)


def test_single_frame_fast_path_equals_the_checked_batch_path_and_the_twin():
    # segment() with plain ints skips the batch machinery; numpy integers take the checked path.
    rng = np.random.default_rng(7)
    for n in [0, 39, 40, 41, 88, 89, *rng.integers(0, 3000, 20).tolist()]:
        sdu = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        vpi, vci, clp, uu, cpi = (int(rng.integers(0, hi + 1)) for hi in (255, 65535, 1, 255, 255))
        fast = segment(sdu, vpi, vci, clp, uu=uu, cpi=cpi)
        checked = segment(sdu, np.int64(vpi), np.int64(vci), np.int64(clp), uu=np.int64(uu), cpi=np.int64(cpi))
        buf, off, ln = pack_sdus([sdu])
        twin = segment_batch_twin(buf, off, ln, vpi, vci, clp, uu=uu, cpi=cpi)
        assert fast.shape == (pdu_cells(n), 53) and fast.dtype == np.uint8
        assert np.array_equal(fast, checked) and np.array_equal(fast, twin)


@pytest.mark.parametrize("args, kw, field", [
    ((True, 32), {}, "vpi"), ((0, 32), {"clp": True}, "clp"), ((0, 32), {"uu": 1.0}, "CPCS-UU"),
    ((0, 32), {"uu": True}, "CPCS-UU"),
])
def test_segment_rejects_what_is_not_a_plain_integer(args, kw, field):
    with pytest.raises(FieldError) as e:
        segment(b"x", *args, **kw)
    assert e.value.field == field
