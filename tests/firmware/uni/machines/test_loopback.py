"""A user-side call and a network-side call wired back to back: every message one sends is handed to
the other at once. This checks the two tables against each other - a flow the user side starts must
be one the network side accepts, and the reverse - which no single-table test can see.

Property: with a lossless, in-order link and no timer running out, any sequence of local primitives
that the machines accept never makes either side answer an unexpected message (no cause 81, 89, 96,
97 or 101), and at rest both sides agree on the call state and on every party's state (each party
state seen from the other side: P1<->P6, P7<->P4, P10<->P10, P11<->P12)."""

from __future__ import annotations

import os
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.uni.machines import Call, CallStep, Send, UNIProtocolError

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))
ERROR_CAUSES = {81, 89, 96, 97, 101}
MIRROR = {0: 0, 1: 6, 6: 1, 4: 7, 7: 4, 10: 10, 11: 12, 12: 11}


def event_of(send: Send) -> tuple[str, int | None, dict]:
    """What the peer's decoder would hand its machines for this message."""
    ies = dict(send.ies)
    params = {k: ies[k] for k in ("call_state", "endpoint_state") if k in ies}
    if send.cause is not None:
        params["cause"] = send.cause
    epref = send.instance if send.instance is not None else ies.get("endpoint_reference")
    if send.message == "SETUP":
        params["multipoint"] = epref is not None
    return send.message, epref, params


class Link:
    def __init__(self, user: Call, network: Call) -> None:
        self.user, self.network = user, network
        self.queue: deque[tuple[Call, Send]] = deque()
        self.steps: list[tuple[str, CallStep]] = []

    def act(self, end: Call, event: str, **kw) -> CallStep:
        step = end.handle(event, **kw)
        self._record(end, step)
        self.pump()
        return step

    def _record(self, end: Call, step: CallStep) -> None:
        self.steps.append((end.side.value, step))
        other = self.network if end is self.user else self.user
        self.queue.extend((other, s) for s in step.sends())

    def pump(self) -> None:
        for _ in range(200):
            if not self.queue:
                return
            end, send = self.queue.popleft()
            message, epref, params = event_of(send)
            self._record(end, end.handle(message, epref=epref, **params))
        raise AssertionError("the two sides keep talking")

    def check_quiet(self) -> None:
        for who, step in self.steps:
            assert not step.answered, (who, step)
        for end in (self.user, self.network):
            assert not set(end.counters.causes) & ERROR_CAUSES, (end, end.counters.causes)
        u, n = self.user, self.network
        if u.released and n.released:
            return
        assert u.machine.code == n.machine.code, (u, n)
        assert set(u.parties) == set(n.parties), (u, n)
        for e in u.parties:
            assert MIRROR[u.parties[e].code] == n.parties[e].code, (e, u, n)


def test_root_and_network_scenario() -> None:
    user, net = Call(1, "user", multipoint=True), Call(1, "network")
    link = Link(user, net)
    link.act(user, "setup.request")
    assert net.state == "N1" and net.party_states() == {0: "P6"}
    link.act(net, "proceeding.request")
    link.act(net, "alerting.request")
    assert (user.state, user.party_states()) == ("U4", {0: "P7"})
    link.act(user, "add-party.request")                       # adding while alerting (U4/N4)
    link.act(net, "setup.response")
    assert (user.state, net.state) == ("U10", "N10") and user.party_states() == {0: "P10", 1: "P1"}
    link.act(net, "party-alerting.request", epref=1)
    link.act(net, "add-party-ack.request", epref=1)
    link.act(user, "add-party.request")
    link.act(net, "add-party-reject.request", epref=2, cause=17)
    assert 2 not in user.parties and 2 not in net.parties
    link.act(net, "drop-party.request", epref=1, cause=16)
    assert (user.party_state(1), net.party_state(1)) == ("P12", "P11")
    link.act(user, "drop-party-ack.request", epref=1)
    step = link.act(user, "drop-party.request", epref=0)      # the last party: RELEASE instead
    assert step.messages() == ["RELEASE"] and net.state == "N11"
    link.act(net, "release.response")
    assert user.released and net.released and not user.parties and not net.parties
    link.check_quiet()


def test_network_offers_a_multipoint_call_to_a_leaf() -> None:
    leaf, net = Call(9, "user"), Call(9, "network", multipoint=True)
    link = Link(leaf, net)
    link.act(net, "setup.request", epref=0)
    assert leaf.multipoint and leaf.party_states() == {0: "P6"}
    link.act(leaf, "proceeding.request")
    link.act(leaf, "alerting.request")
    assert (net.state, net.party_states()) == ("N7", {0: "P7"})
    link.act(leaf, "setup.response")
    assert net.state == "N8" and leaf.state == "U8"
    link.act(net, "setup-complete.request")
    assert (leaf.state, leaf.party_states(), net.party_states()) == ("U10", {0: "P10"}, {0: "P10"})
    link.act(net, "add-party.request")                       # a second leaf behind the same UNI
    link.act(leaf, "party-alerting.request", epref=1)
    link.act(leaf, "add-party-ack.request", epref=1)
    assert net.party_state(1) == "P10"
    link.act(leaf, "drop-party.request", epref=0, cause=16)
    link.act(net, "drop-party-ack.request", epref=0)
    link.act(net, "release.request", cause=16)
    link.act(leaf, "release.response")
    assert leaf.released and net.released
    link.check_quiet()


def test_status_enquiries_agree_on_both_ends() -> None:
    user, net = Call(2, "user", multipoint=True), Call(2, "network")
    link = Link(user, net)
    link.act(user, "setup.request")
    link.act(user, "status-enquiry.request")
    assert "T322" not in user.machine.running                # the answer stopped it
    link.act(net, "status-enquiry.request", epref=0)
    link.act(net, "setup.response")
    link.act(user, "status-enquiry.request", epref=0)
    link.check_quiet()


CAUSES = st.sampled_from([None, 16, 17, 21, 31])


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(st.data(), st.booleans(), st.integers(1, 60))
def test_random_primitives_never_make_either_side_answer_an_error(data, multipoint: bool, length: int) -> None:
    """Each step picks one of the primitives an end accepts now (``Call.allowed_primitives``)."""
    user, net = Call(3, "user", multipoint=multipoint), Call(3, "network", multipoint=multipoint)
    link = Link(user, net)
    for _ in range(length):
        choices = [(user, e, x) for e, x in user.allowed_primitives()] + \
                  [(net, e, x) for e, x in net.allowed_primitives()]
        if not choices:
            break
        end, event, epref = data.draw(st.sampled_from(choices), label="act")
        cause = data.draw(CAUSES, label="cause")
        link.act(end, event, epref=epref, **({} if cause is None else {"cause": cause}))
        link.check_quiet()


def test_allowed_primitives_are_accepted() -> None:
    user = Call(4, "user", multipoint=True)
    assert user.allowed_primitives() == [("setup.request", None)]
    user.handle("setup.request")
    user.handle("CONNECT")
    allowed = user.allowed_primitives()
    assert ("add-party.request", None) in allowed and ("drop-party.request", 0) in allowed
    assert ("setup.request", None) not in allowed
    for event, epref in allowed:
        probe = Call(4, "user", multipoint=True)
        probe.handle("setup.request")
        probe.handle("CONNECT")
        probe.handle(event, epref=epref)                      # must not raise
    with pytest.raises(UNIProtocolError):
        user.handle("add-party-ack.request", epref=0)
