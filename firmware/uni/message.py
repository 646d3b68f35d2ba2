"""The Q.2931 message: header and list of information elements, the class chosen by message type.

Header (Q.2931 4.1 - 4.4), 9 octets::

    octet 1     protocol discriminator 0x09                                    (4.2)
    octet 2     0000 | call reference length 0011                            (4.3)
    octets 3-5  call reference flag (1) | call reference value (23)           (4.3)
    octet 6     message type                                                   (4.4.1)
    octet 7     ext 1 | spare (2) | flag (1) | spare (2) | action indicator (2)  message compatibility
                instruction (4.4.2); flag 1 = follow the action indicator when the type is unknown (5.7.1)
    octets 8-9  message length: octets of information elements that follow   (4.4.3)

The call reference flag is 0 in messages sent from the side that allocated the call reference, 1 in
messages sent to it. ``Q2931(raw)`` dissects ``raw`` as the class registered for its message type
(:mod:`firmware.uni.messages`), or as plain :class:`Q2931` when the type is unknown; that is the class to
bind under the SSCOP SD PDU. ``length`` and every IE length are computed on build when left None, and
recomputed when they still hold the dissected value but the contents changed (change an IE of a decoded
message and its length and the message length follow); set to another value, a length is kept as given,
to craft a malformed message.
Dissection is lenient; :func:`firmware.uni.decode.decode_message` is the strict decoder.
"""

from __future__ import annotations

from scapy.config import conf
from scapy.fields import (BitEnumField, BitField, ByteEnumField, MaximumItemsCount, PacketListField, ShortField,
                          XBitField, XByteField)
from scapy.packet import Packet

from firmware.uni.constants import (CALL_REF_LENGTH, HEADER_OCTETS, MESSAGE_NAMES, PROTOCOL_DISCRIMINATOR,
                                    MessageAction)
from firmware.uni.errors import UniEncodeError
from firmware.uni.ie import IE_HEADER_OCTETS, InformationElement, KeepsDissectionState

#: Most IEs a message can hold: every IE is at least its 4-octet header, the length field is 16 bits.
MAX_IES = 0xFFFF // IE_HEADER_OCTETS + 1

MESSAGE_ACTION_NAMES = {int(a): a.name.lower() for a in MessageAction}


class ElementListField(PacketListField):
    """The information elements of a message (Q.2931 4.5.1: identifier, instruction, 2-octet length,
    contents), each dissected from its own octets.

    scapy's ``PacketListField`` hands every element the whole rest of the message, which the element keeps
    as ``original`` and whose tail comes back through a Padding layer: time and memory grow with the
    square of the element count. Here each element gets only its frame, ``4 + length`` octets (or
    what is left, when the header or the length runs past the end - the element records that itself
    as a problem, with the same offsets as before), so a message of n elements costs O(n). An element
    whose class fails to dissect ends the list as a Raw layer of the octets left, as scapy does."""

    def getfield(self, pkt, s):
        size = self.length_from(pkt)
        body, tail = s[:size], s[size:]
        elements: list = []
        limit = self.max_count or conf.max_list_count
        n = len(body)
        pos = 0
        while pos < n:
            if n - pos >= IE_HEADER_OCTETS:
                end = min(n, pos + IE_HEADER_OCTETS + (body[pos + 2] << 8 | body[pos + 3]))
            else:
                end = n
            try:
                element = self.m2i(pkt, body[pos:end])
            except Exception:
                if conf.debug_dissector:
                    raise
                element, end = conf.raw_layer(load=body[pos:]), n
            elements.append(element)
            if len(elements) > limit:
                raise MaximumItemsCount(f"{self.name}: more than {limit} information elements")
            pos = end
        return tail, elements


def message_fields(message_type: int) -> list:
    """The header fields and the IE list of a message whose type defaults to ``message_type``."""
    return [
        XByteField("protocol_discriminator", PROTOCOL_DISCRIMINATOR),
        BitField("call_ref_spare", 0, 4),
        BitField("call_ref_length", CALL_REF_LENGTH, 4),
        BitField("call_ref_flag", 0, 1),
        XBitField("call_ref", 0, 23),
        ByteEnumField("message_type", message_type, MESSAGE_NAMES),
        BitField("ext", 1, 1),
        BitField("spare1", 0, 2),
        BitField("flag", 0, 1),
        BitField("spare2", 0, 2),
        BitEnumField("action", MessageAction.CLEAR_CALL, 2, MESSAGE_ACTION_NAMES),
        ShortField("length", None),
        ElementListField("ies", [], InformationElement, length_from=lambda pkt: pkt.length, max_count=MAX_IES),
    ]


#: Registered message classes by message type.
MESSAGE_CLASSES: dict[int, type["Q2931"]] = {}


class Q2931(KeepsDissectionState, Packet):
    """A Q.2931 message of any type; on bytes, dispatches to the class registered for the type."""

    name = "Q.2931"
    fields_desc = message_fields(0)

    @classmethod
    def dispatch_hook(cls, _pkt=None, *args, **kargs):
        if cls is Q2931 and _pkt is not None and len(_pkt) > 5:
            return MESSAGE_CLASSES.get(bytes(_pkt[5:6])[0], Q2931)
        return cls

    def post_dissect(self, s):
        self.dissected_length = self.length
        return s

    def post_build(self, pkt, pay):
        # computed when None, and when still the dissected value while the IEs changed (see module doc)
        if self.length is None or self.length == getattr(self, "dissected_length", None):
            n = len(pkt) - HEADER_OCTETS
            if n > 0xFFFF:
                raise UniEncodeError(f"{self.name}.length", n, "at most 65535 octets of information elements")
            pkt = pkt[:7] + n.to_bytes(2, "big") + pkt[HEADER_OCTETS:]
        return pkt + pay

    def extract_padding(self, s):
        return b"", s

    @property
    def instruction(self) -> int:
        """The message compatibility instruction octet (octet 7) as one integer."""
        return ((self.ext & 1) << 7 | (self.spare1 & 3) << 5 | (self.flag & 1) << 4 | (self.spare2 & 3) << 2
                | (self.action & 3))

    def ie(self, which):
        """The first IE of the given class or identifier, or None."""
        for element in self.ies:
            if _matches(element, which):
                return element
        return None

    def ies_of(self, which) -> list:
        """Every IE of the given class or identifier, in message order."""
        return [element for element in self.ies if _matches(element, which)]

    def mysummary(self):
        flag = "to" if self.call_ref_flag else "from"
        name = MESSAGE_NAMES.get(self.message_type, hex(self.message_type))
        return f"{name} call_ref={self.call_ref} ({flag} originator)"


def _matches(element: InformationElement, which) -> bool:
    if isinstance(which, type):
        return isinstance(element, which)
    return element.identifier == which


def register_message(cls: type[Q2931]) -> type[Q2931]:
    """Class decorator: make ``cls`` the dispatcher's choice for its message type."""
    message_type = cls.fields_desc[5].default
    if message_type in MESSAGE_CLASSES:
        raise ValueError(f"message type 0x{message_type:02X} registered twice")
    MESSAGE_CLASSES[message_type] = cls
    return cls
