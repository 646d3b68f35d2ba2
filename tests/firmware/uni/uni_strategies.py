"""Hypothesis strategies for Q.2931 messages and information elements, and the comparison of what the two
decoders make of them, shared by the UNI tests.

A message is generated as a *spec*, plain data that both codecs can build from: ``(message_type, call_ref,
call_ref_flag, instruction_octet, [ie_spec, ...])`` with ``ie_spec = (identifier, instruction_octet,
fields)``: ``fields`` a dict of content fields (the scapy field names, which are the fast records' names)
for a known element, or the raw contents (bytes) for an unknown one. Every element's contents are valid
and non-empty, so both decoders must accept the encoded message.
"""

from __future__ import annotations

from hypothesis import strategies as st

from firmware.uni import fastcodec as fast
from firmware.uni.constants import (AAL_SUBFIELD_OCTETS, TRAFFIC_SUBFIELD_OCTETS,
                                    TRANSIT_DELAY_SUBFIELD_OCTETS, IEId, MessageType)
from firmware.uni.fastie import KINDS
from firmware.uni.ie import IE_CLASSES, UnknownIE
from firmware.uni.message import MESSAGE_CLASSES

I = IEId


def uint(bits: int):
    return st.integers(0, (1 << bits) - 1)


def _subfield_list(octets: dict, max_items: int):
    idents = sorted(octets)

    def one(ident):
        size = octets[ident]
        return st.just((ident, None)) if size == 0 else uint(8 * size).map(lambda v: (ident, v))

    return st.lists(st.sampled_from(idents).flatmap(one), max_size=max_items)


def _tail(octets: dict, max_size: int):
    """Raw octets that a subfield walk stops at: empty, or starting with an unknown identifier."""
    unknown = [b for b in range(256) if b not in octets]
    return st.one_of(st.just(b""), st.tuples(st.sampled_from(unknown), st.binary(max_size=max_size - 1))
                     .map(lambda t: bytes([t[0]]) + t[1]))


def _size(subfields, octets) -> int:
    return sum(1 + octets[i] for i, _ in subfields)


@st.composite
def aal_fields(draw):
    aal_type = draw(st.one_of(st.sampled_from([1, 2, 3, 5, 0x10]), uint(8)))
    if aal_type == 0x10:
        return {"aal_type": aal_type, "subfields": (), "tail": draw(st.binary(max_size=4))}
    subfields = draw(_subfield_list(AAL_SUBFIELD_OCTETS, 5))
    while subfields and 1 + _size(subfields, AAL_SUBFIELD_OCTETS) > 17:
        subfields.pop()
    room = 17 - 1 - _size(subfields, AAL_SUBFIELD_OCTETS)
    tail = draw(_tail(AAL_SUBFIELD_OCTETS, max(room, 1))) if room > 0 else b""
    return {"aal_type": aal_type, "subfields": tuple(subfields), "tail": tail}


@st.composite
def subfield_fields(draw, octets: dict, limit: int | None):
    subfields = draw(_subfield_list(octets, 6))
    if limit is not None:
        while subfields and _size(subfields, octets) > limit:
            subfields.pop()
    room = (limit if limit is not None else 24) - _size(subfields, octets)
    tail = draw(_tail(octets, room)) if room > 0 else b""
    if not subfields and not tail:
        ident = sorted(octets)[0]
        subfields = [(ident, 0 if octets[ident] else None)]
    return {"subfields": tuple(subfields), "tail": tail}


def _chain(limit: int):
    """Valid extension octets: ext 0 on every octet but the last."""
    return st.integers(1, limit).flatmap(lambda n: st.lists(uint(7), min_size=n, max_size=n)).map(
        lambda vs: bytes(v for v in vs[:-1]) + bytes([0x80 | vs[-1]]))


@st.composite
def blli_fields(draw):
    fields = {"l1_protocol": None, "l2_protocol": None, "l2_extension": b"", "l3_protocol": None,
              "l3_extension": b"", "snap_oui": None, "snap_pid": None, "tail": b""}
    if draw(st.booleans()):
        fields["l1_protocol"] = draw(uint(5))
    if draw(st.booleans()):
        fields["l2_protocol"] = draw(uint(5))
        fields["l2_extension"] = draw(st.one_of(st.just(b""), _chain(2)))
    if draw(st.booleans()):
        snap = draw(st.booleans())
        if snap:
            fields.update(l3_protocol=0x0B, l3_extension=b"\x40\x80", snap_oui=draw(uint(24)), snap_pid=draw(uint(16)))
        else:
            fields["l3_protocol"] = draw(uint(5))
            ext = draw(st.one_of(st.just(b""), _chain(3)))
            if fields["l3_protocol"] == 0x0B and len(ext) == 2 and ((ext[0] & 0x7F) << 1 | ext[1] >> 6 & 1) == 0x80:
                ext = b""  # that would announce SNAP octets
            fields["l3_extension"] = ext
    used = sum(1 for k in ("l1_protocol", "l2_protocol", "l3_protocol") if fields[k] is not None)
    used += len(fields["l2_extension"]) + len(fields["l3_extension"]) + (6 if fields["snap_oui"] is not None else 0)
    # a tail octet must not read as a layer group the walk has not passed yet
    if fields["l3_protocol"] is not None:
        first = st.integers(0, 255)
    elif fields["l2_protocol"] is not None:
        first = st.integers(0, 255).filter(lambda b: b & 0x60 != 0x60)
    elif fields["l1_protocol"] is not None:
        first = st.integers(0, 255).filter(lambda b: b & 0x60 not in (0x40, 0x60))
    else:
        first = st.integers(0, 255).filter(lambda b: b & 0x60 == 0)
    room = 13 - used
    if room > 0 and (used == 0 or draw(st.booleans())):
        fields["tail"] = bytes([draw(first)]) + draw(st.binary(max_size=room - 1))
    return fields


def _address(plan_key: str, limit: int = 20):
    return st.integers(0, 15).flatmap(lambda plan: st.tuples(
        st.just(plan), st.binary(min_size=20, max_size=20) if plan == 2 else st.binary(max_size=limit)))


@st.composite
def called_fields(draw):
    plan, address = draw(_address("numbering_plan"))
    return {"number_type": draw(uint(3)), "numbering_plan": plan, "address": address}


@st.composite
def calling_fields(draw):
    plan, address = draw(_address("numbering_plan"))
    fields = {"number_type": draw(uint(3)), "numbering_plan": plan, "address": address,
              "presentation": None, "spare5a": None, "screening": None}
    if draw(st.booleans()):
        fields.update(presentation=draw(uint(2)), spare5a=draw(uint(3)), screening=draw(uint(2)))
    return fields


def subaddress_fields():
    return st.fixed_dictionaries({"subaddress_type": uint(3), "odd_even": uint(1), "spare": uint(3),
                                  "subaddress": st.binary(max_size=20)})


#: Content-field strategies per identifier (every registered element type).
FIELDS = {
    I.CAUSE: st.fixed_dictionaries({"spare": uint(3), "location": uint(4), "cause_value": uint(7),
                                    "diagnostics": st.binary(max_size=28)}),
    I.CALL_STATE: st.fixed_dictionaries({"spare": uint(2), "call_state": uint(6)}),
    I.NOTIFICATION_INDICATOR: st.fixed_dictionaries({"description": st.binary(min_size=1, max_size=16)}),
    I.ENDPOINT_REFERENCE: st.fixed_dictionaries({"ref_type": uint(8), "ref_flag": uint(1), "ref_value": uint(15)}),
    I.ENDPOINT_STATE: st.fixed_dictionaries({"spare": uint(2), "party_state": uint(6)}),
    I.CONNECTION_IDENTIFIER: st.fixed_dictionaries({"spare": uint(2), "vp_associated": uint(2), "pref_excl": uint(3),
                                                    "vpci": uint(16), "vci": uint(16)}),
    I.RESTART_INDICATOR: st.fixed_dictionaries({"spare": uint(4), "restart_class": uint(3)}),
    I.AAL_PARAMETERS: aal_fields(),
    I.ATM_TRAFFIC_DESCRIPTOR: subfield_fields(TRAFFIC_SUBFIELD_OCTETS, None),
    I.QOS_PARAMETER: st.fixed_dictionaries({"qos_forward": uint(8), "qos_backward": uint(8)}),
    I.END_TO_END_TRANSIT_DELAY: subfield_fields(TRANSIT_DELAY_SUBFIELD_OCTETS, 9),
    I.BROADBAND_BEARER_CAPABILITY: st.fixed_dictionaries({
        "spare5": uint(2), "bearer_class": uint(5), "atc": st.one_of(st.none(), uint(7)), "clipping": uint(2),
        "spare6": uint(3), "up_config": uint(2)}),
    I.BROADBAND_HIGH_LAYER_INFORMATION: st.fixed_dictionaries({"hli_type": uint(7), "info": st.binary(max_size=8)}),
    I.BROADBAND_LOW_LAYER_INFORMATION: blli_fields(),
    I.BROADBAND_REPEAT_INDICATOR: st.fixed_dictionaries({"spare": uint(3), "repeat_indication": uint(4)}),
    I.BROADBAND_SENDING_COMPLETE: st.fixed_dictionaries({"indication": uint(7)}),
    I.CALLED_PARTY_NUMBER: called_fields(),
    I.CALLING_PARTY_NUMBER: calling_fields(),
    I.CALLED_PARTY_SUBADDRESS: subaddress_fields(),
    I.CALLING_PARTY_SUBADDRESS: subaddress_fields(),
    I.TRANSIT_NETWORK_SELECTION: st.fixed_dictionaries({"network_id_type": uint(3), "network_id_plan": uint(4),
                                                        "network_id": st.binary(max_size=8)}),
    I.LIJ_CALL_IDENTIFIER: st.fixed_dictionaries({"spare": uint(3), "lij_id_type": uint(4), "lij_id_value": uint(32)}),
    I.LIJ_PARAMETERS: st.fixed_dictionaries({"spare": uint(3), "screening": uint(4)}),
    I.LEAF_SEQUENCE_NUMBER: st.fixed_dictionaries({"sequence_number": uint(32)}),
}


def instruction_for(identifier: int):
    """An IE instruction octet (any flag, pass along, action) under a coding the element is known in."""
    codings = sorted(KINDS[identifier].codings)
    return st.tuples(uint(1), st.sampled_from(codings), uint(1), uint(1), uint(3)).map(
        lambda t: t[0] << 7 | t[1] << 5 | t[2] << 4 | t[3] << 3 | t[4])


@st.composite
def known_ie(draw, identifier=None):
    if identifier is None:
        identifier = draw(st.sampled_from(sorted(FIELDS)))
    return (identifier, draw(instruction_for(identifier)), draw(FIELDS[identifier]))


@st.composite
def unknown_ie(draw):
    """An element the codecs do not recognise: an unregistered identifier, or a registered one under a
    coding standard it is not defined in. Contents may be anything, even empty."""
    identifier = draw(uint(8))
    instruction = draw(uint(8))
    if identifier in KINDS:
        codings = KINDS[identifier].codings
        other = [c for c in range(4) if c not in codings]
        instruction = instruction & 0x9F | draw(st.sampled_from(other)) << 5
    return (identifier, instruction, draw(st.binary(max_size=24)))


def any_ie():
    return st.one_of(known_ie(), known_ie(), known_ie(), unknown_ie())


@st.composite
def message_spec(draw, message_type=None, max_ies: int = 6):
    if message_type is None:
        message_type = draw(st.sampled_from(sorted(int(t) for t in MessageType)))
    return (message_type, draw(uint(23)), draw(uint(1)), draw(uint(8)),
            draw(st.lists(any_ie(), max_size=max_ies)))


# -- building a spec with each codec ---------------------------------------------------------------------------

def header_kwargs(instruction: int) -> dict:
    return {"ext": instruction >> 7, "coding_standard": instruction >> 5 & 3, "flag": instruction >> 4 & 1,
            "pass_along": instruction >> 3 & 1, "action": instruction & 7}


def scapy_ie(spec):
    identifier, instruction, fields = spec
    if isinstance(fields, bytes):
        return UnknownIE(identifier=identifier, contents=fields, **header_kwargs(instruction))
    return IE_CLASSES[identifier](**header_kwargs(instruction), **fields)


def scapy_message(spec):
    message_type, call_ref, flag, instruction, ies = spec
    return MESSAGE_CLASSES[message_type](
        call_ref=call_ref, call_ref_flag=flag, ext=instruction >> 7, spare1=instruction >> 5 & 3,
        flag=instruction >> 4 & 1, spare2=instruction >> 2 & 3, action=instruction & 3,
        ies=[scapy_ie(e) for e in ies])


def fast_ie(spec):
    identifier, instruction, fields = spec
    if isinstance(fields, bytes):
        return fast.FastIE.of(identifier, instruction, fields)
    return fast.FastIE.of(identifier, instruction, None, KINDS[identifier].record(**fields))


def fast_message(spec):
    message_type, call_ref, flag, instruction, ies = spec
    return fast.FastMessage.of(message_type, call_ref, flag, instruction, [fast_ie(e) for e in ies])


# -- comparing what the two decoders made ---------------------------------------------------------------------

def same_fields(scapy_msg, fast_msg) -> None:
    """Assert a dissected scapy message and a fast-decoded one carry the same values."""
    assert (fast_msg.message_type, fast_msg.call_ref, fast_msg.call_ref_flag, fast_msg.instruction) == (
        scapy_msg.message_type, scapy_msg.call_ref, scapy_msg.call_ref_flag, scapy_msg.instruction)
    assert len(fast_msg.ies) == len(scapy_msg.ies)
    for s_ie, f_ie in zip(scapy_msg.ies, fast_msg.ies):
        assert (f_ie.identifier, f_ie.instruction) == (s_ie.identifier, s_ie.instruction)
        assert f_ie.contents == bytes(s_ie)[4:]
        assert f_ie.recognised == (not isinstance(s_ie, UnknownIE))
        if f_ie.fields is None:
            assert isinstance(s_ie, UnknownIE) or f_ie.contents == b""
        else:
            assert f_ie.fields._asdict() == s_ie.content_fields()
