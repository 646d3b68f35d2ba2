"""Builders for the fast codec: the messages and elements of :mod:`firmware.uni.builders`, made as
:class:`~firmware.uni.fastcodec.FastMessage` / :class:`~firmware.uni.fastcodec.FastIE` (tuples), no scapy.

Same names, same signatures, same defaults and the same element order as :mod:`firmware.uni.builders`,
so ``encode(fastbuild.AddParty(...)) == bytes(builders.AddParty(...))`` for the same arguments (the tests
prove it over generated arguments). The signalling hot path (the switch control plane, the endpoints,
the MCM) builds its messages here; scapy stays the definition.

Wherever an element is expected, a value is accepted as the scapy builder accepts it (an int for a
cause or an endpoint reference, an address for a party number: 20 octets or 40 hex digits, an E.164
number as digits), or a :class:`FastIE`, or a scapy element (converted once through its octets:
``ie(x)``). Values are checked as the scapy builders check them (:class:`UniEncodeError` naming the
field).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Iterable

from firmware.uni import fastie
from firmware.uni.builders import aesa, ie_diagnostics  # noqa: F401 - pure helpers, no scapy object
from firmware.uni.constants import (AESA_OCTETS, GLOBAL_CALL_REF, AALSubfield, AALType, BearerClass, CallState,
                                    CauseLocation, CauseValue, CodingStandard, IEId, MessageType, NumberingPlan,
                                    NumberType, PreferredExclusive, RestartClass, TrafficSubfield,
                                    UserPlaneConfiguration, VPAssociatedSignalling)
from firmware.uni.errors import UniEncodeError
from firmware.uni.fastcodec import FastIE, FastMessage, decode_ie, make_ie

_new = tuple.__new__
# The enums' members as plain attributes: reading a member off its enum class costs ~0.2 us in Python 3.11
# (EnumType's member descriptor), and every builder reads a few. The same member objects.
_MT = SimpleNamespace(**MessageType.__members__)
_IE = SimpleNamespace(**IEId.__members__)
_ITU_T = CodingStandard.ITU_T
_EndpointReference = fastie.EndpointReference

# -- value checks (as firmware.uni.builders) ----------------------------------------------------------------


def _uint(name: str, value, bits: int) -> int:
    if value.__class__ is int and 0 <= value < 1 << bits:
        return value
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


def _element(identifier: int, record, flag: int = 0, action: int = 0, coding: int | None = None) -> FastIE:
    if not (flag or action) and coding is None:
        return make_ie(identifier, record)
    return make_ie(identifier, record, flag=_uint("flag", flag, 1), action=_uint("action", action, 3),
                   coding=None if coding is None else _uint("coding", coding, 2))


# -- conversion ----------------------------------------------------------------------------------------------


def ie(value) -> FastIE | None:
    """A :class:`FastIE` from a FastIE (as is), a scapy element (through its octets) or None."""
    if value is None or value.__class__ is FastIE:
        return value
    from firmware.uni.ie import InformationElement

    if isinstance(value, InformationElement):
        return decode_ie(bytes(value))
    raise UniEncodeError("information element", value, "a FastIE or a scapy information element")


def _is_ie(value) -> bool:
    if value.__class__ is FastIE:
        return True
    from firmware.uni.ie import InformationElement

    return isinstance(value, InformationElement)


def _as(identifier: int, value, make) -> FastIE | None:
    """``value`` as an element ``identifier``: an element (FastIE or scapy) must be of that kind; any
    other value goes to ``make``."""
    if value is None:
        return None
    if value.__class__ is FastIE:
        if value[0] != identifier:
            raise UniEncodeError(f"IE 0x{identifier:02X}", value, f"an element 0x{identifier:02X}")
        return value
    if _is_ie(value):
        converted = ie(value)
        if converted[0] != identifier:
            raise UniEncodeError(f"IE 0x{identifier:02X}", value, f"an element 0x{identifier:02X}")
        return converted
    return make(value)


# -- information elements ------------------------------------------------------------------------------------


def cause(value: int = CauseValue.NORMAL_CALL_CLEARING, location: int = CauseLocation.USER,
          diagnostics: bytes = b"", *, coding: int = CodingStandard.ITU_T, flag: int = 0, action: int = 0) -> FastIE:
    """Cause (Q.2931 4.5.15): cause value (Q.2610), location, diagnostics octets."""
    if value.__class__ is int and location.__class__ is int and not (diagnostics or flag or action) \
            and coding == _ITU_T:
        known = _CAUSES.get((value, location))   # (a FastIE is immutable: one per value and location)
        if known is not None:
            return known
        made = _CAUSES[(value, location)] = _cause_element(value, location, b"", coding, 0, 0)
        return made
    return _cause_element(value, location, diagnostics, coding, flag, action)


def _cause_element(value, location, diagnostics, coding, flag, action) -> FastIE:
    record = _new(fastie.Cause, (_uint("cause_value", value, 7), _uint("location", location, 4),
                                 _octets("diagnostics", diagnostics, 28), 0))
    return _element(_IE.CAUSE, record, flag, action, None if coding == _ITU_T else coding)


#: Causes made with plain int values and no diagnostics, by (value, location): at most 128 x 16 of them.
_CAUSES: dict[tuple[int, int], FastIE] = {}


def call_state(state: int = CallState.NULL) -> FastIE:
    return make_ie(_IE.CALL_STATE, _new(fastie.CallState, (_uint("call_state", state, 6), 0)))


def endpoint_reference(value: int, flag: int = 0) -> FastIE:
    """Endpoint reference (Q.2971): 15-bit value; flag 1 in messages sent to the allocating side."""
    if not (value.__class__ is int and 0 <= value <= 0x7FFF and flag.__class__ is int and 0 <= flag <= 1):
        value, flag = _uint("endpoint_ref", value, 15), _uint("endpoint_flag", flag, 1)
    return FastIE((0x54, 0x80, None, _new(_EndpointReference, (value, flag, 0)), None))


def endpoint_state(state: int) -> FastIE:
    return make_ie(_IE.ENDPOINT_STATE, _new(fastie.EndpointState, (_uint("party_state", state, 6), 0)))


def aal_parameters(aal_type: int, subfields: Iterable[tuple[int, int | None]] = (), tail: bytes = b"") -> FastIE:
    return make_ie(_IE.AAL_PARAMETERS, _new(fastie.AALParameters, (
        _uint("aal_type", aal_type, 8), tuple((int(k), v) for k, v in subfields), _octets("tail", tail))))


def aal5(forward_max_sdu: int = 9188, backward_max_sdu: int = 9188, *, sscs_type: int | None = None,
         mode: int | None = None) -> FastIE:
    """AAL parameters for AAL 5 (as :func:`firmware.uni.builders.aal5`)."""
    subfields = [(int(AALSubfield.FORWARD_MAX_CPCS_SDU_SIZE), _uint("forward_max_sdu", forward_max_sdu, 16)),
                 (int(AALSubfield.BACKWARD_MAX_CPCS_SDU_SIZE), _uint("backward_max_sdu", backward_max_sdu, 16))]
    if mode is not None:
        subfields.append((int(AALSubfield.MODE), _uint("mode", mode, 8)))
    if sscs_type is not None:
        subfields.append((int(AALSubfield.SSCS_TYPE), _uint("sscs_type", sscs_type, 8)))
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
                       coding: int = CodingStandard.ITU_T, **rates: int) -> FastIE:
    """ATM traffic descriptor (Q.2931 4.5.6), as :func:`firmware.uni.builders.traffic_descriptor`."""
    from firmware.uni.constants import TAGGING_BACKWARD, TAGGING_FORWARD

    subfields = []
    for keyword, value in rates.items():
        if keyword not in _TRAFFIC_KEYWORDS:
            raise UniEncodeError(keyword, value, "one of " + ", ".join(_TRAFFIC_KEYWORDS))
        if value is not None:
            subfields.append((int(_TRAFFIC_KEYWORDS[keyword]), _uint(keyword, value, 24)))
    subfields.sort()
    if best_effort:
        subfields.append((int(TrafficSubfield.BEST_EFFORT), None))
    if tagging_forward or tagging_backward:
        subfields.append((int(TrafficSubfield.TRAFFIC_MANAGEMENT_OPTIONS),
                          (TAGGING_FORWARD if tagging_forward else 0) | (TAGGING_BACKWARD if tagging_backward else 0)))
    coding = _uint("coding", coding, 2)
    return _element(_IE.ATM_TRAFFIC_DESCRIPTOR, _new(fastie.ATMTrafficDescriptor, (tuple(subfields), b"")),
                    coding=None if coding == _ITU_T else coding)


def best_effort(forward_pcr: int = 353_207, backward_pcr: int = 353_207) -> FastIE:
    """UBR traffic: peak cell rates (CLP 0+1, default OC-3c line rate) and the best effort indicator."""
    return traffic_descriptor(forward_pcr_01=forward_pcr, backward_pcr_01=backward_pcr, best_effort=True)


def connection_identifier(vpci: int, vci: int, *, vp_associated: int = VPAssociatedSignalling.EXPLICIT_VPCI,
                          pref_excl: int = PreferredExclusive.EXCLUSIVE_VPCI_EXCLUSIVE_VCI) -> FastIE:
    return make_ie(_IE.CONNECTION_IDENTIFIER, _new(fastie.ConnectionIdentifier, (
        _uint("vpci", vpci, 16), _uint("vci", vci, 16), _uint("vp_associated", vp_associated, 2),
        _uint("pref_excl", pref_excl, 3), 0)))


def qos_parameter(forward: int = 0, backward: int = 0, *, coding: int = CodingStandard.ITU_T) -> FastIE:
    """QoS parameter: forward and backward QoS class (0 = unspecified, as for UBR)."""
    coding = _uint("coding", coding, 2)
    return _element(_IE.QOS_PARAMETER, _new(fastie.QoSParameter, (_uint("qos_forward", forward, 8),
                                                                   _uint("qos_backward", backward, 8))),
                    coding=None if coding == _ITU_T else coding)


def bearer_capability(bearer_class: int = BearerClass.BCOB_X, *, atc: int | None = None, clipping: bool = False,
                      point_to_multipoint: bool = False) -> FastIE:
    """Broadband bearer capability (Q.2931 4.5.7)."""
    return make_ie(_IE.BROADBAND_BEARER_CAPABILITY, _new(fastie.BroadbandBearerCapability, (
        _uint("bearer_class", bearer_class, 5), None if atc is None else _uint("atc", atc, 7), 1 if clipping else 0,
        int(UserPlaneConfiguration.POINT_TO_MULTIPOINT if point_to_multipoint
            else UserPlaneConfiguration.POINT_TO_POINT), 0, 0)))


def _number_fields(address, number_type, plan) -> tuple[bytes, int, int]:
    """(address, plan, type) as :func:`firmware.uni.builders._number_fields` makes them."""
    if address.__class__ is bytes and len(address) == AESA_OCTETS:
        fields = [address, int(NumberingPlan.NSAP), int(NumberType.UNKNOWN)]
    elif isinstance(address, (bytes, bytearray)) and len(address) == AESA_OCTETS:
        fields = [bytes(address), int(NumberingPlan.NSAP), int(NumberType.UNKNOWN)]
    elif isinstance(address, str) and (address.lstrip("+").isdigit() and len(address.lstrip("+")) <= 15):
        fields = [address.lstrip("+").encode("ascii"), int(NumberingPlan.E164), int(NumberType.INTERNATIONAL)]
    elif isinstance(address, str):
        fields = [aesa(address), int(NumberingPlan.NSAP), int(NumberType.UNKNOWN)]
    else:
        raise UniEncodeError("address", address, "a 20-octet AESA (bytes or hex) or E.164 digits")
    if number_type is not None:
        fields[2] = _uint("number_type", number_type, 3)
    if plan is not None:
        fields[1] = _uint("numbering_plan", plan, 4)
    return fields[0], fields[1], fields[2]


def called_party_number(address, *, number_type: int | None = None, plan: int | None = None) -> FastIE:
    """Called party number: an AESA (NSAP plan) or E.164 digits."""
    return FastIE((0x70, 0x80, None, _new(fastie.CalledPartyNumber, _number_fields(address, number_type, plan)),
                   None))


def calling_party_number(address, *, number_type: int | None = None, plan: int | None = None,
                         presentation: int | None = None, screening: int | None = None) -> FastIE:
    """Calling party number; with ``presentation`` (and ``screening``) octet 5a is present."""
    number, numbering_plan, kind = _number_fields(address, number_type, plan)
    if presentation is None and screening is not None:
        raise UniEncodeError("screening", screening, "given only with presentation (octet 5a)")
    if presentation is not None:
        record = (number, numbering_plan, kind, _uint("presentation", presentation, 2), _uint("screening", screening or 0, 2), 0)
    else:
        record = (number, numbering_plan, kind, None, None, None)
    return make_ie(_IE.CALLING_PARTY_NUMBER, _new(fastie.CallingPartyNumber, record))


def repeat_indicator(indication: int = 2) -> FastIE:
    return make_ie(_IE.BROADBAND_REPEAT_INDICATOR,
                   _new(fastie.BroadbandRepeatIndicator, (_uint("repeat_indication", indication, 4), 0)))


def sending_complete() -> FastIE:
    return make_ie(_IE.BROADBAND_SENDING_COMPLETE, fastie.BroadbandSendingComplete())


def notification_indicator(description: bytes) -> FastIE:
    return make_ie(_IE.NOTIFICATION_INDICATOR, _new(fastie.NotificationIndicator, (_octets("description", description),)))


def restart_indicator(restart_class: int = RestartClass.ALL_VCS) -> FastIE:
    return make_ie(_IE.RESTART_INDICATOR,
                   _new(fastie.RestartIndicator, (_uint("restart_class", restart_class, 3), 0)))


def leaf_sequence_number(number: int) -> FastIE:
    return make_ie(_IE.LEAF_SEQUENCE_NUMBER, _new(fastie.LeafSequenceNumber, (_uint("leaf_sequence", number, 32),)))


# -- coercion of plain values (as firmware.uni.builders) ------------------------------------------------------


def _cause(value):
    if isinstance(value, tuple) and value.__class__ is not FastIE:
        return cause(*value)
    return _as(_IE.CAUSE, value, cause)


def _causes(value) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        if len(value) > 2:
            raise UniEncodeError("cause", value, "at most 2 Cause elements")
        return [_cause(v) for v in value]
    return [_cause(value)]


def _epref(value, flag):
    if value is None:
        return None
    if value.__class__ is int:
        return endpoint_reference(value, flag)
    return _as(_IE.ENDPOINT_REFERENCE, value, lambda v: endpoint_reference(v, flag))


def _message(message_type: int, call_ref: int, flag: int, action, ies: list, extra_ies) -> FastMessage:
    if not (call_ref.__class__ is int and 0 <= call_ref <= 0x7FFFFF):   # (_uint's test for the usual value)
        call_ref = _uint("call_ref", call_ref, 23)
    if not (flag == 0 or flag == 1) or flag.__class__ is not int:
        flag = _uint("flag", flag, 1)
    instruction = 0x80 if action is None else 0x90 | _uint("action", int(action), 2)
    elements = [e if e.__class__ is FastIE else ie(e) for e in ies if e is not None]
    if extra_ies:
        elements += [e if e.__class__ is FastIE else ie(e) for e in extra_ies]
    return FastMessage((message_type, call_ref, flag, instruction, elements))


sending_complete_ie = sending_complete  # the name the message builders' keyword shadows
_BEST_EFFORT = best_effort()
_QOS = qos_parameter()
_P2MP = bearer_capability(point_to_multipoint=True)
_P2P = bearer_capability(point_to_multipoint=False)

# -- messages: Q.2931 3.1 ------------------------------------------------------------------------------------


def Setup(call_ref: int, *, called, traffic=None, bearer=None, qos=None, aal=None, blli=None, bhli=None,
          calling=None, called_sub=None, calling_sub=None, connection_id=None, e2e_delay=None,
          endpoint_ref=0, sending_complete: bool = False, transit_network=None, notify=None,
          repeat=None, flag: int = 0, endpoint_flag: int | None = None, action=None, extra_ies=()) -> FastMessage:
    """SETUP (as :func:`firmware.uni.builders.Setup`)."""
    if bearer is None:
        bearer = _P2MP if endpoint_ref is not None else _P2P
    blli_list = blli if isinstance(blli, list) else ([] if blli is None else [blli])
    if len(blli_list) > 3:
        raise UniEncodeError("blli", blli, "at most 3 BLLI elements")
    if len(blli_list) > 1 and repeat is None:
        repeat = repeat_indicator()
    ies = [aal, traffic if traffic is not None else _BEST_EFFORT, bearer, bhli, repeat, *blli_list,
           _as(_IE.CALLED_PARTY_NUMBER, called, called_party_number), called_sub,
           _as(_IE.CALLING_PARTY_NUMBER, calling, calling_party_number), calling_sub, connection_id, e2e_delay,
           qos if qos is not None else _QOS, sending_complete_ie() if sending_complete else None,
           transit_network, notify, _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)]
    return _message(_MT.SETUP, call_ref, flag, action, ies, extra_ies)



def CallProceeding(call_ref: int, *, connection_id=None, notify=None, endpoint_ref=None, flag: int = 1,
                   endpoint_flag: int | None = None, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.CALL_PROCEEDING, call_ref, flag, action,
                    [connection_id, notify, _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)],
                    extra_ies)


def Alerting(call_ref: int, *, connection_id=None, notify=None, endpoint_ref=None, flag: int = 1,
             endpoint_flag: int | None = None, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.ALERTING, call_ref, flag, action,
                    [connection_id, notify, _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)],
                    extra_ies)


def Connect(call_ref: int, *, aal=None, blli=None, connection_id=None, e2e_delay=None, notify=None,
            endpoint_ref=None, flag: int = 1, endpoint_flag: int | None = None, action=None,
            extra_ies=()) -> FastMessage:
    return _message(_MT.CONNECT, call_ref, flag, action,
                    [aal, blli, connection_id, e2e_delay, notify,
                     _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)], extra_ies)


def ConnectAcknowledge(call_ref: int, *, notify=None, flag: int = 0, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.CONNECT_ACKNOWLEDGE, call_ref, flag, action, [notify], extra_ies)


def Release(call_ref: int, cause=CauseValue.NORMAL_CALL_CLEARING, *, notify=None, flag: int = 0, action=None,
            extra_ies=()) -> FastMessage:
    return _message(_MT.RELEASE, call_ref, flag, action, [*_causes(cause), notify], extra_ies)


def ReleaseComplete(call_ref: int, cause=None, *, flag: int = 0, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.RELEASE_COMPLETE, call_ref, flag, action, _causes(cause), extra_ies)


def Status(call_ref: int, state=CallState.ACTIVE, cause=CauseValue.RESPONSE_TO_STATUS_ENQUIRY, *,
           endpoint_ref=None, party_state=None, flag: int = 0, endpoint_flag: int | None = None, action=None,
           extra_ies=()) -> FastMessage:
    state = _as(_IE.CALL_STATE, state, call_state)
    ep_state = _as(_IE.ENDPOINT_STATE, party_state, endpoint_state)
    return _message(_MT.STATUS, call_ref, flag, action,
                    [state, _cause(cause), _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag),
                     ep_state], extra_ies)


def StatusEnquiry(call_ref: int, *, endpoint_ref=None, flag: int = 0, endpoint_flag: int | None = None,
                  action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.STATUS_ENQUIRY, call_ref, flag, action,
                    [_epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)], extra_ies)


def Notify(call_ref: int, notification=b"\x80", *, endpoint_ref=None, flag: int = 0,
           endpoint_flag: int | None = None, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.NOTIFY, call_ref, flag, action,
                    [_as(_IE.NOTIFICATION_INDICATOR, notification, notification_indicator),
                     _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)], extra_ies)


# -- messages: Q.2931 3.2 (global call reference) -------------------------------------------------------------


def Restart(restart_class: int = RestartClass.ALL_VCS, *, connection_id=None, call_ref: int = GLOBAL_CALL_REF,
            flag: int = 0, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.RESTART, call_ref, flag, action,
                    [connection_id, _as(_IE.RESTART_INDICATOR, restart_class, restart_indicator)], extra_ies)


def RestartAcknowledge(restart_class: int = RestartClass.ALL_VCS, *, connection_id=None,
                       call_ref: int = GLOBAL_CALL_REF, flag: int = 1, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.RESTART_ACKNOWLEDGE, call_ref, flag, action,
                    [connection_id, _as(_IE.RESTART_INDICATOR, restart_class, restart_indicator)], extra_ies)


# -- messages: Q.2971 9 ----------------------------------------------------------------------------------------


def AddParty(call_ref: int, endpoint_ref, called, *, aal=None, bhli=None, blli=None, called_sub=None,
             calling=None, calling_sub=None, e2e_delay=None, notify=None, sending_complete: bool = False,
             transit_network=None, leaf_sequence=None, flag: int = 0, endpoint_flag: int | None = None,
             action=None, extra_ies=()) -> FastMessage:
    """ADD PARTY (as :func:`firmware.uni.builders.AddParty`)."""
    ies = [aal, bhli, blli, _as(_IE.CALLED_PARTY_NUMBER, called, called_party_number), called_sub,
           _as(_IE.CALLING_PARTY_NUMBER, calling, calling_party_number), calling_sub, e2e_delay, notify,
           sending_complete_ie() if sending_complete else None, transit_network,
           _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag),
           _as(_IE.LEAF_SEQUENCE_NUMBER, leaf_sequence, leaf_sequence_number)]
    return _message(_MT.ADD_PARTY, call_ref, flag, action, ies, extra_ies)


def AddPartyAcknowledge(call_ref: int, endpoint_ref, *, aal=None, blli=None, e2e_delay=None, notify=None,
                        flag: int = 1, endpoint_flag: int | None = None, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.ADD_PARTY_ACKNOWLEDGE, call_ref, flag, action,
                    [_epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag), aal, blli, e2e_delay,
                     notify], extra_ies)


def AddPartyReject(call_ref: int, endpoint_ref, *, cause, flag: int = 1, endpoint_flag: int | None = None,
                   action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.ADD_PARTY_REJECT, call_ref, flag, action,
                    [_cause(cause), _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag)], extra_ies)


def PartyAlerting(call_ref: int, endpoint_ref, *, notify=None, flag: int = 1, endpoint_flag: int | None = None,
                  action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.PARTY_ALERTING, call_ref, flag, action,
                    [_epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag), notify], extra_ies)


def DropParty(call_ref: int, endpoint_ref, cause=CauseValue.NORMAL_CALL_CLEARING, *, notify=None, flag: int = 0,
              endpoint_flag: int | None = None, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.DROP_PARTY, call_ref, flag, action,
                    [_cause(cause), _epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag), notify],
                    extra_ies)


def DropPartyAcknowledge(call_ref: int, endpoint_ref, cause=None, *, flag: int = 0,
                         endpoint_flag: int | None = None, action=None, extra_ies=()) -> FastMessage:
    return _message(_MT.DROP_PARTY_ACKNOWLEDGE, call_ref, flag, action,
                    [_epref(endpoint_ref, flag if endpoint_flag is None else endpoint_flag), _cause(cause)], extra_ies)


#: The message builders, by message type (the UNI 4.0 leaf-initiated join messages are not here).
MESSAGE_BUILDERS = {
    0x01: Alerting, 0x02: CallProceeding, 0x05: Setup, 0x07: Connect, 0x0F: ConnectAcknowledge,
    0x46: Restart, 0x4D: Release, 0x4E: RestartAcknowledge, 0x5A: ReleaseComplete, 0x6E: Notify,
    0x75: StatusEnquiry, 0x7D: Status, 0x80: AddParty, 0x81: AddPartyAcknowledge, 0x82: AddPartyReject,
    0x83: DropParty, 0x84: DropPartyAcknowledge, 0x85: PartyAlerting,
}

__all__ = [
    "AddParty", "AddPartyAcknowledge", "AddPartyReject", "Alerting", "CallProceeding", "Connect",
    "ConnectAcknowledge", "DropParty", "DropPartyAcknowledge", "MESSAGE_BUILDERS", "Notify", "PartyAlerting",
    "Release", "ReleaseComplete", "Restart", "RestartAcknowledge", "Setup", "Status", "StatusEnquiry",
    "aal5", "aal_parameters", "aesa", "bearer_capability", "best_effort", "call_state", "called_party_number",
    "calling_party_number", "cause", "connection_identifier", "endpoint_reference", "endpoint_state", "ie",
    "ie_diagnostics", "leaf_sequence_number", "notification_indicator", "qos_parameter", "repeat_indicator",
    "restart_indicator", "sending_complete", "traffic_descriptor",
]
