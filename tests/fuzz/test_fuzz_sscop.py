"""Fuzzing SSCOP PDUs (Q.2110 7.2): the scapy layers' strict decoder, the fast codec and scapy's lenient
dissection, on the same inputs, with the default limits and with small ones (k, j, MaxSTAT of 7.7).

Beyond random octets and mutated seeds (fuzzkit), structure-aware mutations of the trailer the
decoders read from the end: another PDU type in the type nibble, PL and reserved bits rewritten,
sequence numbers at their edges, STAT lists around MaxSTAT, information and UU parts around k and j,
a cut at a 32-bit word boundary (which passes the first check), and the data part of one PDU
spliced onto the trailer of another. Oracle (tools/fuzz/targets.py): the fast codec and the scapy
decoder give the same fields or the same error (offset, field); what decodes encodes back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.sscop import fastcodec
from firmware.sscop.layout import DEFAULT_LIMITS, TRAILER_OCTETS, PDUType
from fuzzkit import FUZZ, mutated, put_int, run, seeds, targets

SSCOP = targets("sscop.pdu")[0]


@pytest.mark.fuzz
@FUZZ
@given(data=st.binary(max_size=SSCOP.max_input))
def test_random_octets(data):
    run(SSCOP, data)


@pytest.mark.fuzz
@FUZZ
@given(data=mutated(seeds(SSCOP)))
def test_mutated_seeds(data):
    run(SSCOP, data)


_BIG_OK = (PDUType.BGN, PDUType.BGAK, PDUType.END, PDUType.RS, PDUType.BGREJ, PDUType.UD, PDUType.MD)


def _trailer_octets(pdu: bytes) -> int:
    code = pdu[-4] & 0x0F if len(pdu) >= 4 else 0
    return TRAILER_OCTETS[PDUType(code)] if code else 4


@st.composite
def trailer_mutated(draw, seeds):
    pdu = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        if len(pdu) < 4:
            break
        op = draw(st.sampled_from(("retype", "pl", "reserved", "seq", "list", "grow_part", "word_cut", "splice")))
        last = len(pdu) - 4
        if op == "retype":
            pdu[last] = pdu[last] & 0xF0 | draw(st.integers(0, 15))
        elif op == "pl":
            pdu[last] = pdu[last] & 0x3F | draw(st.integers(0, 3)) << 6
        elif op == "reserved":
            pdu[last] |= draw(st.sampled_from((0x10, 0x20, 0x30)))
            if len(pdu) >= 8:
                pdu[len(pdu) - 8] |= draw(st.integers(1, 255))
        elif op == "seq":
            word = draw(st.sampled_from((4, 8, 12)))
            if len(pdu) >= word:
                put_int(pdu, len(pdu) - word + 1, draw(st.sampled_from((0, 1, 0x7FFFFF, 0xFFFFFF))), 3)
        elif op == "list":  # STAT: list elements around MaxSTAT (67 by default; 2 under the small limits)
            n = draw(st.sampled_from((1, 2, 3, DEFAULT_LIMITS.max_stat - 1, DEFAULT_LIMITS.max_stat,
                                      DEFAULT_LIMITS.max_stat + 1)))
            pdu = bytearray(fastcodec.encode(PDUType.STAT, list_=[i * 2 for i in range(min(n, 67))], n_ps=1,
                                             n_mr=2, n_r=3))
            if n > 67:
                pdu[:0] = bytes(4 * (n - 67))
        elif op == "grow_part":  # information/UU parts around k and j (4096) and the small limits
            size = draw(st.sampled_from((0, 1, 3, 4, 5, 8, 9, 4095, 4096, 4097)))
            if size > 16:  # a UD, MD or UU part: an SD's would be dissected as Q.2931, slowly
                pdu = bytearray(draw(st.sampled_from([s for s in seeds if s[-4] & 0x0F in _BIG_OK])))
            pdu[:0] = draw(st.binary(min_size=min(size, 16), max_size=min(size, 16))) + bytes(max(0, size - 16))
        elif op == "word_cut":
            words = len(pdu) // 4
            keep = draw(st.integers(0, words))
            del pdu[: len(pdu) - 4 * keep]
        else:  # the data part of one PDU, the trailer of another
            other = draw(st.sampled_from(seeds))
            pdu = pdu[: len(pdu) - _trailer_octets(bytes(pdu))] + bytearray(other[-_trailer_octets(other):])
    return bytes(pdu)


@pytest.mark.fuzz
@FUZZ
@given(data=trailer_mutated(seeds(SSCOP)))
def test_trailers_mutated(data):
    run(SSCOP, data)
