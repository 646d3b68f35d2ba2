"""Fuzz the SSCOP decoders with random and mutated PDUs: only typed errors, never another exception;
the fast path and the scapy path agree on every input; scapy's own dissection never raises."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sscop import fastcodec
from firmware.sscop.errors import SSCOPDecodeError
from firmware.sscop.layout import PDUType
from firmware.sscop.pdu import PDU_CLASSES, SSCOP, decode_sscop, payload_octets

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))


def outcome(decoder, octets):
    """What a decoder says about ``octets``: ("error", offset, field) or ("ok", type, fields, payload)."""
    try:
        result = decoder(octets)
    except SSCOPDecodeError as err:
        assert 0 <= err.offset <= len(octets), err
        assert err.field and err.reason
        return ("error", err.offset, err.field)
    if isinstance(result, fastcodec.Decoded):
        return ("ok", int(result.type), result.fields, result.payload)
    return ("ok", int(result.pdu_type), result.fields, payload_octets(result))


def check(octets: bytes) -> None:
    fast = outcome(fastcodec.decode, octets)
    assert fast == outcome(decode_sscop, octets)
    lenient = SSCOP(octets)  # scapy's own dissection: must not raise, whatever the input
    if fast[0] == "ok":
        assert fastcodec.encode(fast[1], fast[3], **fast[2]) == octets
        assert bytes(lenient) == octets


@st.composite
def valid_pdus(draw) -> bytes:
    code = draw(st.sampled_from(list(PDUType)))
    payload = b""
    fields = {}
    if code in (PDUType.BGN, PDUType.BGAK, PDUType.END, PDUType.RS, PDUType.BGREJ,
                PDUType.SD, PDUType.UD, PDUType.MD):
        payload = draw(st.binary(max_size=24))
    if code == PDUType.STAT:
        fields["list_"] = draw(st.lists(st.integers(0, 0xFFFFFF), max_size=5))
    for name in ("n_s", "n_r", "n_mr", "n_ps"):
        fields[name] = draw(st.integers(0, 0xFFFFFF))
    known = {f.name for f in PDU_CLASSES[code].fields_desc}
    return fastcodec.encode(code, payload, **{k: v for k, v in fields.items() if k in known})


@st.composite
def mutated(draw) -> bytes:
    octets = bytearray(draw(valid_pdus()))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "cut_front", "cut_end", "grow", "retype"]))
        if kind == "flip" and octets:
            i = draw(st.integers(0, len(octets) - 1))
            octets[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut_front":
            del octets[: draw(st.integers(0, len(octets)))]
        elif kind == "cut_end":
            del octets[len(octets) - draw(st.integers(0, len(octets))):]
        elif kind == "grow":
            octets[0:0] = draw(st.binary(min_size=1, max_size=9))
        elif kind == "retype" and len(octets) >= 4:
            octets[-4] = octets[-4] & 0xF0 | draw(st.integers(0, 15))
    return bytes(octets)


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(octets=st.binary(max_size=64))
def test_random_bytes(octets):
    check(octets)


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(octets=mutated())
def test_mutated_valid_pdus(octets):
    check(octets)
