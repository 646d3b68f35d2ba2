"""A call composed with its party machines (``call.Call``): the first party created by SETUP, later
ones by ADD PARTY, the routing by endpoint reference, the answers for unknown or missing endpoint
references, and Q.2971's rule that the last party is cleared with RELEASE."""

from __future__ import annotations

import pytest

from firmware.uni.machines import Call, ParameterError, Send, UNIProtocolError, UnknownEventError
from firmware.uni.machines.table import CountCause, Indicate, StopTimer


def sends(step) -> list[tuple[str, int | None, int | None]]:
    return [(a.message, a.cause, a.instance) for a in step.actions if isinstance(a, Send)]


def indications(step) -> list[tuple[str, int | None, int | None]]:
    return [(a.primitive, a.cause, a.instance) for a in step.actions if isinstance(a, Indicate)]


def active_root(*, parties: int = 0) -> Call:
    """A user-side root in U10 with its first party (0) and ``parties`` more, all active."""
    c = Call(1, "user", multipoint=True)
    c.handle("setup.request")
    c.handle("CONNECT")
    for _ in range(parties):
        e = c.handle("add-party.request").epref
        c.handle("ADD_PARTY_ACK", epref=e)
    assert c.state == "U10" and set(c.party_states().values()) == {"P10"}
    return c


def test_first_party_is_created_by_setup_and_follows_the_call() -> None:
    c = Call(1, "user", multipoint=True)
    s = c.handle("setup.request")
    assert c.party_states() == {0: "P1"} and c.first_epref == 0
    assert s.sends()[0].ies == (("endpoint_reference", 0),)
    c.handle("CALL_PROCEEDING")
    s = c.handle("ALERTING")
    assert c.party_states() == {0: "P7"} and ("T397" in c.parties[0].running)
    c.handle("CONNECT")
    assert c.party_states() == {0: "P10"} and c.parties[0].running == {}


def test_root_scenario_of_the_issue() -> None:
    """Add parties that accept, reject, alert then accept, stay silent until T399; drop some; one
    leaves by itself; the last drop clears the call."""
    c = active_root()
    accept = c.handle("add-party.request").epref
    assert accept == 1
    s = c.handle("ADD_PARTY_ACK", epref=accept)
    assert indications(s) == [("add-party-ack.indication", None, 1)]

    reject = c.handle("add-party.request").epref
    s = c.handle("ADD_PARTY_REJECT", epref=reject, cause=17)
    assert indications(s) == [("add-party-reject.indication", 17, reject)] and reject not in c.parties

    alert = c.handle("add-party.request").epref
    c.handle("PARTY_ALERTING", epref=alert)
    assert c.party_state(alert) == "P7"
    c.handle("ADD_PARTY_ACK", epref=alert)
    assert c.party_state(alert) == "P10"

    silent = c.handle("add-party.request").epref
    s = c.handle("T399", epref=silent)
    assert sends(s) == [("DROP_PARTY", 102, silent)] and indications(s) == [("drop-party.indication", 102, silent)]
    s = c.handle("DROP_PARTY_ACK", epref=silent)
    assert silent not in c.parties and indications(s) == [("drop-party-ack.indication", None, silent)]

    s = c.handle("drop-party.request", epref=accept)
    assert sends(s) == [("DROP_PARTY", 16, accept)]
    c.handle("DROP_PARTY_ACK", epref=accept)

    s = c.handle("DROP_PARTY", epref=alert, cause=16)          # a leaf leaves by itself
    assert c.party_state(alert) == "P12" and not sends(s)
    s = c.handle("drop-party-ack.request", epref=alert)
    assert sends(s) == [("DROP_PARTY_ACK", 16, alert)] and alert not in c.parties

    s = c.handle("drop-party.request", epref=0, cause=16)        # the last party
    assert sends(s) == [("RELEASE", 16, None)] and c.state == "U11" and c.parties == {}
    s = c.handle("RELEASE_COMPLETE")
    assert c.released and c.state == "U0" and c.parties == {}
    assert not c.counters.causes.keys() - {102}


def test_last_party_dropped_by_the_network_releases_the_call_with_its_cause() -> None:
    c = active_root(parties=1)
    c.handle("DROP_PARTY", epref=1, cause=16)
    c.handle("drop-party-ack.request", epref=1)
    s = c.handle("DROP_PARTY", epref=0, cause=27)
    assert s.messages() == ["RELEASE"] and s.sends()[0].cause == 27
    assert ("drop-party.indication", 27, 0) in indications(s) and ("release.indication", 27, None) in indications(s)
    assert c.state == "U11" and c.parties == {}


def test_last_party_timing_out_releases_the_call_with_102() -> None:
    c = active_root()
    e = c.handle("add-party.request").epref
    c.handle("drop-party.request", epref=0)        # not the last: party e is being added
    c.handle("DROP_PARTY_ACK", epref=0)
    s = c.handle("T399", epref=e)
    assert s.messages() == ["RELEASE"] and s.sends()[0].cause == 102
    assert StopTimer("T398", instance=e) in s.actions and c.state == "U11"


def test_leaf_rejecting_its_only_party_clears_the_call() -> None:
    leaf = Call(7, "user")
    leaf.handle("SETUP", epref=0, multipoint=True)
    leaf.handle("alerting.request")
    leaf.handle("setup.response")
    leaf.handle("CONNECT_ACK")
    leaf.handle("ADD_PARTY", epref=4)
    leaf.handle("drop-party.request", epref=0)
    leaf.handle("DROP_PARTY_ACK", epref=0)
    s = leaf.handle("add-party-reject.request", epref=4, cause=21)
    assert s.messages() == ["RELEASE"] and s.sends()[0].cause == 21 and leaf.state == "U11"


def test_leaf_side_follows_the_network_setup() -> None:
    leaf = Call(7, "user")
    s = leaf.handle("SETUP", epref=3, multipoint=True)
    assert leaf.multipoint and leaf.party_states() == {3: "P6"} and leaf.state == "U6"
    s = leaf.handle("alerting.request")
    assert leaf.party_states() == {3: "P4"} and s.sends()[0].ies == (("endpoint_reference", 3),)
    leaf.handle("setup.response")
    s = leaf.handle("CONNECT_ACK")
    assert leaf.party_states() == {3: "P10"} and leaf.state == "U10"
    s = leaf.handle("ADD_PARTY", epref=8)
    assert indications(s) == [("add-party.indication", None, 8)]
    s = leaf.handle("add-party-ack.request", epref=8)
    assert sends(s) == [("ADD_PARTY_ACK", None, 8)] and leaf.party_state(8) == "P10"


def test_network_side_answers_the_root() -> None:
    net = Call(5, "network")
    net.handle("SETUP", epref=0)
    assert net.multipoint and net.party_states() == {0: "P6"}
    net.handle("proceeding.request")
    net.handle("alerting.request")
    assert net.party_state(0) == "P4"
    net.handle("ADD_PARTY", epref=1)                         # the root adds while alerting (U4/N4)
    s = net.handle("setup.response")
    assert net.state == "N10" and net.party_states() == {0: "P10", 1: "P6"}
    assert s.sends()[0].ies == (("endpoint_reference", 0),)
    net.handle("party-alerting.request", epref=1)
    s = net.handle("add-party-ack.request", epref=1)
    assert sends(s) == [("ADD_PARTY_ACK", None, 1)]


def test_party_message_on_a_point_to_point_call_gets_status_101() -> None:
    c = Call(2, "user")
    c.handle("setup.request")
    assert not c.multipoint and c.parties == {}
    c.handle("CONNECT")
    s = c.handle("ADD_PARTY", epref=1)
    assert s.answered and sends(s) == [("STATUS", 101, None)] and c.parties == {}
    status = s.sends()[0]
    assert dict(status.ies) == {"call_state": 10, "endpoint_reference": 1, "endpoint_state": 0}
    with pytest.raises(UNIProtocolError, match="point-to-multipoint"):
        c.handle("add-party.request")


def test_unknown_endpoint_reference_is_answered_and_not_kept() -> None:
    c = active_root()
    s = c.handle("ADD_PARTY_ACK", epref=9)
    assert s.answered and sends(s) == [("DROP_PARTY_ACK", 89, 9)] and 9 not in c.parties
    assert c.counters.causes[89] == 1


def test_party_message_without_endpoint_reference_gets_status_96() -> None:
    c = active_root()
    s = c.handle("DROP_PARTY", cause=16)
    assert sends(s) == [("STATUS", 96, None)] and CountCause(96) in s.actions
    assert c.party_states() == {0: "P10"}


def test_party_message_in_a_call_state_that_does_not_allow_it() -> None:
    c = Call(1, "user", multipoint=True)
    c.handle("setup.request")
    c.handle("ALERTING")
    s = c.handle("ADD_PARTY_ACK", epref=0)                    # U4: the call is not active yet
    assert s.answered and dict(s.sends()[0].ies) == {"call_state": 4, "endpoint_reference": 0, "endpoint_state": 7}


def test_status_enquiry_for_a_party() -> None:
    c = active_root(parties=1)
    s = c.handle("STATUS_ENQUIRY", epref=1)
    assert [dict(x.ies) for x in s.sends()] == [{"endpoint_state": 10, "call_state": 10, "endpoint_reference": 1}]
    s = c.handle("STATUS_ENQUIRY", epref=6)
    assert dict(s.sends()[0].ies)["endpoint_state"] == 0 and 6 not in c.parties
    s = c.handle("STATUS_ENQUIRY")
    assert dict(s.sends()[0].ies) == {"call_state": 10}


def test_status_with_endpoint_reference_reaches_the_party() -> None:
    c = active_root(parties=1)
    s = c.handle("STATUS", call_state=10, cause=30, epref=1, endpoint_state=0)
    assert 1 not in c.parties and ("drop-party-ack.indication", 30, 1) in indications(s)


def test_release_received_releases_every_party_and_stops_their_timers() -> None:
    c = active_root()
    e = c.handle("add-party.request").epref
    s = c.handle("RELEASE", cause=16)
    assert c.state == "U12" and c.parties == {} and StopTimer("T399", instance=e) in s.actions
    s = c.handle("release.response")
    assert s.messages() == ["RELEASE_COMPLETE"] and c.released


def test_call_reference_not_in_use() -> None:
    c = Call(3, "network")
    s = c.handle("ADD_PARTY", epref=1)
    assert sends(s) == [("RELEASE_COMPLETE", 81, None)] and c.released and c.parties == {}


def test_caller_errors_are_typed() -> None:
    c = active_root()
    with pytest.raises(UNIProtocolError, match="no party"):
        c.handle("T399", epref=4)
    with pytest.raises(UNIProtocolError, match="endpoint reference is required"):
        c.handle("drop-party.request")
    with pytest.raises(UNIProtocolError, match="internal"):
        c.handle("parties.none-left")
    with pytest.raises(UNIProtocolError, match="internal"):
        c.handle("call.released")
    with pytest.raises(UnknownEventError):
        c.handle("RESTART")                                     # the global call reference's business
    with pytest.raises(ParameterError):
        Call(1 << 23, "user")
    with pytest.raises(UNIProtocolError):
        c.handle("add-party.request", epref=0)                 # endpoint reference in use
    assert c.party_states() == {0: "P10"} and c.state == "U10"


def test_endpoint_references_are_not_reused_at_once() -> None:
    c = active_root()
    first = c.handle("add-party.request").epref
    c.handle("ADD_PARTY_REJECT", epref=first, cause=17)
    second = c.handle("add-party.request").epref
    assert second != first and second not in (0,) and c.party_states()[second] == "P1"
    c._next_epref = 0x7FFF                                  # wraps, skipping the values in use
    assert c.allocate_epref() == 0x7FFF and c.allocate_epref() == 1


def test_long_message_names_are_accepted() -> None:
    c = Call(1, "user")
    c.handle("SETUP")
    c.handle("setup.response")
    assert c.handle("CONNECT_ACKNOWLEDGE").state == "U10"
    s = c.handle("LEAF_SETUP_REQUEST")                        # not implemented here: cause 97
    assert s.answered and s.sends()[0].cause == 97


def test_every_message_type_of_the_codec_has_an_event() -> None:
    constants = pytest.importorskip("firmware.uni.constants")
    from firmware.uni.machines import events as ev
    for mt in constants.MessageType:
        assert ev.canonical(mt.name) in ev.ALL_MESSAGES, mt
    assert {int(s) for s in constants.CallState} >= {0, 1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 61, 62}
