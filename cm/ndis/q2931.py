"""NDIS call parameters <-> the Q.2931 information elements of the UNI messages.

A CoNDIS ATM client describes a call with CO_CALL_PARAMETERS (ndis.h): Q2931_CALLMGR_PARAMETERS (atm.h) with
the called and calling addresses and a list of Q2931_IEs in CallMgrSpecific, ATM_MEDIA_PARAMETERS (atm.h) in
MediaSpecific, generic FLOWSPECs (qos.h). The call manager turns that into the elements of a SETUP (Q.2931
3.1.7) or ADD PARTY (Q.2971 9.1.1) -- :func:`to_uni` -- and turns what the network sends back into call
parameters -- :func:`from_uni`: an incoming SETUP becomes the parameters of NdisMCmDispatchIncomingCall, a
CONNECT or ADD PARTY ACKNOWLEDGE merged into the request becomes the parameters of the completion, with
CALL_PARAMETERS_CHANGED when the network changed something (ProtocolClMakeCallComplete).

Directions. Q.2931 elements are in wire directions: *forward* is from the calling user to the called user
(Q.2931 4.5.5, 4.5.6). NDIS media parameters and FLOWSPECs are local: Transmit and Receive. On the calling
side Transmit is forward; on the called side Transmit is backward. :class:`Side` says which side converts.

Where each SETUP element comes from (first that applies):

==========================  ==================================================================================
called party number         IE_CalledPartyNumber ("if present, this IE overrides the Called Address",
                            atm.h), else Q2931_CALLMGR_PARAMETERS.CalledParty; mandatory (Q.2931 3.1.7)
calling party number        IE_CallingPartyNumber (with presentation/screening: octet 5a), else CallingParty
AAL parameters              IE_AALParameters, else ATM_MEDIA_PARAMETERS when AALType is AAL 5 and a
                            MaxSduSize is given (forward = Transmit.MaxSduSize); else none (optional)
ATM traffic descriptor      IE_TrafficDescriptor; else the media flows (cells/s: PeakCellRate -> PCR CLP0+1,
                            AverageCellRate -> SCR CLP0+1, BurstLengthCells -> MBS CLP0+1; flows whose peak
                            rates are both 0 are flows not given, as a zero-filled C structure has them); else
                            the FLOWSPECs (bytes/s, rounded up to 48-octet cells); else best effort at the line
                            rate in each direction whose FLOWSPEC says best effort (none backward to the root of
                            a point-to-multipoint call: Q.2971, leaves send nothing to the root)
broadband bearer capability IE_BroadbandBearerCapability, else from the service category (BCOB-X; CBR: CBR with
                            end-to-end timing; VBR: VBR without; UBR: no indication); user-plane configuration
                            from MULTIPOINT_VC
QoS parameter               IE_QOSClass, else from the service category (CBR class 1, VBR class 3, UBR 0)
BHLI, BLLI (up to 3),       the IEs of those types; several BLLIs get a broadband repeat indicator (Q.2931
subaddresses, TNS, sending  4.5.19)
complete, LIJ call id
connection identifier       ATM_MEDIA_PARAMETERS.ConnectionId when not 0/0 (explicit VPCI = Vpi, exclusive VCI)
IE_Raw                      the element exactly as given, after the others
==========================  ==================================================================================

Checks that tie the sources together (a real driver programs the adapter from the media parameters and the
network from the elements; they must agree): media peak cell rates, AAL type and maximum SDU sizes equal to
the elements' when both are given; the bearer capability's user-plane configuration equal to MULTIPOINT_VC.

ADD PARTY carries no traffic descriptor, bearer capability, QoS parameter, connection identifier or LIJ call
identifier (Q.2971 9.1.1): those of an AddParty request are converted (for the MCM's per-party traffic
policy: reset, change for all, or reject) but not sent, and :attr:`UniElements.not_carried` says so.

Codings that are not plain copies (the fixed points are in :mod:`cm.ndis.params`, end of file):
AAL_TYPE_* and BCOB_* are translated by its tables; TrafficType | TimingRequirements is the octet-5a value
(atm.h TT_* bits 5-3, TR_* bits 2-1) and both SAP_FIELD_ABSENT_UCHAR mean "octet 5a absent";
ClippingSusceptability CLIP_SUS 0x20 is the clipping field 01; ws2atm.h codes Layer2Mode / Layer3Mode as
BLLI_L2_MODE_NORMAL 0x40 / _EXT 0x80, the 2-bit mode field shifted to bits 8-7; atm.h TNS_TYPE_NATIONAL 0x40
is the 3-bit type of network identification 010 shifted likewise. An ATM_RAW_IE holds the whole element as
sent: identifier (= RawIEType), instruction octet, length, contents.

:func:`from_uni` makes every element of the message an explicit Q2931_IE (so that :func:`to_uni` of its
result sends the same elements again, byte for byte for the elements this module builds), derives
ATM_MEDIA_PARAMETERS and the FLOWSPECs from them, and keeps as IE_Raw, exactly as received, any element the
atm.h structures cannot hold (a BLLI with a layer 1 octet, a user-defined AAL, an unknown identifier...).
Elements that belong to the call and party state machines, not to the call parameters (endpoint reference
and state, call state, broadband repeat indicator, restart indicator), are left to them.

Errors: :class:`CallParameterError`, a :class:`~hw.errors.FieldError` naming the field by its atm.h path
(``Q2931_CALLMGR_PARAMETERS.InfoElements[2](IE_TrafficDescriptor).ForwardTD.PeakCellRateCLP01``), with the
clause, the NDIS status an MCM refuses the request with (NDIS_STATUS_NOT_SUPPORTED: "invalid or unavailable
features in the call parameters", WDK ProtocolCmMakeCall/ProtocolCmAddParty) and, for what came from the
network, the Q.2931 cause to answer with.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from cm.ndis import params as P
from cm.ndis.params import (ATM_ADDRESS, ATM_FLOW_PARAMETERS, ATM_MEDIA_PARAMETERS, ATM_VPIVCI,
                            CO_CALL_MANAGER_PARAMETERS, CO_CALL_PARAMETERS, CO_MEDIA_PARAMETERS,
                            CO_SPECIFIC_PARAMETERS, FLOWSPEC, Q2931_CALLMGR_PARAMETERS, Q2931_IE, Q2931_IE_TYPE,
                            QOS_NOT_SPECIFIED, SAP_FIELD_ABSENT, SAP_FIELD_ABSENT_UCHAR, SAP_FIELD_ABSENT_USHORT)
from cm.ndis.status import NDIS_STATUS
from firmware.uni import builders as B
from firmware.uni.constants import (AESA_OCTETS, SENDING_COMPLETE_INDICATION, TAGGING_BACKWARD, TAGGING_FORWARD,
                                    AALSubfield, AALType, CauseValue, IEId, Layer3Protocol, MessageType,
                                    NumberingPlan, NumberType, PreferredExclusive, SubaddressType, TrafficSubfield,
                                    VPAssociatedSignalling)
from firmware.uni.contents import unknown_message_disposition
from firmware.uni.decode import check_header_octets
from firmware.uni.errors import UnknownMessageType
from firmware.uni.fastcodec import FastMessage
from firmware.uni.fastcodec import encode as fast_encode
from firmware.uni.ie import InformationElement, is_recognised
from firmware.uni.ies import (AALParametersIE, ATMTrafficDescriptorIE, BroadbandBearerCapabilityIE,
                              BroadbandHighLayerInformationIE, BroadbandLowLayerInformationIE,
                              BroadbandSendingCompleteIE, CalledPartyNumberIE, CalledPartySubaddressIE,
                              CallingPartyNumberIE, CallingPartySubaddressIE, CauseIE, ConnectionIdentifierIE,
                              LIJCallIdentifierIE, QoSParameterIE, TransitNetworkSelectionIE)
from firmware.uni.message import Q2931
from firmware.uni.messages import AddPartyMessage, SetupMessage
from hw.errors import FieldError

T = Q2931_IE_TYPE

# --------------------------------------------------------------------------------------------------------------
# Errors


class CallParameterError(FieldError):
    """A call parameter one side of the conversion cannot carry.

    ``field``, ``value``, ``expected`` as :class:`~hw.errors.FieldError`; ``clause`` the rule; ``status`` the
    NDIS status an MCM refuses the request with (WDK ProtocolCmMakeCall / ProtocolCmAddParty:
    NDIS_STATUS_NOT_SUPPORTED for "invalid or unavailable features in the call parameters"); for a value that
    came from the network, ``cause`` the Q.2931 cause to answer with and ``identifier`` the element for the
    cause diagnostics (Q.2931 4.5.15)."""

    def __init__(self, field: str, value: object, expected: str, *, clause: str = "",
                 status: int = NDIS_STATUS.NOT_SUPPORTED, cause: int | None = None,
                 identifier: int | None = None) -> None:
        self.clause = clause
        self.status = status
        self.cause = cause
        self.identifier = identifier
        super().__init__(field, value, f"{expected} ({clause})" if clause else expected)


def _uint(where: str, value: object, bits: int, clause: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise CallParameterError(where, value, f"an integer 0..{(1 << bits) - 1}", clause=clause)
    return int(value)


#: atm.h's "field absent" value of each field width (SAP_FIELD_ABSENT, _USHORT, _UCHAR). Compared by width:
#: :func:`cm.ndis.params.present` accepts any of the three, which would read a ULONG cell rate of 254 or
#: 65534 as absent.
_ABSENT_OF = {8: SAP_FIELD_ABSENT_UCHAR, 16: SAP_FIELD_ABSENT_USHORT, 32: SAP_FIELD_ABSENT}


def _given(value: object, bits: int) -> bool:
    """False when ``value`` is the SAP_FIELD_ABSENT coding of a field ``bits`` wide."""
    return not (isinstance(value, int) and not isinstance(value, bool) and value == _ABSENT_OF[bits])


def _is(where: str, value: object, cls: type) -> Any:
    if not isinstance(value, cls):
        raise CallParameterError(where, value, f"a {cls.__name__}")
    return value


# --------------------------------------------------------------------------------------------------------------
# Constants

#: OC-3c / STM-1 cell rate: 149.76 Mb/s of SDH payload / 424 bits = 353 207.5 cells/s, rounded down (a peak
#: cell rate above the line rate cannot be met). The line rate of a best effort call nobody gave a rate for.
OC3C_CELL_RATE = 353_207
#: Octets of AAL 5 payload per cell: how bytes/s of a FLOWSPEC become cells/s (I.363.5: 48-octet SAR-PDUs).
CELL_PAYLOAD_OCTETS = 48

#: ws2atm.h values of ATM_BLLI_IE.Layer2Mode / Layer3Mode: the 2-bit mode of operation (Q.2931 4.5.9 octets
#: 6a and 7a, 01 normal, 10 extended) shifted to bits 8-7.
BLLI_L2_MODE_NORMAL = 0x40
BLLI_L2_MODE_EXT = 0x80
BLLI_L3_MODE_NORMAL = 0x40
BLLI_L3_MODE_EXT = 0x80
_MODES = (0x40, 0x80)

#: Layer 2 protocols whose BLLI carries octet 6a (mode of operation, Q.933 use) and 6b (window size k)
#: (Q.2931 4.5.9; the set linux-atm's signalling daemon encodes them for).
L2_PROTOCOLS_WITH_MODE = frozenset({P.BLLI_L2_X25L, P.BLLI_L2_X25M, P.BLLI_L2_HDLC_ARM, P.BLLI_L2_HDLC_NRM,
                                    P.BLLI_L2_HDLC_ABM, P.BLLI_L2_Q922, P.BLLI_L2_ISO_7776})
#: Layer 3 protocols whose BLLI carries octets 7a (mode), 7b (default packet size), 7c (packet window size).
L3_PROTOCOLS_WITH_MODE = frozenset({P.BLLI_L3_X25, P.BLLI_L3_ISO_8208, P.BLLI_L3_X223})

#: atm.h ATM_TRAFFIC_DESCRIPTOR field -> Q.2931 4.5.6 subfield identifiers (forward, backward).
TRAFFIC_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("PeakCellRateCLP0", TrafficSubfield.FORWARD_PCR_CLP0, TrafficSubfield.BACKWARD_PCR_CLP0),
    ("PeakCellRateCLP01", TrafficSubfield.FORWARD_PCR_CLP01, TrafficSubfield.BACKWARD_PCR_CLP01),
    ("SustainableCellRateCLP0", TrafficSubfield.FORWARD_SCR_CLP0, TrafficSubfield.BACKWARD_SCR_CLP0),
    ("SustainableCellRateCLP01", TrafficSubfield.FORWARD_SCR_CLP01, TrafficSubfield.BACKWARD_SCR_CLP01),
    ("MaximumBurstSizeCLP0", TrafficSubfield.FORWARD_MBS_CLP0, TrafficSubfield.BACKWARD_MBS_CLP0),
    ("MaximumBurstSizeCLP01", TrafficSubfield.FORWARD_MBS_CLP01, TrafficSubfield.BACKWARD_MBS_CLP01),
)
_TD_BY_ID = {ident: (name, forward) for name, f, b in TRAFFIC_FIELDS for ident, forward in ((f, True), (b, False))}

_Q2931_AAL_TO_NDIS = {v: k for k, v in P.NDIS_AAL_TYPE_TO_Q2931.items()}
_Q2931_BEARER_TO_NDIS = {v: k for k, v in P.NDIS_BEARER_CLASS_TO_Q2931.items()}

#: The bearer capability and QoS class a call of each service category asks for when the client gave
#: neither element (Q.2931 4.5.7 codings; UNI 3.1 QoS classes: 1 for CBR (service class A), 3 for
#: connection-oriented data (class C, non-real-time VBR), 0 "unspecified" with best effort).
CATEGORY_DEFAULTS: dict[int, tuple[int, int, int]] = {  # category -> (TrafficType, TimingRequirements, QoS class)
    P.ATM_SERVICE_CATEGORY_CBR: (P.TT_CBR, P.TR_END_TO_END, P.QOS_CLASS1),
    P.ATM_SERVICE_CATEGORY_VBR: (P.TT_VBR, P.TR_NO_END_TO_END, P.QOS_CLASS3),
    P.ATM_SERVICE_CATEGORY_UBR: (P.TT_NOIND, P.TR_NOIND, P.QOS_CLASS0),
}

#: qos.h SERVICETYPE -> ATM service category (RFC 2381: Guaranteed Service over CBR, Controlled-Load over
#: non-real-time VBR, best effort over UBR), and back.
SERVICETYPE_TO_CATEGORY: dict[int, int] = {
    P.SERVICETYPE_BESTEFFORT: P.ATM_SERVICE_CATEGORY_UBR,
    P.SERVICETYPE_GUARANTEED: P.ATM_SERVICE_CATEGORY_CBR,
    P.SERVICETYPE_CONTROLLEDLOAD: P.ATM_SERVICE_CATEGORY_VBR,
}
CATEGORY_TO_SERVICETYPE: dict[int, int] = {
    P.ATM_SERVICE_CATEGORY_UBR: P.SERVICETYPE_BESTEFFORT,
    P.ATM_SERVICE_CATEGORY_CBR: P.SERVICETYPE_GUARANTEED,
    P.ATM_SERVICE_CATEGORY_VBR: P.SERVICETYPE_CONTROLLEDLOAD,
    P.ATM_SERVICE_CATEGORY_ABR: P.SERVICETYPE_CONTROLLEDLOAD,
}


class Side(Enum):
    """Which user converts: the one that sent the SETUP / ADD PARTY (its Transmit is the forward direction)
    or the one it was sent to."""

    CALLING = "calling"
    CALLED = "called"


#: Messages received by the called side (the others are answers received by the calling side).
_RECEIVED_BY_CALLED = frozenset({MessageType.SETUP, MessageType.ADD_PARTY, MessageType.LEAF_SETUP_REQUEST})
#: Elements of the call and party state machines, not of the call parameters.
_CONTROL_IES = frozenset({IEId.ENDPOINT_REFERENCE, IEId.ENDPOINT_STATE, IEId.CALL_STATE,
                          IEId.BROADBAND_REPEAT_INDICATOR, IEId.RESTART_INDICATOR})

# --------------------------------------------------------------------------------------------------------------
# NDIS -> wire, one element at a time. ``where`` is the atm.h path of the structure, for errors.


def _address_fields(addr: ATM_ADDRESS, where: str) -> tuple[bytes | str, int, int]:
    """(address for the builder, numbering plan, type of number) of a party number (Q.2931 4.5.11/4.5.13)."""
    _is(where, addr, ATM_ADDRESS)
    n = _uint(f"{where}.NumberOfDigits", addr.NumberOfDigits, 32)
    raw = bytes(addr.Address)
    if addr.AddressType == P.ATM_NSAP:
        if n != AESA_OCTETS or len(raw) < AESA_OCTETS:
            raise CallParameterError(f"{where}.NumberOfDigits", n, "20 octets for an NSAP address",
                                     clause="Q.2931 4.5.11: the NSAP plan carries a 20-octet AESA")
        return raw[:AESA_OCTETS], NumberingPlan.NSAP, NumberType.UNKNOWN
    if addr.AddressType == P.ATM_E164:
        digits = raw[:n]
        if not 1 <= n <= 15 or len(digits) != n or not digits.isdigit():
            raise CallParameterError(f"{where}.Address", digits, "1 to 15 E.164 digits '0'..'9' (IA5)",
                                     clause="Q.2931 4.5.11; E.164 6.1: at most 15 digits")
        return digits.decode("ascii"), NumberingPlan.E164, NumberType.INTERNATIONAL
    raise CallParameterError(f"{where}.AddressType", addr.AddressType, "ATM_NSAP (0) or ATM_E164 (1)")


def party_number_fields(addr: ATM_ADDRESS, where: str = "ATM_ADDRESS") -> tuple[bytes | str, int, int]:
    """(address, numbering plan, type of number) of a Called or Calling party number for ``addr``, as any
    message builder takes them (Q.2931 4.5.11/4.5.13)."""
    return _address_fields(addr, where)


def called_party_ie(addr: ATM_ADDRESS, where: str = "ATM_ADDRESS") -> CalledPartyNumberIE:
    """Called party number: an NSAP address as 20 octets with plan NSAP and type unknown, an E.164 number as
    IA5 digits with plan E.164 and type international."""
    value, plan, number_type = _address_fields(addr, where)
    return B.called_party_number(value, number_type=number_type, plan=plan)


def calling_party_ie(addr: ATM_ADDRESS, where: str = "ATM_ADDRESS", *, presentation: int = SAP_FIELD_ABSENT_UCHAR,
                     screening: int = SAP_FIELD_ABSENT_UCHAR) -> CallingPartyNumberIE:
    """Calling party number; octet 5a (presentation, screening) when ``presentation`` is present."""
    value, plan, number_type = _address_fields(addr, where)
    if not _given(presentation, 8):
        if _given(screening, 8):
            raise CallParameterError(f"{where}.ScreeningIndicator", screening,
                                     "SAP_FIELD_ABSENT_UCHAR without a PresentationIndication",
                                     clause="Q.2931 4.5.13: both are in octet 5a")
        return B.calling_party_number(value, number_type=number_type, plan=plan)
    presentation = _uint(f"{where}.PresentationIndication", presentation, 2, "Q.2931 4.5.13 octet 5a")
    if not _given(screening, 8):
        raise CallParameterError(f"{where}.ScreeningIndicator", screening, "a screening indicator 0..3 with a "
                                 "PresentationIndication", clause="Q.2931 4.5.13: both are in octet 5a")
    screening = _uint(f"{where}.ScreeningIndicator", screening, 2, "Q.2931 4.5.13 octet 5a")
    return B.calling_party_number(value, number_type=number_type, plan=plan, presentation=presentation,
                                  screening=screening)


def _subaddress(addr: ATM_ADDRESS, where: str, cls: type) -> InformationElement:
    _is(where, addr, ATM_ADDRESS)
    if addr.AddressType != P.ATM_NSAP:
        raise CallParameterError(f"{where}.AddressType", addr.AddressType, "ATM_NSAP: a subaddress is an NSAP, "
                                 "not an E.164 number", clause="Q.2931 4.5.12: type of subaddress NSAP")
    n = _uint(f"{where}.NumberOfDigits", addr.NumberOfDigits, 32)
    if n > 20:
        raise CallParameterError(f"{where}.NumberOfDigits", n, "at most 20 octets", clause="Q.2931 4.5.12")
    builder = B.called_party_subaddress if cls is CalledPartySubaddressIE else B.calling_party_subaddress
    return builder(bytes(addr.Address[:n]), subaddress_type=SubaddressType.NSAP)


def aal_ie(aal: P.AAL_PARAMETERS_IE, where: str = "AAL_PARAMETERS_IE") -> AALParametersIE:
    """AAL parameters (Q.2931 4.5.5). AAL 5: forward/backward maximum CPCS-SDU size, then the UNI 3.1 mode
    (unless SAP_FIELD_ABSENT_UCHAR: Q.2931 dropped it) and the SSCS type when present. AAL 1 and AAL 3/4
    likewise; AALUSER_PARAMETERS is a user-defined AAL (type 0x10) with its 4 octets."""
    _is(where, aal, P.AAL_PARAMETERS_IE)
    member = aal.AALSpecificParameters
    spec = f"{where}.AALSpecificParameters"
    if isinstance(member, P.AALUSER_PARAMETERS):
        value = _uint(f"{spec}.UserDefined", member.UserDefined, 32)
        return B.aal_parameters(AALType.USER_DEFINED, tail=value.to_bytes(4, "big"))
    if aal.AALType == P.AAL_TYPE_AAL5 and isinstance(member, P.AAL5_PARAMETERS):
        sub = [(AALSubfield.FORWARD_MAX_CPCS_SDU_SIZE,
                _uint(f"{spec}.ForwardMaxCPCSSDUSize", member.ForwardMaxCPCSSDUSize, 16, "Q.2931 4.5.5: 2 octets")),
               (AALSubfield.BACKWARD_MAX_CPCS_SDU_SIZE,
                _uint(f"{spec}.BackwardMaxCPCSSDUSize", member.BackwardMaxCPCSSDUSize, 16, "Q.2931 4.5.5: 2 octets"))]
        if _given(member.Mode, 8):
            if member.Mode not in (P.AAL5_MODE_MESSAGE, P.AAL5_MODE_STREAMING):
                raise CallParameterError(f"{spec}.Mode", member.Mode, "AAL5_MODE_MESSAGE (1), AAL5_MODE_STREAMING (2) "
                                         "or SAP_FIELD_ABSENT_UCHAR", clause="UNI 3.1 5.4.5.5")
            sub.append((AALSubfield.MODE, member.Mode))
        if _given(member.SSCSType, 8):
            sub.append((AALSubfield.SSCS_TYPE, _uint(f"{spec}.SSCSType", member.SSCSType, 8)))
        return B.aal_parameters(AALType.AAL5, sub)
    if aal.AALType == P.AAL_TYPE_AAL34 and isinstance(member, P.AAL34_PARAMETERS):
        sub = [(AALSubfield.FORWARD_MAX_CPCS_SDU_SIZE,
                _uint(f"{spec}.ForwardMaxCPCSSDUSize", member.ForwardMaxCPCSSDUSize, 16)),
               (AALSubfield.BACKWARD_MAX_CPCS_SDU_SIZE,
                _uint(f"{spec}.BackwardMaxCPCSSDUSize", member.BackwardMaxCPCSSDUSize, 16))]
        if _given(member.LowestMID, 16) != _given(member.HighestMID, 16):
            raise CallParameterError(f"{spec}.HighestMID", member.HighestMID, "present exactly when LowestMID is",
                                     clause="Q.2931 4.5.5: the MID range subfield carries both")
        if _given(member.LowestMID, 16):
            low = _uint(f"{spec}.LowestMID", member.LowestMID, 16)
            high = _uint(f"{spec}.HighestMID", member.HighestMID, 16)
            sub.append((AALSubfield.MID_RANGE, low << 16 | high))
        if _given(member.SSCSType, 8):
            sub.append((AALSubfield.SSCS_TYPE, _uint(f"{spec}.SSCSType", member.SSCSType, 8)))
        return B.aal_parameters(AALType.AAL3_4, sub)
    if aal.AALType == P.AAL_TYPE_AAL1 and isinstance(member, P.AAL1_PARAMETERS):
        sub = [(AALSubfield.AAL1_SUBTYPE, _uint(f"{spec}.Subtype", member.Subtype, 8)),
               (AALSubfield.AAL1_CBR_RATE, _uint(f"{spec}.CBRRate", member.CBRRate, 8))]
        if member.Multiplier:  # atm.h: "optional (exception: zero if absent)"
            sub.append((AALSubfield.AAL1_MULTIPLIER, _uint(f"{spec}.Multiplier", member.Multiplier, 16)))
        for name, ident in (("SourceClockRecoveryMethod", AALSubfield.AAL1_SOURCE_CLOCK_RECOVERY),
                            ("ErrorCorrectionMethod", AALSubfield.AAL1_ERROR_CORRECTION)):
            if _given(getattr(member, name), 8):
                sub.append((ident, _uint(f"{spec}.{name}", getattr(member, name), 8)))
        if member.StructuredDataTransferBlocksize:  # zero if absent
            sub.append((AALSubfield.AAL1_STRUCTURED_DATA_TRANSFER_BLOCKSIZE,
                        _uint(f"{spec}.StructuredDataTransferBlocksize", member.StructuredDataTransferBlocksize, 16)))
        if _given(member.PartiallyFilledCellsMethod, 8):
            sub.append((AALSubfield.AAL1_PARTIALLY_FILLED_CELLS,
                        _uint(f"{spec}.PartiallyFilledCellsMethod", member.PartiallyFilledCellsMethod, 8)))
        return B.aal_parameters(AALType.AAL1, sub)
    if aal.AALType == P.AAL_TYPE_AAL0:
        raise CallParameterError(f"{where}.AALType", aal.AALType, "AAL 1, 3/4 or 5: AAL 0 has no Q.2931 coding "
                                 "(leave the element out)", clause="Q.2931 4.5.5")
    raise CallParameterError(spec, member, f"the union member of AALType {aal.AALType}")


def traffic_descriptor_ie(td: P.ATM_TRAFFIC_DESCRIPTOR_IE, where: str = "ATM_TRAFFIC_DESCRIPTOR_IE",
                          *, require_pcr: bool = True) -> ATMTrafficDescriptorIE:
    """ATM traffic descriptor (Q.2931 4.5.6): each present rate to its subfield (24 bits, cells/s or cells),
    BestEffort to the best effort indicator, Tagging to the traffic management options octet."""
    _is(where, td, P.ATM_TRAFFIC_DESCRIPTOR_IE)
    subfields = []
    for direction, index in (("ForwardTD", 1), ("BackwardTD", 2)):
        one = _is(f"{where}.{direction}", getattr(td, direction), P.ATM_TRAFFIC_DESCRIPTOR)
        for name, *idents in TRAFFIC_FIELDS:
            value = getattr(one, name)
            if not _given(value, 32):
                continue
            subfields.append((idents[index - 1], _uint(f"{where}.{direction}.{name}", value, 24,
                                                       "Q.2931 4.5.6: 3-octet rates")))
    if require_pcr and not any(ident == TrafficSubfield.FORWARD_PCR_CLP01 for ident, _ in subfields):
        raise CallParameterError(f"{where}.ForwardTD.PeakCellRateCLP01", SAP_FIELD_ABSENT, "a forward peak cell "
                                 "rate for CLP=0+1", clause="UNI 3.1 5.4.5.6, Q.2931 Annex: every allowed "
                                 "combination has it")
    subfields.sort()
    if td.BestEffort:
        subfields.append((TrafficSubfield.BEST_EFFORT, None))
    options = (TAGGING_FORWARD if td.ForwardTD.Tagging else 0) | (TAGGING_BACKWARD if td.BackwardTD.Tagging else 0)
    if options:
        subfields.append((TrafficSubfield.TRAFFIC_MANAGEMENT_OPTIONS, options))
    return ATMTrafficDescriptorIE(subfields=subfields)


def bearer_capability_ie(bbc: P.ATM_BROADBAND_BEARER_CAPABILITY_IE,
                         where: str = "ATM_BROADBAND_BEARER_CAPABILITY_IE") -> BroadbandBearerCapabilityIE:
    """Broadband bearer capability (Q.2931 4.5.7): octet 5a = TrafficType | TimingRequirements, absent when both
    are SAP_FIELD_ABSENT_UCHAR; clipping 01 for CLIP_SUS; the user-plane configuration as is."""
    _is(where, bbc, P.ATM_BROADBAND_BEARER_CAPABILITY_IE)
    if bbc.BearerClass not in P.NDIS_BEARER_CLASS_TO_Q2931:
        raise CallParameterError(f"{where}.BearerClass", bbc.BearerClass, "BCOB_A, BCOB_C or BCOB_X (0, 1, 2)")
    tt, tr = bbc.TrafficType, bbc.TimingRequirements
    if _given(tt, 8) != _given(tr, 8):
        raise CallParameterError(f"{where}.TimingRequirements" if _given(tt, 8) else f"{where}.TrafficType",
                                 tr if _given(tt, 8) else tt, "present exactly when the other is: both are octet 5a",
                                 clause="Q.2931 4.5.7")
    atc = None
    if _given(tt, 8):
        if not isinstance(tt, int) or tt & ~0x1C:
            raise CallParameterError(f"{where}.TrafficType", tt, "TT_NOIND, TT_CBR or TT_VBR (bits 5-3 of octet 5a)",
                                     clause="Q.2931 4.5.7")
        if not isinstance(tr, int) or tr & ~0x03:
            raise CallParameterError(f"{where}.TimingRequirements", tr, "TR_NOIND, TR_END_TO_END or TR_NO_END_TO_END "
                                     "(bits 2-1 of octet 5a)", clause="Q.2931 4.5.7")
        atc = tt | tr
    if bbc.ClippingSusceptability not in (P.CLIP_NOT, P.CLIP_SUS):
        raise CallParameterError(f"{where}.ClippingSusceptability", bbc.ClippingSusceptability,
                                 "CLIP_NOT (0) or CLIP_SUS (0x20)", clause="Q.2931 4.5.7 octet 6")
    if bbc.UserPlaneConnectionConfig not in (P.UP_P2P, P.UP_P2MP):
        raise CallParameterError(f"{where}.UserPlaneConnectionConfig", bbc.UserPlaneConnectionConfig,
                                 "UP_P2P (0) or UP_P2MP (1)", clause="Q.2931 4.5.7 octet 6")
    return B.bearer_capability(P.NDIS_BEARER_CLASS_TO_Q2931[bbc.BearerClass], atc=atc,
                               clipping=bbc.ClippingSusceptability == P.CLIP_SUS,
                               point_to_multipoint=bbc.UserPlaneConnectionConfig == P.UP_P2MP)


def bhli_ie(bhli: P.ATM_BHLI_IE, where: str = "ATM_BHLI_IE") -> BroadbandHighLayerInformationIE:
    """Broadband high layer information (Q.2931 4.5.8): the atm.h BHLI_* types are the Q.2931 codes."""
    _is(where, bhli, P.ATM_BHLI_IE)
    hli_type = _uint(f"{where}.HighLayerInfoType", bhli.HighLayerInfoType, 7, "Q.2931 4.5.8 octet 5")
    n = _uint(f"{where}.HighLayerInfoLength", bhli.HighLayerInfoLength, 32)
    if n > 8 or n > len(bhli.HighLayerInfo):
        raise CallParameterError(f"{where}.HighLayerInfoLength", n, f"at most 8 and at most the "
                                 f"{len(bhli.HighLayerInfo)} octets of HighLayerInfo", clause="Q.2931 4.5.8")
    return B.high_layer_information(hli_type, bytes(bhli.HighLayerInfo[:n]))


#: Width of each ATM_BLLI_IE field (atm.h: ULONG protocols, UCHAR modes and sizes).
_BLLI_BITS = {"Layer2Protocol": 32, "Layer2Mode": 8, "Layer2WindowSize": 8, "Layer2UserSpecifiedProtocol": 32,
              "Layer3Protocol": 32, "Layer3Mode": 8, "Layer3DefaultPacketSize": 8, "Layer3PacketWindowSize": 8,
              "Layer3UserSpecifiedProtocol": 32, "Layer3IPI": 32}


def _not_carried(notes: list[str], where: str, name: str, value: object, why: str) -> None:
    if name in _BLLI_BITS and not _given(value, _BLLI_BITS[name]):
        return
    if value in (b"", b"\x00" * 5):
        return
    notes.append(f"{where}.{name}={value!r}: {why}")


def blli_ie(blli: P.ATM_BLLI_IE, where: str = "ATM_BLLI_IE", notes: list[str] | None = None
            ) -> BroadbandLowLayerInformationIE:
    """Broadband low layer information (Q.2931 4.5.9). Layer 2 (octet 6) with its mode and window (6a, 6b) for
    the protocols that have them, or its user-specified octet; layer 3 (octet 7) with mode, default packet size
    and window (7a-7c), or the TR 9577 IPI (7a, 7b) and SNAP (octet 8), or its user-specified octet. A field
    Q.2931 does not carry for the chosen protocol is not sent and is listed in ``notes``."""
    _is(where, blli, P.ATM_BLLI_IE)
    notes = notes if notes is not None else []
    kw: dict[str, Any] = {}
    l2 = blli.Layer2Protocol
    if not _given(l2, 32):
        for name in ("Layer2Mode", "Layer2WindowSize", "Layer2UserSpecifiedProtocol"):
            _not_carried(notes, where, name, getattr(blli, name), "no layer 2 protocol")
    else:
        l2 = _uint(f"{where}.Layer2Protocol", l2, 5, "Q.2931 4.5.9 octet 6")
        kw["l2"] = l2
        ext = b""
        if l2 in L2_PROTOCOLS_WITH_MODE:
            mode, window = blli.Layer2Mode, blli.Layer2WindowSize
            if _given(mode, 8):
                if mode not in _MODES:
                    raise CallParameterError(f"{where}.Layer2Mode", mode, "BLLI_L2_MODE_NORMAL (0x40), "
                                             "BLLI_L2_MODE_EXT (0x80) or SAP_FIELD_ABSENT_UCHAR",
                                             clause="Q.2931 4.5.9 octet 6a")
                octet6a = (mode >> 6) << 5
                if _given(window, 8):
                    if not 1 <= window <= 127:
                        raise CallParameterError(f"{where}.Layer2WindowSize", window, "1..127",
                                                 clause="Q.2931 4.5.9 octet 6b")
                    ext = bytes((octet6a, 0x80 | window))
                else:
                    ext = bytes((0x80 | octet6a,))
            elif _given(window, 8):
                raise CallParameterError(f"{where}.Layer2WindowSize", window, "SAP_FIELD_ABSENT_UCHAR without a "
                                         "Layer2Mode", clause="Q.2931 4.5.9: octet 6b follows octet 6a")
            _not_carried(notes, where, "Layer2UserSpecifiedProtocol", blli.Layer2UserSpecifiedProtocol,
                         f"Q.2931 4.5.9 carries none for layer 2 protocol 0x{l2:02X}")
        elif l2 == P.BLLI_L2_USER_SPECIFIED:
            user = blli.Layer2UserSpecifiedProtocol
            if _given(user, 32):
                ext = bytes((0x80 | _uint(f"{where}.Layer2UserSpecifiedProtocol", user, 7, "Q.2931 4.5.9 octet 6a"),))
            for name in ("Layer2Mode", "Layer2WindowSize"):
                _not_carried(notes, where, name, getattr(blli, name), "not carried for a user-specified protocol")
        else:
            for name in ("Layer2Mode", "Layer2WindowSize", "Layer2UserSpecifiedProtocol"):
                _not_carried(notes, where, name, getattr(blli, name),
                             f"Q.2931 4.5.9 carries none for layer 2 protocol 0x{l2:02X}")
        kw["l2_extension"] = ext
    l3 = blli.Layer3Protocol
    l3_fields = ("Layer3Mode", "Layer3DefaultPacketSize", "Layer3PacketWindowSize", "Layer3UserSpecifiedProtocol",
                 "Layer3IPI", "SnapId")
    if not _given(l3, 32):
        for name in l3_fields:
            _not_carried(notes, where, name, getattr(blli, name), "no layer 3 protocol")
        return B.low_layer_information(**kw)
    l3 = _uint(f"{where}.Layer3Protocol", l3, 5, "Q.2931 4.5.9 octet 7")
    kw["l3"] = l3
    carried: tuple[str, ...] = ()
    if l3 in L3_PROTOCOLS_WITH_MODE:
        carried = ("Layer3Mode", "Layer3DefaultPacketSize", "Layer3PacketWindowSize")
        mode, size, window = blli.Layer3Mode, blli.Layer3DefaultPacketSize, blli.Layer3PacketWindowSize
        octets = []
        if _given(mode, 8):
            if mode not in _MODES:
                raise CallParameterError(f"{where}.Layer3Mode", mode, "BLLI_L3_MODE_NORMAL (0x40), BLLI_L3_MODE_EXT "
                                         "(0x80) or SAP_FIELD_ABSENT_UCHAR", clause="Q.2931 4.5.9 octet 7a")
            octets.append((mode >> 6) << 5)
            if _given(size, 8):
                if not 4 <= size <= 12:
                    raise CallParameterError(f"{where}.Layer3DefaultPacketSize", size,
                                             "4..12 (log2 of 16..4096 octets)", clause="Q.2931 4.5.9 octet 7b")
                octets.append(size)
                if _given(window, 8):
                    if not 1 <= window <= 127:
                        raise CallParameterError(f"{where}.Layer3PacketWindowSize", window, "1..127",
                                                 clause="Q.2931 4.5.9 octet 7c")
                    octets.append(window)
            elif _given(window, 8):
                raise CallParameterError(f"{where}.Layer3PacketWindowSize", window, "SAP_FIELD_ABSENT_UCHAR without a "
                                         "Layer3DefaultPacketSize", clause="Q.2931 4.5.9: octet 7c follows 7b")
        elif _given(size, 8) or _given(window, 8):
            name, value = ("Layer3DefaultPacketSize", size) if _given(size, 8) else ("Layer3PacketWindowSize", window)
            raise CallParameterError(f"{where}.{name}", value, "SAP_FIELD_ABSENT_UCHAR without a Layer3Mode",
                                     clause="Q.2931 4.5.9: octets 7b, 7c follow 7a")
        if octets:
            octets[-1] |= 0x80
        kw["l3_extension"] = bytes(octets)
    elif l3 == P.BLLI_L3_ISO_TR9577:
        carried = ("Layer3IPI", "SnapId")
        ipi = blli.Layer3IPI
        if not _given(ipi, 32):
            raise CallParameterError(f"{where}.Layer3IPI", ipi, "an initial protocol identifier with ISO/IEC TR 9577",
                                     clause="Q.2931 4.5.9: octets 7a and 7b")
        kw["ipi"] = _uint(f"{where}.Layer3IPI", ipi, 8, "Q.2931 4.5.9 octets 7a, 7b")
        if kw["ipi"] == P.BLLI_L3_IPI_SNAP:
            snap = blli.SnapId
            if not isinstance(snap, (bytes, bytearray)) or len(snap) != 5:
                raise CallParameterError(f"{where}.SnapId", snap, "5 octets (OUI, PID) with BLLI_L3_IPI_SNAP",
                                         clause="Q.2931 4.5.9 octet 8")
            kw["snap"] = (int.from_bytes(snap[:3], "big"), int.from_bytes(snap[3:], "big"))
        else:
            carried = ("Layer3IPI",)
    elif l3 == P.BLLI_L3_USER_SPECIFIED:
        carried = ("Layer3UserSpecifiedProtocol",)
        user = blli.Layer3UserSpecifiedProtocol
        if _given(user, 32):
            kw["l3_extension"] = bytes((0x80 | _uint(f"{where}.Layer3UserSpecifiedProtocol", user, 7,
                                                     "Q.2931 4.5.9 octet 7a"),))
    for name in l3_fields:
        if name not in carried:
            _not_carried(notes, where, name, getattr(blli, name),
                         f"Q.2931 4.5.9 carries none for layer 3 protocol 0x{l3:02X}")
    return B.low_layer_information(**kw)


def qos_ie(qos: P.ATM_QOS_CLASS_IE, where: str = "ATM_QOS_CLASS_IE") -> QoSParameterIE:
    """QoS parameter (Q.2931 4.5.18): the QoS classes as they are."""
    _is(where, qos, P.ATM_QOS_CLASS_IE)
    return B.qos_parameter(_uint(f"{where}.QOSClassForward", qos.QOSClassForward, 8),
                           _uint(f"{where}.QOSClassBackward", qos.QOSClassBackward, 8))


def transit_network_ie(tns: P.ATM_TRANSIT_NETWORK_SELECTION_IE,
                       where: str = "ATM_TRANSIT_NETWORK_SELECTION_IE") -> TransitNetworkSelectionIE:
    """Transit network selection (Q.2931 4.5.22): TypeOfNetworkId >> 5 is the 3-bit type (atm.h
    TNS_TYPE_NATIONAL 0x40 = 010, national), NetworkIdPlan the plan, the network identification in IA5."""
    _is(where, tns, P.ATM_TRANSIT_NETWORK_SELECTION_IE)
    kind = _uint(f"{where}.TypeOfNetworkId", tns.TypeOfNetworkId, 8)
    if kind & 0x1F:
        raise CallParameterError(f"{where}.TypeOfNetworkId", kind, "a type in bits 8-6 (TNS_TYPE_NATIONAL 0x40)",
                                 clause="Q.2931 4.5.22 octet 5")
    plan = _uint(f"{where}.NetworkIdPlan", tns.NetworkIdPlan, 4, "Q.2931 4.5.22 octet 5")
    n = _uint(f"{where}.NetworkIdLength", tns.NetworkIdLength, 8)
    if n > 4 or n > len(tns.NetworkId):
        raise CallParameterError(f"{where}.NetworkIdLength", n, "at most 4 (a carrier identification code) and at "
                                 "most the octets of NetworkId", clause="Q.2931 4.5.22")
    return B.transit_network_selection(bytes(tns.NetworkId[:n]), id_type=kind >> 5, plan=plan)


def lij_call_id_ie(lij: P.ATM_LIJ_CALLID_IE, where: str = "ATM_LIJ_CALLID_IE") -> LIJCallIdentifierIE:
    """LIJ call identifier (UNI 4.0 6, ATM Forum coding): a root-assigned 32-bit value."""
    _is(where, lij, P.ATM_LIJ_CALLID_IE)
    return B.lij_call_identifier(_uint(f"{where}.Identifier", lij.Identifier, 32))


def cause_ie(cause: P.ATM_CAUSE_IE, where: str = "ATM_CAUSE_IE") -> CauseIE:
    """Cause (Q.2931 4.5.15): location, cause value, the DiagnosticsLength octets of Diagnostics."""
    _is(where, cause, P.ATM_CAUSE_IE)
    n = _uint(f"{where}.DiagnosticsLength", cause.DiagnosticsLength, 8)
    if n > 28 or n > len(cause.Diagnostics):
        raise CallParameterError(f"{where}.DiagnosticsLength", n, "at most 28 and at most the octets of Diagnostics",
                                 clause="Q.2931 4.5.15: 30 octets of contents")
    return B.cause(_uint(f"{where}.Cause", cause.Cause, 7, "Q.2931 4.5.15 octet 6"),
                   _uint(f"{where}.Location", cause.Location, 4, "Q.2931 4.5.15 octet 5"), bytes(cause.Diagnostics[:n]))


def connection_identifier_ie(vc: ATM_VPIVCI, where: str = "ATM_VPIVCI") -> ConnectionIdentifierIE:
    """Connection identifier (Q.2931 4.5.16): explicit VPCI = Vpi (this UNI has no virtual path
    multiplexer, so VPCI and VPI are the same number), exclusive VPCI and VCI."""
    _is(where, vc, ATM_VPIVCI)
    return B.connection_identifier(_uint(f"{where}.Vpi", vc.Vpi, 16, "Q.2931 4.5.16: 2-octet VPCI"),
                                   _uint(f"{where}.Vci", vc.Vci, 16, "Q.2931 4.5.16: 2-octet VCI"),
                                   vp_associated=VPAssociatedSignalling.EXPLICIT_VPCI,
                                   pref_excl=PreferredExclusive.EXCLUSIVE_VPCI_EXCLUSIVE_VCI)


def raw_ie(raw: P.ATM_RAW_IE, where: str = "ATM_RAW_IE") -> InformationElement:
    """The element an ATM_RAW_IE holds, sent byte for byte: RawIEValue is the whole element (identifier =
    RawIEType, instruction octet, 2-octet length = the octets that follow, contents)."""
    _is(where, raw, P.ATM_RAW_IE)
    value = raw.RawIEValue
    if not isinstance(value, (bytes, bytearray)):
        raise CallParameterError(f"{where}.RawIEValue", value, "bytes")
    value = bytes(value)
    kind = _uint(f"{where}.RawIEType", raw.RawIEType, 8, "Q.2931 4.5.1: a 1-octet identifier")
    n = _uint(f"{where}.RawIELength", raw.RawIELength, 32)
    if n != len(value):
        raise CallParameterError(f"{where}.RawIELength", n, f"the {len(value)} octets of RawIEValue")
    if len(value) < 4 or value[0] != kind or int.from_bytes(value[2:4], "big") != len(value) - 4:
        raise CallParameterError(f"{where}.RawIEValue", value, f"a whole element: identifier 0x{kind:02X}, "
                                 "instruction, length of the contents, contents", clause="Q.2931 4.5.1")
    return InformationElement(value)


# --------------------------------------------------------------------------------------------------------------
# Flows: media parameters and FLOWSPECs <-> traffic descriptor


@dataclass
class _Flow:
    """One wire direction of a request: cell rates (cells/s), burst size (cells), 0 = not given."""

    pcr: int = 0
    scr: int = 0
    mbs: int = 0


def _cells(where: str, octets_per_second: int) -> int:
    value = _uint(where, octets_per_second, 32)
    return -(-value // CELL_PAYLOAD_OCTETS)


def _flow_from_media(flow: ATM_FLOW_PARAMETERS, where: str) -> _Flow:
    _is(where, flow, ATM_FLOW_PARAMETERS)
    return _Flow(_uint(f"{where}.PeakCellRate", flow.PeakCellRate, 24, "Q.2931 4.5.6: 3-octet cell rates"),
                 _uint(f"{where}.AverageCellRate", flow.AverageCellRate, 24, "Q.2931 4.5.6: 3-octet cell rates"),
                 _uint(f"{where}.BurstLengthCells", flow.BurstLengthCells, 24, "Q.2931 4.5.6: 3-octet burst sizes"))


def _flow_from_flowspec(spec: FLOWSPEC, where: str, category: int) -> _Flow:
    _is(where, spec, FLOWSPEC)
    if spec.ServiceType == P.SERVICETYPE_NOTRAFFIC or spec.PeakBandwidth == QOS_NOT_SPECIFIED:
        return _Flow()
    flow = _Flow(_cells(f"{where}.PeakBandwidth", spec.PeakBandwidth))
    if category == P.ATM_SERVICE_CATEGORY_VBR:
        if spec.TokenRate != QOS_NOT_SPECIFIED:
            flow.scr = _cells(f"{where}.TokenRate", spec.TokenRate)
        if spec.TokenBucketSize != QOS_NOT_SPECIFIED:
            flow.mbs = _cells(f"{where}.TokenBucketSize", spec.TokenBucketSize)
    for name, spec_name in (("pcr", "PeakBandwidth"), ("scr", "TokenRate"), ("mbs", "TokenBucketSize")):
        if getattr(flow, name) >= 1 << 24:
            raise CallParameterError(f"{where}.{spec_name}", getattr(spec, spec_name), "at most (2**24-1) x 48 "
                                     "octets: 3-octet cell rates and burst sizes", clause="Q.2931 4.5.6")
    return flow


def _category_of_flowspec(spec: FLOWSPEC, where: str) -> int | None:
    if spec.ServiceType == P.SERVICETYPE_NOTRAFFIC:
        return None
    category = SERVICETYPE_TO_CATEGORY.get(spec.ServiceType)
    if category is None:
        raise CallParameterError(f"{where}.ServiceType", spec.ServiceType, "SERVICETYPE_BESTEFFORT, _GUARANTEED, "
                                 "_CONTROLLEDLOAD or _NOTRAFFIC", clause="RFC 2381 service mapping")
    return category


#: The fields a derived traffic descriptor is read from, by source: (category, sustainable rate, burst size).
_MEDIA_NAMES = ("ServiceCategory", "AverageCellRate", "BurstLengthCells")
_FLOWSPEC_NAMES = ("ServiceType", "TokenRate", "TokenBucketSize")


def _td_from_flows(category: int, forward: _Flow, backward: _Flow, where: str,
                   names: tuple[str, str, str] = _MEDIA_NAMES) -> P.ATM_TRAFFIC_DESCRIPTOR_IE:
    """The traffic descriptor a service category asks for (UNI 3.1 5.4.5.6 allowed combinations): PCR CLP0+1
    both ways; VBR adds SCR and MBS CLP0+1; UBR adds the best effort indicator. ``where`` and ``names`` name
    the fields the flows came from, for errors."""
    if category == P.ATM_SERVICE_CATEGORY_ABR:
        raise CallParameterError(f"{where}.Transmit.{names[0]}", category, "CBR, VBR or UBR: ABR needs the UNI 4.0 ABR "
                                 "setup parameters, which this UNI does not signal", clause="UNI 4.0 10.1.2")
    one = []
    for direction, flow in (("Transmit", forward), ("Receive", backward)):
        td = P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP01=flow.pcr)
        if category == P.ATM_SERVICE_CATEGORY_VBR and flow.pcr:
            if not flow.scr or not flow.mbs:
                name = names[1] if not flow.scr else names[2]
                raise CallParameterError(f"{where}.{direction}.{name}", 0, "a sustainable cell rate and a burst size "
                                         "for VBR", clause="UNI 3.1 5.4.5.6: the VBR combinations carry SCR and MBS")
            td.SustainableCellRateCLP01 = flow.scr
            td.MaximumBurstSizeCLP01 = flow.mbs
        one.append(td)
    return P.ATM_TRAFFIC_DESCRIPTOR_IE(one[0], one[1], BestEffort=category == P.ATM_SERVICE_CATEGORY_UBR)


def _category_of_td(td: P.ATM_TRAFFIC_DESCRIPTOR_IE) -> int:
    if td.BestEffort:
        return P.ATM_SERVICE_CATEGORY_UBR
    if _given(td.ForwardTD.SustainableCellRateCLP01, 32) or _given(td.ForwardTD.SustainableCellRateCLP0, 32):
        return P.ATM_SERVICE_CATEGORY_VBR
    return P.ATM_SERVICE_CATEGORY_CBR


def _pick(*values: int) -> int:
    for value in values:
        if _given(value, 32):
            return value
    return 0


def _wire_flow(td: P.ATM_TRAFFIC_DESCRIPTOR | None) -> _Flow:
    if td is None:
        return _Flow()
    return _Flow(_pick(td.PeakCellRateCLP01, td.PeakCellRateCLP0),
                 _pick(td.SustainableCellRateCLP01, td.SustainableCellRateCLP0),
                 _pick(td.MaximumBurstSizeCLP01, td.MaximumBurstSizeCLP0))


# --------------------------------------------------------------------------------------------------------------
# to_uni


@dataclass
class UniElements:
    """The elements :func:`to_uni` made from a call's parameters, by role; :meth:`setup` and
    :meth:`add_party` put them in a message, in the order of the standard's contents table (Q.2931 3.1.7,
    Q.2971 9.1.1), the raw elements last.

    ``traffic``, ``bearer``, ``qos``, ``connection_id`` and ``lij_call_id`` go in SETUP only. ``not_carried``
    names every value of the parameters that no element carries (with the reason)."""

    called: InformationElement | None  # None when an IE_Raw is the called party number
    multipoint: bool = False
    calling: InformationElement | None = None
    called_sub: InformationElement | None = None
    calling_sub: InformationElement | None = None
    aal: InformationElement | None = None
    traffic: InformationElement | None = None
    bearer: InformationElement | None = None
    qos: InformationElement | None = None
    bhli: InformationElement | None = None
    blli: list[InformationElement] = field(default_factory=list)
    transit_network: InformationElement | None = None
    sending_complete: InformationElement | None = None
    lij_call_id: InformationElement | None = None
    connection_id: InformationElement | None = None
    raw: list[InformationElement] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)

    def setup(self, call_ref: int, *, endpoint_ref: int | None = -1, flag: int = 0) -> Q2931:
        """SETUP (Q.2931 3.1.7). A point-to-multipoint call carries endpoint reference 0, the first party
        (Q.2971 9.1.6: the default here), a point-to-point one none."""
        if self.traffic is None and not self._raw(IEId.ATM_TRAFFIC_DESCRIPTOR) or self.bearer is None and not \
                self._raw(IEId.BROADBAND_BEARER_CAPABILITY) or self.qos is None and not self._raw(IEId.QOS_PARAMETER):
            raise CallParameterError("UniElements", self, "traffic, bearer and qos for a SETUP (from to_uni with "
                                     "MessageType.SETUP)", clause="Q.2931 3.1.7: mandatory elements")
        if endpoint_ref == -1:
            endpoint_ref = 0 if self.multipoint else None
        repeat = B.repeat_indicator() if len(self.blli) > 1 else None
        ies = [self.aal, self.traffic, self.bearer, self.bhli, repeat, *self.blli, self.called, self.called_sub,
               self.calling, self.calling_sub, self.connection_id, self.qos, self.sending_complete,
               self.transit_network, None if endpoint_ref is None else B.endpoint_reference(endpoint_ref, flag),
               self.lij_call_id]
        return _message(SetupMessage, call_ref, flag, ies + self.raw)

    def add_party(self, call_ref: int, endpoint_ref: int, *, flag: int = 0) -> Q2931:
        """ADD PARTY (Q.2971 9.1.1) for endpoint ``endpoint_ref`` of call ``call_ref``."""
        if len(self.blli) > 1:
            raise CallParameterError("UniElements.blli", len(self.blli), "at most one BLLI in ADD PARTY",
                                     clause="Q.2971 9.1.1")
        ies = [self.aal, self.bhli, *self.blli, self.called, self.called_sub, self.calling, self.calling_sub,
               self.sending_complete, self.transit_network, B.endpoint_reference(endpoint_ref, flag)]
        return _message(AddPartyMessage, call_ref, flag, ies + self.raw)

    def _raw(self, identifier: int) -> bool:
        return any(bytes(r)[0] == identifier for r in self.raw)


def _message(cls: type, call_ref: int, flag: int, ies: list) -> Q2931:
    return cls(call_ref=_uint("call_ref", call_ref, 23, "Q.2931 4.3"), call_ref_flag=_uint("flag", flag, 1),
               ies=[ie for ie in ies if ie is not None])


_REQUEST_TYPES = (MessageType.SETUP, MessageType.ADD_PARTY)
_IE_NAMES = {t: t.name for t in Q2931_IE_TYPE}


def _sort_elements(q: Q2931_CALLMGR_PARAMETERS) -> tuple[dict, list, list]:
    """The InfoElements by type: {type: (where, payload)} for the single ones, the BLLIs, the raw elements."""
    single: dict[int, tuple[str, Any]] = {}
    bllis: list[tuple[str, Any]] = []
    raws: list[tuple[str, InformationElement]] = []
    elements = _is("Q2931_CALLMGR_PARAMETERS.InfoElements", q.InfoElements, list)
    for i, ie in enumerate(elements):
        at = f"Q2931_CALLMGR_PARAMETERS.InfoElements[{i}]"
        _is(at, ie, Q2931_IE)
        try:
            kind = Q2931_IE_TYPE(ie.IEType)
        except ValueError:
            raise CallParameterError(f"{at}.IEType", ie.IEType, "a Q2931_IE_TYPE") from None
        if kind & (P.ATM_IE_RESPONSE_FLAG | P.ATM_IE_EMPTY_FLAG):
            continue  # a buffer for the call manager's answer (atm.h IE_*_Empty, IE_*_Response), not a request
        if kind is T.IE_NextRequest:
            raise CallParameterError(f"{at}.IEType", kind, "a request IE type (IE_NextRequest is a marker)")
        where = f"{at}({kind.name})"
        _is(f"{at}.IE", ie.IE, P.IE_PAYLOAD_TYPES[kind])
        if kind is T.IE_Raw:
            raws.append((where, raw_ie(ie.IE, where)))
        elif kind is T.IE_BLLI:
            bllis.append((where, ie.IE))
        elif kind in single:
            raise CallParameterError(f"{at}.IEType", kind.name, f"one {kind.name} per call (the first is "
                                     f"{single[kind][0]})", clause="Q.2931 3.1.7, Q.2971 9.1.1")
        else:
            single[kind] = (where, ie.IE)
    return single, bllis, raws


def to_uni(params: CO_CALL_PARAMETERS, *, message: int = MessageType.SETUP,
           line_rate: int = OC3C_CELL_RATE) -> UniElements:
    """The Q.2931 elements of the SETUP (``message=MessageType.SETUP``, NdisClMakeCall) or ADD PARTY
    (``MessageType.ADD_PARTY``, NdisClAddParty) that ``params`` ask for; see the module documentation for
    where each element comes from. ``line_rate`` (cells/s) is the peak cell rate of a best effort call
    nobody gave a rate for. Raises :class:`CallParameterError` naming the field of a value that cannot be sent."""
    params = _is("CO_CALL_PARAMETERS", params, CO_CALL_PARAMETERS)
    try:
        message = MessageType(message)
    except ValueError:
        message = None
    if message not in _REQUEST_TYPES:
        raise FieldError("message", message, "MessageType.SETUP or MessageType.ADD_PARTY")
    q = params.q2931
    if q is None:
        raise CallParameterError("CO_CALL_PARAMETERS.CallMgrParameters.CallMgrSpecific", params.CallMgrParameters,
                                 "ParamType CALLMGR_SPECIFIC_Q2931 with a Q2931_CALLMGR_PARAMETERS", clause="atm.h")
    flags = _uint("CO_CALL_PARAMETERS.Flags", params.Flags, 32)
    multipoint = bool(flags & P.MULTIPOINT_VC)
    media = params.atm_media
    setup = message is MessageType.SETUP
    single, bllis, raws = _sort_elements(q)
    raw_ids = {}
    for where, element in raws:
        raw_ids.setdefault(bytes(element)[0], where)
    notes: list[str] = []

    def typed(kind: int) -> tuple[str, Any] | tuple[None, None]:
        where, payload = single.get(kind, (None, None))
        identifier = P.Q2931_IE_IDENTIFIERS[kind]
        if where is not None and identifier in raw_ids:
            raise CallParameterError(where, payload, f"a single element 0x{identifier:02X}: {raw_ids[identifier]} "
                                     "is one too", clause="Q.2931 3.1.7, Q.2971 9.1.1")
        return where, payload

    def by_raw(identifier: int) -> bool:
        return identifier in raw_ids

    # -- addresses
    where, ie = typed(T.IE_CalledPartyNumber)
    if where is not None:
        called = called_party_ie(ie, where)
        if q.CalledParty.NumberOfDigits and q.CalledParty != ie:
            notes.append(f"Q2931_CALLMGR_PARAMETERS.CalledParty={q.CalledParty}: overridden by {where} (atm.h: "
                         "\"if present, this IE overrides the Called Address\")")
    elif by_raw(IEId.CALLED_PARTY_NUMBER):
        called = None
    else:
        if not q.CalledParty.NumberOfDigits:
            raise CallParameterError("Q2931_CALLMGR_PARAMETERS.CalledParty", q.CalledParty, "the called address",
                                     clause="Q.2931 3.1.7, Q.2971 9.1.1: the called party number is mandatory")
        called = called_party_ie(q.CalledParty, "Q2931_CALLMGR_PARAMETERS.CalledParty")
    out = UniElements(called=called, multipoint=multipoint, not_carried=notes)
    where, ie = typed(T.IE_CallingPartyNumber)
    if where is not None:
        out.calling = calling_party_ie(_is(f"{where}.Number", ie.Number, ATM_ADDRESS), f"{where}.Number",
                                       presentation=ie.PresentationIndication, screening=ie.ScreeningIndicator)
        if q.CallingParty.NumberOfDigits and q.CallingParty != ie.Number:
            notes.append(f"Q2931_CALLMGR_PARAMETERS.CallingParty={q.CallingParty}: overridden by {where}")
    elif _is("Q2931_CALLMGR_PARAMETERS.CallingParty", q.CallingParty, ATM_ADDRESS).NumberOfDigits \
            and not by_raw(IEId.CALLING_PARTY_NUMBER):
        out.calling = calling_party_ie(q.CallingParty, "Q2931_CALLMGR_PARAMETERS.CallingParty")
    for kind, cls, slot in ((T.IE_CalledPartySubaddress, CalledPartySubaddressIE, "called_sub"),
                            (T.IE_CallingPartySubaddress, CallingPartySubaddressIE, "calling_sub")):
        where, ie = typed(kind)
        if where is not None:
            setattr(out, slot, _subaddress(ie, where, cls))

    # -- AAL, BHLI, BLLI, TNS, sending complete, LIJ
    where, aal = typed(T.IE_AALParameters)
    if where is not None:
        out.aal = aal_ie(aal, where)
    elif setup and media is not None and not by_raw(IEId.AAL_PARAMETERS):
        out.aal = _aal_from_media(media)
    where, ie = typed(T.IE_BHLI)
    if where is not None:
        out.bhli = bhli_ie(ie, where)
    limit = 3 if setup else 1
    if len(bllis) + (IEId.BROADBAND_LOW_LAYER_INFORMATION in raw_ids) > limit:
        raise CallParameterError(bllis[-1][0] if bllis else "IE_Raw", len(bllis), f"at most {limit} BLLI in "
                                 f"{message.name.replace('_', ' ')}",
                                 clause="Q.2931 4.5.19" if setup else "Q.2971 9.1.1")
    out.blli = [blli_ie(ie, where, notes) for where, ie in bllis]
    where, ie = typed(T.IE_TransitNetworkSelection)
    if where is not None:
        out.transit_network = transit_network_ie(ie, where)
    where, ie = typed(T.IE_BroadbandSendingComplete)
    if where is not None:
        _is(where, ie, P.ATM_BROADBAND_SENDING_COMPLETE_IE)
        if ie.SendingComplete != 0x80 | SENDING_COMPLETE_INDICATION:
            raise CallParameterError(f"{where}.SendingComplete", ie.SendingComplete, "0xA1",
                                     clause="Q.2931 4.5.21: the only coding of the indication")
        out.sending_complete = B.sending_complete()
    where, ie = typed(T.IE_Cause)
    if where is not None:
        raise CallParameterError(where, ie, "no Cause in a request: SETUP and ADD PARTY carry none (use "
                                 "IE_Cause_Empty for a buffer that receives the answer's cause)",
                                 clause="Q.2931 3.1.7, Q.2971 9.1.1")
    where, ie = typed(T.IE_LIJCallId)
    if where is not None:
        out.lij_call_id = lij_call_id_ie(ie, where)

    # -- traffic descriptor, bearer capability, QoS, connection identifier
    td_where, td = typed(T.IE_TrafficDescriptor)
    bbc_where, bbc = typed(T.IE_BroadbandBearerCapability)
    qos_where, qos = typed(T.IE_QOSClass)
    if td_where is not None:
        out.traffic = traffic_descriptor_ie(td, td_where, require_pcr=setup)
    if bbc_where is not None:
        out.bearer = bearer_capability_ie(bbc, bbc_where)
    if qos_where is not None:
        out.qos = qos_ie(qos, qos_where)
    if setup:
        _complete_setup(out, params, media, td, bbc, multipoint, line_rate, raw_ids, bbc_where, td_where)
    else:
        for element, what in ((out.traffic, "traffic descriptor"), (out.bearer, "broadband bearer capability"),
                              (out.qos, "QoS parameter"), (out.lij_call_id, "LIJ call identifier")):
            if element is not None:
                notes.append(f"{what}: ADD PARTY does not carry it (Q.2971 9.1.1); the MCM's per-party traffic "
                             "policy decides")
        if media is not None:
            notes.append("ATM_MEDIA_PARAMETERS: ADD PARTY does not carry them (Q.2971 9.1.1): the VC's are fixed "
                         "by its SETUP")
    if media is not None:
        _note_media(notes, media)
    out.raw = [element for _, element in raws]
    return out


def _aal_from_media(media: ATM_MEDIA_PARAMETERS) -> AALParametersIE | None:
    where = "ATM_MEDIA_PARAMETERS"
    if media.AALType != P.AAL_TYPE_AAL5:
        return None
    fwd = _uint(f"{where}.Transmit.MaxSduSize", media.Transmit.MaxSduSize, 32)
    bwd = _uint(f"{where}.Receive.MaxSduSize", media.Receive.MaxSduSize, 32)
    if not fwd and not bwd:
        return None
    aal = P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS(fwd, bwd, SAP_FIELD_ABSENT_UCHAR))
    try:
        return aal_ie(aal, where)
    except CallParameterError as exc:  # name the media field, not the element made from it
        name = "Transmit" if "Forward" in exc.field else "Receive"
        raise CallParameterError(f"{where}.{name}.MaxSduSize", exc.value, "at most 65535 octets",
                                 clause="Q.2931 4.5.5: 2-octet maximum CPCS-SDU sizes") from None


def _complete_setup(out: UniElements, params: CO_CALL_PARAMETERS, media: ATM_MEDIA_PARAMETERS | None,
                    td: P.ATM_TRAFFIC_DESCRIPTOR_IE | None, bbc: P.ATM_BROADBAND_BEARER_CAPABILITY_IE | None,
                    multipoint: bool, line_rate: int, raw_ids: dict, bbc_where: str | None,
                    td_where: str | None) -> None:
    """The mandatory SETUP elements the client did not give, and the checks that tie the rest together."""
    mw = "ATM_MEDIA_PARAMETERS"
    if media is not None:
        _is(f"{mw}.ConnectionId", media.ConnectionId, ATM_VPIVCI)
        tx = _flow_from_media(media.Transmit, f"{mw}.Transmit")
        rx = _flow_from_media(media.Receive, f"{mw}.Receive")
    else:
        tx = rx = _Flow()
    cm = params.CallMgrParameters
    spec_given = cm is not None and (cm.Transmit.PeakBandwidth != QOS_NOT_SPECIFIED
                                     or cm.Receive.PeakBandwidth != QOS_NOT_SPECIFIED)
    category = None
    if media is not None and (tx.pcr or rx.pcr):
        one = media.Transmit if tx.pcr else media.Receive
        category = one.ServiceCategory
        if tx.pcr and rx.pcr and media.Receive.ServiceCategory != media.Transmit.ServiceCategory:
            raise CallParameterError(f"{mw}.Receive.ServiceCategory", media.Receive.ServiceCategory,
                                     f"the Transmit service category {media.Transmit.ServiceCategory}: a call has "
                                     "one bearer capability", clause="Q.2931 4.5.7")
        source = "media"
    elif spec_given and td is None and IEId.ATM_TRAFFIC_DESCRIPTOR not in raw_ids:
        fw = "CO_CALL_MANAGER_PARAMETERS"
        category = _category_of_flowspec(cm.Transmit, f"{fw}.Transmit")
        back = _category_of_flowspec(cm.Receive, f"{fw}.Receive")
        category = category if category is not None else back
        if category is None:
            raise CallParameterError(f"{fw}.Transmit.ServiceType", cm.Transmit.ServiceType,
                                     "traffic in one direction at least")
        tx = _flow_from_flowspec(cm.Transmit, f"{fw}.Transmit", category)
        rx = _flow_from_flowspec(cm.Receive, f"{fw}.Receive", category)
        source = "flowspec"
    else:
        source = None
    if td is not None:
        if media is not None:  # the adapter shapes at the media rates: they must be the ones signalled
            for name, flow, wire in (("Transmit", tx, td.ForwardTD), ("Receive", rx, td.BackwardTD)):
                signalled = _wire_flow(wire).pcr
                if source == "media" and flow.pcr and signalled and flow.pcr != signalled:
                    raise CallParameterError(f"{mw}.{name}.PeakCellRate", flow.pcr, f"the peak cell rate {signalled} "
                                             f"of {td_where}", clause="one VC, one rate: the adapter shapes at it")
        if category is None:
            category = _category_of_td(td)
    elif not any(i == IEId.ATM_TRAFFIC_DESCRIPTOR for i in raw_ids):
        if source is None:
            category = P.ATM_SERVICE_CATEGORY_UBR
            tx, rx = _line_rate_flows(cm, multipoint, line_rate)
        where, names = (mw, _MEDIA_NAMES) if source == "media" else ("CO_CALL_MANAGER_PARAMETERS", _FLOWSPEC_NAMES)
        out.traffic = traffic_descriptor_ie(_td_from_flows(category, tx, rx, where, names),
                                            "derived traffic descriptor")
    if category is None:
        category = P.ATM_SERVICE_CATEGORY_UBR
    derive_bearer = bbc is None and IEId.BROADBAND_BEARER_CAPABILITY not in raw_ids
    derive_qos = out.qos is None and IEId.QOS_PARAMETER not in raw_ids
    if category not in CATEGORY_DEFAULTS and (derive_bearer or derive_qos):
        direction = "Transmit" if tx.pcr else "Receive"
        raise CallParameterError(f"{mw}.{direction}.ServiceCategory", category, "CBR, VBR or UBR: ABR is not "
                                 "signalled by this UNI", clause="UNI 4.0 10.1.2")
    tt, tr, qos_class = CATEGORY_DEFAULTS.get(category, (0, 0, 0))
    if bbc is not None:
        want = P.UP_P2MP if multipoint else P.UP_P2P
        if bbc.UserPlaneConnectionConfig != want:
            raise CallParameterError(f"{bbc_where}.UserPlaneConnectionConfig", bbc.UserPlaneConnectionConfig,
                                     f"{'UP_P2MP' if multipoint else 'UP_P2P'}, as CO_CALL_PARAMETERS.Flags "
                                     f"{'has' if multipoint else 'lacks'} MULTIPOINT_VC", clause="Q.2931 4.5.7 octet 6")
    elif derive_bearer:
        out.bearer = bearer_capability_ie(P.ATM_BROADBAND_BEARER_CAPABILITY_IE(
            P.BCOB_X, tt, tr, P.CLIP_NOT, P.UP_P2MP if multipoint else P.UP_P2P), "derived bearer capability")
    if derive_qos:
        out.qos = B.qos_parameter(qos_class, qos_class)
    aal = out.aal
    if media is not None:
        if aal is not None and source == "media":  # media that describe a VC (rates given) describe its AAL too
            wire_type = _Q2931_AAL_TO_NDIS.get(aal.aal_type)
            if wire_type is not None and media.AALType != wire_type:
                raise CallParameterError(f"{mw}.AALType", media.AALType, f"AAL type {wire_type} of the AAL parameters "
                                         "element", clause="one VC, one AAL: the adapter's SAR runs it")
            if aal.aal_type in (AALType.AAL5, AALType.AAL3_4):
                for name, ident in (("Transmit", AALSubfield.FORWARD_MAX_CPCS_SDU_SIZE),
                                    ("Receive", AALSubfield.BACKWARD_MAX_CPCS_SDU_SIZE)):
                    size, wire = getattr(media, name).MaxSduSize, aal.subfield(ident)
                    if size and wire is not None and size != wire:
                        raise CallParameterError(f"{mw}.{name}.MaxSduSize", size, f"the maximum CPCS-SDU size {wire} "
                                                 "of the AAL parameters element", clause="Q.2931 4.5.5")
        vc = media.ConnectionId
        if vc.Vpi or vc.Vci:
            out.connection_id = connection_identifier_ie(vc, f"{mw}.ConnectionId")


def _line_rate_flows(cm: CO_CALL_MANAGER_PARAMETERS | None, multipoint: bool,
                     line_rate: int) -> tuple[_Flow, _Flow]:
    """Best effort at the line rate, the request of a client that gave no rate: in each direction whose
    FLOWSPEC says best effort (SERVICETYPE_NOTRAFFIC: none), never backward to the root of a point-to-multipoint
    call (Q.2971: the leaves send nothing to the root)."""
    rate = _uint("line_rate", line_rate, 24, "Q.2931 4.5.6: 3-octet cell rates")
    rates = []
    for direction in ("Transmit", "Receive"):
        kind = getattr(cm, direction).ServiceType if cm is not None else P.SERVICETYPE_BESTEFFORT
        if kind not in (P.SERVICETYPE_BESTEFFORT, P.SERVICETYPE_NOTRAFFIC):
            raise CallParameterError(f"CO_CALL_MANAGER_PARAMETERS.{direction}.PeakBandwidth", QOS_NOT_SPECIFIED,
                                     "a peak bandwidth (or IE_TrafficDescriptor, or ATM_MEDIA_PARAMETERS rates) for a "
                                     "service other than best effort", clause="Q.2931 4.5.6")
        rates.append(rate if kind == P.SERVICETYPE_BESTEFFORT else 0)
    if multipoint:
        rates[1] = 0
    if not rates[0] and not rates[1]:
        raise CallParameterError("CO_CALL_MANAGER_PARAMETERS.Transmit.ServiceType", P.SERVICETYPE_NOTRAFFIC,
                                 "traffic in one direction at least")
    return _Flow(rates[0]), _Flow(rates[1])


def _note_media(notes: list[str], media: ATM_MEDIA_PARAMETERS) -> None:
    for name in ("CellDelayVariationCLP0", "CellDelayVariationCLP1", "CellLossRatioCLP0", "CellLossRatioCLP1",
                 "CellTransferDelayCLP0", "CellTransferDelayCLP1"):
        if getattr(media, name):
            notes.append(f"ATM_MEDIA_PARAMETERS.{name}={getattr(media, name)}: Q.2931 signals QoS classes only "
                         "(4.5.18); the UNI 4.0 extended QoS parameters are not signalled here")
    for direction in ("Transmit", "Receive"):
        flow = getattr(media, direction)
        for name in ("MinimumCellRate", "InitialCellRate", "TransientBufferExposure", "CumulativeRMFixedRTT"):
            if getattr(flow, name):
                notes.append(f"ATM_MEDIA_PARAMETERS.{direction}.{name}={getattr(flow, name)}: an ABR parameter; "
                             "the UNI 4.0 ABR elements are not signalled here")


def setup(params: CO_CALL_PARAMETERS, call_ref: int, *, endpoint_ref: int | None = -1, flag: int = 0,
          line_rate: int = OC3C_CELL_RATE) -> Q2931:
    """The SETUP for NdisClMakeCall's ``params``: ``to_uni(params).setup(call_ref, ...)``."""
    return to_uni(params, line_rate=line_rate).setup(call_ref, endpoint_ref=endpoint_ref, flag=flag)


def add_party(params: CO_CALL_PARAMETERS, call_ref: int, endpoint_ref: int, *, flag: int = 0) -> Q2931:
    """The ADD PARTY for NdisClAddParty's ``params``: ``to_uni(params, message=ADD_PARTY).add_party(...)``."""
    return to_uni(params, message=MessageType.ADD_PARTY).add_party(call_ref, endpoint_ref, flag=flag)


# --------------------------------------------------------------------------------------------------------------
# wire -> NDIS, one element at a time: the atm.h structure, or None when it cannot hold the element.


def _subfields(ie, allowed: set[int]) -> dict[int, int | None] | None:
    values: dict[int, int | None] = {}
    for ident, value in ie.subfields or ():
        if ident not in allowed or ident in values:
            return None
        values[ident] = value
    return None if ie.tail else values


def address_from_ie(ie: CalledPartyNumberIE | CallingPartyNumberIE) -> ATM_ADDRESS | None:
    """The ATM_ADDRESS of a party number: NSAP plan with type unknown and 20 octets, or E.164 plan with type
    international and IA5 digits (the two forms :func:`called_party_ie` sends). None for anything else."""
    address = bytes(ie.address or b"")
    if ie.numbering_plan == NumberingPlan.NSAP and ie.number_type == NumberType.UNKNOWN and len(address) == AESA_OCTETS:
        return ATM_ADDRESS.nsap(address)
    if ie.numbering_plan == NumberingPlan.E164 and ie.number_type == NumberType.INTERNATIONAL \
            and 1 <= len(address) <= 15 and address.isdigit():
        return ATM_ADDRESS(P.ATM_E164, len(address), address)
    return None


def _subaddress_from(ie) -> ATM_ADDRESS | None:
    sub = bytes(ie.subaddress or b"")
    if ie.subaddress_type != SubaddressType.NSAP or ie.odd_even or ie.spare or len(sub) > 20:
        return None
    return ATM_ADDRESS(P.ATM_NSAP, len(sub), sub)


def aal_from_ie(ie: AALParametersIE) -> P.AAL_PARAMETERS_IE | None:
    """AAL_PARAMETERS_IE of an AAL parameters element; None for what atm.h cannot hold (a user-defined or
    AAL 2 type, a subfield of another AAL, a repeated subfield, an unknown subfield, a missing size)."""
    s = AALSubfield
    if ie.aal_type == AALType.AAL5:
        v = _subfields(ie, {s.FORWARD_MAX_CPCS_SDU_SIZE, s.BACKWARD_MAX_CPCS_SDU_SIZE, s.MODE, s.SSCS_TYPE})
        if v is None or s.FORWARD_MAX_CPCS_SDU_SIZE not in v or s.BACKWARD_MAX_CPCS_SDU_SIZE not in v:
            return None
        if v.get(s.MODE, P.AAL5_MODE_MESSAGE) not in (P.AAL5_MODE_MESSAGE, P.AAL5_MODE_STREAMING):
            return None
        return P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS(
            v[s.FORWARD_MAX_CPCS_SDU_SIZE], v[s.BACKWARD_MAX_CPCS_SDU_SIZE], v.get(s.MODE, SAP_FIELD_ABSENT_UCHAR),
            v.get(s.SSCS_TYPE, SAP_FIELD_ABSENT_UCHAR)))
    if ie.aal_type == AALType.AAL3_4:
        v = _subfields(ie, {s.FORWARD_MAX_CPCS_SDU_SIZE, s.BACKWARD_MAX_CPCS_SDU_SIZE, s.MID_RANGE, s.SSCS_TYPE})
        if v is None or s.FORWARD_MAX_CPCS_SDU_SIZE not in v or s.BACKWARD_MAX_CPCS_SDU_SIZE not in v:
            return None
        mid = v.get(s.MID_RANGE)
        low, high = (SAP_FIELD_ABSENT_USHORT, SAP_FIELD_ABSENT_USHORT) if mid is None else (mid >> 16, mid & 0xFFFF)
        if mid is not None and SAP_FIELD_ABSENT_USHORT in (low, high):
            return None
        return P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL34, P.AAL34_PARAMETERS(
            v[s.FORWARD_MAX_CPCS_SDU_SIZE], v[s.BACKWARD_MAX_CPCS_SDU_SIZE], low, high,
            v.get(s.SSCS_TYPE, SAP_FIELD_ABSENT_UCHAR)))
    if ie.aal_type == AALType.AAL1:
        v = _subfields(ie, {s.AAL1_SUBTYPE, s.AAL1_CBR_RATE, s.AAL1_MULTIPLIER, s.AAL1_SOURCE_CLOCK_RECOVERY,
                            s.AAL1_ERROR_CORRECTION, s.AAL1_STRUCTURED_DATA_TRANSFER_BLOCKSIZE,
                            s.AAL1_PARTIALLY_FILLED_CELLS})
        if v is None or s.AAL1_SUBTYPE not in v or s.AAL1_CBR_RATE not in v:
            return None
        if v.get(s.AAL1_MULTIPLIER) == 0 or v.get(s.AAL1_STRUCTURED_DATA_TRANSFER_BLOCKSIZE) == 0:
            return None  # atm.h: zero means absent for these two
        if SAP_FIELD_ABSENT_UCHAR in (v.get(s.AAL1_SOURCE_CLOCK_RECOVERY), v.get(s.AAL1_ERROR_CORRECTION),
                                      v.get(s.AAL1_PARTIALLY_FILLED_CELLS)):
            return None
        return P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL1, P.AAL1_PARAMETERS(
            v[s.AAL1_SUBTYPE], v[s.AAL1_CBR_RATE], v.get(s.AAL1_MULTIPLIER, 0),
            v.get(s.AAL1_SOURCE_CLOCK_RECOVERY, SAP_FIELD_ABSENT_UCHAR),
            v.get(s.AAL1_ERROR_CORRECTION, SAP_FIELD_ABSENT_UCHAR),
            v.get(s.AAL1_STRUCTURED_DATA_TRANSFER_BLOCKSIZE, 0),
            v.get(s.AAL1_PARTIALLY_FILLED_CELLS, SAP_FIELD_ABSENT_UCHAR)))
    return None


def traffic_from_ie(ie: ATMTrafficDescriptorIE) -> P.ATM_TRAFFIC_DESCRIPTOR_IE | None:
    """ATM_TRAFFIC_DESCRIPTOR_IE of a traffic descriptor element; None for a repeated or unknown subfield or
    a traffic management option other than tagging."""
    values = _subfields(ie, set(_TD_BY_ID) | {TrafficSubfield.BEST_EFFORT, TrafficSubfield.TRAFFIC_MANAGEMENT_OPTIONS})
    if values is None:
        return None
    forward, backward = P.ATM_TRAFFIC_DESCRIPTOR(), P.ATM_TRAFFIC_DESCRIPTOR()
    for ident, value in values.items():
        if ident in _TD_BY_ID:
            name, is_forward = _TD_BY_ID[ident]
            setattr(forward if is_forward else backward, name, value)
    options = values.get(TrafficSubfield.TRAFFIC_MANAGEMENT_OPTIONS, 0)
    if options & ~(TAGGING_FORWARD | TAGGING_BACKWARD):
        return None
    forward.Tagging, backward.Tagging = bool(options & TAGGING_FORWARD), bool(options & TAGGING_BACKWARD)
    return P.ATM_TRAFFIC_DESCRIPTOR_IE(forward, backward, TrafficSubfield.BEST_EFFORT in values)


def bearer_from_ie(ie: BroadbandBearerCapabilityIE) -> P.ATM_BROADBAND_BEARER_CAPABILITY_IE | None:
    """ATM_BROADBAND_BEARER_CAPABILITY_IE; None for the transparent VP class, an ATC above 0x1F, a reserved
    clipping or user-plane value."""
    bearer_class = _Q2931_BEARER_TO_NDIS.get(ie.bearer_class)
    if bearer_class is None or ie.clipping not in (0, 1) or ie.up_config not in (0, 1) or ie.spare5 or ie.spare6:
        return None
    if ie.atc is None:
        tt = tr = SAP_FIELD_ABSENT_UCHAR
    elif ie.atc & ~0x1F:
        return None
    else:
        tt, tr = ie.atc & 0x1C, ie.atc & 0x03
    return P.ATM_BROADBAND_BEARER_CAPABILITY_IE(bearer_class, tt, tr, P.CLIP_SUS if ie.clipping else P.CLIP_NOT,
                                                ie.up_config)


def blli_from_ie(ie: BroadbandLowLayerInformationIE) -> P.ATM_BLLI_IE | None:
    """ATM_BLLI_IE; None when the element has what atm.h cannot hold (a layer 1 octet, extension octets of
    another form than :func:`blli_ie` writes for the protocol, trailing octets)."""
    if ie.l1_protocol is not None or ie.tail:
        return None
    out = P.ATM_BLLI_IE()
    l2, ext = ie.l2_protocol, bytes(ie.l2_extension or b"")
    if l2 is not None:
        out.Layer2Protocol = l2
        if l2 in L2_PROTOCOLS_WITH_MODE and ext:
            if ext[0] & 0x1F or (ext[0] >> 5) & 3 not in (1, 2) or len(ext) > 2:
                return None
            out.Layer2Mode = ((ext[0] >> 5) & 3) << 6
            if len(ext) == 2:
                if not 1 <= ext[1] & 0x7F:
                    return None
                out.Layer2WindowSize = ext[1] & 0x7F
        elif l2 == P.BLLI_L2_USER_SPECIFIED and ext:
            if len(ext) != 1:
                return None
            out.Layer2UserSpecifiedProtocol = ext[0] & 0x7F
        elif ext:
            return None
    l3, ext = ie.l3_protocol, bytes(ie.l3_extension or b"")
    if l3 is not None:
        out.Layer3Protocol = l3
        if l3 in L3_PROTOCOLS_WITH_MODE and ext:
            if ext[0] & 0x1F or (ext[0] >> 5) & 3 not in (1, 2):
                return None
            out.Layer3Mode = ((ext[0] >> 5) & 3) << 6
            if len(ext) >= 2:
                if ext[1] & 0x70 or not 4 <= ext[1] & 0x0F <= 12:
                    return None
                out.Layer3DefaultPacketSize = ext[1] & 0x0F
            if len(ext) == 3:
                if not 1 <= ext[2] & 0x7F:
                    return None
                out.Layer3PacketWindowSize = ext[2] & 0x7F
        elif l3 == Layer3Protocol.ISO_TR_9577:
            if len(ext) != 2 or ext[1] & 0x3F:
                return None
            out.Layer3IPI = ie.ipi
            if ie.ipi == P.BLLI_L3_IPI_SNAP:
                out.SnapId = ie.snap_oui.to_bytes(3, "big") + ie.snap_pid.to_bytes(2, "big")
        elif l3 == P.BLLI_L3_USER_SPECIFIED and ext:
            if len(ext) != 1:
                return None
            out.Layer3UserSpecifiedProtocol = ext[0] & 0x7F
        elif ext:
            return None
    return out


def connection_id_from_ie(ie: ConnectionIdentifierIE) -> ATM_VPIVCI:
    """ATM_MEDIA_PARAMETERS.ConnectionId of a connection identifier: Vpi = VPCI, Vci = VCI (Q.2931 4.5.16; this
    UNI maps VPCI to VPI one to one)."""
    return ATM_VPIVCI(int(ie.vpci), int(ie.vci))


def atm_cause_from_ie(ie: CauseIE) -> P.ATM_CAUSE_IE:
    """ATM_CAUSE_IE of a cause element."""
    diagnostics = bytes(ie.diagnostics or b"")
    return P.ATM_CAUSE_IE(int(ie.location), int(ie.cause_value), len(diagnostics), diagnostics)


def _typed_from(element: InformationElement) -> tuple[int, Any] | None:
    """(Q2931_IE_TYPE, payload) of one received element, or None when atm.h cannot hold it."""
    if isinstance(element, AALParametersIE):
        payload = aal_from_ie(element)
        return None if payload is None else (T.IE_AALParameters, payload)
    if isinstance(element, ATMTrafficDescriptorIE):
        payload = traffic_from_ie(element)
        return None if payload is None else (T.IE_TrafficDescriptor, payload)
    if isinstance(element, BroadbandBearerCapabilityIE):
        payload = bearer_from_ie(element)
        return None if payload is None else (T.IE_BroadbandBearerCapability, payload)
    if isinstance(element, BroadbandHighLayerInformationIE):
        info = bytes(element.info or b"")
        return None if len(info) > 8 else (T.IE_BHLI, P.ATM_BHLI_IE(int(element.hli_type), len(info), info))
    if isinstance(element, BroadbandLowLayerInformationIE):
        payload = blli_from_ie(element)
        return None if payload is None else (T.IE_BLLI, payload)
    if isinstance(element, (CalledPartySubaddressIE, CallingPartySubaddressIE)):
        payload = _subaddress_from(element)
        called = isinstance(element, CalledPartySubaddressIE)
        kind = T.IE_CalledPartySubaddress if called else T.IE_CallingPartySubaddress
        return None if payload is None else (kind, payload)
    if isinstance(element, QoSParameterIE):
        return T.IE_QOSClass, P.ATM_QOS_CLASS_IE(int(element.qos_forward), int(element.qos_backward))
    if isinstance(element, TransitNetworkSelectionIE):
        network = bytes(element.network_id or b"")
        return T.IE_TransitNetworkSelection, P.ATM_TRANSIT_NETWORK_SELECTION_IE(
            int(element.network_id_type) << 5, int(element.network_id_plan), len(network), network)
    if isinstance(element, BroadbandSendingCompleteIE):
        if element.indication != SENDING_COMPLETE_INDICATION:
            return None
        return T.IE_BroadbandSendingComplete, P.ATM_BROADBAND_SENDING_COMPLETE_IE()
    if isinstance(element, LIJCallIdentifierIE):
        if element.lij_id_type != 0 or element.spare:
            return None
        return T.IE_LIJCallId, P.ATM_LIJ_CALLID_IE(int(element.lij_id_value))
    if isinstance(element, CauseIE):
        return T.IE_Cause, atm_cause_from_ie(element)
    return None


def _as_message(msg: object) -> Q2931:
    """A dissected scapy message from a scapy message (built or dissected), a fast-codec message or bytes.
    The header is checked as a receiver does (Q.2931 5.6.1-5.6.3: MessageIgnored); element problems are not
    errors here: such elements are kept raw, as received."""
    if isinstance(msg, (bytes, bytearray)):
        data = bytes(msg)
    elif isinstance(msg, FastMessage):
        data = fast_encode(msg)
    elif isinstance(msg, Q2931):
        data = bytes(msg)
    else:
        raise FieldError("msg", msg, "a Q.2931 message (scapy, fast codec or bytes)")
    check_header_octets(data)
    message = Q2931(data)
    if type(message) is Q2931:
        raise UnknownMessageType(message.message_type, unknown_message_disposition(message.instruction))
    return message


@dataclass
class _Received:
    called: ATM_ADDRESS | None = None
    calling: ATM_ADDRESS | None = None
    elements: list[Q2931_IE] = field(default_factory=list)
    raw: list[Q2931_IE] = field(default_factory=list)
    connection_id: ATM_VPIVCI | None = None

    def first(self, kind: int) -> Any:
        for ie in self.elements:
            if ie.IEType == kind:
                return ie.IE
        return None


def _raw(element: InformationElement) -> Q2931_IE:
    data = bytes(element)
    return Q2931_IE(T.IE_Raw, P.ATM_RAW_IE(data[0], data))


#: How many of one element type a message may carry (Q.2931 4.5.19: 3 BLLIs; 3.1.8: 2 causes).
_REPEATABLE = {T.IE_BLLI: 3, T.IE_Cause: 2}


def _read(msg: Q2931) -> _Received:
    out = _Received()
    for element in msg.ies:
        data = bytes(element)
        identifier = data[0]
        if getattr(element, "problems", None) or not is_recognised(element) or len(data) == 4:
            out.raw.append(_raw(element))  # malformed, unknown or empty: kept exactly as received
            continue
        if identifier in _CONTROL_IES:
            continue
        if isinstance(element, ConnectionIdentifierIE) and out.connection_id is None:
            out.connection_id = connection_id_from_ie(element)
            continue
        if isinstance(element, CalledPartyNumberIE) and out.called is None:
            out.called = address_from_ie(element)
            if out.called is None:
                raise CallParameterError("Called party number", data, "an NSAP address (plan NSAP, type unknown, 20 "
                                         "octets) or an international E.164 number: what ATM_ADDRESS holds",
                                         clause="Q.2931 4.5.11", cause=CauseValue.INVALID_NUMBER_FORMAT,
                                         identifier=identifier)
            continue
        if isinstance(element, CallingPartyNumberIE) and out.calling is None:
            out.calling = address_from_ie(element)
            if out.calling is None:
                out.raw.append(_raw(element))
            elif element.presentation is not None:
                out.elements.append(Q2931_IE(T.IE_CallingPartyNumber, P.ATM_CALLING_PARTY_NUMBER_IE(
                    out.calling, int(element.presentation), int(element.screening))))
            continue
        typed = _typed_from(element)
        if typed is None or sum(ie.IEType == typed[0] for ie in out.elements) >= _REPEATABLE.get(typed[0], 1):
            out.raw.append(_raw(element))  # what atm.h cannot hold, or one more than the message may carry
            continue
        out.elements.append(Q2931_IE(*typed))
    out.elements.sort(key=lambda ie: int(ie.IEType))  # stable: the BLLIs keep their order of preference
    return out


def _flows_from_received(rx: _Received) -> tuple[ATM_FLOW_PARAMETERS, ATM_FLOW_PARAMETERS, int]:
    """(forward, backward) media flows and the AAL type the received elements describe."""
    td, bbc = rx.first(T.IE_TrafficDescriptor), rx.first(T.IE_BroadbandBearerCapability)
    aal = rx.first(T.IE_AALParameters)
    category = received_category(td, bbc)
    flows = []
    for index, one in enumerate((td.ForwardTD, td.BackwardTD) if td is not None else (None, None)):
        wire = _wire_flow(one)
        flow = ATM_FLOW_PARAMETERS(category, AverageCellRate=wire.scr, PeakCellRate=wire.pcr,
                                   BurstLengthCells=wire.mbs)
        member = aal.AALSpecificParameters if aal is not None else None
        if isinstance(member, (P.AAL5_PARAMETERS, P.AAL34_PARAMETERS)):
            flow.MaxSduSize = member.ForwardMaxCPCSSDUSize if index == 0 else member.BackwardMaxCPCSSDUSize
        flows.append(flow)
    aal_type = aal.AALType if aal is not None else P.AAL_TYPE_AAL5
    return flows[0], flows[1], aal_type


def received_category(td: P.ATM_TRAFFIC_DESCRIPTOR_IE | None,
                      bbc: P.ATM_BROADBAND_BEARER_CAPABILITY_IE | None) -> int:
    """The ATM service category a received call asks for: UBR with the best effort indicator; else from the
    ATM transfer capability (octet 5a: CBR 0x04-0x07, VBR 0x08-0x0B and 0x13, ABR 0x0C); else bearer class A
    is CBR and C is VBR (UNI 3.1 5.4.5.7); else VBR when a sustainable cell rate is given, CBR otherwise."""
    if td is not None and td.BestEffort:
        return P.ATM_SERVICE_CATEGORY_UBR
    if bbc is not None and _given(bbc.TrafficType, 8):
        atc = bbc.TrafficType | bbc.TimingRequirements
        if atc == 0x0C:
            return P.ATM_SERVICE_CATEGORY_ABR
        if bbc.TrafficType == P.TT_CBR:
            return P.ATM_SERVICE_CATEGORY_CBR
        if bbc.TrafficType == P.TT_VBR or atc == 0x13:
            return P.ATM_SERVICE_CATEGORY_VBR
    if bbc is not None and bbc.BearerClass == P.BCOB_A:
        return P.ATM_SERVICE_CATEGORY_CBR
    if bbc is not None and bbc.BearerClass == P.BCOB_C:
        return P.ATM_SERVICE_CATEGORY_VBR
    if td is not None:
        return _category_of_td(td)
    return P.ATM_SERVICE_CATEGORY_UBR


def flowspec_from_flow(flow: ATM_FLOW_PARAMETERS) -> FLOWSPEC:
    """The generic FLOWSPEC of one local direction: PeakBandwidth = PCR x 48 octets/s, TokenRate = (SCR or PCR)
    x 48, TokenBucketSize = MBS x 48, MaxSduSize from the AAL; ServiceType by RFC 2381 (UBR best effort, CBR
    guaranteed, VBR and ABR controlled load), SERVICETYPE_NOTRAFFIC for a direction without cells."""
    if not flow.PeakCellRate:
        return FLOWSPEC(ServiceType=P.SERVICETYPE_NOTRAFFIC, PeakBandwidth=0, TokenRate=0,
                        MaxSduSize=flow.MaxSduSize or QOS_NOT_SPECIFIED)
    octets = CELL_PAYLOAD_OCTETS
    return FLOWSPEC(TokenRate=(flow.AverageCellRate or flow.PeakCellRate) * octets,
                    TokenBucketSize=flow.BurstLengthCells * octets if flow.BurstLengthCells else QOS_NOT_SPECIFIED,
                    PeakBandwidth=flow.PeakCellRate * octets,
                    ServiceType=CATEGORY_TO_SERVICETYPE[flow.ServiceCategory],
                    MaxSduSize=flow.MaxSduSize or QOS_NOT_SPECIFIED)


def _media_flags(media: ATM_MEDIA_PARAMETERS) -> int:
    return (P.TRANSMIT_VC if media.Transmit.PeakCellRate else 0) | (P.RECEIVE_VC if media.Receive.PeakCellRate else 0)


def from_uni(msg: object, *, side: Side | None = None, requested: CO_CALL_PARAMETERS | None = None
             ) -> CO_CALL_PARAMETERS:
    """Call parameters from a received message (scapy, fast codec or bytes).

    Without ``requested``: the parameters the message describes -- an incoming SETUP's for
    NdisMCmDispatchIncomingCall. Every element atm.h can hold becomes an explicit Q2931_IE (in Q2931_IE_TYPE
    order, BLLIs in order of preference), the rest IE_Raw as received; CalledParty and CallingParty hold the
    numbers, ATM_MEDIA_PARAMETERS (ConnectionId from the connection identifier, AAL type, flows) and the
    FLOWSPECs are derived; MULTIPOINT_VC is set for a point-to-multipoint bearer.

    With ``requested`` (the parameters of the pending NdisClMakeCall / NdisClAddParty): those parameters
    with what the answer (CONNECT, ADD PARTY ACKNOWLEDGE...) carries put in -- its elements replace the
    requested ones of the same type (a CONNECT's BLLI is the one the called user chose), its connection
    identifier becomes ConnectionId -- and CALL_PARAMETERS_CHANGED set when any value differs from the
    request (a network-assigned VPI/VCI, where the request left 0/0, is not a change).

    ``side``: :attr:`Side.CALLED` for SETUP and ADD PARTY, :attr:`Side.CALLING` for the answers, by default.
    Raises :class:`CallParameterError` with cause 28 for a called party number ATM_ADDRESS cannot hold."""
    message = _as_message(msg)
    if side is None:
        side = Side.CALLED if message.message_type in _RECEIVED_BY_CALLED else Side.CALLING
    received = _read(message)
    if requested is not None:
        return _merge(_is("requested", requested, CO_CALL_PARAMETERS), received, side)
    q = Q2931_CALLMGR_PARAMETERS(received.called or ATM_ADDRESS(), received.calling or ATM_ADDRESS(),
                                 received.elements + received.raw)
    forward, backward, aal_type = _flows_from_received(received)
    transmit, receive = (forward, backward) if side is Side.CALLING else (backward, forward)
    media = ATM_MEDIA_PARAMETERS(received.connection_id or ATM_VPIVCI(), aal_type, Transmit=transmit, Receive=receive)
    bbc = received.first(T.IE_BroadbandBearerCapability)
    flags = P.MULTIPOINT_VC if bbc is not None and bbc.UserPlaneConnectionConfig == P.UP_P2MP else 0
    cm = CO_CALL_MANAGER_PARAMETERS(flowspec_from_flow(transmit), flowspec_from_flow(receive),
                                    CO_SPECIFIC_PARAMETERS(P.CALLMGR_SPECIFIC_Q2931, q))
    mp = CO_MEDIA_PARAMETERS(_media_flags(media), 0, 0, CO_SPECIFIC_PARAMETERS(P.ATM_MEDIA_SPECIFIC, media))
    return CO_CALL_PARAMETERS(flags, cm, mp)


def _merge(requested: CO_CALL_PARAMETERS, received: _Received, side: Side) -> CO_CALL_PARAMETERS:
    out = copy.deepcopy(requested)
    q = out.q2931
    if q is None:
        raise CallParameterError("requested.CallMgrParameters.CallMgrSpecific", requested.CallMgrParameters,
                                 "ParamType CALLMGR_SPECIFIC_Q2931 with a Q2931_CALLMGR_PARAMETERS", clause="atm.h")
    changed = False
    for address, name in ((received.called, "CalledParty"), (received.calling, "CallingParty")):
        if address is not None and address != getattr(q, name):
            setattr(q, name, address)
            changed = True
    kinds = {int(ie.IEType) for ie in received.elements}
    for kind in sorted(kinds):
        new = [ie for ie in received.elements if ie.IEType == kind]
        old = [ie for ie in q.InfoElements if ie.IEType == kind]
        if new != old:
            changed = True
            at = next((i for i, ie in enumerate(q.InfoElements) if ie.IEType == kind), len(q.InfoElements))
            rest = [ie for ie in q.InfoElements if ie.IEType != kind]
            q.InfoElements = rest[:at] + new + rest[at:]
    for raw in received.raw:
        identifier = raw.IE.RawIEType
        old = [ie for ie in q.InfoElements if ie.IEType == T.IE_Raw and ie.IE.RawIEType == identifier]
        if old != [raw]:
            changed = True
            q.InfoElements = [ie for ie in q.InfoElements if ie not in old] + [raw]
    media = out.atm_media
    if media is None and received.connection_id is not None:
        mp = out.MediaParameters or CO_MEDIA_PARAMETERS()
        mp.MediaSpecific = CO_SPECIFIC_PARAMETERS(P.ATM_MEDIA_SPECIFIC, ATM_MEDIA_PARAMETERS())
        out.MediaParameters = mp
        media = mp.MediaSpecific.Parameters
        whole = _Received(elements=list(q.InfoElements))
        forward, backward, media.AALType = _flows_from_received(whole)
        media.Transmit, media.Receive = (forward, backward) if side is Side.CALLING else (backward, forward)
        mp.Flags |= _media_flags(media)
    if media is not None:
        if received.connection_id is not None and received.connection_id != media.ConnectionId:
            if media.ConnectionId.Vpi or media.ConnectionId.Vci:
                changed = True
            media.ConnectionId = received.connection_id
        if kinds & {T.IE_AALParameters, T.IE_TrafficDescriptor}:
            whole = _Received(elements=list(q.InfoElements))
            forward, backward, aal_type = _flows_from_received(whole)
            transmit, receive = (forward, backward) if side is Side.CALLING else (backward, forward)
            if T.IE_AALParameters in kinds:
                media.AALType = aal_type
                media.Transmit.MaxSduSize, media.Receive.MaxSduSize = transmit.MaxSduSize, receive.MaxSduSize
            if T.IE_TrafficDescriptor in kinds:
                for mine, theirs in ((media.Transmit, transmit), (media.Receive, receive)):
                    mine.PeakCellRate, mine.AverageCellRate = theirs.PeakCellRate, theirs.AverageCellRate
                    mine.BurstLengthCells = theirs.BurstLengthCells
    if changed:
        out.Flags |= P.CALL_PARAMETERS_CHANGED
    return out


__all__ = ["BLLI_L2_MODE_EXT", "BLLI_L2_MODE_NORMAL", "BLLI_L3_MODE_EXT", "BLLI_L3_MODE_NORMAL", "CATEGORY_DEFAULTS",
           "CATEGORY_TO_SERVICETYPE", "CELL_PAYLOAD_OCTETS", "CallParameterError", "L2_PROTOCOLS_WITH_MODE",
           "L3_PROTOCOLS_WITH_MODE", "OC3C_CELL_RATE", "SERVICETYPE_TO_CATEGORY", "Side", "TRAFFIC_FIELDS",
           "UniElements", "aal_from_ie", "aal_ie", "add_party", "address_from_ie", "atm_cause_from_ie",
           "bearer_capability_ie", "bearer_from_ie", "bhli_ie", "blli_from_ie", "blli_ie", "called_party_ie",
           "calling_party_ie", "cause_ie", "connection_id_from_ie", "connection_identifier_ie", "flowspec_from_flow",
           "from_uni", "lij_call_id_ie", "party_number_fields", "qos_ie", "raw_ie", "received_category", "setup",
           "to_uni",
           "traffic_descriptor_ie", "traffic_from_ie", "transit_network_ie"]
