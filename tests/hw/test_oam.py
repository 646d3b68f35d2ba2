"""OAM F4/F5 cells (hw.oam): builders, parser, CRC-10 against the catalogue value and the bitstring
reference, kernel against twin, typed errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw import cell as C
from hw import oam as O
from hw.errors import FieldError
from hw.ref import cell as ref


def test_crc10_matches_the_catalogue_check_value():
    # CRC RevEng catalogue, CRC-10/ATM (= CRC-10/I-610): poly 0x233, init 0, check 0x199.
    assert O.crc10(b"123456789") == 0x199
    assert ref.crc10(b"123456789") == 0x199


def test_loopback_cell_layout_and_round_trip():
    cell = O.loopback_cell(1, 100, correlation_tag=0xDEADBEEF, source_id=bytes(range(16)))
    assert len(cell) == 53
    header = C.CellHeader.unpack(cell)
    assert (header.vpi, header.vci, header.pti) == (1, 100, C.PTI_OAM_F5_END_TO_END)
    payload = cell[5:]
    assert payload[0] == 0x18  # fault management (0001), loopback (1000)
    assert payload[1] == 0x01  # loopback indication: to be looped back
    assert payload[2:6] == bytes.fromhex("DEADBEEF")
    assert payload[6:22] == b"\xff" * 16  # location ID: the end point
    assert payload[22:38] == bytes(range(16))
    assert payload[38:46] == b"\x6a" * 8  # unused
    assert payload[46] >> 2 == 0  # reserved
    assert ref.oam_crc10_ok(payload)
    assert ((payload[46] & 3) << 8 | payload[47]) == ref.oam_crc10(payload)
    parsed = O.parse_oam_cell(cell)
    assert (parsed.flow, parsed.scope, parsed.function_name) == (O.Flow.F5, O.Scope.END_TO_END, "loopback")
    assert parsed.loopback == O.Loopback(True, 0xDEADBEEF, b"\xff" * 16, bytes(range(16)))
    assert parsed.pack() == cell


@pytest.mark.parametrize(
    "flow, scope, vci, expect_vci, expect_pti",
    [
        (O.Flow.F5, O.Scope.SEGMENT, 77, 77, C.PTI_OAM_F5_SEGMENT),
        (O.Flow.F5, O.Scope.END_TO_END, 77, 77, C.PTI_OAM_F5_END_TO_END),
        (O.Flow.F4, O.Scope.SEGMENT, None, C.VCI_OAM_F4_SEGMENT, 0),
        (O.Flow.F4, O.Scope.END_TO_END, None, C.VCI_OAM_F4_END_TO_END, 0),
    ],
)
def test_ais_and_rdi_cells_on_every_flow(flow, scope, vci, expect_vci, expect_pti):
    for build, function in ((O.ais_cell, O.FM_AIS), (O.rdi_cell, O.FM_RDI)):
        cell = build(9, vci, flow=flow, scope=scope)
        header = C.CellHeader.unpack(cell)
        assert (header.vci, header.pti) == (expect_vci, expect_pti)
        assert cell[5] == (O.OAM_TYPE_FAULT_MANAGEMENT << 4) | function
        assert cell[6:51] == b"\x6a" * 45  # defect type, location and unused: all "not used"
        parsed = O.parse_oam_cell(cell)
        assert (parsed.flow, parsed.scope, parsed.vpi) == (flow, scope, 9)
        assert parsed.defect == O.DefectReport()
    cell = O.ais_cell(9, vci, flow=flow, scope=scope, defect_type=0x01, defect_location=bytes(16))
    assert O.parse_oam_cell(cell).defect == O.DefectReport(0x01, bytes(16))


def test_looped_back_cell_keeps_the_correlation_tag():
    sent = O.parse_oam_cell(O.loopback_cell(0, 32, correlation_tag=7))
    back = O.parse_oam_cell(O.loopback_cell(0, 32, correlation_tag=7, loopback_indication=False))
    assert sent.loopback.loopback_indication and not back.loopback.loopback_indication
    assert sent.loopback.correlation_tag == back.loopback.correlation_tag == 7


def _oam_cells(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    headers = C.pack_headers(0, 32, pti=C.PTI_OAM_F5_END_TO_END, n=n)
    return C.make_cells(headers, rng.integers(0, 256, (n, 48), dtype=np.uint8))


@settings(max_examples=40)
@given(st.integers(0, 200), st.integers(0, 2**32 - 1))
def test_edc_kernel_twin_and_reference_agree(n, seed):
    cells = _oam_cells(n, seed)
    kernel, twin = np.empty(n, np.uint16), np.empty(n, np.uint16)
    O.oam_edc_kernel(cells, kernel)
    O.oam_edc_twin(cells, twin)
    np.testing.assert_array_equal(kernel, twin)
    assert [ref.oam_crc10(row[5:].tobytes()) for row in cells[:10]] == kernel[:10].tolist()
    stamped = O.stamp_crc10(cells.copy())
    assert O.crc10_ok(stamped).all()
    np.testing.assert_array_equal(stamped[:, 51] >> 2, cells[:, 51] >> 2)  # reserved bits kept
    assert all(ref.oam_crc10_ok(row[5:].tobytes()) for row in stamped[:10])
    np.testing.assert_array_equal(O.crc10_ok(cells), kernel == O.received_edc(cells))


def test_every_single_bit_payload_error_fails_the_crc10():
    cell = np.frombuffer(O.loopback_cell(0, 40, correlation_tag=1), np.uint8)
    damaged = np.repeat(cell[None, :], 384, axis=0)
    for bit in range(384):
        damaged[bit, 5 + bit // 8] ^= 0x80 >> (bit % 8)
    assert not O.crc10_ok(damaged).any()
    assert not any(ref.oam_crc10_ok(row[5:].tobytes()) for row in damaged[::37])


def test_crc10_error_names_the_field_and_offset():
    cell = bytearray(O.loopback_cell(0, 40))
    cell[30] ^= 0x04
    with pytest.raises(O.OamError) as err:
        O.parse_oam_cell(bytes(cell))
    assert err.value.field == "CRC-10" and err.value.offset == 51


def _restamp(cell: bytearray) -> bytes:
    row = np.frombuffer(bytes(cell), np.uint8).reshape(1, 53).copy()
    return O.stamp_crc10(row)[0].tobytes()


@pytest.mark.parametrize(
    "offset, value, field",
    [
        (5, 0x38, "OAM type"),  # OAM type 0011 is not defined
        (5, 0x1F, "function type"),  # fault management function 1111 is not defined
        (6, 0x02, "loopback indication"),  # must be 0000000x
    ],
)
def test_bad_codes_raise_oam_error_naming_the_field(offset, value, field):
    cell = bytearray(O.loopback_cell(0, 40))
    cell[offset] = value
    with pytest.raises(O.OamError) as err:
        O.parse_oam_cell(_restamp(cell))
    assert err.value.field == field and err.value.offset == offset


def test_user_cell_is_not_an_oam_cell():
    cell = C.make_cell(C.CellHeader(0, 40), bytes(48))
    with pytest.raises(O.OamError) as err:
        O.parse_oam_cell(cell)
    assert err.value.field == "PTI"


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: O.loopback_cell(0, 40, flow=O.Flow.F4), "VCI"),  # F4: the VCI comes from the scope
        (lambda: O.loopback_cell(0), "VCI"),  # F5 needs the VC's VCI
        (lambda: O.loopback_cell(0, 40, correlation_tag=1 << 32), "correlation tag"),
        (lambda: O.loopback_cell(0, 40, location_id=b"\xff" * 15), "loopback location ID"),
        (lambda: O.ais_cell(0, 40, defect_type=256), "defect type"),
        (lambda: O.rdi_cell(300, 40), "VPI"),
        (lambda: O.parse_oam_cell(bytes(52)), "cell"),
        (lambda: O.crc10_ok(np.zeros((2, 48), np.uint8)), "cells"),
    ],
)
def test_bad_arguments_raise_field_error(call, field):
    with pytest.raises(FieldError) as err:
        call()
    assert err.value.field == field
