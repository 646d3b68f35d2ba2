"""Reading a Q.2931 message without knowing which codec made it.

A received or built message is either a :class:`~firmware.uni.fastcodec.FastMessage` (the hot path: the
switch control plane, the endpoints and the SAAL decode into it) or a scapy
:class:`~firmware.uni.message.Q2931` (the definition, and the ``codec="scapy"`` fallback). Callers read
what the signalling procedures need through these functions and never touch either representation:

* :func:`message_type`, :func:`call_reference` (value, flag);
* :func:`endpoint_reference` - the endpoint reference value (Q.2971), None without the element;
* :func:`cause` - (cause value, location) of the first Cause (Q.2931 4.5.15), (None, None) without;
* :func:`connection` - (VPCI, VCI) of the Connection identifier (Q.2931 4.5.16), None without;
* :func:`called_number` - the Called party number element (pass it on as it is), and
  :func:`called_address` its address octets (an AESA's 20 octets, or E.164 digits as ASCII);
* :func:`element` / :func:`elements` - the element(s) with an identifier; :func:`field` - a named field
  of an element (the names are the scapy layer's, which the fast records share);
* :func:`multipoint` - whether a SETUP asks for a point-to-multipoint connection (bearer capability,
  user-plane configuration);
* :func:`acceptable` - True when the receiver checks of Q.2931 5.6 find nothing to answer
  (:func:`firmware.uni.contents.findings` is empty): a fast test for fast messages, the full check
  otherwise.

A fast-codec element whose contents could not be used (empty, or a problem reported by the decoder)
has no fields: it reads as absent here, as the receiver checks treat it (mandatory IE missing or
invalid contents).
"""

from __future__ import annotations

from typing import Any

from firmware.uni.constants import IEId, UserPlaneConfiguration
from firmware.uni.contents import CONTENTS, findings
from firmware.uni.fastcodec import FastIE, FastMessage

CAUSE, ENDPOINT_REFERENCE, CONNECTION_IDENTIFIER = int(IEId.CAUSE), int(IEId.ENDPOINT_REFERENCE), int(
    IEId.CONNECTION_IDENTIFIER)
CALLED_PARTY_NUMBER, BEARER = int(IEId.CALLED_PARTY_NUMBER), int(IEId.BROADBAND_BEARER_CAPABILITY)
CALL_STATE, ENDPOINT_STATE = int(IEId.CALL_STATE), int(IEId.ENDPOINT_STATE)
_P2MP = int(UserPlaneConfiguration.POINT_TO_MULTIPOINT)
_READ = frozenset({CAUSE, ENDPOINT_REFERENCE, CALL_STATE, ENDPOINT_STATE})

#: Per message type: (identifiers allowed, identifiers mandatory), from firmware.uni.contents.CONTENTS.
_RULES = {int(t): (frozenset(int(r.identifier) for r in rules),
                   frozenset(int(r.identifier) for r in rules if r.mandatory)) for t, rules in CONTENTS.items()}


def is_fast(message: Any) -> bool:
    return message.__class__ is FastMessage


def message_type(message: Any) -> int:
    return message[0] if message.__class__ is FastMessage else int(message.message_type)


def call_reference(message: Any) -> tuple[int, int]:
    """(call reference value, call reference flag)."""
    if message.__class__ is FastMessage:
        return message[1], message[2]
    return int(message.call_ref), int(message.call_ref_flag)


def _usable(e: Any) -> bool:
    """A scapy element the receiver can read: of a recognised kind, with contents."""
    from firmware.uni.ie import UnknownIE

    return not isinstance(e, UnknownIE) and len(bytes(e)) > 4


def element(message: Any, identifier: int):
    """The first usable element ``identifier`` of ``message``, or None."""
    if message.__class__ is FastMessage:
        for e in message[4]:
            if e[0] == identifier and e[3] is not None:
                return e
        return None
    for e in message.ies:
        if e.identifier == identifier and _usable(e):
            return e
    return None


def elements(message: Any, identifier: int) -> list:
    if message.__class__ is FastMessage:
        return [e for e in message[4] if e[0] == identifier and e[3] is not None]
    return [e for e in message.ies if e.identifier == identifier and _usable(e)]


def field(ie: Any, name: str) -> Any:
    """A named field of an element (fast record or scapy layer: the same names)."""
    if ie.__class__ is FastIE:
        return getattr(ie[3], name)
    return getattr(ie, name)


def endpoint_reference(message: Any) -> int | None:
    """The endpoint reference value (Q.2971) of the first Endpoint reference element, or None."""
    if message is None:
        return None
    if message.__class__ is FastMessage:
        for e in message[4]:
            if e[0] == 0x54 and e[3] is not None:
                return e[3][0]
        return None
    e = element(message, ENDPOINT_REFERENCE)
    return None if e is None else int(e.ref_value)


def cause(message: Any) -> tuple[int | None, int | None]:
    """(cause value, location) of the first Cause element, (None, None) without one."""
    if message is None:
        return None, None
    if message.__class__ is FastMessage:
        for e in message[4]:
            if e[0] == 0x08 and e[3] is not None:
                return e[3][0], e[3][1]
        return None, None
    e = element(message, CAUSE)
    return (None, None) if e is None else (int(e.cause_value), int(e.location))


def connection(message: Any) -> tuple[int, int] | None:
    """(VPCI, VCI) of the Connection identifier element, or None."""
    if message is None:
        return None
    if message.__class__ is FastMessage:
        for e in message[4]:
            if e[0] == 0x5A and e[3] is not None:
                return e[3][0], e[3][1]
        return None
    e = element(message, CONNECTION_IDENTIFIER)
    return None if e is None else (int(e.vpci), int(e.vci))


def called_number(message: Any):
    """The Called party number element (of the message's codec), or None."""
    return None if message is None else element(message, CALLED_PARTY_NUMBER)


def called_address(message: Any) -> bytes | None:
    """The Called party number's address octets, or None."""
    e = called_number(message)
    return None if e is None else bytes(field(e, "address"))


def multipoint(message: Any) -> bool:
    """True when the message's bearer capability asks for a point-to-multipoint connection."""
    e = element(message, BEARER)
    return e is not None and int(field(e, "up_config")) == _P2MP


def event_parameters(message: Any) -> tuple[int, int | None, dict[str, int]]:
    """(message type, endpoint reference, parameters) the UNI machines take from a message: ``cause`` of
    the first Cause, ``call_state`` and ``endpoint_state`` when present (STATUS)."""
    params: dict[str, int] = {}
    epref = None
    if message.__class__ is FastMessage:
        for e in message[4]:
            ident, fields = e[0], e[3]
            if fields is None:
                continue
            if ident == 0x08:
                if "cause" not in params:
                    params["cause"] = fields[0]
            elif ident == 0x54:
                if epref is None:
                    epref = fields[0]
            elif ident == 0x14:
                params["call_state"] = fields[0]
            elif ident == 0x55:
                params["endpoint_state"] = fields[0]
        return message[0], epref, params
    for e in message.ies:
        ident = e.identifier
        if ident not in _READ or not _usable(e):
            continue
        if ident == CAUSE:
            params.setdefault("cause", int(e.cause_value))
        elif ident == ENDPOINT_REFERENCE and epref is None:
            epref = int(e.ref_value)
        elif ident == CALL_STATE:
            params["call_state"] = int(e.call_state)
        elif ident == ENDPOINT_STATE:
            params["endpoint_state"] = int(e.party_state)
    return int(message.message_type), epref, params


def digest(message: Any) -> tuple[int, int | None, dict[str, int], tuple[int, int] | None, bool]:
    """(message type, endpoint reference, parameters, connection, acceptable): :func:`event_parameters`,
    :func:`connection` and :func:`acceptable` of a received message. For a fast message, one walk over its
    elements does what the three do in three (tests prove the results equal); a scapy message goes
    through the three."""
    if message.__class__ is not FastMessage:
        message_type, epref, params = event_parameters(message)
        return message_type, epref, params, connection(message), acceptable(message)
    params: dict[str, int] = {}
    epref = conn = None
    rules = _RULES.get(message[0])
    ok = rules is not None
    if ok:
        allowed, mandatory = rules
        seen = set()
    for e in message[4]:
        ident, fields = e[0], e[3]
        if fields is None:
            ok = False
            continue
        if ok:
            if ident not in allowed or (e[2] is None and not e.recognised):
                ok = False
            else:
                seen.add(ident)
        if ident == 0x08:
            if "cause" not in params:
                params["cause"] = fields[0]
        elif ident == 0x54:
            if epref is None:
                epref = fields[0]
        elif ident == 0x5A:
            if conn is None:
                conn = (fields[0], fields[1])
        elif ident == 0x14:
            params["call_state"] = fields[0]
        elif ident == 0x55:
            params["endpoint_state"] = fields[0]
    return message[0], epref, params, conn, ok and mandatory <= seen


def acceptable(message: Any) -> bool:
    """True when :func:`firmware.uni.contents.findings` has nothing to say about ``message`` (every
    element recognised, usable and allowed in this message type; every mandatory one present)."""
    if message.__class__ is FastMessage:
        rules = _RULES.get(message[0])
        if rules is None:
            return False
        allowed, mandatory = rules
        seen = set()
        for e in message[4]:
            if e[3] is None or e[0] not in allowed or (e[2] is None and not e.recognised):
                return False  # (an element built from values: its coding must be one the codec knows)
            seen.add(e[0])
        return mandatory <= seen
    return not findings(message)


__all__ = ["acceptable", "call_reference", "called_address", "called_number", "cause", "connection", "digest",
           "element", "elements", "endpoint_reference", "event_parameters", "field", "is_fast", "message_type",
           "multipoint"]
