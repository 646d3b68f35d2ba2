"""Q.2931 call control, user side: the main flows, the timers, STATUS ENQUIRY / STATUS, and the
answers to messages that are not allowed (Q.2931 5.6.3.2, 5.6.4, 5.6.12)."""

from __future__ import annotations

import pytest

from firmware.uni.machines import USER_CALL, Machine, Send, Timers, UNIProtocolError
from firmware.uni.machines import call_user
from firmware.uni.machines.table import CountCause, Discard, Indicate, StartTimer, StopTimer


def sends(step) -> list[tuple[str, int | None]]:
    return [(a.message, a.cause) for a in step.actions if isinstance(a, Send)]


def indications(step) -> list[tuple[str, int | None]]:
    return [(a.primitive, a.cause) for a in step.actions if isinstance(a, Indicate)]


def at(state: str) -> Machine:
    """A user-side machine driven into ``state`` by a normal flow."""
    m = Machine(USER_CALL)
    path = {
        "U0": [], "U1": ["setup.request"], "U3": ["setup.request", "CALL_PROCEEDING"],
        "U4": ["setup.request", "ALERTING"], "U10": ["setup.request", "CONNECT"],
        "U6": ["SETUP"], "U9": ["SETUP", "proceeding.request"], "U7": ["SETUP", "alerting.request"],
        "U8": ["SETUP", "setup.response"], "U11": ["setup.request", "CONNECT", "release.request"],
        "U12": ["setup.request", "CONNECT", "RELEASE"],
    }[state]
    for e in path:
        m.handle(e)
    assert m.state == state
    return m


def test_outgoing_call_setup_to_active_and_release() -> None:
    m = Machine(USER_CALL)
    s = m.handle("setup.request")
    assert (s.after, sends(s)) == ("U1", [("SETUP", None)])
    assert StartTimer("T303", 4.0) in s.actions
    s = m.handle("CALL_PROCEEDING")
    assert s.after == "U3" and StopTimer("T303") in s.actions and StartTimer("T310", 10.0) in s.actions
    assert indications(s) == [("proceeding.indication", None)]
    s = m.handle("CONNECT")
    assert s.after == "U10" and sends(s) == [("CONNECT_ACK", None)] and StopTimer("T310") in s.actions
    assert indications(s) == [("setup.confirm", None)]
    assert m.running == {}
    s = m.handle("release.request", cause=16)
    assert s.after == "U11" and sends(s) == [("RELEASE", 16)] and StartTimer("T308", 30.0) in s.actions
    s = m.handle("RELEASE_COMPLETE", cause=16)
    assert s.after == "U0" and StopTimer("T308") in s.actions
    assert indications(s) == [("release.confirm", 16)]
    assert m.running == {} and not m.cause_counts


def test_incoming_call_alerting_connect_and_network_release() -> None:
    m = Machine(USER_CALL)
    assert indications(m.handle("SETUP")) == [("setup.indication", None)]
    assert sends(m.handle("proceeding.request")) == [("CALL_PROCEEDING", None)]
    s = m.handle("alerting.request")
    assert s.after == "U7" and sends(s) == [("ALERTING", None)]
    s = m.handle("setup.response")
    assert s.after == "U8" and sends(s) == [("CONNECT", None)] and StartTimer("T313", 4.0) in s.actions
    s = m.handle("CONNECT_ACK")
    assert s.after == "U10" and StopTimer("T313") in s.actions
    assert indications(s) == [("setup-complete.indication", None)]
    s = m.handle("RELEASE", cause=16)
    assert s.after == "U12" and indications(s) == [("release.indication", 16)] and not sends(s)
    s = m.handle("release.response")
    assert s.after == "U0" and sends(s) == [("RELEASE_COMPLETE", None)]


def test_t303_twice_clears_the_call() -> None:
    m = at("U1")
    s = m.handle("T303")
    assert s.matched == "T303#1" and s.after == "U1"
    assert [a for a in s.actions if isinstance(a, Send)][0].retransmit
    assert StartTimer("T303", 4.0, retry=True) in s.actions
    s = m.handle("T303")
    assert s.matched == "T303#2" and s.after == "U0"
    assert indications(s) == [("release.confirm", 102)] and not sends(s)
    assert m.cause_counts[102] == 1 and m.running == {}


def test_t303_once_then_answer_goes_on_normally() -> None:
    m = at("U1")
    m.handle("T303")
    assert m.handle("CALL_PROCEEDING").after == "U3"
    assert m.expiries("T303") == 0


def test_t308_twice_releases_the_call_reference() -> None:
    m = at("U10")
    m.handle("release.request", cause=31)
    s = m.handle("T308")
    assert s.after == "U11" and s.actions[0] == Send("RELEASE", cause=31, retransmit=True)
    s = m.handle("T308")
    assert s.after == "U0" and indications(s) == [("release.confirm", 102)]
    assert m.cause_counts[102] == 1 and m.running == {}


@pytest.mark.parametrize("state, timer", [("U3", "T310"), ("U8", "T313")])
def test_t310_and_t313_clear_with_cause_102(state: str, timer: str) -> None:
    m = at(state)
    s = m.handle(timer)
    assert s.after == "U11" and sends(s) == [("RELEASE", 102)]
    assert indications(s) == [("release.indication", 102)] and m.running == {"T308": 30.0}


def test_clear_collision_needs_no_release_complete() -> None:
    m = at("U11")
    s = m.handle("RELEASE", cause=16)
    assert s.after == "U0" and not sends(s) and StopTimer("T308") in s.actions


def test_call_rejected_with_release_complete_in_u1() -> None:
    s = at("U1").handle("RELEASE_COMPLETE", cause=17)
    assert s.after == "U0" and indications(s) == [("release.confirm", 17)]


def test_incoming_call_rejected_by_the_user() -> None:
    s = at("U6").handle("release.response", cause=17)
    assert s.after == "U0" and sends(s) == [("RELEASE_COMPLETE", 17)]


def test_status_enquiry_is_answered_with_the_call_state() -> None:
    s = at("U10").handle("STATUS_ENQUIRY")
    assert s.actions == (Send("STATUS", cause=30, ies=(("call_state", 10),)),) and s.after == "U10"


def test_status_enquiry_procedure_t322() -> None:
    m = at("U10")
    s = m.handle("status-enquiry.request")
    assert sends(s) == [("STATUS_ENQUIRY", None)] and StartTimer("T322", 4.0) in s.actions
    with pytest.raises(UNIProtocolError):
        m.handle("status-enquiry.request")        # one enquiry at a time
    s = m.handle("STATUS", call_state=10, cause=30)
    assert s.matched == "STATUS/answer" and StopTimer("T322") in s.actions and "T322" not in m.running
    m.handle("status-enquiry.request")
    assert m.handle("T322").matched == "T322#1"
    s = m.handle("T322")
    assert s.after == "U11" and sends(s) == [("RELEASE", 102)]


def test_status_reporting_an_incompatible_state_clears_with_101() -> None:
    m = at("U3")                                   # outgoing call; peer claims an incoming one
    s = m.handle("STATUS", call_state=6, cause=30)
    assert s.matched == "STATUS/incompatible" and s.after == "U11"
    assert sends(s) == [("RELEASE", 101)] and m.cause_counts[101] == 1


def test_status_reporting_null_releases_locally() -> None:
    m = at("U10")
    s = m.handle("STATUS", call_state=0, cause=101)
    assert s.after == "U0" and not sends(s) and indications(s) == [("release.confirm", 101)]


def test_status_in_release_request_takes_no_action() -> None:
    m = at("U11")
    s = m.handle("STATUS", call_state=6, cause=101)
    assert s.after == "U11" and not sends(s)
    assert m.handle("STATUS", call_state=0, cause=30).after == "U0"


@pytest.mark.parametrize("state, message", [("U1", "CONNECT_ACK"), ("U3", "CALL_PROCEEDING"),
                                            ("U10", "ALERTING"), ("U8", "CONNECT"), ("U7", "ADD_PARTY_ACK")])
def test_message_not_allowed_gets_status_101_and_keeps_the_state(state: str, message: str) -> None:
    m = at(state)
    running = dict(m.running)
    s = m.handle(message)
    code = USER_CALL.state_info(state).code
    assert s.answered and s.after == state and m.running == running
    assert s.actions == (Send("STATUS", cause=101, ies=(("call_state", code),)), CountCause(101))
    assert m.cause_counts[101] == 1


def test_unrecognised_message_gets_status_97() -> None:
    s = at("U10").handle("UNKNOWN")
    assert s.answered and sends(s) == [("STATUS", 97)]


@pytest.mark.parametrize("message", ["CALL_PROCEEDING", "CONNECT", "RELEASE", "ADD_PARTY", "DROP_PARTY",
                                     "UNKNOWN", "NOTIFY"])
def test_unknown_call_reference_gets_release_complete_81(message: str) -> None:
    m = Machine(USER_CALL)
    s = m.handle(message)
    assert s.answered and s.after == "U0"
    assert s.actions == (Send("RELEASE_COMPLETE", cause=81), CountCause(81))


def test_unknown_call_reference_special_cases() -> None:
    m = Machine(USER_CALL)
    assert m.handle("RELEASE_COMPLETE").actions == (Discard("RELEASE COMPLETE for an unknown call reference"),)
    assert sends(m.handle("STATUS_ENQUIRY")) == [("STATUS", 30)]
    assert sends(m.handle("STATUS", call_state=10, cause=30)) == [("RELEASE_COMPLETE", 101)]
    assert not sends(m.handle("STATUS", call_state=0, cause=30))
    assert m.state == "U0"


def test_setup_for_a_call_reference_in_use_is_ignored() -> None:
    m = at("U9")
    s = m.handle("SETUP")
    assert s.after == "U9" and isinstance(s.actions[0], Discard) and not s.answered


@pytest.mark.parametrize("state, primitive", [("U0", "release.request"), ("U1", "setup.response"),
                                              ("U10", "setup.request"), ("U11", "release.request"),
                                              ("U4", "alerting.request"), ("U12", "status-enquiry.request")])
def test_primitive_not_allowed_raises_and_keeps_state_and_timers(state: str, primitive: str) -> None:
    m = at(state)
    running = dict(m.running)
    with pytest.raises(UNIProtocolError) as info:
        m.handle(primitive)
    assert info.value.state == state and m.state == state and m.running == running


def test_custom_timer_durations_reach_the_actions() -> None:
    table = call_user.build(Timers(T303=1.5, T308=2.5))
    m = Machine(table)
    assert StartTimer("T303", 1.5) in m.handle("setup.request").actions
    m.handle("CONNECT")
    assert StartTimer("T308", 2.5) in m.handle("release.request").actions
