"""Elements that describe the connection's traffic: AAL parameters, ATM traffic descriptor, QoS parameter,
End-to-end transit delay.

AAL parameters (identifier 0x58, Q.2931 4.5.5): octet 5 is the AAL type; then, for AAL 1, 3/4 and 5, a list
of subfields, each an identifier octet and a value of fixed size (``AAL_SUBFIELD_OCTETS``): for AAL 5,
0x8C forward and 0x81 backward maximum CPCS-SDU size (2 octets), 0x84 SSCS type (1), and UNI 3.1's 0x83
mode (1). From the first identifier this implementation does not know, the octets are kept in ``tail``
(their layout is unknown, so they cannot be walked); a user-defined AAL (type 0x10) has only ``tail``.

ATM traffic descriptor (identifier 0x59, Q.2931 4.5.6): subfields with 3-octet cell rates and burst sizes
(0x82-0xB1), 0xBE best effort (no value) and 0xBF traffic management options (1 octet); unknown
identifiers and what follows go to ``tail``. Understood under the ITU-T and the ATM Forum codings.

QoS parameter (identifier 0x5C, Q.2931 4.5.18): forward and backward QoS class, one octet each.

End-to-end transit delay (identifier 0x42, Q.2931 4.5.17): subfields 0x01 cumulative and 0x03 maximum
transit delay (2 octets, ms), and the ATM Forum's 0x0A network generated indicator (no value).
"""

from __future__ import annotations

from scapy.fields import ByteEnumField, ByteField, StrField

from firmware.uni.constants import (AAL_SUBFIELD_OCTETS, TRAFFIC_SUBFIELD_OCTETS,
                                    TRANSIT_DELAY_SUBFIELD_OCTETS, AALSubfield, AALType, CodingStandard,
                                    IEId, TrafficSubfield, TransitDelaySubfield)
from firmware.uni.fields import SubfieldListField
from firmware.uni.ie import InformationElement, ie_header, register


def _names(enum) -> dict:
    return {int(x): x.name.lower() for x in enum}


@register
class AALParametersIE(InformationElement):
    name = "AAL parameters"
    fields_desc = ie_header(IEId.AAL_PARAMETERS) + [
        ByteEnumField("aal_type", AALType.AAL5, _names(AALType)),
        SubfieldListField("subfields", AAL_SUBFIELD_OCTETS, _names(AALSubfield),
                          active=lambda pkt: pkt.aal_type != AALType.USER_DEFINED),
        StrField("tail", b""),
    ]

    def subfield(self, identifier: int) -> int | None:
        """Value of the first subfield with this identifier, None when absent."""
        for ident, value in self.subfields or ():
            if ident == identifier:
                return value
        return None


@register
class ATMTrafficDescriptorIE(InformationElement):
    name = "ATM traffic descriptor"
    fields_desc = ie_header(IEId.ATM_TRAFFIC_DESCRIPTOR) + [
        SubfieldListField("subfields", TRAFFIC_SUBFIELD_OCTETS, _names(TrafficSubfield)),
        StrField("tail", b""),
    ]
    codings = (CodingStandard.ITU_T, CodingStandard.NETWORK)

    def subfield(self, identifier: int) -> int | None:
        for ident, value in self.subfields or ():
            if ident == identifier:
                return value
        return None

    @property
    def best_effort(self) -> bool:
        return any(ident == TrafficSubfield.BEST_EFFORT for ident, _ in self.subfields or ())


@register
class QoSParameterIE(InformationElement):
    name = "QoS parameter"
    fields_desc = ie_header(IEId.QOS_PARAMETER) + [
        ByteField("qos_forward", 0),
        ByteField("qos_backward", 0),
    ]
    codings = (CodingStandard.ITU_T, CodingStandard.NETWORK)


@register
class EndToEndTransitDelayIE(InformationElement):
    name = "End-to-end transit delay"
    fields_desc = ie_header(IEId.END_TO_END_TRANSIT_DELAY) + [
        SubfieldListField("subfields", TRANSIT_DELAY_SUBFIELD_OCTETS, _names(TransitDelaySubfield)),
        StrField("tail", b""),
    ]
    codings = (CodingStandard.ITU_T, CodingStandard.NETWORK)
