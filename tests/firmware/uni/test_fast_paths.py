"""The fast codec's specialised paths agree with its general path and with the scapy definition.

- Decoding: the layout path (a frame of the type, length and element headers of one already accepted) and
  the 16-octet Q.2971 answer (header and one endpoint reference) either read a frame exactly as the
  general path does, or leave it to the general path; they leave a frame only when the general path
  rejects it, and they take every accepted frame of their shape.
- Encoding: the Q.2971 answer packed whole gives the general encoder's octets or error; the whole-element
  builders (header and contents in one struct call for the common forms) give scapy's octets, and for a
  value out of range the error of the contents builder, naming the field.
- The element parsers' short cuts (the one-octet BLLI, the AAL 5 element) agree with scapy's dissection.

A probe decoder, made like the real one but with a fallback that only reports it was called, shows which
path took a frame.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.uni import builders as b
from firmware.uni import fastcodec as fast
from firmware.uni import fastie
from firmware.uni.constants import AAL_SUBFIELD_OCTETS, IEId, MessageType
from firmware.uni.decode import decode_message
from firmware.uni.errors import IEContentError, UniDecodeError, UniEncodeError
from firmware.uni.fastie import KINDS
from firmware.uni.ie import decode_ie

from uni_strategies import fast_message, known_ie, message_spec, same_fields, scapy_ie, scapy_message, uint

FELL_BACK = "fell back to the general path"
TYPES = sorted(int(t) for t in MessageType)


def probe(layouts: dict):
    """The specialised paths alone, over ``layouts``: FELL_BACK where the decoder would walk the frame."""
    return fast._make_decoder(layouts, lambda data: FELL_BACK)


def learning_decoder():
    """A decoder with layouts of its own (not the module's), empty at first, and its general path."""
    layouts: dict = {}
    general = fast._make_general_decoder(layouts)
    return fast._make_decoder(layouts, general), general, layouts


def outcome(decoder, raw: bytes):
    try:
        return "ok", decoder(raw)
    except UniDecodeError as exc:
        problems = exc.problems if isinstance(exc, IEContentError) else ()
        return "error", (type(exc).__name__, exc.cause, exc.disposition, exc.offset,
                         tuple((p[0], p[3]) for p in problems))


def assert_same_outcome(raw: bytes, decoder) -> None:
    """``decoder`` accepts and rejects ``raw`` as the general path (with no layouts) and scapy do."""
    got = outcome(decoder, raw)
    walked = outcome(fast._make_general_decoder({}), raw)
    defined = outcome(decode_message, raw)
    assert got[0] == walked[0] == defined[0], (raw.hex(), got, walked, defined)
    if got[0] == "ok":
        assert got[1] == walked[1]
        same_fields(defined[1], got[1])
    else:
        assert got[1] == walked[1] == defined[1], raw.hex()


def regular(msg: fast.FastMessage) -> bool:
    """Every element recognised, non-empty and valid: a frame the general path learns a layout from."""
    return bool(msg.ies) and all(e.fields is not None for e in msg.ies)


def element_spans(msg: fast.FastMessage) -> list[tuple[int, int]]:
    """(start, end) of each element's contents in the frame of ``msg``."""
    spans, at = [], 9
    for element in msg.ies:
        spans.append((at + 4, at + 4 + len(element.contents)))
        at += 4 + len(element.contents)
    return spans


# -- the layout path ------------------------------------------------------------------------------------

@settings(max_examples=200)
@given(spec=message_spec(max_ies=6), data=st.data())
def test_a_frame_of_an_accepted_shape_is_read_by_its_layout_exactly_as_the_general_path_reads_it(spec, data):
    raw = fast.encode(fast_message(spec))
    decode, general, layouts = learning_decoder()
    accepted = general(raw)
    assert bool(layouts) == regular(accepted)  # learned from a frame of recognised, valid elements only
    taken = probe(layouts)(raw)
    if regular(accepted):
        assert taken == accepted
    else:
        assert taken is FELL_BACK
    # the same shape with other contents: new octets anywhere inside the elements' contents
    frame = bytearray(raw)
    spans = element_spans(accepted)
    inside = [i for start, end in spans for i in range(start, end)]
    if inside:
        for _ in range(data.draw(st.integers(1, 6))):
            frame[data.draw(st.sampled_from(inside))] = data.draw(uint(8))
    frame = bytes(frame)
    taken = probe(layouts)(frame)
    walked = outcome(fast._make_general_decoder({}), frame)
    if regular(accepted):
        # taken when the general path accepts it, left to the general path when that rejects it
        assert (taken is not FELL_BACK) == (walked[0] == "ok"), frame.hex()
        if taken is not FELL_BACK:
            assert taken == walked[1]
    assert_same_outcome(frame, decode)


@settings(max_examples=300)
@given(spec=message_spec(max_ies=4), data=st.data())
def test_any_change_to_a_frame_of_a_learned_shape_gets_the_general_paths_answer(spec, data):
    raw = fast.encode(fast_message(spec))
    decode, general, layouts = learning_decoder()
    general(raw)
    frame = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):  # same length: the layout's key still matches
        where = data.draw(st.integers(0, len(frame) - 1))
        if data.draw(st.booleans()):
            frame[where] ^= 1 << data.draw(st.integers(0, 7))
        else:
            frame[where] = data.draw(uint(8))
    assert_same_outcome(bytes(frame), decode)


def test_a_peers_run_of_frames_is_read_by_one_layout_and_each_frame_validated():
    decode, general, layouts = learning_decoder()
    aesa = bytes.fromhex("47000580ffe1000000f21a0001")
    frames = [bytes(b.AddParty(0x123, ref, aesa + ref.to_bytes(6, "big") + b"\x00", aal=b.aal5(),
                               blli=b.low_layer_information(l2=0x0C))) for ref in range(1, 40)]
    assert [decode(f) for f in frames] == [general(f) for f in frames]
    assert list(layouts) == [len(frames[0]) << 8 | MessageType.ADD_PARTY]  # one shape, one layout
    assert all(probe(layouts)(f) is not FELL_BACK for f in frames)
    # a frame of that shape whose BLLI layer 2 octet says ext 0 (an extension octet follows), with none:
    # the layout path leaves it, and the general path answers as scapy does (cause 100, at the BLLI)
    bad = bytearray(frames[0])
    bad[bad.index(bytes.fromhex("5f800001")) + 4] = 0x4C
    assert probe(layouts)(bytes(bad)) is FELL_BACK
    assert_same_outcome(bytes(bad), decode)
    assert outcome(decode, bytes(bad))[1][:2] == ("IEContentError", 100)


def test_the_layouts_kept_are_bounded_and_a_decoder_past_the_bound_still_reads_every_frame():
    decode, general, layouts = learning_decoder()
    frames = [bytes(b.Notify(7, b"\x80" * n)) for n in range(1, fast._LAYOUT_LIMIT + 40)]  # one length each
    first = [decode(f) for f in frames]
    assert 0 < len(layouts) <= fast._LAYOUT_LIMIT
    assert [decode(f) for f in frames] == first == [general(f) for f in frames]
    for f in frames[::37]:
        same_fields(decode_message(f), decode(f))


# -- the 16-octet Q.2971 answer ---------------------------------------------------------------------------

@st.composite
def answer_like(draw):
    """16 octets shaped like a header and one endpoint reference: any type, call reference, instructions
    and contents, and now and then one or two of the octets the answer path checks made wrong."""
    octets = bytearray(bytes.fromhex("0903") + draw(st.binary(min_size=3, max_size=3)) + bytes(
        [draw(st.sampled_from(TYPES)), draw(uint(8))]) + bytes.fromhex("0007 54") + bytes([draw(uint(8))])
        + bytes.fromhex("0003") + draw(st.binary(min_size=3, max_size=3)))
    checked = {"discriminator": 0, "call_ref_length": 1, "message_type": 5, "length": 8, "identifier": 9,
               "ie_length": 12}
    for name in draw(st.lists(st.sampled_from(sorted(checked)), max_size=2)):
        octets[checked[name]] = draw(uint(8))
    return bytes(octets)


@settings(max_examples=400)
@given(answer_like())
def test_the_q2971_answer_is_read_whole_exactly_as_the_general_path_reads_it(raw):
    taken = probe({})(raw)
    walked = outcome(fast._make_general_decoder({}), raw)
    is_answer = walked[0] == "ok" and [e.identifier for e in walked[1].ies] == [IEId.ENDPOINT_REFERENCE] \
        and walked[1].ies[0].fields is not None
    assert (taken is not FELL_BACK) == is_answer, raw.hex()
    if is_answer:
        assert taken == walked[1]
    assert_same_outcome(raw, fast.decode)


# -- encoding: the Q.2971 answer, packed whole -------------------------------------------------------------

def encode_outcome(encoder, msg):
    try:
        return "ok", encoder(msg)
    except UniEncodeError as exc:
        return "error", exc.field, exc.value


#: The answer's values, each with the values just out of its range (and a bool, which no field takes).
ANSWER_VALUES = {"message_type": (st.sampled_from(TYPES), [-1, 256, True]),
                 "call_ref": (uint(23), [-1, 1 << 23, (1 << 23) + 1, True]), "flag": (uint(1), [-1, 2, 3]),
                 "instruction": (uint(8), [-1, 256, True]),
                 # mostly coded ITU-T (the endpoint reference's), any flag, pass along and action; now and then
                 # another coding standard (an element the encoder does not recognise, an error on both paths)
                 "ie_instruction": (st.one_of(uint(5).map(lambda low: 0x80 | low), uint(8)), []),
                 "value": (uint(15), [-1, 1 << 15, 1 << 16, True]), "ref_flag": (uint(1), [-1, 2, True]),
                 "ref_type": (uint(8), [-1, 256, True])}


@st.composite
def answer_values(draw):
    """The values of a Q.2971 answer, all valid or one or two of them out of range."""
    values = {name: draw(valid) for name, (valid, _) in ANSWER_VALUES.items()}
    breakable = [None] + sorted(name for name, (_, wrong) in ANSWER_VALUES.items() if wrong)
    for name in (draw(st.sampled_from(breakable)), draw(st.sampled_from(breakable))):
        if name is not None:
            values[name] = draw(st.sampled_from(ANSWER_VALUES[name][1]))
    return values


@settings(max_examples=500)
@given(answer_values())
def test_the_q2971_answer_is_packed_whole_exactly_as_the_general_encoder_builds_it(v):
    msg = fast.FastMessage.of(v["message_type"], v["call_ref"], v["flag"], v["instruction"], [fast.FastIE.of(
        IEId.ENDPOINT_REFERENCE, v["ie_instruction"], None,
        fastie.EndpointReference(v["value"], v["ref_flag"], v["ref_type"]))])
    got = encode_outcome(fast.encode, msg)
    assert got == encode_outcome(fast._make_encoder(answers=False), msg)
    if got[0] == "ok":
        assert got[1] == bytes(scapy_message((v["message_type"], v["call_ref"], v["flag"], v["instruction"], [(
            IEId.ENDPOINT_REFERENCE, v["ie_instruction"], {"ref_value": v["value"], "ref_flag": v["ref_flag"],
                                                           "ref_type": v["ref_type"]})])))


# -- encoding: whole elements ------------------------------------------------------------------------------

@pytest.mark.parametrize("identifier", sorted(KINDS), ids=[IEId(i).name for i in sorted(KINDS)])
@settings(max_examples=25)
@given(data=st.data())
def test_every_whole_element_builder_gives_scapys_octets(identifier, data):
    spec = data.draw(known_ie(identifier))
    identifier, instruction, fields = spec
    record = KINDS[identifier].record(**fields)
    raw = bytes(scapy_ie(spec))
    assert KINDS[identifier].element(identifier, instruction, record) == raw
    assert raw[4:] == KINDS[identifier].build(record)


def _two_octet_aal_subfields():
    return st.sampled_from(sorted(i for i, size in AAL_SUBFIELD_OCTETS.items() if size == 2))


@settings(max_examples=150)
@given(aal_type=uint(8).filter(lambda t: t != 0x10), first=_two_octet_aal_subfields(),
       second=_two_octet_aal_subfields(), values=st.tuples(uint(16), uint(16)), instruction=uint(8))
def test_the_common_aal_element_is_packed_whole_as_scapy_builds_it(aal_type, first, second, values, instruction):
    record = fastie.AALParameters(aal_type, ((first, values[0]), (second, values[1])))
    instruction = 0x80 | instruction & 0x1F  # coding standard ITU-T, any flag, pass along, action
    raw = bytes(scapy_ie((IEId.AAL_PARAMETERS, instruction, record._asdict())))
    assert KINDS[IEId.AAL_PARAMETERS].element(IEId.AAL_PARAMETERS, instruction, record) == raw
    assert fast.decode_ie(raw).fields == record
    assert decode_ie(raw).content_fields() == record._asdict()


BAD_VALUES = [  # (identifier, record, the field the error names)
    (IEId.AAL_PARAMETERS, fastie.AALParameters(5, ((0x8C, 0x10000), (0x81, 9188))), "subfield 0x8C"),
    (IEId.AAL_PARAMETERS, fastie.AALParameters(5, ((0x8C, 9188), (0x81, -1))), "subfield 0x81"),
    (IEId.AAL_PARAMETERS, fastie.AALParameters(5, ((0x8C, True), (0x81, 9188))), "subfield 0x8C"),
    (IEId.AAL_PARAMETERS, fastie.AALParameters(0x100, ((0x8C, 1), (0x81, 1))), "aal_type"),
    (IEId.AAL_PARAMETERS, fastie.AALParameters(0x10, ((0x8C, 1), (0x81, 1))), "subfields"),
    (IEId.AAL_PARAMETERS, fastie.AALParameters(5, ((0x83, 1), (0x81, 1 << 16))), "subfield 0x81"),
    (IEId.ENDPOINT_REFERENCE, fastie.EndpointReference(0x8000), "ref_value"),
    (IEId.ENDPOINT_REFERENCE, fastie.EndpointReference(1, 2), "ref_flag"),
    (IEId.ENDPOINT_REFERENCE, fastie.EndpointReference(1, True), "ref_flag"),
    (IEId.CAUSE, fastie.Cause(128), "cause_value"),
    (IEId.CAUSE, fastie.Cause(16, diagnostics=bytes(29)), "diagnostics"),
    (IEId.CALLED_PARTY_NUMBER, fastie.CalledPartyNumber(bytes(21)), "address"),
    (IEId.CALLED_PARTY_NUMBER, fastie.CalledPartyNumber(bytes(20), 16), "numbering_plan"),
    (IEId.BROADBAND_LOW_LAYER_INFORMATION, fastie.BroadbandLowLayerInformation(l2_protocol=32), "l2_protocol"),
]


@pytest.mark.parametrize("identifier, record, field", BAD_VALUES,
                         ids=[f"{IEId(i).name}-{f}" for i, _, f in BAD_VALUES])
def test_a_value_out_of_range_gets_the_error_naming_its_field_from_every_builder(identifier, record, field):
    kind = KINDS[identifier]
    for build in (kind.build, lambda r: kind.element(identifier, 0x80, r),
                  lambda r: fast.encode(fast.message(MessageType.ADD_PARTY, 1, [fast.make_ie(identifier, r)]))):
        with pytest.raises(UniEncodeError) as caught:
            build(record)
        assert caught.value.field == field


@settings(max_examples=100)
@given(forward=uint(16), backward=uint(16), sscs_type=st.one_of(st.none(), uint(8)),
       mode=st.one_of(st.none(), uint(8)), l1=st.one_of(st.none(), uint(5)), l2=st.one_of(st.none(), uint(5)),
       l3=st.one_of(st.none(), uint(5)))
def test_the_aal5_and_low_layer_helpers_build_what_the_scapy_builders_build(forward, backward, sscs_type, mode,
                                                                           l1, l2, l3):
    assert bytes(fast.aal5(forward, backward, sscs_type=sscs_type, mode=mode)) == bytes(
        b.aal5(forward, backward, sscs_type=sscs_type, mode=mode))
    assert bytes(fast.low_layer_information(l1=l1, l2=l2, l3=l3)) == bytes(b.low_layer_information(
        l1=l1, l2=l2, l3=l3))


# -- the parsers' short cuts -------------------------------------------------------------------------------

def element_outcome(decoder, raw: bytes):
    try:
        element = decoder(raw)
    except IEContentError as exc:
        return "error", exc.offset, exc.field
    fields = element.fields._asdict() if isinstance(element, fast.FastIE) else element.content_fields()
    return "ok", fields


@pytest.mark.parametrize("octet", range(256))
def test_every_one_octet_blli_is_read_as_scapy_reads_it(octet):
    raw = bytes([IEId.BROADBAND_LOW_LAYER_INFORMATION, 0x80, 0, 1, octet])
    assert element_outcome(fast.decode_ie, raw) == element_outcome(decode_ie, raw)


@settings(max_examples=300)
@given(aal_type=st.one_of(st.just(5), uint(8)),
       first=st.one_of(st.sampled_from(sorted(AAL_SUBFIELD_OCTETS)), uint(8)),
       second=st.one_of(st.sampled_from(sorted(AAL_SUBFIELD_OCTETS)), uint(8)),
       rest=st.binary(min_size=4, max_size=4))
def test_every_seven_octet_aal_element_is_read_as_scapy_reads_it(aal_type, first, second, rest):
    body = bytes([aal_type, first]) + rest[:2] + bytes([second]) + rest[2:]
    raw = bytes([IEId.AAL_PARAMETERS, 0x80, 0, 7]) + body
    assert element_outcome(fast.decode_ie, raw) == element_outcome(decode_ie, raw)
