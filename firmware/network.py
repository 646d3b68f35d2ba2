"""An emulated point-to-multipoint network, ready to script: a switch of N ports, a root and leaves
with behaviours on its ports, all over the real stack (Q.2931/Q.2971, SSCF-UNI, SSCOP, AAL5, cells,
links, the fabric and the control plane), on one virtual clock.

This is the layer a scenario runner drives::

    net = Network(16, timers=Timers(T303=30.0))
    net.add_root(0, pcr=20_000)
    net.add_leaf(1); net.add_leaf(2, LeafBehaviour.alert(0.5)); net.add_leaf(3, LeafBehaviour.reject(17))
    script = net.script()                      # the root's actions, with the bookkeeping of a run
    script.make_call(1); script.wait(0.01)
    script.add_party(2); script.add_party(3); script.wait(1.0)
    script.send_frames(5, 1000); script.wait(0.01)
    script.drop_party(2); script.close_call(); net.run_until_idle(60.0)
    res = net.results()                        # outcomes per party, frames per leaf, cells, counters
    net.check()                                # every counter balances, the switch is empty

A port can also take any user device that speaks the cell-available protocol (the emulated adapter:
``net.attach(port, adapter)``; it plugs into ``net.node.port(port)``), which is how a host driver becomes
the root.

Idle (:meth:`Network.idle`): no cell on a line or in the fabric, nothing unacknowledged in any SSCOP,
no Q.2931/Q.2971 timer running at any UNI, no endpoint action waiting on the clock. SSCOP's keep-alive
timers run forever on an established link, so "idle" is not "no event".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping

from firmware.endpoint.attach import LeafStation, RootStation
from firmware.endpoint.errors import EndpointError
from firmware.endpoint.leaf import LeafBehaviour
from firmware.endpoint.root import RootCall
from firmware.sscop.machine import SSCOPParams
from firmware.switch.config import SwitchConfig
from firmware.switch.errors import RoutingError
from firmware.switch.node import SwitchNode
from firmware.uni import fastbuild
from firmware.uni.machines import events as ev
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers
from hw.clock import Clock
from hw.fabric.config import Arch, FabricConfig
from hw.link import Impairments


class Network:
    """A switch of ``ports`` ports with stations on them. ``timers``: the Q.2931/Q.2971 timers of every
    UNI (switch and stations); ``sscop``: SSCOP's parameters everywhere; ``codec``: "fast" or "scapy" for
    every message; ``architecture`` and ``buffer_cells``: the fabric's; ``link_delay_slots``,
    ``link_impairments``: every line's; ``seed``: of the lines' random draws; ``traffic_entries``: fabric
    VC and leaf entries kept from the control plane for a traffic program (SwitchNode.traffic_entries)."""

    def __init__(self, ports: int = 16, *, line_rate: str = "OC-3c", architecture: str = "oq",
                 buffer_cells: int = 4096, codec: str = "fast", timers: Timers = DEFAULT_TIMERS,
                 sscop: SSCOPParams | None = None, link_delay_slots: int = 0,
                 link_impairments: Impairments | None = None, config: SwitchConfig | None = None, seed: int = 1,
                 clock: Clock | None = None, traffic_entries: int = 0) -> None:
        self.clock = clock if clock is not None else Clock(line_rate)
        self.config = config if config is not None else SwitchConfig.uniform(ports, rate=line_rate, timers=timers)
        self.timers = timers
        self.sscop = sscop
        self.codec = codec
        n = self.config.port_count
        fabric = FabricConfig(ports=n, arch=Arch.parse(architecture), buffers=buffer_cells,
                              vcs=max(256, 4 * n), leaves=max(512, 8 * n))
        self.node = SwitchNode(self.clock, self.config, fabric_config=fabric, codec=codec,
                               link_delay_slots=link_delay_slots, link_impairments=link_impairments, seed=seed,
                               sscop=sscop, traffic_entries=traffic_entries)
        self.roots: dict[int, RootStation] = {}
        self.leaves: dict[int, LeafStation] = {}
        self.devices: dict[int, Any] = {}

    def __repr__(self) -> str:
        return (f"<Network {self.config.port_count} ports, roots {sorted(self.roots)}, leaves {sorted(self.leaves)}, "
                f"slot {self.clock.now}>")

    # ---- building
    def address(self, port: int, esi: int = 1) -> bytes:
        """An AESA on ``port`` under the switch's address plan."""
        return self.config.aesa_of(port, esi=esi)

    def add_root(self, port: int = 0, *, address: Any = None, pcr: int | None = None, traffic: Any = None,
                 **kw: Any) -> RootStation:
        """A root on ``port``. ``pcr``: the forward peak cell rate of its calls (CLP 0+1, no backward
        traffic: a point-to-multipoint call); ``traffic``: a whole traffic descriptor instead; default
        best effort."""
        self._free(port)
        if pcr is not None:
            traffic = fastbuild.traffic_descriptor(forward_pcr_01=pcr, backward_pcr_01=0)
        root = RootStation(self.node, port, address=address, timers=self.timers, sscop=self.sscop, codec=self.codec,
                           traffic=traffic, **kw)
        self.roots[port] = root
        return root

    def add_leaf(self, port: int, behaviour: LeafBehaviour | Mapping[Any, LeafBehaviour] | None = None, *,
                 address: Any = None, **kw: Any) -> LeafStation:
        """A leaf on ``port`` answering for ``address`` (default: the port's first AESA) with ``behaviour``
        (default accept), or for every address of a mapping."""
        self._free(port)
        if not isinstance(behaviour, Mapping):
            behaviour = {address if address is not None else self.address(port): behaviour or LeafBehaviour.accept()}
        leaf = LeafStation(self.node, port, behaviour, timers=self.timers, sscop=self.sscop, codec=self.codec, **kw)
        self.leaves[port] = leaf
        return leaf

    def attach(self, port: int, device: Any) -> None:
        """Plug any user device into ``port`` (see :meth:`SwitchNode.attach`)."""
        self._free(port)
        self.node.attach(port, device)
        self.devices[port] = device

    def _free(self, port: int) -> None:
        if port in self.roots or port in self.leaves or port in self.devices:
            raise EndpointError(f"port {port} already has a device")

    def script(self, root: int | None = None) -> "RootScript":
        """The actions of the root on port ``root`` (default: the only root)."""
        if root is None:
            if len(self.roots) != 1:
                raise EndpointError(f"name the root: there are {len(self.roots)}")
            root = next(iter(self.roots))
        return RootScript(self, self.roots[root])

    # ---- time
    def run(self, seconds: float) -> None:
        self.node.run(seconds)

    def run_for(self, slots: int) -> None:
        self.node.run_for(slots)

    def run_until(self, slot: int) -> None:
        self.node.run_until(slot)

    def run_until_idle(self, limit: float, step: float = 0.01) -> bool:
        """Run in steps of ``step`` seconds until :meth:`idle`, for at most ``limit`` seconds; True when
        idle was reached."""
        end = self.clock.now + self.clock.slots(limit)
        step_slots = max(1, self.clock.slots(step))
        while not self.idle():
            if self.clock.now >= end:
                return False
            self.node.run_until(min(end, self.clock.now + step_slots))
        return True

    def idle(self) -> bool:
        if self.node.in_flight():
            return False
        for s in self._saal_endpoints():
            m = s.sscop
            if m.tx_queue or m.tx_buffer or m.rx_buffer:
                return False
        for iface in self._interfaces():
            for ucall in iface.calls.values():
                if ucall.timers:
                    return False
        for leaf in self.leaves.values():
            if leaf.endpoint.pending:
                return False
        return all(not script.pending for root in self.roots.values() for script in root.scripts)

    def _saal_endpoints(self):
        yield from self.node.saal
        for st in (*self.roots.values(), *self.leaves.values()):
            yield st.saal

    def _interfaces(self):
        yield from self.node.control_plane.ports
        for st in self.roots.values():
            yield st.endpoint.iface
        for st in self.leaves.values():
            yield st.endpoint.iface

    # ---- results
    def results(self) -> "Results":
        parties: list[PartyResult] = []
        for rport, root in self.roots.items():
            for script in root.scripts:
                parties += script.party_results()
        frames = {p: sum(l.sink.frames.values()) for p, l in self.leaves.items()}
        regs = self.node.fabric.regs
        tx = regs.array("PORT.TX_CELLS.COUNT")
        rx = regs.array("PORT.RX_CELLS.COUNT")
        n = self.config.port_count
        return Results(
            parties=parties, frames=frames,
            frame_errors={p: dict(Counter({k: v for (_, k), v in l.sink.errors.items()})) for p, l in self.leaves.items()},
            cells_received={p: sum(l.sink.cells.values()) for p, l in self.leaves.items()},
            cells_switched={i: int(tx[i]) for i in range(n)}, cells_arrived={i: int(rx[i]) for i in range(n)},
            node=dict(self.node.counters), control_plane=self.node.control_plane.counters,
            slot=self.clock.now, seconds=self.clock.seconds())

    def check(self) -> None:
        """Raise when a counter does not balance anywhere (switch, lines, fabric, stations)."""
        self.node.check_conservation()
        for st in (*self.roots.values(), *self.leaves.values()):
            st.check_conservation()


@dataclass
class PartyResult:
    """How one party of a root's call went, from both ends."""

    leaf: int | None            # the port its called number routes to (None: unknown to this network)
    epref: int                  # the root's endpoint reference
    outcome: str | None         # the root's view (firmware.endpoint.root: rejected, timed-out, dropped...)
    cause: int | None
    events: list[str]
    leaf_outcome: str | None = None   # the leaf's view (released, dropped, rejected, left)
    leaf_cause: int | None = None
    frames_expected: int = 0    # frames the root sent while this party was active


@dataclass
class Results:
    parties: list[PartyResult]
    frames: dict[int, int]                      # AAL5 frames each leaf received (good CRC)
    frame_errors: dict[int, dict[str, int]]     # frames each leaf discarded, by AAL5 error kind
    cells_received: dict[int, int]              # data cells each leaf received
    cells_switched: dict[int, int]              # cells the fabric delivered on each output
    cells_arrived: dict[int, int]               # cells that arrived on each fabric input
    node: dict[str, int]
    control_plane: Any
    slot: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


class RootScript:
    """A root's actions in a run, with their bookkeeping: which party is which leaf, which frames each
    member should have received. Each action happens at the clock's now; :meth:`wait` runs the network."""

    def __init__(self, net: Network, root: RootStation) -> None:
        self.net = net
        self.root = root
        self.call: RootCall | None = None
        self.party: dict[int, int] = {}           # leaf port -> endpoint reference (latest)
        self.port_of: dict[int, int] = {}         # endpoint reference -> leaf port
        self.expected: dict[int, list[bytes]] = {}   # leaf port -> frames sent while it was a member
        self.pending: list[Any] = []              # frame sends spaced in time, not yet done
        self._frame_no = 0
        root.scripts.append(self)

    def _leaf_address(self, leaf: int | bytes | str) -> bytes | str:
        """The called number for a leaf port (the first address its leaf answers for, else the port's
        first AESA), or an address given as it is."""
        if not isinstance(leaf, int):
            return leaf
        station = self.net.leaves.get(leaf)
        if station is None:
            return self.net.address(leaf)
        key = next(iter(station.endpoint.behaviours))       # firmware.endpoint.leaf.address_key form
        return key if key.startswith("+") else fastbuild.aesa(key)

    def _port_for(self, called: bytes | str) -> int | None:
        try:
            return self.net.node.control_plane.router.route(called)
        except RoutingError:  # an address outside the plan has no port
            return None

    def make_call(self, leaf: int | bytes, *, pcr: int | None = None, **kw: Any) -> RootCall:
        """SETUP of a point-to-multipoint call to ``leaf`` (a port with a leaf, or an address)."""
        if pcr is not None:
            kw["traffic"] = fastbuild.traffic_descriptor(forward_pcr_01=pcr, backward_pcr_01=0)
        called = self._leaf_address(leaf)
        self.call = self.root.setup(called, **kw)
        port = leaf if isinstance(leaf, int) else self._port_for(called)
        self.port_of[0] = port
        if port is not None:
            self.party[port] = 0
        return self.call

    def add_party(self, leaf: int | bytes) -> int:
        call = self._need_call()
        called = self._leaf_address(leaf)
        epref = call.add_party(called)
        port = leaf if isinstance(leaf, int) else self._port_for(called)
        self.port_of[epref] = port
        if port is not None:
            self.party[port] = epref
        return epref

    def drop_party(self, leaf: int, cause: int = ev.CAUSE_NORMAL_CLEARING) -> None:
        call = self._need_call()
        if leaf not in self.party:
            raise EndpointError(f"no party was added for leaf {leaf}")
        call.drop_party(self.party[leaf], cause)

    def close_call(self, cause: int = ev.CAUSE_NORMAL_CLEARING) -> None:
        self._need_call().release(cause)

    def wait(self, seconds: float) -> None:
        self.net.run(seconds)

    def members(self) -> list[int]:
        """The leaf ports of the parties the root has active now."""
        if self.call is None or self.call.closed:
            return []
        return sorted(p for e in self.call.active_parties() if (p := self.port_of.get(e)) is not None)

    def send_frames(self, count: int, size: int, spacing: float = 0.0) -> None:
        """``count`` AAL5 frames of ``size`` octets on the call's VC, ``spacing`` seconds apart (0: back to
        back); each is expected at the leaves that are members when it is sent."""
        call = self._need_call()
        if call.connection is None:
            raise EndpointError("the call has no connection identifier yet")
        if spacing <= 0:
            self._send([self._frame(size) for _ in range(count)])
            return
        gap = max(1, self.net.clock.slots(spacing))
        for k in range(count):
            handle = self.net.clock.schedule_in(k * gap, self._send_one, size)
            self.pending.append(handle)

    def _send_one(self, size: int) -> None:
        self.pending = [h for h in self.pending if h.active]
        if self.call is not None and not self.call.closed and self.call.connection is not None:
            self._send([self._frame(size)])

    def _frame(self, size: int) -> bytes:
        self._frame_no += 1
        head = f"frame {self._frame_no} ".encode()
        return (head * (size // len(head) + 1))[:size]

    def _send(self, sdus: list[bytes]) -> None:
        assert self.call is not None
        self.root.send(self.call, sdus)
        for p in self.members():
            self.expected.setdefault(p, []).extend(sdus)

    def _need_call(self) -> RootCall:
        if self.call is None:
            raise EndpointError("no call made yet (make_call first)")
        return self.call

    def party_results(self) -> list[PartyResult]:
        out = []
        if self.call is None:
            return out
        for e, rec in sorted(self.call.parties.items()):
            port = self.port_of.get(e)
            res = PartyResult(port, e, rec.outcome, rec.cause, rec.events())
            leaf = self.net.leaves.get(port) if port is not None else None
            if leaf is not None and leaf.parties:
                lp = leaf.parties[-1]
                res.leaf_outcome, res.leaf_cause = lp.outcome, lp.cause
            res.frames_expected = len(self.expected.get(port, [])) if port is not None else 0
            out.append(res)
        return out


__all__ = ["Network", "PartyResult", "Results", "RootScript"]
