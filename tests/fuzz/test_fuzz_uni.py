"""Fuzzing the Q.2931/Q.2971 decoders: whole messages (the strict scapy decoder and the fast codec),
single information elements, and messages inside SSCOP SD PDUs (the SAAL decoder).

Beyond random octets and mutated seeds (fuzzkit), structure-aware mutations at the level a receiver
parses (Q.2931 4.5.1): elements dropped, repeated, swapped, or taken from another message; an
element's length off by a little or at an edge; its instruction octet rewritten (coding standard,
flag, action indicator of 5.7.2: the decoders then disagree with the contents tables on purpose);
contents octets changed under a length made right again; the message type swapped for another (its
mandatory elements go missing); the call reference length octet and flag; the message length made
right again after all that (so the 5.6.5 check is passed) or left wrong. Oracle (targets.py): the
two decoders raise the same error (class, cause, disposition, offset, problems) or give the same
message, which encodes back to the input, and the contents check answers the same for both."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.sscop.fastcodec import encode_sd
from firmware.uni.constants import MessageType
from fuzzkit import EDGE_INTS, FUZZ, mutated, nudge, put_int, run, seeds, targets
from tools.fuzz.corpus import ie_spans

UNI_TARGETS = targets("uni.message", "uni.ie", "sscop.saal")
MESSAGE_TYPES = sorted(int(t) for t in MessageType)


@pytest.mark.fuzz
@pytest.mark.parametrize("target", UNI_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_random_octets(target, data):
    run(target, data.draw(st.binary(max_size=target.max_input)))


@pytest.mark.fuzz
@pytest.mark.parametrize("target", UNI_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_mutated_seeds(target, data):
    run(target, data.draw(mutated(seeds(target))))


_IE_OPS = ("drop", "repeat", "swap", "foreign", "ie_length", "ie_length_edge", "instruction", "contents", "cut")
_HEADER_OPS = ("message_type", "call_ref_length", "call_ref_flag", "compatibility")


@st.composite
def ie_level(draw, seeds):
    """A message mutated element by element (see the module doc); its length field made right again
    unless ``keep_length`` is drawn False."""
    message = draw(st.sampled_from(seeds))
    header = bytearray(message[:9])
    ies = [bytearray(message[a:b]) for a, b in ie_spans(message)]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(_IE_OPS + _HEADER_OPS))
        i = draw(st.integers(0, max(len(ies) - 1, 0)))
        if op == "message_type":
            header[5] = draw(st.one_of(st.sampled_from(MESSAGE_TYPES), st.integers(0, 255)))
        elif op == "call_ref_length":
            header[1] = draw(st.sampled_from((0x00, 0x01, 0x02, 0x04, 0x13, 0xF3)))
        elif op == "call_ref_flag":
            header[2] ^= 0x80
        elif op == "compatibility":  # message compatibility instruction (Q.2931 4.4.4.2 / 5.7.1)
            header[6] = draw(st.integers(0, 255))
        elif op == "foreign":
            other = draw(st.sampled_from(seeds))
            spans = ie_spans(other)
            if spans:
                a, b = draw(st.sampled_from(spans))
                ies.insert(i, bytearray(other[a:b]))
        elif not ies:
            continue
        elif op == "drop":
            del ies[i]
        elif op == "repeat":
            ies.insert(i, bytearray(ies[i]))
        elif op == "swap":
            j = draw(st.integers(0, len(ies) - 1))
            ies[i], ies[j] = ies[j], ies[i]
        elif op == "ie_length":
            nudge(ies[i], 2, 2, draw(st.integers(-4, 4).filter(bool)))
        elif op == "ie_length_edge":
            put_int(ies[i], 2, draw(st.sampled_from(EDGE_INTS)), 2)
        elif op == "instruction":  # ext, coding standard, flag, pass along, action indicator
            ies[i][1] = draw(st.one_of(st.sampled_from((0x80, 0xE0, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
                                                        0x00, 0xFF, 0xC0, 0xA0)), st.integers(0, 255)))
        elif op in ("contents", "cut") and len(ies[i]) > 4:
            j = draw(st.integers(4, len(ies[i]) - 1))
            if op == "contents":
                ies[i][j] = draw(st.one_of(st.sampled_from((0x00, 0x7F, 0x80, 0xFF)), st.integers(0, 255)))
            else:
                del ies[i][j:]
            if draw(st.booleans()):  # the element's length made right again
                put_int(ies[i], 2, len(ies[i]) - 4, 2)
    body = b"".join(ies)
    if draw(st.booleans()) or not draw(st.booleans()):  # mostly right, so that 5.6.5 is passed
        put_int(header, 7, len(body), 2)
    return bytes(header + body)


@pytest.mark.fuzz
@FUZZ
@given(data=ie_level(seeds("uni.message")))
def test_messages_mutated_element_by_element(data):
    run("uni.message", data)


@st.composite
def element_contents(draw, seeds):
    """One element with its contents rewritten (octets changed, cut, extended, extension bits
    flipped) under a length made right again, or its coding standard changed."""
    ie = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(("octet", "ext_bit", "cut", "extend", "coding")))
        j = draw(st.integers(4, max(len(ie) - 1, 4)))
        if op == "octet" and j < len(ie):
            ie[j] = draw(st.integers(0, 255))
        elif op == "ext_bit" and j < len(ie):
            ie[j] ^= 0x80
        elif op == "cut":
            del ie[j:]
        elif op == "extend":
            ie += draw(st.binary(min_size=1, max_size=8))
        elif op == "coding":
            ie[1] = ie[1] & 0x9F | draw(st.integers(0, 3)) << 5
    put_int(ie, 2, max(len(ie) - 4, 0), 2)
    return bytes(ie)


@pytest.mark.fuzz
@FUZZ
@given(data=element_contents(seeds("uni.ie")))
def test_elements_with_rewritten_contents(data):
    run("uni.ie", data)


@pytest.mark.fuzz
@FUZZ
@given(data=ie_level(seeds("uni.message")), n_s=st.integers(0, 0xFFFFFF))
def test_mutated_messages_in_sd_pdus(data, n_s):
    """The same mutated messages as the information field of an SD: what the SAAL hands to Q.2931."""
    run("sscop.saal", encode_sd(n_s, data))
