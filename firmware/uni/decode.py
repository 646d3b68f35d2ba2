"""The strict Q.2931 message decoder over the scapy layers (the definition; the fast codec's twin).

``decode_message(raw)`` returns the dissected message, or raises the error Q.2931 5.6 prescribes, checked
in the order a receiver meets the octets:

1. no octet, or a protocol discriminator other than 0x09: :class:`MessageIgnored` (5.6.1);
2. fewer than the 9 header octets: :class:`MessageIgnored` (5.6.2);
3. call reference length octet other than 0000 0011: :class:`MessageIgnored` (5.6.3.1);
4. unknown message type: :class:`UnknownMessageType`, cause 97, disposition from the message
   compatibility instruction (5.6.4, 5.7.1);
5. message length field not equal to the octets that follow the header: :class:`MessageLengthError`,
   cause 104 (5.6.5);
6. an IE whose header or length runs past the end of the message: :class:`IEContentError`, cause 100,
   disposition report (the IEs after it cannot be found);
7. IEs with invalid contents: :class:`IEContentError`, cause 100, for the problem with the strongest
   disposition (Q.2931 5.7.2 order; the first IE on a tie), disposition per
   :func:`~firmware.uni.contents.ie_error_disposition`; the error carries the whole lenient message and
   every IE problem found.

Unrecognised IEs are not decode errors: they are kept (:class:`~firmware.uni.ie.UnknownIE`) and
:func:`~firmware.uni.contents.check` answers them with cause 99. Offsets are counted from the first octet
of the message.
"""

from __future__ import annotations

from firmware.uni import ies as _ies  # noqa: F401 - registers the IE classes
from firmware.uni import messages as _messages  # noqa: F401 - registers the message classes
from firmware.uni.constants import HEADER_OCTETS, MESSAGE_NAMES, PROTOCOL_DISCRIMINATOR
from firmware.uni.contents import (ie_error_clause, ie_error_disposition, is_mandatory,
                                   unknown_message_disposition)
from firmware.uni.errors import (Disposition, IEContentError, MessageIgnored, MessageLengthError,
                                 UnknownMessageType)
from firmware.uni.ie import InformationElement
from firmware.uni.message import Q2931

#: The header field an input of n octets (n < 9) ends in.
HEADER_FIELD_AT = {1: "call_ref_length", 2: "call_ref", 3: "call_ref", 4: "call_ref", 5: "message_type",
                   6: "instruction", 7: "length", 8: "length"}


def check_header_octets(data: bytes) -> None:
    """Steps 1 and 2: protocol discriminator and header length."""
    n = len(data)
    if n == 0:
        raise MessageIgnored(0, "protocol_discriminator", "empty frame", "Q.2931 5.6.2")
    if data[0] != PROTOCOL_DISCRIMINATOR:
        raise MessageIgnored(0, "protocol_discriminator",
                             f"0x{data[0]:02X} is not the Q.2931 protocol discriminator 0x09", "Q.2931 5.6.1")
    if n < HEADER_OCTETS:
        raise MessageIgnored(n, HEADER_FIELD_AT[n], f"{n} octets cannot hold the 9-octet message header",
                             "Q.2931 5.6.2")


def decode_message(data: bytes) -> Q2931:
    """Strictly decode one Q.2931 message; see the module documentation for the errors."""
    data = bytes(data)
    check_header_octets(data)
    msg = Q2931(data)
    if msg.call_ref_spare != 0 or msg.call_ref_length != 3:
        raise MessageIgnored(1, "call_ref_length", f"call reference length octet 0x{data[1]:02X}, "
                             "Q.2931 uses 3-octet call references only", "Q.2931 5.6.3.1")
    if type(msg) is Q2931:
        raise UnknownMessageType(msg.message_type, unknown_message_disposition(msg.instruction))
    if msg.length != len(data) - HEADER_OCTETS:
        raise MessageLengthError(msg.length, len(data) - HEADER_OCTETS)

    what = f"Q.2931 {MESSAGE_NAMES[msg.message_type]}"
    offset = HEADER_OCTETS
    found = []  # (disposition, offset, field, reason, identifier, instruction)
    for element in msg.ies:
        if not isinstance(element, InformationElement) or not element.framed:
            identifier = data[offset] if offset < len(data) else -1
            rel, field, reason = (element.problems[0] if isinstance(element, InformationElement)
                                  else (0, "identifier", "undecodable element"))
            raise IEContentError(what, offset + rel, field, reason, identifier,
                                 disposition=Disposition.REPORT, clause="Q.2931 4.5.1, 5.6.8.2",
                                 mandatory=is_mandatory(msg.message_type, identifier), message=msg,
                                 problems=[(offset + rel, field, reason, identifier)])
        raw = element.raw_packet_cache
        if element.problems:
            rel, field, reason = min(element.problems, key=lambda p: p[0])
            instruction = raw[1]
            found.append((ie_error_disposition(msg.message_type, raw[0], instruction), offset + rel, field,
                          reason, raw[0], instruction))
        offset += len(raw)
    if found:
        worst = max(found, key=lambda p: p[0])  # max() keeps the first of equals
        disposition, at, field, reason, identifier, instruction = worst
        raise IEContentError(what, at, field, reason, identifier, disposition=disposition,
                             clause=ie_error_clause(msg.message_type, identifier, instruction),
                             mandatory=is_mandatory(msg.message_type, identifier), message=msg,
                             problems=[(p[1], p[2], p[3], p[4]) for p in found])
    return msg
