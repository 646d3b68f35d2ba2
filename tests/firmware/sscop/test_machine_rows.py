"""Every row of the SSCOP table, executed: from each of the ten states (reached by real inputs), each
event is tried with a handful of inputs chosen to reach every outcome of its decision. The test
checks that the machine lands in the state the row names, performs the row's actions in order, keeps
its timers consistent with the state - and, at the end, that no row of the table was left unexecuted.
Illegal pairs must raise the typed protocol error and leave the machine unchanged."""

from __future__ import annotations

import copy

import pytest

from firmware.sscop.events import (
    RN_TOTAL,
    Indication,
    MaaError,
    PduType,
    Primitive,
    SendPdu,
    SSCOPPdu,
    StartTimer,
    StopTimer,
    Timer,
    TimerExpiry,
    UserRequest,
)
from firmware.sscop.machine import SSCOPMachine, SSCOPParams
from firmware.sscop.protocol_errors import SSCOPProtocolError
from firmware.sscop.states import (
    ILLEGAL,
    PDU_EVENTS,
    TIMER_EVENTS,
    Act,
    Event,
    State,
    rules,
)

S = State
PARAMS = SSCOPParams(max_cc=2, rx_window=6, max_stat=3)

_BGN = SSCOPPdu(PduType.BGN, n_sq=1, n_mr=6)
_READY = (_BGN, UserRequest(Primitive.AA_ESTABLISH_RESPONSE))
# Ready with three SDs sent and a POLL out (N(PS) = 1): STAT and USTAT have something to act on.
_BUSY = _READY + tuple(UserRequest(Primitive.AA_DATA_REQUEST, b"%d" % i) for i in range(3)) + (
    TimerExpiry(Timer.POLL),)
# Ready with SD 2 received out of sequence: VR(R) = 0, VR(H) = 3, receive buffer {2}.
_GAP = _READY + (SSCOPPdu(PduType.SD, n_s=2, data=b"2"),)
_OUT_RECOVERY = _GAP + (SSCOPPdu(PduType.POLL, n_s=1),)
# Ready in the transient phase (Timer_KEEP-ALIVE), then in the idle phase (Timer_IDLE).
_KEEP_ALIVE = _READY + (TimerExpiry(Timer.POLL),)
_IDLE = _KEEP_ALIVE + (SSCOPPdu(PduType.STAT, n_mr=6, n_ps=1),)
_KEEP = (UserRequest(Primitive.AA_ESTABLISH_REQUEST, clear_buffers=False),
         SSCOPPdu(PduType.BGAK, n_mr=6))

#: Ways into each state; every event is tried from each of them.
SETUPS: dict[State, list[tuple]] = {
    S.IDLE: [()],
    S.OUTGOING_CONNECTION_PENDING: [(UserRequest(Primitive.AA_ESTABLISH_REQUEST),)],
    S.INCOMING_CONNECTION_PENDING: [(_BGN,)],
    S.OUTGOING_DISCONNECTION_PENDING: [_READY + (UserRequest(Primitive.AA_RELEASE_REQUEST),)],
    S.OUTGOING_RESYNC_PENDING: [_READY + (UserRequest(Primitive.AA_RESYNC_REQUEST),)],
    S.INCOMING_RESYNC_PENDING: [_READY + (SSCOPPdu(PduType.RS, n_sq=2, n_mr=6),)],
    S.OUTGOING_RECOVERY_PENDING: [_OUT_RECOVERY, _KEEP + (SSCOPPdu(PduType.SD, n_s=2),
                                                          SSCOPPdu(PduType.POLL, n_s=1))],
    S.RECOVERY_RESPONSE_PENDING: [_OUT_RECOVERY + (SSCOPPdu(PduType.ERAK, n_mr=6),)],
    S.INCOMING_RECOVERY_PENDING: [_READY + (SSCOPPdu(PduType.ER, n_sq=2, n_mr=6),)],
    S.DATA_TRANSFER_READY: [_READY, _BUSY, _GAP, _KEEP_ALIVE, _IDLE],
}


def candidates(event: Event) -> list[tuple]:
    """Input sequences whose last input is ``event``; the earlier ones only prepare it."""
    if event in PDU_EVENTS:
        pdu_type = PduType[event.value]
        if pdu_type in (PduType.BGN, PduType.RS, PduType.ER):
            variants = [dict(n_sq=n_sq) for n_sq in (0, 1, 2, 3)]       # retransmission or new
        elif pdu_type is PduType.END:
            variants = [dict(s=0), dict(s=1)]
        elif pdu_type is PduType.SD:
            variants = [dict(n_s=n_s) for n_s in (0, 1, 2, 3, 4, 9)]    # every N(S) case of p.66
        elif pdu_type is PduType.POLL:
            variants = [dict(n_s=n_s, n_ps=1) for n_s in (0, 1, 3, 4)]
        elif pdu_type is PduType.STAT:
            variants = [dict(n_r=n_r, n_ps=n_ps, list_=elements) for n_r in (0, 4) for n_ps in (1, 2)
                        for elements in ((), (0, 1, 3), (1, 0))]
        elif pdu_type is PduType.USTAT:
            variants = [dict(n_r=0, list_=elements) for elements in ((0, 1), (2, 9))]
        else:
            variants = [{}]
        return [(SSCOPPdu(pdu_type, n_mr=6, **fields),) for fields in variants]
    if event in TIMER_EVENTS:
        timer = Timer(event.value)
        return [(TimerExpiry(timer),) * count for count in range(1, PARAMS.max_cc + 1)]
    primitive = Primitive(event.value)
    return [(UserRequest(primitive, b"u", clear_buffers=flag, rn=RN_TOTAL),) for flag in (True, False)]


def snapshot(machine: SSCOPMachine) -> dict:
    return copy.deepcopy({k: v for k, v in vars(machine).items() if k not in ("last_transition", "params")})


PHASE = {Timer.POLL, Timer.KEEP_ALIVE, Timer.IDLE}
CC_STATES = {S.OUTGOING_CONNECTION_PENDING, S.OUTGOING_DISCONNECTION_PENDING,
             S.OUTGOING_RESYNC_PENDING, S.OUTGOING_RECOVERY_PENDING}


def expected_kinds(actions) -> list[str]:
    """The outputs a rule's actions must produce, in order (procedures may add more in between)."""
    kinds = []
    for act in actions:
        if act.name.startswith("SEND_") or act.name.startswith("RESEND_"):
            kinds.append("PDU " + act.name.split("_")[1])
        elif act.name.startswith("MAA_ERROR_"):
            kinds.append("MAA " + act.name[-1])
        elif act.name.startswith("AA_") or act.name.startswith("MAA_"):
            kinds.append("IND " + act.name.split("_")[1])
    return kinds


def output_kind(output) -> str:
    if isinstance(output, SendPdu):
        return "PDU " + output.pdu.type.name
    if isinstance(output, MaaError):
        return "MAA " + output.code
    if isinstance(output, Indication):
        return "IND " + output.primitive.value.split("-")[1].split(".")[0].split("_")[0]  # family
    return "TIMER"


def is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(item == kind for kind in it) for item in needle)


def run_row(state: State, setup: tuple, inputs: tuple, executed: set) -> None:
    machine = SSCOPMachine(PARAMS)
    for item in setup:
        machine.handle(item)
    assert machine.state is state, (state, setup)
    for item in inputs[:-1]:
        if isinstance(item, TimerExpiry) and item.timer not in machine.timers_running:
            return
        machine.handle(item)
        if machine.state is not state:
            return
    last = inputs[-1]
    event = Event(last.type.name) if isinstance(last, SSCOPPdu) else (
        Event(last.timer.value) if isinstance(last, TimerExpiry) else Event(last.primitive.value))
    if isinstance(last, TimerExpiry) and last.timer not in machine.timers_running:
        return
    before = snapshot(machine)
    if (state, event) in ILLEGAL:
        with pytest.raises(SSCOPProtocolError):
            machine.handle(last)
        assert snapshot(machine) == before
        executed.add((state, event, "illegal"))
        return
    outputs = machine.handle(last)
    if outputs == [MaaError("U")]:
        return  # length violation, rejected before the table (tested elsewhere)
    transition = machine.last_transition
    assert (transition.state, transition.event) == (state, event)
    rule = transition.rule
    assert machine.state is rule.next_state, (state, event, transition.outcome)
    # The PDUs, MAA-ERRORs and indications of the row's actions appear, in the row's order
    # (data-transfer procedures may add more: STATs, retransmitted SDs, MAA-ERROR V...).
    kinds = [output_kind(o) for o in outputs if not isinstance(o, (StartTimer, StopTimer))]
    wanted = expected_kinds(rule.actions)
    assert is_subsequence(wanted, kinds), (state, event, transition.outcome, wanted, kinds)
    running = machine.timers_running
    assert (Timer.CC in running) == (machine.state in CC_STATES), (state, event, running)
    if machine.state is S.DATA_TRANSFER_READY:
        assert len(running & PHASE) == 1, (state, event, running)
    else:
        assert not running & (PHASE | {Timer.NO_RESPONSE}), (state, event, running)
    executed.add((state, event, transition.outcome))


def test_every_row_of_the_table_executes_as_written():
    executed: set = set()
    for state in State:
        for setup in SETUPS[state]:
            for event in Event:
                for inputs in candidates(event):
                    run_row(state, setup, inputs, executed)
    wanted = {(state, event, outcome) for state, event, outcome, _rule in rules()}
    wanted |= {(state, event, "illegal") for state, event in ILLEGAL
               if event not in TIMER_EVENTS}  # a timer that cannot run cannot expire
    missing = sorted(wanted - executed, key=str)
    assert not missing, f"{len(missing)} rows never executed: {missing[:20]}"


def test_the_output_check_can_tell_a_wrong_order():
    assert is_subsequence(["PDU END", "IND RELEASE"], ["MAA O", "PDU END", "IND RELEASE"])
    assert not is_subsequence(["IND RELEASE", "PDU END"], ["PDU END", "IND RELEASE"])
    assert expected_kinds([Act.MAA_ERROR_O, Act.SEND_END_SSCOP, Act.AA_RELEASE_INDICATION_SSCOP]) == [
        "MAA O", "PDU END", "IND RELEASE"]
    assert output_kind(Indication(Primitive.MAA_UNITDATA_INDICATION)) == "IND UNITDATA"
