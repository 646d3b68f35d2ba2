"""A host on the emulated adapter, on a network: what the MCM's tests, the fault tests, the soak, the
``ndis`` benchmark and a driver developer's experiments run on.

The host: an :class:`hw.adapter.Adapter` in its host memory, the NDIS model with the rule checker
attached, the MCM (:class:`cm.mcm.AtmMcm`) bound to the adapter only through its resources, and a CoNDIS
client (:class:`cm.client.CoNdisClient`) bound to the MCM, all on one virtual clock.

The network, one of:

* :class:`ScriptedNetwork` - the network side of the UNI, scripted, at the far end of a cable (an
  :class:`hw.link.Link` from the adapter, port a, to the network, port b, the cell-available signals
  wired both ways, docs/adapter.md "Time"): a network-side SSCOP
  (:class:`firmware.signalling_link.SignallingLink` with its :class:`~firmware.signalling_link.CellPort` on
  the cable) and a network-side :class:`firmware.switch.interface.UniInterface` answering each SETUP and
  ADD PARTY as the :class:`firmware.endpoint.LeafBehaviour` of its called number says (the leaf is taken
  to sit right behind the switch): accept (CONNECT / ADD PARTY ACKNOWLEDGE), alert first, reject with a
  cause (RELEASE / ADD PARTY REJECT), stay silent (the root's T310 / T399 run out), leave after a while
  (DROP PARTY, or RELEASE for the last party). It can also drop a party or release a call on demand.
* :class:`SwitchNetwork` - the whole stack: a :class:`firmware.network.Network` whose
  :class:`~firmware.switch.node.SwitchNode` (a hw.fabric fabric, one :class:`hw.link.Link` per port, a
  network-side SAAL per port whose AAL5 cells go through the fabric's control port, the
  :class:`~firmware.switch.control_plane.ControlPlane`) carries the adapter on port 0 and a
  :class:`firmware.endpoint.attach.LeafStation` (its own SSCOP over AAL5 cells on its own line) on every
  other port. Every UNI, the MCM's included, is a line of the switch, so impairments can be put on any
  of them (``network.line(port)``). :class:`cm.mcm.rig.McmRig` is this testbed under another name.

:meth:`Testbed.run` runs the clock (and, for the switch, the fabric and the lines with it, in the
SwitchNode's co-simulation loop) up to a time; :meth:`Testbed.run_while` stops at the very event that
ends its condition.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from cm.client import CoNdisClient
from cm.mcm import AdapterResources, AtmMcm, McmConfig
from cm.ndis.dispatcher import Ndis
from cm.ndis.irql import CPU
from cm.ndis.params import ATM_ADDRESS
from cm.rules import RuleChecker
from firmware.endpoint import DataSink, LeafBehaviour
from firmware.endpoint.attach import LeafStation
from firmware.network import Network
from firmware.signalling_link import CellPort, SignallingLink
from firmware.switch.channel import SaalChannel
from firmware.switch.interface import UniCall, UniInterface
from firmware.uni import access
from firmware.uni.machines import Indicate, Timers
from firmware.uni.machines import events as ev
from firmware.uni.machines.timers import DEFAULT_TIMERS
from hw.adapter import Adapter, AdapterConfig, HostMemory
from hw.clock import Clock
from hw.errors import FieldError
from hw.link import Link, Port

#: The switch port the host (adapter and MCM) is plugged into.
HOST_PORT = 0

#: First VCI the scripted network hands out (VCIs 0..31 are reserved, I.361 2.2.3).
FIRST_VCI = 32


def address_octets(address: ATM_ADDRESS | bytes | str) -> bytes:
    """An address as the Called party number carries it: an AESA's 20 octets, or E.164 digits in
    ASCII (an ATM_ADDRESS, those octets, or E.164 digits as text)."""
    if isinstance(address, ATM_ADDRESS):
        return bytes(address.digits)
    if isinstance(address, str):
        return address.lstrip("+").encode("ascii")
    return bytes(address)


# ----------------------------------------------------------------------------------------------------
# the scripted network


@dataclass
class NetworkParty:
    """One party as the scripted network sees it: endpoint reference, called number, what happened."""

    epref: int
    called: bytes
    behaviour: LeafBehaviour
    history: list[tuple[int, str, int | None]] = field(default_factory=list)
    outcome: str | None = None

    def events(self) -> list[str]:
        return [e for _, e, _ in self.history]


@dataclass
class NetworkCall:
    """One call the root made, at the network side: its UNI call, connection identifier, parties."""

    ucall: UniCall
    vpi: int
    vci: int
    parties: dict[int, NetworkParty] = field(default_factory=dict)
    history: list[tuple[int, str, int | None]] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.ucall.closed

    def active(self) -> list[int]:
        return sorted(e for e, p in self.ucall.machine.parties.items() if p.state == "P10")


class ScriptedNetwork:
    """The network side of the adapter's UNI, answering as scripted (see the module documentation).

    ``behaviours``: called number (ATM_ADDRESS, its octets, or E.164 text) -> LeafBehaviour; numbers not
    named get ``default``. ``timers``: the network side's Q.2931/Q.2971 timers."""

    def __init__(self, clock: Clock, port: Port, *, behaviours: Mapping[Any, LeafBehaviour] | None = None,
                 default: LeafBehaviour = LeafBehaviour.accept(), timers: Timers = DEFAULT_TIMERS,
                 name: str = "network") -> None:
        self.clock = clock
        self.name = name
        self.behaviours = {address_octets(k): v for k, v in (behaviours or {}).items()}
        self.default = default
        self.saal = SignallingLink(clock, name=f"{name}.saal", side="network")
        self.sink = DataSink(engine="kernel")
        self.cable = CellPort(self.saal, port, other=self.sink.feed)
        self.channel = SaalChannel(self.saal, name=f"{name}.sig")
        self.uni = UniInterface(clock, self.channel, "network", timers=timers, name=f"{name}.uni", listener=self)
        self.calls: list[NetworkCall] = []
        self.counters: Counter[str] = Counter()
        self._next_vci = FIRST_VCI

    def behaviour(self, called: bytes) -> LeafBehaviour:
        return self.behaviours.get(called, self.default)

    # ---- the interface's listener
    def on_indication(self, iface: UniInterface, ucall: UniCall, ind: Indicate, message: Any) -> None:
        p, e, cause = ind.primitive, ind.instance, ind.cause
        self.counters[p] += 1
        call = ucall.owner
        if p == "setup.indication":
            self._setup(ucall, message)
            return
        if not isinstance(call, NetworkCall):
            return
        call.history.append((self.clock.now, p, cause))
        party = call.parties.get(e) if e is not None else None
        if party is not None:
            party.history.append((self.clock.now, p, cause))
        if p == "add-party.indication":
            self._add_party(call, e, message)
        elif p == "drop-party.indication":
            if party is not None and party.outcome in (None, "active", "silent"):
                party.outcome = "dropped-by-root"
            if iface.accepts(ucall, ev.DROP_PARTY_ACK_REQUEST, e):
                iface.request(ucall, ev.DROP_PARTY_ACK_REQUEST, epref=e)          # Q.2971
        elif p in ("release.indication", "release.confirm"):
            for party in call.parties.values():
                party.outcome = party.outcome or "released"
            if not ucall.closed and iface.accepts(ucall, ev.RELEASE_RESPONSE):
                iface.request(ucall, ev.RELEASE_RESPONSE)                          # Q.2931 5.4.3

    def on_closed(self, iface: UniInterface, ucall: UniCall) -> None:
        self.counters["calls_closed"] += 1

    def on_link_state(self, iface: UniInterface, up: bool, cause: Any) -> None:
        self.counters[f"link_{'up' if up else 'down'}"] += 1

    # ---- answers
    def _setup(self, ucall: UniCall, message: Any) -> None:
        vci = self._next_vci
        self._next_vci += 1
        call = NetworkCall(ucall, 0, vci)
        ucall.owner = call
        self.calls.append(call)
        called = access.called_address(message) or b""
        first = access.endpoint_reference(message) or 0
        behaviour = self.behaviour(called)
        party = call.parties[first] = NetworkParty(first, called, behaviour)
        party.history.append((self.clock.now, "setup.indication", None))
        # Q.2931 5.1.2: the connection identifier goes back in the first answer
        self.uni.request(ucall, ev.PROCEEDING_REQUEST, content={"connection_id": self.uni.B.connection_identifier(0, vci)})
        self._answer(call, party, first_party=True)

    def _add_party(self, call: NetworkCall, epref: int, message: Any) -> None:
        called = access.called_address(message) or b""
        party = call.parties[epref] = NetworkParty(epref, called, self.behaviour(called))
        party.history.append((self.clock.now, "add-party.indication", None))
        self._answer(call, party, first_party=False)

    def _answer(self, call: NetworkCall, party: NetworkParty, *, first_party: bool) -> None:
        b = party.behaviour
        if b.kind == "silent":
            party.outcome = "silent"
            return
        if b.kind == "reject" and not b.alert_for:
            self._later(b.after, self._reject, call, party, first_party)
            return
        if b.kind in ("alert", "reject"):
            self._later(b.after, self._alert, call, party, first_party)
            self._later(b.after + b.alert_for, self._reject if b.kind == "reject" else self._accept, call, party,
                        first_party)
            return
        self._later(b.after, self._accept, call, party, first_party)

    def _later(self, seconds: float, fn: Callable[..., None], *args: Any) -> None:
        if seconds:
            self.clock.schedule_in(max(1, self.clock.slots(seconds)), fn, *args)
        else:
            fn(*args)

    def _alert(self, call: NetworkCall, party: NetworkParty, first_party: bool) -> None:
        u = call.ucall
        event = ev.ALERTING_REQUEST if first_party else ev.PARTY_ALERTING_REQUEST
        if self.uni.accepts(u, event, None if first_party else party.epref):
            self.uni.request(u, event, epref=None if first_party else party.epref)

    def _accept(self, call: NetworkCall, party: NetworkParty, first_party: bool) -> None:
        u = call.ucall
        event = ev.SETUP_RESPONSE if first_party else ev.ADD_PARTY_ACK_REQUEST
        if not self.uni.accepts(u, event, None if first_party else party.epref):
            self.counters[f"late {event}"] += 1
            return
        self.uni.request(u, event, epref=None if first_party else party.epref)
        party.outcome = "active"
        if party.behaviour.drop_after is not None:
            self._later(party.behaviour.drop_after, self.drop_party, call, party.epref, party.behaviour.drop_cause)

    def _reject(self, call: NetworkCall, party: NetworkParty, first_party: bool) -> None:
        u = call.ucall
        cause = party.behaviour.cause
        party.outcome = "rejected"
        if first_party:
            self.release(call, cause)
        elif self.uni.accepts(u, ev.ADD_PARTY_REJECT_REQUEST, party.epref):
            self.uni.request(u, ev.ADD_PARTY_REJECT_REQUEST, epref=party.epref, cause=cause)
        elif self.uni.accepts(u, ev.DROP_PARTY_REQUEST, party.epref):
            # after PARTY ALERTING the refusal is a DROP PARTY with the cause (Q.2971)
            self.uni.request(u, ev.DROP_PARTY_REQUEST, epref=party.epref, cause=cause)

    # ---- on demand
    def drop_party(self, call: NetworkCall, epref: int, cause: int = ev.CAUSE_NORMAL_CLEARING) -> bool:
        """The leaf of ``epref`` leaves: DROP PARTY to the root (the machine sends RELEASE instead for the
        call's last party, Q.2971). False when the party's state does not allow it."""
        u = call.ucall
        if u.closed or not self.uni.accepts(u, ev.DROP_PARTY_REQUEST, epref):
            return False
        party = call.parties.get(epref)
        if party is not None:
            party.outcome = "left"
        self.uni.request(u, ev.DROP_PARTY_REQUEST, epref=epref, cause=cause)
        return True

    def release(self, call: NetworkCall, cause: int = ev.CAUSE_NORMAL_CLEARING) -> bool:
        """The network clears the whole call (RELEASE)."""
        u = call.ucall
        if u.closed or not self.uni.accepts(u, ev.RELEASE_REQUEST):
            return False
        self.uni.request(u, ev.RELEASE_REQUEST, cause=cause)
        return True

    def frames(self, call: NetworkCall) -> list[bytes]:
        """The AAL5 frames the root sent on the call's VC that reached the network."""
        return self.sink.sdus(call.vpi, call.vci)

    # ---- what the testbed asks of a network
    def run_until(self, slot: int, stop: Callable[[], bool] | None = None) -> bool:
        """The clock's events up to ``slot`` (nothing else runs here: the cable moves cells in the
        events its cell-available signals schedule). ``stop``: asked after every event; True ends the
        run at that event and is returned."""
        return run_clock(self.clock, slot, stop)

    def signalling_links(self) -> list[SignallingLink]:
        """The SAAL endpoints that must be established before the host can make calls."""
        return [self.saal]

    def check_conservation(self) -> None:
        """The network-side SSCOP's and the data sink's books."""
        self.saal.check_conservation()
        self.sink.check_conservation()


def run_clock(clock: Clock, slot: int, stop: Callable[[], bool] | None = None) -> bool:
    """Run ``clock``'s events up to ``slot``, asking ``stop()`` after each; True when it answered True
    (the clock is then at that event's slot), False when ``slot`` was reached."""
    if stop is None:
        clock.run_until(slot)
        return False
    peek, run_next = clock.peek, clock.run_next
    while True:
        t = peek()
        if t is None or t > slot:
            break
        run_next()
        if stop():
            return True
    clock.run_until(slot)
    return False


# ----------------------------------------------------------------------------------------------------
# the switch


class SwitchNetwork:
    """The whole stack behind the host (see the module documentation): a ``ports``-port
    :class:`firmware.network.Network` with a leaf station on every port but the host's (port 0).

    ``behaviours``: port -> LeafBehaviour of the leaf there (accept by default); ``addresses``: how many
    addresses each leaf answers for (end system identifiers 1..n under its port's prefix: several
    parties of one call may sit on one leaf); ``timers``: every UNI's Q.2931/Q.2971 timers (the switch's
    and the leaves'); other keywords go to the Network (``sscop``, ``link_impairments``,
    ``link_delay_slots``, ``seed``, ``architecture``, ``buffer_cells``, ``codec``, ``line_rate``...)."""

    def __init__(self, *, ports: int = 16, behaviours: Mapping[int, LeafBehaviour] | None = None, addresses: int = 1,
                 timers: Timers = DEFAULT_TIMERS, **network: Any) -> None:
        self.net = Network(ports, timers=timers, **network)
        self.clock = self.net.clock
        self.node = self.net.node
        self.control = self.node.control_plane
        self.config = self.net.config
        behaviours = dict(behaviours or {})
        for p in range(ports):
            if p != HOST_PORT:
                b = behaviours.get(p, LeafBehaviour.accept())
                self.net.add_leaf(p, {self.net.address(p, esi=k): b for k in range(1, addresses + 1)})
        self.leaves: dict[int, LeafStation] = self.net.leaves

    def address(self, port: int, esi: int = 1) -> ATM_ADDRESS:
        """An AESA the leaf on ``port`` answers for, as a client names it."""
        return ATM_ADDRESS.nsap(self.config.aesa_of(port, esi=esi))

    def attach(self, adapter: Adapter) -> Link:
        """Plug the host's adapter into port 0 (:meth:`firmware.switch.node.SwitchNode.attach`); its line
        is returned."""
        self.net.attach(HOST_PORT, adapter)
        return self.node.links[HOST_PORT]

    def line(self, port: int) -> Link:
        """The line of switch port ``port`` (port 0: the host's): ``set_impairments``, ``down``, ``up``."""
        return self.node.links[port]

    def cells_lost(self) -> int:
        """Cells the lines lost or dropped (random loss, bursts, loss of signal, queue full), and cells the
        ports' PHYs discarded for a bad HEC (bit errors)."""
        n = 0
        for i, link in enumerate(self.node.links):
            for lane in link.lanes:
                c = lane.counters
                n += c["cells_lost_random"] + c["cells_lost_burst"] + c["cells_lost_down"] \
                    + c["cells_dropped_queue_full"]
            n += self.node.port_counters(i)["hec_discarded"]
        return n

    # ---- what the testbed asks of a network
    def run_until(self, slot: int, stop: Callable[[], bool] | None = None) -> bool:
        """The SwitchNode's co-simulation loop up to ``slot`` (:meth:`SwitchNode.run_until`)."""
        return self.node.run_until(slot, stop)

    def signalling_links(self) -> list[SignallingLink]:
        """Every SAAL endpoint of the network: the switch's, one per port, and each leaf's. (On a bad line
        a leaf's BGN may need Timer_CC retries; a SETUP toward a leaf whose link is down is refused with
        cause 27, Q.2931 5.6.10.)"""
        return [*self.node.saal, *(leaf.saal for leaf in self.leaves.values())]

    def check_conservation(self) -> None:
        """The network's books: switch, lines, fabric, stations (:meth:`firmware.network.Network.check`)."""
        self.net.check()


# ----------------------------------------------------------------------------------------------------
# the testbed


class Testbed:
    """Host and network (see the module documentation).

    ``network``: "scripted" (keywords for :class:`ScriptedNetwork` in ``network_options``) or "switch"
    (keywords for :class:`SwitchNetwork`); ``mode``: the rule checker's ("strict" raises at a violation,
    "report" collects); ``deadline``: the checker's deadline for pending operations, in slots; ``config``:
    the MCM's; ``mcm_cls`` / ``client_cls``: the driver classes (broken variants in tests);
    ``link_delay``: the host line's propagation delay in slots (with the switch: every line's, unless
    ``network_options`` names ``link_delay_slots``)."""

    __test__ = False  # not a pytest test class

    def __init__(self, *, network: str = "scripted", mode: str = "strict", deadline: int | None = None,
                 config: McmConfig | None = None, mcm_cls: type = AtmMcm, client_cls: type = CoNdisClient,
                 link_delay: int = 0, adapter_config: AdapterConfig | None = None, host_memory: int = 32 << 20,
                 network_options: Mapping[str, Any] | None = None) -> None:
        CPU.reset()
        options = dict(network_options or {})
        if network == "scripted":
            self.clock = Clock("OC-3c")
            self.link = Link("OC-3c", name="cable", delay_slots=link_delay)
            self.network: ScriptedNetwork | SwitchNetwork = ScriptedNetwork(self.clock, self.link.b, **options)
            self.adapter = Adapter(self.clock, HostMemory(host_memory), adapter_config, name="atm0")
            self.adapter.attach(self.link.a)
            self.adapter.far_wake = self.network.cable.wake_rx
            self.network.cable.far_wake = self.adapter.wake_rx
        elif network == "switch":
            options.setdefault("link_delay_slots", link_delay)
            self.network = SwitchNetwork(**options)
            self.clock = self.network.clock
            self.adapter = Adapter(self.clock, HostMemory(host_memory), adapter_config, name="atm0")
            self.link = self.network.attach(self.adapter)
        else:
            raise FieldError("network", network, "'scripted' or 'switch'")
        self.ndis = Ndis(clock=lambda: self.clock.now)
        self.checker = RuleChecker(mode, deadline=deadline).attach(self.ndis)
        self.mcm = mcm_cls(self.ndis, AdapterResources.of(self.adapter), config)
        self.client = client_cls(self.ndis)
        self.client.bind(self.mcm.adapter_handle)

    # ---- time
    def run(self, seconds: float) -> None:
        self.run_until(self.clock.now + self.clock.slots(seconds))

    def run_until(self, slot: int) -> None:
        self.network.run_until(slot)

    def run_while(self, condition: Callable[[], bool], *, limit_seconds: float = 60.0) -> bool:
        """Run while ``condition()`` holds, checked before starting and after every clock event (those
        the cell path makes on the way included), at most ``limit_seconds`` of virtual time. True when
        the condition became false (the clock is then at the slot of the event that made it so)."""
        if not condition():
            return True
        clock = self.clock
        self.network.run_until(clock.now + clock.slots(limit_seconds), lambda: not condition())
        return not condition()

    def up(self, limit_seconds: float = 5.0) -> None:
        """Run until the host's signalling link is up, the client has the address family open and every
        signalling link of the network is up."""
        binding = self.client.binding
        links = self.network.signalling_links()
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
        """Every counter balances: the adapter's, the host line's, the host SSCOP's, the network's."""
        self.adapter.check_conservation()
        self.link.check_conservation()
        self.mcm.saal.check_conservation()
        self.network.check_conservation()


__all__ = ["FIRST_VCI", "HOST_PORT", "NetworkCall", "NetworkParty", "ScriptedNetwork", "SwitchNetwork", "Testbed",
           "address_octets", "run_clock"]
