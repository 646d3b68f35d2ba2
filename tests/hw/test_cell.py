"""Cell headers, HEC, idle and unassigned cells (hw.cell), checked against known values and against
the bitstring reference (hw.ref.cell)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw import cell as C
from hw.errors import DecodeError, FieldError
from hw.ref import cell as ref

# --- independently known values --------------------------------------------------------------------


def test_idle_header_hec_is_0x52():
    # I.432.1: the idle cell header is 00 00 00 01 with HEC 0x52.
    assert C.hec(b"\x00\x00\x00\x01") == 0x52
    assert ref.hec(b"\x00\x00\x00\x01") == 0x52
    assert C.IDLE_HEADER == bytes.fromhex("0000000152")
    assert C.hec_batch(np.array([[0, 0, 0, 1]], np.uint8))[0] == 0x52


def test_all_zero_header_hec_is_the_coset():
    # CRC of zeros is zero, so the HEC of an unassigned cell header 00 00 00 00 is the coset 0x55.
    assert C.hec(bytes(4)) == 0x55 == ref.hec(bytes(4))


def test_reference_crc8_matches_the_catalogue_check_values():
    # CRC RevEng catalogue: CRC-8/I-432-1 (poly 0x07, xorout 0x55) check 0xA1; CRC-8/SMBUS check 0xF4.
    assert ref.crc8(b"123456789") == 0xF4
    assert ref.crc8(b"123456789") ^ 0x55 == 0xA1


def test_signalling_and_ilmi_headers():
    assert C.CellHeader(C.SIGNALLING_VPI, C.SIGNALLING_VCI).fields_octets() == bytes.fromhex("00000050")
    assert C.CellHeader(C.ILMI_VPI, C.ILMI_VCI).fields_octets() == bytes.fromhex("00000100")
    assert C.CellHeader(0, C.VCI_OAM_F4_END_TO_END).fields_octets() == bytes.fromhex("00000040")


def test_field_layout_uni_and_nni():
    h = C.CellHeader(vpi=0xAB, vci=0x1234, pti=0b101, clp=1, gfc=0xC)
    assert h.fields_octets() == bytes.fromhex("CAB1234B")
    n = C.CellHeader(vpi=0xABC, vci=0x1234, pti=0b011, clp=0, nni=True)
    assert n.fields_octets() == bytes.fromhex("ABC12346")


# --- single headers against the bitstring reference -------------------------------------------------

uni = st.fixed_dictionaries(
    {"gfc": st.integers(0, 15), "vpi": st.integers(0, 255), "vci": st.integers(0, 65535),
     "pti": st.integers(0, 7), "clp": st.integers(0, 1)}
)
nni = st.fixed_dictionaries(
    {"vpi": st.integers(0, 4095), "vci": st.integers(0, 65535), "pti": st.integers(0, 7), "clp": st.integers(0, 1)}
)


@settings(max_examples=150)
@given(uni)
def test_uni_header_matches_reference(fields):
    h = C.CellHeader(**fields)
    packed = h.pack()
    assert packed[:4] == ref.pack_header(**fields)
    assert packed[4] == ref.hec(packed) == C.hec(packed)
    assert ref.unpack_header(packed) == {**fields, "hec": packed[4]}
    assert C.CellHeader.unpack(packed) == h


@settings(max_examples=150)
@given(nni)
def test_nni_header_matches_reference(fields):
    h = C.CellHeader(**fields, nni=True)
    packed = h.pack()
    assert packed[:4] == ref.pack_header(**fields, nni=True)
    assert packed[4] == ref.hec(packed)
    assert C.CellHeader.unpack(packed, nni=True) == h


def test_make_and_parse_cell():
    h = C.CellHeader(vpi=1, vci=42, pti=C.PTI_AUU)
    cell = C.make_cell(h, bytes(range(48)))
    assert len(cell) == 53 and cell[5:] == bytes(range(48))
    assert C.parse_cell(cell) == (h, bytes(range(48)))
    assert h.auu and not h.efci and h.is_user_data and not h.is_oam_f5


def test_pti_meanings():
    assert C.CellHeader(0, 32, pti=C.PTI_EFCI | C.PTI_AUU).efci
    assert C.CellHeader(0, 32, pti=C.PTI_OAM_F5_SEGMENT).is_oam_f5
    assert not C.CellHeader(0, 32, pti=C.PTI_OAM_F5_END_TO_END).auu  # PTI 101 is OAM, not AUU
    assert C.CellHeader(0, C.VCI_OAM_F4_SEGMENT).is_oam_f4


# --- batches ---------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(st.integers(1, 64), st.booleans(), st.integers(0, 2**32 - 1))
def test_batch_pack_unpack_agree_with_single_and_reference(n, is_nni, seed):
    rng = np.random.default_rng(seed)
    vpi = rng.integers(0, 4096 if is_nni else 256, n)
    vci, pti, clp = rng.integers(0, 65536, n), rng.integers(0, 8, n), rng.integers(0, 2, n)
    gfc = 0 if is_nni else rng.integers(0, 16, n)
    headers = C.pack_headers(vpi, vci, pti, clp, gfc, nni=is_nni)
    cols = C.unpack_headers(headers, nni=is_nni)
    for i in range(n):
        g = 0 if is_nni else int(gfc[i])
        single = C.CellHeader(int(vpi[i]), int(vci[i]), int(pti[i]), int(clp[i]), g, nni=is_nni)
        assert headers[i].tobytes() == single.pack()
        assert ref.unpack_header(headers[i].tobytes(), nni=is_nni) == {
            "gfc": g, "vpi": vpi[i], "vci": vci[i], "pti": pti[i], "clp": clp[i], "hec": ref.hec(headers[i].tobytes())}
    np.testing.assert_array_equal(cols.vpi, vpi)
    np.testing.assert_array_equal(cols.vci, vci)
    np.testing.assert_array_equal(cols.pti, pti)
    np.testing.assert_array_equal(cols.clp, clp)
    np.testing.assert_array_equal(cols.gfc, gfc if not is_nni else np.zeros(n))


def test_pack_headers_into_cells_and_make_cells():
    cells = C.make_cells(C.pack_headers([1, 2, 3], 100), 0x6A)
    assert cells.shape == (3, 53) and np.all(cells[:, 5:] == 0x6A)
    assert C.hec_ok(cells).all()
    again = np.zeros((3, 53), np.uint8)
    C.pack_headers([1, 2, 3], 100, out=again)
    np.testing.assert_array_equal(again[:, :5], cells[:, :5])


@settings(max_examples=40)
@given(st.integers(0, 300), st.sampled_from([4, 5, 53]), st.integers(0, 2**32 - 1))
def test_hec_batch_kernel_twin_and_reference_agree(n, width, seed):
    rows = np.random.default_rng(seed).integers(0, 256, (n, width), dtype=np.uint8)
    kernel, twin = np.empty(n, np.uint8), np.empty(n, np.uint8)
    C.hec_batch_kernel(rows, kernel)
    C.hec_batch_twin(rows, twin)
    np.testing.assert_array_equal(kernel, twin)
    np.testing.assert_array_equal(C.hec_batch(rows), kernel)
    assert [ref.hec(r.tobytes()) for r in rows[:20]] == kernel[:20].tolist()
    assert [C.hec(r[:4].tobytes()) for r in rows] == kernel.tolist()


def test_stamp_hec_repairs_every_header():
    cells = np.random.default_rng(1).integers(0, 256, (500, 53), dtype=np.uint8)
    assert not C.hec_ok(cells).all()
    payload = cells[:, 5:].copy()
    C.stamp_hec(cells)
    assert C.hec_ok(cells).all()
    np.testing.assert_array_equal(cells[:, 5:], payload)


# --- idle and unassigned cells ---------------------------------------------------------------------


def test_idle_cells():
    idle = C.idle_cells(3)
    assert idle.shape == (3, 53)
    assert idle[0].tobytes() == bytes.fromhex("0000000152") + b"\x6a" * 48
    assert C.is_idle(idle).all() and C.is_physical_layer(idle).all()
    assert not C.is_unassigned(idle).any()  # the idle header has CLP = 1
    assert C.CellHeader.unpack(idle[0].tobytes()).clp == 1


def test_unassigned_and_user_cells_are_told_apart():
    unassigned = C.unassigned_cells(2, gfc=5)
    user = C.make_cells(C.pack_headers(0, 32), 0)
    pl_oam = C.make_cells(C.pack_headers(0, 0, pti=0b100, clp=1), 0)  # header 00 00 00 09
    mixed = np.concatenate([unassigned, user, C.idle_cells(1), pl_oam])
    assert C.is_unassigned(mixed).tolist() == [True, True, False, False, False]
    assert C.is_idle(mixed).tolist() == [False, False, False, True, False]
    assert C.is_physical_layer(mixed).tolist() == [False, False, False, True, True]
    assert C.hec_ok(mixed).all()
    nni_zero = C.make_cells(C.pack_headers(0, 0, nni=True), 0)
    assert C.is_unassigned(nni_zero, nni=True).all()
    gfc_set = C.make_cells(C.pack_headers(0, 0, gfc=3), 0)
    assert C.is_unassigned(gfc_set).all() and not C.is_unassigned(gfc_set, nni=True).any()  # VPI != 0 at the NNI


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"vpi": 256, "vci": 1}, "VPI"),
        ({"vpi": 4096, "vci": 1, "nni": True}, "VPI"),
        ({"vpi": -1, "vci": 1}, "VPI"),
        ({"vpi": 0, "vci": 65536}, "VCI"),
        ({"vpi": 0, "vci": 1, "pti": 8}, "PTI"),
        ({"vpi": 0, "vci": 1, "clp": 2}, "CLP"),
        ({"vpi": 0, "vci": 1, "gfc": 16}, "GFC"),
        ({"vpi": 0, "vci": 1, "gfc": 1, "nni": True}, "GFC"),
        ({"vpi": 1.0, "vci": 1}, "VPI"),
        ({"vpi": 0, "vci": True}, "VCI"),
    ],
)
def test_out_of_range_fields_raise_field_error(kwargs, field):
    with pytest.raises(FieldError) as err:
        C.CellHeader(**kwargs)
    assert err.value.field == field


def test_batch_errors_name_the_field_and_index():
    with pytest.raises(FieldError) as err:
        C.pack_headers([0, 1, 2, 300], 40)
    assert err.value.field == "VPI[3]" and err.value.value == 300
    with pytest.raises(FieldError) as err:
        C.pack_headers(0, [40, 70000])
    assert err.value.field == "VCI[1]"
    with pytest.raises(FieldError) as err:
        C.pack_headers(0, 40, pti=np.array([1.5]))
    assert err.value.field == "PTI"
    with pytest.raises(FieldError) as err:
        C.pack_headers([0, 1], [40, 41, 42])
    assert err.value.field == "VCI"


@pytest.mark.parametrize("bad, field", [(b"\x00" * 4, "header"), (b"\x00" * 52, "header"), ("abcde", "header")])
def test_wrong_lengths_raise_field_error(bad, field):
    with pytest.raises(FieldError) as err:
        C.CellHeader.unpack(bad)
    assert err.value.field == field


def test_wrong_shapes_and_payloads_raise_field_error():
    with pytest.raises(FieldError) as err:
        C.make_cell(C.CellHeader(0, 32), bytes(47))
    assert err.value.field == "payload"
    with pytest.raises(FieldError) as err:
        C.hec_batch(np.zeros((4, 3), np.uint8))
    assert err.value.field == "cells"
    with pytest.raises(FieldError) as err:
        C.hec_batch(np.zeros((4, 53), np.int16))
    assert err.value.field == "cells"
    with pytest.raises(FieldError) as err:
        C.parse_cell(bytes(54))
    assert err.value.field == "cell"
    with pytest.raises(FieldError):
        C.hec(b"\x00\x00\x00")


def test_bad_hec_raises_decode_error_at_offset_4():
    header = bytearray(C.CellHeader(0, 32).pack())
    header[2] ^= 0x10
    with pytest.raises(DecodeError) as err:
        C.CellHeader.unpack(bytes(header))
    assert err.value.field == "HEC" and err.value.offset == 4
    assert isinstance(err.value, C.HecError) and err.value.syndrome != 0
    assert C.CellHeader.unpack(bytes(header), check_hec=False).vci == 32 + 0x100  # octet 2 holds VCI bits 11..4
