"""Q.2931 call control, network side: the mirror of the user-side flows, the network's timers and
causes, and the answers to messages that are not allowed."""

from __future__ import annotations

import pytest

from firmware.uni.machines import NETWORK_CALL, Machine, Send, UNIProtocolError
from firmware.uni.machines.table import CountCause, Indicate, StartTimer, StopTimer


def sends(step) -> list[tuple[str, int | None]]:
    return [(a.message, a.cause) for a in step.actions if isinstance(a, Send)]


def indications(step) -> list[tuple[str, int | None]]:
    return [(a.primitive, a.cause) for a in step.actions if isinstance(a, Indicate)]


def at(state: str) -> Machine:
    m = Machine(NETWORK_CALL)
    path = {
        "N0": [], "N1": ["SETUP"], "N3": ["SETUP", "proceeding.request"], "N4": ["SETUP", "alerting.request"],
        "N10": ["SETUP", "setup.response"], "N6": ["setup.request"], "N9": ["setup.request", "CALL_PROCEEDING"],
        "N7": ["setup.request", "ALERTING"], "N8": ["setup.request", "CONNECT"],
        "N11": ["SETUP", "setup.response", "RELEASE"], "N12": ["SETUP", "setup.response", "release.request"],
    }[state]
    for e in path:
        m.handle(e)
    assert m.state == state
    return m


def test_call_from_the_calling_user_to_active_and_user_release() -> None:
    m = Machine(NETWORK_CALL)
    s = m.handle("SETUP")
    assert s.after == "N1" and indications(s) == [("setup.indication", None)] and not sends(s)
    assert sends(m.handle("proceeding.request")) == [("CALL_PROCEEDING", None)]
    s = m.handle("alerting.request")
    assert s.after == "N4" and sends(s) == [("ALERTING", None)]
    s = m.handle("setup.response")
    assert s.after == "N10" and sends(s) == [("CONNECT", None)]
    s = m.handle("CONNECT_ACK")                      # the calling user's acknowledgement: nothing to do
    assert s.after == "N10" and s.actions == () and not s.answered
    s = m.handle("RELEASE", cause=16)
    assert s.after == "N11" and indications(s) == [("release.indication", 16)] and not sends(s)
    s = m.handle("release.response", cause=16)
    assert s.after == "N0" and sends(s) == [("RELEASE_COMPLETE", 16)] and m.running == {}


def test_call_offered_to_the_called_user_and_network_release() -> None:
    m = Machine(NETWORK_CALL)
    s = m.handle("setup.request")
    assert s.after == "N6" and sends(s) == [("SETUP", None)] and StartTimer("T303", 4.0) in s.actions
    s = m.handle("CALL_PROCEEDING")
    assert s.after == "N9" and StopTimer("T303") in s.actions and StartTimer("T310", 10.0) in s.actions
    s = m.handle("ALERTING")
    assert s.after == "N7" and StopTimer("T310") in s.actions
    s = m.handle("CONNECT")
    assert s.after == "N8" and indications(s) == [("setup.confirm", None)] and not sends(s)
    s = m.handle("setup-complete.request")
    assert s.after == "N10" and sends(s) == [("CONNECT_ACK", None)]
    s = m.handle("release.request")
    assert s.after == "N12" and sends(s) == [("RELEASE", 16)] and StartTimer("T308", 30.0) in s.actions
    s = m.handle("RELEASE_COMPLETE")
    assert s.after == "N0" and m.running == {}


def test_t303_twice_no_user_responding() -> None:
    m = at("N6")
    s = m.handle("T303")
    assert s.after == "N6" and s.actions[0].message == "SETUP" and s.actions[0].retransmit
    s = m.handle("T303")
    assert s.after == "N0" and indications(s) == [("release.confirm", 18)] and m.cause_counts[18] == 1


def test_t310_clears_with_no_user_responding() -> None:
    s = at("N9").handle("T310")
    assert s.after == "N12" and sends(s) == [("RELEASE", 18)]


def test_t308_twice() -> None:
    m = at("N12")
    assert m.handle("T308").actions[0] == Send("RELEASE", cause=16, retransmit=True)
    s = m.handle("T308")
    assert s.after == "N0" and indications(s) == [("release.confirm", 102)]


def test_clear_collision_on_the_network_side() -> None:
    s = at("N12").handle("RELEASE")
    assert s.after == "N0" and not sends(s)


def test_status_reporting_null_uses_temporary_failure_towards_the_control_plane() -> None:
    m = at("N10")
    s = m.handle("STATUS", call_state=0, cause=30)
    assert s.after == "N0" and indications(s) == [("release.confirm", 41)] and m.cause_counts[41] == 1


def test_network_rejects_a_setup() -> None:
    s = at("N1").handle("release.response", cause=1)
    assert s.after == "N0" and sends(s) == [("RELEASE_COMPLETE", 1)]


@pytest.mark.parametrize("state, message", [("N1", "CALL_PROCEEDING"), ("N6", "CONNECT_ACK"),
                                            ("N10", "ALERTING"), ("N8", "CONNECT"), ("N3", "DROP_PARTY")])
def test_message_not_allowed_gets_status_101(state: str, message: str) -> None:
    m = at(state)
    s = m.handle(message)
    code = NETWORK_CALL.state_info(state).code
    assert s.answered and s.after == state
    assert s.actions == (Send("STATUS", cause=101, ies=(("call_state", code),)), CountCause(101))


def test_unknown_call_reference() -> None:
    m = Machine(NETWORK_CALL)
    assert m.handle("CONNECT").actions == (Send("RELEASE_COMPLETE", cause=81), CountCause(81))
    assert m.state == "N0"


@pytest.mark.parametrize("state, primitive", [("N1", "setup-complete.request"), ("N8", "setup.response"),
                                              ("N6", "alerting.request"), ("N11", "release.request")])
def test_primitive_not_allowed_raises(state: str, primitive: str) -> None:
    m = at(state)
    with pytest.raises(UNIProtocolError):
        m.handle(primitive)
    assert m.state == state


def test_no_t313_on_the_network_side() -> None:
    assert NETWORK_CALL.kind("T313") is None
