"""The SAAL signalling channel: Q.2931 over SSCF-UNI over SSCOP over AAL5 cells, behind the channel
interface the UNI and the control plane are written against. Messages wait for the link to come up
(Q.2931 5.1.1), those that cannot go because the establishment failed are counted as refused, the link's
loss and return reach the UNI layer, and a channel that keeps its link up re-establishes it."""

from __future__ import annotations

import pytest

from firmware.signalling_link import LinkCause, SignallingLink, connect
from firmware.switch.channel import SaalChannel
from firmware.switch.interface import UniInterface
from firmware.uni import access
from firmware.uni import fastbuild as F
from hw.clock import Clock
from hw.errors import FieldError
from hw.link import Link


class Pair:
    def __init__(self, *, establish: bool = True, codec: str = "fast") -> None:
        self.clock = Clock("OC-3c")
        self.link = Link("OC-3c", delay_slots=20, clock=self.clock)
        self.user_saal = SignallingLink(self.clock, name="user", side="user", codec=codec)
        self.net_saal = SignallingLink(self.clock, name="net", side="network", codec=codec)
        self.ports = connect(self.link, self.user_saal, self.net_saal)
        self.user = SaalChannel(self.user_saal, establish=establish)
        self.net = SaalChannel(self.net_saal)
        self.got: list = []
        self.net.attach(self.got.append, lambda octets, error: self.got.append(error))

    def run(self, seconds: float) -> None:
        self.clock.run_for(self.clock.slots(seconds))


@pytest.mark.parametrize("codec", ["fast", "scapy"])
def test_messages_wait_for_the_link_then_go_in_order(codec: str) -> None:
    pair = Pair(establish=False, codec=codec)
    for i in range(3):
        pair.user.send(F.DropPartyAcknowledge(7, i, 16))     # the link is not up: held, establishment asked
    assert pair.user.in_flight == 3 and pair.user.counters["establish_requests"] == 1
    pair.run(0.01)
    assert pair.user.up and pair.net.up and pair.user.in_flight == 0
    assert [access.endpoint_reference(m) for m in pair.got] == [0, 1, 2]
    assert all(access.is_fast(m) == (codec == "fast") for m in pair.got)
    assert pair.user.counters == {"held": 3, "sent": 3, "establish_requests": 1, "link_up": 1}
    pair.user.send(b"\x08\x00")                                  # no Q.2931 message: the far end's error
    pair.run(0.01)
    assert pair.net.counters["decode_errors"] == 1 and pair.got[-1].cause is None


def test_refused_when_the_link_cannot_be_established_and_retried_when_kept_up() -> None:
    pair = Pair(establish=True)
    pair.link.down()                                             # nothing gets through
    pair.user.send(F.StatusEnquiry(1))
    pair.run(6.0)                                                # MaxCC BGNs, Timer_CC apart: SSCOP gives up
    c = pair.user.counters
    assert c["refused"] == 1 and c["link_down"] >= 1 and not pair.user.up
    assert pair.user_saal.last_link_change[1] is LinkCause.NO_ANSWER
    pair.link.up()
    pair.run(3.0)                                                # retried a second after each failure
    assert pair.user.up and pair.user.counters["establish_requests"] >= 2
    pair.user.send(F.StatusEnquiry(2))
    pair.run(0.01)
    assert [access.call_reference(m) for m in pair.got] == [(2, 0)]


def test_the_uni_layer_hears_of_the_link() -> None:
    pair = Pair(establish=True)
    heard = []

    class Owner:
        def on_indication(self, *a):
            pass

        def on_closed(self, *a):
            pass

        def on_link_state(self, iface, up, cause):
            heard.append((up, cause))

    iface = UniInterface(pair.clock, pair.user, "user", listener=Owner())
    pair.run(0.01)
    pair.user_saal.release()                                     # AAL-RELEASE.request
    pair.run(0.01)
    assert [up for up, _ in heard] == [True, False] and heard[-1][1] is LinkCause.RELEASED
    assert iface.link_up is False and iface.counters.link_changes == {"up": 1, "down": 1}
    pair.run(1.5)                                                # the channel keeps its link up
    assert iface.link_up is True and pair.net.up


def test_typed_errors() -> None:
    clock = Clock("OC-3c")
    with pytest.raises(FieldError):
        SaalChannel("not a link")
    with pytest.raises(FieldError):
        SaalChannel(SignallingLink(clock), retry=0)
