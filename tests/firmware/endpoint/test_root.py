"""The root endpoint against a scripted network side: what its SETUP carries (Q.2971), the connection
identifier it learns, its answers to the network's DROP PARTY and RELEASE, its own T399, and its
refusals of what its call state does not allow."""

from __future__ import annotations

import pytest

from firmware.endpoint import EndpointError, RootEndpoint
from firmware.switch import channel_pair
from firmware.switch.interface import UniInterface, message_event
from firmware.uni import builders as B
from firmware.uni import access
from firmware.uni.constants import IEId
from firmware.uni.machines import Timers
from hw.clock import Clock

ME = B.aesa("39.840f.80.113744.0000.0000.0000.000000000001.00")
A = B.aesa("39.840f.80.113744.0000.0000.0001.000000000001.00")
A2 = B.aesa("39.840f.80.113744.0000.0000.0002.000000000001.00")


class Net:
    def __init__(self, clock, channel):
        self.got = []
        self.calls = []
        self.iface = UniInterface(clock, channel, "network", listener=self, name="net")

    def on_indication(self, iface, call, ind, message):
        self.got.append((ind.primitive, ind.instance, message))
        if ind.primitive == "setup.indication":
            self.calls.append(call)

    def on_closed(self, iface, call):
        pass


def bed(**kw):
    clock = Clock("OC-3c")
    a, b = channel_pair(clock, 20)
    net = Net(clock, a)
    root = RootEndpoint(clock, b, address=ME, **kw)
    return clock, net, root


def test_setup_is_point_to_multipoint_with_endpoint_reference_0() -> None:
    clock, net, root = bed()
    call = root.setup(A)
    clock.run_for(100)
    prim, _, setup = net.got[0]
    assert prim == "setup.indication"
    assert access.multipoint(setup)
    epref = access.element(setup, IEId.ENDPOINT_REFERENCE)
    assert access.endpoint_reference(setup) == 0 and access.field(epref, "ref_flag") == 0
    assert access.field(access.element(setup, IEId.CALLING_PARTY_NUMBER), "address") == ME
    assert call.state == "U1"
    with pytest.raises(EndpointError):
        call.add_party(A2)                                  # not before the call is active (U1)
    with pytest.raises(EndpointError):
        call.cells(b"x")                                    # no connection identifier yet
    ncall = net.calls[0]
    net.iface.request(ncall, "proceeding.request", content={"connection_id": B.connection_identifier(0, 77)})
    net.iface.request(ncall, "setup.response")
    clock.run_for(100)
    assert call.state == "U10" and call.connection == (0, 77)
    cells = call.cells(b"hello" * 20)
    assert cells.shape == (3, 53) and cells[0, 2] == (77 >> 4)


def test_parties_answers_and_outcomes() -> None:
    clock, net, root = bed()
    call = root.setup(A)
    clock.run_for(100)
    ncall = net.calls[0]
    net.iface.request(ncall, "setup.response")
    clock.run_for(100)
    e1, e2 = call.add_party(A2), call.add_party(A2)
    assert (e1, e2) == (1, 2)
    clock.run_for(100)
    adds = [(p, i, message_event(m)[1]) for p, i, m in net.got if p == "add-party.indication"]
    assert adds == [("add-party.indication", 1, 1), ("add-party.indication", 2, 2)]
    net.iface.request(ncall, "add-party-ack.request", epref=1)
    net.iface.request(ncall, "add-party-reject.request", epref=2, cause=17)
    clock.run_for(100)
    assert (call.parties[1].connected, call.parties[2].outcome, call.parties[2].cause) == (True, "rejected", 17)
    net.iface.request(ncall, "drop-party.request", epref=1, cause=31)    # the network drops party 1
    clock.run_for(100)
    assert (call.parties[1].outcome, call.parties[1].cause) == ("dropped", 31)
    assert ncall.party_state(1) == "P0"                                    # the root acknowledged
    net.iface.request(ncall, "release.request", cause=16)                  # and releases the call
    clock.run_for(100)
    assert call.closed and not net.iface.calls and call.parties[0].outcome == "released"


def test_root_t399_drops_an_unanswered_party() -> None:
    clock, net, root = bed(timers=Timers(T399_user=2.0))
    call = root.setup(A)
    clock.run_for(100)
    net.iface.request(net.calls[0], "setup.response")
    clock.run_for(100)
    e = call.add_party(A2)
    clock.run_for(clock.slots(2.0) + 100)
    assert (call.parties[e].outcome, call.parties[e].cause) == ("timed-out", 102)
    assert net.calls[0].party_state(e) == "P12"                           # the network got DROP PARTY 102
    call.release()
    clock.run_for(100)
    net.iface.request(net.calls[0], "release.response")
    clock.run_for(100)
    assert call.closed
