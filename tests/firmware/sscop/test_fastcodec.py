"""The fast SSCOP codec is byte-identical with the scapy layers, on all 15 PDU types with random fields.

The field ranges are read from the scapy layers (the definition), so a layer and the fast codec that
disagree on a width or a position fail here."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scapy.fields import BitField, ByteField, ThreeBytesField, XIntField
from scapy.packet import Raw

from firmware.sscop import fastcodec
from firmware.sscop.errors import SSCOPFieldError
from firmware.sscop.layout import PADDED_TYPES, TRAILER_OCTETS, PDUType, SSCOPLimits
from firmware.sscop.pdu import PDU_CLASSES, SSCOP, decode_sscop, payload_octets

EXAMPLES = 60


def _width(field) -> int | None:
    if isinstance(field, BitField):
        return field.size
    if isinstance(field, ThreeBytesField):
        return 24
    if isinstance(field, ByteField):
        return 8
    if isinstance(field, XIntField):
        return 32
    return None


@st.composite
def pdus(draw, code=None):
    """(layer class, fields, payload): every numeric field random over its full width (reserved ones
    included), random data/UU with a random or default pad, random STAT/USTAT lists."""
    code = draw(st.sampled_from(list(PDUType))) if code is None else code
    cls = PDU_CLASSES[code]
    fields: dict = {}
    for f in cls.fields_desc:
        bits = _width(f)
        if f.name in ("type", "pl") or bits is None:
            continue
        if draw(st.booleans()):  # sometimes leave a field to its default
            fields[f.name] = draw(st.integers(0, (1 << bits) - 1))
    payload = b""
    if code in PADDED_TYPES:
        payload = draw(st.binary(max_size=64))
        pl = -len(payload) % 4
        choice = draw(st.sampled_from(["default", "pl", "pad"]))
        if choice == "pl":
            fields["pl"] = pl
        elif choice == "pad":
            fields["pad"] = draw(st.binary(min_size=pl, max_size=pl))
    if code == PDUType.STAT:
        fields["list_"] = draw(st.lists(st.integers(0, 0xFFFFFF), max_size=10))
    if code == PDUType.USTAT:
        fields["list_"] = draw(st.lists(st.integers(0, 0xFFFFFF), min_size=2, max_size=2))
    if code in (PDUType.STAT, PDUType.USTAT) and fields.get("list_") and draw(st.booleans()):
        fields["list_rsvd"] = draw(st.binary(min_size=len(fields["list_"]), max_size=len(fields["list_"])))
    return cls, fields, payload


def scapy_octets(cls, fields, payload) -> bytes:
    layer = cls(**fields)
    return bytes(layer / Raw(payload)) if payload else bytes(layer)


@pytest.mark.parametrize("code", list(PDUType), ids=lambda t: t.name)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_encode_is_byte_identical_with_scapy(code, data):
    cls, fields, payload = data.draw(pdus(code))
    octets = scapy_octets(cls, fields, payload)
    assert fastcodec.encode(code, payload, **fields) == octets
    if code == PDUType.SD and "pad" not in fields and "rsvd" not in fields and "pl" not in fields:
        assert fastcodec.encode_sd(fields.get("n_s", 0), payload) == octets


@pytest.mark.parametrize("code", list(PDUType), ids=lambda t: t.name)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_decode_is_field_identical_with_scapy(code, data):
    cls, fields, payload = data.draw(pdus(code))
    octets = scapy_octets(cls, fields, payload)
    fast = fastcodec.decode(octets)
    layer = decode_sscop(octets)
    assert type(layer) is cls and fast.type == code
    assert fast.fields == layer.fields
    assert fast.payload == payload_octets(layer) == payload
    for name, value in fields.items():
        expected = value if name != "list_rsvd" or any(value) else b""  # all-zero reads as b""
        assert fast.fields[name] == expected, name


@settings(max_examples=EXAMPLES * 3)
@given(code=st.sampled_from(list(PDUType)), words=st.integers(0, 12), data=st.data())
def test_every_valid_pdu_reencodes_to_itself(code, words, data):
    """From the octets side: any bytes a receiver accepts (random reserved bits, pad octets, list
    words) decode to fields from which both encoders give back exactly those bytes."""
    variable = 4 * words if code in PADDED_TYPES or code == PDUType.STAT else 0
    front = data.draw(st.binary(min_size=variable + TRAILER_OCTETS[code] - 4,
                                max_size=variable + TRAILER_OCTETS[code] - 4))
    last = data.draw(st.integers(0, 0xFFFFFFFF)) & ~0x0F00_0000 | int(code) << 24
    if code in PADDED_TYPES:
        assume(last >> 30 <= variable)  # else PL is longer than the part: the fuzz test's business
    octets = front + last.to_bytes(4, "big")
    fast = fastcodec.decode(octets)
    layer = SSCOP(octets)
    assert fast.fields == layer.fields
    assert fastcodec.encode(fast.type, fast.payload, **fast.fields) == octets
    rebuilt = layer.__class__(**layer.fields)
    assert bytes(rebuilt / Raw(fast.payload) if fast.payload else rebuilt) == octets


def test_decode_of_each_type_names_its_sequence_numbers():
    assert fastcodec.decode(fastcodec.encode(PDUType.POLL, n_ps=5, n_s=6)).fields["n_ps"] == 5
    stat = fastcodec.decode(fastcodec.encode(PDUType.STAT, n_ps=1, n_mr=2, n_r=3, list_=[4, 5, 6]))
    assert (stat.fields["n_r"], stat.fields["n_mr"], stat.fields["n_ps"], stat.fields["list_"]) == (3, 2, 1, [4, 5, 6])
    sd = fastcodec.decode(fastcodec.encode_sd(99, b"hello"))
    assert (sd.type, sd.fields["n_s"], sd.fields["pl"], sd.payload) == (PDUType.SD, 99, 3, b"hello")


@pytest.mark.parametrize("call, field", [
    (lambda: fastcodec.encode(PDUType.SD, b"x", n_s=1 << 24), "SD.n_s"),
    (lambda: fastcodec.encode(PDUType.BGN, n_sq=256), "BGN.n_sq"),
    (lambda: fastcodec.encode(PDUType.SD, b"x", n_s=-1), "SD.n_s"),
    (lambda: fastcodec.encode(PDUType.POLL, n_s=True), "POLL.n_s"),
    (lambda: fastcodec.encode(PDUType.POLL, n_mr=1), "n_mr"),                  # not a POLL field
    (lambda: fastcodec.encode(PDUType.ENDAK, b"data"), "payload"),             # ENDAK carries none
    (lambda: fastcodec.encode(PDUType.SD, b"abc", pl=0), "pl"),                # pad must align
    (lambda: fastcodec.encode(PDUType.SD, b"abc", pl=1, pad=b"\x00\x00"), "pad"),
    (lambda: fastcodec.encode(PDUType.USTAT, list_=[1]), "list_"),
    (lambda: fastcodec.encode(PDUType.STAT, list_=[1, 2], list_rsvd=b"\x00"), "list_rsvd"),
    (lambda: fastcodec.encode(PDUType.STAT, list_=[1 << 24]), "STAT.list_"),
    (lambda: fastcodec.encode(PDUType.SD, b"x" * 9, limits=SSCOPLimits(k=8)), "information"),
    (lambda: fastcodec.encode(PDUType.STAT, list_=[1, 2, 3], limits=SSCOPLimits(max_stat=2)), "list_"),
    (lambda: fastcodec.encode(0), "type"),
    (lambda: fastcodec.encode(PDUType.SD, type=9), "type"),
    (lambda: fastcodec.encode_sd(1 << 24, b""), "SD.n_s"),
])
def test_encoder_refuses_what_decode_would_not_accept(call, field):
    with pytest.raises(SSCOPFieldError) as err:
        call()
    assert err.value.field == field
