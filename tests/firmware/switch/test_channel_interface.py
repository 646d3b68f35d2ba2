"""The in-memory signalling channel (delay through the virtual clock, strict decoding on delivery) and
the UNI interface around the call machines (call reference flags, timers on the clock, retransmission
of the very same message)."""

from __future__ import annotations

import pytest

from firmware.switch import InterfaceError, channel_pair
from firmware.switch.channel import InMemoryChannel
from firmware.switch.interface import UniInterface
from firmware.uni import MessageIgnored
from firmware.uni import access
from firmware.uni import builders as B
from firmware.uni import fastbuild as F
from hw.clock import Clock

A = B.aesa("39.840f.80.113744.0000.0000.0001.000000000001.00")


class Rec:
    def __init__(self) -> None:
        self.seen: list[tuple[int, str, object]] = []

    def on_indication(self, iface, call, ind, message):
        self.seen.append((iface.clock.now, ind.primitive, ind.cause))

    def on_closed(self, iface, call):
        self.seen.append((iface.clock.now, "closed", call.cref))


@pytest.mark.parametrize("codec", ["fast", "scapy"])
def test_channel_delivers_after_its_delay_in_order_and_decoded(codec: str) -> None:
    clock = Clock("OC-3c")
    a, b = channel_pair(clock, 7, codec=codec)
    got, errors, taps = [], [], []
    b.attach(lambda m: got.append((clock.now, m)), lambda raw, err: errors.append((clock.now, err)))
    a.tap = lambda name, slot, octets: taps.append((slot, octets[5]))
    a.send(B.Setup(1, called=A))                          # a scapy message, a fast one: the same octets
    a.send(F.StatusEnquiry(1))
    clock.run_until(3)
    a.send(b"\x08" * 9)                                   # not Q.2931: the receiver gets the typed error
    assert a.in_flight == 3
    clock.run_until(100)
    assert [(t, access.message_type(m)) for t, m in got] == [(7, 0x05), (7, 0x75)]
    assert all(access.is_fast(m) == (codec == "fast") for _, m in got)
    assert access.called_address(got[0][1]) == A         # decoded from the octets, not the sender's object
    assert [(t, type(e)) for t, e in errors] == [(10, MessageIgnored)]
    assert taps == [(0, 0x05), (0, 0x75), (3, 0x08)]
    assert b.counters == {"delivered": 2, "decode_errors": 1} and a.counters["sent"] == 3 and a.in_flight == 0
    with pytest.raises(InterfaceError):
        InMemoryChannel(clock).send(B.StatusEnquiry(1))   # no peer


def test_call_reference_flags_and_allocation() -> None:
    clock = Clock("OC-3c")
    a, b = channel_pair(clock, 1)
    flags = []
    a.tap = lambda name, slot, octets: flags.append(("user", octets[2] >> 7, octets[5]))
    b.tap = lambda name, slot, octets: flags.append(("network", octets[2] >> 7, octets[5]))
    user = UniInterface(clock, a, "user", listener=Rec())
    net = UniInterface(clock, b, "network", listener=Rec())
    c1, c2 = user.originate(), user.originate()
    assert (c1.cref, c2.cref) == (1, 2) and c1.flag == 0
    user.request(c1, "setup.request", content={"called": A})
    clock.run_for(10)
    n1 = net.calls[(1, False)]                           # the peer's call reference 1
    assert n1.flag == 1
    net.request(n1, "proceeding.request")
    clock.run_for(10)
    # Q.2931 4.3: flag 0 from the side that allocated the call reference, 1 towards it
    assert flags == [("user", 0, 0x05), ("network", 1, 0x02)]
    user.calls.pop(c2.key)                                # (not used)
    assert user.originate().cref == 3                    # round robin, not the lowest free value


def test_timers_run_on_the_clock_and_retransmit_the_same_octets() -> None:
    clock = Clock("OC-3c")
    a, b = channel_pair(clock, 1)
    sent = []
    a.tap = lambda name, slot, octets: sent.append((slot, bytes(octets)))
    rec = Rec()
    user = UniInterface(clock, a, "user", listener=rec)
    b.attach(lambda m: None, None)                        # a network that never answers
    call = user.originate()
    user.request(call, "setup.request", content={"called": A})
    clock.run_until(clock.slots(20.0))
    t303 = clock.slots(4.0)
    assert [t for t, _ in sent] == [0, t303]              # SETUP, again on T303's first expiry
    assert sent[0][1] == sent[1][1]
    assert rec.seen == [(2 * t303, "release.confirm", 102), (2 * t303, "closed", 1)]   # Q.2931 5.1.1
    assert user.counters.timers_expired == {"T303": 2} and not user.calls and clock.pending == 0


def test_request_on_a_closed_call_is_a_typed_error() -> None:
    clock = Clock("OC-3c")
    a, b = channel_pair(clock, 1)
    user = UniInterface(clock, a, "user")
    net = UniInterface(clock, b, "network")
    call = user.originate()
    user.request(call, "setup.request", content={"called": A})
    user.request(call, "release.request")
    clock.run_for(100)
    net.request(net.calls[(1, False)], "release.response")
    clock.run_for(100)
    assert call.closed and not net.calls
    with pytest.raises(InterfaceError):
        user.request(call, "release.request")
    fresh = user.originate()
    with pytest.raises(InterfaceError):
        user.request(fresh, "setup.request")                # a SETUP needs its called party number
    assert fresh.state == "U0" and user.counters.messages_out["SETUP"] == 1
