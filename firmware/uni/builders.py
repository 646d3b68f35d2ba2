"""Builders that read like the standard: one function per message and per information element.

Messages (CapWords, like the standard's message names) return the scapy message, IEs in the order of the
standard's message contents table (:mod:`firmware.uni.contents`)::

    AddParty(call_ref=7, endpoint_ref=3, called="39.840f.80.113744.0000.0000.0001.0000.0000.0002.00")
    DropParty(7, 3, cause=16)
    AddPartyReject(7, 3, cause=CauseValue.USER_BUSY)
    Setup(7, called=aesa(...), endpoint_ref=0)          # point-to-multipoint by default

Common keywords: ``flag`` is the call reference flag (Q.2931 4.3: 0 in messages sent by the side that
allocated the call reference, 1 in messages sent to it). Each builder's default is the flag of its usual
sender: SETUP, ADD PARTY, CONNECT ACKNOWLEDGE come from the allocating side (0); the answers CALL
PROCEEDING, ALERTING, CONNECT, ADD PARTY ACKNOWLEDGE / REJECT, PARTY ALERTING, RESTART ACKNOWLEDGE and
LEAF SETUP FAILURE go to it (1); the rest default to 0 and take whatever the caller knows.
``endpoint_flag`` (default: same as ``flag``, since one side allocates both the call reference and the
endpoint references on a UNI) is the endpoint reference flag. ``action`` set to a
:class:`~firmware.uni.constants.MessageAction` fills the message compatibility instruction with flag 1
and that action (Q.2931 4.4.2). ``extra_ies`` are appended as given (unknown elements included).

Wherever an element is expected, a plain value is accepted too: an int for a cause or endpoint reference,
an address for a party number (20 octets or 40 hex digits, with or without dots: an AESA; digits,
optionally after "+": an E.164 number), or the scapy element itself.

Information elements (lower case) validate their values and raise
:class:`~firmware.uni.errors.UniEncodeError` (a ``FieldError``) for values their fields cannot carry.
"""

from __future__ import annotations

import string
from typing import Iterable

from firmware.uni.constants import (AESA_OCTETS, GLOBAL_CALL_REF, IPI_SNAP, SENDING_COMPLETE_INDICATION,
                                    TAGGING_BACKWARD, TAGGING_FORWARD, AALSubfield, AALType, BearerClass,
                                    CallState, CauseLocation, CauseValue, Clipping, CodingStandard,
                                    Layer3Protocol, NumberingPlan, NumberType,
                                    PreferredExclusive, RestartClass, SubaddressType, TrafficSubfield,
                                    TransitDelaySubfield, UserPlaneConfiguration, VPAssociatedSignalling)
from firmware.uni.errors import UniEncodeError
from firmware.uni.ie import InformationElement
from firmware.uni.ies import (AALParametersIE, ATMTrafficDescriptorIE, BroadbandBearerCapabilityIE,
                              BroadbandHighLayerInformationIE, BroadbandLowLayerInformationIE,
                              BroadbandRepeatIndicatorIE, BroadbandSendingCompleteIE, CalledPartyNumberIE,
                              CalledPartySubaddressIE, CallingPartyNumberIE, CallingPartySubaddressIE,
                              CallStateIE, CauseIE, ConnectionIdentifierIE, EndpointReferenceIE,
                              EndpointStateIE, EndToEndTransitDelayIE, LeafSequenceNumberIE,
                              LIJCallIdentifierIE, LIJParametersIE, NotificationIndicatorIE, QoSParameterIE,
                              RestartIndicatorIE, TransitNetworkSelectionIE)
from firmware.uni.message import Q2931
from firmware.uni import messages as m

# -- value checks -------------------------------------------------------------------------------------------


def _uint(name: str, value, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise UniEncodeError(name, value, f"an integer 0..{(1 << bits) - 1}")
    return int(value)


def _octets(name: str, value, limit: int | None = None) -> bytes:
    if isinstance(value, str):
        try:
            value = value.encode("ascii")
        except UnicodeEncodeError:
            raise UniEncodeError(name, value, "IA5 (ASCII) characters") from None
    if not isinstance(value, (bytes, bytearray)):
        raise UniEncodeError(name, value, "bytes")
    if limit is not None and len(value) > limit:
        raise UniEncodeError(name, value, f"at most {limit} octets")
    return bytes(value)


def _instruction(flag: int, action: int, coding: int, pass_along: int = 0) -> dict:
    return {"flag": _uint("flag", flag, 1), "action": _uint("action", action, 3),
            "coding_standard": _uint("coding_standard", coding, 2), "pass_along": _uint("pass_along", pass_along, 1)}


def instruct(element: InformationElement, action: int, *, coding: int | None = None,
             pass_along: int = 0) -> InformationElement:
    """``element`` with its IE instruction flag set and this :class:`~firmware.uni.constants.IEAction`
    (Q.2931 4.5.1): what a receiver that does not understand it must do (5.7.2)."""
    element.flag = 1
    element.action = _uint("action", int(action), 3)
    element.pass_along = _uint("pass_along", pass_along, 1)
    if coding is not None:
        element.coding_standard = _uint("coding", int(coding), 2)
    return element


# -- addresses ----------------------------------------------------------------------------------------------


def aesa(text) -> bytes:
    """The 20 octets of an ATM end system address given as bytes or as 40 hex digits (dots, colons and
    spaces allowed as separators, as in "39.840f.80.113744.0000.0000.0001.0000.0000.0001.00")."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) != AESA_OCTETS:
            raise UniEncodeError("aesa", bytes(text), f"{AESA_OCTETS} octets")
        return bytes(text)
    digits = str(text).translate({ord(c): None for c in ".: "})
    if len(digits) != 2 * AESA_OCTETS or any(c not in string.hexdigits for c in digits):
        raise UniEncodeError("aesa", text, "40 hex digits")
    return bytes.fromhex(digits)


def _number_fields(address, number_type, plan) -> dict:
    if isinstance(address, (bytes, bytearray)) and len(address) == AESA_OCTETS:
        fields = {"numbering_plan": NumberingPlan.NSAP, "number_type": NumberType.UNKNOWN, "address": bytes(address)}
    elif isinstance(address, str) and (address.lstrip("+").isdigit() and len(address.lstrip("+")) <= 15):
        fields = {"numbering_plan": NumberingPlan.E164, "number_type": NumberType.INTERNATIONAL,
                  "address": address.lstrip("+").encode("ascii")}
    elif isinstance(address, str):
        fields = {"numbering_plan": NumberingPlan.NSAP, "number_type": NumberType.UNKNOWN, "address": aesa(address)}
    else:
        raise UniEncodeError("address", address, "a 20-octet AESA (bytes or hex) or E.164 digits")
    if number_type is not None:
        fields["number_type"] = _uint("number_type", number_type, 3)
    if plan is not None:
        fields["numbering_plan"] = _uint("numbering_plan", plan, 4)
    return fields


# -- information elements -----------------------------------------------------------------------------------


def cause(value: int = CauseValue.NORMAL_CALL_CLEARING, location: int = CauseLocation.USER,
          diagnostics: bytes = b"", *, coding: int = CodingStandard.ITU_T, flag: int = 0, action: int = 0) -> CauseIE:
    """Cause IE (Q.2931 4.5.15): cause value (Q.2610), location, diagnostics octets."""
    return CauseIE(cause_value=_uint("cause_value", value, 7), location=_uint("location", location, 4),
                   diagnostics=_octets("diagnostics", diagnostics, 28), **_instruction(flag, action, coding))


def ie_diagnostics(*identifiers: int) -> bytes:
    """Cause diagnostics naming information elements (causes 96, 99, 100)."""
    return bytes(_uint("identifier", i, 8) for i in identifiers)


def call_state(state: int = CallState.NULL) -> CallStateIE:
    return CallStateIE(call_state=_uint("call_state", state, 6))


def endpoint_reference(value: int, flag: int = 0) -> EndpointReferenceIE:
    """Endpoint reference IE (Q.2971): 15-bit value; flag 1 in messages sent to the allocating side."""
    return EndpointReferenceIE(ref_value=_uint("endpoint_ref", value, 15), ref_flag=_uint("endpoint_flag", flag, 1))


def endpoint_state(state: int) -> EndpointStateIE:
    return EndpointStateIE(party_state=_uint("party_state", state, 6))


def aal_parameters(aal_type: int, subfields: Iterable[tuple[int, int | None]] = (),
                   tail: bytes = b"") -> AALParametersIE:
    return AALParametersIE(aal_type=_uint("aal_type", aal_type, 8), subfields=list(subfields),
                           tail=_octets("tail", tail))


def aal5(forward_max_sdu: int = 9188, backward_max_sdu: int = 9188, *, sscs_type: int | None = None,
         mode: int | None = None) -> AALParametersIE:
    """AAL parameters for AAL 5: maximum CPCS-SDU sizes (default 9188, the classical IP MTU), optional SSCS
    type and (UNI 3.1) mode."""
    subfields = [(AALSubfield.FORWARD_MAX_CPCS_SDU_SIZE, _uint("forward_max_sdu", forward_max_sdu, 16)),
                 (AALSubfield.BACKWARD_MAX_CPCS_SDU_SIZE, _uint("backward_max_sdu", backward_max_sdu, 16))]
    if mode is not None:
        subfields.append((AALSubfield.MODE, _uint("mode", mode, 8)))
    if sscs_type is not None:
        subfields.append((AALSubfield.SSCS_TYPE, _uint("sscs_type", sscs_type, 8)))
    return aal_parameters(AALType.AAL5, subfields)


_TRAFFIC_KEYWORDS = {
    "forward_pcr_0": TrafficSubfield.FORWARD_PCR_CLP0, "backward_pcr_0": TrafficSubfield.BACKWARD_PCR_CLP0,
    "forward_pcr_01": TrafficSubfield.FORWARD_PCR_CLP01, "backward_pcr_01": TrafficSubfield.BACKWARD_PCR_CLP01,
    "forward_scr_0": TrafficSubfield.FORWARD_SCR_CLP0, "backward_scr_0": TrafficSubfield.BACKWARD_SCR_CLP0,
    "forward_scr_01": TrafficSubfield.FORWARD_SCR_CLP01, "backward_scr_01": TrafficSubfield.BACKWARD_SCR_CLP01,
    "forward_mbs_0": TrafficSubfield.FORWARD_MBS_CLP0, "backward_mbs_0": TrafficSubfield.BACKWARD_MBS_CLP0,
    "forward_mbs_01": TrafficSubfield.FORWARD_MBS_CLP01, "backward_mbs_01": TrafficSubfield.BACKWARD_MBS_CLP01,
}


def traffic_descriptor(*, best_effort: bool = False, tagging_forward: bool = False, tagging_backward: bool = False,
                       coding: int = CodingStandard.ITU_T, **rates: int) -> ATMTrafficDescriptorIE:
    """ATM traffic descriptor IE (Q.2931 4.5.6). Rates as keywords in cells/s (burst sizes in cells):
    ``forward_pcr_01``, ``backward_pcr_01``, ``forward_pcr_0``, ``forward_scr_0``, ``forward_mbs_0``...
    (``_0`` = CLP 0, ``_01`` = CLP 0+1); ``best_effort`` adds the best effort indicator; tagging options
    add the traffic management options octet."""
    subfields = []
    for keyword, value in rates.items():
        if keyword not in _TRAFFIC_KEYWORDS:
            raise UniEncodeError(keyword, value, "one of " + ", ".join(_TRAFFIC_KEYWORDS))
        if value is not None:
            subfields.append((_TRAFFIC_KEYWORDS[keyword], _uint(keyword, value, 24)))
    subfields.sort()
    if best_effort:
        subfields.append((TrafficSubfield.BEST_EFFORT, None))
    if tagging_forward or tagging_backward:
        subfields.append((TrafficSubfield.TRAFFIC_MANAGEMENT_OPTIONS,
                          (TAGGING_FORWARD if tagging_forward else 0) | (TAGGING_BACKWARD if tagging_backward else 0)))
    return ATMTrafficDescriptorIE(subfields=subfields, coding_standard=_uint("coding", coding, 2))


def best_effort(forward_pcr: int = 353_207, backward_pcr: int = 353_207) -> ATMTrafficDescriptorIE:
    """UBR traffic: peak cell rates (CLP 0+1, default OC-3c line rate) and the best effort indicator."""
    return traffic_descriptor(forward_pcr_01=forward_pcr, backward_pcr_01=backward_pcr, best_effort=True)


def connection_identifier(vpci: int, vci: int, *, vp_associated: int = VPAssociatedSignalling.EXPLICIT_VPCI,
                          pref_excl: int = PreferredExclusive.EXCLUSIVE_VPCI_EXCLUSIVE_VCI) -> ConnectionIdentifierIE:
    return ConnectionIdentifierIE(vpci=_uint("vpci", vpci, 16), vci=_uint("vci", vci, 16),
                                  vp_associated=_uint("vp_associated", vp_associated, 2),
                                  pref_excl=_uint("pref_excl", pref_excl, 3))


def qos_parameter(forward: int = 0, backward: int = 0, *, coding: int = CodingStandard.ITU_T) -> QoSParameterIE:
    """QoS parameter IE: forward and backward QoS class (0 = unspecified, as for UBR)."""
    return QoSParameterIE(qos_forward=_uint("qos_forward", forward, 8), qos_backward=_uint("qos_backward", backward, 8),
                          coding_standard=_uint("coding", coding, 2))


def bearer_capability(bearer_class: int = BearerClass.BCOB_X, *, atc: int | None = None, clipping: bool = False,
                      point_to_multipoint: bool = False) -> BroadbandBearerCapabilityIE:
    """Broadband bearer capability IE (Q.2931 4.5.7)."""
    return BroadbandBearerCapabilityIE(
        bearer_class=_uint("bearer_class", bearer_class, 5), atc=None if atc is None else _uint("atc", atc, 7),
        clipping=Clipping.SUSCEPTIBLE if clipping else Clipping.NOT_SUSCEPTIBLE,
        up_config=(UserPlaneConfiguration.POINT_TO_MULTIPOINT if point_to_multipoint
                   else UserPlaneConfiguration.POINT_TO_POINT))


def high_layer_information(hli_type: int, info: bytes = b"") -> BroadbandHighLayerInformationIE:
    return BroadbandHighLayerInformationIE(hli_type=_uint("hli_type", hli_type, 7), info=_octets("info", info, 8))


def low_layer_information(*, l1: int | None = None, l2: int | None = None, l2_extension: bytes = b"",
                          l3: int | None = None, l3_extension: bytes = b"", ipi: int | None = None,
                          snap: tuple[int, int] | None = None, tail: bytes = b"") -> BroadbandLowLayerInformationIE:
    """Broadband low layer information IE (Q.2931 4.5.9). ``l2=Layer2Protocol.ISO_8802_2_LLC`` gives LLC
    encapsulation; ``ipi=IPI_SNAP, snap=(oui, pid)`` the ISO/IEC TR 9577 layer 3 with a SNAP header
    (``ipi`` sets the layer 3 protocol to TR 9577 and writes octets 7a/7b)."""
    if ipi is not None:
        ipi = _uint("ipi", ipi, 8)
        if l3 is None:
            l3 = Layer3Protocol.ISO_TR_9577
        l3_extension = bytes((ipi >> 1 & 0x7F, 0x80 | (ipi & 1) << 6))
    if snap is not None and (ipi != IPI_SNAP):
        raise UniEncodeError("snap", snap, "only with ipi=IPI_SNAP (0x80)")
    for name, ext, limit in (("l2_extension", l2_extension, 2), ("l3_extension", l3_extension, 3)):
        ext = _octets(name, ext, limit)
        if ext and (any(o & 0x80 for o in ext[:-1]) or not ext[-1] & 0x80):
            raise UniEncodeError(name, ext, "extension octets with ext 0 except the last")
    if l2_extension and l2 is None or l3_extension and l3 is None:
        raise UniEncodeError("extension", (l2_extension, l3_extension), "extension octets only with their protocol")
    oui, pid = (None, None) if snap is None else (_uint("oui", snap[0], 24), _uint("pid", snap[1], 16))
    return BroadbandLowLayerInformationIE(
        l1_protocol=None if l1 is None else _uint("l1", l1, 5), l2_protocol=None if l2 is None else _uint("l2", l2, 5),
        l2_extension=bytes(l2_extension), l3_protocol=None if l3 is None else _uint("l3", l3, 5),
        l3_extension=bytes(l3_extension), snap_oui=oui, snap_pid=pid, tail=_octets("tail", tail))


def repeat_indicator(indication: int = 2) -> BroadbandRepeatIndicatorIE:
    return BroadbandRepeatIndicatorIE(repeat_indication=_uint("repeat_indication", indication, 4))


def sending_complete() -> BroadbandSendingCompleteIE:
    return BroadbandSendingCompleteIE(indication=SENDING_COMPLETE_INDICATION)


_sending_complete_ie = sending_complete


def called_party_number(address, *, number_type: int | None = None, plan: int | None = None) -> CalledPartyNumberIE:
    """Called party number IE: an AESA (NSAP plan) or E.164 digits."""
    return CalledPartyNumberIE(**_number_fields(address, number_type, plan))


def calling_party_number(address, *, number_type: int | None = None, plan: int | None = None,
                         presentation: int | None = None, screening: int | None = None) -> CallingPartyNumberIE:
    """Calling party number IE; with ``presentation`` (and ``screening``) octet 5a is present."""
    fields = _number_fields(address, number_type, plan)
    if presentation is None and screening is not None:
        raise UniEncodeError("screening", screening, "given only with presentation (octet 5a)")
    if presentation is not None:
        fields.update(presentation=_uint("presentation", presentation, 2),
                      screening=_uint("screening", screening or 0, 2))
    return CallingPartyNumberIE(**fields)


def called_party_subaddress(subaddress: bytes, *, subaddress_type: int = SubaddressType.NSAP,
                            odd: bool = False) -> CalledPartySubaddressIE:
    return CalledPartySubaddressIE(subaddress=_octets("subaddress", subaddress, 20),
                                   subaddress_type=_uint("subaddress_type", subaddress_type, 3), odd_even=int(odd))


def calling_party_subaddress(subaddress: bytes, *, subaddress_type: int = SubaddressType.NSAP,
                             odd: bool = False) -> CallingPartySubaddressIE:
    return CallingPartySubaddressIE(subaddress=_octets("subaddress", subaddress, 20),
                                    subaddress_type=_uint("subaddress_type", subaddress_type, 3), odd_even=int(odd))


def restart_indicator(restart_class: int = RestartClass.ALL_VCS) -> RestartIndicatorIE:
    return RestartIndicatorIE(restart_class=_uint("restart_class", restart_class, 3))


def transit_network_selection(network_id, *, id_type: int = 2, plan: int = 1) -> TransitNetworkSelectionIE:
    """Transit network selection IE: a carrier identification code (IA5) by default."""
    return TransitNetworkSelectionIE(network_id=_octets("network_id", network_id, 4),
                                     network_id_type=_uint("id_type", id_type, 3),
                                     network_id_plan=_uint("plan", plan, 4))


def notification_indicator(description: bytes) -> NotificationIndicatorIE:
    return NotificationIndicatorIE(description=_octets("description", description))


def transit_delay(*, cumulative: int | None = None, maximum: int | None = None) -> EndToEndTransitDelayIE:
    """End-to-end transit delay IE: cumulative and maximum delay in ms (0xFFFF maximum: any)."""
    subfields = []
    if cumulative is not None:
        subfields.append((TransitDelaySubfield.CUMULATIVE, _uint("cumulative", cumulative, 16)))
    if maximum is not None:
        subfields.append((TransitDelaySubfield.MAXIMUM, _uint("maximum", maximum, 16)))
    return EndToEndTransitDelayIE(subfields=subfields)


def lij_call_identifier(value: int, id_type: int = 0) -> LIJCallIdentifierIE:
    return LIJCallIdentifierIE(lij_id_value=_uint("lij_call_id", value, 32), lij_id_type=_uint("id_type", id_type, 4))


def lij_parameters(screening: int = 0) -> LIJParametersIE:
    return LIJParametersIE(screening=_uint("screening", screening, 4))


def leaf_sequence_number(number: int) -> LeafSequenceNumberIE:
    return LeafSequenceNumberIE(sequence_number=_uint("leaf_sequence", number, 32))


# -- coercion of plain values --------------------------------------------------------------------------------


def _as(cls, value, make):
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, InformationElement):
        raise UniEncodeError(cls.name, value, f"a {cls.name} element")
    return make(value)


def _cause(value):
    if isinstance(value, tuple):
        return cause(*value)
    return _as(CauseIE, value, cause)


def _causes(value) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        if len(value) > 2:
            raise UniEncodeError("cause", value, "at most 2 Cause elements")
        return [_cause(v) for v in value]
    return [_cause(value)]


def _epref(value, flag):
    if value is None or isinstance(value, EndpointReferenceIE):
        return value
    return endpoint_reference(value, flag)


def _message(cls, call_ref: int, flag: int, action, ies: list, extra_ies) -> Q2931:
    header = {"call_ref": _uint("call_ref", call_ref, 23), "call_ref_flag": _uint("flag", flag, 1)}
    if action is not None:
        header.update(flag=1, action=_uint("action", int(action), 2))
    return cls(**header, ies=[ie for ie in ies if ie is not None] + list(extra_ies))


# -- messages: Q.2931 3.1 ------------------------------------------------------------------------------------


def Setup(call_ref: int, *, called, traffic=None, bearer=None, qos=None, aal=None, blli=None, bhli=None,
          calling=None, called_sub=None, calling_sub=None, connection_id=None, e2e_delay=None,
          endpoint_ref=0, sending_complete: bool = False, transit_network=None, notify=None,
          repeat=None, flag: int = 0, endpoint_flag: int | None = None, action=None, extra_ies=()) -> Q2931:
    """SETUP. Defaults: best effort traffic, BCOB-X point-to-multipoint bearer (endpoint reference 0, the
    first party), QoS class unspecified. Pass ``endpoint_ref=None`` and a point-to-point ``bearer`` for a
    point-to-point call; ``blli`` may be a list of up to 3 (with ``repeat``)."""
    bearer = bearer if bearer is not None else bearer_capability(point_to_multipoint=endpoint_ref is not None)
    blli_list = blli if isinstance(blli, list) else ([] if blli is None else [blli])
    if len(blli_list) > 3:
        raise UniEncodeError("blli", blli, "at most 3 BLLI elements")
    if len(blli_list) > 1 and repeat is None:
        repeat = repeat_indicator()
    ies = [aal, traffic if traffic is not None else best_effort(), bearer, bhli, repeat, *blli_list,
           _as(CalledPartyNumberIE, called, called_party_number), called_sub,
           _as(CallingPartyNumberIE, calling, calling_party_number), calling_sub, connection_id, e2e_delay,
           qos if qos is not None else qos_parameter(), _sending_complete_ie() if sending_complete else None,
           transit_network, notify, _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)]
    return _message(m.SetupMessage, call_ref, flag, action, ies, extra_ies)


def CallProceeding(call_ref: int, *, connection_id=None, notify=None, endpoint_ref=None, flag: int = 1,
                   endpoint_flag: int | None = None, action=None, extra_ies=()) -> Q2931:
    return _message(m.CallProceedingMessage, call_ref, flag, action,
                    [connection_id, notify, _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)],
                    extra_ies)


def Alerting(call_ref: int, *, connection_id=None, notify=None, endpoint_ref=None, flag: int = 1,
             endpoint_flag: int | None = None, action=None, extra_ies=()) -> Q2931:
    return _message(m.AlertingMessage, call_ref, flag, action,
                    [connection_id, notify, _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)],
                    extra_ies)


def Connect(call_ref: int, *, aal=None, blli=None, connection_id=None, e2e_delay=None, notify=None,
            endpoint_ref=None, flag: int = 1, endpoint_flag: int | None = None, action=None, extra_ies=()) -> Q2931:
    return _message(m.ConnectMessage, call_ref, flag, action,
                    [aal, blli, connection_id, e2e_delay, notify,
                     _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)], extra_ies)


def ConnectAcknowledge(call_ref: int, *, notify=None, flag: int = 0, action=None, extra_ies=()) -> Q2931:
    return _message(m.ConnectAcknowledgeMessage, call_ref, flag, action, [notify], extra_ies)


def Release(call_ref: int, cause=CauseValue.NORMAL_CALL_CLEARING, *, notify=None, flag: int = 0, action=None,
            extra_ies=()) -> Q2931:
    """RELEASE with one Cause (an int, a (value, location) pair or a CauseIE) or a list of two."""
    return _message(m.ReleaseMessage, call_ref, flag, action, [*_causes(cause), notify], extra_ies)


def ReleaseComplete(call_ref: int, cause=None, *, flag: int = 0, action=None, extra_ies=()) -> Q2931:
    return _message(m.ReleaseCompleteMessage, call_ref, flag, action, _causes(cause), extra_ies)


def Status(call_ref: int, state=CallState.ACTIVE, cause=CauseValue.RESPONSE_TO_STATUS_ENQUIRY, *,
           endpoint_ref=None, party_state=None, flag: int = 0, endpoint_flag: int | None = None, action=None,
           extra_ies=()) -> Q2931:
    """STATUS: call state and cause (default 30, response to STATUS ENQUIRY), for a party the endpoint
    reference and its party state."""
    state = _as(CallStateIE, state, call_state)
    ep_state = _as(EndpointStateIE, party_state, endpoint_state)
    return _message(m.StatusMessage, call_ref, flag, action,
                    [state, _cause(cause), _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag),
                     ep_state], extra_ies)


def StatusEnquiry(call_ref: int, *, endpoint_ref=None, flag: int = 0, endpoint_flag: int | None = None,
                  action=None, extra_ies=()) -> Q2931:
    return _message(m.StatusEnquiryMessage, call_ref, flag, action,
                    [_epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)], extra_ies)


def Notify(call_ref: int, notification=b"\x80", *, endpoint_ref=None, flag: int = 0,
           endpoint_flag: int | None = None, action=None, extra_ies=()) -> Q2931:
    return _message(m.NotifyMessage, call_ref, flag, action,
                    [_as(NotificationIndicatorIE, notification, notification_indicator),
                     _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)], extra_ies)


# -- messages: Q.2931 3.2 (global call reference) -------------------------------------------------------------


def Restart(restart_class: int = RestartClass.ALL_VCS, *, connection_id=None, call_ref: int = GLOBAL_CALL_REF,
            flag: int = 0, action=None, extra_ies=()) -> Q2931:
    """RESTART on the global call reference; ``connection_id`` names the VC for class "indicated VC"."""
    return _message(m.RestartMessage, call_ref, flag, action,
                    [connection_id, _as(RestartIndicatorIE, restart_class, restart_indicator)], extra_ies)


def RestartAcknowledge(restart_class: int = RestartClass.ALL_VCS, *, connection_id=None,
                       call_ref: int = GLOBAL_CALL_REF, flag: int = 1, action=None, extra_ies=()) -> Q2931:
    return _message(m.RestartAcknowledgeMessage, call_ref, flag, action,
                    [connection_id, _as(RestartIndicatorIE, restart_class, restart_indicator)], extra_ies)


# -- messages: Q.2971 9 ----------------------------------------------------------------------------------------


def AddParty(call_ref: int, endpoint_ref, called, *, aal=None, bhli=None, blli=None, called_sub=None,
             calling=None, calling_sub=None, e2e_delay=None, notify=None, sending_complete: bool = False,
             transit_network=None, leaf_sequence=None, flag: int = 0, endpoint_flag: int | None = None,
             action=None, extra_ies=()) -> Q2931:
    """ADD PARTY: add the party ``called`` to the point-to-multipoint call ``call_ref`` as endpoint
    ``endpoint_ref``."""
    ies = [aal, bhli, blli, _as(CalledPartyNumberIE, called, called_party_number), called_sub,
           _as(CallingPartyNumberIE, calling, calling_party_number), calling_sub, e2e_delay, notify,
           _sending_complete_ie() if sending_complete else None, transit_network,
           _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag),
           _as(LeafSequenceNumberIE, leaf_sequence, leaf_sequence_number)]
    return _message(m.AddPartyMessage, call_ref, flag, action, ies, extra_ies)


def AddPartyAcknowledge(call_ref: int, endpoint_ref, *, aal=None, blli=None, e2e_delay=None, notify=None,
                        flag: int = 1, endpoint_flag: int | None = None, action=None, extra_ies=()) -> Q2931:
    return _message(m.AddPartyAcknowledgeMessage, call_ref, flag, action,
                    [_epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag), aal, blli, e2e_delay,
                     notify], extra_ies)


def AddPartyReject(call_ref: int, endpoint_ref, *, cause, flag: int = 1, endpoint_flag: int | None = None,
                   action=None, extra_ies=()) -> Q2931:
    return _message(m.AddPartyRejectMessage, call_ref, flag, action,
                    [_cause(cause), _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)], extra_ies)


def PartyAlerting(call_ref: int, endpoint_ref, *, notify=None, flag: int = 1, endpoint_flag: int | None = None,
                  action=None, extra_ies=()) -> Q2931:
    return _message(m.PartyAlertingMessage, call_ref, flag, action,
                    [_epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag), notify], extra_ies)


def DropParty(call_ref: int, endpoint_ref, cause=CauseValue.NORMAL_CALL_CLEARING, *, notify=None, flag: int = 0,
              endpoint_flag: int | None = None, action=None, extra_ies=()) -> Q2931:
    return _message(m.DropPartyMessage, call_ref, flag, action,
                    [_cause(cause), _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag), notify],
                    extra_ies)


def DropPartyAcknowledge(call_ref: int, endpoint_ref, cause=None, *, flag: int = 0,
                         endpoint_flag: int | None = None, action=None, extra_ies=()) -> Q2931:
    return _message(m.DropPartyAcknowledgeMessage, call_ref, flag, action,
                    [_epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag), _cause(cause)], extra_ies)


# -- messages: UNI 4.0 6 (leaf initiated join) ---------------------------------------------------------------


def LeafSetupRequest(call_ref: int, *, calling, called, lij_call_id: int, leaf_sequence: int, calling_sub=None,
                     called_sub=None, transit_network=None, flag: int = 0, action=None, extra_ies=()) -> Q2931:
    """LEAF SETUP REQUEST from a leaf (``calling``) asking to join the root's (``called``) call."""
    ies = [transit_network, _as(CallingPartyNumberIE, calling, calling_party_number), calling_sub,
           _as(CalledPartyNumberIE, called, called_party_number), called_sub,
           _as(LIJCallIdentifierIE, lij_call_id, lij_call_identifier),
           _as(LeafSequenceNumberIE, leaf_sequence, leaf_sequence_number)]
    return _message(m.LeafSetupRequestMessage, call_ref, flag, action, ies, extra_ies)


def LeafSetupFailure(call_ref: int, *, cause, leaf_sequence: int, called=None, called_sub=None,
                     transit_network=None, flag: int = 1, action=None, extra_ies=()) -> Q2931:
    ies = [_cause(cause), _as(CalledPartyNumberIE, called, called_party_number), called_sub, transit_network,
           _as(LeafSequenceNumberIE, leaf_sequence, leaf_sequence_number)]
    return _message(m.LeafSetupFailureMessage, call_ref, flag, action, ies, extra_ies)


#: Every message builder, by message type.
MESSAGE_BUILDERS = {
    0x01: Alerting, 0x02: CallProceeding, 0x05: Setup, 0x07: Connect, 0x0F: ConnectAcknowledge,
    0x46: Restart, 0x4D: Release, 0x4E: RestartAcknowledge, 0x5A: ReleaseComplete, 0x6E: Notify,
    0x75: StatusEnquiry, 0x7D: Status, 0x80: AddParty, 0x81: AddPartyAcknowledge, 0x82: AddPartyReject,
    0x83: DropParty, 0x84: DropPartyAcknowledge, 0x85: PartyAlerting, 0x90: LeafSetupFailure,
    0x91: LeafSetupRequest,
}

__all__ = [
    # messages
    "AddParty", "AddPartyAcknowledge", "AddPartyReject", "Alerting", "CallProceeding", "Connect",
    "ConnectAcknowledge", "DropParty", "DropPartyAcknowledge", "LeafSetupFailure", "LeafSetupRequest",
    "Notify", "PartyAlerting", "Release", "ReleaseComplete", "Restart", "RestartAcknowledge", "Setup", "Status",
    "StatusEnquiry", "MESSAGE_BUILDERS",
    # information elements and helpers
    "aal5", "aal_parameters", "aesa", "bearer_capability", "best_effort", "call_state", "called_party_number",
    "called_party_subaddress", "calling_party_number", "calling_party_subaddress", "cause",
    "connection_identifier", "endpoint_reference", "endpoint_state", "high_layer_information",
    "ie_diagnostics", "instruct", "leaf_sequence_number", "lij_call_identifier", "lij_parameters",
    "low_layer_information",
    "notification_indicator", "qos_parameter", "repeat_indicator", "restart_indicator", "sending_complete",
    "traffic_descriptor", "transit_delay", "transit_network_selection",
]
