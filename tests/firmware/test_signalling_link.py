"""The SAAL endpoint: SSCOP PDUs <-> octets (the adapter), and two endpoints (SSCF-UNI over SSCOP) talking
Q.2931 over an OC-3c ``hw.link`` as AAL5 cells on VPI 0/VCI 5, on the virtual clock.

What must hold (issue 5): every message is delivered exactly once and in order, or the sender's layer 3
is told the link failed or was recovered after the message was sent; a short outage is bridged by SSCOP's
retransmissions, a long one ends in Timer_NO-RESPONSE; every PDU passes the tap with its slot; the
counters of every layer balance.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.signalling_link import (
    CellPort,
    Direction,
    LinkCause,
    SignallingLink,
    SignallingLinkError,
    SignallingValueError,
    connect,
)
from firmware.sscf import SSCFProtocolError, SSCFState
from firmware.sscop import fastcodec
from firmware.sscop.adapter import CARRIED, FROM_WIRE, TO_WIRE, decode_general, decode_pdu, encode_pdu
from firmware.sscop.errors import SSCOPDecodeError, SSCOPFieldError
from firmware.sscop.events import PduType, SSCOPPdu, Timer
from firmware.sscop.layout import PDUType, SSCOPLimits
from firmware.sscop.pdu import decode_sscop, payload_octets
from firmware.uni import builders as b
from firmware.uni import fastcodec as uni_fast
from firmware.uni.errors import MessageLengthError
from hw.aal5 import segment
from hw.clock import Clock
from hw.link import Impairments, Link

OC3 = 353_208  # cells per second at OC-3c
ROOT_AESA = b.aesa("47000580ffe1000000f21a0001" "0020481a0001" "00")

# ---- the adapter: neutral PDUs <-> octets ----------------------------------------------------------------


def test_type_enumerations_map_one_to_one():
    assert {t.name: int(t) for t in PduType} == {t.name: int(t) for t in PDUType}
    assert all(FROM_WIRE[TO_WIRE[t]] is t and TO_WIRE[t].name == t.name for t in PduType)


def test_machine_and_codec_share_one_type_enumeration():
    from firmware.sscop import events, layout

    assert events.PduType is layout.PDUType
    assert (events.UU_PDUS, events.INFO_PDUS) == (layout.UU_TYPES, layout.INFO_TYPES)
    assert (events.SEQ_MODULUS, events.SQ_MODULUS) == (layout.SEQ_MODULUS, layout.SQ_MODULUS)


_SEQ = st.integers(0, (1 << 24) - 1)
_FIELD = {"n_s": _SEQ, "n_r": _SEQ, "n_mr": _SEQ, "n_ps": _SEQ, "n_sq": st.integers(0, 255), "s": st.integers(0, 1)}
_DATA_TYPES = {PduType.BGN, PduType.BGAK, PduType.END, PduType.RS, PduType.BGREJ, PduType.SD, PduType.UD, PduType.MD}


@st.composite
def neutral_pdus(draw):
    pdu_type = draw(st.sampled_from(list(PduType)))
    fields = {}
    for name in CARRIED[pdu_type]:
        if name == "list_":
            count = 2 if pdu_type is PduType.USTAT else draw(st.integers(0, 67))
            fields[name] = tuple(draw(st.lists(_SEQ, min_size=count, max_size=count)))
        else:
            fields[name] = draw(_FIELD[name])
    data = draw(st.binary(max_size=80)) if pdu_type in _DATA_TYPES else b""
    return SSCOPPdu(pdu_type, data=data, **fields)


@settings(max_examples=200)
@given(neutral_pdus())
def test_neutral_pdus_round_trip_and_agree_with_the_scapy_layers(pdu):
    octets = encode_pdu(pdu)
    assert decode_pdu(octets) == pdu == decode_general(octets)
    layer = decode_sscop(octets)  # the definition of the wire format
    assert layer.pdu_type == int(pdu.type)
    for name in CARRIED[pdu.type]:
        value = getattr(layer, name)
        assert (tuple(value) if name == "list_" else value) == getattr(pdu, name), name
    assert payload_octets(layer) == pdu.data


@st.composite
def octet_strings(draw):
    """Random octets, and valid PDUs with a mutated last word or length (the fast path's edges)."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=40))
    octets = bytearray(encode_pdu(draw(neutral_pdus())))
    choice = draw(st.integers(0, 3))
    if choice == 0:
        octets[-4] = draw(st.integers(0, 255))  # PL, reserved bits, type
    elif choice == 1 and octets:
        del octets[draw(st.integers(0, len(octets) - 1))]
    elif choice == 2:
        octets[-4] = (octets[-4] & 0x30) | 0xC8  # an SD with PL = 3
    return bytes(octets)


@settings(max_examples=300)
@given(octet_strings())
def test_sd_fast_path_decodes_exactly_as_the_general_path(octets):
    limits = SSCOPLimits(k=24, j=24, max_stat=9)  # small limits, so the k check is reached
    try:
        expected = decode_general(octets, offset=3, limits=limits)
    except SSCOPDecodeError as error:
        with pytest.raises(SSCOPDecodeError) as raised:
            decode_pdu(octets, offset=3, limits=limits)
        assert (raised.value.offset, raised.value.field, raised.value.reason) == (error.offset, error.field,
                                                                                  error.reason)
    else:
        assert decode_pdu(octets, offset=3, limits=limits) == expected


def test_encoder_refuses_fields_a_type_does_not_carry():
    with pytest.raises(SSCOPFieldError) as err:
        encode_pdu(SSCOPPdu(PduType.BGN, n_s=4))
    assert err.value.field == "BGN.n_s"
    with pytest.raises(SSCOPFieldError) as err:
        encode_pdu(SSCOPPdu(PduType.SD, n_s=1, n_mr=9, data=b"x"))
    assert err.value.field == "SD.n_mr"
    with pytest.raises(SSCOPFieldError):
        encode_pdu(SSCOPPdu(PduType.POLL, list_=(1, 2)))
    with pytest.raises(SSCOPFieldError):
        encode_pdu(SSCOPPdu(PduType.ENDAK, data=b"uu"))
    with pytest.raises(SSCOPFieldError) as err:
        encode_pdu(SSCOPPdu(PduType.SD, data=bytes(25)), limits=SSCOPLimits(k=24))
    assert err.value.field == "information"
    # the fast path's octets are the codec's (and so scapy's)
    assert encode_pdu(SSCOPPdu(PduType.SD, n_s=0xABCDE, data=b"hello")) == fastcodec.encode(
        PDUType.SD, b"hello", n_s=0xABCDE)


# ---- helpers: two endpoints over an OC-3c link -----------------------------------------------------------


class Pair:
    """Endpoints A (user side) and B (network side) on one clock, over ``link`` as cells; each keeps the
    messages it received, its link state changes (slot, up, cause) and what its tap saw."""

    def __init__(self, impairments: Impairments | None = None, *, seed: int = 1, delay_slots: int = 50,
                 codec: str = "fast", emit_idle: bool = False) -> None:
        self.clock = Clock("OC-3c")
        self.link = Link("OC-3c", impairments=impairments, seed=seed, delay_slots=delay_slots, emit_idle=emit_idle)
        self.received = {"A": [], "B": []}
        self.events = {"A": [], "B": []}
        self.taps = {"A": [], "B": []}
        self.decode_errors = {"A": [], "B": []}
        self.a = self._endpoint("A", "user", codec)
        self.b = self._endpoint("B", "network", codec)
        self.ports = connect(self.link, self.a, self.b)

    def _endpoint(self, name: str, side: str, codec: str) -> SignallingLink:
        return SignallingLink(
            self.clock, name=name, side=side, codec=codec,
            on_message=self.received[name].append,
            on_link_state=lambda up, cause: self.events[name].append((self.clock.now, up, cause)),
            on_decode_error=lambda error, octets: self.decode_errors[name].append((error, octets)),
            tap=lambda direction, octets, slot: self.taps[name].append((direction, octets, slot)))

    def run(self, seconds: float) -> None:
        self.clock.run_for(self.clock.slots(seconds))

    def establish(self, who: str = "A") -> None:
        (self.a if who == "A" else self.b).establish()
        self.run(0.01)
        assert self.a.established and self.b.established

    def check_conservation(self) -> None:
        for part in (self.a, self.b, *self.ports, self.link):
            part.check_conservation()


def _epref(message) -> int:
    """The endpoint reference value of a received message (fast or scapy)."""
    if isinstance(message, uni_fast.FastMessage):
        return message.ie(0x54).fields.ref_value
    from firmware.uni.ies.party import EndpointReferenceIE
    return message.ie(EndpointReferenceIE).ref_value


def _add_party(i: int):
    return b.AddParty(0x123, i, ROOT_AESA[:13] + i.to_bytes(6, "big") + b"\x00", aal=b.aal5())


# ---- establishment ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["A", "B"])
def test_either_side_establishes(first):
    pair = Pair()
    pair.establish(first)
    other = "B" if first == "A" else "A"
    assert [e[1:] for e in pair.events[first]] == [(True, LinkCause.ESTABLISHED)]
    assert [e[1:] for e in pair.events[other]] == [(True, LinkCause.ESTABLISHED_BY_PEER)]
    assert pair.a.state is pair.b.state is SSCFState.DATA_TRANSFER_READY
    pair.check_conservation()


def test_crossing_establishments_both_confirm():
    pair = Pair()
    pair.a.establish()
    pair.b.establish()  # same slot: the BGNs cross (Q.2110 8.2 p.36)
    pair.run(0.01)
    assert [e[1:] for e in pair.events["A"]] == [(True, LinkCause.ESTABLISHED)]
    assert [e[1:] for e in pair.events["B"]] == [(True, LinkCause.ESTABLISHED)]
    assert pair.a.sscop.counters["ignored.BGAK"] == pair.b.sscop.counters["ignored.BGAK"] == 1
    pair.check_conservation()


def test_sscop_timers_run_on_the_clock():
    pair = Pair()
    pair.a.establish()
    pair.run(0.01)
    # A entered data transfer when the BGAK arrived: Timer_POLL 0.75 s and Timer_NO-RESPONSE 7 s later
    # (Q.2110 8.2 p.77), in whole slots rounded up.
    (confirmed, _, _), = pair.events["A"]
    assert pair.a.timers == {Timer.POLL: confirmed + -(-3 * OC3 // 4), Timer.NO_RESPONSE: confirmed + 7 * OC3}
    pair.run(1.0)  # POLL went out, the STAT came back: the idle phase (Timer_IDLE 15 s)
    assert set(pair.a.timers) == {Timer.IDLE} and pair.a.counters["expired.Timer_POLL"] == 1


# ---- messages --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["fast", "scapy"])
def test_messages_both_ways_exactly_once_in_order_and_identical(codec):
    pair = Pair(codec=codec)
    pair.establish()
    sent_a = [_add_party(i) for i in range(1, 61)]
    sent_b = [b.AddPartyAcknowledge(0x123, i) for i in range(1, 61)]
    rng = random.Random(5)
    for ma, mb in zip(sent_a, sent_b):
        pair.a.send_message(ma)
        pair.b.send_message(mb)
        pair.clock.run_for(rng.randint(0, 300))  # back to back at times: several SDs in flight
    pair.run(1.0)
    encode = uni_fast.encode if codec == "fast" else bytes
    assert [encode(m) for m in pair.received["B"]] == [bytes(m) for m in sent_a]
    assert [encode(m) for m in pair.received["A"]] == [bytes(m) for m in sent_b]
    if codec == "scapy":
        assert type(pair.received["B"][0]).__name__ == "AddPartyMessage"
    for ep in (pair.a, pair.b):
        c = ep.counters
        assert c["messages_out"] == c["messages_in"] == c["sd_out"] == c["sd_in"] == 60
        assert c["retransmissions"] == c["decode_failures"] == c["frames_invalid"] == 0
    assert pair.events["A"][1:] == pair.events["B"][1:] == []
    pair.check_conservation()


def test_fast_messages_and_octets_are_sent_as_they_are():
    pair = Pair()
    pair.establish()
    fast = uni_fast.message(0x83, 7, [uni_fast.cause(16), uni_fast.endpoint_reference(9)])
    pair.a.send_message(fast)
    pair.a.send_message(bytes(b.DropPartyAcknowledge(7, 9)))
    pair.run(0.01)
    assert [uni_fast.encode(m) for m in pair.received["B"]] == [uni_fast.encode(fast),
                                                                bytes(b.DropPartyAcknowledge(7, 9))]


def _traffic(pair: Pair, count: int, seed: int) -> dict[str, list[tuple[int, int]]]:
    """Messages from both sides at random times; (endpoint reference, send slot) of each message the
    sender's SAAL took. A side whose link is released re-establishes it."""
    rng = random.Random(seed)
    sent = {"A": [], "B": []}
    for i in range(1, count + 1):
        pair.clock.run_for(rng.randint(1, 3000))
        for name, ep, make in (("A", pair.a, _add_party), ("B", pair.b, lambda i: b.AddPartyAcknowledge(0x123, i))):
            if ep.established:
                ep.send_message(make(i))
                sent[name].append((i, pair.clock.now))
            elif ep.state is SSCFState.IDLE:
                ep.establish()
    pair.run(30.0)  # long enough for every retransmission, and for Timer_NO-RESPONSE if it comes to that
    return sent


def _check_delivery(pair: Pair, sent: dict[str, list[tuple[int, int]]]) -> int:
    """Exactly once, in order, or the sender's layer 3 heard of a link failure or recovery after sending."""
    lost = 0
    for sender, receiver in (("A", "B"), ("B", "A")):
        got = [_epref(m) for m in pair.received[receiver]]
        assert len(got) == len(set(got)), "duplicates"
        assert got == sorted(got), "out of order"
        assert set(got) <= {i for i, _ in sent[sender]}
        delivered = set(got)
        for i, slot in sent[sender]:
            if i not in delivered:
                lost += 1
                assert any(at >= slot for at, _, _ in pair.events[sender]), (
                    f"message {i} from {sender} lost without a link event after slot {slot}")
    return lost


@pytest.mark.parametrize(("loss", "ber"), [(1e-3, 0.0), (1e-2, 0.0), (0.0, 1e-5), (5e-3, 2e-6)])
def test_lossy_link_delivers_exactly_once_in_order_or_reports(loss, ber):
    pair = Pair(Impairments(loss=loss, ber=ber), seed=int(loss * 1e4 + ber * 1e7))
    pair.establish()
    sent = _traffic(pair, 150, seed=7)
    _check_delivery(pair, sent)
    c_a, c_b = pair.a.counters, pair.b.counters
    assert len(sent["A"]) > 100 and len(sent["B"]) > 100
    cells = sum(lane.counters["cells_offered"] for lane in pair.link.lanes)
    if cells * (loss + 424 * ber) > 5:  # enough damage expected: check the link did damage, SSCOP repaired
        damaged = sum(p.counters["aal5_crc_errors"] + p.counters["aal5_length_errors"] for p in pair.ports)
        lost_cells = sum(lane.counters["cells_lost_random"] for lane in pair.link.lanes)
        assert damaged + lost_cells > 0
        assert c_a["retransmissions"] + c_b["retransmissions"] > 0
    if ber:
        assert sum(lane.counters["bits_flipped"] for lane in pair.link.lanes) > 0
    pair.check_conservation()


def test_harsh_link_still_never_duplicates_or_reorders():
    """At 10% cell loss SSCOP may give up; whatever is delivered is still once and in order, and every
    loss was reported to the sender."""
    pair = Pair(Impairments(loss=0.1, ber=1e-5), seed=3)
    pair.establish()
    sent = _traffic(pair, 120, seed=11)
    _check_delivery(pair, sent)
    assert pair.a.counters["maa.V"] + pair.b.counters["maa.V"] > 0  # retransmissions were asked for
    pair.check_conservation()


# ---- release, resynchronization, outages ----------------------------------------------------------------


def test_release():
    pair = Pair()
    pair.establish()
    pair.a.release()
    assert pair.a.state is SSCFState.OUTGOING_DISCONNECTION_PENDING
    pair.run(0.01)
    assert [e[1:] for e in pair.events["A"][1:]] == [(False, LinkCause.RELEASED)]
    assert [e[1:] for e in pair.events["B"][1:]] == [(False, LinkCause.RELEASED_BY_PEER)]
    assert pair.a.state is pair.b.state is SSCFState.IDLE and pair.a.timers == pair.b.timers == {}
    with pytest.raises(SSCFProtocolError):
        pair.a.send_message(_add_party(1))
    assert pair.a.counters["messages_refused"] == 1 and pair.a.counters["messages_out"] == 0
    assert pair.a.counters["link_releases"] == pair.b.counters["link_releases"] == 1
    pair.b.release()  # already released: confirmed at once (Q.2130 9)
    assert pair.events["B"][-1][1:] == (False, LinkCause.RELEASED)
    assert pair.b.counters["link_releases"] == 1
    pair.check_conservation()


def test_reestablishing_an_established_link_resynchronizes():
    pair = Pair()
    pair.establish()
    pair.a.establish()
    assert pair.a.state is SSCFState.OUTGOING_RESYNC_PENDING
    pair.run(0.01)
    assert pair.events["A"][-1][1:] == (True, LinkCause.RESYNCHRONIZED)
    assert pair.events["B"][-1][1:] == (True, LinkCause.RESYNCHRONIZED_BY_PEER)
    pair.b.send_message(b.AddPartyAcknowledge(0x123, 1))
    pair.run(0.01)
    assert [_epref(m) for m in pair.received["A"]] == [1]
    pair.check_conservation()


def test_short_outage_is_bridged_by_retransmission():
    pair = Pair()
    pair.establish()
    for i in range(1, 6):
        pair.a.send_message(_add_party(i))
    pair.run(0.01)
    pair.link.down()
    for i in range(6, 16):
        pair.a.send_message(_add_party(i))
        pair.run(0.01)
    pair.run(2.0)  # < Timer_NO-RESPONSE (7 s): POLLs go unanswered
    assert pair.a.established
    pair.link.up()
    pair.run(2.0)
    assert [_epref(m) for m in pair.received["B"]] == list(range(1, 16))
    assert pair.events["A"][1:] == pair.events["B"][1:] == []
    assert pair.a.counters["retransmissions"] >= 10
    assert pair.link.counters["a->b"]["cells_lost_down"] > 0
    pair.check_conservation()


def test_long_outage_ends_in_timer_no_response_and_recovers_by_reestablishment():
    pair = Pair()
    pair.establish()
    pair.a.send_message(_add_party(1))
    pair.run(1.0)  # delivered and acknowledged
    pair.link.down()
    down_at = pair.clock.now
    for i in range(2, 6):
        pair.a.send_message(_add_party(i))
    pair.run(10.0)
    (at, up, cause), = pair.events["A"][1:]
    assert (up, cause) == (False, LinkCause.NO_RESPONSE)
    # Timer_NO-RESPONSE runs from the last STAT (before the outage), 7 s, so it fires within 7 s of it
    assert down_at < at <= down_at + 7 * OC3
    assert pair.a.counters["maa.P"] == 1 and pair.a.state is SSCFState.IDLE
    assert pair.a.counters["sdus_discarded_tx"] == 4
    assert pair.b.established  # B has heard nothing: its END(S=1) was lost on the dead link
    pair.link.up()
    pair.a.establish()
    pair.run(0.01)
    assert [e[1:] for e in pair.events["B"][1:]] == [(False, LinkCause.PEER_RESTARTED),
                                                      (True, LinkCause.ESTABLISHED_BY_PEER)]
    pair.a.send_message(_add_party(6))
    pair.run(0.01)
    got = [_epref(m) for m in pair.received["B"]]
    assert got == [1, 6]  # 2..5 were lost, and A was told after sending them
    _check_delivery(pair, {"A": [(1, 0), *[(i, down_at) for i in range(2, 6)], (6, pair.clock.now)], "B": []})
    pair.check_conservation()


def _lone_endpoint() -> tuple[SignallingLink, list, list]:
    """An endpoint whose frames go to a list, established by a BGN fed to it (its peer is the test)."""
    clock = Clock("OC-3c")
    frames, events = [], []
    ep = SignallingLink(clock, frame_out=frames.append, on_link_state=lambda up, cause: events.append((up, cause)))
    ep.frame_in(encode_pdu(SSCOPPdu(PduType.BGN, n_mr=128, n_sq=1)))
    assert ep.established and decode_pdu(frames[-1]).type is PduType.BGAK
    assert events == [(True, LinkCause.ESTABLISHED_BY_PEER)]
    return ep, frames, events


@pytest.mark.parametrize(("pdu", "expected", "answer"), [
    (SSCOPPdu(PduType.END, s=0), [(False, LinkCause.RELEASED_BY_PEER)], PduType.ENDAK),
    (SSCOPPdu(PduType.END, s=1), [(False, LinkCause.RELEASED_BY_PEER_SSCOP)], PduType.ENDAK),
    (SSCOPPdu(PduType.ENDAK), [(False, LinkCause.PROTOCOL_ERROR)], None),  # MAA-ERROR F (8.2 p.62)
    (SSCOPPdu(PduType.BGN, n_mr=128, n_sq=2),
     [(False, LinkCause.PEER_RESTARTED), (True, LinkCause.ESTABLISHED_BY_PEER)], PduType.BGAK),
    (SSCOPPdu(PduType.RS, n_mr=128, n_sq=2), [(True, LinkCause.RESYNCHRONIZED_BY_PEER)], PduType.RSAK),
    (SSCOPPdu(PduType.ER, n_mr=128, n_sq=2), [(True, LinkCause.RECOVERED)], PduType.ERAK),
], ids=["END", "END-S", "ENDAK", "BGN", "RS", "ER"])
def test_link_state_causes(pdu, expected, answer):
    ep, frames, events = _lone_endpoint()
    sent = len(frames)
    ep.frame_in(encode_pdu(pdu))
    assert events[1:] == expected
    if answer is not None:
        assert decode_pdu(frames[sent]).type is answer
    if not expected[-1][0]:
        assert ep.state is SSCFState.IDLE and ep.counters["link_releases"] == 1
    ep.check_conservation()


def test_rejected_and_unanswered_establishment():
    clock = Clock("OC-3c")
    events = []
    ep = SignallingLink(clock, frame_out=lambda octets: None, on_link_state=lambda up, cause: events.append(cause))
    ep.establish()
    ep.frame_in(encode_pdu(SSCOPPdu(PduType.BGREJ)))
    assert events == [LinkCause.REJECTED_BY_PEER] and ep.state is SSCFState.IDLE
    ep.establish()
    clock.run_for(clock.slots(10.0))  # MaxCC = 4 BGNs, Timer_CC 1 s apart, unanswered
    assert events[1:] == [LinkCause.NO_ANSWER] and ep.counters["maa.O"] == 1
    assert ep.counters["link_releases"] == 0  # it was never up
    assert ep.counters["frames_out"] == 1 + 4 + 1  # BGN, then 4 BGNs and the END (S = 1), Q.2110 8.2 p.35
    ep.check_conservation()


# ---- tap, errors, counters ------------------------------------------------------------------------------


def test_tap_sees_every_pdu_with_its_slot():
    pair = Pair(delay_slots=40)
    pair.establish()
    for i in range(1, 40):
        pair.a.send_message(_add_party(i))
        pair.b.send_message(b.AddPartyAcknowledge(0x123, i))
        pair.clock.run_for(50)
    pair.run(3.0)  # POLL/STAT, keep-alive
    for me, peer in (("A", "B"), ("B", "A")):
        ep = pair.a if me == "A" else pair.b
        tx = [(octets, slot) for direction, octets, slot in pair.taps[me] if direction is Direction.TX]
        rx = [(octets, slot) for direction, octets, slot in pair.taps[peer] if direction is Direction.RX]
        assert len(tx) == ep.counters["frames_out"] and len(rx) == (pair.b if me == "A" else pair.a).counters[
            "frames_in"]
        assert [o for o, _ in tx] == [o for o, _ in rx]  # a clean link: every frame, in order
        for (_, sent_at), (_, arrived) in zip(tx, rx):
            assert arrived >= sent_at + 40  # the last cell arrives after the propagation delay
        assert [s for _, s in tx] == sorted(s for _, s in tx)
        kinds = {decode_pdu(o).type for o, _ in tx}
        assert {PduType.SD, PduType.POLL, PduType.STAT} <= kinds
    assert {decode_pdu(o).type for d, o, _ in pair.taps["A"] if d is Direction.TX} >= {PduType.BGN}
    pair.check_conservation()


def test_undecodable_message_is_counted_and_reported_with_its_cause():
    pair = Pair()
    pair.establish()
    good = bytes(b.AddPartyAcknowledge(0x123, 1))
    bad = good[:7] + (len(good) - 9 + 2).to_bytes(2, "big") + good[9:]  # message length says 2 more octets
    pair.a.send_message(bad)
    pair.a.send_message(good)
    pair.run(0.01)
    (error, octets), = pair.decode_errors["B"]
    assert isinstance(error, MessageLengthError) and error.cause == 104 and octets == bad
    assert [_epref(m) for m in pair.received["B"]] == [1]
    c = pair.b.counters
    assert c["decode_failures"] == c["decode_failures.cause_104"] == 1 and c["messages_in"] == 1
    assert pair.b.last_decode_error is error
    pair.check_conservation()


def test_invalid_frames_are_counted_not_raised():
    pair = Pair()
    pair.establish()
    pair.b.frame_in(b"\x01\x02\x03\x04\x05")  # not a whole number of 32-bit words (Q.2110 7.2)
    pair.b.frame_in(bytes(8))  # type 0
    c = pair.b.counters
    assert c["frames_invalid"] == 2 and c["frames_invalid.length"] == 1 and c["frames_invalid.PDU type"] == 1
    assert pair.b.last_frame_error.field == "PDU type"
    pair.a.send_message(_add_party(1))
    pair.run(0.01)
    assert len(pair.received["B"]) == 1
    pair.check_conservation()


def test_frames_without_a_carrier_are_counted():
    clock = Clock("OC-3c")
    ep = SignallingLink(clock)
    ep.establish()
    assert ep.counters["frames_unconnected"] == 1 and ep.counters["frames_out"] == 1
    clock.run_for(clock.slots(1.5))  # Timer_CC: BGN again
    assert ep.counters["frames_unconnected"] == 2
    ep.check_conservation()


def test_unitdata_goes_unassured_in_any_state():
    pair = Pair()
    got = []
    pair.b.on_unitdata = got.append
    pair.a.send_unitdata(b"\x09\x03\x00\x00\x00\x75\x80\x00\x00")  # before any establishment
    pair.run(0.01)
    assert got == [b"\x09\x03\x00\x00\x00\x75\x80\x00\x00"]
    assert pair.a.counters["unitdata_out"] == pair.b.counters["unitdata_in"] == 1
    pair.check_conservation()


def test_endpoints_wired_directly_call_each_other_safely():
    """Without cells: frame_out of one is frame_in of the other, so each call runs inside the other's
    callbacks; the two-phase processing keeps both consistent."""
    clock = Clock("OC-3c")
    a = SignallingLink(clock, name="A")
    b_ = SignallingLink(clock, name="B", side="network")
    a.frame_out, b_.frame_out = b_.frame_in, a.frame_in
    got = []
    b_.on_message = lambda m: (got.append(_epref(m)), b_.send_message(b.AddPartyAcknowledge(0x123, _epref(m))))
    echoed = []
    a.on_message = lambda m: echoed.append(_epref(m))
    a.establish()
    assert a.established and b_.established
    for i in range(1, 101):
        a.send_message(_add_party(i))
    clock.run_for(clock.slots(2.0))
    assert got == echoed == list(range(1, 101))
    a.check_conservation()
    b_.check_conservation()


def test_segmentation_is_the_aal5_sar():
    pair = Pair()
    cell_port = pair.ports[0]
    queued = []
    send = cell_port.port.send
    cell_port.port.send = lambda cells, at=None: (queued.append(cells.copy()), send(cells, at))[1]
    rng = np.random.default_rng(3)
    for n in (4, 40, 41, 88, 89, 500, 4100):
        sdu = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        cell_port.send_frame(sdu)
        assert np.array_equal(queued[-1], segment(sdu, 0, 5))


def test_reassembly_timer_discards_a_cut_frame():
    pair = Pair()
    for cell_port in pair.ports:
        cell_port.reassembler.timeout_slots = 1000
    pair.establish()
    now = pair.clock.now
    pair.a.send_message(_add_party(1))  # 2 cells, in slots now and now + 1
    pair.link.advance(now + 1)  # the first cell goes out...
    pair.link.down()
    pair.link.advance(now + 2)  # ...the second is lost
    pair.link.up()
    pair.run(0.01)
    assert pair.ports[1].counters["aal5_timeout_errors"] == 1
    assert pair.ports[1].reassembler.counters["cells_pending"] == 0
    pair.run(1.0)  # the POLL finds the SD missing: SSCOP sends it again
    assert [_epref(m) for m in pair.received["B"]] == [1] and pair.a.counters["retransmissions"] == 1
    pair.check_conservation()


def test_idle_cells_are_set_aside_by_the_receiver():
    pair = Pair(emit_idle=True)
    pair.establish()
    pair.a.send_message(_add_party(1))
    pair.run(0.01)
    assert len(pair.received["B"]) == 1
    assert pair.ports[1].counters["cells_physical_layer"] > 1000
    pair.check_conservation()


def test_typed_errors():
    with pytest.raises(SignallingValueError):
        SignallingLink(Clock())  # no line rate: SSCOP timers cannot be placed
    clock = Clock("OC-3c")
    with pytest.raises(SignallingValueError):
        SignallingLink(clock, side="both")
    with pytest.raises(SignallingValueError):
        SignallingLink(clock, codec="slow")
    pair = Pair()
    pair.establish()
    with pytest.raises(SignallingValueError):
        pair.a.send_message(object())
    with pytest.raises(SignallingValueError):
        pair.a.send_message(bytes(4097))  # longer than k (Q.2110 7.7)
    with pytest.raises(SignallingValueError):
        CellPort(pair.a, "not a port")
    with pytest.raises(SignallingValueError):
        connect(pair.link, pair.a, SignallingLink(Clock("OC-3c")))
    assert pair.a.counters["messages_out"] == 0
    pair.a.check_conservation()


def test_conservation_check_can_fail():
    pair = Pair()
    pair.establish()
    pair.a._c["frames_in"] += 1
    with pytest.raises(SignallingLinkError, match="frames_in"):
        pair.a.check_conservation()
    pair.ports[1].counters["cells_in"] += 1
    with pytest.raises(SignallingLinkError):
        pair.ports[1].check_conservation()


# ---- many round trips ----------------------------------------------------------------------------------------


def test_many_round_trips_in_order():
    """ADD PARTY from A, ADD PARTY ACKNOWLEDGE back from B, over the cell link, one round trip at a time,
    many times over (SSCOP's POLL/STAT cycles run meanwhile). How fast: tools/bench/network.py."""
    pair = Pair()
    pair.establish()
    add_msgs = [uni_fast.decode(bytes(_add_party(i))) for i in range(1, 101)]
    ack = uni_fast.decode(bytes(b.AddPartyAcknowledge(0x123, 1)))
    target = 300
    done: list[int] = []

    def on_ack(message):
        done.append(_epref(message))
        if len(done) < target:
            pair.a.send_message(add_msgs[len(done) % 100])

    pair.a.on_message = on_ack
    seen = []
    pair.b.on_message = lambda m: (seen.append(_epref(m)), pair.b.send_message(ack))
    pair.a.send_message(add_msgs[0])
    while len(done) < target:
        pair.clock.run_for(OC3 // 10)
    assert seen == [1 + (k % 100) for k in range(target)] and done == [1] * target
    assert pair.a.counters["messages_out"] == pair.b.counters["messages_in"] == target
    assert pair.a.counters["sd_out"] == target and pair.a.counters["retransmissions"] == 0
    pair.check_conservation()
