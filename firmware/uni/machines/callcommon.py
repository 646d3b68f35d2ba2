"""Pieces shared by the user-side and network-side Q.2931 call tables (``call_user``, ``call_network``).

Each table file lists its own rows; this module holds what both sides do the same way: the event
vocabulary, how a received STATUS is classified (Q.2931 5.6.12), the rows every state has (STATUS
ENQUIRY, NOTIFY, a SETUP for a call reference in use), the rows of the Null state (which is also
"unknown call reference", Q.2931 5.6.3.2), and the answer to a message with no row (5.6.4).

Clause references: Q.2931 (02/95) clause 5. Sub-clauses of 5.5 (restart), 5.6 (error conditions)
and 5.7 (action indicator) are those FreeBSD's ngatm cites in its code; establishment (5.1, 5.2) and
clearing (5.4) are cited at the level of their sub-clauses as numbered in Q.2931 / UNI 3.1. Where the
behaviour comes from the SDL diagrams of Q.2971 (which redraw the Q.2931 call control with the party
messages), the figure page is given as ``SDL CC-U n/39`` (user side) or ``SDL CC-N n/39`` (network).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware.uni.machines import events as ev
from firmware.uni.machines.table import (
    STATE_CODE,
    TO_ALL_PARTIES,
    Action,
    Answer,
    CountCause,
    Discard,
    EventKind,
    Forward,
    FromEvent,
    Indicate,
    Machine,
    Retransmit,
    Send,
    Side,
    Signal,
    StartTimer,
    StopTimer,
    Transition,
)
from firmware.uni.machines.timers import Timers

#: Call state codes (the Call state IE) grouped by the direction of the call at this interface.
#: A call is "originating" here when the user sent the SETUP (U1/N1, U3/N3, U4/N4) and "terminating"
#: when the network did (U6/N6 ... U9/N9); the two sides report the same code for the same call.
VALID_CALL_STATES = frozenset({0, 1, 3, 4, 6, 7, 8, 9, 10, 11, 12})
ORIGINATING_CODES = frozenset({1, 3, 4})
TERMINATING_CODES = frozenset({6, 7, 8, 9})

STATUS_REFINED = ("STATUS/null", "STATUS/compatible", "STATUS/answer", "STATUS/incompatible",
                  "STATUS/invalid")
STATUS_ENQUIRY_REFINED = ("STATUS_ENQUIRY", "STATUS_ENQUIRY/party")
#: A status enquiry while one is outstanding (T322 running) has no row: the local user is told no.
ENQUIRY_REQUEST_REFINED = (ev.STATUS_ENQUIRY_REQUEST, ev.STATUS_ENQUIRY_REQUEST + "/pending")
#: A signalling AAL failure while T309 already runs (Q.2931 5.6.10 b): "not restarted").
AAL_RELEASE_REFINED = (ev.AAL_RELEASE_INDICATION, ev.AAL_RELEASE_INDICATION + "/T309-running")


def call_states_compatible(mine: int, peer: int) -> bool:
    """Q.2931 5.6.12 leaves the choice of incompatible states to the implementation, except that any
    state but Null is incompatible with Null. Here a pair is also incompatible when one side sees an
    outgoing call and the other an incoming one (ngatm's ``state_compat``, written without its typo)."""
    if mine == 0 or peer == 0:
        return mine == peer
    if mine in ORIGINATING_CODES and peer in TERMINATING_CODES:
        return False
    if mine in TERMINATING_CODES and peer in ORIGINATING_CODES:
        return False
    return True


def refine_call(machine: Machine, event: str, params: Mapping[str, Any]) -> str:
    """STATUS -> STATUS/{null, incompatible, answer, compatible, invalid} (Q.2931 5.6.12: the call
    state it reports, and cause 30 for the answer to our STATUS ENQUIRY); STATUS ENQUIRY -> with or
    without an endpoint reference (Q.2971: the party answers for its endpoint state)."""
    if event == ev.STATUS:
        peer = params.get("call_state")
        if peer not in VALID_CALL_STATES:
            return "STATUS/invalid"
        if peer == 0:
            return "STATUS/null"
        if not call_states_compatible(machine.code, peer):
            return "STATUS/incompatible"
        if params.get("cause") == ev.CAUSE_STATUS_ENQUIRY_RESPONSE:
            return "STATUS/answer"
        return "STATUS/compatible"
    if event == ev.STATUS_ENQUIRY:
        return "STATUS_ENQUIRY/party" if params.get("epref") is not None else "STATUS_ENQUIRY"
    if event == ev.STATUS_ENQUIRY_REQUEST:
        return ENQUIRY_REQUEST_REFINED[1] if "T322" in machine.running else ENQUIRY_REQUEST_REFINED[0]
    if event == ev.AAL_RELEASE_INDICATION:
        return AAL_RELEASE_REFINED[1] if "T309" in machine.running else AAL_RELEASE_REFINED[0]
    return event


def call_events(side: Side) -> dict[str, EventKind]:
    events = {m: EventKind.MESSAGE for m in ev.CALL_MESSAGES}
    primitives = [ev.SETUP_REQUEST, ev.SETUP_RESPONSE, ev.PROCEEDING_REQUEST, ev.ALERTING_REQUEST,
                  ev.RELEASE_REQUEST, ev.RELEASE_RESPONSE, ev.STATUS_ENQUIRY_REQUEST, *ev.PARTY_PRIMITIVES]
    timers = ["T303", "T308", "T309", "T310", "T322"]
    primitives += ev.AAL_PRIMITIVES                    # from the signalling AAL (Q.2931 5.6.9, 5.6.10)
    if side is Side.NETWORK:
        primitives.append(ev.SETUP_COMPLETE_REQUEST)   # N8: the network's CONNECT ACK (SDL CC-N 15/39)
    else:
        timers.append("T313")                          # T313 is a user-side timer (Q.2931 5.2.6)
    events.update({p: EventKind.PRIMITIVE for p in primitives})
    events.update({t: EventKind.TIMER for t in timers})
    events[ev.PARTIES_NONE_LEFT] = EventKind.INTERNAL
    return events


#: The endpoint reference of a point-to-multipoint call's SETUP, CALL PROCEEDING, ALERTING, CONNECT
#: (Q.2971: mandatory there when the call is point-to-multipoint); dropped when the event has none.
EPREF_IE = (("endpoint_reference", FromEvent("epref")),)

REFINEMENTS = {ev.STATUS: STATUS_REFINED, ev.STATUS_ENQUIRY: STATUS_ENQUIRY_REFINED,
               ev.STATUS_ENQUIRY_REQUEST: ENQUIRY_REQUEST_REFINED, ev.AAL_RELEASE_INDICATION: AAL_RELEASE_REFINED}

# ---- action helpers ------------------------------------------------------------------------------


def status(cause: Any) -> Send:
    """A STATUS message reporting the current call state (Q.2931 5.6.11, 5.6.4), echoing the
    endpoint reference of the event when it has one."""
    return Send(ev.STATUS, cause=cause, ies=(("call_state", STATE_CODE),
                                             ("endpoint_reference", FromEvent("epref"))))


def stop(timers: frozenset[str] | tuple[str, ...], *, keep: tuple[str, ...] = ()) -> tuple[Action, ...]:
    return tuple(StopTimer(t) for t in sorted(timers) if t not in keep)


def released() -> Signal:
    return Signal(ev.CALL_RELEASED, TO_ALL_PARTIES)


def answer_unexpected(null_state: str) -> Any:
    """The answer to a message with no row (must be total on messages)."""

    def answer(state: str, event: str, params: Mapping[str, Any]) -> Answer:
        if event.startswith(ev.STATUS + "/"):
            # Never answer a STATUS with a STATUS; every STATUS variant that can occur has a row.
            return Answer((Discard("STATUS not expected in this state"),), "Q.2931 5.6.12")
        if state == null_state:
            if event == ev.RELEASE_COMPLETE:
                return Answer((Discard("RELEASE COMPLETE for an unknown call reference"),),
                              "Q.2931 5.6.3.2 c)")
            # Any other message for a call reference not in use (Null state).
            return Answer((Send(ev.RELEASE_COMPLETE, cause=ev.CAUSE_INVALID_CALL_REFERENCE),
                           CountCause(ev.CAUSE_INVALID_CALL_REFERENCE)), "Q.2931 5.6.3.2 a)")
        if event == ev.UNKNOWN:
            return Answer((status(ev.CAUSE_MESSAGE_TYPE_NONEXISTENT),
                           CountCause(ev.CAUSE_MESSAGE_TYPE_NONEXISTENT)), "Q.2931 5.6.4")
        return Answer((status(ev.CAUSE_MESSAGE_NOT_COMPATIBLE),
                       CountCause(ev.CAUSE_MESSAGE_NOT_COMPATIBLE)), "Q.2931 5.6.4")

    return answer


# ---- rows shared by both sides ---------------------------------------------------------------------


def null_rows(null: str) -> list[Transition]:
    """The Null state, which also stands for a call reference that is not in use (Q.2931 5.6.3.2):
    a fresh machine answers a message for an unknown call reference exactly as the standard says."""
    return [
        Transition(null, "STATUS_ENQUIRY", null,
                   (Send(ev.STATUS, cause=ev.CAUSE_STATUS_ENQUIRY_RESPONSE, ies=(("call_state", STATE_CODE),)),),
                   "Q.2931 5.6.11", "STATUS ENQUIRY for an unknown call reference: report Null"),
        Transition(null, "STATUS_ENQUIRY/party", null,
                   (Send(ev.STATUS, cause=ev.CAUSE_STATUS_ENQUIRY_RESPONSE,
                         ies=(("call_state", STATE_CODE), ("endpoint_reference", FromEvent("epref")),
                              ("endpoint_state", 0))),),
                   "Q.2931 5.6.11; Q.2971 endpoint state Null"),
        Transition(null, "STATUS/null", null, (Discard("STATUS reporting Null in the Null state"),),
                   "Q.2931 5.6.12"),
        Transition(null, "STATUS/incompatible", null,
                   (Send(ev.RELEASE_COMPLETE, cause=ev.CAUSE_MESSAGE_NOT_COMPATIBLE),
                    CountCause(ev.CAUSE_MESSAGE_NOT_COMPATIBLE)),
                   "Q.2931 5.6.12 a)", "STATUS reporting a call state other than Null"),
        Transition(null, "STATUS/invalid", null, (Discard("STATUS without a valid call state"),),
                   "Q.2931 5.6.12"),
        Transition(null, ev.RELEASE_COMPLETE, null,
                   (Discard("RELEASE COMPLETE for an unknown call reference"),), "Q.2931 5.6.3.2 c)"),
    ]


def every_state_rows(state: str) -> list[Transition]:
    """Rows every state but Null has, with no state change."""
    return [
        Transition(state, "STATUS_ENQUIRY", state, (status(ev.CAUSE_STATUS_ENQUIRY_RESPONSE),),
                   "Q.2931 5.6.11"),
        Transition(state, "STATUS_ENQUIRY/party", state, (Forward(),),
                   "Q.2931 5.6.11; Q.2971 (the party reports its endpoint state)"),
        Transition(state, "STATUS/invalid", state, (Discard("STATUS without a valid call state"),),
                   "Q.2931 5.6.12"),
        Transition(state, ev.NOTIFY, state, (Indicate("notify.indication"),), "Q.2931 3.1 (NOTIFY: told to the user)"),
        Transition(state, ev.SETUP, state, (Discard("SETUP for a call reference in use"),),
                   "Q.2931 5.6.3.2 (SETUP for a call reference in use is ignored)"),
    ]


def party_rows(state: str, events: tuple[str, ...], clause: str) -> list[Transition]:
    """Party messages/primitives allowed by the call state: handed to the party machine (Q.2971)."""
    return [Transition(state, e, state, (Forward(),), clause) for e in events]


def clearing(running: tuple[str, ...], cause: Any, timers: Timers, *, count: bool,
             expired: str | None = None) -> tuple[Action, ...]:
    """Clear the call because of a problem ("label D" of the SDL): stop the timers that may run
    (but the one whose expiry this is), send RELEASE with ``cause``, start T308, tell the user,
    release the parties."""
    keep = () if expired is None else (expired,)
    acts: list[Action] = [*stop(running, keep=keep), Send(ev.RELEASE, cause=cause), StartTimer("T308", timers.T308),
                          Indicate("release.indication", cause=cause)]
    if count:
        acts.append(CountCause(cause))
    acts.append(released())
    return tuple(acts)


def live_rows(state: str, running: tuple[str, ...], timers: Timers, *, null: str, release_sent: str,
              release_received: str, peer_release_clause: str, local_release_clause: str,
              release_complete_clause: str, null_cause: int) -> list[Transition]:
    """Rows of every establishment or active state (not Null, not clearing). ``running``: the call
    timers that may run in ``state`` (tests check it against the table's data flow)."""
    cause = FromEvent("cause")
    return [
        Transition(state, ev.RELEASE, release_received,
                   (*stop(running), Indicate("release.indication", cause=cause), released()),
                   peer_release_clause),
        Transition(state, ev.RELEASE_COMPLETE, null,
                   (*stop(running), Indicate("release.confirm", cause=cause), released()),
                   release_complete_clause),
        Transition(state, ev.RELEASE_REQUEST, release_sent,
                   (*stop(running), Send(ev.RELEASE, cause=FromEvent("cause", ev.CAUSE_NORMAL_CLEARING)),
                    StartTimer("T308", timers.T308), released()),
                   local_release_clause),
        Transition(state, ev.STATUS_ENQUIRY_REQUEST, state,
                   (Send(ev.STATUS_ENQUIRY, ies=(("endpoint_reference", FromEvent("epref")),)),
                    StartTimer("T322", timers.T322)), "Q.2931 5.6.11"),
        Transition(state, "T322#1", state,
                   (Retransmit(ev.STATUS_ENQUIRY), StartTimer("T322", timers.T322, retry=True)),
                   "Q.2931 5.6.11 (first expiry of T322)"),
        Transition(state, "T322#2", release_sent,
                   clearing(running, ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY, timers, count=True, expired="T322"),
                   "Q.2931 5.6.11 (last expiry of T322; SDL CC-U 34/39, CC-N 35/39)"),
        Transition(state, "STATUS/answer", state,
                   (StopTimer("T322"), Indicate("status.indication"), Forward()), "Q.2931 5.6.11, 5.6.12"),
        Transition(state, "STATUS/compatible", state, (Indicate("status.indication"), Forward()),
                   "Q.2931 5.6.12"),
        Transition(state, "STATUS/incompatible", release_sent,
                   clearing(running, ev.CAUSE_MESSAGE_NOT_COMPATIBLE, timers, count=True),
                   "Q.2931 5.6.12 a)"),
        Transition(state, "STATUS/null", null,
                   (*stop(running), Indicate("release.confirm", cause=null_cause), CountCause(null_cause),
                    released()), "Q.2931 5.6.12 c)"),
        Transition(state, ev.PARTIES_NONE_LEFT, release_sent,
                   clearing(running, FromEvent("cause", ev.CAUSE_NORMAL_UNSPECIFIED), timers, count=False),
                   "Q.2971: the last party is cleared with RELEASE (SDL CC-U 23-24/39, CC-N 23/39)"),
    ]


def release_sent_rows(state: str, null: str, timers: Timers, *, clause: str) -> list[Transition]:
    """We sent RELEASE and run T308 (U11 Release Request / N12 Release Indication)."""
    cause = FromEvent("cause")
    return [
        Transition(state, ev.RELEASE_COMPLETE, null,
                   (StopTimer("T308"), Indicate("release.confirm", cause=cause)), clause),
        Transition(state, ev.RELEASE, null, (StopTimer("T308"), Indicate("release.confirm", cause=cause)),
                   "Q.2931 5.4.5 (clear collision)"),
        Transition(state, "T308#1", state, (Retransmit(ev.RELEASE), StartTimer("T308", timers.T308, retry=True)),
                   clause + " (first expiry of T308)"),
        Transition(state, "T308#2", null,
                   (Indicate("release.confirm", cause=ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY),
                    CountCause(ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY)), clause + " (second expiry of T308)"),
        Transition(state, "STATUS/null", null,
                   (StopTimer("T308"), Indicate("release.confirm", cause=ev.CAUSE_MESSAGE_NOT_COMPATIBLE),
                    CountCause(ev.CAUSE_MESSAGE_NOT_COMPATIBLE)), "Q.2931 5.6.12 c)"),
        *[Transition(state, s, state, (Indicate("status.indication"),), "Q.2931 5.6.12 b) (no action)")
          for s in ("STATUS/compatible", "STATUS/answer", "STATUS/incompatible")],
        *[Transition(state, m, state, (Discard("party message while the call is clearing"),),
                     "Q.2971 (SDL CC-U 28/39, CC-N 30/39: ignored)") for m in (ev.DROP_PARTY, ev.DROP_PARTY_ACK)],
    ]


def release_received_rows(state: str, null: str, *, clause: str) -> list[Transition]:
    """The peer's RELEASE was indicated; waiting for the local release.response (U12 / N11)."""
    cause = FromEvent("cause")
    return [
        Transition(state, ev.RELEASE_RESPONSE, null, (Send(ev.RELEASE_COMPLETE, cause=cause),), clause),
        Transition(state, ev.RELEASE, state, (Discard("RELEASE repeated before the local response"),),
                   clause + " (peer's T308 retransmission; no second indication, as ngatm)"),
        Transition(state, ev.RELEASE_COMPLETE, null, (Indicate("release.confirm", cause=cause),),
                   "Q.2931 5.6.4 (unexpected RELEASE COMPLETE)"),
        Transition(state, "STATUS/null", null,
                   (Indicate("release.confirm", cause=ev.CAUSE_MESSAGE_NOT_COMPATIBLE),
                    CountCause(ev.CAUSE_MESSAGE_NOT_COMPATIBLE)), "Q.2931 5.6.12 c)"),
        *[Transition(state, s, state, (Indicate("status.indication"),), "Q.2931 5.6.12")
          for s in ("STATUS/compatible", "STATUS/answer", "STATUS/incompatible")],
        *[Transition(state, m, state, (Discard("party message while the call is clearing"),),
                     "Q.2971 (SDL CC-U 30/39, CC-N 29/39: ignored)") for m in (ev.DROP_PARTY, ev.DROP_PARTY_ACK)],
    ]


def aal_rows(*, establishing: tuple[str, ...], active: str, clearing: tuple[str, ...], null: str,
             running: Mapping[str, tuple[str, ...]], timers: Timers) -> list[Transition]:
    """What the signalling AAL's state does to the calls (Q.2931 5.6.9 signalling AAL reset, 5.6.10
    signalling AAL failure; the interface feeds ``aal-release.indication`` and ``aal-establish.confirm``
    to every call in its table). ``establishing``: the live states but Active; ``clearing``: the two
    clearing states; ``running``: the call timers that may run in each state.

    5.6.10: on AAL-RELEASE indication a call not in the Active state is cleared internally (no message:
    the link is down) - here with cause 27 "destination out of order", the Q.850 cause for a data link
    failure, told to the local user as release.confirm; an Active call starts T309 (not restarted when
    it runs already) and is kept, and its parties that are not Active are cleared internally
    (``call.aal-lost``, the party table); the entity asks for re-establishment (the interface does).
    On AAL-ESTABLISH confirm T309 stops and the status enquiry procedure (5.6.11) checks the peer's call
    state, and each Active party's endpoint state (``call.aal-back``: a party the peer cleared meanwhile
    is then cleared here). T309 expiry: the call is cleared internally with cause 27 (the network clears the rest of the
    call towards the remote users with that cause: the control plane's relay of release.confirm).
    5.6.9: a reset or re-establishment (AAL-ESTABLISH indication) leaves calls being set up, active or
    clearing as they are."""
    dest = ev.CAUSE_DESTINATION_OUT_OF_ORDER
    lost = ev.AAL_RELEASE_INDICATION
    R: list[Transition] = []
    for s in establishing:
        R.append(Transition(s, lost, null,
                            (*stop(running[s]), Indicate("release.confirm", cause=dest), CountCause(dest), released()),
                            "Q.2931 5.6.10 a) (signalling AAL failure: a call not Active is cleared internally)"))
        R.append(Transition(s, ev.AAL_ESTABLISH_CONFIRM, s, (),
                            "Q.2931 5.6.9 b) (AAL re-established: a call being set up is kept)"))
    for s in clearing:
        R.append(Transition(s, lost, null,
                            (*stop(running[s]), Indicate("release.confirm", cause=dest), CountCause(dest)),
                            "Q.2931 5.6.10 a) (signalling AAL failure: a clearing call is cleared internally)"))
        R.append(Transition(s, ev.AAL_ESTABLISH_CONFIRM, s, (),
                            "Q.2931 5.6.9 a) (AAL re-established: no action for a clearing call)"))
    R += [
        Transition(active, lost, active,
                   (StopTimer("T322"), StartTimer("T309", timers.T309), Signal(ev.CALL_AAL_LOST, TO_ALL_PARTIES)),
                   "Q.2931 5.6.10 b) (signalling AAL failure: an Active call is kept, T309 started; Q.2971: "
                   "its parties not Active are cleared internally)"),
        Transition(active, AAL_RELEASE_REFINED[1], active, (),
                   "Q.2931 5.6.10 b) (T309 already running: not restarted)"),
        Transition(active, ev.AAL_ESTABLISH_CONFIRM, active,
                   (StopTimer("T309"), Send(ev.STATUS_ENQUIRY), StartTimer("T322", timers.T322),
                    Signal(ev.CALL_AAL_BACK, TO_ALL_PARTIES)),
                   "Q.2931 5.6.10 (AAL re-established: T309 stopped, status enquiry 5.6.11); 5.6.9 c)"),
        Transition(active, "T309", null,
                   (*stop(running[active], keep=("T309",)), Indicate("release.confirm", cause=dest), CountCause(dest),
                    released()),
                   "Q.2931 5.6.10 (T309 expiry: the call is cleared internally with cause 27)"),
    ]
    return R
