"""The ATM pcap link types: SunATM (123) and ERF (197) as scapy layers registered for rdpcap, and their
strict decoders."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.l2 import LLC
from scapy.packet import Raw
from scapy.utils import rdpcap, wrpcap

import hw.aal5
from captures.linktypes import (AAL5CPCS, ERF, ERFAAL5, ERFATMCell, LINKTYPE_ERF, LINKTYPE_SUNATM,
                                LinkTypeDecodeError, SunATM, decode_erf, decode_sunatm)
from captures.linktypes.erf import erf_seconds, erf_timestamp
from firmware.sscop import fastcodec
from firmware.sscop.errors import SSCOPDecodeError
from firmware.sscop.layout import PDUType
from firmware.sscop.pdu import POLL, SD, SSCOP, STAT, payload_octets
from hw.errors import DecodeError

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))
MESSAGE = bytes.fromhex("090300002a800000000000")  # a Q.2931-shaped SDU payload (content irrelevant here)


def sd_octets(n_s: int = 7, data: bytes = MESSAGE) -> bytes:
    return fastcodec.encode_sd(n_s, data)


def sunatm_record(sdu: bytes) -> bytes:
    """A SunATM record written by hand from the format: DTE->DCE, Q.SAAL, VPI 0, VCI 5."""
    return b"\x86\x00\x00\x05" + sdu


def erf_aal5(sdu: bytes, *, vpi: int = 0, vci: int = 5, ts: int = 0) -> bytes:
    """An ERF type 4 record written by hand from the format (and hw.aal5's CPCS-PDU)."""
    body = (vpi << 20 | vci << 4).to_bytes(4, "big") + hw.aal5.cpcs_pdu(sdu)
    return (ts.to_bytes(8, "little") + bytes([4, 0]) + (16 + len(body)).to_bytes(2, "big") + bytes(2)
            + len(body).to_bytes(2, "big") + body)


# --- SunATM -------------------------------------------------------------------------------------------

def test_sunatm_pseudo_header_layout():
    octets = bytes(SunATM(dir=1, type=6, vpi=0, vci=5) / SD(n_s=9) / Raw(MESSAGE))
    assert octets[:4] == b"\x86\x00\x00\x05"
    assert octets[4:] == sd_octets(9)
    assert bytes(SunATM(dir=0, type=2, vpi=0x12, vci=0x3456)) == b"\x02\x12\x34\x56"


@pytest.mark.parametrize("traffic, vpi, vci, layer", [
    (6, 0, 5, SD),          # Q.SAAL signalling
    (6, 1, 99, SD),         # type 6 names SSCOP on any VC
    (3, 0, 5, SD),          # MARS on the signalling VC: Wireshark still decodes SSCOP
    (1, 0, 5, Raw),         # LANE, LLC and ILMI never go to SSCOP
    (5, 0, 5, Raw),
    (4, 0, 32, Raw),
])
def test_sunatm_payload_follows_traffic_type_and_vc(traffic, vpi, vci, layer):
    record = bytes([0x80 | traffic, vpi]) + vci.to_bytes(2, "big") + sd_octets()
    assert isinstance(SunATM(record).payload, layer)


def test_sunatm_llc_traffic_is_llc():
    record = b"\x02\x00\x00\x20" + b"\xaa\xaa\x03\x00\x00\x00\x08\x00"
    assert isinstance(SunATM(record).payload, LLC)


def test_sunatm_rdpcap_round_trip(tmp_path):
    path = tmp_path / "sig.pcap"
    frames = [SunATM() / SD(n_s=n) / Raw(MESSAGE) for n in (1, 2)] + [SunATM(dir=0) / POLL(n_ps=3, n_s=4)]
    wrpcap(str(path), frames)
    assert path.read_bytes()[20:24] == LINKTYPE_SUNATM.to_bytes(4, "little")
    back = rdpcap(str(path))
    assert [type(p) for p in back] == [SunATM] * 3
    assert [p[SSCOP].__class__ for p in back] == [SD, SD, POLL]
    assert [p[SD].n_s for p in back[:2]] == [1, 2] and back[2][POLL].n_ps == 3
    assert payload_octets(back[0][SD]) == MESSAGE
    assert back[2].dir == 0


# --- ERF ------------------------------------------------------------------------------------------------

def test_erf_aal5_record_matches_the_format_and_hw_aal5():
    built = bytes(ERF(ts=erf_timestamp(1_700_000_000.5)) / ERFAAL5(vpi=0, vci=5) / AAL5CPCS()
                  / SD(n_s=7) / Raw(MESSAGE))
    assert built == erf_aal5(sd_octets(7), ts=erf_timestamp(1_700_000_000.5))
    assert built[:8] == ((1_700_000_000 << 32) | 0x8000_0000).to_bytes(8, "little")  # 32.32, little-endian


def test_erf_aal5_dissection_checks_the_crc():
    record = erf_aal5(sd_octets(11))
    pdu = ERF(record)
    cpcs = pdu[AAL5CPCS]
    assert (pdu.type, pdu.rlen, pdu.wlen) == (4, len(record), len(record) - 16)
    assert (pdu[ERFAAL5].vpi, pdu[ERFAAL5].vci, cpcs.length) == (0, 5, len(sd_octets(11)))
    assert cpcs.crc_correct() and "(correct)" in cpcs.sprintf("%crc%")
    assert pdu[SD].n_s == 11 and payload_octets(pdu[SD]) == MESSAGE
    broken = bytearray(record)
    broken[-1] ^= 0x01
    assert not ERF(bytes(broken))[AAL5CPCS].crc_correct()
    assert "(incorrect)" in ERF(bytes(broken))[AAL5CPCS].sprintf("%crc%")
    assert bytes(pdu) == record


def test_erf_aal5_off_the_signalling_vc_is_not_sscop():
    pdu = ERF(erf_aal5(sd_octets(), vpi=1, vci=100))
    assert not pdu.haslayer(SSCOP) and isinstance(pdu[AAL5CPCS].payload, Raw)


def test_erf_atm_cell_header_fields():
    # GFC 0xA, VPI 0x12, VCI 0x3456, PTI 5 (end-to-end F5 OAM), CLP 1
    record = bytes(ERF(ts=0, type=3) / ERFATMCell(gfc=0xA, vpi=0x12, vci=0x3456, pti=5, clp=1) / Raw(bytes(48)))
    assert record[8] == 3 and record[16:20] == bytes([0xA1, 0x23, 0x45, 0x6B])
    cell = decode_erf(record)[ERFATMCell]
    assert (cell.gfc, cell.vpi, cell.vci, cell.pti, cell.clp) == (0xA, 0x12, 0x3456, 5, 1)
    assert len(cell.payload) == 48


def test_erf_extension_headers_are_kept():
    headers = [0x8100_0000_0000_0001, 0x0500_0000_0000_0002]  # first one says another follows
    record = bytes(ERF(ts=0, type=3, ext_headers=headers) / ERFATMCell() / Raw(bytes(48)))
    assert record[8] == 0x83 and int.from_bytes(record[10:12], "big") == 16 + 16 + 52
    pdu = decode_erf(record)
    assert pdu.ext_headers == headers and isinstance(pdu.payload, ERFATMCell)


def test_erf_timestamp_is_exact():
    assert erf_seconds(erf_timestamp(12.25)) == 12.25
    assert erf_timestamp(1) == 1 << 32


def test_erf_rdpcap_round_trip(tmp_path):
    path = tmp_path / "cells.pcap"
    frames = [ERF(ts=0) / ERFAAL5() / AAL5CPCS() / STAT(n_ps=1, n_mr=2, n_r=3, list_=[4, 5]),
              ERF(ts=0, type=3) / ERFATMCell(vci=5, pti=1) / Raw(bytes(48))]
    wrpcap(str(path), frames)
    assert path.read_bytes()[20:24] == LINKTYPE_ERF.to_bytes(4, "little")
    back = rdpcap(str(path))
    assert back[0][STAT].list_ == [4, 5] and back[0][AAL5CPCS].crc_correct()
    assert isinstance(back[1].payload, ERFATMCell)


# --- strict decoders --------------------------------------------------------------------------------------

def _bad_sunatm():
    good = sunatm_record(sd_octets())
    return [
        (b"\x86\x00", 2, "pseudo-header", LinkTypeDecodeError),
        (b"\x80" + good[1:], 0, "type", LinkTypeDecodeError),          # traffic type 0
        (b"\x8f" + good[1:], 0, "type", LinkTypeDecodeError),          # traffic type 15
        (good[:4], 4, "trailer", SSCOPDecodeError),                     # no SSCOP PDU at all
        (good + b"\x00", 4 + len(sd_octets()), "length", SSCOPDecodeError),
        (good[:4] + b"\x00\x00\x00\x00", 4, "PDU type", SSCOPDecodeError),
        (b"\x86\x00\x00\x05" + bytes(65536), 4 + 65535, "SDU", LinkTypeDecodeError),
    ]


@pytest.mark.parametrize("record, offset, field, error", _bad_sunatm())
def test_sunatm_strict_decode_errors(record, offset, field, error):
    with pytest.raises(error) as err:
        decode_sunatm(record)
    assert isinstance(err.value, DecodeError)
    assert (err.value.offset, err.value.field) == (offset, field)


def _with(record: bytes, at: int, octets: bytes) -> bytes:
    return record[:at] + octets + record[at + len(octets):]


def _bad_erf():
    good = erf_aal5(sd_octets())
    n = len(good)
    cell = bytes(ERF(ts=0, type=3) / ERFATMCell() / Raw(bytes(48)))
    bad_crc = _with(good, n - 1, bytes([good[-1] ^ 1]))
    # An SD whose PL says 3 pad octets but which has none: a valid CPCS-PDU around an invalid SSCOP PDU.
    bad_sscop = erf_aal5(bytes([0xC8, 0, 0, 1]))
    return [
        (good[:15], 15, "header", LinkTypeDecodeError),
        (good[:-1], 10, "rlen", LinkTypeDecodeError),
        (_with(good, 10, (n + 8).to_bytes(2, "big")), 10, "rlen", LinkTypeDecodeError),
        (_with(good, 9, b"\x08"), 9, "flags.trunc", LinkTypeDecodeError),
        (_with(good, 8, b"\x02"), 8, "type", LinkTypeDecodeError),
        (_with(cell[:20], 8, b"\x83\x00\x00\x14"), 16, "extension header", LinkTypeDecodeError),
        (_with(cell[:-1], 10, (len(cell) - 1).to_bytes(2, "big")), 16, "cell", LinkTypeDecodeError),
        (bad_crc, n - 4, "CRC-32", LinkTypeDecodeError),
        (bad_sscop, 20, "PL", SSCOPDecodeError),
        (erf_aal5(b""), n - 6, "Length", LinkTypeDecodeError),   # abort: Length 0
    ]


@pytest.mark.parametrize("record, offset, field, error", _bad_erf())
def test_erf_strict_decode_errors(record, offset, field, error):
    with pytest.raises(error) as err:
        decode_erf(record)
    assert isinstance(err.value, DecodeError)
    assert (err.value.offset, err.value.field) == (offset, field)
    assert f"offset {offset}" in str(err.value)


def test_erf_cpcs_pdu_not_a_whole_number_of_cells():
    good = erf_aal5(sd_octets())
    short = _with(good[:-8], 10, (len(good) - 8).to_bytes(2, "big"))
    with pytest.raises(LinkTypeDecodeError) as err:
        decode_erf(short)
    assert err.value.offset >= 20 and "48" in err.value.reason


# --- fuzz -------------------------------------------------------------------------------------------------

@st.composite
def mutated_records(draw):
    kind = draw(st.sampled_from(["sunatm", "erf"]))
    code = draw(st.sampled_from([PDUType.SD, PDUType.POLL, PDUType.STAT, PDUType.BGN]))
    payload = draw(st.binary(max_size=20)) if code in (PDUType.SD, PDUType.BGN) else b""
    sscop = fastcodec.encode(code, payload)
    record = bytearray(sunatm_record(sscop) if kind == "sunatm" else erf_aal5(sscop))
    for _ in range(draw(st.integers(0, 3))):
        if not record:
            break
        i = draw(st.integers(0, len(record) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            record[i] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del record[i:]
        else:
            record[i:i] = draw(st.binary(min_size=1, max_size=4))
    return kind, bytes(record)


def _check_record(kind: str, record: bytes) -> None:
    decoder, layer = (decode_sunatm, SunATM) if kind == "sunatm" else (decode_erf, ERF)
    lenient = layer(record)  # scapy dissection never raises
    try:
        strict = decoder(record)
    except (LinkTypeDecodeError, SSCOPDecodeError) as err:
        assert 0 <= err.offset <= len(record) and err.field and err.reason
        return
    assert bytes(strict) == bytes(lenient) == record
    if strict.haslayer(SSCOP):
        sscop = strict[SSCOP]
        assert fastcodec.decode(bytes(sscop)).fields == sscop.fields


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(case=mutated_records())
def test_fuzz_mutated_records(case):
    _check_record(*case)


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(kind=st.sampled_from(["sunatm", "erf"]), record=st.binary(max_size=120))
def test_fuzz_random_records(kind, record):
    _check_record(kind, record)


# --- down to Q.2931 -------------------------------------------------------------------------------------------

def test_rdpcap_decodes_down_to_q2931(tmp_path):
    """Importing captures.linktypes is all the setup rdpcap needs: SunATM and ERF records of the
    signalling channel come back as SSCOP SD PDUs over the Q.2931 message class of their type."""
    from firmware.uni import AddParty, AddPartyMessage, DropPartyAcknowledge, DropPartyAcknowledgeMessage, Q2931

    add = AddParty(0x1234, 5, "+4930999")
    ack = DropPartyAcknowledge(0x1234, 5, 16)
    sunatm, erf = tmp_path / "sunatm.pcap", tmp_path / "erf.pcap"
    wrpcap(str(sunatm), [SunATM() / SD(n_s=1) / add, SunATM() / SD(n_s=2) / ack])
    wrpcap(str(erf), [ERF(ts=0) / ERFAAL5() / AAL5CPCS() / SD(n_s=1) / add,
                      ERF(ts=0) / ERFAAL5() / AAL5CPCS() / SD(n_s=2) / ack])
    for path in (sunatm, erf):
        first, second = rdpcap(str(path))
        assert isinstance(first[Q2931], AddPartyMessage) and isinstance(second[Q2931], DropPartyAcknowledgeMessage)
        assert first[Q2931].call_ref == 0x1234 and bytes(first[Q2931]) == bytes(add)
        assert [p[SD].n_s for p in (first, second)] == [1, 2]
