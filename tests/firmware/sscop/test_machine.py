"""SSCOP protocol machine (Q.2110): connection control - establishment from either side and crossing,
rejection, release, resynchronization, recovery - the reactions to unexpected PDUs, the timers, and
the typed errors for illegal events. Two machines are joined by a synchronous, lossless in-test wire;
PDUs can be dropped on purpose and timers fired by hand."""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable

import pytest

from firmware.sscop.events import (
    RN_TOTAL,
    Indication,
    MaaError,
    PduType,
    Primitive,
    SendPdu,
    Source,
    SSCOPPdu,
    StartTimer,
    StopTimer,
    Timer,
    TimerExpiry,
    UserRequest,
)
from firmware.sscop.machine import SSCOPMachine, SSCOPParams, seq_add, seq_lt, seq_range, seq_rel
from firmware.sscop.errors import SSCOPError
from firmware.sscop.protocol_errors import SSCOPProtocolError, SSCOPTimerError, SSCOPValueError
from firmware.sscop.states import Act, Event, State
from hw.errors import FieldError

P = Primitive
READY = State.DATA_TRANSFER_READY

AUTO_RESPONSES = {
    P.AA_ESTABLISH_INDICATION: P.AA_ESTABLISH_RESPONSE,
    P.AA_RESYNC_INDICATION: P.AA_RESYNC_RESPONSE,
    P.AA_RECOVER_INDICATION: P.AA_RECOVER_RESPONSE,
}


class Pair:
    """Two SSCOP entities ``a`` and ``b`` on a synchronous wire. ``drop(side, pdu)`` decides which
    PDUs sent by ``side`` are lost; users answer indications when ``auto`` says so."""

    def __init__(self, params: SSCOPParams | None = None, *, auto: set[Primitive] | None = None) -> None:
        self.m = {"a": SSCOPMachine(params, name="a"), "b": SSCOPMachine(params, name="b")}
        self.log: dict[str, list] = {"a": [], "b": []}
        self.wire: deque[tuple[str, SSCOPPdu]] = deque()
        self.answers: deque[tuple[str, Primitive]] = deque()
        self.drop: Callable[[str, SSCOPPdu], bool] = lambda side, pdu: False
        self.dropped: list[tuple[str, SSCOPPdu]] = []
        self.auto = set(AUTO_RESPONSES) if auto is None else auto

    @property
    def a(self) -> SSCOPMachine:
        return self.m["a"]

    @property
    def b(self) -> SSCOPMachine:
        return self.m["b"]

    def do(self, side: str, item) -> list:
        outputs = self.m[side].handle(item)
        other = "b" if side == "a" else "a"
        for output in outputs:
            self.log[side].append(output)
            if isinstance(output, SendPdu):
                if self.drop(side, output.pdu):
                    self.dropped.append((side, output.pdu))
                else:
                    self.wire.append((other, output.pdu))
            elif isinstance(output, Indication) and output.primitive in self.auto:
                self.answers.append((side, AUTO_RESPONSES[output.primitive]))
        return outputs

    def request(self, side: str, primitive: Primitive, data: bytes = b"", **kw) -> list:
        out = self.do(side, UserRequest(primitive, data, **kw))
        self.flush()
        return out

    def expire(self, side: str, timer: Timer) -> list:
        out = self.do(side, TimerExpiry(timer))
        self.flush()
        return out

    def flush(self) -> None:
        while self.wire or self.answers:
            if self.wire:
                side, pdu = self.wire.popleft()
                self.do(side, pdu)
            else:
                side, primitive = self.answers.popleft()
                self.do(side, UserRequest(primitive))

    def clear(self) -> None:
        self.log = {"a": [], "b": []}
        self.dropped = []

    def sent(self, side: str, pdu_type: PduType | None = None) -> list[SSCOPPdu]:
        return [o.pdu for o in self.log[side] if isinstance(o, SendPdu)
                and (pdu_type is None or o.pdu.type is pdu_type)]

    def indications(self, side: str, primitive: Primitive | None = None) -> list[Indication]:
        return [o for o in self.log[side] if isinstance(o, Indication)
                and (primitive is None or o.primitive is primitive)]

    def errors(self, side: str) -> list[str]:
        return [o.code for o in self.log[side] if isinstance(o, MaaError)]

    def establish(self) -> None:
        self.request("a", P.AA_ESTABLISH_REQUEST)
        if self.b.state is State.INCOMING_CONNECTION_PENDING:
            self.request("b", P.AA_ESTABLISH_RESPONSE)
        assert self.a.state is READY and self.b.state is READY
        self.clear()


def snapshot(machine: SSCOPMachine) -> dict:
    return copy.deepcopy({k: v for k, v in vars(machine).items() if k not in ("last_transition", "params")})


# ---- sequence arithmetic --------------------------------------------------------------------------

def test_sequence_arithmetic_is_modulo_2_24_relative_to_a_base():
    top = (1 << 24) - 1
    assert seq_add(top) == 0 and seq_add(top, 3) == 2
    assert seq_rel(2, top) == 3
    assert seq_lt(top, 1, base=top - 5) and not seq_lt(1, top, base=top - 5)
    assert list(seq_range(top - 1, 2)) == [top - 1, top, 0, 1]
    assert list(seq_range(5, 5)) == []


# ---- establishment -----------------------------------------------------------------------------

def test_establishment_from_a_carries_uu_and_starts_data_transfer_timers():
    pair = Pair(auto=set())
    out = pair.request("a", P.AA_ESTABLISH_REQUEST, b"hello")
    assert pair.a.state is State.OUTGOING_CONNECTION_PENDING
    assert pair.b.state is State.INCOMING_CONNECTION_PENDING
    bgn = pair.sent("a", PduType.BGN)[0]
    assert (bgn.n_sq, bgn.n_mr, bgn.data) == (1, 128, b"hello")
    assert StartTimer(Timer.CC, 1.0) in out
    assert pair.indications("b", P.AA_ESTABLISH_INDICATION)[0].data == b"hello"
    pair.request("b", P.AA_ESTABLISH_RESPONSE, b"welcome")
    assert pair.a.state is READY and pair.b.state is READY
    assert pair.indications("a", P.AA_ESTABLISH_CONFIRM)[0].data == b"welcome"
    assert pair.a.timers_running == {Timer.POLL, Timer.NO_RESPONSE} == pair.b.timers_running
    assert StopTimer(Timer.CC) in pair.log["a"]
    assert (pair.a.vt_ms, pair.b.vt_ms, pair.a.vt_s, pair.a.vt_pa) == (128, 128, 0, 1)
    assert pair.a.last_transition.event is Event.BGAK and pair.a.last_transition.rule.clause == "8.2 p.34"


def test_establishment_from_b_is_symmetric():
    pair = Pair()
    pair.request("b", P.AA_ESTABLISH_REQUEST)
    assert pair.a.state is READY and pair.b.state is READY
    assert pair.indications("b", P.AA_ESTABLISH_CONFIRM) and pair.indications("a", P.AA_ESTABLISH_INDICATION)


def test_crossing_bgns_both_confirm():
    pair = Pair(auto=set())
    pair.do("a", UserRequest(P.AA_ESTABLISH_REQUEST))
    pair.do("b", UserRequest(P.AA_ESTABLISH_REQUEST))
    pair.flush()
    assert pair.a.state is READY and pair.b.state is READY
    assert pair.indications("a", P.AA_ESTABLISH_CONFIRM) and pair.indications("b", P.AA_ESTABLISH_CONFIRM)
    assert not pair.indications("a", P.AA_ESTABLISH_INDICATION)


def test_rejection_reaches_the_caller_as_release_from_the_user():
    pair = Pair(auto=set())
    pair.request("a", P.AA_ESTABLISH_REQUEST)
    pair.request("b", P.AA_RELEASE_REQUEST, b"busy")
    assert pair.sent("b", PduType.BGREJ)[0].data == b"busy"
    assert pair.a.state is State.IDLE and pair.b.state is State.IDLE
    release = pair.indications("a", P.AA_RELEASE_INDICATION)[0]
    assert (release.data, release.source) == (b"busy", Source.USER)
    assert pair.a.timers_running == set()


def test_bgn_retransmitted_until_maxcc_then_released_by_sscop():
    pair = Pair(SSCOPParams(max_cc=3))
    pair.drop = lambda side, pdu: pdu.type is PduType.BGN
    pair.request("a", P.AA_ESTABLISH_REQUEST)
    pair.expire("a", Timer.CC)
    pair.expire("a", Timer.CC)
    assert pair.a.state is State.OUTGOING_CONNECTION_PENDING and pair.a.vt_cc == 3
    assert [p.n_sq for p in pair.sent("a", PduType.BGN)] == [1, 1, 1]
    pair.expire("a", Timer.CC)
    assert pair.a.state is State.IDLE
    assert pair.errors("a") == ["O"]
    assert pair.sent("a", PduType.END)[-1].s == 1
    assert pair.indications("a", P.AA_RELEASE_INDICATION)[0].source is Source.SSCOP
    assert pair.a.timers_running == set()


def test_lost_bgak_is_recovered_by_a_retransmitted_bgn():
    pair = Pair()
    losses = iter([True])
    pair.drop = lambda side, pdu: pdu.type is PduType.BGAK and next(losses, False)
    pair.request("a", P.AA_ESTABLISH_REQUEST)
    assert pair.b.state is READY and pair.a.state is State.OUTGOING_CONNECTION_PENDING
    pair.expire("a", Timer.CC)  # BGN again, same N(SQ): b detects the retransmission (8.2 p.61)
    assert pair.a.state is READY
    assert len(pair.indications("b", P.AA_ESTABLISH_INDICATION)) == 1
    assert pair.b.last_transition.outcome == "retransmission"
    assert Act.SEND_BGAK in pair.b.last_transition.rule.actions


def test_idle_answers_a_retransmitted_bgn_with_bgrej():
    machine = SSCOPMachine()
    machine.receive(SSCOPPdu(PduType.BGN, n_sq=1, n_mr=10))
    machine.request(P.AA_RELEASE_REQUEST)  # reject: BGREJ, back to Idle
    out = machine.receive(SSCOPPdu(PduType.BGN, n_sq=1, n_mr=10))
    assert machine.state is State.IDLE and [o.pdu.type for o in out] == [PduType.BGREJ]
    machine.receive(SSCOPPdu(PduType.BGN, n_sq=2, n_mr=10))
    assert machine.state is State.INCOMING_CONNECTION_PENDING


# ---- release ------------------------------------------------------------------------------------

def test_release_from_ready_is_confirmed():
    pair = Pair()
    pair.establish()
    pair.request("a", P.AA_RELEASE_REQUEST, b"bye")
    assert pair.a.state is State.IDLE and pair.b.state is State.IDLE
    assert pair.sent("a", PduType.END)[0] == SSCOPPdu(PduType.END, s=0, data=b"bye")
    assert pair.indications("a", P.AA_RELEASE_CONFIRM)
    released = pair.indications("b", P.AA_RELEASE_INDICATION)[0]
    assert (released.data, released.source) == (b"bye", Source.USER)
    assert pair.a.timers_running == set() and pair.b.timers_running == set()


def test_release_survives_a_lost_end_and_gives_up_after_maxcc():
    pair = Pair()
    pair.establish()
    pair.drop = lambda side, pdu: side == "a" and pdu.type is PduType.END
    pair.request("a", P.AA_RELEASE_REQUEST, b"bye")
    assert pair.a.state is State.OUTGOING_DISCONNECTION_PENDING
    for _ in range(3):
        pair.expire("a", Timer.CC)
    ends = pair.sent("a", PduType.END)
    assert len(ends) == 4 and all(end == SSCOPPdu(PduType.END, data=b"bye") for end in ends)
    pair.expire("a", Timer.CC)
    assert pair.a.state is State.IDLE and pair.errors("a") == ["O"]
    assert pair.indications("a", P.AA_RELEASE_CONFIRM)
    # b never heard: it finds out through its own timers (Timer_NO-RESPONSE, MAA-ERROR P).
    assert pair.b.state is READY
    pair.expire("b", Timer.NO_RESPONSE)
    assert pair.b.state is State.IDLE and pair.errors("b") == ["P"]
    assert pair.indications("b", P.AA_RELEASE_INDICATION)[0].source is Source.SSCOP


def test_end_in_idle_is_acknowledged_and_endak_ignored():
    machine = SSCOPMachine()
    out = machine.receive(SSCOPPdu(PduType.END, s=1))
    assert out == [SendPdu(SSCOPPdu(PduType.ENDAK))]
    assert machine.receive(SSCOPPdu(PduType.ENDAK)) == []
    assert machine.counters["ignored.ENDAK"] == 1


# ---- resynchronization ----------------------------------------------------------------------------

def test_resynchronization_resets_the_state_variables_and_buffers():
    pair = Pair()
    pair.establish()
    pair.drop = lambda side, pdu: pdu.type is PduType.SD and pdu.n_s == 1
    for i in range(4):
        pair.request("a", P.AA_DATA_REQUEST, b"%d" % i)
    assert pair.a.vt_s == 4 and len(pair.b.rx_buffer) == 2
    pair.drop = lambda side, pdu: False
    pair.request("a", P.AA_RESYNC_REQUEST, b"sync")
    assert pair.indications("b", P.AA_RESYNC_INDICATION)[0].data == b"sync"
    assert pair.indications("a", P.AA_RESYNC_CONFIRM)
    assert pair.a.state is READY and pair.b.state is READY
    assert (pair.a.vt_s, pair.a.vt_a, pair.b.vr_r, pair.b.vr_h) == (0, 0, 0, 0)
    assert not pair.a.tx_buffer and not pair.b.rx_buffer
    assert pair.a.counters["tx.sdu_discarded"] == 3 and pair.b.counters["rx.sdu_discarded"] == 2
    pair.request("a", P.AA_DATA_REQUEST, b"after")
    assert [i.sn for i in pair.indications("b", P.AA_DATA_INDICATION)][-1] == 0


def test_lost_rs_is_retransmitted_with_the_same_n_sq():
    pair = Pair()
    pair.establish()
    losses = iter([True])
    pair.drop = lambda side, pdu: pdu.type is PduType.RS and next(losses, False)
    pair.request("a", P.AA_RESYNC_REQUEST)
    assert pair.a.state is State.OUTGOING_RESYNC_PENDING
    pair.expire("a", Timer.CC)
    first, second = pair.sent("a", PduType.RS)
    assert first == second and pair.a.state is READY


# ---- recovery -------------------------------------------------------------------------------------

def _recover(pair: Pair) -> None:
    """Make b see an SD it already buffered (8.2 p.66: N(S) error, MAA-ERROR Q)."""
    pair.drop = lambda side, pdu: pdu.type is PduType.SD and pdu.n_s == 0
    for i in range(3):
        pair.request("a", P.AA_DATA_REQUEST, b"%d" % i)
    pair.drop = lambda side, pdu: False
    assert sorted(pair.b.rx_buffer) == [1, 2]
    pair.do("b", SSCOPPdu(PduType.SD, n_s=2, data=b"2"))


def test_recovery_after_an_sd_n_s_error():
    pair = Pair(auto=set())
    pair.establish()
    _recover(pair)
    assert pair.b.state is State.OUTGOING_RECOVERY_PENDING
    assert pair.errors("b") == ["Q"]
    er = pair.sent("b", PduType.ER)[0]
    assert er.n_sq == 1 and pair.b.timers_running == {Timer.CC}  # b's first BGN/RS/ER
    pair.flush()
    assert pair.a.state is State.INCOMING_RECOVERY_PENDING
    assert pair.indications("a", P.AA_RECOVER_INDICATION)
    pair.request("a", P.AA_RECOVER_RESPONSE)
    assert pair.sent("a", PduType.ERAK)
    assert pair.b.state is State.RECOVERY_RESPONSE_PENDING
    assert pair.indications("b", P.AA_RECOVER_INDICATION)
    # Clear-Buffers = Yes: the out-of-sequence SDs were discarded, not delivered (8.2 p.75).
    assert pair.b.counters["rx.sdu_discarded"] == 2
    pair.request("b", P.AA_RECOVER_RESPONSE)
    assert pair.a.state is READY and pair.b.state is READY
    pair.request("a", P.AA_DATA_REQUEST, b"again")
    assert pair.indications("b", P.AA_DATA_INDICATION)[-1] == Indication(P.AA_DATA_INDICATION, b"again", sn=0)


def test_recovery_with_clear_buffers_no_delivers_the_buffered_sds():
    pair = Pair()
    pair.request("a", P.AA_ESTABLISH_REQUEST, clear_buffers=False)
    pair.request("b", P.AA_RELEASE_REQUEST)  # not yet: b auto-answered, so both are Ready
    # (b's release above ends the first connection; establish again with BR = No on both sides)
    pair.clear()
    pair.auto = set()
    pair.request("a", P.AA_ESTABLISH_REQUEST, clear_buffers=False)
    pair.request("b", P.AA_ESTABLISH_RESPONSE, clear_buffers=False)
    assert pair.a.state is READY and not pair.b.clear_buffers
    pair.auto = set(AUTO_RESPONSES)
    _recover(pair)
    pair.flush()
    delivered = [(i.data, i.sn) for i in pair.indications("b", P.AA_DATA_INDICATION)]
    assert delivered == [(b"1", 1), (b"2", 2)]
    assert pair.a.state is READY and pair.b.state is READY


def test_er_retransmission_in_ready_is_acknowledged_again():
    pair = Pair()
    pair.establish()
    _recover(pair)
    losses = iter([True])
    pair.drop = lambda side, pdu: pdu.type is PduType.ERAK and next(losses, False)
    pair.flush()
    assert pair.a.state is READY and pair.b.state is State.OUTGOING_RECOVERY_PENDING
    pair.expire("b", Timer.CC)
    assert pair.a.last_transition.outcome == "retransmission"
    assert pair.b.state is READY


# ---- data transfer details ------------------------------------------------------------------------

def test_poll_stat_acknowledge_and_phases():
    pair = Pair()
    pair.establish()
    for i in range(3):
        pair.request("a", P.AA_DATA_REQUEST, b"%d" % i)
    assert pair.a.vt_pd == 3 and not pair.sent("a", PduType.POLL)
    pair.expire("a", Timer.POLL)
    poll = pair.sent("a", PduType.POLL)[0]
    assert (poll.n_s, poll.n_ps) == (3, 1)
    stat = pair.sent("b", PduType.STAT)[0]
    assert (stat.n_r, stat.n_mr, stat.n_ps, stat.list_) == (3, 131, 1, ())
    assert pair.a.vt_a == 3 and not pair.a.tx_buffer and pair.a.vt_pa == 1
    # POLL timer was restarted when the POLL went out (data outstanding): still the active phase.
    assert pair.a.timers_running == {Timer.POLL, Timer.NO_RESPONSE}
    pair.expire("a", Timer.POLL)  # nothing outstanding now: KEEP-ALIVE, then STAT -> idle phase
    assert pair.a.timers_running == {Timer.IDLE}
    pair.expire("a", Timer.IDLE)
    assert pair.a.timers_running == {Timer.IDLE}  # POLL answered at once: idle phase again
    assert [p.n_ps for p in pair.sent("a", PduType.POLL)] == [1, 2, 3]


def test_maxpd_forces_a_poll():
    pair = Pair(SSCOPParams(max_pd=4))
    pair.establish()
    for i in range(9):
        pair.request("a", P.AA_DATA_REQUEST, bytes([i]))
    assert [p.n_s for p in pair.sent("a", PduType.POLL)] == [4, 8]


def test_selective_retransmission_from_ustat_and_stat():
    pair = Pair()
    pair.establish()
    lost = {1, 2, 5}
    pair.drop = lambda side, pdu: pdu.type is PduType.SD and pdu.n_s in lost and not lost.discard(pdu.n_s)
    for i in range(7):
        pair.request("a", P.AA_DATA_REQUEST, b"%d" % i)
    ustats = pair.sent("b", PduType.USTAT)
    assert [u.list_ for u in ustats] == [(1, 3), (5, 6)]
    # Every USTAT made a retransmission at once (MAA-ERROR V with the count).
    assert [(o.code, o.count) for o in pair.log["a"] if isinstance(o, MaaError)] == [("V", 2), ("V", 1)]
    delivered = [i.data for i in pair.indications("b", P.AA_DATA_INDICATION)]
    assert delivered == [b"%d" % i for i in range(7)]
    assert pair.a.counters["tx.retransmitted"] == 3


def test_stat_lists_are_split_at_maxstat_and_drive_retransmission():
    pair = Pair(SSCOPParams(max_stat=5))
    pair.establish()
    # Every even SD is lost, and so is everything b sends (its USTATs): only a STAT can tell a.
    pair.drop = lambda side, pdu: side == "b" or (pdu.type is PduType.SD and pdu.n_s % 2 == 0)
    for i in range(10):
        pair.request("a", P.AA_DATA_REQUEST, bytes([i]))
    assert sorted(pair.b.rx_buffer) == [1, 3, 5, 7, 9]
    pair.drop = lambda side, pdu: True
    pair.expire("a", Timer.POLL)
    poll = pair.sent("a", PduType.POLL)[-1]
    assert (poll.n_s, poll.n_ps) == (10, 1)
    stats = [o.pdu for o in pair.b.handle(poll) if isinstance(o, SendPdu)]
    # Missing/received boundaries 0,1,...,10 in lists of at most MaxSTAT = 5 elements, each list
    # but the last ending with the start of a missing range that the next one repeats (8.2 p.68).
    assert [s.list_ for s in stats] == [(0, 1, 2, 3, 4), (4, 5, 6, 7, 8), (8, 9, 10)]
    assert all((s.n_r, s.n_mr, s.n_ps) == (0, 128, 1) for s in stats)
    pair.drop = lambda side, pdu: False
    pair.clear()
    for stat in stats:
        pair.do("a", stat)
    assert [p.n_s for p in pair.sent("a", PduType.SD)] == [0, 2, 4, 6, 8]
    assert [(o.code, o.count) for o in pair.log["a"] if isinstance(o, MaaError)] == [("V", 2), ("V", 2), ("V", 1)]
    pair.flush()
    assert [i.data for i in pair.indications("b", P.AA_DATA_INDICATION)] == [bytes([i]) for i in range(10)]


def test_credit_window_closes_and_opens_with_w_and_x():
    pair = Pair(SSCOPParams(rx_window=3))
    pair.establish()
    first = iter([True])
    # SD 0 is lost once and b's USTAT too, so only the POLL/STAT cycle repairs it.
    pair.drop = lambda side, pdu: (side == "b" and pdu.type is PduType.USTAT) or (
        pdu.type is PduType.SD and pdu.n_s == 0 and next(first, False))
    for i in range(5):
        pair.request("a", P.AA_DATA_REQUEST, bytes([i]))
    assert pair.a.vt_s == 3 and len(pair.a.tx_queue) == 2  # credit of 3: N(S) 0..2 only
    assert sorted(pair.b.rx_buffer) == [1, 2] and pair.b.vr_mr == 3
    pair.expire("a", Timer.POLL)
    # STAT N(R)=0, N(MR)=3: SD 0 retransmitted (V), and the window is still closed (W).
    assert pair.sent("b", PduType.STAT)[0].list_ == (0, 1, 3)
    assert [(o.code, o.count) for o in pair.log["a"] if isinstance(o, MaaError)] == [("V", 1), ("W", 0)]
    assert not pair.a.credit and pair.a.vt_s == 3
    pair.expire("a", Timer.POLL)
    assert pair.errors("a")[-1] == "X" and pair.a.credit
    assert [i.data for i in pair.indications("b", P.AA_DATA_INDICATION)] == [bytes([i]) for i in range(5)]


def test_sd_outside_the_window_is_discarded_with_one_ustat():
    machine = SSCOPMachine(SSCOPParams(rx_window=4))
    machine.receive(SSCOPPdu(PduType.BGN, n_sq=1, n_mr=100))
    machine.request(P.AA_ESTABLISH_RESPONSE)
    out = machine.receive(SSCOPPdu(PduType.SD, n_s=4, data=b"x"))
    assert [o.pdu for o in out if isinstance(o, SendPdu)] == [SSCOPPdu(PduType.USTAT, n_mr=4, list_=(0, 4))]
    assert machine.vr_h == 4 and machine.counters["rx.sd_outside_window"] == 1
    assert machine.receive(SSCOPPdu(PduType.SD, n_s=5, data=b"y")) == []
    assert machine.counters["rx.sd_outside_window"] == 2 and not machine.rx_buffer


@pytest.mark.parametrize("bad, code", [
    (dict(n_ps=5), "R"),                 # N(PS) beyond VT(PS)
    (dict(n_r=9), "S"),                  # N(R) beyond VT(S)
    (dict(n_r=0, list_=(1, 0)), "S"),    # list not increasing
    (dict(n_r=0, list_=(0, 9)), "S"),    # list beyond VT(S)
])
def test_bad_stat_starts_recovery(bad, code):
    pair = Pair()
    pair.establish()
    pair.drop = lambda side, pdu: side == "b"
    for i in range(3):
        pair.request("a", P.AA_DATA_REQUEST, bytes([i]))
    pair.expire("a", Timer.POLL)  # POLL N(PS) = 1; b's STAT is lost
    pair.clear()
    fields = dict(n_r=0, n_mr=128, n_ps=1) | bad
    pair.do("a", SSCOPPdu(PduType.STAT, **fields))
    assert pair.errors("a") == [code]
    assert pair.a.state is State.OUTGOING_RECOVERY_PENDING
    assert pair.sent("a", PduType.ER) and pair.a.timers_running == {Timer.CC}


def test_bad_ustat_and_poll_start_recovery():
    pair = Pair()
    pair.establish()
    pair.request("a", P.AA_DATA_REQUEST, b"0")
    pair.do("a", SSCOPPdu(PduType.USTAT, n_r=0, n_mr=128, list_=(0, 1)))  # list 2 must be < VT(S)=1
    assert pair.errors("a") == ["T"] and pair.a.state is State.OUTGOING_RECOVERY_PENDING
    other = Pair()
    other.establish()
    other.drop = lambda side, pdu: side == "b" or (pdu.type is PduType.SD and pdu.n_s == 0)
    other.request("a", P.AA_DATA_REQUEST, b"0")
    other.request("a", P.AA_DATA_REQUEST, b"1")
    assert (other.b.vr_r, other.b.vr_h) == (0, 2)
    other.do("b", SSCOPPdu(PduType.POLL, n_s=1, n_ps=1))  # N(S) 1 < VR(H) 2
    assert other.errors("b") == ["Q"] and other.b.state is State.OUTGOING_RECOVERY_PENDING
    third = Pair()
    third.establish()
    third.request("a", P.AA_DATA_REQUEST, b"0")
    third.do("b", SSCOPPdu(PduType.POLL, n_s=(1 << 24) - 1, n_ps=1))  # behind VR(R) = 0
    assert third.errors("b") == ["Q"]


def test_stat_after_the_poll_does_not_retransmit_newer_sds():
    """An SD sent after the POLL a STAT answers is not retransmitted by that STAT (8.2 p.71)."""
    pair = Pair()
    pair.establish()
    pair.drop = lambda side, pdu: True
    pair.request("a", P.AA_DATA_REQUEST, b"0")   # lost; sent with VT(PS) = 0
    pair.expire("a", Timer.POLL)                 # POLL N(PS)=1 lost too
    pair.request("a", P.AA_DATA_REQUEST, b"1")   # sent with VT(PS) = 1
    pair.drop = lambda side, pdu: False
    pair.clear()
    pair.do("a", SSCOPPdu(PduType.STAT, n_r=0, n_mr=128, n_ps=1, list_=(0, 2)))
    assert [p.n_s for p in pair.sent("a", PduType.SD)] == [0]
    assert [(o.code, o.count) for o in pair.log["a"] if isinstance(o, MaaError)] == [("V", 1)]


# ---- unexpected PDUs, unnumbered data, retrieval ------------------------------------------------------

@pytest.mark.parametrize("pdu_type, code", [
    (PduType.SD, "A"), (PduType.BGAK, "C"), (PduType.POLL, "G"), (PduType.STAT, "H"),
    (PduType.USTAT, "I"), (PduType.RS, "J"), (PduType.RSAK, "K"), (PduType.ER, "L"), (PduType.ERAK, "M"),
])
def test_idle_answers_unexpected_pdus_with_maa_error_and_end(pdu_type, code):
    machine = SSCOPMachine()
    pdu = SSCOPPdu(pdu_type, list_=(0, 0) if pdu_type is PduType.USTAT else (), n_sq=3)
    out = machine.receive(pdu)
    assert out == [MaaError(code), SendPdu(SSCOPPdu(PduType.END, s=1))]
    assert machine.state is State.IDLE


def test_unexpected_pdu_in_incoming_connection_pending_releases():
    machine = SSCOPMachine()
    machine.receive(SSCOPPdu(PduType.BGN, n_sq=1))
    out = machine.receive(SSCOPPdu(PduType.SD, data=b"early"))
    assert out == [MaaError("A"), SendPdu(SSCOPPdu(PduType.END, s=1)),
                   Indication(P.AA_RELEASE_INDICATION, source=Source.SSCOP)]
    assert machine.state is State.IDLE


@pytest.mark.parametrize("state_setup", ["idle", "ready"])
def test_unitdata_and_management_data_in_any_state(state_setup):
    pair = Pair()
    if state_setup == "ready":
        pair.establish()
    pair.request("a", P.AA_UNITDATA_REQUEST, b"ud")
    pair.request("a", P.MAA_UNITDATA_REQUEST, b"md")
    assert [(i.primitive, i.data) for i in pair.indications("b")] == [
        (P.AA_UNITDATA_INDICATION, b"ud"), (P.MAA_UNITDATA_INDICATION, b"md")]


def test_length_violation_is_maa_error_u_and_changes_nothing():
    machine = SSCOPMachine(SSCOPParams(max_k=8))
    before = snapshot(machine)
    assert machine.receive(SSCOPPdu(PduType.UD, data=bytes(9))) == [MaaError("U")]
    assert machine.receive(SSCOPPdu(PduType.USTAT, list_=(1,))) == [MaaError("U")]
    assert machine.counters["rx.length_violation"] == 2
    after = snapshot(machine)
    after.pop("counters"), before.pop("counters")
    assert after == before


def test_retrieval_after_release_with_clear_buffers_no():
    pair = Pair(auto=set())
    pair.request("a", P.AA_ESTABLISH_REQUEST, clear_buffers=False)
    pair.request("b", P.AA_ESTABLISH_RESPONSE)
    pair.drop = lambda side, pdu: side == "a" and pdu.type is PduType.SD and pdu.n_s >= 1
    pair.a.vt_ms = 3  # a small credit so one SDU stays in the transmission queue
    for i in range(4):
        pair.request("a", P.AA_DATA_REQUEST, b"%d" % i)
    pair.drop = lambda side, pdu: False
    assert pair.a.vt_s == 3 and list(pair.a.tx_queue) == [b"3"]
    pair.request("a", P.AA_RELEASE_REQUEST)
    assert pair.a.state is State.IDLE
    pair.clear()
    pair.request("a", P.AA_RETRIEVE_REQUEST, rn=0)
    assert [(i.primitive, i.data) for i in pair.indications("a")] == [
        (P.AA_RETRIEVE_INDICATION, b"1"), (P.AA_RETRIEVE_INDICATION, b"2"),
        (P.AA_RETRIEVE_INDICATION, b"3"), (P.AA_RETRIEVE_COMPLETE_INDICATION, b"")]
    pair.clear()
    pair.request("a", P.AA_RETRIEVE_REQUEST, rn=RN_TOTAL)  # SD 0 reached b but was never acknowledged
    assert [(i.primitive, i.data) for i in pair.indications("a")] == [
        (P.AA_RETRIEVE_INDICATION, b"0"), (P.AA_RETRIEVE_COMPLETE_INDICATION, b"")]
    assert not pair.a.tx_buffer and not pair.a.tx_queue


def test_retrieval_with_clear_buffers_yes_finds_nothing():
    pair = Pair()
    pair.establish()
    pair.drop = lambda side, pdu: pdu.type is PduType.SD
    pair.request("a", P.AA_DATA_REQUEST, b"lost")
    pair.drop = lambda side, pdu: False
    pair.request("a", P.AA_RELEASE_REQUEST)
    assert pair.a.counters["tx.sdu_discarded"] == 1
    pair.clear()
    pair.request("a", P.AA_RETRIEVE_REQUEST, rn=RN_TOTAL)
    assert [i.primitive for i in pair.indications("a")] == [P.AA_RETRIEVE_COMPLETE_INDICATION]


# ---- illegal events and bad input ------------------------------------------------------------------

@pytest.mark.parametrize("setup, item", [
    ("idle", UserRequest(P.AA_DATA_REQUEST, b"x")),
    ("idle", UserRequest(P.AA_RELEASE_REQUEST)),
    ("idle", UserRequest(P.AA_RESYNC_RESPONSE)),
    ("ready", UserRequest(P.AA_ESTABLISH_REQUEST)),
    ("ready", UserRequest(P.AA_RECOVER_RESPONSE)),
    ("ready", UserRequest(P.AA_RETRIEVE_REQUEST)),
])
def test_illegal_user_request_raises_and_leaves_the_machine_unchanged(setup, item):
    pair = Pair()
    if setup == "ready":
        pair.establish()
        pair.request("a", P.AA_DATA_REQUEST, b"pending")
    before = snapshot(pair.a)
    with pytest.raises(SSCOPError) as caught:  # the layer's base catches the protocol's errors too
        pair.a.handle(item)
    assert isinstance(caught.value, SSCOPProtocolError)
    assert caught.value.event is Event(item.primitive.value)
    assert "6.2" in str(caught.value)
    assert snapshot(pair.a) == before


def test_expiry_of_a_timer_that_is_not_running_raises():
    pair = Pair()
    pair.establish()
    before = snapshot(pair.a)
    with pytest.raises(SSCOPTimerError):
        pair.a.expire(Timer.KEEP_ALIVE)  # legal in state 10, but not running
    with pytest.raises(SSCOPProtocolError):
        pair.a.expire(Timer.CC)
    assert snapshot(pair.a) == before
    idle = SSCOPMachine()
    with pytest.raises(SSCOPTimerError):
        idle.expire(Timer.POLL)


def test_bad_fields_and_parameters_are_typed_errors():
    with pytest.raises(SSCOPValueError) as caught:
        SSCOPPdu(PduType.SD, n_s=1 << 24)
    assert isinstance(caught.value, FieldError) and isinstance(caught.value, SSCOPError)
    assert caught.value.field == "n_s"
    with pytest.raises(SSCOPValueError):
        SSCOPPdu(PduType.BGN, n_sq=256)
    with pytest.raises(SSCOPValueError):
        SSCOPPdu(0)
    with pytest.raises(SSCOPValueError):
        UserRequest(P.AA_DATA_INDICATION)
    with pytest.raises(SSCOPValueError):
        SSCOPParams(max_stat=66)
    with pytest.raises(SSCOPValueError):
        SSCOPParams(timer_cc=0)
    machine = SSCOPMachine(SSCOPParams(max_k=4))
    machine.receive(SSCOPPdu(PduType.BGN, n_sq=1))
    machine.request(P.AA_ESTABLISH_RESPONSE)
    before = snapshot(machine)
    with pytest.raises(SSCOPValueError):
        machine.request(P.AA_DATA_REQUEST, b"12345")
    assert snapshot(machine) == before


def test_defaults_are_ngatms():
    p = SSCOPParams()
    assert (p.timer_cc, p.timer_poll, p.timer_no_response, p.timer_keep_alive, p.timer_idle) == \
        (1.0, 0.75, 7.0, 2.0, 15.0)
    assert (p.max_cc, p.max_pd, p.max_stat, p.max_k, p.max_j, p.rx_window) == (4, 25, 67, 4096, 4096, 128)
