"""End to end with the MCM as the root (the scenario of issue 5): the client, NDIS with the strict rule
checker, the MCM, the adapter (rings, DMA, SAR, shaping, interrupts) on port 0 of the whole stack
(cm.testbed.SwitchNetwork: a firmware.network.Network whose SwitchNode carries every UNI - the MCM's
and each leaf's - as SSCOP over AAL5 cells on its own line through the fabric's control port, a leaf
station on every other port).

The client makes a point-to-multipoint call to port 1 and adds 14 parties (port 3 rejects with cause 17,
port 4 stays silent until the MCM's T399 runs out, port 2 alerts first, port 5 leaves by itself) plus two
the switch refuses (cause 1, cause 3); frames are streamed on the VC between the steps; parties are
dropped, then the rest, and the call is closed. Checked: every NdisClAddParty ended in exactly one
ProtocolClAddPartyComplete with the status the network decided; port 5's departure came as an incoming
drop; every leaf received exactly the frames sent while it was a member; the switch ends idle with its
counters balanced; no rule broken; every counter of the adapter, cable and SSCOPs balances."""

from __future__ import annotations

import random

import pytest

from cm.mcm import McmConfig
from cm.ndis.cause_status import close_status, completion_status
from cm.ndis.params import ATM_ADDRESS
from cm.ndis.status import NDIS_STATUS
from cm.testbed import Testbed
from firmware.endpoint import LeafBehaviour
from firmware.uni import builders as B
from firmware.uni.machines import Timers

BEHAVIOUR = {2: LeafBehaviour.alert(0.5), 3: LeafBehaviour.reject(17), 4: LeafBehaviour.silent(),
             5: LeafBehaviour.accept(drop_after=2.0)}
OUTSIDE = B.aesa("47.0005.80.ffe100.0000.0000.0001.000000000001.00")


def test_sixteen_ports_with_the_mcm_as_root():
    # the switch waits 2 x 30 s on a SETUP: the MCM's T399 (34 s, the default) ends the silent party
    tb = Testbed(network="switch", mode="strict", config=McmConfig(),
                 network_options={"ports": 16, "behaviours": BEHAVIOUR, "timers": Timers(T303=30.0)})
    tb.up()
    net, client = tb.network, tb.client
    expected: dict[int, list[bytes]] = {p: [] for p in net.leaves}
    port_of: dict[str, int] = {}

    def members() -> list[int]:
        return sorted(port_of[p.name] for p in call.parties if p.phase.value == "active")

    def burst(tag: str, n: int = 5) -> None:
        frames = [(f"{tag}:{i}:".encode() * (3 + 37 * i))[:9000] for i in range(n)]
        assert tb.mcm.MiniportCoSendNetBufferLists(tb.mcm.vcs[0], frames) == [NDIS_STATUS.SUCCESS] * n
        for p in members():
            expected[p] += frames
        tb.run(0.01)

    call = client.make_call(net.address(1))
    tb.run(0.01)
    assert call.phase.value == "connected"
    port_of[call.parties[0].name] = 1
    burst("one-leaf")
    for p in range(2, 16):
        port_of[client.add_party(call, net.address(p)).name] = p
    dom = net.config.domain[0]
    unassigned = dom.value.to_bytes(20, "big")[: dom.bits // 8] + (16).to_bytes(2, "big") + bytes(7)
    unalloc = client.add_party(call, ATM_ADDRESS.nsap(unassigned))
    noroute = client.add_party(call, ATM_ADDRESS.nsap(OUTSIDE))
    tb.run(1.0)
    assert members() == [1, 2] + list(range(5, 16))
    burst("thirteen")
    tb.run(3.0)  # port 5 leaves 2 s after it became active: an incoming drop, the client drops it
    assert members() == [1, 2] + list(range(6, 16))
    burst("twelve")
    tb.run(31.0)  # the MCM's T399 for port 4 runs out at 34 s
    by_port = {port_of[p.name]: p for p in call.all_parties if p.name in port_of}
    for p in (6, 7, 8):
        client.drop_party(by_port[p])
    tb.run(0.01)
    burst("nine")
    for p in range(9, 15):
        client.drop_party(by_port[p])
    tb.run(0.01)
    burst("three")
    assert members() == [1, 2, 15]
    client.close_call(call)
    tb.run(0.05)
    assert call.phase.value == "closed" and call.vc_deleted

    # ---- every add ended once, with the status the network decided
    status = {port_of[p.name]: p.add_completions for p in call.all_parties if p.name in port_of}
    assert status[3] == [completion_status(17)] == [NDIS_STATUS.RESOURCES]
    assert status[4] == [completion_status(102)] == [NDIS_STATUS.REQUEST_ABORTED]
    assert all(status[p] == [NDIS_STATUS.SUCCESS] for p in (1, 2, *range(5, 16)))
    assert unalloc.add_completions == [completion_status(1)] == [NDIS_STATUS.INVALID_ADDRESS]
    assert noroute.add_completions == [completion_status(3)] == [NDIS_STATUS.NO_ROUTE_TO_DESTINATION]
    assert [(c.target, c.status) for c in client.completions("IncomingDropParty")] == \
        [(by_port[5].name, close_status(16))]
    assert by_port[2].phase.value == "gone" and tb.mcm.counters["uni.party-alerting.indication"] == 1

    # ---- data: each leaf got exactly the frames sent while it was a member
    for p, leaf in net.leaves.items():
        got = [sdu for vc in sorted(leaf.sink.received) for _, sdu in leaf.sink.received[vc]]
        assert got == expected[p], (p, len(got), len(expected[p]))
        assert leaf.sink.crc_errors == 0
        leaf.sink.check_conservation()

    # ---- the leaves saw it their way
    leaf_outcome = {p: leaf.parties[0].outcome for p, leaf in net.leaves.items()}
    assert leaf_outcome[3] == "rejected" and leaf_outcome[5] == "left"

    # ---- everything back in Null, balanced, no rule broken
    tb.finish()
    assert tb.checker.report().ok, tb.checker.report().render()
    tb.run(1.0)
    sw = net.control
    sw.check_balance()
    assert sw.idle() and sw.fabric.empty and not sw.calls
    tb.check_conservation()


@pytest.mark.parametrize("seed", range(4))
def test_random_runs_through_the_switch(seed):
    """Random adds and drops through the real switch, whose leaves accept, alert, refuse, stay silent or
    leave by themselves: no rule broken, every add completed once with the status the leaf decided, the
    switch idle and balanced at the end."""
    rng = random.Random(seed)
    kinds = [LeafBehaviour.accept(), LeafBehaviour.alert(0.05), LeafBehaviour.reject(rng.choice((17, 21, 27))),
             LeafBehaviour.silent(), LeafBehaviour.accept(drop_after=0.2), LeafBehaviour.accept(after=0.01)]
    behaviours = {p: rng.choice(kinds) for p in range(2, 8)}
    timers = Timers(T303=1.0, T310=2.0, T308=2.0, T397=3.0, T398=1.0, T399_user=2.0, T399_network=1.5)
    tb = Testbed(network="switch", mode="strict", deadline=4 * 353_208, config=McmConfig(timers=timers),
                 network_options={"ports": 8, "addresses": 6, "behaviours": behaviours,
                                  "timers": Timers(T303=1.5, T310=2.0, T399_network=1.8)})
    tb.up()
    net, client = tb.network, tb.client
    call = client.make_call(net.address(1))
    tb.run(0.01)
    assert call.phase.value == "connected"
    port_of = {}
    used = set()
    for _ in range(40):
        if call.phase.value != "connected" or call.closing:
            break
        action = rng.random()
        live = [p for p in call.parties if p.phase.value == "active"]
        if action < 0.55:
            port, esi = rng.randrange(2, 8), rng.randrange(1, 7)
            if (port, esi) not in used:
                used.add((port, esi))
                port_of[client.add_party(call, net.address(port, esi)).name] = port
        elif action < 0.8 and len(live) > 1:
            client.drop_party(rng.choice(live[1:]))
        tb.run(rng.choice((0.001, 0.02, 0.3)))
    tb.run(4.0)
    tb.finish(settle_seconds=3.0)
    assert tb.checker.report().ok
    for party in call.all_parties:
        assert len(party.add_completions) == 1, party
        port = port_of.get(party.name)
        if port is None:
            continue
        kind = behaviours[port].kind
        got = party.add_completions[0]
        if kind == "reject":
            assert got == completion_status(behaviours[port].cause), (party, port)
        elif kind == "silent":
            assert got == completion_status(102), (party, port)
        elif not call.incoming_close:
            assert got == NDIS_STATUS.SUCCESS, (party, port, got)
    tb.run(3.0)
    net.control.check_balance()
    assert net.control.idle() and not net.control.calls
    tb.check_conservation()
