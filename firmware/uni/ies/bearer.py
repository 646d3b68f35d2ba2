"""Broadband bearer capability, Broadband high layer information, Broadband repeat indicator and
Broadband sending complete.

Broadband bearer capability (identifier 0x5E, Q.2931 4.5.7)::

    octet 5    ext | spare (2) | bearer class (5)          ext 0: octet 5a follows
    octet 5a   ext 1 | ATM transfer capability (7)         (optional)
    octet 6    ext 1 | susceptibility to clipping (2) | spare (3) | user-plane connection configuration (2)

Broadband high layer information (identifier 0x5D, Q.2931 4.5.8): octet 5 ext 1 | high layer information
type (7), then up to 8 octets of high layer information.

Broadband repeat indicator (identifier 0x63, Q.2931 4.5.19): ext 1 | spare (3) | repeat indication (4).

Broadband sending complete (identifier 0x62, Q.2931 4.5.21): ext 1 | indication 0100001 (octet 0xA1).
"""

from __future__ import annotations

from scapy.fields import BitEnumField, BitField, ConditionalField, StrField

from firmware.uni.constants import (SENDING_COMPLETE_INDICATION, ATMTransferCapability, BearerClass,
                                    Clipping, HighLayerInformationType, IEId, RepeatIndication,
                                    UserPlaneConfiguration)
from firmware.uni.fields import ExtBitField, optional_octet_present
from firmware.uni.ie import InformationElement, ie_header, register


def _names(enum) -> dict:
    return {int(x): x.name.replace("_", " ").lower() for x in enum}


_atc_present = optional_octet_present("ext5", "atc")


@register
class BroadbandBearerCapabilityIE(InformationElement):
    name = "Broadband bearer capability"
    fields_desc = ie_header(IEId.BROADBAND_BEARER_CAPABILITY) + [
        ExtBitField("ext5", follows=_atc_present),
        BitField("spare5", 0, 2),
        BitEnumField("bearer_class", BearerClass.BCOB_X, 5, _names(BearerClass)),
        ConditionalField(BitField("ext5a", 1, 1), _atc_present),
        ConditionalField(BitEnumField("atc", None, 7, _names(ATMTransferCapability)), _atc_present),
        BitField("ext6", 1, 1),
        BitEnumField("clipping", Clipping.NOT_SUSCEPTIBLE, 2, _names(Clipping)),
        BitField("spare6", 0, 3),
        BitEnumField("up_config", UserPlaneConfiguration.POINT_TO_POINT, 2, _names(UserPlaneConfiguration)),
    ]

    def validate_contents(self):
        problems = super().validate_contents()
        octet6 = 4 + 1
        if self.fields.get("ext5") == 0:
            octet6 += 1
            if self.fields.get("ext5a") not in (None, 1):
                problems.append((5, "ext5a", "extension bit must be 1: no octet 5b is defined"))
        if self.fields.get("ext6") not in (None, 1):
            problems.append((octet6, "ext6", "extension bit must be 1: no octet 6a is defined"))
        return problems


@register
class BroadbandHighLayerInformationIE(InformationElement):
    name = "Broadband high layer information"
    fields_desc = ie_header(IEId.BROADBAND_HIGH_LAYER_INFORMATION) + [
        BitField("ext5", 1, 1),
        BitEnumField("hli_type", HighLayerInformationType.VENDOR_SPECIFIC, 7, _names(HighLayerInformationType)),
        StrField("info", b""),
    ]
    fixed_ext_bits = (("ext5", 4),)


@register
class BroadbandRepeatIndicatorIE(InformationElement):
    name = "Broadband repeat indicator"
    fields_desc = ie_header(IEId.BROADBAND_REPEAT_INDICATOR) + [
        BitField("ext5", 1, 1),
        BitField("spare", 0, 3),
        BitEnumField("repeat_indication", RepeatIndication.PRIORITIZED_LIST, 4, _names(RepeatIndication)),
    ]
    fixed_ext_bits = (("ext5", 4),)


@register
class BroadbandSendingCompleteIE(InformationElement):
    name = "Broadband sending complete"
    fields_desc = ie_header(IEId.BROADBAND_SENDING_COMPLETE) + [
        BitField("ext5", 1, 1),
        BitField("indication", SENDING_COMPLETE_INDICATION, 7),
    ]
    fixed_ext_bits = (("ext5", 4),)
