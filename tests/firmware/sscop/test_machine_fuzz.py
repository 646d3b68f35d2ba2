"""Fuzzing the SSCOP machine with arbitrary inputs: any PDU with any field values (a peer that is
broken, or a wire that reorders and duplicates), any user request, any timer. The machine must never
fail with anything but its typed protocol errors, must stay unchanged when it raises one, and must
keep its invariants (buffers consistent with the state variables, timers consistent with the state)."""

from __future__ import annotations

import copy
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sscop.events import (
    RN_TOTAL,
    RN_UNKNOWN,
    PduType,
    Primitive,
    REQUEST_PRIMITIVES,
    SendPdu,
    SSCOPPdu,
    StartTimer,
    StopTimer,
    Timer,
    TimerExpiry,
    UserRequest,
)
from firmware.sscop.machine import SEQ_MODULUS, SSCOPMachine, SSCOPParams, seq_rel
from firmware.sscop.protocol_errors import SSCOPProtocolError, SSCOPTimerError
from firmware.sscop.states import ILLEGAL, State

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))
CC_STATES = {State.OUTGOING_CONNECTION_PENDING, State.OUTGOING_DISCONNECTION_PENDING,
             State.OUTGOING_RESYNC_PENDING, State.OUTGOING_RECOVERY_PENDING}
PHASE_TIMERS = {Timer.POLL, Timer.KEEP_ALIVE, Timer.IDLE}

# Small numbers reach the interesting branches; a few large ones test the modular comparisons.
numbers = st.one_of(st.integers(0, 4), st.integers(0, 12), st.integers(SEQ_MODULUS - 4, SEQ_MODULUS - 1))


#: The fields each PDU type carries (Q.2110 7.2); the others stay 0.
FIELDS = {
    PduType.BGN: ("n_mr", "n_sq", "data"), PduType.BGAK: ("n_mr",), PduType.END: ("s", "data"),
    PduType.ENDAK: (), PduType.RS: ("n_mr", "n_sq", "data"), PduType.RSAK: ("n_mr",),
    PduType.BGREJ: ("data",), PduType.SD: ("n_s", "data"), PduType.ER: ("n_mr", "n_sq"),
    PduType.POLL: ("n_s", "n_ps"), PduType.STAT: ("n_r", "n_mr", "n_ps", "list_"),
    PduType.USTAT: ("n_r", "n_mr", "list_"), PduType.UD: ("data",), PduType.MD: ("data",),
    PduType.ERAK: ("n_mr",),
}


def near(machine: SSCOPMachine | None) -> st.SearchStrategy[int]:
    """Numbers close to the machine's own state variables, where the decisions of 8.2 turn."""
    if machine is None:
        return numbers
    anchors = {machine.vt_s, machine.vt_a, machine.vt_ps, machine.vt_pa, machine.vt_ms,
               machine.vr_r, machine.vr_h, machine.vr_mr}
    values = sorted({(anchor + delta) % SEQ_MODULUS for anchor in anchors for delta in (-1, 0, 1)})
    return st.one_of(st.sampled_from(values), numbers)


@st.composite
def pdus(draw, machine: SSCOPMachine | None = None) -> SSCOPPdu:
    pdu_type = draw(st.sampled_from(PduType))
    numbers_here = near(machine)
    fields = {}
    for name in FIELDS[pdu_type]:
        if name == "n_sq":
            fields[name] = draw(st.integers(0, 3))
        elif name == "s":
            fields[name] = draw(st.integers(0, 1))
        elif name == "data":
            fields[name] = draw(st.binary(max_size=2))
        elif name == "list_":
            size = 2 if pdu_type is PduType.USTAT else draw(st.integers(0, 5))
            elements = draw(st.lists(numbers_here, min_size=size, max_size=size))
            if draw(st.booleans()):
                elements.sort()  # increasing lists get past the first checks more often
            fields[name] = elements
        else:
            fields[name] = draw(numbers_here)
    return SSCOPPdu(pdu_type, **fields)


@st.composite
def peer_pdus(draw, machine: SSCOPMachine) -> SSCOPPdu:
    """What a peer in data transfer sends, mostly right and sometimes slightly wrong: a STAT answering
    an unanswered POLL, a USTAT about outstanding SDs, a POLL or an SD around the receive window."""
    unanswered = seq_rel(machine.vt_ps, (machine.vt_pa - 1) % SEQ_MODULUS)  # POLLs without a STAT
    sent = seq_rel(machine.vt_s, machine.vt_a)
    window = seq_rel(machine.vr_mr, machine.vr_r)
    kinds = [PduType.POLL, PduType.SD, PduType.SD] + [PduType.USTAT] * bool(sent) + [PduType.STAT] * 3 * bool(unanswered)
    kind = draw(st.sampled_from(kinds))
    off = draw(st.integers(0, 3)) == 0  # one PDU in four has fields one off from right

    def slightly_() -> int:
        return draw(st.integers(-1, 1)) if off else 0

    def tx(offset: int) -> int:
        return (machine.vt_a + offset + slightly_()) % SEQ_MODULUS

    if kind in (PduType.STAT, PduType.USTAT):
        size = 2 if kind is PduType.USTAT else draw(st.sampled_from((0, 2, 3, 4, 5)))
        offsets = sorted(set(draw(st.lists(st.integers(0, sent), min_size=size, max_size=size))))
        if kind is PduType.USTAT and len(offsets) < 2:
            offsets = [0, max(sent - 1, 1)]
        n_r = tx(draw(st.integers(0, min(offsets) if offsets else sent)))
        n_ps = (machine.vt_pa + draw(st.integers(0, max(unanswered - 1, 0))) + slightly_()) % SEQ_MODULUS
        return SSCOPPdu(kind, n_r=n_r, n_mr=tx(sent + draw(st.integers(0, 6))),
                        n_ps=n_ps if kind is PduType.STAT else 0, list_=[tx(offset) for offset in offsets])
    n_s = (machine.vr_r + draw(st.integers(0, window)) + slightly_()) % SEQ_MODULUS
    if kind is PduType.POLL:
        n_s = max(n_s, machine.vr_h) if draw(st.booleans()) else n_s
        return SSCOPPdu(kind, n_s=n_s, n_ps=draw(st.integers(0, 5)))
    return SSCOPPdu(kind, n_s=n_s, data=draw(st.binary(max_size=2)))


requests = st.builds(
    UserRequest, st.sampled_from(sorted(REQUEST_PRIMITIVES, key=lambda p: p.value)),
    st.binary(max_size=3), st.booleans(), st.one_of(st.just(RN_UNKNOWN), st.just(RN_TOTAL), numbers))


def snapshot(machine: SSCOPMachine) -> dict:
    """Everything the machine holds (a cheaper deep copy: the buffers hold bytes)."""
    taken = {}
    for key, value in vars(machine).items():
        if key in ("last_transition", "params"):
            continue
        if key == "tx_buffer":
            value = {n_s: (sent.data, sent.poll_sn) for n_s, sent in value.items()}
        elif key == "saved":
            value = copy.copy(vars(value)) if hasattr(value, "__dict__") else copy.copy(value)
        elif isinstance(value, (dict, set, list)) or hasattr(value, "copy"):
            value = copy.copy(value)
        taken[key] = value
    return taken


def check_invariants(machine: SSCOPMachine, outputs: list) -> None:
    state, running = machine.state, machine.timers_running
    assert (Timer.CC in running) == (state in CC_STATES), (state, running)
    if state is State.DATA_TRANSFER_READY:
        assert len(running & PHASE_TIMERS) == 1, running       # active, transient or idle phase
        if running & {Timer.POLL, Timer.KEEP_ALIVE}:
            assert Timer.NO_RESPONSE in running
        assert seq_rel(machine.vt_s, machine.vt_a) < SEQ_MODULUS // 2    # VT(A) <= VT(S)
        assert seq_rel(machine.vr_h, machine.vr_r) < SEQ_MODULUS // 2    # VR(R) <= VR(H)
        for n_s in machine.tx_buffer:
            assert seq_rel(n_s, machine.vt_a) < seq_rel(machine.vt_s, machine.vt_a)
        for n_s in machine.rx_buffer:
            assert 0 < seq_rel(n_s, machine.vr_r) < seq_rel(machine.vr_h, machine.vr_r)
        assert seq_rel(machine.vr_h, machine.vr_r) <= seq_rel(machine.vr_mr, machine.vr_r)
        assert len(machine.rx_buffer) <= machine.params.rx_window
    else:
        assert not running & (PHASE_TIMERS | {Timer.NO_RESPONSE}), (state, running)
    assert machine.rtx <= set(machine.tx_buffer)
    # Timer commands agree with what the machine believes is running: the last command given for
    # a timer (start or stop) is its state now.
    last_command: dict[Timer, bool] = {}
    for output in outputs:
        if isinstance(output, StartTimer):
            assert output.seconds > 0
            last_command[output.timer] = True
        elif isinstance(output, StopTimer):
            last_command[output.timer] = False
    for timer, started in last_command.items():
        assert (timer in running) == started, (timer, outputs)
    for output in outputs:
        if isinstance(output, SendPdu) and output.pdu.type is PduType.STAT:
            assert len(output.pdu.list_) <= machine.params.max_stat
    # The machine builds what it sends without SSCOPPdu's checks (SSCOPPdu._trusted): every such PDU
    # must pass them unchanged.
    for output in outputs:
        if isinstance(output, SendPdu):
            pdu = output.pdu
            assert SSCOPPdu(pdu.type, pdu.n_s, pdu.n_r, pdu.n_mr, pdu.n_sq, pdu.n_ps, pdu.s, pdu.list_,
                            pdu.data) == pdu
            assert type(pdu.list_) is tuple and type(pdu.data) is bytes


_READY = (SSCOPPdu(PduType.BGN, n_sq=1, n_mr=5), UserRequest(Primitive.AA_ESTABLISH_RESPONSE))
_OUT_RECOVERY = _READY + (SSCOPPdu(PduType.SD, n_s=1), SSCOPPdu(PduType.POLL, n_s=0))  # N(S) error
#: Ready in the transient phase (Timer_KEEP-ALIVE running), and in the idle phase (Timer_IDLE).
_TRANSIENT = _READY + (TimerExpiry(Timer.POLL),)
_IDLE_PHASE = _TRANSIENT + (SSCOPPdu(PduType.STAT, n_mr=5, n_ps=1),)

#: Inputs that bring a fresh machine into each state, so that fuzzing starts from all of them.
SETUP = {
    State.IDLE: (),
    State.OUTGOING_CONNECTION_PENDING: (UserRequest(Primitive.AA_ESTABLISH_REQUEST),),
    State.INCOMING_CONNECTION_PENDING: _READY[:1],
    State.OUTGOING_DISCONNECTION_PENDING: (UserRequest(Primitive.AA_ESTABLISH_REQUEST),
                                           UserRequest(Primitive.AA_RELEASE_REQUEST)),
    State.OUTGOING_RESYNC_PENDING: _READY + (UserRequest(Primitive.AA_RESYNC_REQUEST),),
    State.INCOMING_RESYNC_PENDING: _READY + (SSCOPPdu(PduType.RS, n_sq=2, n_mr=5),),
    State.OUTGOING_RECOVERY_PENDING: _OUT_RECOVERY,
    State.RECOVERY_RESPONSE_PENDING: _OUT_RECOVERY + (SSCOPPdu(PduType.ERAK, n_mr=5),),
    State.INCOMING_RECOVERY_PENDING: _READY + (SSCOPPdu(PduType.ER, n_sq=2, n_mr=5),),
    State.DATA_TRANSFER_READY: _READY,
}


@pytest.mark.parametrize("state", list(State))
def test_setup_reaches_each_state(state):
    machine = SSCOPMachine()
    for item in SETUP[state]:
        machine.handle(item)
    assert machine.state is state


@pytest.mark.parametrize("setup, timer", [(_TRANSIENT, Timer.KEEP_ALIVE), (_IDLE_PHASE, Timer.IDLE)])
def test_setup_reaches_each_phase_of_data_transfer(setup, timer):
    machine = SSCOPMachine()
    for item in setup:
        machine.handle(item)
    assert machine.state is State.DATA_TRANSFER_READY and timer in machine.timers_running


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(data=st.data(), start=st.sampled_from([SETUP[state] for state in State] + [_TRANSIENT, _IDLE_PHASE] * 2),
       window=st.integers(1, 6), max_pd=st.integers(1, 4), clear_buffers=st.booleans())
def test_arbitrary_inputs_only_typed_errors_and_invariants_hold(data, start, window, max_pd, clear_buffers):
    machine = SSCOPMachine(SSCOPParams(rx_window=window, max_pd=max_pd, max_stat=3, max_cc=2))
    for item in start:
        machine.handle(item)
    machine.clear_buffers = clear_buffers
    for _ in range(data.draw(st.integers(1, 40))):
        choice = data.draw(st.sampled_from(["pdu", "peer", "peer", "peer", "request", "data", "timer"]))
        if choice == "peer" and machine.state is State.DATA_TRANSFER_READY:
            item = data.draw(peer_pdus(machine))
        elif choice in ("pdu", "peer"):
            item = data.draw(pdus(machine))
        elif choice == "request":
            item = data.draw(requests)
        elif choice == "data":
            item = UserRequest(Primitive.AA_DATA_REQUEST, b"d")
        else:
            running = sorted(machine.timers_running, key=lambda timer: timer.value)
            pool = running if running and data.draw(st.integers(0, 4)) else list(Timer)
            item = TimerExpiry(data.draw(st.sampled_from(pool)))
        before = snapshot(machine)
        try:
            outputs = machine.handle(item)
        except SSCOPTimerError:
            assert item.timer not in before["timers_running"]
            assert snapshot(machine) == before
            continue
        except SSCOPProtocolError as error:
            assert (machine.state, error.event) in ILLEGAL
            assert snapshot(machine) == before
            continue
        check_invariants(machine, outputs)


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES // 3, deadline=None)
@given(data=st.data())
def test_two_machines_on_a_reordering_duplicating_wire_stay_consistent(data):
    """A wire that reorders and duplicates breaks the assumptions of Q.2110 (AAL5 does neither), so
    the protocol may recover, resynchronize or release - but it must not crash, its invariants must
    hold, and within one numbering epoch it hands SDs up in sequence and once each."""
    params = SSCOPParams(rx_window=4, max_pd=3, max_stat=3)
    machines = {"a": SSCOPMachine(params, name="a"), "b": SSCOPMachine(params, name="b")}
    wire: list[tuple[str, SSCOPPdu]] = []
    delivered: dict[str, list[int]] = {"a": [], "b": []}
    answers = {Primitive.AA_ESTABLISH_INDICATION: Primitive.AA_ESTABLISH_RESPONSE,
               Primitive.AA_RECOVER_INDICATION: Primitive.AA_RECOVER_RESPONSE,
               Primitive.AA_RESYNC_INDICATION: Primitive.AA_RESYNC_RESPONSE}
    counter = 0
    # Numbering starts again at 0 after each of these (Initialize state variables, 8.2 p.75).
    EPOCHS = {Primitive.AA_ESTABLISH_CONFIRM, Primitive.AA_ESTABLISH_INDICATION,
              Primitive.AA_RECOVER_INDICATION, Primitive.AA_RESYNC_INDICATION,
              Primitive.AA_RESYNC_CONFIRM, Primitive.AA_RELEASE_INDICATION}

    def run(name: str, item) -> None:
        try:
            outputs = machines[name].handle(item)
        except SSCOPProtocolError:
            return
        check_invariants(machines[name], outputs)
        other = "b" if name == "a" else "a"
        for output in outputs:
            if isinstance(output, SendPdu):
                wire.append((other, output.pdu))
            elif getattr(output, "primitive", None) in answers:
                run(name, UserRequest(answers[output.primitive]))
            elif getattr(output, "primitive", None) is Primitive.AA_DATA_INDICATION:
                delivered[name].append(output.sn)
                # Within one numbering epoch SDs are handed up in sequence, once each: 0, 1, 2...
                assert delivered[name] == list(range(len(delivered[name]))), delivered[name]
            if getattr(output, "primitive", None) in EPOCHS:
                delivered[name].clear()

    run("a", UserRequest(Primitive.AA_ESTABLISH_REQUEST))
    for _ in range(data.draw(st.integers(1, 120))):
        action = data.draw(st.sampled_from(["deliver", "deliver", "deliver", "duplicate", "data", "timer"]))
        if action in ("deliver", "duplicate") and wire:
            index = data.draw(st.integers(0, len(wire) - 1))
            target, pdu = wire[index] if action == "duplicate" else wire.pop(index)
            run(target, pdu)
        elif action == "data":
            name = data.draw(st.sampled_from("ab"))
            counter += 1
            run(name, UserRequest(Primitive.AA_DATA_REQUEST, counter.to_bytes(4, "big")))
        else:
            name = data.draw(st.sampled_from("ab"))
            running = sorted(machines[name].timers_running, key=lambda t: t.value)
            if running:
                run(name, TimerExpiry(data.draw(st.sampled_from(running))))
