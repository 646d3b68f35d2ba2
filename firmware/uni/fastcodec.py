"""The hot-path Q.2931 codec: light Python objects, struct and bytes, no scapy.

The scapy layers (:mod:`firmware.uni.message`, :mod:`firmware.uni.ies`) define the wire format; this codec
must agree with them exactly, and the tests prove it on generated messages of every type: the bytes it
encodes equal scapy's build, the fields it decodes equal scapy's dissection, and on any input, valid or
not, it accepts and rejects exactly as the strict scapy decoder (:func:`firmware.uni.decode.decode_message`)
does, with the same error class, cause, disposition and offset.

A message is a :class:`FastMessage` (type, call reference and flag, compatibility instruction octet, list
of :class:`FastIE`); an element carries its identifier, instruction octet, its contents as received (or
None when built from values) and its parsed record (:mod:`firmware.uni.fastie`), or None for an element
that is unrecognised or empty. ::

    msg = decode(raw)                            # strict; raises the errors of firmware.uni.errors
    ref = msg.ie(IEId.ENDPOINT_REFERENCE).fields  # EndpointReference(ref_value=..., ref_flag=..., ...)
    raw = encode(message(MessageType.DROP_PARTY_ACKNOWLEDGE, call_ref=7, flag=1,
                         ies=[endpoint_reference(3, flag=1)]))
    raw = encode(message(MessageType.ADD_PARTY, 7, [aal5(), low_layer_information(l2=Layer2Protocol.
        ISO_8802_2_LLC), called_party_number(aesa), endpoint_reference(3)]))
    raw = encode(message(MessageType.ADD_PARTY, 7, [make_ie(IEId.AAL_PARAMETERS, fastie.AALParameters(
        5, ((0x8C, 9188), (0x81, 9188)))), called_party_number(aesa), endpoint_reference(3)]))

Both classes are tuples underneath (cheap to make, immutable): ``FastIE.of(identifier, instruction,
contents, fields)`` and ``FastMessage.of(type, call_ref, flag, instruction, ies)`` build them, as do the
helpers below. Values are checked when encoding, not when building: :func:`encode` raises
:class:`~firmware.uni.errors.UniEncodeError` for a value its field cannot carry.

:func:`decode` reads a frame shaped like one it has already accepted (same type, length and element
headers: the frames a peer sends again and again) by a *layout path*, and any other frame by the general
walk; both validate every element, and tests prove they agree (see "decoding" below).
"""

from __future__ import annotations

import struct
from operator import itemgetter
from typing import Iterable

from firmware.uni import fastie
from firmware.uni.constants import (HEADER_OCTETS, IE_NAMES, MESSAGE_NAMES, PROTOCOL_DISCRIMINATOR,
                                    AALSubfield, CauseLocation, MessageType, NumberingPlan)
from firmware.uni.contents import (ie_error_clause, ie_error_disposition, is_mandatory,
                                   unknown_message_disposition)
from firmware.uni.errors import (Disposition, IEContentError, MessageIgnored, MessageLengthError,
                                 UniEncodeError, UnknownMessageType)
from firmware.uni.fastie import BY_HEADER, DEFAULT_CODING, KINDS, Problem

_new = tuple.__new__
_HEADER = struct.Struct(">BIBBH")  # discriminator, call reference length + call reference, type, instruction, length
_IE_HEADER = struct.Struct(">BBH")
_pack_header = _HEADER.pack
_unpack_header = _HEADER.unpack_from
_KIND_BY_KEY = {ident << 8 | instruction: kind for (ident, instruction), kind in BY_HEADER.items()}
#: (parse, largest contents or a huge number) by identifier << 8 | instruction octet: the decoder's table.
_PARSE_BY_KEY = {key: (kind.parse, kind.max_contents if kind.max_contents is not None else 0x10000)
                 for key, kind in _KIND_BY_KEY.items()}
#: element(identifier, instruction, record) -> header and contents, by the same key: the encoder's table.
_ELEMENT_BY_KEY = {key: kind.element for key, kind in _KIND_BY_KEY.items()}
#: (record, default instruction octet) by identifier: make_ie's table
_RECORD_AND_INSTRUCTION = {ident: (kind.record, 0x80 | DEFAULT_CODING[ident] << 5)
                           for ident, kind in KINDS.items()}
_EndpointReference, _CalledPartyNumber = fastie.EndpointReference, fastie.CalledPartyNumber
_AALParameters, _BroadbandLowLayerInformation = fastie.AALParameters, fastie.BroadbandLowLayerInformation
_FORWARD_MAX_SDU = int(AALSubfield.FORWARD_MAX_CPCS_SDU_SIZE)
_BACKWARD_MAX_SDU = int(AALSubfield.BACKWARD_MAX_CPCS_SDU_SIZE)
_MODE, _SSCS_TYPE = int(AALSubfield.MODE), int(AALSubfield.SSCS_TYPE)
_MESSAGE_TYPES = frozenset(int(t) for t in MessageType)
#: The instruction octets under which the endpoint reference is recognised (coding standard ITU-T).
_ENDPOINT_REFERENCE_INSTRUCTIONS = frozenset(key & 0xFF for key in _PARSE_BY_KEY if key >> 8 == 0x54)
#: Q.2971 answers (ADD PARTY ACKNOWLEDGE, PARTY ALERTING, DROP PARTY ACKNOWLEDGE...) are, nearly always, the
#: header and one endpoint reference, 16 octets: discriminator, call reference length and value, type,
#: instruction, length; identifier, instruction, length; endpoint reference type octet, flag and value. The
#: encoder packs them, and the decoder reads them, with one struct call.
_ENDPOINT_ANSWER = struct.Struct(">BIBBHBBHBH")
_HEADER_FIELD_AT = {1: "call_ref_length", 2: "call_ref", 3: "call_ref", 4: "call_ref", 5: "message_type",
                    6: "instruction", 7: "length", 8: "length"}


class FastIE(tuple):
    """One information element, immutable: identifier, instruction octet, contents (bytes, or None when
    built from a record), fields (the record, or None when unrecognised or empty) and, in the partial
    message of an :class:`IEContentError`, the ``problem`` that made it unusable. (A tuple underneath:
    the decoder makes one per element, so it must be cheap to make.)"""

    __slots__ = ()
    # No __new__ of its own: ``FastIE((identifier, instruction, contents, fields, problem))`` then takes
    # tuple's C constructor, twice as fast as any Python-level one; :meth:`of` reads better elsewhere.

    @classmethod
    def of(cls, identifier: int, instruction: int, contents: bytes | None, fields=None,
           problem: str | None = None) -> "FastIE":
        return cls((identifier, instruction, contents, fields, problem))

    identifier = property(itemgetter(0))
    instruction = property(itemgetter(1))
    contents = property(itemgetter(2))
    fields = property(itemgetter(3))
    problem = property(itemgetter(4))

    @property
    def recognised(self) -> bool:
        """True when the element's type is known under its coding standard."""
        return (self[0] << 8 | self[1]) in _KIND_BY_KEY

    def body(self) -> bytes:
        """The contents, built from the record when the element was made from values."""
        if self[2] is not None:
            return self[2]
        return _KIND_BY_KEY[self[0] << 8 | self[1]].build(self[3])

    def __bytes__(self) -> bytes:
        body = self.body()
        return _IE_HEADER.pack(self[0], self[1], len(body)) + body

    def __repr__(self) -> str:
        name = IE_NAMES.get(self[0], f"IE 0x{self[0]:02X}")
        shown = self[3] if self[3] is not None else self[2]
        return f"<FastIE {name} 0x{self[1]:02X} {shown!r}>"


class FastMessage(tuple):
    """One Q.2931 message, immutable: type, call reference value and flag, compatibility instruction
    octet, and the list of :class:`FastIE` (a tuple underneath, like :class:`FastIE`)."""

    __slots__ = ()

    @classmethod
    def of(cls, message_type: int, call_ref: int, call_ref_flag: int, instruction: int,
           ies: list[FastIE]) -> "FastMessage":
        return cls((message_type, call_ref, call_ref_flag, instruction, ies))

    message_type = property(itemgetter(0))
    call_ref = property(itemgetter(1))
    call_ref_flag = property(itemgetter(2))
    instruction = property(itemgetter(3))
    ies = property(itemgetter(4))

    def ie(self, identifier: int) -> FastIE | None:
        """The first element with this identifier, or None."""
        for element in self[4]:
            if element[0] == identifier:
                return element
        return None

    def __bytes__(self) -> bytes:
        return encode(self)

    def __repr__(self) -> str:
        name = MESSAGE_NAMES.get(self[0], f"0x{self[0]:02X}")
        return f"<FastMessage {name} call_ref={self[1]} flag={self[2]} ies={self[4]!r}>"


# -- building -----------------------------------------------------------------------------------------------

def make_ie(identifier: int, fields, *, flag: int = 0, action: int = 0, coding: int | None = None,
            pass_along: int = 0) -> FastIE:
    """An element of a known type from its record, with the given instruction octet fields."""
    if identifier.__class__ is not int:
        identifier = int(identifier)
    known = _RECORD_AND_INSTRUCTION.get(identifier)
    if known is None:
        raise UniEncodeError("identifier", identifier, "a known information element (use raw_ie for others)")
    record, instruction = known
    if fields.__class__ is not record:
        raise UniEncodeError("fields", fields, f"a {record.__name__} record")
    if coding is None and not (flag or action or pass_along):
        return FastIE((identifier, instruction, None, fields, None))
    if coding is None:
        coding = DEFAULT_CODING[identifier]
    instruction = 0x80 | (coding & 3) << 5 | (flag & 1) << 4 | (pass_along & 1) << 3 | (action & 7)
    return FastIE((identifier, instruction, None, fields, None))


def raw_ie(identifier: int, instruction: int, contents: bytes) -> FastIE:
    """An element given as raw octets (an unknown element, or one deliberately malformed)."""
    return FastIE((identifier, instruction, bytes(contents), None, None))


def message(message_type: int, call_ref: int, ies: Iterable[FastIE], *, flag: int = 0,
            instruction: int = 0x80) -> FastMessage:
    """A message: ``flag`` is the call reference flag, ``instruction`` the compatibility instruction octet."""
    return FastMessage((message_type, call_ref, flag, instruction, [*ies]))


# The helpers below make the record with tuple.__new__ (a NamedTuple's own constructor is Python code) and
# leave the checking of the values to encode(), like make_ie.

def endpoint_reference(value: int, flag: int = 0) -> FastIE:
    """Endpoint reference (Q.2971): 15-bit value, flag 1 in messages sent to the allocating side."""
    return FastIE((0x54, 0x80, None, _new(_EndpointReference, (value, flag, 0)), None))


def endpoint_state(state: int) -> FastIE:
    """Endpoint state: a :class:`~firmware.uni.constants.PartyState`."""
    return FastIE((0x55, 0x80, None, _new(fastie.EndpointState, (state, 0)), None))


def cause(value: int, location: int = int(CauseLocation.USER), diagnostics: bytes = b"") -> FastIE:
    """Cause (ITU-T coding): cause value, location, diagnostics octets."""
    return FastIE((0x08, 0x80, None, _new(fastie.Cause, (value, location, diagnostics, 0)), None))


def called_party_number(address: bytes, plan: int = int(NumberingPlan.NSAP), number_type: int = 0) -> FastIE:
    """Called party number: a 20-octet AESA by default (NSAP plan), or digits with ``plan=1`` (E.164)."""
    return FastIE((0x70, 0x80, None, _new(_CalledPartyNumber, (address, plan, number_type)), None))


def aal5(forward_max_sdu: int = 9188, backward_max_sdu: int = 9188, *, sscs_type: int | None = None,
         mode: int | None = None) -> FastIE:
    """AAL parameters for AAL 5 (Q.2931 4.5.5), the subfields in the order of
    :func:`firmware.uni.builders.aal5`: maximum CPCS-SDU sizes forward and backward (default 9188, the
    classical IP MTU), then the (UNI 3.1) mode and the SSCS type when given."""
    subfields = ((_FORWARD_MAX_SDU, forward_max_sdu), (_BACKWARD_MAX_SDU, backward_max_sdu))
    if mode is not None:
        subfields += ((_MODE, mode),)
    if sscs_type is not None:
        subfields += ((_SSCS_TYPE, sscs_type),)
    return FastIE((0x58, 0x80, None, _new(_AALParameters, (5, subfields, b"")), None))


def low_layer_information(*, l1: int | None = None, l2: int | None = None, l3: int | None = None,
                          l2_extension: bytes = b"", l3_extension: bytes = b"") -> FastIE:
    """Broadband low layer information (Q.2931 4.5.9) of the given layer protocols and their extension
    octets: ``l2=Layer2Protocol.ISO_8802_2_LLC`` for LLC encapsulation. (For a SNAP header or a tail, make the
    record and pass it to :func:`make_ie`.)"""
    return FastIE((0x5F, 0x80, None, _new(_BroadbandLowLayerInformation, (
        l1, l2, l2_extension, l3, l3_extension, None, None, b"")), None))


def _make_encoder(answers: bool = True):
    """The encoder; ``answers=False`` leaves out its Q.2971 answer path (tests compare the two)."""
    # globals bound as closure variables, as in the decoder
    elements, pack_ie, pack_header, join = _ELEMENT_BY_KEY, _IE_HEADER.pack, _pack_header, b"".join
    pack_answer, endpoint_reference_, instructions = (_ENDPOINT_ANSWER.pack, fastie.EndpointReference,
                                                      _ENDPOINT_REFERENCE_INSTRUCTIONS)

    def encode(msg: FastMessage) -> bytes:
        """The octets of ``msg``; raises :class:`UniEncodeError` for values that do not fit."""
        message_type, call_ref, flag, msg_instruction, ies = msg
        if answers and len(ies) == 1:  # perhaps a Q.2971 answer (header, one endpoint reference): one struct
            identifier, instruction, body, fields, _ = ies[0]
            if identifier == 0x54 and body is None and fields.__class__ is endpoint_reference_ \
                    and instruction in instructions:
                value, ref_flag, ref_type = fields  # the checks of fastie's endpoint reference builder
                if (value.__class__ is int and 0 <= value < 0x8000 and ref_flag.__class__ is int
                        and 0 <= ref_flag <= 1 and ref_type.__class__ is int and 0 <= ref_type < 0x100
                        and call_ref.__class__ is int and 0 <= call_ref <= 0x7FFFFF and (flag == 0 or flag == 1)):
                    try:
                        return pack_answer(0x09, 0x03000000 | flag << 23 | call_ref, message_type, msg_instruction,
                                           7, 0x54, instruction, 3, ref_type, ref_flag << 15 | value)
                    except struct.error as exc:
                        raise UniEncodeError("header", (message_type, msg_instruction), "octets 0..255") from exc
        parts = []
        append = parts.append
        for identifier, instruction, body, fields, _ in ies:
            if body is None:  # built from its record: header and contents in one go (fastie, "whole elements")
                try:
                    element = elements[identifier << 8 | instruction]
                except KeyError:
                    raise UniEncodeError("contents", None,
                                         f"contents for unrecognised element 0x{identifier:02X}") from None
                append(element(identifier, instruction, fields))
                continue
            n = len(body)
            if n > 0xFFFF:
                raise UniEncodeError(f"{IE_NAMES.get(identifier, 'IE')}.length", n, "at most 65535")
            append(pack_ie(identifier, instruction, n))
            append(body)
        payload = join(parts)
        size = len(payload)
        if not (call_ref.__class__ is int and 0 <= call_ref <= 0x7FFFFF and (flag == 0 or flag == 1)
                and size <= 0xFFFF):
            if call_ref.__class__ is not int or not 0 <= call_ref <= 0x7FFFFF:
                raise UniEncodeError("call_ref", call_ref, "a 23-bit call reference value")
            if flag not in (0, 1):
                raise UniEncodeError("call_ref_flag", flag, "0 or 1")
            raise UniEncodeError("length", size, "at most 65535 octets of information elements")
        try:
            return pack_header(0x09, 0x03000000 | flag << 23 | call_ref, message_type, msg_instruction, size) \
                + payload
        except struct.error as exc:
            raise UniEncodeError("header", (message_type, msg_instruction), "octets 0..255") from exc

    return encode


encode = _make_encoder()


# -- decoding -----------------------------------------------------------------------------------------------
#
# Two paths, one contract. The general path (:func:`_make_general_decoder`) walks any frame element by
# element and finds the error Q.2931 5.6 prescribes, or keeps the unrecognised and empty elements. The
# layout path (:func:`_make_decoder`) serves the frames a signalling peer sends nearly always: the same
# message type, length and element headers again and again, with only the values changing. A *layout* is
# where everything sits in such a frame; the general path learns one from the first frame of each type and
# length it accepts with every element recognised, non-empty and valid. On a frame of that type and length
# the layout path compares, in one masked integer comparison (as a TCAM entry matches a header), every
# octet the layout fixes (discriminator, call reference length, type, length, each element's identifier,
# instruction and length), reads the rest with one struct call and parses every element's contents with the
# general path's parsers. The 16-octet Q.2971 answer (header and one endpoint reference) needs no layout:
# one struct reads it whole. Any difference, and any :class:`Problem`, hands the frame whole to the general
# path. A layout never holds contents, only their place: every frame is validated in full. The tests of
# tests/firmware/uni/test_fast_paths.py prove the paths agree on generated, mutated and random frames.

#: Layouts kept, by frame length << 8 | message type (the peers of one switch send a few dozen shapes);
#: when full, they are forgotten and learned afresh.
_LAYOUT_LIMIT = 256
_LAYOUTS: dict[int, tuple] = {}


def _layout_of(data: bytes, ies: list) -> tuple:
    """The layout of ``data``, an accepted frame of elements ``ies``: (the mask of the octets every frame of
    the layout has in common, their values, the unpacker of the others, and (identifier, instruction,
    index among those values, parse) per element)."""
    mask = bytearray(len(data))
    formats = [">2xBHBB2x"]  # call reference flag and value (8 + 16 bits), type, instruction
    common = [0, 1, 5, 7, 8]  # discriminator, call reference length, type, length
    elements = []
    at = HEADER_OCTETS
    for identifier, instruction, body, _, _ in ies:
        formats.append(f"4x{len(body)}s")
        common += range(at, at + 4)  # identifier, instruction, length
        parse = _PARSE_BY_KEY[identifier << 8 | instruction][0]
        elements.append((identifier, instruction, 4 + len(elements), parse))
        at += 4 + len(body)
    for i in common:
        mask[i] = 0xFF
    mask = int.from_bytes(mask, "big")
    return mask, int.from_bytes(data, "big") & mask, struct.Struct("".join(formats)).unpack, tuple(elements)


def _learn(layouts: dict, data: bytes, msg: FastMessage) -> None:
    """Keep the layout of ``data``, accepted as ``msg`` (every element recognised, non-empty and valid)."""
    if len(layouts) >= _LAYOUT_LIMIT:
        layouts.clear()  # the peers' shapes have changed: learn them afresh
    layouts[len(data) << 8 | msg[0]] = _layout_of(data, msg[4])


def _make_general_decoder(layouts: dict):
    # The decoder's globals bound as closure variables: on the hot path every name lookup counts.
    FastIE_, FastMessage_, types, parsers = FastIE, FastMessage, _MESSAGE_TYPES, _PARSE_BY_KEY
    unpack_header, unpack_ie = _unpack_header, _IE_HEADER.unpack_from

    def decode_general(data: bytes) -> FastMessage:
        """Strictly decode one message, any message, valid or not (the contract of :func:`decode`)."""
        n = len(data)
        if n < 9 or data[0] != 0x09 or data.__class__ is not bytes:  # HEADER_OCTETS, PROTOCOL_DISCRIMINATOR
            data = bytes(data)
            _bad_header(data)
        _, word, message_type, instruction, length = unpack_header(data)
        if word >> 24 != 3 or length != n - 9 or message_type not in types:
            _bad_type_or_length(data, word, message_type, instruction, length)
        ies = []
        pos = 9
        problems = None
        regular = True  # every element recognised, non-empty and valid: a layout to learn
        while pos < n:
            if n - pos < 4:
                _framing(data, pos, n, "instruction" if n - pos == 1 else "length",
                         "element ends inside its 4-octet header",
                         FastMessage_((message_type, word & 0x7FFFFF, word >> 23 & 1, instruction, ies)))
            identifier, ie_instruction, ie_length = unpack_ie(data, pos)
            start = pos + 4
            pos = start + ie_length
            if pos > n:
                _framing(data, start - 4, start - 2, "length", f"length {ie_length} runs past the end "
                         f"({n - start} octets follow the header)",
                         FastMessage_((message_type, word & 0x7FFFFF, word >> 23 & 1, instruction, ies)))
            body = data[start:pos]
            entry = parsers.get(identifier << 8 | ie_instruction)
            if entry is None or not ie_length:
                ies.append(FastIE_((identifier, ie_instruction, body, None, None)))
                regular = False
                continue
            try:
                if ie_length > entry[1]:
                    raise Problem(2, "length", f"{ie_length} octets of contents exceed the maximum "
                                  f"{entry[1]} of Q.2931")
                ies.append(FastIE_((identifier, ie_instruction, body, entry[0](body), None)))
            except Problem as problem:
                if problems is None:
                    problems = []
                problems.append((start - 4 + problem.offset, problem.field, problem.reason, identifier,
                                 ie_instruction))
                ies.append(FastIE_((identifier, ie_instruction, body, None, problem.reason)))
        msg = FastMessage_((message_type, word & 0x7FFFFF, word >> 23 & 1, instruction, ies))
        if problems is not None:
            _raise_contents(msg, problems)
        if regular and ies and (n << 8 | message_type) not in layouts:
            _learn(layouts, data, msg)
        return msg

    return decode_general


def _make_decoder(layouts: dict, fallback):
    """The layout path over ``layouts``, handing every other frame to ``fallback`` (the general path;
    tests pass a probe to see which path took a frame)."""
    FastIE_, FastMessage_, new, types, from_bytes = FastIE, FastMessage, _new, _MESSAGE_TYPES, int.from_bytes
    unpack_answer, endpoint_reference_, instructions = (_ENDPOINT_ANSWER.unpack, fastie.EndpointReference,
                                                       _ENDPOINT_REFERENCE_INSTRUCTIONS)

    def decode(data: bytes) -> FastMessage:
        """Strictly decode one message (same contract and errors as
        :func:`firmware.uni.decode.decode_message`)."""
        if data.__class__ is bytes:
            n = len(data)
            if n == 16:  # perhaps a Q.2971 answer: one struct reads it whole
                (discriminator, word, message_type, instruction, length, identifier, ie_instruction, ie_length,
                 ref_type, flag_value) = unpack_answer(data)
                if (identifier == 0x54 and ie_length == 3 and length == 7 and discriminator == 0x09
                        and word >> 24 == 3 and message_type in types and ie_instruction in instructions):
                    # the endpoint reference record, as fastie's parser makes it (Q.2971 8.1: type octet,
                    # then flag and 15-bit value)
                    return FastMessage_((message_type, word & 0x7FFFFF, word >> 23 & 1, instruction, [FastIE_((
                        0x54, ie_instruction, data[13:], new(endpoint_reference_, (
                            flag_value & 0x7FFF, flag_value >> 15, ref_type)), None))]))
            layout = layouts.get(n << 8 | data[5]) if n > 12 else None
            if layout is not None:
                mask, common, unpack, elements = layout
                if from_bytes(data, "big") & mask == common:  # every header octet as the layout has it
                    values = unpack(data)
                    ies = []
                    append = ies.append
                    try:
                        for identifier, ie_instruction, at, parse in elements:
                            body = values[at]
                            append(FastIE_((identifier, ie_instruction, body, parse(body), None)))
                    except Problem:
                        return fallback(data)
                    high = values[0]
                    return FastMessage_((values[2], (high & 0x7F) << 16 | values[1], high >> 7, values[3], ies))
        return fallback(data)

    return decode


_decode_general = _make_general_decoder(_LAYOUTS)
decode = _make_decoder(_LAYOUTS, _decode_general)


def _bad_type_or_length(data: bytes, word: int, message_type: int, instruction: int, length: int) -> None:
    """The header errors after the discriminator and size checks, in the order a receiver meets them."""
    if word >> 24 != 3:
        raise MessageIgnored(1, "call_ref_length", f"call reference length octet 0x{data[1]:02X}, Q.2931 uses "
                             "3-octet call references only", "Q.2931 5.6.3.1")
    if message_type not in _MESSAGE_TYPES:
        raise UnknownMessageType(message_type, unknown_message_disposition(instruction))
    raise MessageLengthError(length, len(data) - HEADER_OCTETS)


def _bad_header(data: bytes) -> None:
    """The discriminator and size checks (5.6.1, 5.6.2); returns when both pass."""
    n = len(data)
    if n == 0:
        raise MessageIgnored(0, "protocol_discriminator", "empty frame", "Q.2931 5.6.2")
    if data[0] != PROTOCOL_DISCRIMINATOR:
        raise MessageIgnored(0, "protocol_discriminator",
                             f"0x{data[0]:02X} is not the Q.2931 protocol discriminator 0x09", "Q.2931 5.6.1")
    if n < HEADER_OCTETS:
        raise MessageIgnored(n, _HEADER_FIELD_AT[n], f"{n} octets cannot hold the 9-octet message header",
                             "Q.2931 5.6.2")


def _framing(data: bytes, pos: int, offset: int, field: str, reason: str, msg: FastMessage) -> None:
    identifier = data[pos]
    message_type = msg.message_type
    raise IEContentError(f"Q.2931 {MESSAGE_NAMES[message_type]}", offset, field, reason, identifier,
                         disposition=Disposition.REPORT, clause="Q.2931 4.5.1, 5.6.8.2",
                         mandatory=is_mandatory(message_type, identifier), message=msg,
                         problems=[(offset, field, reason, identifier)])


def _raise_contents(msg: FastMessage, problems: list) -> None:
    worst = None
    for offset, field, reason, identifier, instruction in problems:
        disposition = ie_error_disposition(msg.message_type, identifier, instruction)
        if worst is None or disposition > worst[0]:
            worst = (disposition, offset, field, reason, identifier, instruction)
    disposition, offset, field, reason, identifier, instruction = worst
    raise IEContentError(f"Q.2931 {MESSAGE_NAMES[msg.message_type]}", offset, field, reason, identifier,
                         disposition=disposition, clause=ie_error_clause(msg.message_type, identifier, instruction),
                         mandatory=is_mandatory(msg.message_type, identifier), message=msg,
                         problems=[p[:4] for p in problems])


def decode_ie(data: bytes) -> FastIE:
    """Strictly decode one element occupying all of ``data`` (contract of :func:`firmware.uni.ie.decode_ie`)."""
    data = bytes(data)
    n = len(data)
    identifier = data[0] if n else -1
    what = f"Q.2931 {IE_NAMES.get(identifier, 'information element')}"
    if n < 4:
        field = "identifier" if n == 0 else ("instruction" if n == 1 else "length")
        raise IEContentError(what, n, field, f"{n} octets cannot hold the 4-octet header", identifier,
                             clause="Q.2931 4.5.1")
    identifier, instruction, length = _IE_HEADER.unpack_from(data)
    if length != n - 4:
        raise IEContentError(what, 2, "length", f"length {length}, but {n - 4} octets of contents given",
                             identifier, clause="Q.2931 4.5.1")
    body = data[4:]
    kind = _KIND_BY_KEY.get(identifier << 8 | instruction)
    if kind is None or not body:
        return FastIE((identifier, instruction, body, None, None))
    try:
        if kind.max_contents is not None and length > kind.max_contents:
            raise Problem(2, "length", f"{length} octets of contents exceed the maximum {kind.max_contents} of Q.2931")
        return FastIE((identifier, instruction, body, kind.parse(body), None))
    except Problem as problem:
        raise IEContentError(what, problem.offset, problem.field, problem.reason, identifier) from None


__all__ = ["FastIE", "FastMessage", "aal5", "called_party_number", "cause", "decode", "decode_ie",
           "encode", "endpoint_reference", "endpoint_state", "low_layer_information", "make_ie", "message",
           "raw_ie"]
