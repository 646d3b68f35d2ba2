"""What each message may carry (Q.2931 clause 3, Q.2971 clause 9, UNI 4.0 clause 6) and the check a
receiver runs on it (Q.2931 5.6, 5.7).

:data:`CONTENTS` lists, per message type, its information elements in the order of the standard's table,
each mandatory (``M``) or optional (``O``) and how many times it may appear (Broadband low layer
information up to 3 times after a Broadband repeat indicator in SETUP, Cause twice in RELEASE and RELEASE
COMPLETE). IEs of the narrowband interworking annex (N-ISDN bearer capability, progress indicator...)
and of Q.2932/Q.2957 supplementary services are not recognised here: they come out as cause 99.

:func:`check` returns the cause a receiver must answer a message with, or None when it is acceptable;
:func:`findings` lists every problem with the IE concerned (for the Cause diagnostics), whether it was
mandatory, and the :class:`~firmware.uni.errors.Disposition` Q.2931 prescribes. Both take a scapy
:class:`~firmware.uni.message.Q2931` or a :class:`~firmware.uni.fastcodec.FastMessage`.

Cause values: 97 message type non-existent (5.6.4), 104 incorrect message length (5.6.5), 96 mandatory
IE missing (5.6.7.1; an IE with no contents counts as missing), 100 invalid IE contents (5.6.7.2 for a
mandatory IE, 5.6.8.2 for an optional one), 99 IE non-existent or not implemented, both for an
unrecognised IE (5.6.8.1) and for a recognised IE this message type does not carry (5.6.8.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.uni.constants import IEId as I
from firmware.uni.constants import MessageType as T
from firmware.uni.errors import Disposition


@dataclass(frozen=True)
class IERule:
    identifier: int
    presence: str  # "M" mandatory, "O" optional
    max_count: int = 1

    @property
    def mandatory(self) -> bool:
        return self.presence == "M"


def _rules(*entries) -> tuple[IERule, ...]:
    return tuple(IERule(*entry) for entry in entries)


#: Message contents, per message type.
CONTENTS: dict[int, tuple[IERule, ...]] = {
    # Q.2931 3.1 (with the endpoint reference Q.2971 9 adds to the point-to-point messages)
    T.ALERTING: _rules((I.CONNECTION_IDENTIFIER, "O"), (I.NOTIFICATION_INDICATOR, "O"),
                       (I.ENDPOINT_REFERENCE, "O")),
    T.CALL_PROCEEDING: _rules((I.CONNECTION_IDENTIFIER, "O"), (I.NOTIFICATION_INDICATOR, "O"),
                              (I.ENDPOINT_REFERENCE, "O")),
    T.CONNECT: _rules((I.AAL_PARAMETERS, "O"), (I.BROADBAND_LOW_LAYER_INFORMATION, "O"),
                      (I.CONNECTION_IDENTIFIER, "O"), (I.END_TO_END_TRANSIT_DELAY, "O"),
                      (I.NOTIFICATION_INDICATOR, "O"), (I.ENDPOINT_REFERENCE, "O")),
    T.CONNECT_ACKNOWLEDGE: _rules((I.NOTIFICATION_INDICATOR, "O")),
    T.RELEASE: _rules((I.CAUSE, "M", 2), (I.NOTIFICATION_INDICATOR, "O")),
    T.RELEASE_COMPLETE: _rules((I.CAUSE, "O", 2)),
    T.SETUP: _rules((I.AAL_PARAMETERS, "O"), (I.ATM_TRAFFIC_DESCRIPTOR, "M"),
                    (I.BROADBAND_BEARER_CAPABILITY, "M"), (I.BROADBAND_HIGH_LAYER_INFORMATION, "O"),
                    (I.BROADBAND_REPEAT_INDICATOR, "O"), (I.BROADBAND_LOW_LAYER_INFORMATION, "O", 3),
                    (I.CALLED_PARTY_NUMBER, "M"), (I.CALLED_PARTY_SUBADDRESS, "O"),
                    (I.CALLING_PARTY_NUMBER, "O"), (I.CALLING_PARTY_SUBADDRESS, "O"),
                    (I.CONNECTION_IDENTIFIER, "O"), (I.END_TO_END_TRANSIT_DELAY, "O"),
                    (I.QOS_PARAMETER, "M"), (I.BROADBAND_SENDING_COMPLETE, "O"),
                    (I.TRANSIT_NETWORK_SELECTION, "O"), (I.NOTIFICATION_INDICATOR, "O"),
                    (I.ENDPOINT_REFERENCE, "O"),
                    # UNI 4.0 6: a SETUP answering a LEAF SETUP REQUEST
                    (I.LIJ_CALL_IDENTIFIER, "O"), (I.LIJ_PARAMETERS, "O"), (I.LEAF_SEQUENCE_NUMBER, "O")),
    T.STATUS: _rules((I.CALL_STATE, "M"), (I.CAUSE, "M"), (I.ENDPOINT_REFERENCE, "O"),
                     (I.ENDPOINT_STATE, "O")),
    T.STATUS_ENQUIRY: _rules((I.ENDPOINT_REFERENCE, "O")),
    T.NOTIFY: _rules((I.NOTIFICATION_INDICATOR, "M"), (I.ENDPOINT_REFERENCE, "O")),
    # Q.2931 3.2
    T.RESTART: _rules((I.CONNECTION_IDENTIFIER, "O"), (I.RESTART_INDICATOR, "M")),
    T.RESTART_ACKNOWLEDGE: _rules((I.CONNECTION_IDENTIFIER, "O"), (I.RESTART_INDICATOR, "M")),
    # Q.2971 9
    T.ADD_PARTY: _rules((I.AAL_PARAMETERS, "O"), (I.BROADBAND_HIGH_LAYER_INFORMATION, "O"),
                        (I.BROADBAND_LOW_LAYER_INFORMATION, "O"), (I.CALLED_PARTY_NUMBER, "M"),
                        (I.CALLED_PARTY_SUBADDRESS, "O"), (I.CALLING_PARTY_NUMBER, "O"),
                        (I.CALLING_PARTY_SUBADDRESS, "O"), (I.END_TO_END_TRANSIT_DELAY, "O"),
                        (I.NOTIFICATION_INDICATOR, "O"), (I.BROADBAND_SENDING_COMPLETE, "O"),
                        (I.TRANSIT_NETWORK_SELECTION, "O"), (I.ENDPOINT_REFERENCE, "M"),
                        (I.LEAF_SEQUENCE_NUMBER, "O")),
    T.ADD_PARTY_ACKNOWLEDGE: _rules((I.ENDPOINT_REFERENCE, "M"), (I.AAL_PARAMETERS, "O"),
                                    (I.BROADBAND_LOW_LAYER_INFORMATION, "O"),
                                    (I.END_TO_END_TRANSIT_DELAY, "O"), (I.NOTIFICATION_INDICATOR, "O")),
    T.ADD_PARTY_REJECT: _rules((I.CAUSE, "M"), (I.ENDPOINT_REFERENCE, "M")),
    T.PARTY_ALERTING: _rules((I.ENDPOINT_REFERENCE, "M"), (I.NOTIFICATION_INDICATOR, "O")),
    T.DROP_PARTY: _rules((I.CAUSE, "M"), (I.ENDPOINT_REFERENCE, "M"), (I.NOTIFICATION_INDICATOR, "O")),
    T.DROP_PARTY_ACKNOWLEDGE: _rules((I.ENDPOINT_REFERENCE, "M"), (I.CAUSE, "O")),
    # UNI 4.0 6 (leaf initiated join)
    T.LEAF_SETUP_FAILURE: _rules((I.CAUSE, "M"), (I.CALLED_PARTY_NUMBER, "O"),
                                 (I.CALLED_PARTY_SUBADDRESS, "O"), (I.TRANSIT_NETWORK_SELECTION, "O"),
                                 (I.LEAF_SEQUENCE_NUMBER, "M")),
    T.LEAF_SETUP_REQUEST: _rules((I.TRANSIT_NETWORK_SELECTION, "O"), (I.CALLING_PARTY_NUMBER, "M"),
                                 (I.CALLING_PARTY_SUBADDRESS, "O"), (I.CALLED_PARTY_NUMBER, "M"),
                                 (I.CALLED_PARTY_SUBADDRESS, "O"), (I.LIJ_CALL_IDENTIFIER, "M"),
                                 (I.LEAF_SEQUENCE_NUMBER, "M")),
}

#: Where each message's contents are defined.
CLAUSES: dict[int, str] = {
    **{t: "Q.2931 3.1" for t in (T.ALERTING, T.CALL_PROCEEDING, T.CONNECT, T.CONNECT_ACKNOWLEDGE, T.RELEASE,
                                 T.RELEASE_COMPLETE, T.SETUP, T.STATUS, T.STATUS_ENQUIRY, T.NOTIFY)},
    T.RESTART: "Q.2931 3.2", T.RESTART_ACKNOWLEDGE: "Q.2931 3.2",
    **{t: "Q.2971 9" for t in (T.ADD_PARTY, T.ADD_PARTY_ACKNOWLEDGE, T.ADD_PARTY_REJECT, T.PARTY_ALERTING,
                               T.DROP_PARTY, T.DROP_PARTY_ACKNOWLEDGE)},
    T.LEAF_SETUP_FAILURE: "UNI 4.0 6", T.LEAF_SETUP_REQUEST: "UNI 4.0 6",
}

_MANDATORY: dict[int, frozenset[int]] = {
    t: frozenset(r.identifier for r in rules if r.mandatory) for t, rules in CONTENTS.items()}
_ALLOWED: dict[int, frozenset[int]] = {
    t: frozenset(r.identifier for r in rules) for t, rules in CONTENTS.items()}


def is_mandatory(message_type: int, identifier: int) -> bool:
    return identifier in _MANDATORY.get(message_type, ())


def is_allowed(message_type: int, identifier: int) -> bool:
    return identifier in _ALLOWED.get(message_type, ())


def mandatory_ies(message_type: int) -> tuple[int, ...]:
    return tuple(r.identifier for r in CONTENTS.get(message_type, ()) if r.mandatory)


# -- dispositions (Q.2931 5.6, 5.7) --------------------------------------------------------------------------

_MESSAGE_ACTIONS = {0: Disposition.CLEAR, 1: Disposition.IGNORE, 2: Disposition.REPORT, 3: Disposition.REPORT}
_IE_ACTIONS = {0: Disposition.CLEAR, 1: Disposition.PROCEED, 2: Disposition.PROCEED_AND_REPORT,
               5: Disposition.IGNORE, 6: Disposition.REPORT}


def unknown_message_disposition(instruction: int) -> Disposition:
    """What to do with a message of unknown type, from its compatibility instruction octet: report STATUS
    (5.6.4) unless the flag asks to follow the action indicator (5.7.1; the reserved action 11 reports)."""
    if instruction & 0x10:
        return _MESSAGE_ACTIONS[instruction & 0x03]
    return Disposition.REPORT


def ie_error_disposition(message_type: int, identifier: int, instruction: int) -> Disposition:
    """What to do with a message one of whose IEs is unrecognised or has invalid contents: a mandatory IE
    makes the message unusable, report (5.6.7); an optional one is dropped and the rest processed with a
    STATUS (5.6.8) unless the IE's flag asks to follow its action indicator (5.7.2, reserved actions
    taken as "discard IE, proceed and report")."""
    if is_mandatory(message_type, identifier):
        return Disposition.REPORT
    if instruction & 0x10:
        return _IE_ACTIONS.get(instruction & 0x07, Disposition.PROCEED_AND_REPORT)
    return Disposition.PROCEED_AND_REPORT


def ie_error_clause(message_type: int, identifier: int, instruction: int) -> str:
    """The clause behind :func:`ie_error_disposition`'s answer."""
    if is_mandatory(message_type, identifier):
        return "Q.2931 5.6.7.2"
    return "Q.2931 5.7.2" if instruction & 0x10 else "Q.2931 5.6.8.2"


# -- the check --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem of a message: the cause to answer with, the IE concerned (None for the message)."""

    cause: int
    identifier: int | None
    mandatory: bool
    disposition: Disposition
    clause: str
    reason: str


def _element_view(element) -> tuple[int, int, bool, bool, str | None]:
    """(identifier, instruction octet, recognised, empty, problem) of a scapy IE or a fast-codec IE."""
    from firmware.uni.ie import decode_ie, is_recognised

    if hasattr(element, "fields_desc"):  # scapy InformationElement
        raw = bytes(element)
        problems = getattr(element, "problems", None) if element.raw_packet_cache is not None else None
        if problems is None:  # built (or changed since dissected): judge the bytes it would send
            try:
                decode_ie(raw)
                problems = []
            except Exception as exc:  # noqa: BLE001 - IEContentError; reason kept
                problems = [(0, "", str(exc))]
        problem = min(problems, key=lambda p: p[0])[2] if problems else None
        return raw[0], raw[1], is_recognised(element), len(raw) == 4, problem
    return (element.identifier, element.instruction, element.recognised, element.contents == b"",
            element.problem)


def findings(msg) -> list[Finding]:
    """Every problem of ``msg`` (scapy message or fast-codec message), most severe class first."""
    from firmware.uni.message import Q2931

    message_type = msg.message_type
    out: list[Finding] = []
    if message_type not in CONTENTS:
        out.append(Finding(97, None, False, unknown_message_disposition(_instruction(msg)), "Q.2931 5.6.4",
                           f"message type 0x{message_type:02X} non-existent or not implemented"))
        return out
    if isinstance(msg, Q2931) and msg.length is not None:
        actual = sum(len(bytes(e)) for e in msg.ies)
        if msg.length != actual:
            out.append(Finding(104, None, False, Disposition.REPORT, "Q.2931 5.6.5",
                               f"message length {msg.length}, IEs take {actual} octets"))
    views = [_element_view(e) for e in msg.ies]
    present = {ident for ident, _, recognised, empty, problem in views if recognised and not empty}
    for ident in mandatory_ies(message_type):
        if ident not in present:
            out.append(Finding(96, ident, True, Disposition.REPORT, "Q.2931 5.6.7.1",
                               "mandatory information element missing"))
    for ident, instruction, recognised, empty, problem in views:
        if recognised and problem is not None and is_mandatory(message_type, ident):
            out.append(Finding(100, ident, True, Disposition.REPORT, "Q.2931 5.6.7.2", problem))
    for ident, instruction, recognised, empty, problem in views:
        if not recognised:
            out.append(Finding(99, ident, False, ie_error_disposition(message_type, ident, instruction),
                               "Q.2931 5.6.8.1", "unrecognised information element"))
        elif not is_allowed(message_type, ident):
            out.append(Finding(99, ident, False, ie_error_disposition(message_type, ident, instruction),
                               "Q.2931 5.6.8.3", "information element not expected in this message"))
        elif problem is not None and not is_mandatory(message_type, ident):
            out.append(Finding(100, ident, False, ie_error_disposition(message_type, ident, instruction),
                               "Q.2931 5.6.8.2", problem))
    return out


def check(msg) -> int | None:
    """The cause a receiver must answer ``msg`` with (97, 104, 96, 100, 99), or None if it is acceptable."""
    found = findings(msg)
    return found[0].cause if found else None


def _instruction(msg) -> int:
    return msg.instruction
