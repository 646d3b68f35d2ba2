"""The fast codec is proven equal to the scapy layers on generated messages of every type, with random
field values and unknown elements: (a) it encodes the same bytes scapy builds, (b) it decodes the same
fields scapy dissects, (c) both round trips are exact."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.uni import fastcodec as fast
from firmware.uni.constants import MessageType
from firmware.uni.decode import decode_message
from firmware.uni.ie import IE_CLASSES, decode_ie
from firmware.uni.message import MESSAGE_CLASSES
from firmware.uni.fastie import KINDS

from uni_strategies import (FIELDS, any_ie, fast_ie, fast_message, known_ie, message_spec, same_fields,
                            scapy_ie, scapy_message)

ALL_TYPES = sorted(int(t) for t in MessageType)


def test_both_registries_cover_the_same_messages_and_elements():
    assert set(MESSAGE_CLASSES) == set(ALL_TYPES)
    assert set(IE_CLASSES) == set(KINDS) == set(FIELDS)
    for identifier, cls in IE_CLASSES.items():
        assert set(KINDS[identifier].codings) == set(cls.codings), cls.name
        assert set(KINDS[identifier].record._fields) == set(cls().content_fields()), cls.name


@pytest.mark.parametrize("message_type", ALL_TYPES, ids=[t.name for t in MessageType])
@settings(max_examples=25)
@given(data=st.data())
def test_every_message_type_encodes_and_decodes_identically(message_type, data):
    spec = data.draw(message_spec(message_type))
    raw = bytes(scapy_message(spec))
    assert fast.encode(fast_message(spec)) == raw  # (a)
    scapy_msg = decode_message(raw)
    fast_msg = fast.decode(raw)
    assert type(scapy_msg) is MESSAGE_CLASSES[message_type]
    same_fields(scapy_msg, fast_msg)  # (b)
    assert bytes(scapy_msg) == raw and fast.encode(fast_msg) == raw  # (c) re-encoding what was decoded


@pytest.mark.parametrize("identifier", sorted(FIELDS), ids=[IE_CLASSES[i].name for i in sorted(FIELDS)])
@settings(max_examples=30)
@given(data=st.data())
def test_every_element_type_builds_from_its_fields_identically(identifier, data):
    spec = data.draw(known_ie(identifier))
    raw = bytes(scapy_ie(spec))
    assert bytes(fast_ie(spec)) == raw
    dissected = decode_ie(raw)
    decoded = fast.decode_ie(raw)
    assert type(dissected) is IE_CLASSES[identifier]
    assert decoded.fields._asdict() == dissected.content_fields() == {
        k: (tuple(v) if isinstance(v, list) else v) for k, v in spec[2].items()}
    # (c) from values back to bytes: scapy from its dissected fields, fast from its record
    rebuilt = IE_CLASSES[identifier](**dissected.content_fields(), **{
        f: dissected.getfieldval(f) for f in ("ext", "coding_standard", "flag", "pass_along", "action")})
    assert bytes(rebuilt) == raw
    assert bytes(fast.FastIE.of(identifier, decoded.instruction, None, decoded.fields)) == raw


@settings(max_examples=150)
@given(message_spec(max_ies=8))
def test_decoded_fields_rebuild_the_same_bytes(spec):
    raw = fast.encode(fast_message(spec))
    decoded = fast.decode(raw)
    from_values = fast.FastMessage.of(decoded.message_type, decoded.call_ref, decoded.call_ref_flag,
                                   decoded.instruction,
                                   [fast.FastIE.of(e.identifier, e.instruction, None if e.fields else e.contents,
                                                e.fields) for e in decoded.ies])
    assert fast.encode(from_values) == raw
    scapy_msg = decode_message(raw)
    scapy_msg.clear_cache()  # build from the field values, not from the bytes kept at dissection
    for element in scapy_msg.ies:
        element.length = None
    scapy_msg.length = None
    assert bytes(scapy_msg) == raw


@settings(max_examples=60)
@given(any_ie())
def test_unknown_elements_survive_both_codecs_byte_for_byte(spec):
    raw = bytes(scapy_ie(spec))
    assert decode_ie(raw).build() == raw
    assert bytes(fast.decode_ie(raw)) == raw
