"""The neutral vocabulary of the UNI machines: what can happen to them and what they can ask for.

Events come in four kinds (``table.EventKind``):

* a message received from the peer, named by its Q.2931/Q.2971 message type (``SETUP``,
  ``ADD_PARTY`` ...); ``UNKNOWN`` stands for a message type the decoder did not recognise;
* a primitive from the local user (``setup.request``, ``drop-party.request`` ...);
* the expiry of a timer the machine started (``T303`` ...);
* an internal signal between the call machine and its party machines (``call.CONNECT``,
  ``parties.none-left`` ...), which only the composition in ``call.py`` sends.

Parameters ride with an event as keyword arguments: ``cause`` (Q.850 cause value), ``call_state`` and
``endpoint_state`` (the codes carried by a received STATUS), ``epref`` (endpoint reference value),
``restart_class`` / ``connection_id`` (RESTART), ``multipoint`` (a SETUP for a point-to-multipoint
call). The wire encoding of these is another module's business.
"""

from __future__ import annotations

# ---- messages (Q.2931 clause 3, and the Q.2971 point-to-multipoint ones) ---------------------------
SETUP = "SETUP"
CALL_PROCEEDING = "CALL_PROCEEDING"
ALERTING = "ALERTING"
CONNECT = "CONNECT"
CONNECT_ACK = "CONNECT_ACK"
RELEASE = "RELEASE"
RELEASE_COMPLETE = "RELEASE_COMPLETE"
NOTIFY = "NOTIFY"
STATUS = "STATUS"
STATUS_ENQUIRY = "STATUS_ENQUIRY"
RESTART = "RESTART"
RESTART_ACK = "RESTART_ACK"
ADD_PARTY = "ADD_PARTY"
ADD_PARTY_ACK = "ADD_PARTY_ACK"
ADD_PARTY_REJECT = "ADD_PARTY_REJECT"
PARTY_ALERTING = "PARTY_ALERTING"
DROP_PARTY = "DROP_PARTY"
DROP_PARTY_ACK = "DROP_PARTY_ACK"
UNKNOWN = "UNKNOWN"

#: Other spellings of message names (the long names of ``firmware.uni.constants.MessageType``), and the
#: message types these machines do not implement (UNI 4.0 leaf-initiated join), which they treat as
#: unrecognised (Q.2931 5.6.4: STATUS, cause 97).
ALIASES = {
    "CONNECT_ACKNOWLEDGE": CONNECT_ACK,
    "RESTART_ACKNOWLEDGE": RESTART_ACK,
    "ADD_PARTY_ACKNOWLEDGE": ADD_PARTY_ACK,
    "DROP_PARTY_ACKNOWLEDGE": DROP_PARTY_ACK,
    "LEAF_SETUP_FAILURE": UNKNOWN,
    "LEAF_SETUP_REQUEST": UNKNOWN,
}


def canonical(name: str) -> str:
    """The name the machines use for an event (message names may come in their long spelling)."""
    return ALIASES.get(name, name)


#: Messages of a call (a non-global call reference).
CALL_MESSAGES = (SETUP, CALL_PROCEEDING, ALERTING, CONNECT, CONNECT_ACK, RELEASE, RELEASE_COMPLETE,
                 NOTIFY, STATUS, STATUS_ENQUIRY, ADD_PARTY, ADD_PARTY_ACK, ADD_PARTY_REJECT,
                 PARTY_ALERTING, DROP_PARTY, DROP_PARTY_ACK, UNKNOWN)
#: Messages that concern one party and carry an endpoint reference (Q.2971).
PARTY_MESSAGES = (ADD_PARTY, ADD_PARTY_ACK, ADD_PARTY_REJECT, PARTY_ALERTING, DROP_PARTY,
                  DROP_PARTY_ACK)
#: Every message name, including the two that only use the global call reference.
ALL_MESSAGES = CALL_MESSAGES + (RESTART, RESTART_ACK)

# ---- primitives from the local user -------------------------------------------------------------
SETUP_REQUEST = "setup.request"
SETUP_RESPONSE = "setup.response"
SETUP_COMPLETE_REQUEST = "setup-complete.request"
PROCEEDING_REQUEST = "proceeding.request"
ALERTING_REQUEST = "alerting.request"
RELEASE_REQUEST = "release.request"
RELEASE_RESPONSE = "release.response"
STATUS_ENQUIRY_REQUEST = "status-enquiry.request"
ADD_PARTY_REQUEST = "add-party.request"
ADD_PARTY_ACK_REQUEST = "add-party-ack.request"
ADD_PARTY_REJECT_REQUEST = "add-party-reject.request"
PARTY_ALERTING_REQUEST = "party-alerting.request"
DROP_PARTY_REQUEST = "drop-party.request"
DROP_PARTY_ACK_REQUEST = "drop-party-ack.request"
RESTART_REQUEST = "restart.request"
RESTART_RESPONSE = "restart.response"
# primitives from the signalling AAL below (SSCF-UNI, Q.2130), fed by the interface (Q.2931 5.6.9, 5.6.10)
AAL_RELEASE_INDICATION = "aal-release.indication"     # the signalling AAL failed (or could not be established)
AAL_ESTABLISH_CONFIRM = "aal-establish.confirm"       # the signalling AAL is (re-)established (confirm or indication)
AAL_PRIMITIVES = (AAL_RELEASE_INDICATION, AAL_ESTABLISH_CONFIRM)

PARTY_PRIMITIVES = (ADD_PARTY_REQUEST, ADD_PARTY_ACK_REQUEST, ADD_PARTY_REJECT_REQUEST,
                    PARTY_ALERTING_REQUEST, DROP_PARTY_REQUEST, DROP_PARTY_ACK_REQUEST)

# ---- timers ---------------------------------------------------------------------------------------
CALL_TIMERS = ("T303", "T308", "T309", "T310", "T313", "T322")
PARTY_TIMERS = ("T397", "T398", "T399")
RESTART_TIMERS = ("T316",)

# ---- internal signals -----------------------------------------------------------------------------
# call machine -> party machines (Q.2971: the first party follows the call's establishment)
CALL_SETUP_REQUEST = "call.setup-request"     # the call's SETUP is sent: first party P0 -> P1
CALL_SETUP = "call.SETUP"                     # the call's SETUP is received: first party P0 -> P6
CALL_ALERTING = "call.ALERTING"               # ALERTING received: P1 -> P7
CALL_ALERTING_REQUEST = "call.alerting-request"  # ALERTING sent: P6 -> P4
CALL_CONNECT = "call.CONNECT"                 # CONNECT received (user side): P1/P7 -> P10
CALL_CONNECT_ACK = "call.CONNECT_ACK"         # CONNECT ACK received (user side): P6/P4 -> P10
CALL_SETUP_RESPONSE = "call.setup-response"   # network sends CONNECT: P6/P4 -> P10
CALL_SETUP_COMPLETE = "call.setup-complete"   # network sends CONNECT ACK: P1/P7 -> P10
CALL_RELEASED = "call.released"               # the call is cleared: every party -> P0
CALL_AAL_LOST = "call.aal-lost"               # the signalling AAL failed under an Active call (Q.2931 5.6.10)
CALL_AAL_BACK = "call.aal-back"               # ... and is back: each party checks its peer's state (5.6.11)
# party machines -> call machine
PARTIES_NONE_LEFT = "parties.none-left"       # Q.2971: the last party is gone, clear the call
# restart machine -> the calls of the interface
RESTART_CLEAR_CALLS = "restart.clear-calls"

# ---- cause values used by the machines (Q.850 / Q.2610) -------------------------------------------
CAUSE_NORMAL_CLEARING = 16
CAUSE_NO_USER_RESPONDING = 18
CAUSE_CALL_REJECTED = 21
CAUSE_DESTINATION_OUT_OF_ORDER = 27   # Q.850: e.g. a data link failure at the interface (Q.2931 5.6.10)
CAUSE_STATUS_ENQUIRY_RESPONSE = 30
CAUSE_NORMAL_UNSPECIFIED = 31
CAUSE_INVALID_CALL_REFERENCE = 81
CAUSE_INVALID_ENDPOINT_REFERENCE = 89
CAUSE_MANDATORY_IE_MISSING = 96
CAUSE_MESSAGE_TYPE_NONEXISTENT = 97
CAUSE_MESSAGE_NOT_COMPATIBLE = 101
CAUSE_RECOVERY_ON_TIMER_EXPIRY = 102
