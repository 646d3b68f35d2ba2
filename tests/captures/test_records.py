"""SunATM and ERF record builders: layouts, timestamps, the bulk cell paths against the one-record ones."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from captures.errors import BadFieldError, CaptureError, CaptureFieldError
from captures.records import (
    ERF_CELL_RECORD_OCTETS,
    ERF_FLAG_VARLEN,
    ERF_MAX_AAL5_PDU_OCTETS,
    ERF_MAX_TIME_NS,
    ERF_TYPE_AAL5,
    ERF_TYPE_ATM,
    erf_aal5_record,
    erf_cell_record,
    erf_cell_records,
    erf_cells_from_records,
    erf_timestamp,
    erf_timestamp_to_ns,
    erf_timestamps,
    erf_timestamps_to_ns,
    sunatm_record,
)
from hw.cell import hec


def random_cells(n: int, seed: int = 7) -> np.ndarray:
    """n cells with random headers and payloads and a correct HEC (I.432)."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 256, (n, 53), dtype=np.uint8)
    for row in cells:
        row[4] = hec(bytes(row[:4]))
    return cells


# ------------------------------------------------------------------------------------ SunATM
def test_sunatm_record_layout():
    rec = sunatm_record(True, 0, 5, b"\x09\x03abc")
    assert rec == bytes((0x86, 0, 0, 5)) + b"\x09\x03abc"
    rec = sunatm_record(False, 0xAB, 0x1234, b"", type=2)
    assert rec == bytes((0x02, 0xAB, 0x12, 0x34))


@pytest.mark.parametrize(
    "args, field",
    [
        ((True, 256, 5, b""), "vpi"),
        ((True, -1, 5, b""), "vpi"),
        ((True, 0, 65536, b""), "vci"),
        ((True, 0, 5, b"x" * 65536), "sdu"),
    ],
)
def test_sunatm_record_refuses_what_it_cannot_carry(args, field):
    with pytest.raises(CaptureFieldError) as err:
        sunatm_record(*args)
    assert err.value.field == field
    assert isinstance(err.value, CaptureError)


def test_sunatm_record_refuses_bad_type():
    with pytest.raises(CaptureFieldError):
        sunatm_record(True, 0, 5, b"", type=16)


# ------------------------------------------------------------------------------ timestamps
def test_erf_timestamp_known_values():
    assert erf_timestamp(0) == 0
    assert erf_timestamp(1_000_000_000) == 1 << 32
    assert erf_timestamp(500_000_000) == 1 << 31
    assert erf_timestamp(1) == 4  # 2^32 / 10^9 = 4.29..., rounded down
    assert erf_timestamp(999_999_999) == 0xFFFFFFFB  # 4294967291.7, rounded down; never reaches 2^32
    assert erf_timestamp(123_456_789) == 530_242_871  # 530242871.2
    assert erf_timestamp(3 * 10**9 + 250_000_000) == (3 << 32) | (1 << 30)


def test_erf_timestamp_range():
    with pytest.raises(CaptureFieldError):
        erf_timestamp(-1)
    with pytest.raises(CaptureFieldError):
        erf_timestamp(ERF_MAX_TIME_NS)
    erf_timestamp(ERF_MAX_TIME_NS - 1)


@given(st.integers(0, ERF_MAX_TIME_NS - 1))
def test_erf_timestamp_round_trip_is_exact(ns):
    ts = erf_timestamp(ns)
    assert ts >> 32 == ns // 10**9
    assert erf_timestamp_to_ns(ts) == ns


@given(st.lists(st.integers(0, ERF_MAX_TIME_NS - 1), min_size=1, max_size=50))
def test_erf_timestamps_vectorised_agree_with_scalar(values):
    times = np.array(values, dtype=np.int64)
    ts = erf_timestamps(times)
    assert ts.tolist() == [erf_timestamp(v) for v in values]
    assert erf_timestamps_to_ns(ts).tolist() == values


@given(st.integers(0, (1 << 64) - 1))
def test_erf_timestamp_to_ns_vectorised_agrees_on_any_timestamp(ts):
    assert int(erf_timestamps_to_ns(np.array([ts], dtype=np.uint64))[0]) == erf_timestamp_to_ns(ts)


def test_erf_timestamps_refuse_out_of_range_arrays():
    with pytest.raises(CaptureFieldError):
        erf_timestamps(np.array([0, -5], dtype=np.int64))
    with pytest.raises(CaptureFieldError):
        erf_timestamps(np.array([ERF_MAX_TIME_NS], dtype=np.uint64))
    with pytest.raises(CaptureFieldError):
        erf_timestamps(np.array([1.5]))


# --------------------------------------------------------------------------------- ERF cells
def test_erf_cell_record_layout():
    cell = bytes(range(53))
    rec = erf_cell_record(cell, 2 * 10**9 + 1, interface=2)
    ts, rtype, flags, rlen, lctr, wlen = struct.unpack("<QBB", rec[:10]) + struct.unpack(">HHH", rec[10:16])
    assert ts == erf_timestamp(2 * 10**9 + 1)
    assert (rtype, flags, rlen, lctr, wlen) == (ERF_TYPE_ATM, ERF_FLAG_VARLEN | 2, 68, 0, 52)
    assert rec[16:20] == cell[:4]  # the header without the HEC
    assert rec[20:] == cell[5:]
    assert len(rec) == ERF_CELL_RECORD_OCTETS


def test_erf_cell_records_bulk_equals_one_by_one():
    cells = random_cells(300)
    times = np.arange(300, dtype=np.int64) * 2_831 + 1_700_000_000_123_456_789
    bulk = erf_cell_records(cells, times, interface=1)
    assert bulk.shape == (300, 68) and bulk.dtype == np.uint8
    for i in range(300):
        assert bulk[i].tobytes() == erf_cell_record(cells[i].tobytes(), int(times[i]), interface=1)


def test_erf_cell_records_into_a_strided_view():
    cells = random_cells(10)
    times = np.arange(10, dtype=np.uint64)
    big = np.zeros((10, 100), dtype=np.uint8)
    erf_cell_records(cells, times, out=big[:, 28:96])
    assert (big[:, :28] == 0).all() and (big[:, 96:] == 0).all()
    assert (big[:, 28:96] == erf_cell_records(cells, times)).all()


@pytest.mark.parametrize(
    "cells, times, field",
    [
        (np.zeros((3, 52), np.uint8), np.zeros(3, np.int64), "cells"),
        (np.zeros((3, 53), np.int16), np.zeros(3, np.int64), "cells"),
        (np.zeros((3, 53), np.uint8), np.zeros(2, np.int64), "times_ns"),
        (np.zeros((3, 53), np.uint8), np.array([0, 1, -1]), "times_ns"),
    ],
)
def test_erf_cell_records_refuse_bad_arrays(cells, times, field):
    with pytest.raises(CaptureFieldError) as err:
        erf_cell_records(cells, times)
    assert err.value.field == field


def test_erf_cells_from_records_inverts_the_builder():
    cells = random_cells(500, seed=3)
    times = np.sort(np.random.default_rng(1).integers(0, ERF_MAX_TIME_NS, 500, dtype=np.int64))
    back = erf_cells_from_records(erf_cell_records(cells, times, interface=3))
    assert (back.cells == cells).all()  # HEC recomputed
    assert back.time_ns.tolist() == times.tolist()
    assert (back.interface == 3).all()


def test_erf_cells_from_records_refuses_other_records():
    recs = erf_cell_records(random_cells(4), np.arange(4))
    recs[2, 8] = ERF_TYPE_AAL5
    with pytest.raises(BadFieldError) as err:
        erf_cells_from_records(recs)
    assert err.value.offset == 2 * 68 + 8 and err.value.field == "type"
    recs[2, 8] = ERF_TYPE_ATM | 0x80
    with pytest.raises(BadFieldError, match="extension header"):
        erf_cells_from_records(recs)
    recs[2, 8] = ERF_TYPE_ATM
    recs[1, 10:12] = (0, 60)
    with pytest.raises(BadFieldError) as err:
        erf_cells_from_records(recs)
    assert err.value.offset == 68 + 10 and err.value.field == "rlen"
    with pytest.raises(BadFieldError):
        erf_cells_from_records(np.zeros((2, 60), np.uint8))


# ---------------------------------------------------------------------------------- ERF AAL5
def test_erf_aal5_record_layout():
    pdu = bytes(range(96))
    rec = erf_aal5_record(b"\x00\x00\x00\x52", pdu, 7 * 10**9)
    assert rec[8] == ERF_TYPE_AAL5 and rec[9] == ERF_FLAG_VARLEN
    assert struct.unpack(">HHH", rec[10:16]) == (16 + 4 + 96, 0, 4 + 96)
    assert rec[16:20] == b"\x00\x00\x00\x52" and rec[20:] == pdu
    assert erf_timestamp_to_ns(struct.unpack("<Q", rec[:8])[0]) == 7 * 10**9


def test_erf_aal5_record_limits():
    with pytest.raises(CaptureFieldError):
        erf_aal5_record(b"\x00\x00\x00\x52\x00", b"", 0)  # 5 octets: the HEC is not kept
    with pytest.raises(CaptureFieldError):
        erf_aal5_record(b"\x00\x00\x00\x52", bytes(ERF_MAX_AAL5_PDU_OCTETS + 1), 0)
    assert len(erf_aal5_record(b"\x00\x00\x00\x52", bytes(ERF_MAX_AAL5_PDU_OCTETS), 0)) == 0xFFFF


# ------------------------------------------------- agreement with the scapy layers (the definition)
def status_enquiry_sd(call_ref: int = 1, ns: int = 0) -> bytes:
    """An SSCOP SD PDU (Q.2110) carrying a Q.2931 STATUS ENQUIRY without IEs, built by hand."""
    message = bytes((0x09, 0x03)) + call_ref.to_bytes(3, "big") + bytes((0x75, 0x80, 0x00, 0x00))
    pad = -len(message) % 4
    return message + bytes(pad) + bytes(((pad << 6) | 0x08,)) + ns.to_bytes(3, "big")


@pytest.fixture(scope="module")
def linktypes():
    return pytest.importorskip("captures.linktypes", reason="the scapy link-type layers are not there yet")


def test_sunatm_records_are_the_scapy_layer(linktypes):
    from scapy.packet import Raw

    sd = status_enquiry_sd(0x800003, 7)
    for dte, vpi, vci in ((True, 0, 5), (False, 0, 5), (True, 200, 0xBEEF)):
        rec = sunatm_record(dte, vpi, vci, sd)
        built = linktypes.SunATM(dir=int(dte), type=6, vpi=vpi, vci=vci) / Raw(sd)
        assert bytes(built) == rec
        pkt = linktypes.decode_sunatm(rec)  # strict: also checks the SSCOP PDU
        assert (pkt.dir, pkt.type, pkt.vpi, pkt.vci) == (int(dte), 6, vpi, vci)
        assert bytes(pkt.payload) == sd


@given(st.binary(min_size=53, max_size=53), st.integers(0, ERF_MAX_TIME_NS - 1), st.integers(0, 3))
def test_erf_cell_records_are_the_scapy_layer(linktypes, cell, time_ns, interface):
    from fractions import Fraction

    from scapy.packet import Raw

    rec = erf_cell_records(np.frombuffer(cell, np.uint8).reshape(1, 53), np.array([time_ns]), interface)[0].tobytes()
    head = int.from_bytes(cell[:4], "big")
    fields = dict(gfc=head >> 28, vpi=(head >> 20) & 0xFF, vci=(head >> 4) & 0xFFFF, pti=(head >> 1) & 7, clp=head & 1)
    built = linktypes.ERF(type=3, vlen=1, iface=interface) / linktypes.ERFATMCell(**fields) / Raw(cell[5:])
    built.time = Fraction(time_ns, 10**9)  # the layer computes ts from the packet time
    assert bytes(built) == rec
    pkt = linktypes.decode_erf(rec)
    assert (pkt.type, pkt.vlen, pkt.iface, pkt.rlen, pkt.lctr, pkt.wlen) == (3, 1, interface, 68, 0, 52)
    assert pkt.ts == erf_timestamp(time_ns)
    cell_layer = pkt[linktypes.ERFATMCell]
    assert {k: getattr(cell_layer, k) for k in fields} == fields
    assert bytes(cell_layer.payload) == cell[5:]


def test_erf_aal5_records_are_the_scapy_layer(linktypes):
    from fractions import Fraction

    from scapy.packet import Raw

    sd = status_enquiry_sd(2, 1)
    time_ns = 1_700_000_000_123_456_789
    built = linktypes.ERF(type=4, vlen=1) / linktypes.ERFAAL5(vpi=0, vci=5) / linktypes.AAL5CPCS() / Raw(sd)
    built.time = Fraction(time_ns, 10**9)
    cpcs = bytes(built)[20:]  # the layer computes pad, Length and CRC-32
    rec = erf_aal5_record(b"\x00\x00\x00\x50", cpcs, time_ns)
    assert bytes(built) == rec
    pkt = linktypes.decode_erf(rec)  # strict: CRC, Length, SSCOP
    assert pkt[linktypes.AAL5CPCS].crc_correct()
    assert (pkt.type, pkt.rlen, pkt.wlen) == (4, len(rec), len(rec) - 16)
