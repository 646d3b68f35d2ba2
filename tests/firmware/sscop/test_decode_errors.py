"""The strict SSCOP decoders answer what a Q.2110 receiver discards with a typed error naming the
offset and the field; the scapy path and the fast path say the same thing."""

from __future__ import annotations

import pytest

from firmware.sscop import fastcodec
from firmware.sscop.errors import SSCOPDecodeError
from firmware.sscop.layout import SSCOPLimits
from firmware.sscop.pdu import decode_sscop
from hw.errors import DecodeError


def words(*values: int) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in values)


# (octets, offset, field, words the reason must contain)
BAD = [
    (b"", 0, "trailer", "truncated"),
    (b"\x08\x00\x00", 3, "trailer", "truncated"),
    (b"abcde" + words(0x0800_0001), 8, "length", "32-bit"),
    (words(0, 0x0000_0001), 4, "PDU type", "0 is not"),
    (words(0x0100_0001), 0, "N(SQ)", "truncated"),           # BGN without its N(SQ) word
    (words(0x0200_0001), 0, "reserved word", "truncated"),   # BGAK without its reserved word
    (words(1, 0x0B00_0001), 0, "N(PS)", "truncated"),        # STAT needs 12 octets
    (words(1, 2, 0x0C00_0001), 0, "list element 1", "truncated"),
    (words(0, 0, 0x0400_0000), 0, "length", "oversized"),    # ENDAK is exactly 8 octets
    (words(0, 0, 0x0A00_0001), 0, "length", "oversized"),    # POLL
    (words(0, 0, 0, 0, 0x0C00_0001), 0, "length", "oversized"),  # USTAT is 16
    (words(0xC800_0001), 0, "PL", "pad length 3"),           # SD with PL=3 and no data at all
    (words(0, 0xC100_0001), 4, "PL", "pad length 3"),        # BGN, PL=3, no UU
]


@pytest.mark.parametrize("octets, offset, field, reason", BAD)
def test_invalid_pdus_raise_a_typed_error(octets, offset, field, reason):
    for decoder in (decode_sscop, fastcodec.decode):
        with pytest.raises(SSCOPDecodeError) as err:
            decoder(octets)
        assert isinstance(err.value, DecodeError)
        assert (err.value.offset, err.value.field) == (offset, field)
        assert reason in err.value.reason
        assert f"offset {offset}" in str(err.value) and field in str(err.value)


def test_base_offset_points_into_the_enclosing_record():
    with pytest.raises(SSCOPDecodeError) as err:
        decode_sscop(words(0, 0x0000_0001), offset=4)
    assert err.value.offset == 8


def test_length_limits_of_q2110_parameters():
    limits = SSCOPLimits(k=8, j=4, max_stat=2)
    assert fastcodec.decode(b"d" * 8 + words(0x0800_0000), limits=limits).payload == b"d" * 8
    with pytest.raises(SSCOPDecodeError, match="k=8") as err:
        decode_sscop(b"d" * 12 + words(0x0800_0000), limits=limits)
    assert err.value.field == "information"
    with pytest.raises(SSCOPDecodeError, match="j=4") as err:
        fastcodec.decode(b"u" * 8 + words(1, 0x0100_0000), limits=limits)
    assert err.value.field == "SSCOP-UU"
    with pytest.raises(SSCOPDecodeError, match="MaxSTAT=2") as err:
        decode_sscop(words(1, 2, 3, 0, 0, 0x0B00_0000), limits=limits)
    assert err.value.field == "list"


def test_pad_is_not_counted_against_k():
    # k bounds the information field; the pad that aligns it is not information.
    limits = SSCOPLimits(k=5)
    assert fastcodec.decode(b"d" * 5 + bytes(3) + words(0xC800_0000), limits=limits).payload == b"d" * 5


def test_error_carries_the_pdu_type_when_known():
    with pytest.raises(SSCOPDecodeError) as err:
        decode_sscop(words(0, 0, 0x0F00_0001))
    assert err.value.pdu_type == 0xF
