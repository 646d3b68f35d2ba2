"""The 15 SSCOP PDUs as scapy layers: octets as Q.2110 7.2 lays them out, read back from the trailer."""

from __future__ import annotations

import pytest
from scapy.packet import Raw

from firmware.sscop.layout import PDUType
from firmware.sscop.pdu import (
    BGAK, BGN, BGREJ, END, ENDAK, ER, ERAK, MD, PDU_CLASSES, POLL, RS, RSAK, SD, SSCOP, STAT, UD, USTAT,
    decode_sscop, payload_octets,
)


def words(*values: int) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in values)


# (layer as built, expected octets written from the Q.2110 7.2 table, not from the code under test).
# Last word: PL(2) | reserved(1) | S(1) | type(4) | 24-bit field.
CASES = [
    (BGN(n_sq=7, n_mr=100) / Raw(b"\x01\x02\x03"), b"\x01\x02\x03\x00" + words(0x07, 0x4100_0064)),
    (BGAK(n_mr=0xABCDEF), words(0, 0x02AB_CDEF)),
    (END(s=1) / Raw(b"uu"), b"uu\x00\x00" + words(0, 0x9300_0000)),
    (END(s=0), words(0, 0x0300_0000)),
    (ENDAK(), words(0, 0x0400_0000)),
    (RS(n_sq=0xFF, n_mr=1), words(0xFF, 0x0500_0001)),
    (RSAK(n_mr=257), words(0, 0x0600_0101)),
    (BGREJ() / Raw(b"abcde"), b"abcde\x00\x00\x00" + words(0, 0xC700_0000)),
    (SD(n_s=42) / Raw(b"\x09\x03\x00\x00\x01"), b"\x09\x03\x00\x00\x01\x00\x00\x00" + words(0xC800_002A)),
    (SD(n_s=0xFFFFFF) / Raw(b"abcd"), b"abcd" + words(0x08FF_FFFF)),
    (ER(n_sq=3, n_mr=77), words(3, 0x0900_004D)),
    (POLL(n_ps=5, n_s=6), words(5, 0x0A00_0006)),
    (STAT(n_ps=5, n_mr=100, n_r=9, list_=[11, 12, 20]), words(11, 12, 20, 5, 100, 0x0B00_0009)),
    (STAT(n_ps=1, n_mr=2, n_r=3), words(1, 2, 0x0B00_0003)),
    (USTAT(n_mr=100, n_r=9, list_=[11, 12]), words(11, 12, 100, 0x0C00_0009)),
    (UD() / Raw(b"x"), b"x\x00\x00\x00" + words(0xCD00_0000)),
    (MD() / Raw(b"mgmt"), b"mgmt" + words(0x0E00_0000)),
    (ERAK(n_mr=55), words(0, 0x0F00_0037)),
]


IDS = [built.summary() for built, _ in CASES]


@pytest.mark.parametrize("built, octets", CASES, ids=IDS)
def test_build_gives_the_standard_layout(built, octets):
    assert bytes(built) == octets


@pytest.mark.parametrize("built, octets", CASES, ids=IDS)
def test_dissect_reads_the_type_from_the_trailer(built, octets):
    pdu = SSCOP(octets)
    assert type(pdu) is type(built)
    assert pdu.type == type(built).pdu_type
    for name in ("n_s", "n_r", "n_mr", "n_ps", "n_sq", "s", "list_"):
        if name in built.fields:
            assert pdu.getfieldval(name) == built.getfieldval(name), name
    assert payload_octets(pdu) == (bytes(built.payload) if built.payload else b"")
    assert bytes(pdu) == octets  # every field kept: rebuilding gives the same octets


def test_all_fifteen_types_have_a_layer():
    assert sorted(PDU_CLASSES) == list(range(1, 16))
    assert {c.pdu_type for c in PDU_CLASSES.values()} == set(PDUType)
    assert len({c for built, _ in CASES for c in [type(built)]}) == 15


def test_pad_length_follows_the_data_length():
    for n in range(9):
        octets = bytes(SD(n_s=1) / Raw(b"d" * n))
        assert len(octets) % 4 == 0
        pdu = SSCOP(octets)
        assert pdu.pl == -n % 4 and pdu.pad == bytes(-n % 4)
        assert payload_octets(pdu) == b"d" * n


def test_reserved_bits_and_pad_octets_are_kept():
    # A peer that sets reserved bits and pads with junk: a receiver ignores them (Q.2110 7.2), the
    # layer keeps them so that re-encoding is exact.
    octets = b"ab\xee\xff" + words(0x1234_5607, 0xB100_0064)  # BGN, PL=2, reserved bits 11
    pdu = decode_sscop(octets)
    assert isinstance(pdu, BGN)
    assert (pdu.pad, pdu.rsvd, pdu.rsvd_sq, pdu.n_sq, pdu.n_mr) == (b"\xee\xff", 3, 0x123456, 7, 100)
    assert payload_octets(pdu) == b"ab"
    assert bytes(pdu) == octets


def test_stat_list_reserved_octets_are_kept():
    octets = words(0x0100_000B, 0x0000_000C, 5, 100, 0x0B00_0009)
    pdu = decode_sscop(octets)
    assert pdu.list_ == [11, 12] and pdu.list_rsvd == b"\x01\x00"
    assert bytes(pdu) == octets


def test_end_source_bit():
    assert decode_sscop(words(0, 0x1300_0000)).s == 1  # sent by SSCOP itself
    assert decode_sscop(words(0, 0x0300_0000)).s == 0  # sent by the SSCOP user


def test_explicit_pad_sets_pl():
    octets = bytes(SD(n_s=3, pad=b"\xaa") / Raw(b"abc"))
    assert octets == b"abc\xaa" + words(0x4800_0003)


def test_dispatcher_builds_by_type():
    assert isinstance(SSCOP(type=0xA, n_s=3), POLL)
    assert bytes(SSCOP(type=0xA, n_s=3, n_ps=2)) == words(2, 0x0A00_0003)


@pytest.mark.parametrize("octets", [b"", b"\x01", b"\x00\x00\x00\x00", b"\x00\x00\x00\x01", b"\x0b" * 8])
def test_lenient_dissection_gives_raw_for_what_is_not_a_pdu(octets):
    # Type 0, or shorter than the type's trailer: scapy's dissection stays lenient (Raw), the strict
    # decoder raises (tests in test_decode_errors.py).
    assert isinstance(SSCOP(octets), Raw)


def test_summary_names_the_sequence_numbers():
    assert SSCOP(bytes(POLL(n_ps=5, n_s=6))).summary() == "SSCOP POLL n_ps=5 n_s=6"
