"""Cause, Call state and Notification indicator.

Cause (identifier 0x08, Q.2931 4.5.15, coded as Q.2610 / Q.850 say)::

    octet 5   ext 1 | spare (3) | location (4)
    octet 6   ext 1 | cause value (7)
    octet 7-  diagnostics (up to 28 octets; meaning depends on the cause value: the identifiers of the
              faulty IEs for causes 96, 99 and 100, the message type for 97 and 101, the timer for 102...)

Understood under the ITU-T coding and the ATM Forum's ("network specific") coding, which adds values.

Call state (identifier 0x14, Q.2931 4.5.10): one octet, spare (2) | call state (6), a
:class:`~firmware.uni.constants.CallState`.

Notification indicator (identifier 0x27, Q.2931 4.5.23): the notification description octets, kept as
bytes (Q.2931 leaves their coding to supplementary services).
"""

from __future__ import annotations

from scapy.fields import BitEnumField, BitField, StrField

from firmware.uni.constants import CAUSE_NAMES, CallState, CauseLocation, CodingStandard, IEId
from firmware.uni.ie import InformationElement, ie_header, register

LOCATION_NAMES = {int(x): x.name.replace("_", " ").lower() for x in CauseLocation}
CALL_STATE_NAMES = {int(s): s.name.replace("_", " ").lower() for s in CallState}


@register
class CauseIE(InformationElement):
    name = "Cause"
    fields_desc = ie_header(IEId.CAUSE) + [
        BitField("ext5", 1, 1),
        BitField("spare", 0, 3),
        BitEnumField("location", CauseLocation.USER, 4, LOCATION_NAMES),
        BitField("ext6", 1, 1),
        BitEnumField("cause_value", 16, 7, CAUSE_NAMES),
        StrField("diagnostics", b""),
    ]
    codings = (CodingStandard.ITU_T, CodingStandard.NETWORK)
    fixed_ext_bits = (("ext5", 4), ("ext6", 5))


@register
class CallStateIE(InformationElement):
    name = "Call state"
    fields_desc = ie_header(IEId.CALL_STATE) + [
        BitField("spare", 0, 2),
        BitEnumField("call_state", 0, 6, CALL_STATE_NAMES),
    ]


@register
class NotificationIndicatorIE(InformationElement):
    name = "Notification indicator"
    fields_desc = ie_header(IEId.NOTIFICATION_INDICATOR) + [
        StrField("description", b""),
    ]
