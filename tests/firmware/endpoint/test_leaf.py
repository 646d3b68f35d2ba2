"""Leaf endpoints against a scripted network side (a network-side UniInterface driven by the test):
each behaviour sends what Q.2931/Q.2971 say at the right time; and the data sink counts cells and
frames per VC and catches CRC errors."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from firmware.endpoint import BehaviourError, DataSink, EndpointError, LeafBehaviour, LeafEndpoint, address_key
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


def bed(behaviours, **kw):
    clock = Clock("OC-3c")
    net_end, leaf_end = channel_pair(clock, DELAY)
    net = Net(clock, net_end)
    leaf = LeafEndpoint(clock, leaf_end, behaviours, sink=DataSink(engine="twin"), **kw)
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


def test_a_leaf_forgets_calls_back_in_null_and_keeps_bounded_records() -> None:
    """Issue 9's soak: a leaf runs for ever. Once a call is released (U0) the leaf holds no reference to
    it; its ended parties are records (VC, history, outcome) and only the last ``history`` are kept;
    counters count every offer, refusal and outcome."""
    clock, net, leaf = bed({A: LeafBehaviour.accept()}, history=2)
    calls = []
    for k in range(5):
        call = net.offer(A)
        clock.run_for(1000)
        net.iface.request(call, "setup-complete.request")
        clock.run_for(1000)
        calls.append(weakref.ref(leaf.party(A).ucall))
        net.iface.request(call, "release.request", cause=16)
        clock.run_for(1000)
        assert net.messages()[-1] == "RELEASE_COMPLETE"
    net.offer(B.aesa("39.840f.80.113744.0000.0000.0001.000000000003.00"))     # not ours: refused, 88
    clock.run_for(1000)
    assert not leaf.iface.calls and not leaf.live_parties()
    gc.collect()
    assert all(r() is None for r in calls)                    # no call state left anywhere
    assert len(leaf.ended) == 2 and all(p.ucall is None for p in leaf.ended)
    last = leaf.party(A)
    assert (last.outcome, last.cause, last.connection) == ("released", 16, (0, 40))
    assert last.events()[:3] == ["offered", "answer", "setup-complete.indication"]
    assert [p.serial for p in leaf.parties] == sorted(p.serial for p in leaf.ended)
    assert leaf.counters == {"offered": 5, "released": 5, "refused": 1}
    assert len(leaf.refused) == 1


def test_records_are_bounded_while_the_call_lives() -> None:
    """Parties come and go on one long call: the ended ones beyond ``history`` are freed, the live
    one stays, and ``party`` names what it no longer knows."""
    addresses = [B.aesa(f"39.840f.80.113744.0000.0000.0001.0000000000{k:02d}.00") for k in range(10, 16)]
    clock, net, leaf = bed({a: LeafBehaviour.accept() for a in addresses}, history=3)
    call = net.offer(addresses[0])
    clock.run_for(1000)
    net.iface.request(call, "setup-complete.request")
    clock.run_for(1000)
    records = []
    for a in addresses[1:]:
        step = net.iface.request(call, "add-party.request", content={"called": a})
        clock.run_for(1000)
        records.append(weakref.ref(leaf.party(a)))
        net.iface.request(call, "drop-party.request", epref=step.epref, cause=31)
        clock.run_for(1000)
        assert net.messages()[-1] == "DROP_PARTY_ACK" and leaf.party(a).outcome == "dropped"
    gc.collect()
    assert [r() is None for r in records] == [True, True, False, False, False]
    assert [p.address for p in leaf.parties] == [address_key(a) for a in (addresses[0], *addresses[3:])]
    first = leaf.party(addresses[0])
    assert first.outcome is None and first.active and list(leaf.iface.calls.values()) == [first.ucall]
    with pytest.raises(EndpointError, match="no party"):
        leaf.party(addresses[1])
    assert leaf.counters == {"offered": 6, "dropped": 5}


def test_history_must_be_a_count() -> None:
    with pytest.raises(BehaviourError):
        bed({A: LeafBehaviour.accept()}, history=-1)
