"""Call.handle_params, the entry the interface uses for decoded messages: the same steps as Call.handle; with
``checked=False`` the parameters are checked as handle checks them, with ``checked=True`` they are not
checked again (the decoder has checked each field's width)."""

from __future__ import annotations

import pytest

from firmware.uni.machines import Call, Side
from firmware.uni.machines.errors import ParameterError

# a root's call: set up, connected, then two parties added, acknowledged, dropped, one by the network
SCRIPT = [("setup.request", None, {}), ("CONNECT", None, {}),
          ("add-party.request", None, {}), ("ADD_PARTY_ACK", 1, {}), ("add-party.request", None, {}),
          ("ADD_PARTY_ACK", 2, {}), ("drop-party.request", 1, {"cause": 31}), ("DROP_PARTY_ACK", 1, {"cause": 31}),
          ("DROP_PARTY", 2, {"cause": 41}), ("STATUS_ENQUIRY", None, {}), ("DROP_PARTY", 0, {"cause": 16})]


def _fields(step) -> tuple:
    return step.event, step.epref, step.steps, step.actions, step.state, step.answered


def test_handle_params_steps_as_handle() -> None:
    a, b = Call(9, Side.USER, multipoint=True), Call(9, Side.USER, multipoint=True)
    for event, epref, params in SCRIPT:
        want = a.handle(event, epref=epref, **params)
        got = b.handle_params(event, epref, dict(params), checked=True)
        assert _fields(got) == _fields(want), event
        assert b.party_states() == a.party_states() and b.counters == a.counters
    assert a.state == b.state == "U11"         # the last party dropped: the call clears (Q.2971 last-party rule)


@pytest.mark.parametrize(("epref", "params"), [(0, {"cause": 128}), (-1, {}), (0, {"call_state": True})])
def test_unchecked_parameters_are_checked_with_the_state_unchanged(epref: int, params: dict) -> None:
    c = Call(9, Side.USER, multipoint=True)
    c.handle("setup.request")
    c.handle("CONNECT")
    with pytest.raises(ParameterError):
        c.handle_params("DROP_PARTY", epref, dict(params), checked=False)
    with pytest.raises(ParameterError):
        c.handle("DROP_PARTY", epref=epref, **params)
    assert c.state == "U10" and c.party_states() == {0: "P10"}
