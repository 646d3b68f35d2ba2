"""The message's list of information elements (message.py ``ElementListField``): each element is dissected
from its own octets - identifier, instruction, length and ``length`` octets of contents (Q.2931 4.5.1) -
never from the rest of the message, so decoding costs memory linear in the message (the quadratic case
is in tests/fuzz/test_fuzz_regressions.py). What the lenient layer and the strict decoder report about
elements that run past the message, unknown elements and truncated headers stays as it was."""

from __future__ import annotations

import pytest

import firmware.uni as uni
from firmware.uni.decode import decode_message
from firmware.uni.errors import UniDecodeError
from firmware.uni.ie import UnknownIE
from firmware.uni.message import Q2931

AESA = bytes(range(0x39, 0x39 + 20))
EMPTY_CALLED = b"\x70\x80\x00\x00"           # Called party number, no contents
UNKNOWN = b"\x7e\x80\x00\x03\xaa\xbb\xcc"    # an identifier Q.2931 does not define, 3 octets


def message(ies: bytes, message_type: int = 0x80, length: int | None = None) -> bytes:
    n = len(ies) if length is None else length
    return bytes([9, 3, 0, 0, 1, message_type, 0x80]) + n.to_bytes(2, "big") + ies


def test_each_element_holds_only_its_own_octets():
    raw = bytes(uni.AddParty(7, 3, AESA, aal=uni.aal5()))
    msg = Q2931(raw)
    frames, pos = [], 9
    for element in msg.ies:
        frames.append(raw[pos:pos + 4 + element.length])
        pos += 4 + element.length
    assert pos == len(raw)
    assert [bytes(e.original) for e in msg.ies] == frames
    assert bytes(msg) == raw                  # and the message builds back to the same octets


def test_unknown_element_is_kept_whole_between_known_ones():
    raw = message(EMPTY_CALLED + UNKNOWN + EMPTY_CALLED)
    msg = Q2931(raw)
    assert [type(e) for e in msg.ies][1] is UnknownIE
    assert bytes(msg.ies[1]) == UNKNOWN
    assert len(msg.ies) == 3 and bytes(msg) == raw


@pytest.mark.parametrize("tail", [b"\x70\x80", b"\x70\x80\x00\x09\x01\x02"], ids=["header", "contents"])
def test_element_cut_by_the_message_end_is_reported_as_before(tail):
    """The last element runs past the message (its header, or its length): it gets the octets left and
    says so; the strict decoder names it, at its offset."""
    raw = message(EMPTY_CALLED + tail)
    msg = Q2931(raw)
    assert len(msg.ies) == 2
    last = msg.ies[1]
    assert last.framed is False and bytes(last.original) == tail
    with pytest.raises(UniDecodeError) as info:
        decode_message(raw)
    assert (info.value.offset, info.value.field) == (9 + len(EMPTY_CALLED) + 2, "length")   # its length field


def test_message_length_shorter_than_the_elements_leaves_the_rest_outside():
    raw = message(EMPTY_CALLED + EMPTY_CALLED, length=4)
    msg = Q2931(raw)
    assert len(msg.ies) == 1 and bytes(msg.ies[0].original) == EMPTY_CALLED
