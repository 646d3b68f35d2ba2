"""Q.2931 call control, user side: the call states U0..U12 with T303, T308, T310, T313 and T322, and
the call-state checks Q.2971 adds for the party messages (which the party machines then handle).

States (Q.2931 2.1.1; code = value of the Call state IE):

====  ====  ==========================  =====================================================
U0    0     Null                        no call (also: a call reference not in use)
U1    1     Call Initiated              SETUP sent, T303 running
U3    3     Outgoing Call Proceeding    CALL PROCEEDING received, T310 running
U4    4     Call Delivered              ALERTING received
U6    6     Call Present                SETUP received, no answer yet
U7    7     Call Received               ALERTING sent
U8    8     Connect Request             CONNECT sent, T313 running
U9    9     Incoming Call Proceeding    CALL PROCEEDING sent
U10   10    Active                      CONNECT received (calling) / CONNECT ACK received (called)
U11   11    Release Request             RELEASE sent, T308 running
U12   12    Release Indication          RELEASE received, waiting for release.response
====  ====  ==========================  =====================================================

Choices where the standard leaves room (each is on its row):

* a RELEASE received is indicated to the user and answered with RELEASE COMPLETE on
  ``release.response`` (U12), as in the Q.2931/Q.2971 SDL and ngatm;
* the user side clears on T303 (second expiry), T310, T313 and T322 (last expiry) with cause 102
  "recovery on timer expiry" - it is the network that does not answer;
* a STATUS reporting an incompatible state clears the call with cause 101 (5.6.12 a)).

Timer durations come from a :class:`~firmware.uni.machines.timers.Timers`; ``USER_CALL`` is the table
with the defaults.
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
    released,
    release_sent_rows,
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

U0, U1, U3, U4, U6, U7, U8, U9, U10, U11, U12 = (
    "U0", "U1", "U3", "U4", "U6", "U7", "U8", "U9", "U10", "U11", "U12")

STATES = (
    StateInfo(U0, 0, "Null"),
    StateInfo(U1, 1, "Call Initiated"),
    StateInfo(U3, 3, "Outgoing Call Proceeding"),
    StateInfo(U4, 4, "Call Delivered"),
    StateInfo(U6, 6, "Call Present"),
    StateInfo(U7, 7, "Call Received"),
    StateInfo(U8, 8, "Connect Request"),
    StateInfo(U9, 9, "Incoming Call Proceeding"),
    StateInfo(U10, 10, "Active"),
    StateInfo(U11, 11, "Release Request"),
    StateInfo(U12, 12, "Release Indication"),
)

#: States of a call being set up or active (not Null, not clearing).
LIVE = (U1, U3, U4, U6, U7, U8, U9, U10)
#: Call timers that may run in each state (the tests check this against the rows' data flow).
RUNNING = {U0: (), U1: ("T303", "T322"), U3: ("T310", "T322"), U4: ("T322",), U6: ("T322",),
           U7: ("T322",), U8: ("T313", "T322"), U9: ("T322",), U10: ("T309", "T322"), U11: ("T308",), U12: ()}

_DROP = (ev.DROP_PARTY_REQUEST, ev.DROP_PARTY_ACK_REQUEST)
#: Party events each state lets through to the party machine (Q.2971 SDL Call-Control-U pages).
PARTY_EVENTS = {
    U1: ((ev.DROP_PARTY, *_DROP), "Q.2971 (SDL CC-U 26/39)"),
    # DROP PARTY in U3 is answered as unexpected (ATM Forum test L3MU_17_38, as ngatm).
    U3: (_DROP, "Q.2971 (SDL CC-U 26/39)"),
    U4: ((ev.ADD_PARTY_REQUEST, ev.PARTY_ALERTING, ev.ADD_PARTY_REJECT, ev.DROP_PARTY, ev.DROP_PARTY_ACK, *_DROP),
         "Q.2971 (SDL CC-U 9-10/39, 26/39)"),
    U6: ((ev.DROP_PARTY, *_DROP), "Q.2971 (SDL CC-U 26/39)"),
    U7: ((ev.ADD_PARTY, ev.ADD_PARTY_REJECT_REQUEST, ev.PARTY_ALERTING_REQUEST, ev.DROP_PARTY,
          ev.DROP_PARTY_ACK, *_DROP), "Q.2971 (SDL CC-U 14/39, 26/39)"),
    U8: ((ev.ADD_PARTY, ev.ADD_PARTY_REJECT_REQUEST, ev.PARTY_ALERTING_REQUEST, ev.DROP_PARTY,
          ev.DROP_PARTY_ACK, *_DROP), "Q.2971 (SDL CC-U 15/39, 26/39)"),
    U9: ((ev.DROP_PARTY, *_DROP), "Q.2971 (SDL CC-U 26/39)"),
    U10: ((*ev.PARTY_MESSAGES, *ev.PARTY_PRIMITIVES), "Q.2971 (SDL CC-U 21/39)"),
}


def build(timers: Timers = DEFAULT_TIMERS) -> Table:
    """The user-side call table with the given timer durations."""
    t = timers
    R: list[Transition] = []

    def row(state: str, event: str, nxt: str, actions: tuple, clause: str, note: str = "") -> None:
        R.append(Transition(state, event, nxt, tuple(actions), clause, note))

    # ---- U0 Null
    row(U0, ev.SETUP_REQUEST, U1,
        (Send(ev.SETUP, ies=EPREF_IE), StartTimer("T303", t.T303), Signal(ev.CALL_SETUP_REQUEST, TO_NEW_PARTY)),
        "Q.2931 5.1.1; Q.2971 first party (SDL CC-U 4/39)")
    row(U0, ev.SETUP, U6, (Indicate("setup.indication"), Signal(ev.CALL_SETUP, TO_NEW_PARTY)),
        "Q.2931 5.2.1; Q.2971 first party (SDL CC-U 4/39)")
    R.extend(null_rows(U0))

    # ---- rows shared by all live states, and by every non-Null state
    for s in LIVE:
        R.extend(live_rows(s, RUNNING[s], t, null=U0, release_sent=U11, release_received=U12,
                           peer_release_clause="Q.2931 5.4.4 (clearing initiated by the network)",
                           local_release_clause="Q.2931 5.4.3 (clearing initiated by the user)",
                           release_complete_clause=("Q.2931 5.1.8 (call rejected)" if s == U1
                                                    else "Q.2931 5.6.4 (unexpected RELEASE COMPLETE)"),
                           null_cause=ev.CAUSE_MESSAGE_NOT_COMPATIBLE))
        events, clause = PARTY_EVENTS[s]
        R.extend(party_rows(s, events, clause))
    for s in (*LIVE, U11, U12):
        R.extend(every_state_rows(s))

    # ---- U1 Call Initiated: our SETUP is out, T303 runs
    row(U1, ev.CALL_PROCEEDING, U3,
        (StopTimer("T303"), StartTimer("T310", t.T310), Indicate("proceeding.indication")), "Q.2931 5.1.5")
    row(U1, ev.ALERTING, U4,
        (StopTimer("T303"), Indicate("alerting.indication"), Signal(ev.CALL_ALERTING, TO_NAMED_PARTY)),
        "Q.2931 5.1.6 (SDL CC-U 37/39)")
    row(U1, ev.CONNECT, U10,
        (StopTimer("T303"), Send(ev.CONNECT_ACK), Indicate("setup.confirm"),
         Signal(ev.CALL_CONNECT, TO_NAMED_PARTY)), "Q.2931 5.1.7 (SDL CC-U 37/39)")
    row(U1, "T303#1", U1, (Retransmit(ev.SETUP), StartTimer("T303", t.T303, retry=True)),
        "Q.2931 5.1.1 (first expiry of T303: SETUP again)")
    row(U1, "T303#2", U0,
        (*stop(("T322",)), Indicate("release.confirm", cause=ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY),
         CountCause(ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY), released()),
        "Q.2931 5.1.1 (second expiry of T303: clear internally)")

    # ---- U3 Outgoing Call Proceeding: T310 runs
    row(U3, ev.ALERTING, U4,
        (StopTimer("T310"), Indicate("alerting.indication"), Signal(ev.CALL_ALERTING, TO_NAMED_PARTY)),
        "Q.2931 5.1.6 (SDL CC-U 7/39)")
    row(U3, ev.CONNECT, U10,
        (StopTimer("T310"), Send(ev.CONNECT_ACK), Indicate("setup.confirm"),
         Signal(ev.CALL_CONNECT, TO_NAMED_PARTY)), "Q.2931 5.1.7 (SDL CC-U 7-8/39)")
    row(U3, "T310", U11, clearing(RUNNING[U3], ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY, t, count=True, expired="T310"),
        "Q.2931 5.1.5 (expiry of T310)")

    # ---- U4 Call Delivered
    row(U4, ev.CONNECT, U10,
        (Send(ev.CONNECT_ACK), Indicate("setup.confirm"), Signal(ev.CALL_CONNECT, TO_NAMED_PARTY)),
        "Q.2931 5.1.7 (SDL CC-U 11/39)")

    # ---- U6 Call Present / U9 Incoming Call Proceeding / U7 Call Received: the local user answers
    row(U6, ev.PROCEEDING_REQUEST, U9, (Send(ev.CALL_PROCEEDING, ies=EPREF_IE),), "Q.2931 5.2.5 (SDL CC-U 12/39)")
    for s in (U6, U9):
        row(s, ev.ALERTING_REQUEST, U7,
            (Send(ev.ALERTING, ies=EPREF_IE), Signal(ev.CALL_ALERTING_REQUEST, TO_NAMED_PARTY)),
            "Q.2931 5.2.5 (SDL CC-U 13/39, 17/39)")
    for s in (U6, U7, U9):
        row(s, ev.SETUP_RESPONSE, U8, (Send(ev.CONNECT, ies=EPREF_IE), StartTimer("T313", t.T313)),
            "Q.2931 5.2.6 (SDL CC-U 13/39, 14/39, 17/39)")
    row(U6, ev.RELEASE_RESPONSE, U0,
        (*stop(RUNNING[U6]), Send(ev.RELEASE_COMPLETE, cause=FromEvent("cause", ev.CAUSE_CALL_REJECTED)),
         released()), "Q.2931 5.2.5 (call rejected with RELEASE COMPLETE; SDL CC-U 12/39)")

    # ---- U8 Connect Request: our CONNECT is out, T313 runs
    row(U8, ev.CONNECT_ACK, U10,
        (StopTimer("T313"), Indicate("setup-complete.indication"), Signal(ev.CALL_CONNECT_ACK, TO_NAMED_PARTY)),
        "Q.2931 5.2.7 (SDL CC-U 15-16/39)")
    row(U8, "T313", U11, clearing(RUNNING[U8], ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY, t, count=True, expired="T313"),
        "Q.2931 5.2.6 (expiry of T313)")

    # ---- U11 Release Request (RELEASE sent, T308) and U12 Release Indication (RELEASE received)
    R.extend(release_sent_rows(U11, U0, t, clause="Q.2931 5.4.3"))
    R.extend(release_received_rows(U12, U0, clause="Q.2931 5.4.4"))

    # ---- the signalling AAL fails or comes back (Q.2931 5.6.9, 5.6.10; T309)
    R.extend(aal_rows(establishing=tuple(s for s in LIVE if s != U10), active=U10, clearing=(U11, U12),
                      null=U0, running=RUNNING, timers=t))

    return Table("call-user", title="Q.2931 call control, user side", states=STATES, initial=U0,
                 events=call_events(Side.USER), transitions=R, answer=answer_unexpected(U0),
                 refine=refine_call, refinements=REFINEMENTS, side=Side.USER)


USER_CALL = build()
