"""LINKTYPE_SUNATM (123): a 4-octet pseudo-header, then one reassembled AAL5 SDU (no pad, no trailer).

    octet 0    direction (0x80: DTE->DCE, sent by the user side) | reserved (0x70) | traffic type (0x0F)
    octet 1    VPI
    octets 2-3 VCI, big-endian

Traffic types (libpcap's SunATM description, as Wireshark's wiretap reads them): 1 LANE, 2 LLC
multiplexed (RFC 2684), 3 MARS, 4 IFMP, 5 ILMI, 6 Q.SAAL signalling. Wireshark sends type 6, and any
type but LANE, LLC and ILMI on VPI 0/VCI 5, to SSCOP; so does this layer. The AAL5 trailer is not kept
in this format, so there is no CRC to check here (ERF type 4 keeps it).
"""

from __future__ import annotations

from typing import Any

from scapy.config import conf
from scapy.fields import BitEnumField, BitField, ByteField, ShortField
from scapy.layers.l2 import LLC
from scapy.packet import Packet

from captures.linktypes.errors import LinkTypeDecodeError
from firmware.sscop.pdu import SSCOP, decode_sscop

LINKTYPE_SUNATM = 123
HEADER_OCTETS = 4
#: I.363.5: the AAL5 CPCS-PDU Length field is 16 bits, so an SDU holds at most 65535 octets.
MAX_SDU = 65535

TRAFFIC_LANE, TRAFFIC_LLC, TRAFFIC_MARS, TRAFFIC_IFMP, TRAFFIC_ILMI, TRAFFIC_QSAAL = 1, 2, 3, 4, 5, 6
TRAFFIC_TYPES = {TRAFFIC_LANE: "LANE", TRAFFIC_LLC: "LLC", TRAFFIC_MARS: "MARS", TRAFFIC_IFMP: "IFMP",
                 TRAFFIC_ILMI: "ILMI", TRAFFIC_QSAAL: "Q.SAAL"}
DIRECTIONS = {0: "DCE->DTE", 1: "DTE->DCE"}
#: The signalling channel of the UNI (Q.2931 over the SAAL): VPI 0, VCI 5.
SIGNALLING_VPI, SIGNALLING_VCI = 0, 5


def carries_sscop(traffic: int, vpi: int, vci: int) -> bool:
    """Whether the SDU of a SunATM record is an SSCOP PDU, by Wireshark's rule (see module doc)."""
    if traffic == TRAFFIC_QSAAL:
        return True
    return traffic not in (TRAFFIC_LANE, TRAFFIC_LLC, TRAFFIC_ILMI) and (vpi, vci) == (SIGNALLING_VPI,
                                                                                      SIGNALLING_VCI)


class SunATM(Packet):
    """The SunATM pseudo-header; its payload is the AAL5 SDU (SSCOP on the signalling channel)."""

    name = "SunATM"
    #: ``pkt[SSCOP]`` finds the PDU whatever its type (each type is a subclass of SSCOP).
    match_subclass = True
    fields_desc = [
        # "dir", not "direction": scapy packets have a ``direction`` attribute of their own (pcapng).
        BitEnumField("dir", 1, 1, DIRECTIONS),
        BitField("rsvd", 0, 3),
        BitEnumField("type", TRAFFIC_QSAAL, 4, TRAFFIC_TYPES),
        ByteField("vpi", SIGNALLING_VPI),
        ShortField("vci", SIGNALLING_VCI),
    ]

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        # Lenient dissection: a record too short for the pseudo-header is Raw, not an exception.
        return conf.raw_layer if _pkt is not None and len(_pkt) < HEADER_OCTETS else cls

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        if carries_sscop(self.type, self.vpi, self.vci):
            return SSCOP
        if self.type == TRAFFIC_LLC:
            return LLC
        return conf.raw_layer

    def mysummary(self) -> str:
        return self.sprintf("SunATM %dir% %type% %vpi%/%vci%")


conf.l2types.register(LINKTYPE_SUNATM, SunATM)


def decode_sunatm(record: bytes | bytearray | memoryview) -> SunATM:
    """Decode one SunATM record strictly: :class:`LinkTypeDecodeError` for a short pseudo-header, an
    undefined traffic type or an SDU longer than AAL5 allows; the SSCOP PDU of a signalling record is
    checked by ``decode_sscop`` (its errors count offsets from the start of the record)."""
    raw = bytes(record)
    what = "SunATM record"
    if len(raw) < HEADER_OCTETS:
        raise LinkTypeDecodeError(what, len(raw), "pseudo-header",
                                  f"truncated: {len(raw)} octets, the pseudo-header has {HEADER_OCTETS}")
    traffic = raw[0] & 0x0F
    if traffic not in TRAFFIC_TYPES:
        raise LinkTypeDecodeError(what, 0, "type", f"traffic type {traffic} is not defined for SunATM "
                                  f"(1 LANE, 2 LLC, 3 MARS, 4 IFMP, 5 ILMI, 6 Q.SAAL)")
    sdu = len(raw) - HEADER_OCTETS
    if sdu > MAX_SDU:
        raise LinkTypeDecodeError(what, HEADER_OCTETS + MAX_SDU, "SDU",
                                  f"oversized: {sdu} octets, an AAL5 SDU has at most {MAX_SDU} (I.363.5)")
    vpi, vci = raw[1], int.from_bytes(raw[2:4], "big")
    if carries_sscop(traffic, vpi, vci):
        decode_sscop(raw[HEADER_OCTETS:], offset=HEADER_OCTETS)
    return SunATM(raw)

