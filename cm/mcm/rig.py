"""The MCM as the root of a whole emulated network: the host (NDIS with the rule checker, the CoNDIS
client, the MCM on the emulated adapter) plugged into port 0 of a :class:`firmware.network.Network`, whose
switch (:class:`firmware.switch.node.SwitchNode`: fabric, one line per port, per-port SAAL through the
control port, control plane) has leaf endpoints on the other ports, every one of them over its own line
and SSCOP.

This is what the fault tests (tests/faults) and the soak (tools/soak.py) run on. It differs from
:class:`cm.testbed.Testbed` with ``network="switch"`` in the network: there the leaves talk to the
control plane over in-memory channels and the root's cable is outside the switch; here every UNI,
the MCM's included, is a line of the switch with its impairments (``rig.line(port)``), so faults can be
put on any signalling link.

    rig = McmRig(ports=4, behaviours={3: LeafBehaviour.silent()})
    rig.up()                                              # SSCOP up, the client's AF open
    call = rig.client.make_call(rig.address(1)); rig.run_while(lambda: call.phase.value == "making")
    rig.line(0).down(); rig.run(5.0); rig.line(0).up()    # the MCM's signalling link fails
    rig.finish()                                          # close, unload: the checker looks for leftovers
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from cm.client import CoNdisClient
from cm.mcm import AdapterResources, AtmMcm, McmConfig
from cm.ndis.dispatcher import Ndis
from cm.ndis.irql import CPU
from cm.ndis.params import ATM_ADDRESS
from cm.rules import RuleChecker
from firmware.endpoint.leaf import LeafBehaviour
from firmware.network import Network
from hw.adapter import Adapter, AdapterConfig, HostMemory
from hw.link import Link

#: The port the host (adapter and MCM) is plugged into.
HOST_PORT = 0


class McmRig:
    """Host on port 0 of a ``ports``-port :class:`~firmware.network.Network`, a leaf on every other port
    (``behaviours``: port -> LeafBehaviour, accept by default; ``addresses``: end system identifiers each
    leaf answers for). ``network``: keywords for the Network (``timers``, ``sscop``,
    ``link_impairments``, ``seed``...); ``config``: the MCM's; ``mode``: the rule checker's."""

    def __init__(self, *, ports: int = 4, behaviours: Mapping[int, LeafBehaviour] | None = None, addresses: int = 1,
                 config: McmConfig | None = None, mode: str = "strict", deadline: int | None = None,
                 adapter_config: AdapterConfig | None = None, host_memory: int = 32 << 20,
                 network: Mapping[str, Any] | None = None) -> None:
        CPU.reset()
        self.net = Network(ports, **dict(network or {}))
        self.clock = self.net.clock
        behaviours = dict(behaviours or {})
        for p in range(1, ports):
            b = behaviours.get(p, LeafBehaviour.accept())
            self.net.add_leaf(p, {self.net.address(p, esi=k): b for k in range(1, addresses + 1)})
        self.adapter = Adapter(self.clock, HostMemory(host_memory), adapter_config, name="atm0")
        self.net.attach(HOST_PORT, self.adapter)
        self.ndis = Ndis(clock=lambda: self.clock.now)
        self.checker = RuleChecker(mode, deadline=deadline).attach(self.ndis)
        self.mcm = AtmMcm(self.ndis, AdapterResources.of(self.adapter), config)
        self.client = CoNdisClient(self.ndis)
        self.client.bind(self.mcm.adapter_handle)

    # ---- the network
    def address(self, port: int, esi: int = 1) -> ATM_ADDRESS:
        """An AESA the leaf on ``port`` answers for, as the client names it."""
        return ATM_ADDRESS.nsap(self.net.address(port, esi=esi))

    def line(self, port: int) -> Link:
        """The line of switch port ``port`` (port 0: the host's): ``set_impairments``, ``down``, ``up``."""
        return self.net.node.links[port]

    def cells_lost(self) -> int:
        """Cells the lines lost or dropped (random loss, bursts, loss of signal, queue full), and cells the
        ports' PHYs discarded for a bad HEC (bit errors)."""
        n = 0
        for i, link in enumerate(self.net.node.links):
            for lane in link.lanes:
                c = lane.counters
                n += c["cells_lost_random"] + c["cells_lost_burst"] + c["cells_lost_down"] \
                    + c["cells_dropped_queue_full"]
            n += self.net.node.port_counters(i)["hec_discarded"]
        return n

    # ---- time
    def run(self, seconds: float) -> None:
        self.net.run(seconds)

    def run_while(self, condition: Callable[[], bool], *, limit_seconds: float = 60.0) -> bool:
        """Run event by event while ``condition()`` holds, at most ``limit_seconds`` of virtual time.
        True when the condition became false."""
        clock = self.clock
        return self.net.node.run_while(condition, clock.now + clock.slots(limit_seconds))

    def up(self, limit_seconds: float = 5.0) -> None:
        """Run until the host's signalling link is up and the client has the address family open, and
        every leaf's signalling link is up too (on a bad line a leaf's BGN may need Timer_CC retries:
        a SETUP toward a leaf whose link is down is refused, cause 27, Q.2931 5.6.10)."""
        binding = self.client.binding
        links = [*self.net.node.saal, *(leaf.saal for leaf in self.net.leaves.values())]
        if not self.run_while(lambda: binding is None or not binding.af_open or not all(s.established for s in links),
                              limit_seconds=limit_seconds):
            down = [s.name for s in links if not s.established]
            raise AssertionError(f"the network is not up after {limit_seconds} s (address family open: "
                                 f"{binding is not None and binding.af_open}, links down: {down}): {self.mcm.counters}")

    # ---- the end
    def finish(self, *, settle_seconds: float = 1.0) -> None:
        """Close every connected call, close the AF, let the network answer, unload the client and the
        MCM (the checker then looks for leaks and requests left pending)."""
        for call in list(self.client.calls):
            if call.phase.value == "connected" and not call.closing:
                self.client.close_call(call)
        self.run(settle_seconds)
        binding = self.client.binding
        if binding is not None and binding.af_open:
            self.client.close_af()
        self.run(settle_seconds)
        self.client.unload()
        self.mcm.unload()

    def check_conservation(self) -> None:
        """The network's books (switch, lines, fabric, stations) and the host's (adapter, host SSCOP)."""
        self.net.check()
        self.adapter.check_conservation()
        self.mcm.saal.check_conservation()


__all__ = ["HOST_PORT", "McmRig"]
