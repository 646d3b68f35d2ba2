"""Q.2931 5.5 restart of the interface: Rest0/Rest1/Rest2 with T316, and the answers on the global
call reference (Q.2931 5.6.3.2 e), 5.6.12)."""

from __future__ import annotations

import pytest

from firmware.uni.machines import RESTART_START, RestartControl, Send, Timers, UNIProtocolError
from firmware.uni.machines.restart import REST1_CODE, REST2_CODE
from firmware.uni.machines.table import CountCause, Indicate, Signal, StartTimer, StopTimer


def test_restart_acknowledged() -> None:
    r = RestartControl()
    s = r.handle("restart.request", restart_class="vc", connection_id=(0, 32))
    assert r.state == "Rest1"
    assert s.actions[0] == Send("RESTART", ies=(("restart_class", "vc"), ("connection_id", (0, 32))))
    assert StartTimer("T316", 120.0) in s.actions
    assert any(isinstance(a, Signal) and a.event == "restart.clear-calls" for a in s.actions)
    s = r.handle("RESTART_ACK", restart_class="vc", connection_id=(0, 32))
    assert r.state == "Rest0" and StopTimer("T316") in s.actions and Indicate("restart.confirm") in s.actions


def test_t316_retransmits_once_then_gives_up() -> None:
    r = RestartControl()
    r.handle("restart.request")
    s = r.handle("T316")
    assert s.matched == "T316#1" and s.actions[0] == Send("RESTART", ies=(("restart_class", "all"),), retransmit=True)
    s = r.handle("T316")
    assert r.state == "Rest0" and Indicate("restart.error.indication", cause=102) in s.actions
    assert r.start.cause_counts[102] == 1 and r.start.running == {}


def test_mismatched_acknowledgement_is_discarded_and_t316_keeps_running() -> None:
    r = RestartControl()
    r.handle("restart.request", restart_class="all")
    s = r.handle("RESTART_ACK", restart_class="vp", connection_id=(1, 0))
    assert s.matched == "RESTART_ACK/other" and r.state == "Rest1" and "T316" in r.start.running


def test_restart_received_and_answered() -> None:
    r = RestartControl()
    s = r.handle("RESTART", restart_class="vp", connection_id=(3, 0))
    assert r.state == "Rest2" and Indicate("restart.indication") in s.actions
    s = r.handle("restart.response")
    assert r.state == "Rest0"
    assert s.actions == (Send("RESTART_ACK", ies=(("restart_class", "vp"), ("connection_id", (3, 0)))),)


def test_both_sides_restarting_at_once() -> None:
    r = RestartControl()
    r.handle("restart.request")
    r.handle("RESTART")
    assert (r.start.state, r.respond.state) == ("Rest1", "Rest2")
    r.handle("restart.response")
    r.handle("RESTART_ACK")
    assert (r.start.state, r.respond.state) == ("Rest0", "Rest0")


def test_unexpected_restart_messages_get_status_101() -> None:
    r = RestartControl()
    s = r.handle("RESTART_ACK")
    assert s.answered and s.actions == (Send("STATUS", cause=101, ies=(("call_state", 0),)), CountCause(101))
    r.handle("RESTART")
    s = r.handle("RESTART")
    assert s.answered and s.actions[0] == Send("STATUS", cause=101, ies=(("call_state", REST2_CODE),))


@pytest.mark.parametrize("message", ["SETUP", "CONNECT", "RELEASE", "ADD_PARTY", "UNKNOWN"])
def test_other_messages_on_the_global_call_reference_get_status_81(message: str) -> None:
    s = RestartControl().handle(message)
    assert s.answered and s.actions == (Send("STATUS", cause=81, ies=(("call_state", 0),)), CountCause(81))


def test_status_on_the_global_call_reference() -> None:
    r = RestartControl()
    r.handle("restart.request")
    assert r.handle("STATUS", call_state=REST2_CODE, cause=30).matched == "STATUS/compatible"
    s = r.handle("STATUS", call_state=REST1_CODE, cause=30, flag=True)
    assert s.matched == "STATUS/incompatible" and r.start.cause_counts[101] == 1
    assert r.handle("STATUS", call_state=0, cause=30, flag=False).machine == "restart-respond"


def test_restart_request_while_one_is_outstanding_raises() -> None:
    r = RestartControl()
    r.handle("restart.request")
    with pytest.raises(UNIProtocolError):
        r.handle("restart.request")
    with pytest.raises(UNIProtocolError):
        RestartControl().handle("restart.response")


def test_custom_t316() -> None:
    r = RestartControl(Timers(T316=9.0))
    assert StartTimer("T316", 9.0) in r.handle("restart.request").actions
    assert RESTART_START.transitions[0].actions[1] == StartTimer("T316", 120.0)
