"""Leaf endpoints against a scripted network side (a network-side UniInterface driven by the test):
each behaviour sends what Q.2931/Q.2971 say at the right time; and the data sink counts cells and
frames per VC and catches CRC errors."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.endpoint import BehaviourError, DataSink, LeafBehaviour, LeafEndpoint, address_key
from firmware.switch import channel_pair
from firmware.switch.interface import UniInterface, message_event
from firmware.uni import builders as B
from hw.aal5 import segment
from hw.clock import Clock

A = B.aesa("39.840f.80.113744.0000.0000.0001.000000000001.00")
A2 = B.aesa("39.840f.80.113744.0000.0000.0001.000000000002.00")
DELAY = 50


class Net:
    """The network side of the leaf's UNI, scripted: records what the leaf sent and when."""

    def __init__(self, clock: Clock, channel) -> None:
        self.clock = clock
        self.got: list[tuple[int, str, int | None, int | None]] = []   # (slot, message, epref, cause)
        self.iface = UniInterface(clock, channel, "network", listener=self, name="net")
        original = self.iface.receive

        def receive(message):
            name, epref, params = message_event(message)
            self.got.append((clock.now, name, epref, params.get("cause")))
            original(message)
        channel.on_message = receive

    def on_indication(self, iface, call, ind, message):
        pass

    def on_closed(self, iface, call):
        pass

    def offer(self, called=A):
        call = self.iface.originate(multipoint=True)
        self.iface.request(call, "setup.request", epref=0,
                           content={"called": called, "connection_id": B.connection_identifier(0, 40)})
        return call

    def messages(self) -> list[str]:
        return [m for _, m, _, _ in self.got]


def bed(behaviours):
    clock = Clock("OC-3c")
    net_end, leaf_end = channel_pair(clock, DELAY)
    net = Net(clock, net_end)
    leaf = LeafEndpoint(clock, leaf_end, behaviours, sink=DataSink(engine="twin"))
    return clock, net, leaf


def test_accept_then_leave_by_itself() -> None:
    clock, net, leaf = bed({A: LeafBehaviour.accept(drop_after=1.0, drop_cause=31)})
    call = net.offer()
    clock.run_for(1000)
    assert net.messages() == ["CONNECT"] and call.state == "N8"
    net.iface.request(call, "setup-complete.request")
    clock.run_for(1000)
    party = leaf.party(A)
    assert party.active and party.connection == (0, 40) and party.epref == 0
    active_at = next(t for t, e, _ in party.history if e == "active")
    clock.run_for(clock.slots(1.0) + 1000)
    release = [x for x in net.got if x[1] == "RELEASE"]
    assert release and release[0][0] == active_at + clock.slots(1.0) + DELAY and release[0][3] == 31
    assert party.outcome == "left" and party.cause == 31
    net.iface.request(call, "release.response")
    clock.run_for(1000)
    assert not leaf.iface.calls and not net.iface.calls


def test_alert_then_accept_after_alert_for() -> None:
    clock, net, leaf = bed({A: LeafBehaviour.alert(0.5)})
    net.offer()
    clock.run_for(clock.slots(1.0))
    (t1, m1, e1, _), (t2, m2, _, _) = net.got
    assert (m1, m2) == ("ALERTING", "CONNECT") and e1 == 0
    assert t2 - t1 == clock.slots(0.5)


def test_reject_silent_and_unknown_address() -> None:
    clock, net, leaf = bed({A: LeafBehaviour.reject(17), A2: LeafBehaviour.silent()})
    net.offer(A)
    net.offer(A2)
    net.offer(B.aesa("39.840f.80.113744.0000.0000.0001.000000000003.00"))
    clock.run_for(1000)
    assert [(m, c) for _, m, _, c in net.got] == [("RELEASE_COMPLETE", 17), ("RELEASE_COMPLETE", 88)]
    assert leaf.party(A).outcome == "rejected" and leaf.party(A2).outcome is None
    assert leaf.refused and [c.state for c in leaf.iface.calls.values()] == ["U6"]   # the silent one


def test_parties_added_on_the_same_call() -> None:
    clock, net, leaf = bed({A: LeafBehaviour.accept(), A2: LeafBehaviour.accept(drop_after=0.1)})
    call = net.offer(A)
    clock.run_for(1000)
    net.iface.request(call, "setup-complete.request")
    step = net.iface.request(call, "add-party.request", content={"called": A2})
    clock.run_for(1000)
    assert ("ADD_PARTY_ACK", step.epref) in [(m, e) for _, m, e, _ in net.got]
    clock.run_for(clock.slots(0.2))
    # A2 leaves while A stays: DROP PARTY, not RELEASE (Q.2971)
    assert [(m, e, c) for _, m, e, c in net.got][-1] == ("DROP_PARTY", step.epref, 16)
    assert leaf.party(A2).outcome == "left" and leaf.party(A).outcome is None
    # the network drops A: the leaf acknowledges; then the network releases the call
    step3 = net.iface.request(call, "add-party.request", content={"called": B.aesa("39.840f.80.113744.0000.0000"
                                                                                  ".0001.000000000009.00")})
    clock.run_for(1000)
    assert ("ADD_PARTY_REJECT", step3.epref, 88) in [(m, e, c) for _, m, e, c in net.got]
    net.iface.request(call, "release.request", cause=16)
    clock.run_for(1000)
    assert net.messages()[-1] == "RELEASE_COMPLETE" and leaf.party(A).outcome == "released"
    assert not leaf.iface.calls and not net.iface.calls


def test_network_drop_party_is_acknowledged() -> None:
    clock, net, leaf = bed({A: LeafBehaviour.accept(), A2: LeafBehaviour.alert(5.0)})
    call = net.offer(A)
    clock.run_for(1000)
    net.iface.request(call, "setup-complete.request")
    step = net.iface.request(call, "add-party.request", content={"called": A2})
    clock.run_for(1000)
    assert net.messages()[-1] == "PARTY_ALERTING"
    net.iface.request(call, "drop-party.request", epref=step.epref, cause=31)
    clock.run_for(1000)
    assert net.messages()[-1] == "DROP_PARTY_ACK" and leaf.party(A2).outcome == "dropped"
    clock.run_for(clock.slots(6.0))
    assert net.messages()[-1] == "DROP_PARTY_ACK"            # the alerting party's answer never went out


def test_behaviour_checks() -> None:
    with pytest.raises(BehaviourError):
        LeafBehaviour("maybe")
    with pytest.raises(BehaviourError):
        LeafBehaviour.reject(0)
    with pytest.raises(BehaviourError):
        LeafBehaviour.alert(-1.0)
    with pytest.raises(BehaviourError):
        LeafBehaviour(kind="silent", drop_after=1.0)
    assert address_key(A) == address_key(A.hex()) == address_key(B.called_party_number(A))
    assert address_key("1555") == address_key("+1555") == address_key(B.called_party_number("1555"))


@pytest.mark.parametrize("engine", ["twin", "kernel"])
def test_sink_counts_cells_and_frames_per_vc_and_checks_the_crc(engine: str) -> None:
    sink = DataSink(engine=engine)
    f1, f2, f3 = b"a" * 100, b"b" * 10, b"c" * 500
    bad = segment(f3, 0, 41).copy()
    bad[3, 30] ^= 0x80
    cells = np.concatenate([segment(f1, 0, 40), segment(f2, 1, 40), bad, segment(f1, 0, 40)])
    sink.feed(cells, np.arange(len(cells)))
    assert sink.cells == {(0, 40): 6, (1, 40): 1, (0, 41): 11}
    assert sink.frames == {(0, 40): 2, (1, 40): 1}
    assert sink.sdus(0, 40) == [f1, f1] and sink.sdus(1, 40) == [f2] and sink.sdus(0, 41) == []
    assert sink.errors == {((0, 41), "crc"): 1} and sink.crc_errors == 1
    sink.check_conservation()
