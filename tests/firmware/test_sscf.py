"""SSCF-UNI (Q.2130): the table row by row, its illegal pairs, and its composition with SSCOP (Q.2110).

The expected reactions below are written from Q.2130 clause 9 (and the layer 3 boundary of 7.2), not
read from the table under test; the composition property runs SSCF over the real SSCOP machine with a
lossy channel and random layer 3 requests and timer expiries, and checks that SSCOP never gives SSCF
a signal the table calls impossible and that the two always agree on the state.
"""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sscf import (
    EVENTS,
    ILLEGAL,
    LAYER3_REQUESTS,
    SSCOP_SIGNALS,
    TRANSITIONS,
    UNI_SSCOP_PARAMS,
    AalPrimitive,
    AalSignal,
    SSCF,
    SSCFProtocolError,
    SSCFState,
    SSCFValueError,
    to_dot,
)
from firmware.sscop.events import Indication, Primitive, SendPdu, Source, TimerExpiry, UserRequest
from firmware.sscop.machine import SSCOPMachine
from firmware.sscop.states import State as SSCOPState
from hw.errors import AtmemuError

S = SSCFState
L = AalPrimitive
P = Primitive

# (state, event) -> (outputs as (kind, primitive) in order, next state). "sscop" outputs are
# UserRequests to SSCOP, "l3" outputs AalSignals to layer 3.
EXPECTED = {
    (S.IDLE, L.ESTABLISH_REQUEST): ([("sscop", P.AA_ESTABLISH_REQUEST)], S.OUTGOING_CONNECTION_PENDING),
    (S.IDLE, L.RELEASE_REQUEST): ([("l3", L.RELEASE_CONFIRM)], S.IDLE),
    (S.IDLE, P.AA_ESTABLISH_INDICATION): (
        [("sscop", P.AA_ESTABLISH_RESPONSE), ("l3", L.ESTABLISH_INDICATION)], S.DATA_TRANSFER_READY),
    (S.OUTGOING_CONNECTION_PENDING, P.AA_ESTABLISH_CONFIRM): ([("l3", L.ESTABLISH_CONFIRM)], S.DATA_TRANSFER_READY),
    (S.OUTGOING_CONNECTION_PENDING, P.AA_RELEASE_INDICATION): ([("l3", L.RELEASE_INDICATION)], S.IDLE),
    (S.OUTGOING_CONNECTION_PENDING, L.RELEASE_REQUEST): (
        [("sscop", P.AA_RELEASE_REQUEST)], S.OUTGOING_DISCONNECTION_PENDING),
    (S.OUTGOING_CONNECTION_PENDING, L.ESTABLISH_REQUEST): ([], S.OUTGOING_CONNECTION_PENDING),
    (S.OUTGOING_RESYNC_PENDING, P.AA_RESYNC_CONFIRM): ([("l3", L.ESTABLISH_CONFIRM)], S.DATA_TRANSFER_READY),
    (S.OUTGOING_RESYNC_PENDING, P.AA_RELEASE_INDICATION): ([("l3", L.RELEASE_INDICATION)], S.IDLE),
    (S.OUTGOING_RESYNC_PENDING, L.RELEASE_REQUEST): (
        [("sscop", P.AA_RELEASE_REQUEST)], S.OUTGOING_DISCONNECTION_PENDING),
    (S.OUTGOING_RESYNC_PENDING, L.ESTABLISH_REQUEST): ([], S.OUTGOING_RESYNC_PENDING),
    (S.OUTGOING_DISCONNECTION_PENDING, P.AA_RELEASE_CONFIRM): ([("l3", L.RELEASE_CONFIRM)], S.IDLE),
    (S.OUTGOING_DISCONNECTION_PENDING, L.ESTABLISH_REQUEST): (
        [("sscop", P.AA_ESTABLISH_REQUEST)], S.OUTGOING_CONNECTION_PENDING),
    (S.OUTGOING_DISCONNECTION_PENDING, L.RELEASE_REQUEST): ([], S.OUTGOING_DISCONNECTION_PENDING),
    (S.DATA_TRANSFER_READY, L.DATA_REQUEST): ([("sscop", P.AA_DATA_REQUEST)], S.DATA_TRANSFER_READY),
    (S.DATA_TRANSFER_READY, P.AA_DATA_INDICATION): ([("l3", L.DATA_INDICATION)], S.DATA_TRANSFER_READY),
    (S.DATA_TRANSFER_READY, L.ESTABLISH_REQUEST): ([("sscop", P.AA_RESYNC_REQUEST)], S.OUTGOING_RESYNC_PENDING),
    (S.DATA_TRANSFER_READY, L.RELEASE_REQUEST): ([("sscop", P.AA_RELEASE_REQUEST)], S.OUTGOING_DISCONNECTION_PENDING),
    (S.DATA_TRANSFER_READY, P.AA_RELEASE_INDICATION): ([("l3", L.RELEASE_INDICATION)], S.IDLE),
    (S.DATA_TRANSFER_READY, P.AA_RESYNC_INDICATION): (
        [("sscop", P.AA_RESYNC_RESPONSE), ("l3", L.ESTABLISH_INDICATION)], S.DATA_TRANSFER_READY),
    (S.DATA_TRANSFER_READY, P.AA_RECOVER_INDICATION): (
        [("sscop", P.AA_RECOVER_RESPONSE), ("l3", L.ESTABLISH_INDICATION)], S.DATA_TRANSFER_READY),
}
# Unassured data in every state (Q.2130 8.3).
for _state in SSCFState:
    EXPECTED[_state, L.UNITDATA_REQUEST] = ([("sscop", P.AA_UNITDATA_REQUEST)], _state)
    EXPECTED[_state, P.AA_UNITDATA_INDICATION] = ([("l3", L.UNITDATA_INDICATION)], _state)


def _machine(state: SSCFState) -> SSCF:
    sscf = SSCF()
    sscf.state = state
    return sscf


def _kind(output) -> tuple[str, object]:
    if isinstance(output, UserRequest):
        return "sscop", output.primitive
    assert isinstance(output, AalSignal)
    return "l3", output.primitive


# ---- the table ---------------------------------------------------------------------------------


def test_every_pair_is_a_rule_or_illegal_and_every_rule_cites_q2130():
    for state in SSCFState:
        for event in EVENTS:
            assert ((state, event) in TRANSITIONS) != ((state, event) in ILLEGAL), (state, event)
    for rule in TRANSITIONS.values():
        assert rule.clause.startswith("Q.2130"), rule
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize(("state", "event"), sorted(EXPECTED, key=lambda k: (k[0].value, k[1].value)),
                         ids=lambda x: x.value)
def test_rule(state, event):
    outputs, next_state = EXPECTED[state, event]
    sscf = _machine(state)
    data = b"\x09\x03\x00\x00\x01\x05\x80\x00\x00" if event in (L.DATA_REQUEST, L.UNITDATA_REQUEST,
                                                                 P.AA_DATA_INDICATION,
                                                                 P.AA_UNITDATA_INDICATION) else b""
    result = sscf.handle(event, data, Source.USER if event is P.AA_RELEASE_INDICATION else None)
    assert [_kind(o) for o in result] == outputs
    assert sscf.state is next_state
    for output in result:
        if isinstance(output, UserRequest):
            # Q.2130 8.2: SSCOP-UU null, BR = Yes; the MU passed as is.
            assert output.clear_buffers is True
            assert output.data == (data if output.primitive in (P.AA_DATA_REQUEST, P.AA_UNITDATA_REQUEST) else b"")
            # the fast construction equals the checked one
            assert output == UserRequest(output.primitive, output.data)
        elif output.primitive in (L.DATA_INDICATION, L.UNITDATA_INDICATION):
            assert output.data == data
        else:
            assert output.data == b""  # no parameters at the UNI (Q.2130 7.1)
    if not outputs:
        assert sscf.counters[f"ignored.{event.value}"] == 1


def test_release_indication_keeps_the_source_for_diagnostics():
    sscf = _machine(S.DATA_TRANSFER_READY)
    (signal,) = sscf.from_sscop(Indication(P.AA_RELEASE_INDICATION, b"", source=Source.SSCOP))
    assert signal == AalSignal(L.RELEASE_INDICATION, b"", Source.SSCOP)


def test_uu_from_the_peer_is_not_passed_up_but_counted():
    sscf = _machine(S.IDLE)
    outputs = sscf.from_sscop(Indication(P.AA_ESTABLISH_INDICATION, b"peer uu"))
    assert [o.data for o in outputs] == [b"", b""]
    assert sscf.counters["uu_ignored"] == 1


@pytest.mark.parametrize(("state", "event"), sorted(ILLEGAL, key=lambda k: (k[0].value, k[1].value)),
                         ids=lambda x: x.value)
def test_illegal_pair_raises_and_leaves_the_state(state, event):
    sscf = _machine(state)
    with pytest.raises(SSCFProtocolError) as err:
        sscf.handle(event, b"x")
    assert isinstance(err.value, AtmemuError)
    assert err.value.state is state and err.value.event is event and err.value.reason == ILLEGAL[state, event]
    assert sscf.state is state and not sscf.counters


def test_data_only_when_established():
    sscf = SSCF()
    with pytest.raises(SSCFProtocolError, match="4/10 only"):
        sscf.request("AAL-DATA.request", b"msg")
    assert sscf.state is S.IDLE


def test_requests_are_checked():
    sscf = SSCF()
    with pytest.raises(SSCFValueError):
        sscf.request("AA-DATA.request", b"")  # an SSCOP signal name, not a layer 3 primitive
    with pytest.raises(SSCFProtocolError):
        sscf.request(L.DATA_INDICATION)
    with pytest.raises(SSCFValueError):
        sscf.from_sscop(UserRequest(P.AA_DATA_REQUEST))  # type: ignore[arg-type]


def test_states_and_their_numbers():
    # Q.2130: "SSCF state / SSCOP state"; the layer 3 boundary states 1..4 of 7.2.
    assert [(s.sscf, int(s.sscop)) for s in SSCFState] == [(1, 1), (2, 2), (2, 5), (3, 4), (4, 10)]
    dot = to_dot(include_self_loops=True)
    assert all(f'"{s.value}"' in dot for s in SSCFState) and "AAL-DATA.request" in dot
    assert set(LAYER3_REQUESTS) | set(SSCOP_SIGNALS) == set(EVENTS)


def test_uni_sscop_parameters():
    # Q.2130 clause 11 as ngatm sets them.
    p = UNI_SSCOP_PARAMS
    assert (p.timer_cc, p.timer_poll, p.timer_no_response, p.timer_keep_alive, p.timer_idle) == (1.0, 0.75, 7.0,
                                                                                                  2.0, 15.0)
    assert (p.max_cc, p.max_pd, p.max_stat, p.max_k, p.max_j) == (4, 25, 67, 4096, 4096)


# ---- SSCF over SSCOP ------------------------------------------------------------------------------


class Stack:
    """SSCF-UNI over an SSCOP machine, run as the SDL runs them: SSCF's answers to SSCOP are queued
    behind SSCOP's current outputs. ``visited`` collects the (state, event) pairs SSCF went through."""

    def __init__(self, name: str, visited: set | None = None) -> None:
        self.sscf = SSCF(name=name)
        self.sscop = SSCOPMachine(UNI_SSCOP_PARAMS, name=name)
        self.wire: deque = deque()  # PDUs sent towards the peer
        self.layer3: list[AalSignal] = []
        self.visited = visited if visited is not None else set()

    def _sscf(self, event, data=b"", source=None) -> list:
        state = self.sscf.state
        outputs = self.sscf.handle(event, data, source)  # SSCFProtocolError here = composition error
        self.visited.add((state, event))
        return outputs

    def feed(self, item) -> None:
        queue = deque([item])
        while queue:
            for out in self.sscop.handle(queue.popleft()):
                if isinstance(out, SendPdu):
                    self.wire.append(out.pdu)
                elif isinstance(out, Indication) and out.primitive is not P.MAA_UNITDATA_INDICATION:
                    for answer in self._sscf(out.primitive, out.data, out.source):
                        if isinstance(answer, UserRequest):
                            queue.append(answer)
                        else:
                            self.layer3.append(answer)

    def request(self, primitive: AalPrimitive, data: bytes = b"") -> None:
        for out in self._sscf(primitive, data):
            if isinstance(out, UserRequest):
                self.feed(out)
            else:
                self.layer3.append(out)

    def consistent(self) -> bool:
        if self.sscf.state.sscop is self.sscop.state:
            return True
        # SSCOP recovers on its own (state 7) while SSCF stays in 4/10 (Q.2130 9).
        return self.sscf.state is S.DATA_TRANSFER_READY and self.sscop.state is SSCOPState.OUTGOING_RECOVERY_PENDING


#: Random walk actions, weighted by repetition: delivering is the common case.
ACTIONS = ("establish", "release", "data", "data", "data", "unitdata", "deliver", "deliver", "deliver", "deliver",
           "flush", "flush", "drop", "timer", "timer", "reorder")


def _walk(steps, visited: set) -> None:
    """Run two stacks through ``steps`` of (action, side, pick); assert after each step that SSCOP
    and SSCF agree on the state and that SSCOP gave SSCF no impossible signal."""
    stacks = (Stack("a", visited), Stack("b", visited))
    for action, side, pick in steps:
        me, peer = stacks[side], stacks[1 - side]
        if action == "establish":
            me.request(L.ESTABLISH_REQUEST)
        elif action == "release":
            me.request(L.RELEASE_REQUEST)
        elif action == "data":
            before = me.sscf.state
            if me.sscf.established:
                me.request(L.DATA_REQUEST, bytes([pick]) * 12)
            else:
                with pytest.raises(SSCFProtocolError):
                    me.request(L.DATA_REQUEST, b"x")
                assert me.sscf.state is before
        elif action == "unitdata":
            me.request(L.UNITDATA_REQUEST, b"u")
        elif action == "deliver" and me.wire:
            peer.feed(me.wire.popleft())
        elif action == "flush":
            while me.wire or peer.wire:
                if me.wire:
                    peer.feed(me.wire.popleft())
                if peer.wire:
                    me.feed(peer.wire.popleft())
        elif action == "drop" and me.wire:
            me.wire.popleft()
        elif action == "reorder" and len(me.wire) > 1:
            # an older PDU overtaken by a newer one: SSCOP detects it (N(S) errors) and recovers
            me.wire.rotate(-1)
        elif action == "timer" and me.sscop.timers_running:
            timers = sorted(me.sscop.timers_running, key=lambda t: t.value)
            me.feed(TimerExpiry(timers[pick % len(timers)]))
        assert me.consistent() and peer.consistent(), (me.sscf, me.sscop, peer.sscf, peer.sscop)
        for signal in me.layer3 + peer.layer3:
            assert signal.primitive not in LAYER3_REQUESTS


STEP = st.tuples(st.sampled_from(ACTIONS), st.integers(0, 1), st.integers(0, 7))


@settings(max_examples=200, derandomize=True)
@given(st.lists(STEP, max_size=120))
def test_sscf_over_sscop_never_meets_an_impossible_signal(steps):
    _walk(steps, set())


def test_random_walks_reach_every_rule():
    """Seeded random walks of SSCF over SSCOP go through every row of the table: each is reachable
    from a real SSCOP, and none of them raised on the way."""
    import random

    visited: set = set()
    for seed in range(60):
        rng = random.Random(seed)
        _walk([(rng.choice(ACTIONS), rng.randrange(2), rng.randrange(8)) for _ in range(400)], visited)
    assert set(TRANSITIONS) - visited == set()


def test_establish_data_release_between_two_stacks():
    a, b = Stack("a"), Stack("b")

    def flush():
        while a.wire or b.wire:
            if a.wire:
                b.feed(a.wire.popleft())
            if b.wire:
                a.feed(b.wire.popleft())

    a.request(L.ESTABLISH_REQUEST)
    flush()
    assert a.sscf.state is b.sscf.state is S.DATA_TRANSFER_READY
    assert [s.primitive for s in a.layer3] == [L.ESTABLISH_CONFIRM]
    assert [s.primitive for s in b.layer3] == [L.ESTABLISH_INDICATION]
    for i in range(5):
        a.request(L.DATA_REQUEST, bytes([i]) * 9)
    flush()
    assert [s.data for s in b.layer3[1:]] == [bytes([i]) * 9 for i in range(5)]
    # re-establishing an established link resynchronizes it (Q.2130 9: AA-RESYNC)
    b.request(L.ESTABLISH_REQUEST)
    assert b.sscf.state is S.OUTGOING_RESYNC_PENDING
    flush()
    assert b.layer3[-1].primitive is L.ESTABLISH_CONFIRM and a.layer3[-1].primitive is L.ESTABLISH_INDICATION
    a.request(L.RELEASE_REQUEST)
    flush()
    assert a.sscf.state is b.sscf.state is S.IDLE
    assert a.layer3[-1].primitive is L.RELEASE_CONFIRM and b.layer3[-1].primitive is L.RELEASE_INDICATION
