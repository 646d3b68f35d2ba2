"""The testbed's switch is the whole stack (cm.testbed.SwitchNetwork, the same as cm.mcm.rig.McmRig): the
adapter is the device on port 0 of a firmware.network.Network's SwitchNode, each leaf a station with its
own SSCOP on its own line, and every signalling frame - the MCM's included - crosses the fabric's control
port. ``run_while`` stops at the event that ends its condition, which is what the ``ndis`` benchmark's
cycles rely on."""

from __future__ import annotations

from cm.mcm.rig import McmRig
from cm.ndis.dispatcher import NdisObserver
from cm.testbed import HOST_PORT, Testbed
from firmware.endpoint.attach import LeafStation
from firmware.endpoint.leaf import address_key
from tools.bench.ndis import _Run


class _AddCompletions(NdisObserver):
    def __init__(self) -> None:
        self.slots: list[int] = []

    def on_handler_call(self, call) -> None:
        if call.handler == "ProtocolClAddPartyComplete":
            self.slots.append(call.time)


def test_the_switch_testbed_carries_every_uni_through_the_fabric():
    tb = Testbed(network="switch", network_options={"ports": 4})
    net = tb.network
    assert net.node.device(HOST_PORT) is tb.adapter and tb.link is net.node.links[HOST_PORT]
    assert sorted(net.leaves) == [1, 2, 3] and all(isinstance(s, LeafStation) for s in net.leaves.values())
    tb.up()
    # up: the host's SSCOP, the switch's four and the three leaves' are established
    assert tb.mcm.saal.established and all(s.established for s in net.signalling_links())
    call = tb.client.make_call(net.address(1))
    assert tb.run_while(lambda: call.phase.value == "making", limit_seconds=1)
    assert call.phase.value == "connected"
    party = tb.client.add_party(call, net.address(2))
    assert tb.run_while(lambda: party.phase.value == "adding", limit_seconds=1)
    assert party.add_completions == [0]
    # the MCM's frames went into the fabric at port 0 and reached the switch CPU through the control port
    host = net.node.port_counters(HOST_PORT)
    assert host["injected"] > 0 and host["frames_in"] >= 3  # SETUP, ADD PARTY, and SSCOP's own PDUs
    assert net.node.port_counters(2)["frames_out"] > 0  # the SETUP toward the leaf of port 2
    assert [p.address for p in net.leaves[2].parties] == [address_key(net.config.aesa_of(2))]  # offered
    tb.finish()
    assert tb.checker.report().ok
    tb.check_conservation()


def test_mcm_rig_is_the_switch_testbed():
    rig = McmRig(ports=3)
    assert isinstance(rig, Testbed) and rig.net is rig.network.net
    assert rig.line(0) is rig.link and rig.address(2) == rig.network.address(2)


def test_run_while_stops_at_the_completion_that_ends_it():
    tb = Testbed(network="switch", mode="report", network_options={"ports": 4, "addresses": 3})
    seen = tb.ndis.attach(_AddCompletions())
    tb.up()
    call = tb.client.make_call(tb.network.address(1))
    tb.run_while(lambda: call.phase.value == "making", limit_seconds=1)
    parties = [tb.client.add_party(call, tb.network.address(p, esi=e)) for p in (2, 3) for e in (1, 2, 3)]
    assert tb.run_while(lambda: len(seen.slots) < len(parties), limit_seconds=10)
    # the clock stopped at the slot of the last completion, not at the limit
    assert len(seen.slots) == len(parties) and tb.clock.now == max(seen.slots)
    assert tb.clock.seconds() < 0.05
    assert all(p.add_completions == [0] for p in parties)


def test_a_benchmark_cycle_waits_for_its_completions_only():
    """Each cycle of ``atmemu bench ndis`` ends when NDIS has handed the client every completion (the
    client's own log is bounded: a wait on it would sit out its 10 s limit and measure the timeout)."""
    run = _Run("switch", 70)  # more completions per cycle than the client's log keeps
    start = run.tb.clock.now
    for _ in range(2):
        run.cycle()
    assert run.trips == 4 * 70
    assert run.tb.clock.seconds(run.tb.clock.now - start) < 0.05  # virtual time: answers, not time limits
    assert run.finish() == 0  # no rule broken, every counter balanced
