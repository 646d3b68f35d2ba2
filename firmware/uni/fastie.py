"""Information element contents for the fast codec: one light record per element type, with a parser and
a builder written for speed (plain bytes and int arithmetic, no scapy).

Each record is a ``NamedTuple`` whose fields have exactly the names of the scapy class's content fields
(:meth:`firmware.uni.ie.InformationElement.content_fields`), so a record and a dissected scapy element can
be compared field by field; tests do, over every element type. Extension bits are not fields: those the
standard fixes to 1 are checked on parsing and written as 1; those that announce an optional octet follow
from whether the optional values are None.

``parse(body)`` takes the contents (the octets after the 4-octet header, at least one) and returns the
record or raises :class:`Problem` with the offset (from the identifier octet), the field and the reason,
finding the same first problem as the scapy dissection does. ``build(record)`` returns the contents and
raises :class:`~firmware.uni.errors.UniEncodeError` for a value that does not fit its field;
``element(identifier, instruction, record)`` returns the whole element, header and contents (the encoder
uses it).

Speed: the parsers and builders of the elements on the hot path (endpoint reference and state, cause,
called party number, AAL parameters, BLLI) bind globals as default arguments, build records with
``tuple.__new__`` (a NamedTuple's own constructor is Python code), check values with one combined test
before falling back to the field-by-field check that names the culprit, read and write the common forms
(the AAL 5 element with its two maximum CPCS-SDU sizes, the one-octet BLLI, an endpoint reference) with
one struct call or one table look-up, and pack header and contents together.
"""

from __future__ import annotations

import struct
from typing import Callable, NamedTuple

from firmware.uni.constants import (AAL_SUBFIELD_OCTETS, AESA_OCTETS, BLLI_MAX_L2_EXTENSION,
                                    BLLI_MAX_L3_EXTENSION, BLLI_SNAP_ID, IE_MAX_CONTENTS, IE_NAMES, IPI_SNAP,
                                    SENDING_COMPLETE_INDICATION, TRAFFIC_SUBFIELD_OCTETS,
                                    TRANSIT_DELAY_SUBFIELD_OCTETS, AALType, CodingStandard, IEId,
                                    NumberingPlan)
from firmware.uni.errors import UniEncodeError


_new = tuple.__new__  # builds a NamedTuple record without its Python-level __new__ (hot path)
#: The one-octet bytes objects, by value: ``_OCTET[x]`` costs an index, ``bytes((x,))`` a tuple and a call.
_OCTET = tuple(bytes((i,)) for i in range(256))
#: AAL parameters with two 2-octet subfields (the AAL 5 maximum CPCS-SDU sizes): type, id, value, id, value
_AAL_TWO_U16 = struct.Struct(">BBHBH")


def _size_table(octets: dict) -> tuple:
    """A subfield table (identifier -> octets of its value) as a 256-entry tuple, None for the unknown ones:
    an index where the hot loops would otherwise call ``dict.get``."""
    return tuple(octets.get(ident) for ident in range(256))


class Problem(Exception):
    """A fault in an element's contents: offset from the identifier octet, field, reason."""

    def __init__(self, offset: int, field: str, reason: str) -> None:
        super().__init__(offset, field, reason)
        self.offset = offset
        self.field = field
        self.reason = reason


def _truncated(body: bytes, field: str) -> Problem:
    return Problem(4 + len(body), field, "contents end before this field")


def _excess(consumed: int, body: bytes) -> Problem:
    return Problem(4 + consumed, "contents", f"{len(body) - consumed} octets beyond the element's layout")


def _ext(octet: int, offset: int, field: str) -> None:
    if not octet & 0x80:
        raise Problem(offset, field, "extension bit must be 1: no further octet is defined")


def _u(name: str, value, bits: int) -> int:
    """``value`` if it is an int that fits ``bits`` bits, else UniEncodeError naming ``name``."""
    if value.__class__ is int and 0 <= value and not value >> bits:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value and not value >> bits:
        return int(value)  # an IntEnum member
    raise UniEncodeError(name, value, f"an unsigned {bits}-bit integer")


def _b(name: str, value, limit: int | None = None) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise UniEncodeError(name, value, "bytes")
    if limit is not None and len(value) > limit:
        raise UniEncodeError(name, value, f"at most {limit} octets")
    return bytes(value)


# -- records ---------------------------------------------------------------------------------------------

class Cause(NamedTuple):
    cause_value: int
    location: int = 0
    diagnostics: bytes = b""
    spare: int = 0


class CallState(NamedTuple):
    call_state: int
    spare: int = 0


class NotificationIndicator(NamedTuple):
    description: bytes


class EndpointReference(NamedTuple):
    ref_value: int
    ref_flag: int = 0
    ref_type: int = 0


class EndpointState(NamedTuple):
    party_state: int
    spare: int = 0


class ConnectionIdentifier(NamedTuple):
    vpci: int
    vci: int
    vp_associated: int = 1
    pref_excl: int = 0
    spare: int = 0


class RestartIndicator(NamedTuple):
    restart_class: int = 2
    spare: int = 0


class AALParameters(NamedTuple):
    aal_type: int = int(AALType.AAL5)
    subfields: tuple = ()
    tail: bytes = b""


class ATMTrafficDescriptor(NamedTuple):
    subfields: tuple = ()
    tail: bytes = b""


class QoSParameter(NamedTuple):
    qos_forward: int = 0
    qos_backward: int = 0


class EndToEndTransitDelay(NamedTuple):
    subfields: tuple = ()
    tail: bytes = b""


class BroadbandBearerCapability(NamedTuple):
    bearer_class: int = 0x10
    atc: int | None = None
    clipping: int = 0
    up_config: int = 0
    spare5: int = 0
    spare6: int = 0


class BroadbandHighLayerInformation(NamedTuple):
    hli_type: int
    info: bytes = b""


class BroadbandLowLayerInformation(NamedTuple):
    l1_protocol: int | None = None
    l2_protocol: int | None = None
    l2_extension: bytes = b""
    l3_protocol: int | None = None
    l3_extension: bytes = b""
    snap_oui: int | None = None
    snap_pid: int | None = None
    tail: bytes = b""


class BroadbandRepeatIndicator(NamedTuple):
    repeat_indication: int = 2
    spare: int = 0


class BroadbandSendingComplete(NamedTuple):
    indication: int = SENDING_COMPLETE_INDICATION


class CalledPartyNumber(NamedTuple):
    address: bytes
    numbering_plan: int = int(NumberingPlan.NSAP)
    number_type: int = 0


class CallingPartyNumber(NamedTuple):
    address: bytes
    numbering_plan: int = int(NumberingPlan.NSAP)
    number_type: int = 0
    presentation: int | None = None
    screening: int | None = None
    spare5a: int | None = None


class PartySubaddress(NamedTuple):
    subaddress: bytes
    subaddress_type: int = 0
    odd_even: int = 0
    spare: int = 0


class TransitNetworkSelection(NamedTuple):
    network_id: bytes
    network_id_type: int = 2
    network_id_plan: int = 1


class LIJCallIdentifier(NamedTuple):
    lij_id_value: int
    lij_id_type: int = 0
    spare: int = 0


class LIJParameters(NamedTuple):
    screening: int = 0
    spare: int = 0


class LeafSequenceNumber(NamedTuple):
    sequence_number: int


# -- parsers (body: the contents, never empty) -------------------------------------------------------------

def _p_cause(body: bytes, _new=_new, _record=Cause) -> Cause:
    o5 = body[0]
    if not o5 & 0x80:
        _ext(o5, 4, "ext5")
    if len(body) < 2:
        raise _truncated(body, "cause_value")
    o6 = body[1]
    if not o6 & 0x80:
        _ext(o6, 5, "ext6")
    return _new(_record, (o6 & 0x7F, o5 & 0x0F, body[2:], o5 >> 4 & 7))


def _p_one_octet_state(record: type) -> Callable[[bytes], tuple]:
    """Parser of a one-octet element holding spare (2) | a 6-bit state (Call state, Endpoint state)."""

    def parse(body: bytes, _new=_new, _record=record):
        if len(body) > 1:
            raise _excess(1, body)
        o = body[0]
        return _new(_record, (o & 0x3F, o >> 6))
    return parse


def _p_notification(body: bytes) -> NotificationIndicator:
    return NotificationIndicator(body)


def _p_endpoint_reference(body: bytes, _new=_new, _record=EndpointReference) -> EndpointReference:
    if len(body) != 3:
        if len(body) < 3:
            raise _truncated(body, "ref_value")
        raise _excess(3, body)
    flag_value = body[1]
    return _new(_record, ((flag_value & 0x7F) << 8 | body[2], flag_value >> 7, body[0]))


def _p_connection_identifier(body: bytes) -> ConnectionIdentifier:
    o5 = body[0]
    _ext(o5, 4, "ext5")
    n = len(body)
    if n != 5:
        if n < 5:
            raise _truncated(body, "vpci")
        raise _excess(5, body)
    return ConnectionIdentifier(body[1] << 8 | body[2], body[3] << 8 | body[4], o5 >> 3 & 3, o5 & 7,
                                o5 >> 5 & 3)


def _p_restart_indicator(body: bytes) -> RestartIndicator:
    o5 = body[0]
    _ext(o5, 4, "ext5")
    if len(body) > 1:
        raise _excess(1, body)
    return RestartIndicator(o5 & 7, o5 >> 3 & 0x0F)


def _subfields(body: bytes, pos: int, sizes: tuple) -> tuple[tuple, bytes]:
    """The subfields from ``pos`` (``sizes``: a :func:`_size_table`), up to the first unknown identifier,
    and the octets from there on (the tail)."""
    items = []
    append = items.append
    n = len(body)
    while pos < n:
        ident = body[pos]
        size = sizes[ident]
        if size is None:
            break
        end = pos + 1 + size
        if end > n:
            raise _truncated(body, "subfields")
        if size == 2:
            append((ident, body[pos + 1] << 8 | body[pos + 2]))
        elif size == 1:
            append((ident, body[pos + 1]))
        else:
            append((ident, int.from_bytes(body[pos + 1:end], "big") if size else None))
        pos = end
    return tuple(items), body[pos:]


_AAL_SIZES = _size_table(AAL_SUBFIELD_OCTETS)
_TRAFFIC_SIZES = _size_table(TRAFFIC_SUBFIELD_OCTETS)
_TRANSIT_DELAY_SIZES = _size_table(TRANSIT_DELAY_SUBFIELD_OCTETS)
_AAL_USER_DEFINED = int(AALType.USER_DEFINED)


def _p_aal(body: bytes, _new=_new, _record=AALParameters, _sizes=_AAL_SIZES,
           _two=_AAL_TWO_U16.unpack) -> AALParameters:
    aal_type = body[0]
    if aal_type == _AAL_USER_DEFINED:
        return _new(_record, (aal_type, (), body[1:]))
    if len(body) == 7:  # the common AAL 5 element: forward and backward maximum CPCS-SDU size, nothing after
        _, i1, v1, i2, v2 = _two(body)
        if _sizes[i1] == 2 and _sizes[i2] == 2:
            return _new(_record, (aal_type, ((i1, v1), (i2, v2)), b""))
    subfields, tail = _subfields(body, 1, _sizes)
    return _new(_record, (aal_type, subfields, tail))


def _p_traffic(body: bytes) -> ATMTrafficDescriptor:
    return ATMTrafficDescriptor(*_subfields(body, 0, _TRAFFIC_SIZES))


def _p_transit_delay(body: bytes) -> EndToEndTransitDelay:
    return EndToEndTransitDelay(*_subfields(body, 0, _TRANSIT_DELAY_SIZES))


def _p_qos(body: bytes) -> QoSParameter:
    n = len(body)
    if n != 2:
        if n < 2:
            raise _truncated(body, "qos_backward")
        raise _excess(2, body)
    return QoSParameter(body[0], body[1])


def _p_bearer(body: bytes) -> BroadbandBearerCapability:
    n = len(body)
    o5 = body[0]
    pos = 1
    atc = None
    if not o5 & 0x80:
        if n < 2:
            raise _truncated(body, "atc")
        o5a = body[1]
        _ext(o5a, 5, "ext5a")
        atc = o5a & 0x7F
        pos = 2
    if n <= pos:
        raise _truncated(body, "clipping")
    o6 = body[pos]
    _ext(o6, 4 + pos, "ext6")
    if n > pos + 1:
        raise _excess(pos + 1, body)
    return BroadbandBearerCapability(o5 & 0x1F, atc, o6 >> 5 & 3, o6 & 3, o5 >> 5 & 3, o6 >> 2 & 7)


def _p_bhli(body: bytes) -> BroadbandHighLayerInformation:
    o5 = body[0]
    _ext(o5, 4, "ext5")
    return BroadbandHighLayerInformation(o5 & 0x7F, body[1:])


def _chain(body: bytes, pos: int, limit: int, field: str) -> int:
    """End of the extension octets starting at ``pos`` (after an octet with ext 0)."""
    start = pos
    n = len(body)
    while True:
        if pos >= n:
            raise Problem(4 + n, field, "contents end inside the extension octets")
        octet = body[pos]
        pos += 1
        if octet & 0x80:
            return pos
        if pos - start >= limit:
            raise Problem(4 + pos - 1, field, f"extension octet {pos - start} of {limit} must end the group")


#: The common BLLI, one layer 2 octet (ext 1, layer 2, the protocol: LLC encapsulation, say): its record by
#: that octet, None for the octets that are not such (records are immutable: one serves every message).
_BLLI_LAYER2_ONLY = tuple(_new(BroadbandLowLayerInformation, (None, octet & 0x1F, b"", None, b"", None, None, b""))
                          if octet & 0xE0 == 0xC0 else None for octet in range(256))


def _p_blli(body: bytes, _one=_BLLI_LAYER2_ONLY) -> BroadbandLowLayerInformation:
    n = len(body)
    if n == 1:
        record = _one[body[0]]
        if record is not None:
            return record
    pos = 0
    l1 = l2 = l3 = oui = pid = None
    l2x = l3x = b""
    octet = body[0]
    if octet & 0x60 == 0x20:
        if not octet & 0x80:
            raise Problem(4, "l1_protocol", "layer 1 octet 5 has no extension octets: ext must be 1")
        l1 = octet & 0x1F
        pos = 1
    if pos < n and body[pos] & 0x60 == 0x40:
        octet = body[pos]
        l2 = octet & 0x1F
        pos += 1
        if not octet & 0x80:
            end = _chain(body, pos, BLLI_MAX_L2_EXTENSION, "l2_extension")
            l2x, pos = body[pos:end], end
    if pos < n and body[pos] & 0x60 == 0x60:
        octet = body[pos]
        l3 = octet & 0x1F
        pos += 1
        if not octet & 0x80:
            end = _chain(body, pos, BLLI_MAX_L3_EXTENSION, "l3_extension")
            l3x, pos = body[pos:end], end
        if l3 == 0x0B and len(l3x) == 2 and ((l3x[0] & 0x7F) << 1 | l3x[1] >> 6 & 1) == IPI_SNAP:
            if n - pos < 6:
                raise Problem(4 + n, "snap_oui", "contents end inside the SNAP octets")
            if body[pos] != BLLI_SNAP_ID:
                raise Problem(4 + pos, "snap_id", f"SNAP identifier octet 8 must be 0x80, not 0x{body[pos]:02X}")
            oui = body[pos + 1] << 16 | body[pos + 2] << 8 | body[pos + 3]
            pid = body[pos + 4] << 8 | body[pos + 5]
            pos += 6
    return _new(BroadbandLowLayerInformation, (l1, l2, l2x, l3, l3x, oui, pid, body[pos:]))


def _p_repeat(body: bytes) -> BroadbandRepeatIndicator:
    o5 = body[0]
    _ext(o5, 4, "ext5")
    if len(body) > 1:
        raise _excess(1, body)
    return BroadbandRepeatIndicator(o5 & 0x0F, o5 >> 4 & 7)


def _p_sending_complete(body: bytes) -> BroadbandSendingComplete:
    o5 = body[0]
    _ext(o5, 4, "ext5")
    if len(body) > 1:
        raise _excess(1, body)
    return BroadbandSendingComplete(o5 & 0x7F)


def _nsap_check(plan: int, address: bytes, offset: int) -> None:
    if plan == NumberingPlan.NSAP and len(address) != AESA_OCTETS:
        raise Problem(offset, "address", f"an NSAP-plan address is {AESA_OCTETS} octets, not {len(address)}")


def _p_called(body: bytes, _new=_new, _record=CalledPartyNumber, _aesa=AESA_OCTETS + 1) -> CalledPartyNumber:
    o5 = body[0]
    if not o5 & 0x80:
        _ext(o5, 4, "ext5")
    plan = o5 & 0x0F
    if plan == 2 and len(body) != _aesa:  # NumberingPlan.NSAP
        _nsap_check(plan, body[1:], 5)
    return _new(_record, (body[1:], plan, o5 >> 4 & 7))


def _p_calling(body: bytes) -> CallingPartyNumber:
    o5 = body[0]
    plan = o5 & 0x0F
    if o5 & 0x80:
        address = body[1:]
        _nsap_check(plan, address, 5)
        return CallingPartyNumber(address, plan, o5 >> 4 & 7)
    if len(body) < 2:
        raise _truncated(body, "presentation")
    o5a = body[1]
    _ext(o5a, 5, "ext5a")
    address = body[2:]
    _nsap_check(plan, address, 6)
    return CallingPartyNumber(address, plan, o5 >> 4 & 7, o5a >> 5 & 3, o5a & 3, o5a >> 2 & 7)


def _p_subaddress(body: bytes) -> PartySubaddress:
    o5 = body[0]
    _ext(o5, 4, "ext5")
    return PartySubaddress(body[1:], o5 >> 4 & 7, o5 >> 3 & 1, o5 & 7)


def _p_tns(body: bytes) -> TransitNetworkSelection:
    o5 = body[0]
    _ext(o5, 4, "ext5")
    return TransitNetworkSelection(body[1:], o5 >> 4 & 7, o5 & 0x0F)


def _p_lij_call_identifier(body: bytes) -> LIJCallIdentifier:
    o5 = body[0]
    _ext(o5, 4, "ext5")
    n = len(body)
    if n != 5:
        if n < 5:
            raise _truncated(body, "lij_id_value")
        raise _excess(5, body)
    return LIJCallIdentifier(int.from_bytes(body[1:5], "big"), o5 & 0x0F, o5 >> 4 & 7)


def _p_lij_parameters(body: bytes) -> LIJParameters:
    o5 = body[0]
    _ext(o5, 4, "ext5")
    if len(body) > 1:
        raise _excess(1, body)
    return LIJParameters(o5 & 0x0F, o5 >> 4 & 7)


def _p_leaf_sequence(body: bytes) -> LeafSequenceNumber:
    n = len(body)
    if n != 4:
        if n < 4:
            raise _truncated(body, "sequence_number")
        raise _excess(4, body)
    return LeafSequenceNumber(int.from_bytes(body, "big"))


# -- builders ----------------------------------------------------------------------------------------------

def _e_cause(identifier: int, instruction: int, r: Cause, _pack=struct.Struct(">BBHBB").pack) -> bytes:
    value, location, diagnostics, spare = r
    if not (value.__class__ is int and 0 <= value < 0x80 and location.__class__ is int and 0 <= location < 0x10
            and spare.__class__ is int and 0 <= spare < 8 and diagnostics.__class__ is bytes
            and len(diagnostics) <= 28):
        value, location, spare = _u("cause_value", value, 7), _u("location", location, 4), _u("spare", spare, 3)
        diagnostics = _b("diagnostics", diagnostics, 28)
    return _pack(identifier, instruction, 2 + len(diagnostics), 0x80 | spare << 4 | location, 0x80 | value) \
        + diagnostics


def _b_six_bit_state(field: str) -> Callable:
    def build(r) -> bytes:
        return bytes((_u("spare", r.spare, 2) << 6 | _u(field, r[0], 6),))
    return build


def _b_notification(r: NotificationIndicator) -> bytes:
    return _b("description", r.description)


def _e_endpoint_reference(identifier: int, instruction: int, r: EndpointReference,
                          _pack=struct.Struct(">BBHBH").pack) -> bytes:
    value, flag, ref_type = r
    if not (value.__class__ is int and 0 <= value < 0x8000 and flag.__class__ is int and 0 <= flag <= 1
            and ref_type.__class__ is int and 0 <= ref_type < 0x100):
        value, flag = _u("ref_value", value, 15), _u("ref_flag", flag, 1)
        ref_type = _u("ref_type", ref_type, 8)
    return _pack(identifier, instruction, 3, ref_type, flag << 15 | value)


def _b_connection_identifier(r: ConnectionIdentifier) -> bytes:
    o5 = 0x80 | _u("spare", r.spare, 2) << 5 | _u("vp_associated", r.vp_associated, 2) << 3 | _u(
        "pref_excl", r.pref_excl, 3)
    return bytes((o5,)) + _u("vpci", r.vpci, 16).to_bytes(2, "big") + _u("vci", r.vci, 16).to_bytes(2, "big")


def _b_restart_indicator(r: RestartIndicator) -> bytes:
    return bytes((0x80 | _u("spare", r.spare, 4) << 3 | _u("restart_class", r.restart_class, 3),))


def _b_subfields(items, octets: dict) -> bytes:
    out = []
    for ident, value in items:
        size = octets.get(ident)  # a dict, not a _size_table(): the caller's identifier may be any object
        if size is None:
            raise UniEncodeError("subfields", ident, "a known subfield identifier (unknown ones go in tail)")
        if size:
            if not (value.__class__ is int and 0 <= value and not value >> 8 * size):
                value = _u(f"subfield 0x{ident:02X}", value, 8 * size)
            out.append((ident << 8 * size | value).to_bytes(size + 1, "big"))
        else:
            out.append(bytes((ident,)))
    return b"".join(out)


def _b_aal(r: AALParameters) -> bytes:
    aal_type, subfields, tail = r
    if not (aal_type.__class__ is int and 0 <= aal_type < 0x100):
        aal_type = _u("aal_type", aal_type, 8)
    if aal_type == AALType.USER_DEFINED and subfields:
        raise UniEncodeError("subfields", subfields, "none for a user-defined AAL (use tail)")
    if tail.__class__ is not bytes:
        tail = _b("tail", tail)
    return _OCTET[aal_type] + _b_subfields(subfields, AAL_SUBFIELD_OCTETS) + tail


def _e_aal(identifier: int, instruction: int, r: AALParameters, _sizes=_AAL_SIZES,
           _pack=struct.Struct(">BBHBBHBH").pack) -> bytes:
    aal_type, subfields, tail = r
    if (subfields.__class__ is tuple and len(subfields) == 2 and tail == b"" and aal_type.__class__ is int
            and aal_type != _AAL_USER_DEFINED):
        # the common AAL 5 element: forward and backward maximum CPCS-SDU size, 2 octets each
        try:
            (i1, v1), (i2, v2) = subfields
            if _sizes[i1] == 2 and _sizes[i2] == 2 and v1.__class__ is int and v2.__class__ is int:
                return _pack(identifier, instruction, 7, aal_type, i1, v1, i2, v2)
        except (TypeError, ValueError, IndexError, struct.error):
            pass  # not that shape, or a value out of range: the contents builder names the culprit
    return _with_header(identifier, instruction, _b_aal(r))


def _b_traffic(r: ATMTrafficDescriptor) -> bytes:
    return _b_subfields(r.subfields, TRAFFIC_SUBFIELD_OCTETS) + _b("tail", r.tail)


def _b_transit_delay(r: EndToEndTransitDelay) -> bytes:
    return _b_subfields(r.subfields, TRANSIT_DELAY_SUBFIELD_OCTETS) + _b("tail", r.tail)


def _b_qos(r: QoSParameter) -> bytes:
    return bytes((_u("qos_forward", r.qos_forward, 8), _u("qos_backward", r.qos_backward, 8)))


def _b_bearer(r: BroadbandBearerCapability) -> bytes:
    o5 = _u("spare5", r.spare5, 2) << 5 | _u("bearer_class", r.bearer_class, 5)
    o6 = 0x80 | _u("clipping", r.clipping, 2) << 5 | _u("spare6", r.spare6, 3) << 2 | _u("up_config", r.up_config, 2)
    if r.atc is None:
        return bytes((0x80 | o5, o6))
    return bytes((o5, 0x80 | _u("atc", r.atc, 7), o6))


def _b_bhli(r: BroadbandHighLayerInformation) -> bytes:
    return bytes((0x80 | _u("hli_type", r.hli_type, 7),)) + _b("info", r.info, 8)


def _b_blli(r: BroadbandLowLayerInformation) -> bytes:
    l1, l2, l2x, l3, l3x, oui, pid, tail = r
    if l1 is None and l3 is None and oui is None and pid is None and not l2x and not tail and l2.__class__ is int \
            and 0 <= l2 < 0x20:
        return _OCTET[0xC0 | l2]  # the common case: layer 2 protocol only (e.g. LLC encapsulation)
    out = bytearray()
    if r.l1_protocol is not None:
        out.append(0xA0 | _u("l1_protocol", r.l1_protocol, 5))
    if r.l2_protocol is not None:
        x = _b("l2_extension", r.l2_extension, BLLI_MAX_L2_EXTENSION)
        out.append((0 if x else 0x80) | 0x40 | _u("l2_protocol", r.l2_protocol, 5))
        out += x
    if r.l3_protocol is not None:
        x = _b("l3_extension", r.l3_extension, BLLI_MAX_L3_EXTENSION)
        out.append((0 if x else 0x80) | 0x60 | _u("l3_protocol", r.l3_protocol, 5))
        out += x
    if r.snap_oui is not None or r.snap_pid is not None:
        out.append(BLLI_SNAP_ID)
        out += _u("snap_oui", r.snap_oui or 0, 24).to_bytes(3, "big")
        out += _u("snap_pid", r.snap_pid or 0, 16).to_bytes(2, "big")
    return bytes(out) + _b("tail", r.tail)


def _e_blli(identifier: int, instruction: int, r: BroadbandLowLayerInformation,
            _pack=struct.Struct(">BBHB").pack) -> bytes:
    l1, l2, l2x, l3, l3x, oui, pid, tail = r
    if l1 is None and l3 is None and oui is None and pid is None and not l2x and not tail and l2.__class__ is int \
            and 0 <= l2 < 0x20:
        return _pack(identifier, instruction, 1, 0xC0 | l2)  # layer 2 protocol only (e.g. LLC encapsulation)
    return _with_header(identifier, instruction, _b_blli(r))


def _b_repeat(r: BroadbandRepeatIndicator) -> bytes:
    return bytes((0x80 | _u("spare", r.spare, 3) << 4 | _u("repeat_indication", r.repeat_indication, 4),))


def _b_sending_complete(r: BroadbandSendingComplete) -> bytes:
    return bytes((0x80 | _u("indication", r.indication, 7),))


def _e_called(identifier: int, instruction: int, r: CalledPartyNumber, _pack=struct.Struct(">BBHB").pack) -> bytes:
    address, plan, number_type = r
    if not (plan.__class__ is int and 0 <= plan < 0x10 and number_type.__class__ is int and 0 <= number_type < 8
            and address.__class__ is bytes and len(address) <= 20):
        plan, number_type = _u("numbering_plan", plan, 4), _u("number_type", number_type, 3)
        address = _b("address", address, 20)
    return _pack(identifier, instruction, 1 + len(address), 0x80 | number_type << 4 | plan) + address


def _b_calling(r: CallingPartyNumber) -> bytes:
    o5 = _u("number_type", r.number_type, 3) << 4 | _u("numbering_plan", r.numbering_plan, 4)
    if r.presentation is None:
        return bytes((0x80 | o5,)) + _b("address", r.address, 20)
    o5a = 0x80 | _u("presentation", r.presentation, 2) << 5 | _u("spare5a", r.spare5a or 0, 3) << 2 | _u(
        "screening", r.screening or 0, 2)
    return bytes((o5, o5a)) + _b("address", r.address, 20)


def _b_subaddress(r: PartySubaddress) -> bytes:
    o5 = 0x80 | _u("subaddress_type", r.subaddress_type, 3) << 4 | _u("odd_even", r.odd_even, 1) << 3 | _u(
        "spare", r.spare, 3)
    return bytes((o5,)) + _b("subaddress", r.subaddress, 20)


def _b_tns(r: TransitNetworkSelection) -> bytes:
    o5 = 0x80 | _u("network_id_type", r.network_id_type, 3) << 4 | _u("network_id_plan", r.network_id_plan, 4)
    return bytes((o5,)) + _b("network_id", r.network_id)


def _b_lij_call_identifier(r: LIJCallIdentifier) -> bytes:
    o5 = 0x80 | _u("spare", r.spare, 3) << 4 | _u("lij_id_type", r.lij_id_type, 4)
    return bytes((o5,)) + _u("lij_id_value", r.lij_id_value, 32).to_bytes(4, "big")


def _b_lij_parameters(r: LIJParameters) -> bytes:
    return bytes((0x80 | _u("spare", r.spare, 3) << 4 | _u("screening", r.screening, 4),))


def _b_leaf_sequence(r: LeafSequenceNumber) -> bytes:
    return _u("sequence_number", r.sequence_number, 32).to_bytes(4, "big")


# -- whole elements ------------------------------------------------------------------------------------------
#
# ``element(identifier, instruction, record)`` returns the whole element: its 4-octet header (Q.2931 4.5.1)
# and its contents. The elements on the hot path (cause, endpoint reference, AAL parameters in their AAL 5
# form, BLLI with a layer 2 protocol only, called party number) are packed header and contents in one struct
# call; for the others, and for unusual values, the contents builder runs and the header is put before it.
# The contents builder of the first three is their element builder without the header, so that each
# element's encoding is written once.

_pack_ie_header = struct.Struct(">BBH").pack


def _with_header(identifier: int, instruction: int, body: bytes) -> bytes:
    n = len(body)
    if n > 0xFFFF:
        raise UniEncodeError(f"{IE_NAMES.get(identifier, 'IE')}.length", n, "at most 65535")
    return _pack_ie_header(identifier, instruction, n) + body


def _element_of(build: Callable[[tuple], bytes]) -> Callable[[int, int, tuple], bytes]:
    """The element builder of a kind that has only a contents builder."""

    def element(identifier: int, instruction: int, r: tuple) -> bytes:
        return _with_header(identifier, instruction, build(r))
    return element


def _contents_of(element: Callable[[int, int, tuple], bytes]) -> Callable[[tuple], bytes]:
    """The contents builder of a kind whose element builder is the primary one."""

    def build(r: tuple) -> bytes:
        return element(0, 0x80, r)[4:]
    return build


_b_cause = _contents_of(_e_cause)
_b_endpoint_reference = _contents_of(_e_endpoint_reference)
_b_called = _contents_of(_e_called)

#: The kinds whose element builder is not :func:`_element_of` their contents builder.
_ELEMENTS = {IEId.CAUSE: _e_cause, IEId.ENDPOINT_REFERENCE: _e_endpoint_reference, IEId.AAL_PARAMETERS: _e_aal,
             IEId.BROADBAND_LOW_LAYER_INFORMATION: _e_blli, IEId.CALLED_PARTY_NUMBER: _e_called}


# -- the table -----------------------------------------------------------------------------------------------

class Kind(NamedTuple):
    """How the fast codec handles one element type."""

    record: type
    parse: Callable[[bytes], tuple]
    build: Callable[[tuple], bytes]
    codings: frozenset
    max_contents: int | None
    element: Callable[[int, int, tuple], bytes] | None = None  # header and contents (see "whole elements")


_ITU = frozenset({CodingStandard.ITU_T})
_ITU_NET = frozenset({CodingStandard.ITU_T, CodingStandard.NETWORK})
_NET = frozenset({CodingStandard.NETWORK})

KINDS: dict[int, Kind] = {
    IEId.CAUSE: Kind(Cause, _p_cause, _b_cause, _ITU_NET, None),
    IEId.CALL_STATE: Kind(CallState, _p_one_octet_state(CallState), _b_six_bit_state("call_state"),
                          _ITU, None),
    IEId.NOTIFICATION_INDICATOR: Kind(NotificationIndicator, _p_notification, _b_notification, _ITU, None),
    IEId.ENDPOINT_REFERENCE: Kind(EndpointReference, _p_endpoint_reference, _b_endpoint_reference, _ITU, None),
    IEId.ENDPOINT_STATE: Kind(EndpointState, _p_one_octet_state(EndpointState),
                              _b_six_bit_state("party_state"), _ITU, None),
    IEId.CONNECTION_IDENTIFIER: Kind(ConnectionIdentifier, _p_connection_identifier, _b_connection_identifier,
                                     _ITU, None),
    IEId.RESTART_INDICATOR: Kind(RestartIndicator, _p_restart_indicator, _b_restart_indicator, _ITU, None),
    IEId.AAL_PARAMETERS: Kind(AALParameters, _p_aal, _b_aal, _ITU, None),
    IEId.ATM_TRAFFIC_DESCRIPTOR: Kind(ATMTrafficDescriptor, _p_traffic, _b_traffic, _ITU_NET, None),
    IEId.QOS_PARAMETER: Kind(QoSParameter, _p_qos, _b_qos, _ITU_NET, None),
    IEId.END_TO_END_TRANSIT_DELAY: Kind(EndToEndTransitDelay, _p_transit_delay, _b_transit_delay, _ITU_NET, None),
    IEId.BROADBAND_BEARER_CAPABILITY: Kind(BroadbandBearerCapability, _p_bearer, _b_bearer, _ITU, None),
    IEId.BROADBAND_HIGH_LAYER_INFORMATION: Kind(BroadbandHighLayerInformation, _p_bhli, _b_bhli, _ITU, None),
    IEId.BROADBAND_LOW_LAYER_INFORMATION: Kind(BroadbandLowLayerInformation, _p_blli, _b_blli, _ITU, None),
    IEId.BROADBAND_REPEAT_INDICATOR: Kind(BroadbandRepeatIndicator, _p_repeat, _b_repeat, _ITU, None),
    IEId.BROADBAND_SENDING_COMPLETE: Kind(BroadbandSendingComplete, _p_sending_complete, _b_sending_complete,
                                          _ITU, None),
    IEId.CALLED_PARTY_NUMBER: Kind(CalledPartyNumber, _p_called, _b_called, _ITU, None),
    IEId.CALLING_PARTY_NUMBER: Kind(CallingPartyNumber, _p_calling, _b_calling, _ITU, None),
    IEId.CALLED_PARTY_SUBADDRESS: Kind(PartySubaddress, _p_subaddress, _b_subaddress, _ITU, None),
    IEId.CALLING_PARTY_SUBADDRESS: Kind(PartySubaddress, _p_subaddress, _b_subaddress, _ITU, None),
    IEId.TRANSIT_NETWORK_SELECTION: Kind(TransitNetworkSelection, _p_tns, _b_tns, _ITU_NET, None),
    IEId.LIJ_CALL_IDENTIFIER: Kind(LIJCallIdentifier, _p_lij_call_identifier, _b_lij_call_identifier, _NET, None),
    IEId.LIJ_PARAMETERS: Kind(LIJParameters, _p_lij_parameters, _b_lij_parameters, _NET, None),
    IEId.LEAF_SEQUENCE_NUMBER: Kind(LeafSequenceNumber, _p_leaf_sequence, _b_leaf_sequence, _NET, None),
}
KINDS = {int(k): v._replace(max_contents=IE_MAX_CONTENTS.get(k), element=_ELEMENTS.get(k) or _element_of(v.build))
         for k, v in KINDS.items()}

#: (identifier, instruction octet) -> Kind, for every instruction octet whose coding standard the element
#: type is understood under: one dict look-up recognises an element on the hot path.
BY_HEADER: dict[tuple[int, int], Kind] = {
    (ident, instruction): kind
    for ident, kind in KINDS.items() for instruction in range(256) if instruction >> 5 & 3 in kind.codings
}

#: Default coding standard (for the instruction octet) of each element type.
DEFAULT_CODING: dict[int, int] = {ident: (CodingStandard.NETWORK if kind.codings == _NET else CodingStandard.ITU_T)
                                  for ident, kind in KINDS.items()}
