"""Q.2931 cause values <-> NDIS_STATUS: the status an MCM completes or indicates with when the network
answers with a cause, and the cause it signals when it rejects or clears with a status.

Where the mapping is used:

- :func:`completion_status`: a request that PENDED and failed in the network -- ADD PARTY REJECT, a
  RELEASE / RELEASE COMPLETE answering our SETUP, the expiry of T303/T310/T399 (Q.2931 5.1, Q.2971 ...) --
  completes with ``NdisMCmMakeCallComplete`` / ``NdisMCmAddPartyComplete(Status, ...)``. The status is never
  a success: WDK NdisMCmAddPartyComplete hands the party handle over only on NDIS_STATUS_SUCCESS, so a
  rejected party must complete with an error status even when the cause is in the "normal" class.
- :func:`close_status`: a call or party that was up and is cleared by the network --
  ``NdisMCmDispatchIncomingCloseCall(CloseStatus, ...)`` / ``NdisMCmDispatchIncomingDropParty(DropStatus,
  ...)``. Normal clearing (causes 16 and 31, or no cause at all) is NDIS_STATUS_SUCCESS; any other cause
  gives the status of :func:`completion_status`, so that a client can tell an abnormal end (ATM clients
  test CloseStatus against NDIS_STATUS_DEST_OUT_OF_ORDER, for instance).
- :func:`cause_for_status`: the other way, the cause an MCM puts in the RELEASE COMPLETE that rejects an
  incoming SETUP (the client's ProtocolClIncomingCall answered with an error status, or no SAP matched), or in
  the RELEASE / DROP PARTY of a clearing the client started.

The tables are data: one row per cause value, each with where the cause is defined and where the pairing
comes from. The source is ``ndis.h`` where the header writes the cause number beside the status
(:data:`cm.ndis.status.NDIS_H_CAUSE_COMMENTS`, e.g. ``NDIS_STATUS_DEST_OUT_OF_ORDER ... // cause 27``), and
"atmemu" with the reason otherwise: ndis.h names only seven causes, so the rest is a choice, made with
these rules, in this order:

1. a CO-NDIS status whose meaning covers the cause's (address -> INVALID_ADDRESS, VPCI/VCI ->
   VC_NOT_AVAILABLE, cell rate -> CELLRATE_NOT_AVAILABLE, QoS -> INCOMPATABLE_QOS, AAL ->
   AAL_PARAMS_UNSUPPORTED, unreachable destination -> NO_ROUTE_TO_DESTINATION / DEST_OUT_OF_ORDER);
2. a transient shortage in the network or at the destination -> NDIS_STATUS_RESOURCES (worth retrying);
3. a feature the network or the destination does not offer -> NDIS_STATUS_NOT_SUPPORTED, which the WDK
   gives for "invalid or unavailable features in the call parameters" (ProtocolCmAddParty return values);
4. an element of the request that the network refused as encoded (99, 100, 103, 110) ->
   NDIS_STATUS_INVALID_DATA;
5. the call manager gave up waiting (102, recovery on timer expiry) -> NDIS_STATUS_REQUEST_ABORTED;
6. everything else, a refusal included -> NDIS_STATUS_FAILURE (:data:`DEFAULT_STATUS`), also for every
   cause value no table row names. NDIS_STATUS_NOT_ACCEPTED is never used for a refusal: it has success
   severity (NT_SUCCESS is true), so a client testing NT_SUCCESS would take the refusal for a success.

Cause values: Q.2610 (the B-ISDN use of the Q.850 causes) as :class:`firmware.uni.constants.CauseValue`
lists them; the values atm.h adds in its UNI 4.0 build (``#ifdef MS_UNI4``) and the two UNI 3.0 numbers it
keeps: 51 (user cell rate not available, 37 since UNI 3.1) and 93 (AAL parameters cannot be supported, 78
since UNI 3.1 and Q.2931). ndis.h's "// cause 93" beside NDIS_STATUS_AAL_PARAMS_UNSUPPORTED is that UNI 3.0
number; this UNI speaks Q.2931, so :func:`cause_for_status` answers 78, and both 78 and 93 map back.
"""

from __future__ import annotations

from dataclasses import dataclass

from cm.ndis.status import NDIS_STATUS, as_status
from hw.errors import FieldError

S = NDIS_STATUS

#: The status of a failure whose cause no row names.
DEFAULT_STATUS = NDIS_STATUS.FAILURE
#: The cause of a rejection whose status no row names: 21 call rejected ("the equipment sending this cause
#: does not wish to accept this call", Q.850 cause 21).
DEFAULT_CAUSE = 21
#: Causes of normal clearing: an incoming close or drop with one of these (or with no cause) is a success.
#: Q.850 class 000/001 "normal event": 16 normal call clearing, 31 normal, unspecified.
NORMAL_CLEARING_CAUSES = frozenset({16, 31})

# Where a cause value is defined.
Q2610 = "Q.2610"
Q2971 = "Q.2971"
UNI40 = "UNI 4.0 (atm.h, MS_UNI4 build)"
UNI30 = "UNI 3.0 (atm.h, UNI 3.x build)"
UNI31 = "UNI 3.1 (atm.h)"


@dataclass(frozen=True)
class CauseMapping:
    """One row of :data:`CAUSE_TO_STATUS`: the cause, its name as its standard words it, where the value
    is defined, the NDIS status a failed request completes with, and where that pairing comes from."""

    cause: int
    name: str
    defined_by: str
    status: NDIS_STATUS
    source: str


@dataclass(frozen=True)
class StatusMapping:
    """One row of :data:`STATUS_TO_CAUSE`: the NDIS status, the cause the MCM signals for it, the source."""

    status: NDIS_STATUS
    cause: int
    source: str


def _ndis_h(cause: int, name: str, defined_by: str, status: NDIS_STATUS) -> CauseMapping:
    return CauseMapping(cause, name, defined_by, status,
                        f"ndis.h: '// cause {cause}' beside NDIS_STATUS_{status.name}")


def _ours(cause: int, name: str, defined_by: str, status: NDIS_STATUS, reason: str) -> CauseMapping:
    return CauseMapping(cause, name, defined_by, status, f"atmemu: {reason}")


_REFUSAL = "a refusal; no CO status names one (NOT_ACCEPTED has success severity)"
_SUSPEND = "N-ISDN suspend/resume and closed user groups: not a failure of the call parameters"

#: Every cause value the standards and atm.h name, in numeric order (Q.850 classes: 1-31 normal events,
#: 32-47 resource unavailable, 49-63 service or option not available, 65-79 not implemented, 81-95 invalid
#: message, 96-111 protocol error, 127 interworking).
CAUSE_TO_STATUS: tuple[CauseMapping, ...] = (
    _ours(1, "unallocated (unassigned) number", Q2610, S.INVALID_ADDRESS,
          "the called number is assigned to no one: the address the client gave is wrong"),
    _ours(2, "no route to specified transit network", Q2610, S.NO_ROUTE_TO_DESTINATION,
          "cause 3 for the transit network the call named (ndis.h pairs 3 with NO_ROUTE_TO_DESTINATION)"),
    _ndis_h(3, "no route to destination", Q2610, S.NO_ROUTE_TO_DESTINATION),
    _ours(4, "send special information tone", UNI40, S.NO_ROUTE_TO_DESTINATION,
          "the called party cannot be reached for a long-term reason"),
    _ours(5, "misdialled trunk prefix", UNI40, S.INVALID_ADDRESS, "the called number is wrong"),
    _ours(6, "channel unacceptable", UNI40, S.VC_NOT_AVAILABLE,
          "the N-ISDN form of cause 10: the connection identifier is not acceptable"),
    _ours(7, "call awarded and being delivered in an established channel", UNI40, S.FAILURE,
          "N-ISDN only; no CO status fits"),
    _ours(8, "preemption", UNI40, S.RESOURCES, "the network took the resources for a call of higher precedence"),
    _ours(9, "preemption - circuit reserved for reuse", UNI40, S.RESOURCES,
          "the network took the resources for a call of higher precedence"),
    _ours(10, "VPCI/VCI unacceptable", Q2610, S.VC_NOT_AVAILABLE,
          "the connection identifier cannot be used, as for 35 and 45 (ndis.h: VC_NOT_AVAILABLE)"),
    _ours(16, "normal call clearing", Q2610, S.FAILURE,
          "a request that ends in clearing did not succeed (close_status gives SUCCESS)"),
    _ours(17, "user busy", Q2610, S.RESOURCES,
          "the destination has no capacity for another call now: transient, worth retrying"),
    _ours(18, "no user responding", Q2610, S.DEST_OUT_OF_ORDER,
          "the destination answered nothing within the time allowed (also the network side's T399 expiry, "
          "Q.2971): of the CO statuses, the one that says the far end does not work"),
    _ours(19, "no answer from user (user alerted)", Q2610, S.FAILURE,
          "the destination works (it alerted) but did not accept: " + _REFUSAL),
    _ours(20, "subscriber absent", UNI40, S.DEST_OUT_OF_ORDER, "the destination is not attached, as for 27"),
    _ours(21, "call rejected", Q2610, S.FAILURE, "the called user refused: " + _REFUSAL),
    _ours(22, "number changed", Q2610, S.INVALID_ADDRESS, "the called number is no longer valid"),
    _ours(23, "user rejects all calls with calling line identification restriction", Q2610, S.FAILURE,
          "the called user refused: " + _REFUSAL),
    _ours(26, "non-selected user clearing", UNI40, S.FAILURE, "another user took the call: " + _REFUSAL),
    _ndis_h(27, "destination out of order", Q2610, S.DEST_OUT_OF_ORDER),
    _ours(28, "invalid number format (address incomplete)", Q2610, S.INVALID_ADDRESS,
          "the called number is malformed"),
    _ours(29, "facility rejected", UNI40, S.NOT_SUPPORTED, "a requested facility is not offered"),
    _ours(30, "response to STATUS ENQUIRY", Q2610, S.FAILURE,
          "never a reason to clear: a request that fails with it met a protocol fault"),
    _ours(31, "normal, unspecified", Q2610, S.FAILURE,
          "a request that ends in clearing did not succeed (close_status gives SUCCESS)"),
    _ours(32, "too many pending add party requests", Q2971, S.RESOURCES,
          "the network holds too many ADD PARTY requests of this call: transient"),
    _ours(34, "no circuit/channel available", UNI40, S.VC_NOT_AVAILABLE, "the N-ISDN form of cause 45"),
    _ndis_h(35, "requested VPCI/VCI not available", Q2610, S.VC_NOT_AVAILABLE),
    _ours(36, "VPCI/VCI assignment failure", Q2610, S.VC_NOT_AVAILABLE,
          "no connection identifier could be assigned, as for 35 and 45 (ndis.h: VC_NOT_AVAILABLE)"),
    _ndis_h(37, "user cell rate not available", Q2610, S.CELLRATE_NOT_AVAILABLE),
    _ours(38, "network out of order", Q2610, S.NO_ROUTE_TO_DESTINATION,
          "the network cannot reach the destination for a long time"),
    _ours(39, "permanent frame mode connection out of service", UNI40, S.FAILURE,
          "frame mode connections: no CO status fits"),
    _ours(40, "permanent frame mode connection operational", UNI40, S.FAILURE,
          "frame mode connections: no CO status fits"),
    _ours(41, "temporary failure", Q2610, S.RESOURCES,
          "the network does not work for a short while: transient, worth retrying"),
    _ours(42, "switching equipment congestion", UNI40, S.RESOURCES, "network congestion: transient"),
    _ours(43, "access information discarded", Q2610, S.FAILURE,
          "informational; a request that fails with it failed for another reason"),
    _ours(44, "requested circuit/channel not available", UNI40, S.VC_NOT_AVAILABLE,
          "the N-ISDN form of cause 35"),
    _ndis_h(45, "no VPCI/VCI available", Q2610, S.VC_NOT_AVAILABLE),
    _ours(47, "resources unavailable, unspecified", Q2610, S.RESOURCES, "the network lacks resources"),
    _ndis_h(49, "quality of service unavailable", Q2610, S.INCOMPATABLE_QOS),
    _ours(50, "requested facility not subscribed", UNI40, S.NOT_SUPPORTED, "a requested facility is not offered"),
    _ours(51, "user cell rate not available (UNI 3.0 number)", UNI30, S.CELLRATE_NOT_AVAILABLE,
          "cause 37 as UNI 3.0 numbered it (atm.h ATM_CAUSE_USER_CELL_RATE_UNAVAILABLE 0x33); ndis.h pairs 37 "
          "with CELLRATE_NOT_AVAILABLE"),
    _ours(53, "outgoing calls barred within CUG", UNI40, S.FAILURE, _SUSPEND),
    _ours(55, "incoming calls barred within CUG", UNI40, S.FAILURE, _SUSPEND),
    _ours(57, "bearer capability not authorized", Q2610, S.NOT_SUPPORTED,
          "the requested bearer capability is not offered to this user"),
    _ours(58, "bearer capability not presently available", Q2610, S.RESOURCES,
          "the bearer capability exists but not now: transient"),
    _ours(62, "inconsistency in designated outgoing access information and subscriber class", UNI40,
          S.FAILURE, _SUSPEND),
    _ours(63, "service or option not available, unspecified", Q2610, S.NOT_SUPPORTED,
          "a requested feature is not offered"),
    _ours(65, "bearer capability not implemented", Q2610, S.NOT_SUPPORTED, "a requested feature is not offered"),
    _ours(66, "channel type not implemented", UNI40, S.NOT_SUPPORTED, "a requested feature is not offered"),
    _ours(69, "requested facility not implemented", UNI40, S.NOT_SUPPORTED, "a requested feature is not offered"),
    _ours(70, "only restricted digital information bearer capability is available", UNI40, S.NOT_SUPPORTED,
          "a requested feature is not offered"),
    _ours(73, "unsupported combination of traffic parameters", Q2610, S.NOT_SUPPORTED,
          "the traffic descriptor asks for a combination the network does not offer (an invalid feature in "
          "the call parameters, not a cell rate it lacks)"),
    _ours(78, "AAL parameters cannot be supported", Q2610, S.AAL_PARAMS_UNSUPPORTED,
          "ndis.h writes 93, the UNI 3.0 number of this cause (atm.h MS_UNI4: "
          "ATM_CAUSE_AAL_PARAMETERS_UNSUPPORTED__UNI30 0x5D); UNI 3.1 and Q.2931 number it 78"),
    _ours(79, "service or option not implemented, unspecified", UNI40, S.NOT_SUPPORTED,
          "a requested feature is not offered"),
    _ours(81, "invalid call reference value", Q2610, S.FAILURE, "a protocol fault, nothing the client can change"),
    _ours(82, "identified channel does not exist", Q2610, S.VC_NOT_AVAILABLE,
          "the connection identifier names no VC"),
    _ours(83, "a suspended call exists, but this call identity does not", UNI40, S.FAILURE, _SUSPEND),
    _ours(84, "call identity in use", UNI40, S.FAILURE, _SUSPEND),
    _ours(85, "no call suspended", UNI40, S.FAILURE, _SUSPEND),
    _ours(86, "call having the requested call identity has been cleared", UNI40, S.FAILURE, _SUSPEND),
    _ours(87, "user not member of CUG", UNI40, S.FAILURE, _SUSPEND),
    _ours(88, "incompatible destination", Q2610, S.NOT_SUPPORTED,
          "the destination cannot accommodate the call's attributes (BLLI, BHLI, AAL...)"),
    _ours(89, "invalid endpoint reference", Q2971, S.FAILURE, "a protocol fault, nothing the client can change"),
    _ours(90, "non-existent CUG", UNI40, S.FAILURE, _SUSPEND),
    _ours(91, "invalid transit network selection", Q2610, S.INVALID_ADDRESS,
          "the transit network the call named is wrong"),
    _ours(92, "too many pending add party requests (UNI 3.1 number)", UNI31, S.RESOURCES,
          "the network holds too many ADD PARTY requests of this call: transient"),
    _ndis_h(93, "AAL parameters cannot be supported (UNI 3.0 number)", UNI30, S.AAL_PARAMS_UNSUPPORTED),
    _ours(95, "invalid message, unspecified", UNI40, S.FAILURE, "a protocol fault, nothing the client can change"),
    _ours(96, "mandatory information element is missing", Q2610, S.FAILURE,
          "the call manager's message lacked an element: a protocol fault"),
    _ours(97, "message type non-existent or not implemented", Q2610, S.FAILURE,
          "a protocol fault, nothing the client can change"),
    _ours(98, "message not compatible with call state or message type non-existent or not implemented",
          UNI40, S.FAILURE, "a protocol fault, nothing the client can change"),
    _ours(99, "information element non-existent or not implemented", Q2610, S.INVALID_DATA,
          "the network refused an element of the request as encoded (a raw IE the client passed, say)"),
    _ours(100, "invalid information element contents", Q2610, S.INVALID_DATA,
          "the network refused the contents of an element built from the client's call parameters"),
    _ours(101, "message not compatible with call state", Q2610, S.FAILURE,
          "a protocol fault, nothing the client can change"),
    _ours(102, "recovery on timer expiry", Q2610, S.REQUEST_ABORTED,
          "the call manager gave up waiting for the answer (T303, T310, T399 expiry): REQUEST_ABORTED says so "
          "without claiming why the far end did not answer"),
    _ours(103, "information element non-existent or not implemented, passed on", UNI40, S.INVALID_DATA,
          "an element of the request was not understood, as for 99"),
    _ours(104, "incorrect message length", Q2610, S.FAILURE, "a protocol fault, nothing the client can change"),
    _ours(110, "message with unrecognized parameter discarded", UNI40, S.INVALID_DATA,
          "an element of the request was not understood, as for 99"),
    _ours(111, "protocol error, unspecified", Q2610, S.FAILURE, "a protocol fault, nothing the client can change"),
    _ours(127, "interworking, unspecified", Q2610, S.FAILURE, "the far network says no more"),
)

_BY_CAUSE: dict[int, CauseMapping] = {row.cause: row for row in CAUSE_TO_STATUS}

#: The status -> cause rows (for the rejection of an incoming call and for clearing).
STATUS_TO_CAUSE: tuple[StatusMapping, ...] = (
    StatusMapping(S.SUCCESS, 16, "Q.2931 5.4.2: a user clearing an active call normally sends cause 16"),
    StatusMapping(S.FAILURE, 21, "atmemu: the client refused the call (Q.850 cause 21: does not wish to accept)"),
    StatusMapping(S.NOT_ACCEPTED, 21, "atmemu: the client did not accept the call: call rejected"),
    StatusMapping(S.RESOURCES, 47, "atmemu: the client or the call manager lacks resources"),
    StatusMapping(S.NOT_SUPPORTED, 88, "atmemu: the client cannot accommodate the call's attributes"),
    StatusMapping(S.INVALID_SAP, 88, "atmemu: no SAP on this host matches the call's BLLI/BHLI: incompatible "
                                     "destination"),
    StatusMapping(S.INVALID_DATA, 100, "atmemu: the client found an element of the SETUP invalid"),
    StatusMapping(S.INVALID_PARAMETER, 100, "atmemu: the client found an element of the SETUP invalid"),
    StatusMapping(S.INVALID_ADDRESS, 1, "atmemu: the called address is assigned to no one here"),
    StatusMapping(S.NO_ROUTE_TO_DESTINATION, 3, "ndis.h: '// cause 3' beside NDIS_STATUS_NO_ROUTE_TO_DESTINATION"),
    StatusMapping(S.DEST_OUT_OF_ORDER, 27, "ndis.h: '// cause 27' beside NDIS_STATUS_DEST_OUT_OF_ORDER"),
    StatusMapping(S.VC_NOT_AVAILABLE, 35, "ndis.h: '// cause 35,45' beside NDIS_STATUS_VC_NOT_AVAILABLE; a user "
                                          "that cannot take the indicated VPCI/VCI answers 35 (Q.2931 5.2.3.2)"),
    StatusMapping(S.CELLRATE_NOT_AVAILABLE, 37, "ndis.h: '// cause 37' beside NDIS_STATUS_CELLRATE_NOT_AVAILABLE"),
    StatusMapping(S.INCOMPATABLE_QOS, 49, "ndis.h: '// cause 49' beside NDIS_STATUS_INCOMPATABLE_QOS"),
    StatusMapping(S.AAL_PARAMS_UNSUPPORTED, 78, "ndis.h writes 93, the UNI 3.0 number; Q.2931 (and UNI 3.1) "
                                                "number 'AAL parameters cannot be supported' 78"),
    StatusMapping(S.REQUEST_ABORTED, 102, "atmemu: the call manager gave up waiting for the client's answer "
                                          "(recovery on timer expiry)"),
)

_BY_STATUS: dict[int, StatusMapping] = {int(row.status): row for row in STATUS_TO_CAUSE}


def _cause(value: object, field: str = "cause") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0x7F:
        raise FieldError(field, value, "a Q.2931 cause value 0..127 (Q.2931 4.5.15: 7 bits)")
    return int(value)


def mapping(cause: int) -> CauseMapping | None:
    """The table row of ``cause``, None when no row names it (it then maps to :data:`DEFAULT_STATUS`)."""
    return _BY_CAUSE.get(_cause(cause))


def completion_status(cause: int) -> NDIS_STATUS:
    """The status a PENDED request completes with when the network refuses it with ``cause``
    (NdisMCmMakeCallComplete, NdisMCmAddPartyComplete). Always an error status; FAILURE for a cause no
    row names. Raises :class:`~hw.errors.FieldError` for a value that is not a 7-bit cause."""
    row = _BY_CAUSE.get(_cause(cause))
    return row.status if row is not None else DEFAULT_STATUS


def close_status(cause: int | None) -> NDIS_STATUS:
    """The CloseStatus / DropStatus of a call or party the network clears with ``cause``
    (NdisMCmDispatchIncomingCloseCall, NdisMCmDispatchIncomingDropParty): SUCCESS for normal clearing
    (:data:`NORMAL_CLEARING_CAUSES`, or ``None``: Q.2931 3.1.7/3.1.8 let RELEASE COMPLETE carry no cause),
    else :func:`completion_status`."""
    if cause is None:
        return NDIS_STATUS.SUCCESS
    if _cause(cause) in NORMAL_CLEARING_CAUSES:
        return NDIS_STATUS.SUCCESS
    return completion_status(cause)


def cause_for_status(status: int) -> int:
    """The cause the MCM signals when it clears or rejects with ``status``: in the RELEASE COMPLETE that
    rejects an incoming SETUP (the client's ProtocolClIncomingCall answered ``status``, or no SAP matched:
    NDIS_STATUS_INVALID_SAP), or in the RELEASE / DROP PARTY of a clearing with that status.
    :data:`DEFAULT_CAUSE` (21, call rejected) for a status no row names. NDIS_STATUS_PENDING is not a final
    status and raises :class:`~hw.errors.FieldError`, as does a value that is not a 32-bit status."""
    status = as_status(status, "status")
    if status == NDIS_STATUS.PENDING:
        raise FieldError("status", status, "a final status: NDIS_STATUS_PENDING rejects nothing")
    row = _BY_STATUS.get(int(status))
    return row.cause if row is not None else DEFAULT_CAUSE


def ndis_h_rows() -> dict[int, NDIS_STATUS]:
    """The rows whose source is ndis.h, as a cause -> status dict (equal to
    :data:`cm.ndis.status.NDIS_H_CAUSE_COMMENTS`; tests hold the two together)."""
    return {row.cause: row.status for row in CAUSE_TO_STATUS if row.source.startswith("ndis.h")}


__all__ = ["CAUSE_TO_STATUS", "CauseMapping", "DEFAULT_CAUSE", "DEFAULT_STATUS", "NORMAL_CLEARING_CAUSES",
           "STATUS_TO_CAUSE", "StatusMapping", "cause_for_status", "close_status", "completion_status",
           "mapping", "ndis_h_rows"]
