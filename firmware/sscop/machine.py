"""The SSCOP protocol entity (ITU-T Q.2110): connection control from the table in ``states``, plus the
assured data transfer of 8.2 pp.63-72 - sequence numbers, buffers, POLL/STAT/USTAT, selective
retransmission and the credit window. No I/O and no clock: :meth:`SSCOPMachine.handle` takes one
input (a received :class:`SSCOPPdu`, a :class:`UserRequest`, a :class:`TimerExpiry`) and returns the
outputs in SDL order (PDUs to send, indications, MAA-ERRORs, timer start/stop commands in seconds).

State variables keep their Q.2110 7.4 names (``vt_s`` is VT(S)...). Sequence numbers are 24-bit and
all arithmetic on them is modulo 2**24; comparisons are made relative to a base (7.4): VT(A) for the
transmitter's numbers, VR(R) for the receiver's, VT(PA) for poll sequence numbers - so the machine
keeps working across the wrap of 2**24.

Buffers (Appendix III): the *transmission queue* holds SDUs not yet sent; the *transmission buffer*
holds sent SD PDUs until acknowledged (keyed by N(S), with the VT(PS) at their last transmission);
the *retransmission queue* marks N(S) values to send again; the *receive buffer* holds SDs received
out of sequence. The receive window VR(MR) is kept ``rx_window`` SDs ahead of VR(R): the receive
buffer never holds more than ``rx_window`` SDs, and VR(MR) never decreases.

Nothing is dropped silently: every ignored PDU, discarded SD or SDU is counted in :attr:`counters`.

Where this follows ngatm (FreeBSD's implementation of Q.2110) and where it deliberately does not:

* AA-RESYNC.request in state 7 goes to state 5 (ngatm stays in 7, which the SDL does not say).
* AA-ESTABLISH.request in state 4 sets Clear-Buffers from its BR parameter, as in state 1.
* Sequence comparisons are modular (ngatm compares raw integers and misbehaves after 2**24 SDs).
* MAA-ERROR V carries the true number of SDs queued for retransmission, and is not reported when a
  STAT lists no SD that needs it.
* A crossing BGN answered in state 2 gets a BGAK without SSCOP-UU (no AA-ESTABLISH.response has
  supplied one for this connection).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from firmware.sscop.events import (
    INFO_PDUS,
    RN_TOTAL,
    RN_UNKNOWN,
    SEQ_MODULUS,
    SQ_MODULUS,
    UU_PDUS,
    Indication,
    Input,
    MaaError,
    Output,
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
from firmware.sscop.protocol_errors import SSCOPTimerError, SSCOPValueError
from firmware.sscop.states import (
    TRANSITIONS,
    Act,
    Choice,
    Decision,
    Event,
    Rule,
    State,
    reaction,
)

# ---- sequence number arithmetic (Q.2110 7.4) ---------------------------------------------------


def seq_add(a: int, n: int = 1) -> int:
    """a + n modulo 2**24."""
    return (a + n) % SEQ_MODULUS


def seq_rel(x: int, base: int) -> int:
    """Distance of x above base, modulo 2**24: how 7.4 compares numbers relative to a base."""
    return (x - base) % SEQ_MODULUS


def seq_lt(a: int, b: int, base: int) -> bool:
    """a < b, both taken relative to base."""
    return seq_rel(a, base) < seq_rel(b, base)


def seq_range(start: int, stop: int) -> Iterable[int]:
    """start, start+1, ..., stop-1 modulo 2**24 (empty when start == stop)."""
    for offset in range(seq_rel(stop, start)):
        yield seq_add(start, offset)


# ---- parameters (Q.2110 7.6, 7.7) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SSCOPParams:
    """Timer values (seconds) and parameters of one SSCOP entity.

    The defaults are those of FreeBSD ngatm (``sscoppriv.h``: TIMERCC 1000 ms, TIMERPOLL 750 ms,
    TIMERNR 7000 ms, TIMERKA 2000 ms, TIMERIDLE 15000 ms, MAXCC 4, MAXPD 25, MAXSTAT 67, MAXK and
    MAXJ 4096 octets, initial window MAXMR 128):

    * ``timer_cc`` - Timer_CC, between retransmissions of BGN, END, RS and ER (7.6);
    * ``timer_poll`` - Timer_POLL, between POLLs while SDs are outstanding (active phase);
    * ``timer_no_response`` - Timer_NO-RESPONSE, the longest time without a STAT;
    * ``timer_keep_alive`` - Timer_KEEP-ALIVE, between POLLs with nothing outstanding (transient phase);
    * ``timer_idle`` - Timer_IDLE, length of the idle phase, without POLLs;
    * ``max_cc`` - MaxCC, transmissions of BGN/END/RS/ER before giving up (7.7);
    * ``max_pd`` - MaxPD, SDs sent between two POLLs at most (VT(PD) limit);
    * ``max_stat`` - MaxSTAT, list elements per STAT at most (odd, >= 3; a longer list is split);
    * ``max_k`` - k, longest information field of SD, UD and MD, in octets;
    * ``max_j`` - j, longest SSCOP-UU, in octets;
    * ``rx_window`` - SDs this entity accepts beyond VR(R): VR(MR) - VR(R), the credit advertised in
      N(MR) (7.8).
    """

    timer_cc: float = 1.0
    timer_poll: float = 0.75
    timer_no_response: float = 7.0
    timer_keep_alive: float = 2.0
    timer_idle: float = 15.0
    max_cc: int = 4
    max_pd: int = 25
    max_stat: int = 67
    max_k: int = 4096
    max_j: int = 4096
    rx_window: int = 128

    def __post_init__(self) -> None:
        for name in ("timer_cc", "timer_poll", "timer_no_response", "timer_keep_alive", "timer_idle"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise SSCOPValueError(name, value, "a duration in seconds > 0")
        limits = {"max_cc": (1, 255), "max_pd": (1, SEQ_MODULUS - 1), "max_stat": (3, 16381),
                  "max_k": (0, 65528), "max_j": (0, 65524), "rx_window": (1, SEQ_MODULUS // 2 - 1)}
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise SSCOPValueError(name, value, f"an integer in {low}..{high}")
        if self.max_stat % 2 == 0:
            raise SSCOPValueError("max_stat", self.max_stat, "an odd number (a STAT list is split "
                                  "after a missing-range start)")

    def duration(self, timer: Timer) -> float:
        return {
            Timer.CC: self.timer_cc,
            Timer.POLL: self.timer_poll,
            Timer.NO_RESPONSE: self.timer_no_response,
            Timer.KEEP_ALIVE: self.timer_keep_alive,
            Timer.IDLE: self.timer_idle,
        }[timer]


@dataclass(slots=True)
class _Sent:
    """An SD PDU in the transmission buffer: its data and VT(PS) at its last transmission."""

    data: bytes
    poll_sn: int


_TIMER_EVENTS = {
    Timer.CC: Event.TIMER_CC,
    Timer.POLL: Event.TIMER_POLL,
    Timer.NO_RESPONSE: Event.TIMER_NO_RESPONSE,
    Timer.KEEP_ALIVE: Event.TIMER_KEEP_ALIVE,
    Timer.IDLE: Event.TIMER_IDLE,
}

_UU_REQUESTS = frozenset({Primitive.AA_ESTABLISH_REQUEST, Primitive.AA_ESTABLISH_RESPONSE,
                          Primitive.AA_RELEASE_REQUEST, Primitive.AA_RESYNC_REQUEST})
_MU_REQUESTS = frozenset({Primitive.AA_DATA_REQUEST, Primitive.AA_UNITDATA_REQUEST,
                          Primitive.MAA_UNITDATA_REQUEST})


@dataclass(slots=True)
class Transition:
    """What the last :meth:`SSCOPMachine.handle` did, for traces and tests."""

    state: State
    event: Event
    outcome: str | None
    rule: Rule


@dataclass(slots=True)
class _Saved:
    """SSCOP-UU kept for retransmissions, and the END/RS fields sent last."""

    bgn: bytes = b""
    bgak: bytes = b""
    bgrej: bytes = b""
    end: bytes = b""
    rs: bytes = b""
    end_s: int = 0
    rs_mr: int = 0
    rs_sq: int = 0


class SSCOPMachine:
    """One SSCOP protocol entity. Create it, then feed :meth:`handle` (or :meth:`receive`,
    :meth:`request`, :meth:`expire`) and carry out what it returns."""

    def __init__(self, params: SSCOPParams | None = None, *, name: str = "sscop") -> None:
        self.params = params if params is not None else SSCOPParams()
        self.name = name
        self.state = State.IDLE
        # Transmitter state variables (7.4)
        self.vt_s = 0    # VT(S): N(S) of the next new SD
        self.vt_ps = 0   # VT(PS): N(PS) of the last POLL sent
        self.vt_a = 0    # VT(A): next in-sequence SD expected to be acknowledged
        self.vt_pa = 1   # VT(PA): lowest N(PS) a STAT may still carry
        self.vt_ms = 0   # VT(MS): the peer's N(MR), first N(S) the peer does not accept
        self.vt_pd = 0   # VT(PD): SDs sent since the last POLL
        self.vt_cc = 0   # VT(CC): BGN/END/RS/ER transmissions not yet acknowledged
        self.vt_sq = 0   # VT(SQ): connection sequence, N(SQ) of BGN/RS/ER (modulo 256)
        # Receiver state variables (7.4)
        self.vr_r = 0    # VR(R): next in-sequence SD expected
        self.vr_h = 0    # VR(H): highest expected SD (one past the highest seen or polled)
        self.vr_mr = 0   # VR(MR): first N(S) not accepted (advertised as N(MR))
        self.vr_sq = 0   # VR(SQ): N(SQ) of the last BGN/RS/ER accepted (modulo 256)
        self.clear_buffers = True  # Clear-Buffers, from BR
        self.credit = True         # False after MAA-ERROR W until MAA-ERROR X
        # Buffers (Appendix III)
        self.tx_queue: deque[bytes] = deque()
        self.tx_buffer: dict[int, _Sent] = {}
        self.rtx: set[int] = set()
        self.rx_buffer: dict[int, bytes] = {}
        self.saved = _Saved()
        self.timers_running: set[Timer] = set()
        self.counters: Counter[str] = Counter()
        self.last_transition: Transition | None = None
        self._out: list[Output] = []
        self._input: Input | None = None
        self._timer_starts: tuple = (None, {})  # (params, StartTimer per timer) for those params

    def __repr__(self) -> str:
        return (f"SSCOPMachine({self.name!r}, state={int(self.state)} {self.state.label}, "
                f"VT(S)={self.vt_s}, VT(A)={self.vt_a}, VT(MS)={self.vt_ms}, VR(R)={self.vr_r}, "
                f"VR(H)={self.vr_h}, VR(MR)={self.vr_mr})")

    # ---- entry points ---------------------------------------------------------------------------

    def receive(self, pdu: SSCOPPdu) -> list[Output]:
        return self.handle(pdu)

    def request(self, primitive: Primitive | str, data: bytes = b"", *, clear_buffers: bool = True,
                rn: int | str = RN_UNKNOWN) -> list[Output]:
        return self.handle(UserRequest(Primitive(primitive), data, clear_buffers, rn))

    def expire(self, timer: Timer | str) -> list[Output]:
        return self.handle(TimerExpiry(Timer(timer)))

    def handle(self, item: Input) -> list[Output]:
        """Process one input; return the outputs. Raises SSCOPProtocolError (or its subclass
        SSCOPTimerError) for an illegal input, SSCOPValueError for a bad one; either way the machine
        is left unchanged."""
        cls = item.__class__
        if cls is SSCOPPdu or (cls is not UserRequest and cls is not TimerExpiry and isinstance(item, SSCOPPdu)):
            pdu_type = item.type
            event = _PDU_EVENT[pdu_type]
            if self._length_violation(item):
                # Q.2110 Annex A code U: a PDU whose length is wrong for its type is discarded, in
                # any state, before the state machine sees it.
                self.counters["rx.length_violation"] += 1
                self.counters[_RX_DISCARDED[pdu_type]] += 1
                self.last_transition = None
                return [MaaError("U")]
            self.counters[_RX_COUNTER[pdu_type]] += 1
        elif cls is UserRequest or isinstance(item, UserRequest):
            event = _REQUEST_EVENT.get(item.primitive) or Event(item.primitive.value)
            self._check_request(item)
        elif cls is TimerExpiry or isinstance(item, TimerExpiry):
            event = _TIMER_EVENTS[item.timer]
            if item.timer not in self.timers_running:
                raise SSCOPTimerError(self.state, event, f"{item.timer.value} is not running")
        else:
            raise SSCOPValueError("input", item, "an SSCOPPdu, UserRequest or TimerExpiry")
        entry = _COMPILED.get((self.state, event))
        if entry is None:
            reaction(self.state, event)  # raises SSCOPProtocolError for the illegal pair
        if cls is TimerExpiry:
            self.timers_running.discard(item.timer)
        self._out = out = []
        self._input = item
        outcome: str | None = None
        rule, step = entry
        if step.__class__ is dict:  # a Choice: decide, then follow the branch
            outcome = _DECIDERS[rule.decision](self)
            rule, step = step[outcome]
        previous = self.state
        for act in step:
            act(self)
        self.state = state = rule.next_state
        if state is _DATA_TRANSFER_READY and (self.rtx or self.tx_queue):
            self._service_transmission()
        self.last_transition = Transition(previous, event, outcome, rule)
        self._input = None
        self._out = []
        return out

    # ---- input checks ---------------------------------------------------------------------------

    def _length_violation(self, pdu: SSCOPPdu) -> bool:
        p = self.params
        t = pdu.type
        if t in INFO_PDUS:
            if len(pdu.data) > p.max_k:
                return True
        elif t in UU_PDUS:
            if len(pdu.data) > p.max_j:
                return True
        elif pdu.data:
            return True
        if t is _STAT:
            return len(pdu.list_) > p.max_stat
        if t is _USTAT:
            return len(pdu.list_) != 2
        return bool(pdu.list_)

    def _check_request(self, request: UserRequest) -> None:
        if request.primitive in _UU_REQUESTS and len(request.data) > self.params.max_j:
            raise SSCOPValueError("data", f"{len(request.data)} octets of SSCOP-UU",
                                  f"at most j = {self.params.max_j} octets (7.7)")
        if request.primitive in _MU_REQUESTS and len(request.data) > self.params.max_k:
            raise SSCOPValueError("data", f"{len(request.data)} octets",
                                  f"at most k = {self.params.max_k} octets (7.7)")

    # ---- decisions ------------------------------------------------------------------------------

    def _decide(self, decision: Decision) -> str:
        """The outcome of a decision of the table (the branch of a Choice to follow)."""
        return _DECIDERS[decision](self)

    def _decide_vt_cc(self) -> str:
        return "VT(CC) >= MaxCC" if self.vt_cc >= self.params.max_cc else "VT(CC) < MaxCC"

    def _decide_retransmission(self) -> str:
        # Detect retransmission (8.2 p.76): a BGN/RS/ER whose N(SQ) equals VR(SQ) is a
        # retransmission; otherwise VR(SQ) takes the new value.
        pdu = self._pdu
        if pdu.n_sq == self.vr_sq:
            return "retransmission"
        self.vr_sq = pdu.n_sq
        return "new"

    def _decide_sd_n_s(self) -> str:
        # Relative to VR(R) (7.4): an N(S) behind VR(R) - an old duplicate, impossible on a wire
        # that neither duplicates nor reorders - compares as >= VR(MR), outside the window.
        n_s = self._input.n_s
        vr_r = self.vr_r
        if (n_s - vr_r) % SEQ_MODULUS >= (self.vr_mr - vr_r) % SEQ_MODULUS:
            return "N(S) >= VR(MR)"
        if n_s == vr_r:
            return "N(S) = VR(R)"
        if n_s == self.vr_h:
            return "N(S) = VR(H)"
        if seq_lt(self.vr_h, n_s, vr_r):
            return "N(S) > VR(H)"
        return "VR(R) < N(S) < VR(H), buffered" if n_s in self.rx_buffer else \
            "VR(R) < N(S) < VR(H), missing"

    def _decide_poll_n_s(self) -> str:
        # N(S) < VR(H), relative to VR(R). An N(S) more than half the sequence space ahead of
        # VR(R) is one behind it (the window never exceeds half the space), also an error.
        distance = seq_rel(self._pdu.n_s, self.vr_r)
        if distance < seq_rel(self.vr_h, self.vr_r) or distance >= SEQ_MODULUS // 2:
            return "N(S) < VR(H)"
        return "N(S) >= VR(H)"

    def _decide_stat_check(self) -> str:
        return self._check_stat(self._pdu)

    def _decide_ustat_check(self) -> str:
        return self._check_ustat(self._pdu)

    def _check_stat(self, pdu: SSCOPPdu) -> str:
        # 8.2 p.70: VT(PA) <= N(PS) <= VT(PS), else MAA-ERROR R. Measured from VT(PA) - 1, so that
        # the range is empty while no POLL is unanswered (VT(PA) = VT(PS) + 1 after initialization).
        below = seq_add(self.vt_pa, -1)
        if not 1 <= seq_rel(pdu.n_ps, below) <= seq_rel(self.vt_ps, below):
            return "N(PS) error"
        # VT(A) <= N(R) <= VT(S), else MAA-ERROR S.
        if seq_rel(pdu.n_r, self.vt_a) > seq_rel(self.vt_s, self.vt_a):
            return "N(R) or list error"
        elements = pdu.list_
        if len(elements) > 1:
            # The list alternates: start of a missing range, start of a received range, ...
            # Each element lies in N(R)..VT(S), strictly increasing; the first is < VT(S).
            upper = seq_rel(self.vt_s, pdu.n_r)
            previous = -1
            for index, element in enumerate(elements):
                distance = seq_rel(element, pdu.n_r)
                if distance <= previous or distance > upper or (index == 0 and distance == upper):
                    return "N(R) or list error"
                previous = distance
            # Every SD listed as missing must still be in the transmission buffer (8.2 p.71).
            for index in range(0, len(elements) - 1, 2):
                for n_s in seq_range(elements[index], elements[index + 1]):
                    if n_s not in self.tx_buffer:
                        return "N(R) or list error"
        return "valid"

    def _check_ustat(self, pdu: SSCOPPdu) -> str:
        # 8.2 p.69: VT(A) <= N(R) < VT(S); N(R) <= list 1 < list 2 < VT(S); every SD of the missing
        # range still in the transmission buffer. Else MAA-ERROR T.
        if not seq_lt(pdu.n_r, self.vt_s, self.vt_a):
            return "N(R) or list error"
        first, second = pdu.list_
        upper = seq_rel(self.vt_s, pdu.n_r)
        if not seq_rel(first, pdu.n_r) < seq_rel(second, pdu.n_r) < upper:
            return "N(R) or list error"
        if any(n_s not in self.tx_buffer for n_s in seq_range(first, second)):
            return "N(R) or list error"
        return "valid"

    # ---- helpers --------------------------------------------------------------------------------

    @property
    def _pdu(self) -> SSCOPPdu:
        assert isinstance(self._input, SSCOPPdu)
        return self._input

    @property
    def _request(self) -> UserRequest:
        assert isinstance(self._input, UserRequest)
        return self._input

    def _send(self, pdu: SSCOPPdu) -> None:
        # Every PDU sent is built with SSCOPPdu._trusted: its fields are state variables kept modulo
        # their width, N(PS) of a checked PDU, and data of checked requests (a test re-checks them).
        self.counters[_TX_COUNTER[pdu.type]] += 1
        self._out.append(SendPdu(pdu))

    def _indicate(self, primitive: Primitive, data: bytes = b"", *, sn: int | None = None,
                  source: Source | None = None) -> None:
        self._out.append(Indication(primitive, data, sn, source))

    def _maa_error(self, code: str, count: int = 0) -> None:
        self.counters[f"maa.{code}"] += 1
        self._out.append(MaaError(code, count))

    def _start(self, timer: Timer) -> None:
        self.timers_running.add(timer)
        starts = self._timer_starts
        if starts[0] is not self.params:  # made once per parameter set: StartTimer is immutable
            starts = self._timer_starts = (self.params, {t: StartTimer(t, float(self.params.duration(t)))
                                                         for t in Timer})
        self._out.append(starts[1][timer])

    def _stop(self, timer: Timer) -> None:
        if timer in self.timers_running:
            self.timers_running.discard(timer)
            self._out.append(_STOP_TIMER[timer])

    def _running(self, timer: Timer) -> bool:
        return timer in self.timers_running

    def _discard_tx(self, *, queue: bool = True, buffer: bool = True) -> None:
        dropped = (len(self.tx_queue) if queue else 0) + (len(self.tx_buffer) if buffer else 0)
        if dropped:
            self.counters["tx.sdu_discarded"] += dropped
        if queue:
            self.tx_queue.clear()
        if buffer:
            self.tx_buffer.clear()
            self.rtx.clear()

    def _discard_rx(self) -> None:
        if self.rx_buffer:
            self.counters["rx.sdu_discarded"] += len(self.rx_buffer)
            self.rx_buffer.clear()

    # ---- connection control actions --------------------------------------------------------------

    def _act_ignore(self) -> None:
        self.counters[f"ignored.{self._pdu.type.name}"] += 1

    def _act_discard_sd(self) -> None:
        self.counters["rx.sd_duplicate"] += 1

    def _act_start_cc(self) -> None:
        self._start(Timer.CC)

    def _act_stop_cc(self) -> None:
        self._stop(Timer.CC)

    def _act_start_no_response(self) -> None:
        self._start(Timer.NO_RESPONSE)

    def _act_set_data_transfer_timers(self) -> None:
        # 8.2 p.77
        self._start(Timer.POLL)
        self._start(Timer.NO_RESPONSE)

    def _act_reset_data_transfer_timers(self) -> None:
        # 8.2 p.77
        for timer in (Timer.KEEP_ALIVE, Timer.NO_RESPONSE, Timer.IDLE, Timer.POLL):
            self._stop(timer)

    def _act_set_poll_timer(self) -> None:
        # 8.2 p.76: KEEP-ALIVE when nothing is queued or outstanding, else POLL.
        if not self.tx_queue and self.vt_s == self.vt_a:
            self._start(Timer.KEEP_ALIVE)
        else:
            self._start(Timer.POLL)

    def _act_vt_cc_1(self) -> None:
        self.vt_cc = 1

    def _act_vt_cc_inc(self) -> None:
        self.vt_cc += 1

    def _act_vt_sq_inc(self) -> None:
        self.vt_sq = (self.vt_sq + 1) % SQ_MODULUS

    def _act_vt_ps_inc(self) -> None:
        self.vt_ps = seq_add(self.vt_ps)

    def _act_vt_pd_0(self) -> None:
        self.vt_pd = 0

    def _act_set_vt_ms(self) -> None:
        self.vt_ms = self._pdu.n_mr

    def _act_init_vr_mr(self) -> None:
        # 8.2 p.77: a new connection, resynchronization or recovery numbers SDs from 0 again
        # (Initialize state variables follows), so the window is rx_window from 0.
        self.vr_mr = self.params.rx_window % SEQ_MODULUS

    def _act_init_state(self) -> None:
        # 8.2 p.75. Numbering restarts at 0: any SD still buffered belongs to the old numbering.
        self.vt_s = self.vt_ps = self.vt_a = 0
        self.vt_pa = 1
        self.vt_pd = 0
        self.credit = True
        self.vr_r = self.vr_h = 0
        self._discard_tx(queue=False, buffer=True)
        self._discard_rx()

    def _act_set_clear_buffers(self) -> None:
        self.clear_buffers = self._request.clear_buffers

    def _act_store_uu_bgn(self) -> None:
        self.saved.bgn = self._request.data

    def _act_store_uu_bgak(self) -> None:
        self.saved.bgak = self._request.data

    def _act_store_uu_bgrej(self) -> None:
        self.saved.bgrej = self._request.data

    def _act_store_uu_end(self) -> None:
        self.saved.end = self._request.data

    def _act_store_uu_rs(self) -> None:
        self.saved.rs = self._request.data

    def _act_send_bgn(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.BGN, n_mr=self.vr_mr, n_sq=self.vt_sq, data=self.saved.bgn))

    def _act_send_bgak(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.BGAK, n_mr=self.vr_mr, data=self.saved.bgak))

    def _act_send_bgak_no_uu(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.BGAK, n_mr=self.vr_mr))

    def _act_send_bgrej(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.BGREJ, data=self.saved.bgrej))

    def _act_send_end_user(self) -> None:
        self.saved.end_s = 0
        self._send(SSCOPPdu._trusted(PduType.END, s=0, data=self.saved.end))

    def _act_send_end_sscop(self) -> None:
        self.saved.end_s = 1
        self.saved.end = b""
        self._send(SSCOPPdu._trusted(PduType.END, s=1))

    def _act_resend_end(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.END, s=self.saved.end_s, data=self.saved.end))

    def _act_send_endak(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.ENDAK))

    def _act_send_rs(self) -> None:
        self.saved.rs_mr, self.saved.rs_sq = self.vr_mr, self.vt_sq
        self._send(SSCOPPdu._trusted(PduType.RS, n_mr=self.vr_mr, n_sq=self.vt_sq, data=self.saved.rs))

    def _act_resend_rs(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.RS, n_mr=self.saved.rs_mr, n_sq=self.saved.rs_sq,
                                     data=self.saved.rs))

    def _act_send_rsak(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.RSAK, n_mr=self.vr_mr))

    def _act_send_er(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.ER, n_mr=self.vr_mr, n_sq=self.vt_sq))

    def _act_send_erak(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.ERAK, n_mr=self.vr_mr))

    def _act_send_poll(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.POLL, n_s=self.vt_s, n_ps=self.vt_ps))

    def _act_send_ud(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.UD, data=self._request.data))

    def _act_send_md(self) -> None:
        self._send(SSCOPPdu._trusted(PduType.MD, data=self._request.data))

    def _act_aa_establish_indication(self) -> None:
        self._indicate(Primitive.AA_ESTABLISH_INDICATION, self._pdu.data)

    def _act_aa_establish_confirm(self) -> None:
        self._indicate(Primitive.AA_ESTABLISH_CONFIRM, self._pdu.data)

    def _act_aa_release_indication_peer(self) -> None:
        pdu = self._pdu
        source = Source.SSCOP if pdu.type is PduType.END and pdu.s == 1 else Source.USER
        self._indicate(Primitive.AA_RELEASE_INDICATION, pdu.data, source=source)

    def _act_aa_release_indication_user(self) -> None:
        self._indicate(Primitive.AA_RELEASE_INDICATION, source=Source.USER)

    def _act_aa_release_indication_sscop(self) -> None:
        self._indicate(Primitive.AA_RELEASE_INDICATION, source=Source.SSCOP)

    def _act_aa_release_confirm(self) -> None:
        self._indicate(Primitive.AA_RELEASE_CONFIRM)

    def _act_aa_resync_indication(self) -> None:
        self._indicate(Primitive.AA_RESYNC_INDICATION, self._pdu.data)

    def _act_aa_resync_confirm(self) -> None:
        pdu = self._pdu
        self._indicate(Primitive.AA_RESYNC_CONFIRM, pdu.data if pdu.type is PduType.RS else b"")

    def _act_aa_recover_indication(self) -> None:
        self._indicate(Primitive.AA_RECOVER_INDICATION)

    def _act_aa_unitdata_indication(self) -> None:
        self._indicate(Primitive.AA_UNITDATA_INDICATION, self._pdu.data)

    def _act_maa_unitdata_indication(self) -> None:
        self._indicate(Primitive.MAA_UNITDATA_INDICATION, self._pdu.data)

    # ---- buffer macros (8.2 pp.75-76) -------------------------------------------------------------

    def _act_clear_transmitter(self) -> None:
        if not self.clear_buffers:
            self._discard_tx()

    def _act_release_buffers(self) -> None:
        self._discard_tx()
        self._discard_rx()

    def _act_prepare_retrieval(self) -> None:
        if self.clear_buffers:
            self._discard_tx()
        self.rtx.clear()
        self._discard_rx()

    def _act_prepare_recovery(self) -> None:
        if self.clear_buffers:
            self._discard_tx()
        self.rtx.clear()

    def _act_deliver_data(self) -> None:
        # With Clear-Buffers = No the SDs received out of sequence are handed up, in N(S) order and
        # with their N(S) (the gaps before them are lost); with Yes they are discarded.
        if self.clear_buffers:
            self._discard_rx()
            return
        for n_s in sorted(self.rx_buffer, key=lambda value: seq_rel(value, self.vr_r)):
            self._indicate(Primitive.AA_DATA_INDICATION, self.rx_buffer[n_s], sn=n_s)
        self.rx_buffer.clear()

    def _act_clear_receive_buffer(self) -> None:
        self._discard_rx()

    def _act_clear_tx_buffer_if_keep(self) -> None:
        if not self.clear_buffers:
            self._discard_tx(queue=False, buffer=True)

    def _act_data_retrieval(self) -> None:
        # 8.2 p.76: the SD PDUs with N(S) > RN still in the transmission buffer (all of them for
        # "total", none for "unknown"), then the SDUs never transmitted.
        rn = self._request.rn
        if rn != RN_UNKNOWN:
            start = self.vt_a if rn == RN_TOTAL else seq_add(int(rn))
            if seq_rel(start, self.vt_a) < seq_rel(self.vt_s, self.vt_a):
                for n_s in seq_range(start, self.vt_s):
                    sent = self.tx_buffer.pop(n_s, None)
                    if sent is not None:
                        self.rtx.discard(n_s)
                        self._indicate(Primitive.AA_RETRIEVE_INDICATION, sent.data)
        while self.tx_queue:
            self._indicate(Primitive.AA_RETRIEVE_INDICATION, self.tx_queue.popleft())
        self._indicate(Primitive.AA_RETRIEVE_COMPLETE_INDICATION)

    def _act_queue_data(self) -> None:
        self.tx_queue.append(self._request.data)

    def _act_queue_data_if_keep(self) -> None:
        if self.clear_buffers:
            self.counters["tx.sdu_discarded"] += 1
        else:
            self.tx_queue.append(self._request.data)

    # ---- receiver (8.2 pp.66-68) ------------------------------------------------------------------

    def _send_ustat(self, first: int, second: int) -> None:
        self._send(SSCOPPdu._trusted(PduType.USTAT, n_r=self.vr_r, n_mr=self.vr_mr, list_=(first, second)))

    def _act_rx_sd_outside_window(self) -> None:
        self.counters["rx.sd_outside_window"] += 1
        if seq_lt(self.vr_h, self.vr_mr, self.vr_r):
            self._send_ustat(self.vr_h, self.vr_mr)
            self.vr_h = self.vr_mr

    def _act_rx_sd_in_sequence(self) -> None:
        pdu = self._input
        at_highest = pdu.n_s == self.vr_h
        self._out.append(Indication(_AA_DATA_INDICATION, pdu.data, pdu.n_s, None))
        self.vr_r = vr_r = (self.vr_r + 1) % SEQ_MODULUS
        if at_highest:
            self.vr_h = vr_r
        else:
            while self.vr_r in self.rx_buffer:
                self._indicate(_AA_DATA_INDICATION, self.rx_buffer.pop(self.vr_r), sn=self.vr_r)
                self.vr_r = seq_add(self.vr_r)
            vr_r = self.vr_r
        # 7.8: the buffer space freed by delivery is granted again; VR(MR) never decreases.
        window = (vr_r + self.params.rx_window) % SEQ_MODULUS
        if (window - vr_r) % SEQ_MODULUS > (self.vr_mr - vr_r) % SEQ_MODULUS:
            self.vr_mr = window

    def _act_rx_sd_at_highest(self) -> None:
        pdu = self._pdu
        self.rx_buffer[pdu.n_s] = pdu.data
        self.vr_h = seq_add(pdu.n_s)

    def _act_rx_sd_beyond_highest(self) -> None:
        pdu = self._pdu
        self.rx_buffer[pdu.n_s] = pdu.data
        self._send_ustat(self.vr_h, pdu.n_s)
        self.vr_h = seq_add(pdu.n_s)

    def _act_rx_sd_fills_gap(self) -> None:
        pdu = self._pdu
        self.rx_buffer[pdu.n_s] = pdu.data

    def _stat_list(self) -> list[int]:
        """Boundaries between missing and received ranges from VR(R) to VR(H): the first element
        starts a missing range (VR(R) is never received), the last is VR(H)."""
        if self.vr_r == self.vr_h:
            return []
        elements = [self.vr_r]
        missing = True
        for n_s in seq_range(seq_add(self.vr_r), self.vr_h):
            received = n_s in self.rx_buffer
            if received == missing:
                elements.append(n_s)
                missing = not missing
        elements.append(self.vr_h)
        return elements

    def _act_rx_poll(self) -> None:
        pdu = self._pdu
        # 8.2 p.67: VR(H) := N(S), but never beyond VR(MR).
        if seq_rel(pdu.n_s, self.vr_r) > seq_rel(self.vr_mr, self.vr_r):
            self.vr_h = self.vr_mr
        else:
            self.vr_h = pdu.n_s
        elements = self._stat_list()
        # 8.2 p.68: a list longer than MaxSTAT is sent in several STATs; each one but the last ends
        # with the start of a missing range, which the next one starts with again.
        size = self.params.max_stat
        start = 0
        while True:
            chunk = elements[start:start + size]
            self._send(SSCOPPdu._trusted(PduType.STAT, n_r=self.vr_r, n_mr=self.vr_mr, n_ps=pdu.n_ps,
                                         list_=tuple(chunk)))
            if start + size >= len(elements):
                break
            start += size - 1

    # ---- transmitter (8.2 pp.63-65, 69-72) --------------------------------------------------------

    def _poll_before(self, poll_sn: int, n_ps: int) -> bool:
        """poll_sn < n_ps, both at most VT(PS)."""
        return seq_rel(self.vt_ps, poll_sn) > seq_rel(self.vt_ps, n_ps)

    def _acknowledge(self, n_r: int) -> None:
        """Release the SDs below N(R) (in-sequence acknowledgement) and set VT(A)."""
        for n_s in seq_range(self.vt_a, n_r):
            self.tx_buffer.pop(n_s, None)
            self.rtx.discard(n_s)
        self.vt_a = n_r

    def _act_rx_ustat(self) -> None:
        pdu = self._pdu
        self._acknowledge(pdu.n_r)
        self.vt_ms = pdu.n_mr
        count = 0
        for n_s in seq_range(*pdu.list_):
            if n_s not in self.rtx:
                self.rtx.add(n_s)
                count += 1
        if count:
            self._maa_error("V", count)

    def _act_rx_stat(self) -> None:
        pdu = self._pdu
        self._acknowledge(pdu.n_r)
        self.vt_pa = pdu.n_ps
        self.vt_ms = pdu.n_mr
        elements = pdu.list_
        if len(elements) > 1:  # a single element bounds no range: nothing to retransmit or release
            count = 0
            for index in range(len(elements) - 1):
                first, second = elements[index], elements[index + 1]
                if index % 2 == 0:
                    # Missing range: retransmit what was sent before the POLL this STAT answers.
                    for n_s in seq_range(first, second):
                        sent = self.tx_buffer[n_s]
                        if self._poll_before(sent.poll_sn, pdu.n_ps) and n_s not in self.rtx:
                            self.rtx.add(n_s)
                            count += 1
                elif self.clear_buffers:
                    # Received range: selectively acknowledged (kept for retrieval if Clear-Buffers
                    # is No, since the peer may still lose it on release).
                    for n_s in seq_range(first, second):
                        self.tx_buffer.pop(n_s, None)
                        self.rtx.discard(n_s)
            if count:
                self._maa_error("V", count)
        # 8.2 p.72: credit.
        if not seq_lt(self.vt_s, self.vt_ms, self.vt_a):
            if self.credit:
                self.credit = False
                self._maa_error("W")
        elif not self.credit:
            self.credit = True
            self._maa_error("X")
        # Timers: active phase goes on; transient phase ends in the idle phase.
        if self._running(Timer.POLL):
            self._start(Timer.NO_RESPONSE)
        elif not self._running(Timer.IDLE):
            self._stop(Timer.KEEP_ALIVE)
            self._stop(Timer.NO_RESPONSE)
            self._start(Timer.IDLE)

    def _send_poll(self) -> None:
        # "A" of 8.2 p.65.
        self.vt_ps = seq_add(self.vt_ps)
        self._act_send_poll()
        self.vt_pd = 0
        self._start(Timer.POLL)

    def _after_sd_sent(self) -> None:
        # "B" of 8.2 p.65: count the SD towards MaxPD and enter the active phase.
        self.vt_pd += 1
        running = self.timers_running
        if _POLL in running:
            if self.vt_pd < self.params.max_pd:
                return
        else:
            if _IDLE in running:
                self._stop(_IDLE)
                self._start(_NO_RESPONSE)
            else:
                self._stop(_KEEP_ALIVE)
            if self.vt_pd < self.params.max_pd:
                self._start(_POLL)
                return
        self._send_poll()

    def _service_transmission(self) -> None:
        """"SD PDU queued up" (8.2 pp.64-65): retransmissions first, then new SDs while the peer's
        window VT(MS) allows; with the window closed in the idle phase, leave it with a POLL."""
        while True:
            if self.rtx:
                n_s = min(self.rtx, key=lambda value: seq_rel(value, self.vt_a))
                self.rtx.discard(n_s)
                sent = self.tx_buffer[n_s]
                self._send(SSCOPPdu._trusted(PduType.SD, n_s=n_s, data=sent.data))
                self.counters["tx.retransmitted"] += 1
                sent.poll_sn = self.vt_ps
                self._after_sd_sent()
            elif self.tx_queue:
                n_s = self.vt_s
                if (n_s - self.vt_a) % SEQ_MODULUS < (self.vt_ms - self.vt_a) % SEQ_MODULUS:  # VT(S) < VT(MS)
                    data = self.tx_queue.popleft()
                    self.counters["tx.SD"] += 1
                    self._out.append(SendPdu(_sd_pdu(_SD, n_s, 0, 0, 0, 0, 0, (), data)))
                    self.tx_buffer[n_s] = _Sent(data, self.vt_ps)
                    self.vt_s = (n_s + 1) % SEQ_MODULUS
                    self._after_sd_sent()
                elif self._running(Timer.IDLE):
                    self._stop(Timer.IDLE)
                    self._start(Timer.NO_RESPONSE)
                    self._send_poll()
                else:
                    return  # window closed: wait for a STAT or USTAT to open it
            else:
                return


def _maa_method(code: str) -> Callable[[SSCOPMachine], None]:
    def emit(machine: SSCOPMachine) -> None:
        machine._maa_error(code)
    emit.__name__ = emit.__qualname__ = f"_act_maa_error_{code.lower()}"
    return emit


for _act in Act:
    if _act.name.startswith("MAA_ERROR_"):
        setattr(SSCOPMachine, f"_act_{_act.name.lower()}", _maa_method(_act.name.removeprefix("MAA_ERROR_")))


def _action_table() -> dict[Act, Callable[[SSCOPMachine], None]]:
    table = {}
    for act in Act:
        method = getattr(SSCOPMachine, f"_act_{act.name.lower()}", None)
        if method is None:  # pragma: no cover - a programming error, caught at import
            raise RuntimeError(f"SSCOP action {act.name} ({act.value}) has no implementation")
        table[act] = method
    return table


#: Act -> implementation; built at import, so a table action without an implementation fails at once.
_ACTIONS = _action_table()

# Lookups of SSCOPMachine.handle, computed once (the enum constructors and f-strings they replace cost
# more than the transition itself).
_PDU_EVENT = {t: Event(t.name) for t in PduType}
_RX_COUNTER = {t: f"rx.{t.name}" for t in PduType}
_RX_DISCARDED = {t: f"rx.discarded.{t.name}" for t in PduType}
_TX_COUNTER = {t: f"tx.{t.name}" for t in PduType}
_REQUEST_EVENT = {p: Event(p.value) for p in Primitive if p.value in Event._value2member_map_}


def _compile(reaction_: Rule | Choice) -> tuple:
    """A table entry ready to run: (rule, its action implementations in order), or for a Choice
    (choice, {outcome: (rule, implementations)})."""
    if isinstance(reaction_, Choice):
        return reaction_, {outcome: (rule, tuple(_ACTIONS[a] for a in rule.actions))
                           for outcome, rule in reaction_.branches}
    return reaction_, tuple(_ACTIONS[a] for a in reaction_.actions)


#: The transition table (``states.TRANSITIONS``) compiled at import: the same rows, with each action
#: already resolved to its implementation.
_COMPILED = {key: _compile(reaction_) for key, reaction_ in TRANSITIONS.items()}
#: Decision -> the method that evaluates it.
_DECIDERS = {decision: getattr(SSCOPMachine, f"_decide_{decision.name.lower()}") for decision in Decision}
#: StopTimer is immutable: one per timer serves every stop.
_STOP_TIMER = {timer: StopTimer(timer) for timer in Timer}
_DATA_TRANSFER_READY = State.DATA_TRANSFER_READY
_AA_DATA_INDICATION = Primitive.AA_DATA_INDICATION
_SD = PduType.SD
_sd_pdu = SSCOPPdu._trusted
_POLL, _IDLE, _NO_RESPONSE, _KEEP_ALIVE = Timer.POLL, Timer.IDLE, Timer.NO_RESPONSE, Timer.KEEP_ALIVE
_STAT, _USTAT = PduType.STAT, PduType.USTAT
