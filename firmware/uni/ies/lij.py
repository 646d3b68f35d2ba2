"""Leaf initiated join elements of the ATM Forum UNI Signalling 4.0 (clause 6), coded under the ATM Forum
("network specific", coding standard 3) coding, the only one they exist in.

LIJ call identifier (identifier 0xE8), 5 octets: ext 1 | spare (3) | type (4, 0 = root assigned), then a
32-bit identifier value. LIJ parameters (0xE9), 1 octet: ext 1 | spare (3) | screening indication (4).
Leaf sequence number (0xEA), 4 octets: the sequence number that pairs a LEAF SETUP REQUEST with its
answer.
"""

from __future__ import annotations

from scapy.fields import BitEnumField, BitField, IntField

from firmware.uni.constants import CodingStandard, IEId, LIJIdentifierType, LIJScreening
from firmware.uni.ie import InformationElement, ie_header, register


@register
class LIJCallIdentifierIE(InformationElement):
    name = "LIJ call identifier"
    fields_desc = ie_header(IEId.LIJ_CALL_IDENTIFIER, CodingStandard.NETWORK) + [
        BitField("ext5", 1, 1),
        BitField("spare", 0, 3),
        BitEnumField("lij_id_type", LIJIdentifierType.ROOT_ASSIGNED, 4, {0: "root assigned"}),
        IntField("lij_id_value", 0),
    ]
    codings = (CodingStandard.NETWORK,)
    fixed_ext_bits = (("ext5", 4),)


@register
class LIJParametersIE(InformationElement):
    name = "LIJ parameters"
    fields_desc = ie_header(IEId.LIJ_PARAMETERS, CodingStandard.NETWORK) + [
        BitField("ext5", 1, 1),
        BitField("spare", 0, 3),
        BitEnumField("screening", LIJScreening.NETWORK_JOIN_WITHOUT_ROOT_NOTIFICATION, 4,
                     {0: "network join without root notification"}),
    ]
    codings = (CodingStandard.NETWORK,)
    fixed_ext_bits = (("ext5", 4),)


@register
class LeafSequenceNumberIE(InformationElement):
    name = "Leaf sequence number"
    fields_desc = ie_header(IEId.LEAF_SEQUENCE_NUMBER, CodingStandard.NETWORK) + [
        IntField("sequence_number", 0),
    ]
    codings = (CodingStandard.NETWORK,)
