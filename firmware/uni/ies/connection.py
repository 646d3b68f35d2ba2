"""Connection identifier and Restart indicator.

Connection identifier (identifier 0x5A, Q.2931 4.5.16), contents 5 octets::

    octet 5     ext 1 | spare (2) | VP-associated signalling (2) | preferred/exclusive (3)
    octets 6-7  VPCI
    octets 8-9  VCI

Restart indicator (identifier 0x79, Q.2931 4.5.20), one octet: ext 1 | spare (4) | restart class (3).
"""

from __future__ import annotations

from scapy.fields import BitEnumField, BitField, ShortField

from firmware.uni.constants import IEId, PreferredExclusive, RestartClass, VPAssociatedSignalling
from firmware.uni.ie import InformationElement, ie_header, register


def _names(enum) -> dict:
    return {int(x): x.name.replace("_", " ").lower() for x in enum}


@register
class ConnectionIdentifierIE(InformationElement):
    name = "Connection identifier"
    fields_desc = ie_header(IEId.CONNECTION_IDENTIFIER) + [
        BitField("ext5", 1, 1),
        BitField("spare", 0, 2),
        BitEnumField("vp_associated", VPAssociatedSignalling.EXPLICIT_VPCI, 2, _names(VPAssociatedSignalling)),
        BitEnumField("pref_excl", PreferredExclusive.EXCLUSIVE_VPCI_EXCLUSIVE_VCI, 3, _names(PreferredExclusive)),
        ShortField("vpci", 0),
        ShortField("vci", 0),
    ]
    fixed_ext_bits = (("ext5", 4),)


@register
class RestartIndicatorIE(InformationElement):
    name = "Restart indicator"
    fields_desc = ie_header(IEId.RESTART_INDICATOR) + [
        BitField("ext5", 1, 1),
        BitField("spare", 0, 4),
        BitEnumField("restart_class", RestartClass.ALL_VCS, 3, _names(RestartClass)),
    ]
    fixed_ext_bits = (("ext5", 4),)
