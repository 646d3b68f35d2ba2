"""Fuzzing the link-layer record decoders: LINKTYPE_SUNATM (123) and LINKTYPE_ERF (197), each strict
decoder and scapy's lenient dissection of the same record.

Beyond random octets and mutated seeds (fuzzkit), records rebuilt field by field: the SunATM
pseudo-header (direction, reserved bits, traffic type, VPI/VCI on and off the signalling channel)
over an SSCOP PDU that is itself mutated; the ERF header's rlen off by a little, its flags
(truncated, RX error, varlen), its type with and without the extension bit, chains of extension
headers; an AAL5 record's CPCS-PDU with its Length and SDU rewritten under a CRC-32 stamped again, so
that the decoder reaches the Length checks and the SSCOP PDU inside."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzzkit import EDGE_INTS, FUZZ, apply, mutated, mutation_list, nudge, put_int, run, seeds, targets
from hw.aal5 import cpcs_pdu, crc32
from tools.fuzz.corpus import sscop_pdus

LINK_TARGETS = targets("link.sunatm", "link.erf")


@pytest.mark.fuzz
@pytest.mark.parametrize("target", LINK_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_random_octets(target, data):
    run(target, data.draw(st.binary(max_size=target.max_input)))


@pytest.mark.fuzz
@pytest.mark.parametrize("target", LINK_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_mutated_seeds(target, data):
    run(target, data.draw(mutated(seeds(target))))


@st.composite
def sscop_inside(draw) -> bytes:
    """An SSCOP PDU of any type, valid or mutated."""
    pdu = draw(st.sampled_from(sscop_pdus()))
    return apply(pdu, draw(mutation_list(2)), draw(st.sampled_from(sscop_pdus()))) if draw(st.booleans()) else pdu


@st.composite
def sunatm_rebuilt(draw) -> bytes:
    first = draw(st.integers(0, 1)) << 7 | draw(st.sampled_from((0, 0x10, 0x70))) | draw(st.integers(0, 15))
    vpi, vci = draw(st.sampled_from(((0, 5), (0, 16), (1, 5), (0, 0), (255, 0xFFFF))))
    return bytes((first, vpi)) + vci.to_bytes(2, "big") + draw(sscop_inside())


@pytest.mark.fuzz
@FUZZ
@given(record=sunatm_rebuilt())
def test_sunatm_records_rebuilt(record):
    run("link.sunatm", record)


@st.composite
def erf_rebuilt(draw) -> bytes:
    """An ERF record (AAL5 or cell) with header fields, extension headers and the AAL5 body rewritten."""
    if draw(st.booleans()):  # AAL5: cell header + CPCS-PDU
        vpi_vci = draw(st.sampled_from(((0, 5), (0, 5), (1, 40), (0, 0))))
        cell_header = (vpi_vci[0] << 20 | vpi_vci[1] << 4).to_bytes(4, "big")
        pdu = bytearray(cpcs_pdu(draw(sscop_inside())))
        if draw(st.booleans()):  # the Length field rewritten, the CRC made right again
            if draw(st.booleans()):
                nudge(pdu, len(pdu) - 6, 2, draw(st.integers(-8, 8)))
            else:
                put_int(pdu, len(pdu) - 6, draw(st.sampled_from(EDGE_INTS)), 2)
            pdu[-4:] = crc32(bytes(pdu[:-4])).to_bytes(4, "big")
        body, erf_type = cell_header + bytes(pdu), 4
    else:
        body, erf_type = draw(st.binary(min_size=50, max_size=54)), 3
    # each header field mostly right, so that most records reach the body (and the SSCOP PDU in it)
    erf_type = draw(st.sampled_from((erf_type,) * 6 + (0, 1, 2, 3, 4, 5, 0x7F)))
    extensions = b""
    for k in range(n := draw(st.integers(0, 3))):  # each one's bit 7: another follows
        more = draw(st.booleans()) if k == n - 1 else True
        extensions += bytes((0x80 if more else 0,)) + draw(st.binary(min_size=7, max_size=7))
    if n:
        erf_type |= 0x80
    flags = draw(st.sampled_from((0x04,) * 6 + (0x00, 0x05, 0x07, 0x0C, 0x14, 0x24, 0xC4, 0xFF)))
    header = bytearray(draw(st.binary(min_size=8, max_size=8)) + bytes((erf_type, flags)) + bytes(6))
    record = header + extensions + body
    rlen = len(record) + draw(st.sampled_from((0,) * 6 + (-8, -1, 1, 4, 0xFFFF)))
    put_int(record, 10, rlen, 2)
    put_int(record, 14, draw(st.one_of(st.just(len(body)), st.integers(0, 0xFFFF))), 2)
    return bytes(record)


@pytest.mark.fuzz
@FUZZ
@given(record=erf_rebuilt())
def test_erf_records_rebuilt(record):
    run("link.erf", record)
