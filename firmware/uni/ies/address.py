"""Addresses: Called and Calling party number, Called and Calling party subaddress, Transit network
selection.

Called party number (identifier 0x70, Q.2931 4.5.11)::

    octet 5    ext 1 | type of number (3) | addressing/numbering plan (4)
    octet 6-   address: for the NSAP plan (2) the 20-octet ATM end system address (AESA: DCC 0x39,
               ICD 0x47 or E.164 0x45 format); for E.164 (plan 1) the digits in IA5, one per octet

Calling party number (identifier 0x6C, Q.2931 4.5.13) has the same octet 5, but with ext 0 an octet 5a
follows: ext 1 | presentation indicator (2) | spare (3) | screening indicator (2).

Called / Calling party subaddress (identifiers 0x71 / 0x6D, Q.2931 4.5.12 / 4.5.14)::

    octet 5    ext 1 | type of subaddress (3) | odd/even indicator (1) | spare (3)
    octet 6-   subaddress information (up to 20 octets)

Transit network selection (identifier 0x78, Q.2931 4.5.22): octet 5 ext 1 | type of network
identification (3) | network identification plan (4), then the network identification in IA5.
"""

from __future__ import annotations

from scapy.fields import BitEnumField, BitField, ConditionalField, StrField

from firmware.uni.constants import (AESA_OCTETS, CodingStandard, IEId, NumberingPlan, NumberType,
                                    Presentation, Screening, SubaddressType)
from firmware.uni.fields import ExtBitField, optional_octet_present
from firmware.uni.ie import InformationElement, ie_header, register


def _names(enum) -> dict:
    return {int(x): x.name.replace("_", " ").lower() for x in enum}


class _PartyNumber:
    """Accessors shared by the called and calling party number."""

    @property
    def aesa(self) -> bytes | None:
        """The 20-octet ATM end system address, when the plan is NSAP."""
        return bytes(self.address) if self.numbering_plan == NumberingPlan.NSAP else None

    @property
    def e164(self) -> str | None:
        """The E.164 digits as text, when the plan is E.164."""
        if self.numbering_plan != NumberingPlan.E164:
            return None
        return bytes(self.address).decode("latin-1")

    def _address_problems(self, offset: int) -> list:
        address = self.fields.get("address")
        if (self.fields.get("numbering_plan") == NumberingPlan.NSAP and address is not None
                and len(address) != AESA_OCTETS):
            return [(offset, "address", f"an NSAP-plan address is {AESA_OCTETS} octets, not {len(address)}")]
        return []


@register
class CalledPartyNumberIE(_PartyNumber, InformationElement):
    name = "Called party number"
    fields_desc = ie_header(IEId.CALLED_PARTY_NUMBER) + [
        BitField("ext5", 1, 1),
        BitEnumField("number_type", NumberType.UNKNOWN, 3, _names(NumberType)),
        BitEnumField("numbering_plan", NumberingPlan.NSAP, 4, _names(NumberingPlan)),
        StrField("address", b""),
    ]
    fixed_ext_bits = (("ext5", 4),)

    def validate_contents(self):
        return super().validate_contents() + self._address_problems(5)


_screening_present = optional_octet_present("ext5", "presentation")


@register
class CallingPartyNumberIE(_PartyNumber, InformationElement):
    name = "Calling party number"
    fields_desc = ie_header(IEId.CALLING_PARTY_NUMBER) + [
        ExtBitField("ext5", follows=_screening_present),
        BitEnumField("number_type", NumberType.UNKNOWN, 3, _names(NumberType)),
        BitEnumField("numbering_plan", NumberingPlan.NSAP, 4, _names(NumberingPlan)),
        ConditionalField(BitField("ext5a", 1, 1), _screening_present),
        ConditionalField(BitEnumField("presentation", None, 2, _names(Presentation)), _screening_present),
        ConditionalField(BitField("spare5a", 0, 3), _screening_present),
        ConditionalField(BitEnumField("screening", 0, 2, _names(Screening)), _screening_present),
        StrField("address", b""),
    ]

    def validate_contents(self):
        problems = super().validate_contents()
        address_at = 5
        if self.fields.get("ext5") == 0:
            address_at = 6
            if self.fields.get("ext5a") not in (None, 1):
                problems.append((5, "ext5a", "extension bit must be 1: no octet 5b is defined"))
        return problems + self._address_problems(address_at)


class _Subaddress(InformationElement):
    fields_desc = ie_header(0) + [
        BitField("ext5", 1, 1),
        BitEnumField("subaddress_type", SubaddressType.NSAP, 3, _names(SubaddressType)),
        BitField("odd_even", 0, 1),
        BitField("spare", 0, 3),
        StrField("subaddress", b""),
    ]
    fixed_ext_bits = (("ext5", 4),)


@register
class CalledPartySubaddressIE(_Subaddress):
    name = "Called party subaddress"
    fields_desc = ie_header(IEId.CALLED_PARTY_SUBADDRESS) + _Subaddress.fields_desc[7:]


@register
class CallingPartySubaddressIE(_Subaddress):
    name = "Calling party subaddress"
    fields_desc = ie_header(IEId.CALLING_PARTY_SUBADDRESS) + _Subaddress.fields_desc[7:]


@register
class TransitNetworkSelectionIE(InformationElement):
    name = "Transit network selection"
    fields_desc = ie_header(IEId.TRANSIT_NETWORK_SELECTION) + [
        BitField("ext5", 1, 1),
        BitEnumField("network_id_type", 2, 3, {0: "user specified", 2: "national network identification",
                                                3: "international network identification"}),
        BitEnumField("network_id_plan", 1, 4, {0: "unknown", 1: "carrier identification code",
                                                3: "X.121 data network identification code"}),
        StrField("network_id", b""),
    ]
    fixed_ext_bits = (("ext5", 4),)
    codings = (CodingStandard.ITU_T, CodingStandard.NETWORK)
