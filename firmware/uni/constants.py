"""Code points of Q.2931 / Q.2971 messages and information elements, with their names.

Values are those of ITU-T Q.2931 (02/95) clause 4, Q.2971 (10/95) clause 9, Q.2610 (cause values) and,
for the leaf-initiated-join elements, the ATM Forum UNI Signalling 4.0 (af-sig-0061.000). Every enum is
an ``IntEnum`` so that a value read from the wire compares equal to its name; ``*_NAMES`` dicts map the
integer to the standard's own wording for display (scapy ``show()``, error messages, logs).
"""

from __future__ import annotations

from enum import IntEnum

# --- Message header (Q.2931 4.1 - 4.4) -------------------------------------------------------------------

#: Q.2931 4.2: protocol discriminator of Q.2931 user-network call control messages.
PROTOCOL_DISCRIMINATOR = 0x09
#: Q.2931 4.3: the call reference is 3 octets long (length octet 0000 0011).
CALL_REF_LENGTH = 3
#: Octets before the first information element: PD, length, 3 x call reference, type (2), length (2).
HEADER_OCTETS = 9
#: Q.2931 4.3: the global call reference (value zero) addresses all calls of a signalling channel.
GLOBAL_CALL_REF = 0
#: Q.2931 4.3: the dummy call reference (all ones).
DUMMY_CALL_REF = 0x7FFFFF
#: Largest 23-bit call reference value.
MAX_CALL_REF = 0x7FFFFF


class MessageType(IntEnum):
    """Q.2931 4.4.1 (Table 4-1) and Q.2971 9 message types."""

    ALERTING = 0x01
    CALL_PROCEEDING = 0x02
    SETUP = 0x05
    CONNECT = 0x07
    CONNECT_ACKNOWLEDGE = 0x0F
    RESTART = 0x46
    RELEASE = 0x4D
    RESTART_ACKNOWLEDGE = 0x4E
    RELEASE_COMPLETE = 0x5A
    NOTIFY = 0x6E
    STATUS_ENQUIRY = 0x75
    STATUS = 0x7D
    # Q.2971 point-to-multipoint messages
    ADD_PARTY = 0x80
    ADD_PARTY_ACKNOWLEDGE = 0x81
    ADD_PARTY_REJECT = 0x82
    DROP_PARTY = 0x83
    DROP_PARTY_ACKNOWLEDGE = 0x84
    PARTY_ALERTING = 0x85
    # leaf initiated join (UNI 4.0 clause 6)
    LEAF_SETUP_FAILURE = 0x90
    LEAF_SETUP_REQUEST = 0x91


MESSAGE_NAMES: dict[int, str] = {int(m): m.name.replace("_", " ") for m in MessageType}


class MessageAction(IntEnum):
    """Q.2931 4.4.2: message action indicator (bits 2-1 of the message compatibility instruction)."""

    CLEAR_CALL = 0
    DISCARD_AND_IGNORE = 1
    DISCARD_AND_REPORT_STATUS = 2
    RESERVED = 3  # Q.2931 5.7.1: treated as "discard and report status"


# --- Information elements (Q.2931 4.5) -------------------------------------------------------------------


class IEId(IntEnum):
    """Q.2931 4.5.1 (Table 4-3) information element identifiers, plus Q.2971 and UNI 4.0 additions."""

    CAUSE = 0x08
    CALL_STATE = 0x14
    NOTIFICATION_INDICATOR = 0x27
    END_TO_END_TRANSIT_DELAY = 0x42
    ENDPOINT_REFERENCE = 0x54  # Q.2971
    ENDPOINT_STATE = 0x55  # Q.2971
    AAL_PARAMETERS = 0x58
    ATM_TRAFFIC_DESCRIPTOR = 0x59
    CONNECTION_IDENTIFIER = 0x5A
    QOS_PARAMETER = 0x5C
    BROADBAND_HIGH_LAYER_INFORMATION = 0x5D
    BROADBAND_BEARER_CAPABILITY = 0x5E
    BROADBAND_LOW_LAYER_INFORMATION = 0x5F
    BROADBAND_LOCKING_SHIFT = 0x60
    BROADBAND_NON_LOCKING_SHIFT = 0x61
    BROADBAND_SENDING_COMPLETE = 0x62
    BROADBAND_REPEAT_INDICATOR = 0x63
    CALLING_PARTY_NUMBER = 0x6C
    CALLING_PARTY_SUBADDRESS = 0x6D
    CALLED_PARTY_NUMBER = 0x70
    CALLED_PARTY_SUBADDRESS = 0x71
    TRANSIT_NETWORK_SELECTION = 0x78
    RESTART_INDICATOR = 0x79
    LIJ_CALL_IDENTIFIER = 0xE8  # UNI 4.0, ATM Forum coding
    LIJ_PARAMETERS = 0xE9  # UNI 4.0, ATM Forum coding
    LEAF_SEQUENCE_NUMBER = 0xEA  # UNI 4.0, ATM Forum coding


IE_NAMES: dict[int, str] = {int(i): i.name.replace("_", " ").capitalize().replace("Qos", "QoS")
                            .replace("Aal", "AAL").replace("Atm", "ATM").replace("Lij", "LIJ")
                            for i in IEId}


class CodingStandard(IntEnum):
    """Q.2931 4.5.1: coding standard of an information element (bits 7-6 of its instruction octet)."""

    ITU_T = 0
    ISO_IEC = 1
    NATIONAL = 2
    NETWORK = 3  # "standard defined for the network": the ATM Forum's own elements and values


class IEAction(IntEnum):
    """Q.2931 4.5.1: IE action indicator (bits 3-1), obeyed when the IE instruction flag is set (5.7.2)."""

    CLEAR_CALL = 0
    DISCARD_IE_AND_PROCEED = 1
    DISCARD_IE_PROCEED_AND_REPORT_STATUS = 2
    DISCARD_MESSAGE_AND_IGNORE = 5
    DISCARD_MESSAGE_AND_REPORT_STATUS = 6


#: Largest contents (octets after the 4-octet IE header) Q.2931 allows; a longer IE is an IE content error
#: (Q.2931 5.6.8.2). Fixed-layout IEs are checked by their layout instead. Where the ATM Forum coding of
#: an IE allows more than the ITU-T one, the larger bound is used.
IE_MAX_CONTENTS: dict[int, int] = {
    IEId.CAUSE: 30,
    IEId.AAL_PARAMETERS: 17,
    IEId.BROADBAND_HIGH_LAYER_INFORMATION: 9,
    IEId.BROADBAND_BEARER_CAPABILITY: 3,
    IEId.BROADBAND_LOW_LAYER_INFORMATION: 13,
    IEId.CALLED_PARTY_NUMBER: 21,
    IEId.CALLING_PARTY_NUMBER: 22,
    IEId.CALLED_PARTY_SUBADDRESS: 21,
    IEId.CALLING_PARTY_SUBADDRESS: 21,
    IEId.END_TO_END_TRANSIT_DELAY: 9,
}

# --- Cause (Q.2931 4.5.15 -> Q.2610 / Q.850) --------------------------------------------------------------


class CauseLocation(IntEnum):
    """Q.850 2.2.5 location field (bits 4-1 of octet 5)."""

    USER = 0
    PRIVATE_NETWORK_LOCAL_USER = 1
    PUBLIC_NETWORK_LOCAL_USER = 2
    TRANSIT_NETWORK = 3
    PUBLIC_NETWORK_REMOTE_USER = 4
    PRIVATE_NETWORK_REMOTE_USER = 5
    INTERNATIONAL_NETWORK = 7
    BEYOND_INTERWORKING_POINT = 10


class CauseValue(IntEnum):
    """Q.2610 / Q.850 cause values used by B-ISDN signalling."""

    UNALLOCATED_NUMBER = 1
    NO_ROUTE_TO_TRANSIT_NETWORK = 2
    NO_ROUTE_TO_DESTINATION = 3
    VPCI_VCI_UNACCEPTABLE = 10
    NORMAL_CALL_CLEARING = 16
    USER_BUSY = 17
    NO_USER_RESPONDING = 18
    NO_ANSWER_FROM_USER = 19
    CALL_REJECTED = 21
    NUMBER_CHANGED = 22
    USER_REJECTS_CLIR = 23
    DESTINATION_OUT_OF_ORDER = 27
    INVALID_NUMBER_FORMAT = 28
    RESPONSE_TO_STATUS_ENQUIRY = 30
    NORMAL_UNSPECIFIED = 31
    TOO_MANY_PENDING_ADD_PARTY = 32
    REQUESTED_VPCI_VCI_NOT_AVAILABLE = 35
    VPCI_VCI_ASSIGNMENT_FAILURE = 36
    USER_CELL_RATE_NOT_AVAILABLE = 37
    NETWORK_OUT_OF_ORDER = 38
    TEMPORARY_FAILURE = 41
    ACCESS_INFORMATION_DISCARDED = 43
    NO_VPCI_VCI_AVAILABLE = 45
    RESOURCES_UNAVAILABLE = 47
    QOS_UNAVAILABLE = 49
    BEARER_CAPABILITY_NOT_AUTHORIZED = 57
    BEARER_CAPABILITY_NOT_PRESENTLY_AVAILABLE = 58
    SERVICE_OR_OPTION_NOT_AVAILABLE = 63
    BEARER_CAPABILITY_NOT_IMPLEMENTED = 65
    UNSUPPORTED_TRAFFIC_PARAMETERS = 73
    AAL_PARAMETERS_NOT_SUPPORTED = 78
    INVALID_CALL_REFERENCE = 81
    IDENTIFIED_CHANNEL_DOES_NOT_EXIST = 82
    INCOMPATIBLE_DESTINATION = 88
    INVALID_ENDPOINT_REFERENCE = 89
    INVALID_TRANSIT_NETWORK_SELECTION = 91
    TOO_MANY_PENDING_ADD_PARTY_REQUESTS = 92
    MANDATORY_IE_MISSING = 96
    MESSAGE_TYPE_NON_EXISTENT = 97
    IE_NON_EXISTENT = 99
    INVALID_IE_CONTENTS = 100
    MESSAGE_NOT_COMPATIBLE_WITH_CALL_STATE = 101
    RECOVERY_ON_TIMER_EXPIRY = 102
    INCORRECT_MESSAGE_LENGTH = 104
    PROTOCOL_ERROR_UNSPECIFIED = 111
    INTERWORKING_UNSPECIFIED = 127


CAUSE_NAMES: dict[int, str] = {int(c): c.name.replace("_", " ").lower() for c in CauseValue}

# --- Call and party states --------------------------------------------------------------------------------


class CallState(IntEnum):
    """Q.2931 2.1 call states (user side U*, network side N* share the numbers) and the restart states of
    the global call reference (Q.2931 2.3); the value carried in the Call state IE (4.5.10)."""

    NULL = 0
    CALL_INITIATED = 1
    OUTGOING_CALL_PROCEEDING = 3
    CALL_DELIVERED = 4
    CALL_PRESENT = 6
    CALL_RECEIVED = 7
    CONNECT_REQUEST = 8
    INCOMING_CALL_PROCEEDING = 9
    ACTIVE = 10
    RELEASE_REQUEST = 11
    RELEASE_INDICATION = 12
    RESTART_REQUEST = 61
    RESTART = 62


class PartyState(IntEnum):
    """Q.2971 party states, the value carried in the Endpoint state IE."""

    NULL = 0
    ADD_PARTY_INITIATED = 1
    PARTY_ALERTING_DELIVERED = 4
    ADD_PARTY_RECEIVED = 6
    PARTY_ALERTING_RECEIVED = 7
    ACTIVE = 10
    DROP_PARTY_INITIATED = 11
    DROP_PARTY_RECEIVED = 12


# --- Element-specific code points -------------------------------------------------------------------------


class AALType(IntEnum):
    """Q.2931 4.5.5 AAL type (octet 5)."""

    AAL1 = 0x01
    AAL2 = 0x02
    AAL3_4 = 0x03
    AAL5 = 0x05
    USER_DEFINED = 0x10


class AALSubfield(IntEnum):
    """Q.2931 4.5.5 subfield identifiers of the AAL parameters IE."""

    MID_RANGE = 0x82  # AAL 3/4 (UNI 3.1): lowest and highest MID, 2 octets each
    BACKWARD_MAX_CPCS_SDU_SIZE = 0x81
    MODE = 0x83  # UNI 3.1 only: 1 message, 2 streaming
    SSCS_TYPE = 0x84
    AAL1_SUBTYPE = 0x85
    AAL1_CBR_RATE = 0x86
    AAL1_MULTIPLIER = 0x87
    AAL1_SOURCE_CLOCK_RECOVERY = 0x88
    AAL1_ERROR_CORRECTION = 0x89
    AAL1_STRUCTURED_DATA_TRANSFER_BLOCKSIZE = 0x8A
    AAL1_PARTIALLY_FILLED_CELLS = 0x8B
    FORWARD_MAX_CPCS_SDU_SIZE = 0x8C


#: Octets of the value that follows each AAL parameters subfield identifier.
AAL_SUBFIELD_OCTETS: dict[int, int] = {
    0x81: 2, 0x82: 4, 0x83: 1, 0x84: 1, 0x85: 1, 0x86: 1, 0x87: 2,
    0x88: 1, 0x89: 1, 0x8A: 2, 0x8B: 1, 0x8C: 2,
}


class SSCSType(IntEnum):
    NULL = 0
    SSCOP_ASSURED = 1
    SSCOP_NON_ASSURED = 2
    FRAME_RELAY = 4


class TrafficSubfield(IntEnum):
    """Q.2931 4.5.6 ATM traffic descriptor subfield identifiers."""

    FORWARD_PCR_CLP0 = 0x82
    BACKWARD_PCR_CLP0 = 0x83
    FORWARD_PCR_CLP01 = 0x84
    BACKWARD_PCR_CLP01 = 0x85
    FORWARD_SCR_CLP0 = 0x88
    BACKWARD_SCR_CLP0 = 0x89
    FORWARD_SCR_CLP01 = 0x90
    BACKWARD_SCR_CLP01 = 0x91
    FORWARD_MBS_CLP0 = 0xA0
    BACKWARD_MBS_CLP0 = 0xA1
    FORWARD_MBS_CLP01 = 0xB0
    BACKWARD_MBS_CLP01 = 0xB1
    BEST_EFFORT = 0xBE  # no value follows
    TRAFFIC_MANAGEMENT_OPTIONS = 0xBF  # one octet


#: Octets of the value that follows each traffic descriptor subfield identifier.
TRAFFIC_SUBFIELD_OCTETS: dict[int, int] = {
    **{int(t): 3 for t in TrafficSubfield if t not in (TrafficSubfield.BEST_EFFORT,
                                                          TrafficSubfield.TRAFFIC_MANAGEMENT_OPTIONS)},
    TrafficSubfield.BEST_EFFORT: 0,
    TrafficSubfield.TRAFFIC_MANAGEMENT_OPTIONS: 1,
}

#: Traffic management options (octet 18 of Q.2931 4.5.6): tagging bits.
TAGGING_FORWARD = 0x01
TAGGING_BACKWARD = 0x02


class TransitDelaySubfield(IntEnum):
    """Q.2931 4.5.17 End-to-end transit delay subfield identifiers."""

    CUMULATIVE = 0x01  # 2 octets, ms
    MAXIMUM = 0x03  # 2 octets, ms (0xFFFF: any)
    NETWORK_GENERATED = 0x0A  # ATM Forum coding, no value


TRANSIT_DELAY_SUBFIELD_OCTETS: dict[int, int] = {0x01: 2, 0x03: 2, 0x0A: 0}


class BearerClass(IntEnum):
    """Q.2931 4.5.7 bearer class (octet 5, bits 5-1)."""

    BCOB_A = 0x01
    BCOB_C = 0x03
    BCOB_X = 0x10
    TRANSPARENT_VP = 0x18


class ATMTransferCapability(IntEnum):
    """Q.2931 4.5.7 ATM transfer capability (octet 5a)."""

    NO_BIT_RATE_INDICATION = 0x00
    CBR = 0x04
    CBR_CLR = 0x07
    VBR_RT = 0x09
    VBR_NRT = 0x0A
    VBR_NRT_CLR = 0x0B
    ABR = 0x0C


class Clipping(IntEnum):
    NOT_SUSCEPTIBLE = 0
    SUSCEPTIBLE = 1


class UserPlaneConfiguration(IntEnum):
    """Q.2931 4.5.7 user-plane connection configuration (octet 6, bits 2-1)."""

    POINT_TO_POINT = 0
    POINT_TO_MULTIPOINT = 1


class NumberType(IntEnum):
    """Q.2931 4.5.11 type of number (octet 5, bits 7-5)."""

    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK_SPECIFIC = 3
    SUBSCRIBER = 4
    ABBREVIATED = 6


class NumberingPlan(IntEnum):
    """Q.2931 4.5.11 addressing/numbering plan identification (octet 5, bits 4-1)."""

    UNKNOWN = 0
    E164 = 1
    NSAP = 2  # ISO NSAP addressing: the 20-octet ATM end system address (AESA)
    PRIVATE = 9


#: Q.2931 4.5.11: an NSAP-plan address is a 20-octet ATM end system address.
AESA_OCTETS = 20


class AESAFormat(IntEnum):
    """Initial domain part (first octet, AFI) of the ATM end system address formats."""

    DCC = 0x39
    ICD = 0x47
    E164 = 0x45


class Presentation(IntEnum):
    """Q.2931 4.5.13 presentation indicator (octet 5a, bits 7-6)."""

    ALLOWED = 0
    RESTRICTED = 1
    NOT_AVAILABLE = 2


class Screening(IntEnum):
    """Q.2931 4.5.13 screening indicator (octet 5a, bits 2-1)."""

    USER_PROVIDED_NOT_SCREENED = 0
    USER_PROVIDED_VERIFIED_PASSED = 1
    USER_PROVIDED_VERIFIED_FAILED = 2
    NETWORK_PROVIDED = 3


class SubaddressType(IntEnum):
    """Q.2931 4.5.12 type of subaddress (octet 5, bits 7-5)."""

    NSAP = 0
    USER_SPECIFIED_AESA = 1  # ATM Forum UNI 3.1/4.0
    USER_SPECIFIED = 2


class RestartClass(IntEnum):
    """Q.2931 4.5.20 restart class (octet 5, bits 3-1)."""

    INDICATED_VC = 0
    ALL_VCS_IN_INDICATED_VPC = 1  # UNI 4.0
    ALL_VCS = 2


class VPAssociatedSignalling(IntEnum):
    """Q.2931 4.5.16 VP-associated signalling (octet 5, bits 5-4)."""

    VP_ASSOCIATED = 0
    EXPLICIT_VPCI = 1


class PreferredExclusive(IntEnum):
    """Q.2931 4.5.16 preferred/exclusive (octet 5, bits 3-1)."""

    EXCLUSIVE_VPCI_EXCLUSIVE_VCI = 0
    EXCLUSIVE_VPCI_ANY_VCI = 1
    EXCLUSIVE_VPCI_NO_VCI = 4  # UNI 4.0 switched virtual paths


class HighLayerInformationType(IntEnum):
    """Q.2931 4.5.8 high layer information type (octet 5, bits 7-1)."""

    ISO_IEC = 0
    USER_SPECIFIC = 1
    HIGH_LAYER_PROFILE = 2  # UNI 3.1
    VENDOR_SPECIFIC = 3
    BISDN_TELESERVICE = 4


class Layer2Protocol(IntEnum):
    """Q.2931 4.5.9 user information layer 2 protocol (octet 6, bits 5-1)."""

    BASIC_MODE_ISO_1745 = 0x01
    Q921 = 0x02
    X25_LINK_LAYER = 0x06
    X25_MULTILINK = 0x07
    T71_EXTENDED_LAPB = 0x08
    HDLC_ARM = 0x09
    HDLC_NRM = 0x0A
    HDLC_ABM = 0x0B
    ISO_8802_2_LLC = 0x0C
    X75_SLP = 0x0D
    Q922 = 0x0E
    USER_SPECIFIED = 0x10
    ISO_7776 = 0x11


class Layer3Protocol(IntEnum):
    """Q.2931 4.5.9 user information layer 3 protocol (octet 7, bits 5-1)."""

    X25_PACKET_LAYER = 0x06
    ISO_8208 = 0x07
    X223_ISO_8878 = 0x08
    ISO_8473 = 0x09
    T70 = 0x0A
    ISO_TR_9577 = 0x0B
    USER_SPECIFIED = 0x10


#: ISO/IEC TR 9577 initial protocol identifiers (octets 7a/7b of the BLLI IE).
IPI_SNAP = 0x80
IPI_IP = 0xCC
#: BLLI octet 8: "SNAP identifier" (ext 1, 00, spare) that precedes OUI and PID when the IPI is SNAP.
BLLI_SNAP_ID = 0x80
#: Extension octets the BLLI layer 2 (6a, 6b) and layer 3 (7a, 7b, 7c) groups may carry.
BLLI_MAX_L2_EXTENSION = 2
BLLI_MAX_L3_EXTENSION = 3


class RepeatIndication(IntEnum):
    """Q.2931 4.5.19 broadband repeat indication."""

    PRIORITIZED_LIST = 2


#: Q.2931 4.5.21: the broadband sending complete indication (bits 7-1, ext bit 1: octet 0xA1).
SENDING_COMPLETE_INDICATION = 0x21


class LIJIdentifierType(IntEnum):
    """UNI 4.0 LIJ call identifier type."""

    ROOT_ASSIGNED = 0


class LIJScreening(IntEnum):
    """UNI 4.0 LIJ parameters: screening indication."""

    NETWORK_JOIN_WITHOUT_ROOT_NOTIFICATION = 0
