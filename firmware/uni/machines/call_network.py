"""Q.2931 call control, network side: the call states N0..N12 with T303, T308, T310 and T322, and the
call-state checks Q.2971 adds for the party messages (the party machines handle them).

States (Q.2931 2.1.2; code = value of the Call state IE):

====  ====  ==========================  =====================================================
N0    0     Null                        no call (also: a call reference not in use)
N1    1     Call Initiated              SETUP received from the calling user
N3    3     Outgoing Call Proceeding    CALL PROCEEDING sent to the calling user
N4    4     Call Delivered              ALERTING sent to the calling user
N6    6     Call Present                SETUP sent to the called user, T303 running
N7    7     Call Received               ALERTING received from the called user
N8    8     Connect Request             CONNECT received, CONNECT ACK not yet sent
N9    9     Incoming Call Proceeding    CALL PROCEEDING received, T310 running
N10   10    Active
N11   11    Release Request             RELEASE received, waiting for release.response
N12   12    Release Indication          RELEASE sent, T308 running
====  ====  ==========================  =====================================================

The network's control plane drives the primitives: ``proceeding.request`` / ``alerting.request`` /
``setup.response`` answer a calling user, ``setup.request`` offers a call to a called user and
``setup-complete.request`` sends its CONNECT ACK once the connection is through (N8 -> N10, as in the
Q.2971 SDL and ngatm, where the network application decides when).

Choices where the standard leaves room (each is on its row): on T303 (second expiry) and T310 the
network clears with cause 18 "no user responding" - it is the called user that does not answer; a
STATUS reporting Null releases the call towards the control plane with cause 41 "temporary failure"
(Q.2931 5.6.12 c) asks the network to clear the network connection with that cause).
"""

from __future__ import annotations

from firmware.uni.machines import events as ev
from firmware.uni.machines.callcommon import (
    EPREF_IE,
    REFINEMENTS,
    aal_rows,
    answer_unexpected,
    call_events,
    clearing,
    every_state_rows,
    live_rows,
    null_rows,
    party_rows,
    refine_call,
    release_received_rows,
    release_sent_rows,
    released,
    stop,
)
from firmware.uni.machines.table import (
    TO_NAMED_PARTY,
    TO_NEW_PARTY,
    CountCause,
    FromEvent,
    Indicate,
    Retransmit,
    Send,
    Side,
    Signal,
    StartTimer,
    StateInfo,
    StopTimer,
    Table,
    Transition,
)
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers

N0, N1, N3, N4, N6, N7, N8, N9, N10, N11, N12 = (
    "N0", "N1", "N3", "N4", "N6", "N7", "N8", "N9", "N10", "N11", "N12")

STATES = (
    StateInfo(N0, 0, "Null"),
    StateInfo(N1, 1, "Call Initiated"),
    StateInfo(N3, 3, "Outgoing Call Proceeding"),
    StateInfo(N4, 4, "Call Delivered"),
    StateInfo(N6, 6, "Call Present"),
    StateInfo(N7, 7, "Call Received"),
    StateInfo(N8, 8, "Connect Request"),
    StateInfo(N9, 9, "Incoming Call Proceeding"),
    StateInfo(N10, 10, "Active"),
    StateInfo(N11, 11, "Release Request"),
    StateInfo(N12, 12, "Release Indication"),
)

#: Cause 41, "temporary failure".
CAUSE_TEMPORARY_FAILURE = 41

LIVE = (N1, N3, N4, N6, N7, N8, N9, N10)
RUNNING = {N0: (), N1: ("T322",), N3: ("T322",), N4: ("T322",), N6: ("T303", "T322"), N7: ("T322",),
           N8: ("T322",), N9: ("T310", "T322"), N10: ("T309", "T322"), N11: (), N12: ("T308",)}

_DROP = (ev.DROP_PARTY_REQUEST, ev.DROP_PARTY_ACK_REQUEST)
#: Party events each state lets through (Q.2971 SDL Call-Control-N pages, as listed by ngatm).
PARTY_EVENTS = {
    N1: ((ev.DROP_PARTY, *_DROP), "Q.2971 (SDL CC-N 27/39)"),
    N3: (_DROP, "Q.2971 (SDL CC-N 27/39)"),
    N4: ((ev.ADD_PARTY, ev.ADD_PARTY_REJECT_REQUEST, ev.PARTY_ALERTING_REQUEST, ev.DROP_PARTY,
          ev.DROP_PARTY_ACK, *_DROP), "Q.2971 (SDL CC-N 8/39, 27/39)"),
    N6: ((ev.DROP_PARTY, *_DROP), "Q.2971 (SDL CC-N 27/39)"),
    N7: ((ev.ADD_PARTY_REQUEST, ev.PARTY_ALERTING, ev.ADD_PARTY_REJECT, ev.DROP_PARTY, ev.DROP_PARTY_ACK,
          *_DROP), "Q.2971 (SDL CC-N 12/39, 27/39)"),
    N8: ((ev.PARTY_ALERTING, ev.ADD_PARTY_ACK, ev.ADD_PARTY_REJECT, ev.DROP_PARTY, ev.DROP_PARTY_ACK,
          *_DROP), "Q.2971 (SDL CC-N 15/39, 27/39)"),
    N9: ((ev.DROP_PARTY, *_DROP), "Q.2971 (SDL CC-N 27/39)"),
    N10: ((*ev.PARTY_MESSAGES, *ev.PARTY_PRIMITIVES), "Q.2971 (SDL CC-N 21-22/39)"),
}


def build(timers: Timers = DEFAULT_TIMERS) -> Table:
    """The network-side call table with the given timer durations."""
    t = timers
    R: list[Transition] = []

    def row(state: str, event: str, nxt: str, actions: tuple, clause: str, note: str = "") -> None:
        R.append(Transition(state, event, nxt, tuple(actions), clause, note))

    # ---- N0 Null
    row(N0, ev.SETUP, N1, (Indicate("setup.indication"), Signal(ev.CALL_SETUP, TO_NEW_PARTY)),
        "Q.2931 5.1.1 (SETUP from the calling user); Q.2971 first party (SDL CC-N 4/39)")
    row(N0, ev.SETUP_REQUEST, N6,
        (Send(ev.SETUP, ies=EPREF_IE), StartTimer("T303", t.T303), Signal(ev.CALL_SETUP_REQUEST, TO_NEW_PARTY)),
        "Q.2931 5.2.1 (SETUP offered to the called user); Q.2971 first party (SDL CC-N 4/39)")
    R.extend(null_rows(N0))

    for s in LIVE:
        R.extend(live_rows(s, RUNNING[s], t, null=N0, release_sent=N12, release_received=N11,
                           peer_release_clause="Q.2931 5.4.3 (clearing initiated by the user)",
                           local_release_clause="Q.2931 5.4.4 (clearing initiated by the network)",
                           release_complete_clause=("Q.2931 5.2.5 (call rejected by the called user)"
                                                    if s == N6 else "Q.2931 5.6.4 (unexpected RELEASE COMPLETE)"),
                           null_cause=CAUSE_TEMPORARY_FAILURE))
        events, clause = PARTY_EVENTS[s]
        R.extend(party_rows(s, events, clause))
    for s in (*LIVE, N11, N12):
        R.extend(every_state_rows(s))

    # ---- N1 / N3 / N4: the calling user's SETUP is being answered by the control plane
    row(N1, ev.PROCEEDING_REQUEST, N3, (Send(ev.CALL_PROCEEDING, ies=EPREF_IE),), "Q.2931 5.1.5 (SDL CC-N 6/39)")
    for s in (N1, N3):
        row(s, ev.ALERTING_REQUEST, N4,
            (Send(ev.ALERTING, ies=EPREF_IE), Signal(ev.CALL_ALERTING_REQUEST, TO_NAMED_PARTY)),
            "Q.2931 5.1.6 (SDL CC-N 38/39, 7/39)")
    for s in (N1, N3, N4):
        row(s, ev.SETUP_RESPONSE, N10,
            (Send(ev.CONNECT, ies=EPREF_IE), Signal(ev.CALL_SETUP_RESPONSE, TO_NAMED_PARTY)),
            "Q.2931 5.1.7 (SDL CC-N 39/39, 7/39, 8/39)")
    row(N1, ev.RELEASE_RESPONSE, N0,
        (*stop(RUNNING[N1]), Send(ev.RELEASE_COMPLETE, cause=FromEvent("cause", ev.CAUSE_CALL_REJECTED)),
         released()), "Q.2931 5.1.8 (call rejected with RELEASE COMPLETE; SDL CC-N 6/39)")

    # ---- N6 Call Present: our SETUP is out to the called user, T303 runs
    row(N6, ev.CALL_PROCEEDING, N9,
        (StopTimer("T303"), StartTimer("T310", t.T310), Indicate("proceeding.indication")),
        "Q.2931 5.2.5 (SDL CC-N 11/39)")
    row(N6, ev.ALERTING, N7,
        (StopTimer("T303"), Indicate("alerting.indication"), Signal(ev.CALL_ALERTING, TO_NAMED_PARTY)),
        "Q.2931 5.2.5 (SDL CC-N 9/39)")
    row(N6, ev.CONNECT, N8, (StopTimer("T303"), Indicate("setup.confirm")), "Q.2931 5.2.6 (SDL CC-N 9-10/39)")
    row(N6, "T303#1", N6, (Retransmit(ev.SETUP), StartTimer("T303", t.T303, retry=True)),
        "Q.2931 5.2.1 (first expiry of T303: SETUP again)")
    row(N6, "T303#2", N0,
        (*stop(("T322",)), Indicate("release.confirm", cause=ev.CAUSE_NO_USER_RESPONDING),
         CountCause(ev.CAUSE_NO_USER_RESPONDING), released()),
        "Q.2931 5.2.1 (second expiry of T303: clear, no user responding)")

    # ---- N9 Incoming Call Proceeding: T310 runs; N7 Call Received
    row(N9, ev.ALERTING, N7,
        (StopTimer("T310"), Indicate("alerting.indication"), Signal(ev.CALL_ALERTING, TO_NAMED_PARTY)),
        "Q.2931 5.2.5 (SDL CC-N 17/39)")
    row(N9, ev.CONNECT, N8, (StopTimer("T310"), Indicate("setup.confirm")), "Q.2931 5.2.6 (SDL CC-N 17/39)")
    row(N9, "T310", N12, clearing(RUNNING[N9], ev.CAUSE_NO_USER_RESPONDING, t, count=True, expired="T310"),
        "Q.2931 5.2.5 (expiry of T310)")
    row(N7, ev.CONNECT, N8, (Indicate("setup.confirm"),), "Q.2931 5.2.6 (SDL CC-N 14/39)")

    # ---- N8 Connect Request: the control plane completes the connection
    row(N8, ev.SETUP_COMPLETE_REQUEST, N10,
        (Send(ev.CONNECT_ACK), Signal(ev.CALL_SETUP_COMPLETE, TO_NAMED_PARTY)),
        "Q.2931 5.2.7 (SDL CC-N 15/39)")

    # ---- N10 Active: the calling user acknowledges our CONNECT, nothing to do
    row(N10, ev.CONNECT_ACK, N10, (), "Q.2931 5.1.7 (CONNECT ACK from the calling user; SDL CC-N 18/39)")

    # ---- N11 Release Request (RELEASE received) and N12 Release Indication (RELEASE sent, T308)
    R.extend(release_received_rows(N11, N0, clause="Q.2931 5.4.3"))
    R.extend(release_sent_rows(N12, N0, t, clause="Q.2931 5.4.4"))

    # ---- the signalling AAL fails or comes back (Q.2931 5.6.9, 5.6.10; T309)
    R.extend(aal_rows(establishing=tuple(s for s in LIVE if s != N10), active=N10, clearing=(N11, N12),
                      null=N0, running=RUNNING, timers=t))

    return Table("call-network", title="Q.2931 call control, network side", states=STATES, initial=N0,
                 events=call_events(Side.NETWORK), transitions=R, answer=answer_unexpected(N0),
                 refine=refine_call, refinements=REFINEMENTS, side=Side.NETWORK)


NETWORK_CALL = build()
