"""The rows of Q.2931 5.6.9 / 5.6.10 (signalling AAL reset and failure, T309) in the call and party
tables, driven on a bare machine."""

from __future__ import annotations

import pytest

from firmware.uni.machines import Call, Indicate, Send, StartTimer, StopTimer
from firmware.uni.machines import events as ev


def active_user_call() -> Call:
    c = Call(1, "user", multipoint=True)
    c.handle(ev.SETUP_REQUEST)
    c.handle(ev.CONNECT)
    assert c.state == "U10"
    c.handle(ev.ADD_PARTY_REQUEST)             # party 1 being added (P1)
    return c


def indications(step) -> list[tuple[str, int | None]]:
    return [(a.primitive, a.cause) for a in step.actions if isinstance(a, Indicate)]


@pytest.mark.parametrize("side, setup", [("user", ev.SETUP_REQUEST), ("network", ev.SETUP)])
def test_a_call_being_set_up_is_cleared_internally_with_cause_27(side, setup) -> None:
    c = Call(1, side, multipoint=True)
    c.handle(setup, **({"multipoint": True} if setup == ev.SETUP else {}))
    step = c.handle(ev.AAL_RELEASE_INDICATION)
    assert c.released and not c.parties
    assert ("release.confirm", 27) in indications(step)
    assert not step.sends()                    # nothing can be sent: the link is down


def test_an_active_call_waits_on_t309_and_its_adding_party_is_cleared() -> None:
    c = active_user_call()
    step = c.handle(ev.AAL_RELEASE_INDICATION)
    assert c.state == "U10" and c.party_states() == {0: "P10"}
    assert any(isinstance(a, StartTimer) and a.timer == "T309" for a in step.actions)
    assert ("add-party-reject.indication", 27) in indications(step)
    again = c.handle(ev.AAL_RELEASE_INDICATION)      # T309 runs already: not restarted
    assert not again.actions and c.machine.running == {"T309": 10.0}


def test_reestablishment_stops_t309_and_enquires_for_the_call_and_each_party() -> None:
    c = active_user_call()
    c.handle(ev.AAL_RELEASE_INDICATION)
    step = c.handle(ev.AAL_ESTABLISH_CONFIRM)
    assert any(isinstance(a, StopTimer) and a.timer == "T309" for a in step.actions)
    enquiries = [a for a in step.actions if isinstance(a, Send) and a.message == ev.STATUS_ENQUIRY]
    assert [a.instance for a in enquiries] == [None, 0]
    assert "T322" in c.machine.running and "T309" not in c.machine.running


def test_t309_expiry_clears_the_call_internally() -> None:
    c = active_user_call()
    c.handle(ev.AAL_RELEASE_INDICATION)
    step = c.handle("T309")
    assert c.released and not c.parties and not step.sends()
    assert ("release.confirm", 27) in indications(step)


def test_a_clearing_call_is_cleared_internally() -> None:
    c = active_user_call()
    c.handle(ev.RELEASE_REQUEST)
    assert c.state == "U11"
    step = c.handle(ev.AAL_RELEASE_INDICATION)
    assert c.released and any(isinstance(a, StopTimer) and a.timer == "T308" for a in step.actions)


def test_aal_primitives_are_not_offered_to_the_local_user() -> None:
    c = active_user_call()
    assert not {e for e, _ in c.allowed_primitives()} & set(ev.AAL_PRIMITIVES)
