"""How long one ADD PARTY -> ADD PARTY ACK exchange takes through the SwitchNode, in virtual time.

The exchange is four message crossings, each over one line and through the fabric: ADD PARTY (root ->
switch CPU), SETUP (CPU -> leaf), CONNECT (leaf -> CPU), ADD PARTY ACK (CPU -> root). A crossing costs
its frame's cells (one per slot at the line rate), the line's delay, the fabric (a cell arriving in a
slot leaves at the earliest in the next) and one slot for the receiver, which runs at the slot after the
frame's last cell (firmware/switch/node.py, rules 1-3). SSCOP sends an SD at once (Q.2110 20.3: SD on
AA-DATA.request in Data Transfer Ready) and needs no POLL to deliver it in sequence (Q.2110 20.4), so
the exchange must end well inside one Timer_POLL.

The bound is computed from the frames the SSCOP endpoints actually sent during the exchange (their
AAL5 cells, I.363.5), not written down as a number. Regression: the MCM rig's ``run_while`` stepped from
one already-scheduled clock event to the next, and the events of the cell path are created inside the
node's loop, so a waiting caller saw the exchange end only at the next SSCOP timer - exactly one
Timer_POLL (0.75 s by default, 0.1 s with a short POLL).
"""

from __future__ import annotations

import dataclasses

import pytest

from cm.mcm import McmConfig
from cm.mcm.rig import McmRig
from firmware.network import Network
from firmware.signalling_link import Direction
from firmware.sscf import UNI_SSCOP_PARAMS
from hw.aal5 import pdu_cells

#: Slots a message crossing may take beyond its cells and the line delay: one through the fabric (a cell
#: arriving in slot s leaves in s + 1 at the earliest, output-queued, nothing ahead of it) and one for the
#: receiver to run (the slot after the frame's last cell).
FABRIC_SLOTS, RECEIVER_SLOTS = 1, 1
#: Message crossings of ADD PARTY -> ADD PARTY ACK through the switch (see the module doc).
CROSSINGS = 4
SHORT_POLL = dataclasses.replace(UNI_SSCOP_PARAMS, timer_poll=0.1)


class FrameCells:
    """Counts the AAL5 cells of every SSCOP PDU the given endpoints send (their taps)."""

    def __init__(self, endpoints) -> None:
        self.cells = 0
        for saal in endpoints:
            saal.tap = self._tap(saal.tap)

    def _tap(self, inner):
        def tap(direction, octets, slot):
            if direction is Direction.TX:
                self.cells += pdu_cells(len(octets))
            if inner is not None:
                inner(direction, octets, slot)
        return tap


def bound_slots(cells: int, delay_slots: int) -> int:
    return cells + CROSSINGS * (delay_slots + FABRIC_SLOTS + RECEIVER_SLOTS)


@pytest.mark.parametrize("delay_slots", [0, 40])
@pytest.mark.parametrize("sscop", [None, SHORT_POLL], ids=["poll-0.75s", "poll-0.1s"])
def test_add_party_crosses_the_switch_in_its_cells_time(delay_slots, sscop):
    net = Network(4, link_delay_slots=delay_slots, sscop=sscop)
    root = net.add_root(0)
    net.add_leaf(1)
    leaf = net.add_leaf(2)
    script = net.script()
    call = script.make_call(1)
    net.run(0.01)
    assert call.state == "U10"
    poll = (sscop or UNI_SSCOP_PARAMS).timer_poll
    net.run(2 * poll)  # SSCOP quiet: the first SD's POLL/STAT round is over
    frames = FrameCells([root.saal, leaf.saal, net.node.saal[0], net.node.saal[2]])
    start = net.clock.now
    epref = script.add_party(2)
    party = call.parties[epref]
    assert net.node.run_while(lambda: not party.connected, start + net.clock.slots(2 * poll))
    took = net.clock.now - start
    assert party.history[-1] == (net.clock.now, "add-party-ack.indication", None)
    bound = bound_slots(frames.cells, delay_slots)
    assert took <= bound, f"ADD PARTY -> ACK took {took} slots, the cells and lines allow {bound}"
    assert took >= CROSSINGS * delay_slots   # it did cross the four lines
    assert net.clock.rate.slots_to_seconds(took) < poll / 100


def test_run_while_stops_at_the_event_that_ends_the_wait():
    """``SwitchNode.run_while`` checks after every event, those the cell path made included."""
    net = Network(3)
    net.add_root(0)
    net.add_leaf(1)
    script = net.script()
    call = script.make_call(1)
    end = net.clock.slots(1.0)
    assert net.node.run_while(lambda: call.state != "U10", end)
    assert net.clock.now == call.parties[0].history[-1][0] < net.clock.slots(0.001)
    assert not net.node.run_while(lambda: True, net.clock.now + 100)   # never true: runs to the end
    assert net.clock.now == call.parties[0].history[-1][0] + 100


@pytest.mark.parametrize("sscop", [None, SHORT_POLL], ids=["poll-0.75s", "poll-0.1s"])
def test_mcm_add_party_completes_in_its_cells_time(sscop):
    """The same exchange from the client: NdisClAddParty -> ProtocolClAddPartyComplete through the MCM,
    the adapter and the switch (cm.mcm.rig)."""
    network = {} if sscop is None else {"sscop": sscop}
    rig = McmRig(ports=3, config=McmConfig(sscop=sscop) if sscop else None, mode="report", network=network)
    rig.up(limit_seconds=5)
    poll = (sscop or UNI_SSCOP_PARAMS).timer_poll
    call = rig.client.make_call(rig.address(1))
    assert rig.run_while(lambda: call.phase.value == "making", limit_seconds=1)
    rig.run(2 * poll)
    frames = FrameCells([rig.mcm.saal, rig.net.leaves[2].saal, rig.net.node.saal[0], rig.net.node.saal[2]])
    start = rig.clock.now
    party = rig.client.add_party(call, rig.address(2))
    assert rig.run_while(lambda: not party.add_completions, limit_seconds=2 * poll)
    took = rig.clock.now - start
    assert party.phase.value == "active"
    bound = bound_slots(frames.cells, 0)
    assert took <= bound, f"NdisClAddParty -> completion took {took} slots, the cells allow {bound}"
    assert rig.clock.rate.slots_to_seconds(took) < poll / 100
