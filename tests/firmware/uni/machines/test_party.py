"""Q.2971 party control on its own (one endpoint reference): adding, alerting, rejecting, dropping, the
party timers T397/T398/T399 on both sides, and the party-level answers to unexpected messages."""

from __future__ import annotations

import pytest

from firmware.uni.machines import NETWORK_PARTY, USER_PARTY, Machine, Send, UNIProtocolError
from firmware.uni.machines.table import CountCause, Discard, Indicate, StartTimer, StopTimer


def sends(step) -> list[tuple[str, int | None]]:
    return [(a.message, a.cause) for a in step.actions if isinstance(a, Send)]


def indications(step) -> list[tuple[str, int | None]]:
    return [(a.primitive, a.cause) for a in step.actions if isinstance(a, Indicate)]


def added(table=USER_PARTY, epref: int = 5) -> Machine:
    m = Machine(table, instance=epref)
    m.handle("add-party.request")
    assert m.state == "P1"
    return m


def test_add_party_then_ack() -> None:
    m = Machine(USER_PARTY, instance=5)
    s = m.handle("add-party.request")
    assert s.actions == (Send("ADD_PARTY", instance=5), StartTimer("T399", 34.0, instance=5))
    s = m.handle("ADD_PARTY_ACK")
    assert s.after == "P10" and StopTimer("T399", instance=5) in s.actions
    assert indications(s) == [("add-party-ack.indication", None)] and m.running == {}


def test_add_party_then_reject_carries_the_cause() -> None:
    m = added()
    s = m.handle("ADD_PARTY_REJECT", cause=17)
    assert s.after == "P0" and indications(s) == [("add-party-reject.indication", 17)] and m.running == {}


def test_party_alerting_then_ack() -> None:
    m = added()
    s = m.handle("PARTY_ALERTING")
    assert s.after == "P7" and StopTimer("T399", instance=5) in s.actions
    assert StartTimer("T397", 180.0, instance=5) in s.actions
    s = m.handle("ADD_PARTY_ACK")
    assert s.after == "P10" and StopTimer("T397", instance=5) in s.actions


def test_drop_party_then_ack() -> None:
    m = added()
    m.handle("ADD_PARTY_ACK")
    s = m.handle("drop-party.request", cause=31)
    assert s.after == "P11" and sends(s) == [("DROP_PARTY", 31)]
    assert StartTimer("T398", 4.0, instance=5) in s.actions
    s = m.handle("DROP_PARTY_ACK", cause=31)
    assert s.after == "P0" and indications(s) == [("drop-party-ack.indication", 31)] and m.running == {}


def test_incoming_drop_is_acknowledged_by_the_user() -> None:
    m = added()
    m.handle("ADD_PARTY_ACK")
    s = m.handle("DROP_PARTY", cause=16)
    assert s.after == "P12" and indications(s) == [("drop-party.indication", 16)] and not sends(s)
    s = m.handle("drop-party-ack.request")
    assert s.after == "P0" and sends(s) == [("DROP_PARTY_ACK", 16)]


@pytest.mark.parametrize("table, seconds, cause", [(USER_PARTY, 34.0, 102), (NETWORK_PARTY, 14.0, 18)])
def test_t399_expiry_drops_the_party_and_tells_the_user(table, seconds: float, cause: int) -> None:
    m = added(table)
    assert m.running == {"T399": seconds}
    s = m.handle("T399")
    assert s.after == "P11" and sends(s) == [("DROP_PARTY", cause)]
    assert indications(s) == [("drop-party.indication", cause)] and m.cause_counts[cause] == 1
    s = m.handle("DROP_PARTY_ACK")
    assert s.after == "P0" and m.running == {}


def test_t398_expiry_acknowledges_and_releases_the_endpoint_reference() -> None:
    m = added()
    m.handle("ADD_PARTY_ACK")
    m.handle("drop-party.request")
    s = m.handle("T398")
    assert s.after == "P0" and sends(s) == [("DROP_PARTY_ACK", 102)]
    assert indications(s) == [("drop-party-ack.indication", 102)] and m.running == {}


def test_t397_expiry_drops_an_alerting_party() -> None:
    m = added()
    m.handle("PARTY_ALERTING")
    s = m.handle("T397")
    assert s.after == "P11" and sends(s) == [("DROP_PARTY", 102)] and m.running == {"T398": 4.0}


def test_receiving_side_alerts_then_accepts() -> None:
    m = Machine(NETWORK_PARTY, instance=2)
    assert indications(m.handle("ADD_PARTY")) == [("add-party.indication", None)]
    assert m.handle("ADD_PARTY").actions == (Discard("ADD PARTY repeated"),)
    s = m.handle("party-alerting.request")
    assert s.after == "P4" and sends(s) == [("PARTY_ALERTING", None)]
    s = m.handle("add-party-ack.request")
    assert s.after == "P10" and sends(s) == [("ADD_PARTY_ACK", None)]


def test_receiving_side_rejects() -> None:
    m = Machine(NETWORK_PARTY, instance=2)
    m.handle("ADD_PARTY")
    s = m.handle("add-party-reject.request", cause=17)
    assert s.after == "P0" and sends(s) == [("ADD_PARTY_REJECT", 17)]


def test_drop_collision() -> None:
    m = added()
    m.handle("ADD_PARTY_ACK")
    m.handle("drop-party.request")
    s = m.handle("DROP_PARTY")
    assert s.after == "P0" and not sends(s) and m.running == {}


@pytest.mark.parametrize("message", ["ADD_PARTY_ACK", "PARTY_ALERTING", "DROP_PARTY"])
def test_unknown_endpoint_reference_gets_drop_party_ack_89(message: str) -> None:
    m = Machine(USER_PARTY, instance=9)
    s = m.handle(message)
    assert s.answered and s.after == "P0"
    assert s.actions == (Send("DROP_PARTY_ACK", cause=89, instance=9), CountCause(89))


@pytest.mark.parametrize("message", ["ADD_PARTY_REJECT", "DROP_PARTY_ACK"])
def test_unknown_endpoint_reference_acks_and_rejects_are_discarded(message: str) -> None:
    s = Machine(USER_PARTY, instance=9).handle(message)
    assert s.answered and isinstance(s.actions[0], Discard) and not sends(s)


@pytest.mark.parametrize("message", ["PARTY_ALERTING", "ADD_PARTY", "ADD_PARTY_ACK"])
def test_message_not_allowed_in_the_party_state_gets_status_with_endpoint_state(message: str) -> None:
    m = added()
    m.handle("ADD_PARTY_ACK")
    s = m.handle(message)
    assert s.answered and s.after == "P10"
    assert s.actions == (Send("STATUS", cause=101, ies=(("endpoint_state", 10),), instance=5), CountCause(101))


def test_status_enquiry_reports_the_endpoint_state() -> None:
    m = added()
    assert m.handle("STATUS_ENQUIRY").actions == (Send("STATUS", cause=30, ies=(("endpoint_state", 1),),
                                                       instance=5),)
    assert Machine(USER_PARTY, instance=3).handle("STATUS_ENQUIRY").actions[0].ies == (("endpoint_state", 0),)


def test_status_reporting_an_incompatible_endpoint_state_drops_the_party() -> None:
    m = added()                                     # we added it (P1); the peer claims it added it too
    s = m.handle("STATUS", endpoint_state=1, cause=30)
    assert s.matched == "STATUS/incompatible" and s.after == "P11" and sends(s) == [("DROP_PARTY", 101)]


def test_status_reporting_null_releases_the_party() -> None:
    m = added()
    s = m.handle("STATUS", endpoint_state=0, cause=101)
    assert s.after == "P0" and m.running == {}


def test_status_for_an_unknown_endpoint_reference() -> None:
    m = Machine(USER_PARTY, instance=4)
    assert sends(m.handle("STATUS", endpoint_state=10, cause=30)) == [("DROP_PARTY_ACK", 101)]
    assert not sends(m.handle("STATUS", endpoint_state=0, cause=30))


@pytest.mark.parametrize("primitive", ["add-party-ack.request", "drop-party-ack.request", "party-alerting.request"])
def test_party_primitive_not_allowed_raises(primitive: str) -> None:
    m = added()
    with pytest.raises(UNIProtocolError):
        m.handle(primitive)
    assert m.state == "P1" and "T399" in m.running


def test_call_release_releases_the_party_and_stops_its_timer() -> None:
    m = added()
    s = m.handle("call.released")
    assert s.after == "P0" and s.actions == (StopTimer("T399", instance=5),)


def test_first_party_follows_the_call() -> None:
    root = Machine(USER_PARTY, instance=0)
    assert root.handle("call.setup-request").after == "P1" and root.running == {}
    assert root.handle("call.ALERTING").after == "P7"
    assert root.handle("call.CONNECT").after == "P10" and root.running == {}
    leaf = Machine(USER_PARTY, instance=0)
    leaf.handle("call.SETUP")
    assert leaf.handle("call.alerting-request").after == "P4"
    assert leaf.handle("call.CONNECT_ACK").after == "P10"
