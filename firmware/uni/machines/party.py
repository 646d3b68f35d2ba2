"""Q.2971 party control: one machine per endpoint reference of a point-to-multipoint call, with T397,
T398 and T399. The same rows serve both sides of the interface (the Q.2971 SDL draws Party-Control-U
and Party-Control-N alike); what differs is given to :func:`build`: T399's duration (34 s user side,
14 s network side) and the cause its expiry gives (102 user side, 18 network side, as ngatm).

States (code = value of the Endpoint state IE, as in the project's reference):

====  ====  ============================  ================================================
P0    0     Null                          no party (also: an endpoint reference not in use)
P1    1     Add Party Initiated           ADD PARTY (or the call's SETUP) sent; T399 runs
P4    4     Party Alerting Delivered      PARTY ALERTING (or ALERTING) sent
P6    6     Add Party Received            ADD PARTY (or the call's SETUP) received
P7    7     Party Alerting Received       PARTY ALERTING (or ALERTING) received; T397 runs
P10   10    Active
P11   11    Drop Party Initiated          DROP PARTY sent; T398 runs
P12   12    Drop Party Received           DROP PARTY received, waiting for drop-party-ack.request
====  ====  ============================  ================================================

"Delivered" and "Received" name who sent the PARTY ALERTING: the side that sent it is in P4, the side
that received it in P7, where T397 runs (as in the Q.2971 SDL and ngatm's ``sig_party.c``).

The first party of a call is created by the call's SETUP and follows the call's establishment through
internal signals (``call.SETUP``, ``call.ALERTING``, ``call.CONNECT`` ...) sent by ``call.py``; later
parties are created by ADD PARTY. Clearing the call releases every party (``call.released``).

Clause references: the party procedures are cited by the page of the Q.2971 SDL (``SDL PC n/14``,
Party-Control) and, for error handling, by the clauses of Q.2971 9.5 that ngatm cites (9.5.3.2.3 a):
a message naming an unknown endpoint reference is answered with DROP PARTY ACKNOWLEDGE, cause 89).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware.uni.machines import events as ev
from firmware.uni.machines.callcommon import stop
from firmware.uni.machines.table import (
    STATE_CODE,
    Action,
    Answer,
    CountCause,
    Discard,
    EventKind,
    FromEvent,
    Indicate,
    Machine,
    Send,
    Side,
    StartTimer,
    StateInfo,
    StopTimer,
    Table,
    Transition,
)
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers

P0, P1, P4, P6, P7, P10, P11, P12 = "P0", "P1", "P4", "P6", "P7", "P10", "P11", "P12"

STATES = (
    StateInfo(P0, 0, "Null"),
    StateInfo(P1, 1, "Add Party Initiated"),
    StateInfo(P4, 4, "Party Alerting Delivered"),
    StateInfo(P6, 6, "Add Party Received"),
    StateInfo(P7, 7, "Party Alerting Received"),
    StateInfo(P10, 10, "Active"),
    StateInfo(P11, 11, "Drop Party Initiated"),
    StateInfo(P12, 12, "Drop Party Received"),
)

#: Party states that count as a party of the call for the "last party" rule of Q.2971: a party being
#: added or active (ngatm's ``uni_party_act_count(c, 2)``).
LIVE = (P1, P4, P6, P7, P10)
#: Party timers that may run in each state (tests check this against the rows' data flow).
RUNNING = {P0: (), P1: ("T399",), P4: (), P6: (), P7: ("T397",), P10: (), P11: ("T398",), P12: ()}

VALID_ENDPOINT_STATES = frozenset({0, 1, 4, 6, 7, 10, 11, 12})
#: The adder's side of a party being added (P1/P7) and the other side's (P6/P4).
_ADDER = frozenset({1, 7})
_ADDED = frozenset({6, 4})

STATUS_REFINED = ("STATUS/null", "STATUS/compatible", "STATUS/incompatible", "STATUS/invalid")

INTERNAL_EVENTS = (ev.CALL_SETUP_REQUEST, ev.CALL_SETUP, ev.CALL_ALERTING, ev.CALL_ALERTING_REQUEST,
                   ev.CALL_CONNECT, ev.CALL_CONNECT_ACK, ev.CALL_SETUP_RESPONSE, ev.CALL_SETUP_COMPLETE,
                   ev.CALL_RELEASED, ev.CALL_AAL_LOST, ev.CALL_AAL_BACK)


def endpoint_states_compatible(mine: int, peer: int) -> bool:
    """Q.2931 5.6.12 applied to the endpoint state: Null is only compatible with Null; both sides
    believing they are adding the party (or both being added) is incompatible (ngatm's
    ``epstate_compat``); the rest is left compatible."""
    if mine == 0 or peer == 0:
        return mine == peer
    if mine in _ADDER and peer in _ADDER:
        return False
    if mine in _ADDED and peer in _ADDED:
        return False
    return True


def refine_party(machine: Machine, event: str, params: Mapping[str, Any]) -> str:
    if event == ev.STATUS:
        peer = params.get("endpoint_state")
        if peer not in VALID_ENDPOINT_STATES:
            return "STATUS/invalid"
        if peer == 0:
            return "STATUS/null"
        return "STATUS/compatible" if endpoint_states_compatible(machine.code, peer) else "STATUS/incompatible"
    return event


def party_events() -> dict[str, EventKind]:
    events = {m: EventKind.MESSAGE for m in (*ev.PARTY_MESSAGES, ev.STATUS, ev.STATUS_ENQUIRY)}
    events.update({p: EventKind.PRIMITIVE for p in ev.PARTY_PRIMITIVES})
    events.update({t: EventKind.TIMER for t in ev.PARTY_TIMERS})
    events.update({i: EventKind.INTERNAL for i in INTERNAL_EVENTS})
    return events


def answer_unexpected(state: str, event: str, params: Mapping[str, Any]) -> Answer:
    if event.startswith(ev.STATUS + "/"):
        return Answer((Discard("STATUS not expected in this party state"),), "Q.2931 5.6.12")
    if state == P0:
        if event in (ev.ADD_PARTY_REJECT, ev.DROP_PARTY_ACK):
            return Answer((Discard(f"{event} for an unknown endpoint reference"),), "Q.2971 9.5.3.2.3")
        return Answer((Send(ev.DROP_PARTY_ACK, cause=ev.CAUSE_INVALID_ENDPOINT_REFERENCE),
                       CountCause(ev.CAUSE_INVALID_ENDPOINT_REFERENCE)), "Q.2971 9.5.3.2.3 a)")
    return Answer((_status(ev.CAUSE_MESSAGE_NOT_COMPATIBLE), CountCause(ev.CAUSE_MESSAGE_NOT_COMPATIBLE)),
                  "Q.2931 5.6.4 applied to the party state (Q.2971; SDL CC-U 35/39)")


def _status(cause: int) -> Send:
    """STATUS with this party's endpoint state; the call's composition adds the call state."""
    return Send(ev.STATUS, cause=cause, ies=(("endpoint_state", STATE_CODE),))


def build(side: Side, timers: Timers = DEFAULT_TIMERS) -> Table:
    """The party table of one side with the given timer durations."""
    t = timers
    t399 = t.T399_user if side is Side.USER else t.T399_network
    t399_cause = ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY if side is Side.USER else ev.CAUSE_NO_USER_RESPONDING
    cause = FromEvent("cause")
    R: list[Transition] = []

    def row(state: str, event: str, nxt: str, actions: tuple, clause: str, note: str = "") -> None:
        R.append(Transition(state, event, nxt, tuple(actions), clause, note))

    def drop_e(state: str, why: Any, expired: str | None = None) -> tuple[Action, ...]:
        """Drop the party because of a problem (label E of the SDL, PC 8/14)."""
        return (*stop(RUNNING[state], keep=() if expired is None else (expired,)), Send(ev.DROP_PARTY, cause=why),
                StartTimer("T398", t.T398), Indicate("drop-party.indication", cause=why), CountCause(why))

    # ---- P0 Null (also: an endpoint reference not in use)
    row(P0, ev.ADD_PARTY_REQUEST, P1, (Send(ev.ADD_PARTY), StartTimer("T399", t399)),
        "Q.2971 adding a party (SDL PC 3/14)")
    row(P0, ev.ADD_PARTY, P6, (Indicate("add-party.indication"),), "Q.2971 adding a party (SDL PC 3/14)")
    row(P0, ev.CALL_SETUP_REQUEST, P1, (), "Q.2971 first party follows the call: SETUP sent (SDL CC 4/39, PC 3/14)")
    row(P0, ev.CALL_SETUP, P6, (), "Q.2971 first party follows the call: SETUP received (SDL CC 4/39, PC 3/14)")
    row(P0, "STATUS/null", P0, (Discard("STATUS reporting Null for an unknown endpoint reference"),),
        "Q.2931 5.6.12 (endpoint state)")
    row(P0, "STATUS/incompatible", P0,
        (Send(ev.DROP_PARTY_ACK, cause=ev.CAUSE_MESSAGE_NOT_COMPATIBLE), CountCause(ev.CAUSE_MESSAGE_NOT_COMPATIBLE)),
        "Q.2971 9.5.3.2.3; Q.2931 5.6.12 a) (unknown endpoint reference reported not Null)")
    row(P0, "STATUS/invalid", P0, (Discard("STATUS without a valid endpoint state"),), "Q.2931 5.6.12")
    row(P0, ev.STATUS_ENQUIRY, P0, (_status(ev.CAUSE_STATUS_ENQUIRY_RESPONSE),),
        "Q.2931 5.6.11; Q.2971 (SDL PC 12/14)")

    # ---- rows every party state but Null has
    for s in (P1, P4, P6, P7, P10, P11, P12):
        row(s, ev.STATUS_ENQUIRY, s, (_status(ev.CAUSE_STATUS_ENQUIRY_RESPONSE),),
            "Q.2931 5.6.11; Q.2971 (SDL PC 12/14)")
        row(s, "STATUS/invalid", s, (Discard("STATUS without a valid endpoint state"),), "Q.2931 5.6.12")
        row(s, ev.CALL_RELEASED, P0, stop(RUNNING[s]), "Q.2971 the call is cleared (SDL PC 11/14)")

    # ---- parties being added or active
    for s in LIVE:
        row(s, ev.DROP_PARTY, P12, (*stop(RUNNING[s]), Indicate("drop-party.indication", cause=cause)),
            "Q.2971 dropping a party, received (SDL PC 9/14)")
        row(s, ev.DROP_PARTY_ACK, P0, (*stop(RUNNING[s]), Indicate("drop-party-ack.indication", cause=cause)),
            "Q.2971 (SDL PC 8/14: DROP PARTY ACK received in any state)")
        row(s, "STATUS/null", P0, (*stop(RUNNING[s]), Indicate("drop-party-ack.indication", cause=cause)),
            "Q.2931 5.6.12 c) for the endpoint (SDL PC 12/14)")
        row(s, "STATUS/incompatible", P11, drop_e(s, ev.CAUSE_MESSAGE_NOT_COMPATIBLE),
            "Q.2931 5.6.12 a) for the endpoint (SDL PC 12/14)")
        row(s, "STATUS/compatible", s, (), "Q.2931 5.6.12 (compatible: no action; SDL PC 12/14)")
    for s in (P1, P4, P7, P10):
        row(s, ev.DROP_PARTY_REQUEST, P11,
            (*stop(RUNNING[s]), Send(ev.DROP_PARTY, cause=FromEvent("cause", ev.CAUSE_NORMAL_CLEARING)),
             StartTimer("T398", t.T398)), "Q.2971 dropping a party, sent (SDL PC 8/14)")

    # ---- P1 Add Party Initiated: T399 runs (not for the first party: the call's T303/T310 guard it)
    row(P1, ev.ADD_PARTY_ACK, P10, (StopTimer("T399"), Indicate("add-party-ack.indication")),
        "Q.2971 (SDL PC 4/14)")
    row(P1, ev.ADD_PARTY_REJECT, P0, (StopTimer("T399"), Indicate("add-party-reject.indication", cause=cause)),
        "Q.2971 (SDL PC 4/14)")
    row(P1, ev.PARTY_ALERTING, P7,
        (StopTimer("T399"), StartTimer("T397", t.T397), Indicate("party-alerting.indication")),
        "Q.2971 (SDL PC 14/14)")
    row(P1, "T399", P11, drop_e(P1, t399_cause, expired="T399"), "Q.2971 expiry of T399 (SDL PC 4/14)")
    row(P1, ev.CALL_ALERTING, P7, (StopTimer("T399"), StartTimer("T397", t.T397)),
        "Q.2971 first party follows the call: ALERTING received (SDL PC 14/14)")
    row(P1, ev.CALL_CONNECT, P10, (StopTimer("T399"),),
        "Q.2971 first party follows the call: CONNECT received (SDL PC 4/14)")
    row(P1, ev.CALL_SETUP_COMPLETE, P10, (StopTimer("T399"),),
        "Q.2971 first party follows the call: network sends CONNECT ACK (SDL PC 4/14)")

    # ---- P4 Party Alerting Delivered (we sent PARTY ALERTING)
    row(P4, ev.ADD_PARTY_ACK_REQUEST, P10, (Send(ev.ADD_PARTY_ACK),), "Q.2971 (SDL PC 7/14)")
    row(P4, ev.CALL_CONNECT_ACK, P10, (), "Q.2971 first party follows the call: CONNECT ACK received (SDL PC 7/14)")
    row(P4, ev.CALL_SETUP_RESPONSE, P10, (), "Q.2971 first party follows the call: network sends CONNECT (SDL PC 7/14)")

    # ---- P6 Add Party Received
    row(P6, ev.PARTY_ALERTING_REQUEST, P4, (Send(ev.PARTY_ALERTING),), "Q.2971 (SDL PC 6/14)")
    row(P6, ev.ADD_PARTY_ACK_REQUEST, P10, (Send(ev.ADD_PARTY_ACK),), "Q.2971 (SDL PC 6/14)")
    row(P6, ev.ADD_PARTY_REJECT_REQUEST, P0,
        (Send(ev.ADD_PARTY_REJECT, cause=FromEvent("cause", ev.CAUSE_CALL_REJECTED)),), "Q.2971 (SDL PC 6/14)")
    row(P6, ev.ADD_PARTY, P6, (Discard("ADD PARTY repeated"),), "Q.2971 (SDL PC 6/14: ignored)")
    row(P6, ev.CALL_ALERTING_REQUEST, P4, (), "Q.2971 first party follows the call: ALERTING sent (SDL PC 6/14)")
    row(P6, ev.CALL_CONNECT_ACK, P10, (), "Q.2971 first party follows the call: CONNECT ACK received (SDL PC 6/14)")
    row(P6, ev.CALL_SETUP_RESPONSE, P10, (), "Q.2971 first party follows the call: network sends CONNECT (SDL PC 6/14)")

    # ---- P7 Party Alerting Received: T397 runs
    row(P7, ev.ADD_PARTY_ACK, P10, (StopTimer("T397"), Indicate("add-party-ack.indication")),
        "Q.2971 (SDL PC 7/14)")
    row(P7, ev.ADD_PARTY_REJECT, P0,
        (StopTimer("T397"), Indicate("add-party-reject.indication", cause=cause)),
        "Q.2971 (a party alerting may still be rejected; T397 stops)",
        "ngatm accepts ADD PARTY REJECT in P1 only")
    row(P7, "T397", P11, drop_e(P7, ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY, expired="T397"),
        "Q.2971 expiry of T397 (SDL PC 7/14)")
    row(P7, ev.CALL_CONNECT, P10, (StopTimer("T397"),),
        "Q.2971 first party follows the call: CONNECT received (SDL PC 7/14)")
    row(P7, ev.CALL_SETUP_COMPLETE, P10, (StopTimer("T397"),),
        "Q.2971 first party follows the call: network sends CONNECT ACK (SDL PC 7/14)")

    # ---- P11 Drop Party Initiated: T398 runs
    row(P11, ev.DROP_PARTY_ACK, P0, (StopTimer("T398"), Indicate("drop-party-ack.indication", cause=cause)),
        "Q.2971 (SDL PC 8/14)")
    row(P11, ev.DROP_PARTY, P0, (StopTimer("T398"), Indicate("drop-party-ack.indication", cause=cause)),
        "Q.2971 (SDL PC 10/14: DROP PARTY collision)")
    row(P11, ev.ADD_PARTY_REJECT, P0, (StopTimer("T398"), Indicate("drop-party-ack.indication", cause=cause)),
        "Q.2971 (SDL PC 10/14)")
    row(P11, "T398", P0,
        (Send(ev.DROP_PARTY_ACK, cause=ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY),
         Indicate("drop-party-ack.indication", cause=ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY),
         CountCause(ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY)), "Q.2971 expiry of T398 (SDL PC 10/14)")
    row(P11, "STATUS/null", P0, (StopTimer("T398"), Indicate("drop-party-ack.indication", cause=cause)),
        "Q.2971 (SDL PC 10/14)")
    for s in ("STATUS/compatible", "STATUS/incompatible"):
        row(P11, s, P11, (), "Q.2971 (SDL PC 10/14: no action while dropping)")

    # ---- P12 Drop Party Received: the local user acknowledges
    row(P12, ev.DROP_PARTY_ACK_REQUEST, P0,
        (Send(ev.DROP_PARTY_ACK, cause=FromEvent("cause", ev.CAUSE_NORMAL_CLEARING)),), "Q.2971 (SDL PC 9/14)")
    row(P12, ev.DROP_PARTY, P12, (Discard("DROP PARTY repeated"),), "Q.2971 (SDL PC 9/14)")
    row(P12, ev.DROP_PARTY_ACK, P0, (Indicate("drop-party-ack.indication", cause=cause),),
        "Q.2971 (SDL PC 8/14: DROP PARTY ACK received in any state)")
    row(P12, "STATUS/null", P0, (Indicate("drop-party-ack.indication", cause=cause),),
        "Q.2931 5.6.12 c) for the endpoint (SDL PC 12/14)")
    for s in ("STATUS/compatible", "STATUS/incompatible"):
        row(P12, s, P12, (), "Q.2931 5.6.12 (no action while the drop is acknowledged)")

    # ---- the signalling AAL failed under the Active call (Q.2931 5.6.10 b), applied to each party by
    # Q.2971): a party not Active is cleared internally (nothing can be sent), cause 27; an Active one is
    # kept with its call while T309 runs.
    dest = ev.CAUSE_DESTINATION_OUT_OF_ORDER
    for s in (P1, P7):
        row(s, ev.CALL_AAL_LOST, P0, (*stop(RUNNING[s]), Indicate("add-party-reject.indication", cause=dest),
                                      CountCause(dest)),
            "Q.2931 5.6.10 a) per party (Q.2971): the party being added is cleared internally")
    for s in (P4, P6, P11, P12):
        row(s, ev.CALL_AAL_LOST, P0, (*stop(RUNNING[s]), Indicate("drop-party-ack.indication", cause=dest),
                                      CountCause(dest)),
            "Q.2931 5.6.10 a) per party (Q.2971): a party not Active is cleared internally")
    row(P10, ev.CALL_AAL_LOST, P10, (), "Q.2931 5.6.10 b) per party (Q.2971): an Active party is kept")
    # ... and when the AAL is back, the status enquiry of 5.6.10 / 5.6.11 is made for every Active party too
    # (STATUS ENQUIRY with its endpoint reference; the peer answers with the endpoint state, and a party
    # the peer cleared meanwhile - endpoint state Null - is cleared here by the STATUS/null row).
    row(P10, ev.CALL_AAL_BACK, P10, (Send(ev.STATUS_ENQUIRY),),
        "Q.2931 5.6.10, 5.6.11 per party (Q.2971: STATUS ENQUIRY with the endpoint reference)")

    return Table(f"party-{side.value}", title=f"Q.2971 party control, {side.value} side", states=STATES,
                 initial=P0, events=party_events(), transitions=R, answer=answer_unexpected,
                 refine=refine_party, refinements={ev.STATUS: STATUS_REFINED}, side=side)


USER_PARTY = build(Side.USER)
NETWORK_PARTY = build(Side.NETWORK)
