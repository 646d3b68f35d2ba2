"""Q.2971 point-to-multipoint elements: Endpoint reference and Endpoint state.

Endpoint reference (identifier 0x54), contents 3 octets::

    octet 5      endpoint reference type (0 = locally defined integer)
    octets 6-7   flag (bit 8 of octet 6) | 15-bit endpoint reference value

The flag is 0 in messages sent from the side that allocated the endpoint reference, 1 in messages sent to
it (the same rule as the call reference flag, Q.2931 4.3). Value 0 names the first party, the one the SETUP
set up.

Endpoint state (identifier 0x55), contents 1 octet: spare (2) | party state (6), one of
:class:`~firmware.uni.constants.PartyState`.
"""

from __future__ import annotations

from scapy.fields import BitEnumField, BitField, ByteEnumField

from firmware.uni.constants import IEId, PartyState
from firmware.uni.ie import InformationElement, ie_header, register

PARTY_STATE_NAMES = {int(s): s.name.replace("_", " ").lower() for s in PartyState}


@register
class EndpointReferenceIE(InformationElement):
    name = "Endpoint reference"
    fields_desc = ie_header(IEId.ENDPOINT_REFERENCE) + [
        ByteEnumField("ref_type", 0, {0: "locally defined integer"}),
        BitField("ref_flag", 0, 1),
        BitField("ref_value", 0, 15),
    ]


@register
class EndpointStateIE(InformationElement):
    name = "Endpoint state"
    fields_desc = ie_header(IEId.ENDPOINT_STATE) + [
        BitField("spare", 0, 2),
        BitEnumField("party_state", 0, 6, PARTY_STATE_NAMES),
    ]
