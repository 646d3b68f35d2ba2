"""Call parameters as NDIS passes them: CO_CALL_PARAMETERS and what hangs below it for ATM (ndis.h,
atm.h, qos.h), as dataclasses with the WDK field names and flag values.

Sources: ndis.h (CO_CALL_PARAMETERS, CO_CALL_MANAGER_PARAMETERS, CO_MEDIA_PARAMETERS,
CO_SPECIFIC_PARAMETERS, CO_ADDRESS_FAMILY and their flags), qos.h (FLOWSPEC, SERVICETYPE_*), atm.h of the
WDK (Q2931_CALLMGR_PARAMETERS, Q2931_IE and the IE payload structures, ATM_MEDIA_PARAMETERS, and the value
#defines); reference/condis-mcm.md, "Structures". Names are the C names so that driver code reads like C.

What is and is not modelled:
- Fields hold Python values (ints, bytes, nested dataclasses); the C memory layout (IELength,
  CO_SPECIFIC_PARAMETERS.Length, alignment) is not: these structures cross no binary boundary here.
- Integer fields are range-checked at construction (ULONG 0..2**32-1, USHORT, UCHAR) and raise
  :class:`~hw.errors.FieldError` naming the structure and field.
- *Absent optional fields.* atm.h marks many IE fields "optional"; Windows' ATM call manager fills an
  absent one with SAP_FIELD_ABSENT of the field's width (atm.h defines SAP_FIELD_ABSENT,
  SAP_FIELD_ABSENT_USHORT and SAP_FIELD_ABSENT_UCHAR). This model does the same and uses those values as
  the defaults of the optional fields, so a converter to the Q.2931 IEs can write "field absent -> subfield
  not sent" mechanically. :func:`present` tests for it.

The conversion to and from the UNI information elements (firmware/uni/ies) is deliberately not here: it
belongs in its own module, written when the scapy IEs are settled. The tables at the end of this file
("Toward the Q.2931 information elements") give that converter its fixed points: which Q.2931 IE each
Q2931_IE_TYPE becomes, and the only two fields whose NDIS coding differs from the wire coding.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import Any

from hw.errors import FieldError

# --------------------------------------------------------------------------------------------------
# Range checks


def _check(struct: str, name: str, value: Any, bits: int) -> None:
    if value.__class__ is int and 0 <= value < (1 << bits):
        return
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise FieldError(f"{struct}.{name}", value, f"an unsigned {bits}-bit integer")


def _check_ints(obj: Any, widths: dict[str, int]) -> None:
    for name, bits in widths.items():
        value = getattr(obj, name)
        if value.__class__ is not int or not 0 <= value < (1 << bits):
            _check(type(obj).__name__, name, value, bits)


_WIDTHS: dict[type, dict[str, int]] = {}


def _widths(cls: type, bits: int, skip: str = "") -> dict[str, int]:
    """Every field of dataclass ``cls`` (but ``skip``) -> ``bits``: the width table of a structure whose
    fields are all of one C type, worked out once per structure."""
    widths = _WIDTHS.get(cls)
    if widths is None:
        widths = _WIDTHS[cls] = {f.name: bits for f in fields(cls) if f.name != skip}
    return widths


def _check_bytes(obj: Any, name: str, max_len: int) -> None:
    value = getattr(obj, name)
    if not isinstance(value, (bytes, bytearray)) or len(value) > max_len:
        raise FieldError(f"{type(obj).__name__}.{name}", value, f"bytes of at most {max_len} octets")


U8, U16, U32 = 8, 16, 32

# --------------------------------------------------------------------------------------------------
# Absent / wildcard field values (atm.h)

SAP_FIELD_ABSENT = 0xFFFFFFFE
SAP_FIELD_ABSENT_USHORT = 0xFFFE
SAP_FIELD_ABSENT_UCHAR = 0xFE
SAP_FIELD_ANY = 0xFFFFFFFF
SAP_FIELD_ANY_AESA_SEL = 0xFFFFFFFA
SAP_FIELD_ANY_AESA_REST = 0xFFFFFFFB

_ABSENT = {SAP_FIELD_ABSENT, SAP_FIELD_ABSENT_USHORT, SAP_FIELD_ABSENT_UCHAR}


def present(value: int) -> bool:
    """False when ``value`` is one of atm.h's SAP_FIELD_ABSENT codings (any width)."""
    return value not in _ABSENT


# --------------------------------------------------------------------------------------------------
# ndis.h: address family

CO_ADDRESS_FAMILY_Q2931 = 0x1  # ATM
CO_ADDRESS_FAMILY_PSCHED = 0x2
CO_ADDRESS_FAMILY_L2TP = 0x3
CO_ADDRESS_FAMILY_IRDA = 0x4
CO_ADDRESS_FAMILY_1394 = 0x5
CO_ADDRESS_FAMILY_PPP = 0x6
CO_ADDRESS_FAMILY_INFINIBAND = 0x7
CO_ADDRESS_FAMILY_TAPI = 0x800
CO_ADDRESS_FAMILY_TAPI_PROXY = 0x801
CO_ADDRESS_FAMILY_PROXY = 0x80000000  # OR'ed with the base AF to denote proxy support


@dataclass(slots=True)
class CO_ADDRESS_FAMILY:
    """ndis.h CO_ADDRESS_FAMILY: the AF a call manager registers and a client opens."""

    AddressFamily: int = CO_ADDRESS_FAMILY_Q2931
    MajorVersion: int = 3
    MinorVersion: int = 1

    def __post_init__(self) -> None:
        _check_ints(self, {"AddressFamily": U32, "MajorVersion": U32, "MinorVersion": U32})


# --------------------------------------------------------------------------------------------------
# qos.h: FLOWSPEC

QOS_NOT_SPECIFIED = 0xFFFFFFFF
SERVICETYPE_NOTRAFFIC = 0x00000000
SERVICETYPE_BESTEFFORT = 0x00000001
SERVICETYPE_CONTROLLEDLOAD = 0x00000002
SERVICETYPE_GUARANTEED = 0x00000003
SERVICETYPE_NETWORK_UNAVAILABLE = 0x00000004
SERVICETYPE_GENERAL_INFORMATION = 0x00000005
SERVICETYPE_NOCHANGE = 0x00000006
SERVICETYPE_NONCONFORMING = 0x00000009
SERVICETYPE_NETWORK_CONTROL = 0x0000000A
SERVICETYPE_QUALITATIVE = 0x0000000D


@dataclass(slots=True)
class FLOWSPEC:
    """qos.h FLOWSPEC (CO_FLOW_PARAMETERS): one direction of a call's generic QoS. Rates in bytes per
    second, Latency and DelayVariation in microseconds; QOS_NOT_SPECIFIED where not given."""

    TokenRate: int = QOS_NOT_SPECIFIED
    TokenBucketSize: int = QOS_NOT_SPECIFIED
    PeakBandwidth: int = QOS_NOT_SPECIFIED
    Latency: int = QOS_NOT_SPECIFIED
    DelayVariation: int = QOS_NOT_SPECIFIED
    ServiceType: int = SERVICETYPE_BESTEFFORT
    MaxSduSize: int = QOS_NOT_SPECIFIED
    MinimumPolicedSize: int = QOS_NOT_SPECIFIED

    def __post_init__(self) -> None:
        _check_ints(self, _widths(type(self), U32))


# --------------------------------------------------------------------------------------------------
# ndis.h: CO_SPECIFIC_PARAMETERS, CO_CALL_MANAGER_PARAMETERS, CO_MEDIA_PARAMETERS, CO_CALL_PARAMETERS

#: CO_SPECIFIC_PARAMETERS.ParamType of CallMgrSpecific when it holds a Q2931_CALLMGR_PARAMETERS (atm.h)
CALLMGR_SPECIFIC_Q2931 = 0x00000001
#: CO_SPECIFIC_PARAMETERS.ParamType of MediaSpecific when it holds an ATM_MEDIA_PARAMETERS (atm.h)
ATM_MEDIA_SPECIFIC = 0x00000001


@dataclass(slots=True)
class CO_SPECIFIC_PARAMETERS:
    """ndis.h CO_SPECIFIC_PARAMETERS {ParamType; Length; Parameters[]}: ``Parameters`` is the structure
    itself (Q2931_CALLMGR_PARAMETERS, ATM_MEDIA_PARAMETERS) or raw bytes; Length is not modelled."""

    ParamType: int = 0
    Parameters: Any = None

    def __post_init__(self) -> None:
        _check_ints(self, {"ParamType": U32})


@dataclass(slots=True)
class CO_CALL_MANAGER_PARAMETERS:
    """ndis.h CO_CALL_MANAGER_PARAMETERS {Transmit; Receive; CallMgrSpecific}."""

    Transmit: FLOWSPEC = field(default_factory=FLOWSPEC)
    Receive: FLOWSPEC = field(default_factory=FLOWSPEC)
    CallMgrSpecific: CO_SPECIFIC_PARAMETERS = field(default_factory=CO_SPECIFIC_PARAMETERS)


# CO_MEDIA_PARAMETERS.Flags (ndis.h)
RECEIVE_TIME_INDICATION = 0x00000001
USE_TIME_STAMPS = 0x00000002
TRANSMIT_VC = 0x00000004
RECEIVE_VC = 0x00000008
INDICATE_ERRED_PACKETS = 0x00000010
INDICATE_END_OF_TX = 0x00000020
RESERVE_RESOURCES_VC = 0x00000040
ROUND_DOWN_FLOW = 0x00000080
ROUND_UP_FLOW = 0x00000100


@dataclass(slots=True)
class CO_MEDIA_PARAMETERS:
    """ndis.h CO_MEDIA_PARAMETERS {Flags; ReceivePriority; ReceiveSizeHint; MediaSpecific}."""

    Flags: int = TRANSMIT_VC
    ReceivePriority: int = 0
    ReceiveSizeHint: int = 0
    MediaSpecific: CO_SPECIFIC_PARAMETERS = field(default_factory=CO_SPECIFIC_PARAMETERS)

    def __post_init__(self) -> None:
        _check_ints(self, {"Flags": U32, "ReceivePriority": U32, "ReceiveSizeHint": U32})


# CO_CALL_PARAMETERS.Flags (ndis.h; reference "Structures")
PERMANENT_VC = 0x00000001
CALL_PARAMETERS_CHANGED = 0x00000002
QUERY_CALL_PARAMETERS = 0x00000004
BROADCAST_VC = 0x00000008
MULTIPOINT_VC = 0x00000010


@dataclass(slots=True)
class CO_CALL_PARAMETERS:
    """ndis.h CO_CALL_PARAMETERS {Flags; CallMgrParameters; MediaParameters}.

    CALL_PARAMETERS_CHANGED is how a call manager tells the client it changed the parameters
    (ProtocolClMakeCallComplete)."""

    Flags: int = 0
    CallMgrParameters: CO_CALL_MANAGER_PARAMETERS | None = None
    MediaParameters: CO_MEDIA_PARAMETERS | None = None

    def __post_init__(self) -> None:
        _check_ints(self, {"Flags": U32})

    @property
    def q2931(self) -> "Q2931_CALLMGR_PARAMETERS | None":
        """The Q2931_CALLMGR_PARAMETERS in CallMgrSpecific, when that is what it holds."""
        cm = self.CallMgrParameters
        if cm is None or cm.CallMgrSpecific.ParamType != CALLMGR_SPECIFIC_Q2931:
            return None
        p = cm.CallMgrSpecific.Parameters
        return p if isinstance(p, Q2931_CALLMGR_PARAMETERS) else None

    @property
    def atm_media(self) -> "ATM_MEDIA_PARAMETERS | None":
        """The ATM_MEDIA_PARAMETERS in MediaSpecific, when that is what it holds."""
        mp = self.MediaParameters
        if mp is None or mp.MediaSpecific.ParamType != ATM_MEDIA_SPECIFIC:
            return None
        p = mp.MediaSpecific.Parameters
        return p if isinstance(p, ATM_MEDIA_PARAMETERS) else None


# --------------------------------------------------------------------------------------------------
# atm.h: addresses

ATM_NSAP = 0
ATM_E164 = 1
ATM_MAC_ADDRESS_LENGTH = 6
ATM_ADDRESS_LENGTH = 20


@dataclass(slots=True)
class ATM_ADDRESS:
    """atm.h ATM_ADDRESS {AddressType; NumberOfDigits; Address[20]}.

    For ATM_NSAP the address is the 20-octet AESA; for ATM_E164 it is the digits as IA5 characters.
    ``Address`` is kept padded with zero octets to 20, as the C array is; :attr:`digits` is the used part."""

    AddressType: int = ATM_NSAP
    NumberOfDigits: int | None = None
    Address: bytes = b""

    def __post_init__(self) -> None:
        if self.AddressType not in (ATM_NSAP, ATM_E164):
            raise FieldError("ATM_ADDRESS.AddressType", self.AddressType, "ATM_NSAP (0) or ATM_E164 (1)")
        _check_bytes(self, "Address", ATM_ADDRESS_LENGTH)
        used = len(self.Address)
        if self.NumberOfDigits is None:
            self.NumberOfDigits = used
        _check(type(self).__name__, "NumberOfDigits", self.NumberOfDigits, U32)
        if self.NumberOfDigits > ATM_ADDRESS_LENGTH:
            raise FieldError("ATM_ADDRESS.NumberOfDigits", self.NumberOfDigits, f"at most {ATM_ADDRESS_LENGTH}")
        if self.AddressType == ATM_E164 and not all(0x30 <= c <= 0x39 for c in self.Address[:self.NumberOfDigits]):
            raise FieldError("ATM_ADDRESS.Address", bytes(self.Address), "E.164 digits '0'..'9' (IA5)")
        self.Address = bytes(self.Address).ljust(ATM_ADDRESS_LENGTH, b"\x00")

    @property
    def digits(self) -> bytes:
        """The NumberOfDigits octets in use."""
        return self.Address[:self.NumberOfDigits]

    @classmethod
    def nsap(cls, aesa: bytes) -> "ATM_ADDRESS":
        """A 20-octet ATM end system address (NSAP format)."""
        if len(aesa) != ATM_ADDRESS_LENGTH:
            raise FieldError("ATM_ADDRESS.Address", aesa, "20 octets for an NSAP address")
        return cls(ATM_NSAP, ATM_ADDRESS_LENGTH, bytes(aesa))

    @classmethod
    def e164(cls, number: str) -> "ATM_ADDRESS":
        """An E.164 number given as a string of digits."""
        return cls(ATM_E164, len(number), number.encode("ascii"))

    def __str__(self) -> str:
        if self.AddressType == ATM_E164:
            return "+" + self.digits.decode("ascii")
        return self.digits.hex(".", 2) if self.NumberOfDigits else "<empty>"


# --------------------------------------------------------------------------------------------------
# atm.h: AAL parameters

AAL_TYPE_AAL0 = 1
AAL_TYPE_AAL1 = 2
AAL_TYPE_AAL34 = 4
AAL_TYPE_AAL5 = 8

AAL5_MODE_MESSAGE = 0x01
AAL5_MODE_STREAMING = 0x02
AAL5_SSCS_NULL = 0x00
AAL5_SSCS_SSCOP_ASSURED = 0x01
AAL5_SSCS_SSCOP_NON_ASSURED = 0x02
AAL5_SSCS_FRAME_RELAY = 0x04


@dataclass(slots=True)
class AAL1_PARAMETERS:
    """atm.h AAL1_PARAMETERS; the optional fields are absent by default."""

    Subtype: int = 0
    CBRRate: int = 0
    Multiplier: int = 0  # optional: zero when absent (atm.h: "exception: zero if absent")
    SourceClockRecoveryMethod: int = SAP_FIELD_ABSENT_UCHAR
    ErrorCorrectionMethod: int = SAP_FIELD_ABSENT_UCHAR
    StructuredDataTransferBlocksize: int = 0  # optional: zero when absent
    PartiallyFilledCellsMethod: int = SAP_FIELD_ABSENT_UCHAR

    def __post_init__(self) -> None:
        _check_ints(self, {"Subtype": U8, "CBRRate": U8, "Multiplier": U16, "SourceClockRecoveryMethod": U8,
                           "ErrorCorrectionMethod": U8, "StructuredDataTransferBlocksize": U16,
                           "PartiallyFilledCellsMethod": U8})


@dataclass(slots=True)
class AAL34_PARAMETERS:
    """atm.h AAL34_PARAMETERS."""

    ForwardMaxCPCSSDUSize: int = 0
    BackwardMaxCPCSSDUSize: int = 0
    LowestMID: int = SAP_FIELD_ABSENT_USHORT
    HighestMID: int = SAP_FIELD_ABSENT_USHORT
    SSCSType: int = SAP_FIELD_ABSENT_UCHAR

    def __post_init__(self) -> None:
        _check_ints(self, {"ForwardMaxCPCSSDUSize": U16, "BackwardMaxCPCSSDUSize": U16, "LowestMID": U16,
                           "HighestMID": U16, "SSCSType": U8})


@dataclass(slots=True)
class AAL5_PARAMETERS:
    """atm.h AAL5_PARAMETERS. Mode exists in UNI 3.x only; SSCSType is optional."""

    ForwardMaxCPCSSDUSize: int = 9188
    BackwardMaxCPCSSDUSize: int = 9188
    Mode: int = AAL5_MODE_MESSAGE
    SSCSType: int = SAP_FIELD_ABSENT_UCHAR

    def __post_init__(self) -> None:
        _check_ints(self, {"ForwardMaxCPCSSDUSize": U32, "BackwardMaxCPCSSDUSize": U32, "Mode": U8,
                           "SSCSType": U8})


@dataclass(slots=True)
class AALUSER_PARAMETERS:
    """atm.h AALUSER_PARAMETERS."""

    UserDefined: int = 0

    def __post_init__(self) -> None:
        _check_ints(self, {"UserDefined": U32})


_AAL_UNION = {AAL_TYPE_AAL1: AAL1_PARAMETERS, AAL_TYPE_AAL34: AAL34_PARAMETERS, AAL_TYPE_AAL5: AAL5_PARAMETERS}


@dataclass(slots=True)
class AAL_PARAMETERS_IE:
    """atm.h AAL_PARAMETERS_IE {AALType; union AALSpecificParameters}: the union member must match
    AALType (AALUSER_PARAMETERS for a user-defined AAL)."""

    AALType: int = AAL_TYPE_AAL5
    AALSpecificParameters: Any = field(default_factory=AAL5_PARAMETERS)

    def __post_init__(self) -> None:
        if self.AALType not in (AAL_TYPE_AAL0, AAL_TYPE_AAL1, AAL_TYPE_AAL34, AAL_TYPE_AAL5):
            raise FieldError("AAL_PARAMETERS_IE.AALType", self.AALType, "AAL_TYPE_AAL0/1/34/5 (1, 2, 4, 8)")
        expected = _AAL_UNION.get(self.AALType)
        member = self.AALSpecificParameters
        if not isinstance(member, AALUSER_PARAMETERS) and (expected is None or not isinstance(member, expected)):
            want = expected.__name__ if expected else "AALUSER_PARAMETERS"
            raise FieldError("AAL_PARAMETERS_IE.AALSpecificParameters", member, f"{want} for AALType {self.AALType}")


# --------------------------------------------------------------------------------------------------
# atm.h: traffic descriptor


@dataclass(slots=True)
class ATM_TRAFFIC_DESCRIPTOR:
    """atm.h ATM_TRAFFIC_DESCRIPTOR: one direction, cells per second; every rate is optional."""

    PeakCellRateCLP0: int = SAP_FIELD_ABSENT
    PeakCellRateCLP01: int = SAP_FIELD_ABSENT
    SustainableCellRateCLP0: int = SAP_FIELD_ABSENT
    SustainableCellRateCLP01: int = SAP_FIELD_ABSENT
    MaximumBurstSizeCLP0: int = SAP_FIELD_ABSENT
    MaximumBurstSizeCLP01: int = SAP_FIELD_ABSENT
    Tagging: bool = False

    def __post_init__(self) -> None:
        _check_ints(self, _widths(type(self), U32, skip="Tagging"))
        self.Tagging = bool(self.Tagging)


@dataclass(slots=True)
class ATM_TRAFFIC_DESCRIPTOR_IE:
    """atm.h ATM_TRAFFIC_DESCRIPTOR_IE {ForwardTD; BackwardTD; BestEffort}."""

    ForwardTD: ATM_TRAFFIC_DESCRIPTOR = field(default_factory=ATM_TRAFFIC_DESCRIPTOR)
    BackwardTD: ATM_TRAFFIC_DESCRIPTOR = field(default_factory=ATM_TRAFFIC_DESCRIPTOR)
    BestEffort: bool = False

    def __post_init__(self) -> None:
        self.BestEffort = bool(self.BestEffort)


# --------------------------------------------------------------------------------------------------
# atm.h: broadband bearer capability (UNI 3.1 form)

BCOB_A = 0x00
BCOB_C = 0x01
BCOB_X = 0x02
TT_NOIND = 0x00
TT_CBR = 0x04
TT_VBR = 0x08
TR_NOIND = 0x00
TR_END_TO_END = 0x01
TR_NO_END_TO_END = 0x02
CLIP_NOT = 0x00
CLIP_SUS = 0x20
UP_P2P = 0x00
UP_P2MP = 0x01


@dataclass(slots=True)
class ATM_BROADBAND_BEARER_CAPABILITY_IE:
    """atm.h ATM_BROADBAND_BEARER_CAPABILITY_IE (``ClippingSusceptability`` is spelled so in atm.h)."""

    BearerClass: int = BCOB_X
    TrafficType: int = TT_NOIND
    TimingRequirements: int = TR_NOIND
    ClippingSusceptability: int = CLIP_NOT
    UserPlaneConnectionConfig: int = UP_P2MP

    def __post_init__(self) -> None:
        _check_ints(self, _widths(type(self), U8))
        if self.BearerClass not in (BCOB_A, BCOB_C, BCOB_X):
            raise FieldError("ATM_BROADBAND_BEARER_CAPABILITY_IE.BearerClass", self.BearerClass,
                             "BCOB_A, BCOB_C or BCOB_X (0, 1, 2)")
        if self.UserPlaneConnectionConfig not in (UP_P2P, UP_P2MP):
            raise FieldError("ATM_BROADBAND_BEARER_CAPABILITY_IE.UserPlaneConnectionConfig",
                             self.UserPlaneConnectionConfig, "UP_P2P (0) or UP_P2MP (1)")


# --------------------------------------------------------------------------------------------------
# atm.h: BHLI, BLLI

BHLI_ISO = 0x00
BHLI_UserSpecific = 0x01
BHLI_HighLayerProfile = 0x02
BHLI_VendorSpecificAppId = 0x03


@dataclass(slots=True)
class ATM_BHLI_IE:
    """atm.h ATM_BHLI_IE {HighLayerInfoType; HighLayerInfoLength; HighLayerInfo[8]}."""

    HighLayerInfoType: int = BHLI_UserSpecific
    HighLayerInfoLength: int | None = None
    HighLayerInfo: bytes = b""

    def __post_init__(self) -> None:
        _check_bytes(self, "HighLayerInfo", 8)
        if self.HighLayerInfoLength is None:
            self.HighLayerInfoLength = len(self.HighLayerInfo)
        _check_ints(self, {"HighLayerInfoType": U32, "HighLayerInfoLength": U32})
        if self.HighLayerInfoLength > 8:
            raise FieldError("ATM_BHLI_IE.HighLayerInfoLength", self.HighLayerInfoLength, "at most 8")


BLLI_L2_ISO_1745 = 0x01
BLLI_L2_Q921 = 0x02
BLLI_L2_X25L = 0x06
BLLI_L2_X25M = 0x07
BLLI_L2_ELAPB = 0x08
BLLI_L2_HDLC_ARM = 0x09
BLLI_L2_HDLC_NRM = 0x0A
BLLI_L2_HDLC_ABM = 0x0B
BLLI_L2_LLC = 0x0C
BLLI_L2_X75 = 0x0D
BLLI_L2_Q922 = 0x0E
BLLI_L2_USER_SPECIFIED = 0x10
BLLI_L2_ISO_7776 = 0x11
BLLI_L3_X25 = 0x06
BLLI_L3_ISO_8208 = 0x07
BLLI_L3_X223 = 0x08
BLLI_L3_SIO_8473 = 0x09
BLLI_L3_T70 = 0x0A
BLLI_L3_ISO_TR9577 = 0x0B
BLLI_L3_USER_SPECIFIED = 0x10
BLLI_L3_IPI_SNAP = 0x80
BLLI_L3_IPI_IP = 0xCC


@dataclass(slots=True)
class ATM_BLLI_IE:
    """atm.h ATM_BLLI_IE; every field is optional and absent by default (SAP_FIELD_ABSENT*)."""

    Layer2Protocol: int = SAP_FIELD_ABSENT
    Layer2Mode: int = SAP_FIELD_ABSENT_UCHAR
    Layer2WindowSize: int = SAP_FIELD_ABSENT_UCHAR
    Layer2UserSpecifiedProtocol: int = SAP_FIELD_ABSENT
    Layer3Protocol: int = SAP_FIELD_ABSENT
    Layer3Mode: int = SAP_FIELD_ABSENT_UCHAR
    Layer3DefaultPacketSize: int = SAP_FIELD_ABSENT_UCHAR
    Layer3PacketWindowSize: int = SAP_FIELD_ABSENT_UCHAR
    Layer3UserSpecifiedProtocol: int = SAP_FIELD_ABSENT
    Layer3IPI: int = SAP_FIELD_ABSENT
    SnapId: bytes = b""

    def __post_init__(self) -> None:
        _check_ints(self, {"Layer2Protocol": U32, "Layer2Mode": U8, "Layer2WindowSize": U8,
                           "Layer2UserSpecifiedProtocol": U32, "Layer3Protocol": U32, "Layer3Mode": U8,
                           "Layer3DefaultPacketSize": U8, "Layer3PacketWindowSize": U8,
                           "Layer3UserSpecifiedProtocol": U32, "Layer3IPI": U32})
        _check_bytes(self, "SnapId", 5)


# --------------------------------------------------------------------------------------------------
# atm.h: calling party number, QoS class, transit network selection, sending complete, LIJ, cause, raw

CALLING_NUMBER_PRESENTATION_ALLOWED = 0x00
CALLING_NUMBER_PRESENTATION_RESTRICTED = 0x01
CALLING_NUMBER_PRESENTATION_NOT_AVAIL = 0x02
CALLING_NUMBER_SCREENING_USER_PROVIDED_NOT_SCREENED = 0x00
CALLING_NUMBER_SCREENING_USER_PROVIDED_PASSED_SCREENING = 0x01
CALLING_NUMBER_SCREENING_USER_PROVIDED_FAILED_SCREENING = 0x02
CALLING_NUMBER_SCREENING_NW_PROVIDED = 0x03


@dataclass(slots=True)
class ATM_CALLING_PARTY_NUMBER_IE:
    """atm.h ATM_CALLING_PARTY_NUMBER_IE {Number; PresentationIndication; ScreeningIndicator}."""

    Number: ATM_ADDRESS = field(default_factory=ATM_ADDRESS)
    PresentationIndication: int = SAP_FIELD_ABSENT_UCHAR
    ScreeningIndicator: int = SAP_FIELD_ABSENT_UCHAR

    def __post_init__(self) -> None:
        _check_ints(self, {"PresentationIndication": U8, "ScreeningIndicator": U8})


QOS_CLASS0 = 0x00
QOS_CLASS1 = 0x01
QOS_CLASS2 = 0x02
QOS_CLASS3 = 0x03
QOS_CLASS4 = 0x04


@dataclass(slots=True)
class ATM_QOS_CLASS_IE:
    """atm.h ATM_QOS_CLASS_IE {QOSClassForward; QOSClassBackward}."""

    QOSClassForward: int = QOS_CLASS0
    QOSClassBackward: int = QOS_CLASS0

    def __post_init__(self) -> None:
        _check_ints(self, {"QOSClassForward": U8, "QOSClassBackward": U8})


TNS_TYPE_NATIONAL = 0x40
TNS_PLAN_CARRIER_ID_CODE = 0x01


@dataclass(slots=True)
class ATM_TRANSIT_NETWORK_SELECTION_IE:
    """atm.h ATM_TRANSIT_NETWORK_SELECTION_IE."""

    TypeOfNetworkId: int = TNS_TYPE_NATIONAL
    NetworkIdPlan: int = TNS_PLAN_CARRIER_ID_CODE
    NetworkIdLength: int | None = None
    NetworkId: bytes = b""

    def __post_init__(self) -> None:
        _check_bytes(self, "NetworkId", 255)
        if self.NetworkIdLength is None:
            self.NetworkIdLength = len(self.NetworkId)
        _check_ints(self, {"TypeOfNetworkId": U8, "NetworkIdPlan": U8, "NetworkIdLength": U8})


@dataclass(slots=True)
class ATM_BROADBAND_SENDING_COMPLETE_IE:
    """atm.h ATM_BROADBAND_SENDING_COMPLETE_IE."""

    SendingComplete: int = 0xA1  # Q.2931 4.5.21 coding of the indication

    def __post_init__(self) -> None:
        _check_ints(self, {"SendingComplete": U8})


@dataclass(slots=True)
class ATM_LIJ_CALLID_IE:
    """atm.h ATM_LIJ_CALLID_IE {Identifier}."""

    Identifier: int = 0

    def __post_init__(self) -> None:
        _check_ints(self, {"Identifier": U32})


ATM_CAUSE_LOC_USER = 0x00
ATM_CAUSE_LOC_PRIVATE_LOCAL = 0x01
ATM_CAUSE_LOC_PUBLIC_LOCAL = 0x02
ATM_CAUSE_LOC_TRANSIT_NETWORK = 0x03
ATM_CAUSE_LOC_PUBLIC_REMOTE = 0x04
ATM_CAUSE_LOC_PRIVATE_REMOTE = 0x05
ATM_CAUSE_LOC_INTERNATIONAL_NETWORK = 0x07
ATM_CAUSE_LOC_BEYOND_INTERWORKING = 0x0A

# ATM_CAUSE_IE.Cause: the atm.h list (UNI 3.x; these are the Q.2931 cause values)
ATM_CAUSE_UNALLOCATED_NUMBER = 0x01
ATM_CAUSE_NO_ROUTE_TO_TRANSIT_NETWORK = 0x02
ATM_CAUSE_NO_ROUTE_TO_DESTINATION = 0x03
ATM_CAUSE_VPI_VCI_UNACCEPTABLE = 0x0A
ATM_CAUSE_NORMAL_CALL_CLEARING = 0x10
ATM_CAUSE_USER_BUSY = 0x11
ATM_CAUSE_NO_USER_RESPONDING = 0x12
ATM_CAUSE_CALL_REJECTED = 0x15
ATM_CAUSE_NUMBER_CHANGED = 0x16
ATM_CAUSE_USER_REJECTS_CLIR = 0x17
ATM_CAUSE_DESTINATION_OUT_OF_ORDER = 0x1B
ATM_CAUSE_INVALID_NUMBER_FORMAT = 0x1C
ATM_CAUSE_STATUS_ENQUIRY_RESPONSE = 0x1E
ATM_CAUSE_NORMAL_UNSPECIFIED = 0x1F
ATM_CAUSE_VPI_VCI_UNAVAILABLE = 0x23
ATM_CAUSE_NETWORK_OUT_OF_ORDER = 0x26
ATM_CAUSE_TEMPORARY_FAILURE = 0x29
ATM_CAUSE_ACCESS_INFORMAION_DISCARDED = 0x2B  # spelled so in atm.h
ATM_CAUSE_NO_VPI_VCI_AVAILABLE = 0x2D
ATM_CAUSE_RESOURCE_UNAVAILABLE = 0x2F
ATM_CAUSE_QOS_UNAVAILABLE = 0x31
ATM_CAUSE_USER_CELL_RATE_UNAVAILABLE = 0x33  # UNI 3.0 value, as in atm.h (UNI 3.1 and Q.2931: 37)
ATM_CAUSE_BEARER_CAPABILITY_UNAUTHORIZED = 0x39
ATM_CAUSE_BEARER_CAPABILITY_UNAVAILABLE = 0x3A
ATM_CAUSE_OPTION_UNAVAILABLE = 0x3F
ATM_CAUSE_BEARER_CAPABILITY_UNIMPLEMENTED = 0x41
ATM_CAUSE_UNSUPPORTED_TRAFFIC_PARAMETERS = 0x49
ATM_CAUSE_INVALID_CALL_REFERENCE = 0x51
ATM_CAUSE_CHANNEL_NONEXISTENT = 0x52
ATM_CAUSE_INCOMPATIBLE_DESTINATION = 0x58
ATM_CAUSE_INVALID_ENDPOINT_REFERENCE = 0x59
ATM_CAUSE_INVALID_TRANSIT_NETWORK_SELECTION = 0x5B
ATM_CAUSE_TOO_MANY_PENDING_ADD_PARTY = 0x5C
ATM_CAUSE_AAL_PARAMETERS_UNSUPPORTED = 0x5D
ATM_CAUSE_MANDATORY_IE_MISSING = 0x60
ATM_CAUSE_UNIMPLEMENTED_MESSAGE_TYPE = 0x61
ATM_CAUSE_UNIMPLEMENTED_IE = 0x63
ATM_CAUSE_INVALID_IE_CONTENTS = 0x64
ATM_CAUSE_INVALID_STATE_FOR_MESSAGE = 0x65
ATM_CAUSE_RECOVERY_ON_TIMEOUT = 0x66
ATM_CAUSE_INCORRECT_MESSAGE_LENGTH = 0x68
ATM_CAUSE_PROTOCOL_ERROR = 0x6F

ATM_CAUSE_COND_UNKNOWN = 0x00
ATM_CAUSE_COND_PERMANENT = 0x01
ATM_CAUSE_COND_TRANSIENT = 0x02
ATM_CAUSE_REASON_USER = 0x00
ATM_CAUSE_REASON_IE_MISSING = 0x04
ATM_CAUSE_REASON_IE_INSUFFICIENT = 0x08
ATM_CAUSE_PU_PROVIDER = 0x00
ATM_CAUSE_PU_USER = 0x08
ATM_CAUSE_NA_NORMAL = 0x00
ATM_CAUSE_NA_ABNORMAL = 0x04


@dataclass(slots=True)
class ATM_CAUSE_IE:
    """atm.h ATM_CAUSE_IE {Location; Cause; DiagnosticsLength; Diagnostics[]} (variable length; at least
    4 octets in C)."""

    Location: int = ATM_CAUSE_LOC_USER
    Cause: int = ATM_CAUSE_NORMAL_UNSPECIFIED
    DiagnosticsLength: int | None = None
    Diagnostics: bytes = b""

    def __post_init__(self) -> None:
        _check_bytes(self, "Diagnostics", 255)
        if self.DiagnosticsLength is None:
            self.DiagnosticsLength = len(self.Diagnostics)
        _check_ints(self, {"Location": U8, "Cause": U8, "DiagnosticsLength": U8})
        if self.Cause > 0x7F:
            raise FieldError("ATM_CAUSE_IE.Cause", self.Cause, "a cause value 0..127")


@dataclass(slots=True)
class ATM_RAW_IE:
    """atm.h ATM_RAW_IE {RawIELength; RawIEType; RawIEValue[]}: an IE the caller encoded itself."""

    RawIEType: int = 0
    RawIEValue: bytes = b""
    RawIELength: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.RawIEValue, (bytes, bytearray)):
            raise FieldError("ATM_RAW_IE.RawIEValue", self.RawIEValue, "bytes")
        if self.RawIELength is None:
            self.RawIELength = len(self.RawIEValue)
        _check_ints(self, {"RawIEType": U32, "RawIELength": U32})


# --------------------------------------------------------------------------------------------------
# atm.h: Q2931_IE and Q2931_CALLMGR_PARAMETERS

ATM_IE_RESPONSE_FLAG = 0x80000000
ATM_IE_EMPTY_FLAG = 0x40000000


class Q2931_IE_TYPE(IntEnum):
    """atm.h Q2931_IE_TYPE (UNI 3.1 build): request IEs 0..14, then the empty and response buffers."""

    IE_AALParameters = 0
    IE_TrafficDescriptor = 1
    IE_BroadbandBearerCapability = 2
    IE_BHLI = 3
    IE_BLLI = 4
    IE_CalledPartyNumber = 5
    IE_CalledPartySubaddress = 6
    IE_CallingPartyNumber = 7
    IE_CallingPartySubaddress = 8
    IE_Cause = 9
    IE_QOSClass = 10
    IE_TransitNetworkSelection = 11
    IE_BroadbandSendingComplete = 12
    IE_LIJCallId = 13
    IE_Raw = 14
    IE_NextRequest = 15  # end of request IEs; invalid in a request
    IE_Cause_Empty = 9 | ATM_IE_EMPTY_FLAG
    IE_Cause_Response = 9 | ATM_IE_RESPONSE_FLAG
    IE_AALParameters_Response = 0 | ATM_IE_RESPONSE_FLAG
    IE_BLLI_Response = 4 | ATM_IE_RESPONSE_FLAG


#: The payload structure of each IE type (atm.h: ATM_CALLED_PARTY_NUMBER_IE and both subaddress IEs are
#: typedefs of ATM_ADDRESS). Empty and response types carry their base type's structure.
IE_PAYLOAD_TYPES: dict[int, type] = {
    Q2931_IE_TYPE.IE_AALParameters: AAL_PARAMETERS_IE,
    Q2931_IE_TYPE.IE_TrafficDescriptor: ATM_TRAFFIC_DESCRIPTOR_IE,
    Q2931_IE_TYPE.IE_BroadbandBearerCapability: ATM_BROADBAND_BEARER_CAPABILITY_IE,
    Q2931_IE_TYPE.IE_BHLI: ATM_BHLI_IE,
    Q2931_IE_TYPE.IE_BLLI: ATM_BLLI_IE,
    Q2931_IE_TYPE.IE_CalledPartyNumber: ATM_ADDRESS,
    Q2931_IE_TYPE.IE_CalledPartySubaddress: ATM_ADDRESS,
    Q2931_IE_TYPE.IE_CallingPartyNumber: ATM_CALLING_PARTY_NUMBER_IE,
    Q2931_IE_TYPE.IE_CallingPartySubaddress: ATM_ADDRESS,
    Q2931_IE_TYPE.IE_Cause: ATM_CAUSE_IE,
    Q2931_IE_TYPE.IE_QOSClass: ATM_QOS_CLASS_IE,
    Q2931_IE_TYPE.IE_TransitNetworkSelection: ATM_TRANSIT_NETWORK_SELECTION_IE,
    Q2931_IE_TYPE.IE_BroadbandSendingComplete: ATM_BROADBAND_SENDING_COMPLETE_IE,
    Q2931_IE_TYPE.IE_LIJCallId: ATM_LIJ_CALLID_IE,
    Q2931_IE_TYPE.IE_Raw: ATM_RAW_IE,
}


def base_ie_type(ie_type: int) -> int:
    """The request IE type under the empty/response flags."""
    return int(ie_type) & ~(ATM_IE_RESPONSE_FLAG | ATM_IE_EMPTY_FLAG)


@dataclass(slots=True)
class Q2931_IE:
    """atm.h Q2931_IE {IEType; IELength; IE[]}: ``IE`` is the payload structure of IEType."""

    IEType: int
    IE: Any

    def __post_init__(self) -> None:
        try:
            self.IEType = Q2931_IE_TYPE(self.IEType)
        except ValueError:
            raise FieldError("Q2931_IE.IEType", self.IEType, "a Q2931_IE_TYPE") from None
        if self.IEType is Q2931_IE_TYPE.IE_NextRequest:
            raise FieldError("Q2931_IE.IEType", self.IEType, "a request IE type (IE_NextRequest is a marker)")
        expected = IE_PAYLOAD_TYPES[base_ie_type(self.IEType)]
        if not isinstance(self.IE, expected):
            raise FieldError("Q2931_IE.IE", self.IE, f"{expected.__name__} for {self.IEType.name}")


@dataclass(slots=True)
class Q2931_CALLMGR_PARAMETERS:
    """atm.h Q2931_CALLMGR_PARAMETERS {CalledParty; CallingParty; InfoElementCount; InfoElements[]}."""

    CalledParty: ATM_ADDRESS = field(default_factory=ATM_ADDRESS)
    CallingParty: ATM_ADDRESS = field(default_factory=ATM_ADDRESS)
    InfoElements: list[Q2931_IE] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, ie in enumerate(self.InfoElements):
            if not isinstance(ie, Q2931_IE):
                raise FieldError(f"Q2931_CALLMGR_PARAMETERS.InfoElements[{i}]", ie, "a Q2931_IE")

    @property
    def InfoElementCount(self) -> int:
        return len(self.InfoElements)

    def find(self, ie_type: int) -> Any:
        """The payload of the first IE of ``ie_type``, None when there is none."""
        for ie in self.InfoElements:
            if ie.IEType == ie_type:
                return ie.IE
        return None


# --------------------------------------------------------------------------------------------------
# atm.h: ATM_MEDIA_PARAMETERS

ATM_SERVICE_CATEGORY_CBR = 1
ATM_SERVICE_CATEGORY_VBR = 2
ATM_SERVICE_CATEGORY_UBR = 4
ATM_SERVICE_CATEGORY_ABR = 8


@dataclass(slots=True)
class ATM_VPIVCI:
    """atm.h ATM_VPIVCI {Vpi; Vci}."""

    Vpi: int = 0
    Vci: int = 0

    def __post_init__(self) -> None:
        _check_ints(self, {"Vpi": U32, "Vci": U32})


_FLOW_WIDTHS: dict[int, dict[str, int]] = {}


@dataclass(slots=True)
class ATM_FLOW_PARAMETERS:
    """atm.h ATM_FLOW_PARAMETERS: one direction. Cell rates in cells per second, MaxSduSize in bytes,
    the ABR fields in UNI 4.0 coding."""

    ServiceCategory: int = ATM_SERVICE_CATEGORY_UBR
    AverageCellRate: int = 0
    PeakCellRate: int = 0
    MinimumCellRate: int = 0
    InitialCellRate: int = 0
    BurstLengthCells: int = 0
    MaxSduSize: int = 0
    TransientBufferExposure: int = 0
    CumulativeRMFixedRTT: int = 0
    RateIncreaseFactor: int = 0
    RateDecreaseFactor: int = 0
    ACRDecreaseTimeFactor: int = 0
    MaximumCellsPerForwardRMCell: int = 0
    MaximumForwardRMCellInterval: int = 0
    CutoffDecreaseFactor: int = 0
    Reserved1: int = 0
    MissingRMCellCount: int = 0
    Reserved2: int = 0
    Reserved3: int = 0

    def __post_init__(self) -> None:
        widths = _FLOW_WIDTHS.get(0)
        if widths is None:  # the field widths of the structure, worked out once
            widths = {f.name: U32 for f in fields(self)}
            widths.update(RateIncreaseFactor=U8, RateDecreaseFactor=U8, ACRDecreaseTimeFactor=U16,
                          MaximumCellsPerForwardRMCell=U8, MaximumForwardRMCellInterval=U8,
                          CutoffDecreaseFactor=U8, Reserved1=U8)
            _FLOW_WIDTHS[0] = widths
        _check_ints(self, widths)
        if self.ServiceCategory not in (ATM_SERVICE_CATEGORY_CBR, ATM_SERVICE_CATEGORY_VBR,
                                        ATM_SERVICE_CATEGORY_UBR, ATM_SERVICE_CATEGORY_ABR):
            raise FieldError("ATM_FLOW_PARAMETERS.ServiceCategory", self.ServiceCategory,
                             "ATM_SERVICE_CATEGORY_CBR/VBR/UBR/ABR (1, 2, 4, 8)")


@dataclass(slots=True)
class ATM_MEDIA_PARAMETERS:
    """atm.h ATM_MEDIA_PARAMETERS: the VC's connection identifier, AAL and per-direction flow."""

    ConnectionId: ATM_VPIVCI = field(default_factory=ATM_VPIVCI)
    AALType: int = AAL_TYPE_AAL5
    CellDelayVariationCLP0: int = 0
    CellDelayVariationCLP1: int = 0
    CellLossRatioCLP0: int = 0
    CellLossRatioCLP1: int = 0
    CellTransferDelayCLP0: int = 0
    CellTransferDelayCLP1: int = 0
    DefaultCLP: int = 0
    Transmit: ATM_FLOW_PARAMETERS = field(default_factory=ATM_FLOW_PARAMETERS)
    Receive: ATM_FLOW_PARAMETERS = field(default_factory=ATM_FLOW_PARAMETERS)

    def __post_init__(self) -> None:
        _check_ints(self, {"AALType": U32, "CellDelayVariationCLP0": U32, "CellDelayVariationCLP1": U32,
                           "CellLossRatioCLP0": U32, "CellLossRatioCLP1": U32, "CellTransferDelayCLP0": U32,
                           "CellTransferDelayCLP1": U32, "DefaultCLP": U32})


# --------------------------------------------------------------------------------------------------
# Building complete call parameters


def make_call_parameters(called: ATM_ADDRESS, calling: ATM_ADDRESS | None = None, *,
                         info_elements: list[Q2931_IE] | None = None, multipoint: bool = True,
                         media: ATM_MEDIA_PARAMETERS | None = None, transmit: FLOWSPEC | None = None,
                         receive: FLOWSPEC | None = None, flags: int = 0) -> CO_CALL_PARAMETERS:
    """CO_CALL_PARAMETERS for an ATM call: Q2931_CALLMGR_PARAMETERS in CallMgrSpecific and
    ATM_MEDIA_PARAMETERS in MediaSpecific, as Windows' ATM clients build them. ``multipoint`` sets
    MULTIPOINT_VC (a point-to-multipoint call, root side)."""
    q = Q2931_CALLMGR_PARAMETERS(called, calling or ATM_ADDRESS(), list(info_elements or []))
    cm = CO_CALL_MANAGER_PARAMETERS(transmit or FLOWSPEC(), receive or FLOWSPEC(),
                                    CO_SPECIFIC_PARAMETERS(CALLMGR_SPECIFIC_Q2931, q))
    mp = CO_MEDIA_PARAMETERS(TRANSMIT_VC, 0, 0, CO_SPECIFIC_PARAMETERS(ATM_MEDIA_SPECIFIC,
                                                                       media or ATM_MEDIA_PARAMETERS()))
    return CO_CALL_PARAMETERS(flags | (MULTIPOINT_VC if multipoint else 0), cm, mp)


# --------------------------------------------------------------------------------------------------
# Toward the Q.2931 information elements (the fixed points of the converter to come)
#
# The converter between these structures and the UNI IEs (firmware/uni/ies) goes in its own module. What
# it needs to know that is not a plain field copy:

#: Q2931_IE_TYPE -> Q.2931 / UNI 3.1 IE identifier (Q.2931 4.5.1, Table 4-3; LIJ call identifier: UNI 4.0
#: 9.2, ATM Forum coding). IE_Raw carries its own identifier (ATM_RAW_IE.RawIEType).
Q2931_IE_IDENTIFIERS: dict[int, int | None] = {
    Q2931_IE_TYPE.IE_AALParameters: 0x58,  # Q.2931 4.5.5
    Q2931_IE_TYPE.IE_TrafficDescriptor: 0x59,  # 4.5.6
    Q2931_IE_TYPE.IE_BroadbandBearerCapability: 0x5E,  # 4.5.7
    Q2931_IE_TYPE.IE_BHLI: 0x5D,  # 4.5.8
    Q2931_IE_TYPE.IE_BLLI: 0x5F,  # 4.5.9
    Q2931_IE_TYPE.IE_CalledPartyNumber: 0x70,  # 4.5.11
    Q2931_IE_TYPE.IE_CalledPartySubaddress: 0x71,  # 4.5.12
    Q2931_IE_TYPE.IE_CallingPartyNumber: 0x6C,  # 4.5.13
    Q2931_IE_TYPE.IE_CallingPartySubaddress: 0x6D,  # 4.5.14
    Q2931_IE_TYPE.IE_Cause: 0x08,  # 4.5.15
    Q2931_IE_TYPE.IE_QOSClass: 0x5C,  # 4.5.18 (QoS parameter)
    Q2931_IE_TYPE.IE_TransitNetworkSelection: 0x78,  # 4.5.22
    Q2931_IE_TYPE.IE_BroadbandSendingComplete: 0x62,  # 4.5.21
    Q2931_IE_TYPE.IE_LIJCallId: 0xE8,  # UNI 4.0 LIJ call identifier
    Q2931_IE_TYPE.IE_Raw: None,
}

#: atm.h AAL_TYPE_* (bit flags) -> Q.2931 4.5.5 AAL type octet. AAL 0 has no Q.2931 coding.
NDIS_AAL_TYPE_TO_Q2931: dict[int, int] = {AAL_TYPE_AAL1: 0x01, AAL_TYPE_AAL34: 0x03, AAL_TYPE_AAL5: 0x05}

#: atm.h BCOB_* -> Q.2931 4.5.7 bearer class (octet 5 bits 5-1): BCOB-A 00001, BCOB-C 00011, BCOB-X 10000.
NDIS_BEARER_CLASS_TO_Q2931: dict[int, int] = {BCOB_A: 0x01, BCOB_C: 0x03, BCOB_X: 0x10}

# Every other coded field already holds its wire value, placed where the octet has it: TT_CBR 0x04 and
# TT_VBR 0x08 are the traffic-type bits 5-3 of octet 5a, TR_* its timing bits 2-1, CLIP_SUS 0x20 the
# clipping bits 7-6 of octet 6, UP_* the user-plane bits 2-1 of octet 6; AAL5 Mode and SSCSType, the QoS
# classes, the cause Location and Cause, BLLI protocol codes and BHLI types are the Q.2931 codes. (atm.h
# keeps UNI 3.0's cause numbers 0x33 and 0x5D for "user cell rate unavailable" and "AAL parameters cannot
# be supported"; UNI 3.1 moved the first to 37 and Q.2931 the second to 78.)
