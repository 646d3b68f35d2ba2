"""Q.2931 5.5 restart procedure for the interface (the global call reference), with T316.

The global call reference has three states (Q.2931 clause 2; code = Call state IE value):

=======  ====  ===============  ==================================================
Rest0    0     Null             no restart in progress
Rest1    61    Restart Request  RESTART sent, waiting for RESTART ACK; T316 runs
Rest2    62    Restart          RESTART received, the local restart is under way
=======  ====  ===============  ==================================================

Sending a restart (Rest0 -> Rest1) and answering one (Rest0 -> Rest2) are independent: both sides
may restart at once, so, as the Q.2931 SDL (Reset-Start and Reset-Respond) and ngatm do, they are two
tables, ``RESTART_START`` and ``RESTART_RESPOND``; :class:`RestartControl` routes the events of the
interface to them. Both ends of a restart clear the calls in its scope without messages (the action
``Signal(restart.clear-calls)``; the caller does that to its calls, Q.2931 5.5.1 / 5.5.2).

Choices: RESTART is sent at most twice (T316 expires once with a retransmission, then the restart
gives up and the user is told with cause 102; Q.2931 5.5.1 leaves the count to the implementation,
ngatm uses 2); a RESTART ACKNOWLEDGE whose restart class or connection identifier differs from the
RESTART sent is discarded and T316 keeps running (ngatm, Q.2931 5.5.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware.uni.machines import events as ev
from firmware.uni.machines.table import (
    STATE_CODE,
    TO_CALLS,
    Answer,
    CountCause,
    Discard,
    EventKind,
    FromEvent,
    Indicate,
    Machine,
    Recall,
    Retransmit,
    Send,
    Signal,
    StartTimer,
    StateInfo,
    Step,
    StopTimer,
    Table,
    Transition,
)
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers

REST0, REST1, REST2 = "Rest0", "Rest1", "Rest2"
#: Call state IE codes of the global call reference states.
REST1_CODE, REST2_CODE = 0x3D, 0x3E

#: (my state, peer's state) pairs that are compatible for a STATUS on the global call reference
#: (ngatm's Reset-Start comment: a lost RESTART ACK, or the peer still restarting, are fine).
COMPATIBLE = frozenset({(0, 0), (REST1_CODE, 0), (REST1_CODE, REST2_CODE), (REST2_CODE, REST1_CODE)})
STATUS_REFINED = ("STATUS/compatible", "STATUS/incompatible", "STATUS/invalid")
ACK_REFINED = ("RESTART_ACK", "RESTART_ACK/other")


def _refine(machine: Machine, event: str, params: Mapping[str, Any]) -> str:
    if event == ev.STATUS:
        peer = params.get("call_state")
        if peer not in (0, REST1_CODE, REST2_CODE):
            return "STATUS/invalid"
        return "STATUS/compatible" if (machine.code, peer) in COMPATIBLE else "STATUS/incompatible"
    if event == ev.RESTART_ACK:
        sent = machine.sent.get(ev.RESTART)
        if sent is None:
            return ACK_REFINED[1]
        fields = dict(sent.ies)
        same = (params.get("restart_class", "all") == fields.get("restart_class")
                and params.get("connection_id") == fields.get("connection_id"))
        return ACK_REFINED[0] if same else ACK_REFINED[1]
    return event


def _status_rows(state: str) -> list[Transition]:
    return [
        Transition(state, "STATUS/compatible", state, (Indicate("status.indication"),),
                   "Q.2931 5.6.12 (global call reference; SDL Reset-Start 2/2)"),
        Transition(state, "STATUS/incompatible", state,
                   (Indicate("restart.error.indication", cause=ev.CAUSE_MESSAGE_NOT_COMPATIBLE),
                    CountCause(ev.CAUSE_MESSAGE_NOT_COMPATIBLE)),
                   "Q.2931 5.6.12 (global call reference; SDL Reset-Start 2/2)"),
        Transition(state, "STATUS/invalid", state, (Discard("STATUS without a valid global call state"),),
                   "Q.2931 5.6.12"),
    ]


def _answer(state: str, event: str, params: Mapping[str, Any]) -> Answer:
    if event.startswith(ev.STATUS + "/"):
        return Answer((Discard("STATUS not expected"),), "Q.2931 5.6.12")
    if event in (ev.RESTART, *ACK_REFINED):
        # RESTART while restarting, RESTART ACK with no restart of ours outstanding.
        return Answer((Send(ev.STATUS, cause=ev.CAUSE_MESSAGE_NOT_COMPATIBLE, ies=(("call_state", STATE_CODE),)),
                       CountCause(ev.CAUSE_MESSAGE_NOT_COMPATIBLE)), "Q.2931 5.5; 5.6.4 (SDL Reset-Start/Respond)")
    # Any other message with the global call reference.
    return Answer((Send(ev.STATUS, cause=ev.CAUSE_INVALID_CALL_REFERENCE, ies=(("call_state", STATE_CODE),)),
                   CountCause(ev.CAUSE_INVALID_CALL_REFERENCE)), "Q.2931 5.6.3.2 e)")


def build_start(timers: Timers = DEFAULT_TIMERS) -> Table:
    """Reset-Start: this side restarts (Rest0 <-> Rest1)."""
    t = timers
    sent_restart = Send(ev.RESTART, ies=(("restart_class", FromEvent("restart_class", "all")),
                                         ("connection_id", FromEvent("connection_id"))))
    R = [
        Transition(REST0, ev.RESTART_REQUEST, REST1,
                   (sent_restart, StartTimer("T316", t.T316), Signal(ev.RESTART_CLEAR_CALLS, TO_CALLS)),
                   "Q.2931 5.5.1"),
        Transition(REST1, "RESTART_ACK", REST0, (StopTimer("T316"), Indicate("restart.confirm")), "Q.2931 5.5.1"),
        Transition(REST1, "RESTART_ACK/other", REST1,
                   (Discard("RESTART ACKNOWLEDGE for another restart class or connection"),),
                   "Q.2931 5.5.1 (the acknowledgement must match the RESTART)"),
        Transition(REST1, "T316#1", REST1, (Retransmit(ev.RESTART), StartTimer("T316", t.T316, retry=True)),
                   "Q.2931 5.5.1 (first expiry of T316: RESTART again)"),
        Transition(REST1, "T316#2", REST0,
                   (Indicate("restart.error.indication", cause=ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY),
                    CountCause(ev.CAUSE_RECOVERY_ON_TIMER_EXPIRY)),
                   "Q.2931 5.5.1 (no acknowledgement after the last attempt: tell maintenance)"),
        *_status_rows(REST0),
        *_status_rows(REST1),
    ]
    events = {ev.RESTART_REQUEST: EventKind.PRIMITIVE, ev.RESTART_ACK: EventKind.MESSAGE,
              ev.STATUS: EventKind.MESSAGE, "T316": EventKind.TIMER}
    return Table("restart-start", title="Q.2931 restart, sending side (Reset-Start)",
                 states=(StateInfo(REST0, 0, "Null"), StateInfo(REST1, REST1_CODE, "Restart Request")),
                 initial=REST0, events=events, transitions=R, answer=_answer, refine=_refine,
                 refinements={ev.STATUS: STATUS_REFINED, ev.RESTART_ACK: ACK_REFINED})


def build_respond() -> Table:
    """Reset-Respond: the peer restarts (Rest0 <-> Rest2). Also answers every other message that
    uses the global call reference (Q.2931 5.6.3.2 e))."""
    R = [
        Transition(REST0, ev.RESTART, REST2,
                   (Signal(ev.RESTART_CLEAR_CALLS, TO_CALLS), Indicate("restart.indication")), "Q.2931 5.5.2"),
        Transition(REST2, ev.RESTART_RESPONSE, REST0,
                   (Send(ev.RESTART_ACK, ies=(("restart_class", Recall(ev.RESTART, "restart_class", "all")),
                                              ("connection_id", Recall(ev.RESTART, "connection_id")))),),
                   "Q.2931 5.5.2"),
        *_status_rows(REST0),
        *_status_rows(REST2),
    ]
    events: dict[str, EventKind] = {m: EventKind.MESSAGE for m in ev.CALL_MESSAGES}
    events.update({ev.RESTART: EventKind.MESSAGE, ev.RESTART_RESPONSE: EventKind.PRIMITIVE})
    return Table("restart-respond", title="Q.2931 restart, receiving side (Reset-Respond)",
                 states=(StateInfo(REST0, 0, "Null"), StateInfo(REST2, REST2_CODE, "Restart")),
                 initial=REST0, events=events, transitions=R, answer=_answer, refine=_refine,
                 refinements={ev.STATUS: STATUS_REFINED})


RESTART_START = build_start()
RESTART_RESPOND = build_respond()

_TO_START = (ev.RESTART_REQUEST, "T316", ev.RESTART_ACK)


class RestartControl:
    """The restart procedure of one interface: routes events to Reset-Start or Reset-Respond.

    A STATUS on the global call reference goes to Reset-Start when ``flag`` (the call reference flag
    of the received message: True = sent by the side that did not allocate it, i.e. an answer to our
    RESTART) says so; without ``flag``, to Reset-Start while it waits in Rest1, else to Reset-Respond."""

    def __init__(self, timers: Timers = DEFAULT_TIMERS) -> None:
        self.start = Machine(RESTART_START if timers == DEFAULT_TIMERS else build_start(timers))
        self.respond = Machine(RESTART_RESPOND)

    @property
    def state(self) -> str:
        """Rest1 while our restart is outstanding, else Rest2 while we restart for the peer, else Rest0."""
        if self.start.state == REST1:
            return REST1
        return self.respond.state

    def machine_for(self, event: str, params: Mapping[str, Any]) -> Machine:
        if event in _TO_START:
            return self.start
        if event == ev.STATUS:
            flag = params.get("flag")
            if flag is True or (flag is None and self.start.state == REST1):
                return self.start
        return self.respond

    def handle(self, event: str, /, **params: Any) -> Step:
        event = ev.canonical(event)
        return self.machine_for(event, params).handle(event, **params)
