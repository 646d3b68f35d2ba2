"""A test bed: the switch control plane on a real hw.fabric fabric (programmed through its register
file), in-memory signalling channels over the virtual clock, a root and leaves on the ports.

With ``data=True`` the fabric also switches cells: :meth:`Bed.run_until` advances the fabric and the
clock together (the fabric up to each control-plane event, then the event), and hands every cell a
leaf port delivers to that leaf's sink."""

from __future__ import annotations

from typing import Any

import numpy as np

from firmware.endpoint import DataSink, LeafBehaviour, LeafEndpoint, RootEndpoint
from firmware.switch import ControlPlane, SwitchConfig, channel_pair
from firmware.uni import builders as B
from firmware.uni.machines import Timers
from hw.clock import Clock
from hw.fabric.config import FabricConfig
from hw.fabric.fabric import Fabric

DELAY = 100            # one-way signalling delay in cell slots (283 us at OC-3c)


class Bed:
    def __init__(self, ports: int = 16, *, config: SwitchConfig | None = None, timers: Timers | None = None,
                 data: bool = False, delay: int = DELAY, fabric_config: FabricConfig | None = None,
                 codec: str = "fast") -> None:
        self.clock = Clock("OC-3c")
        self.fabric = Fabric(fabric_config or FabricConfig(ports=ports, vcs=256, leaves=512, buffers=4096))
        self.config = config or SwitchConfig.uniform(ports, **({} if timers is None else {"timers": timers}))
        self.pairs = [channel_pair(self.clock, delay, (f"switch:{i}", f"user:{i}"), codec=codec) for i in range(ports)]
        self.switch = ControlPlane(self.config, self.clock, self.fabric.regs, [a for a, _ in self.pairs])
        self.data = data
        self.leaves: dict[int, LeafEndpoint] = {}
        self.roots: dict[int, RootEndpoint] = {}

    def addr(self, port: int, esi: int = 1) -> bytes:
        return self.config.aesa_of(port, esi=esi)

    def in_domain(self, index: int, esi: int = 1) -> bytes:
        """An AESA inside the switch's domain under prefix ``index`` (unassigned when no port has it)."""
        dom = self.config.domain[0]
        head = dom.value.to_bytes(20, "big")[: dom.bits // 8]
        return head + index.to_bytes(2, "big") + esi.to_bytes(6, "big") + b"\0"

    def root(self, port: int = 0, **kw: Any) -> RootEndpoint:
        kw.setdefault("address", self.addr(port))
        r = RootEndpoint(self.clock, self.pairs[port][1], name=f"root{port}", **kw)
        self.roots[port] = r
        return r

    def leaf(self, port: int, behaviour: LeafBehaviour | dict | None = None, **kw: Any) -> LeafEndpoint:
        if not isinstance(behaviour, dict):
            behaviour = {self.addr(port): behaviour or LeafBehaviour.accept()}
        behaviours = behaviour
        kw.setdefault("sink", DataSink(engine="kernel"))
        leaf = LeafEndpoint(self.clock, self.pairs[port][1], behaviours, name=f"leaf{port}", **kw)
        self.leaves[port] = leaf
        if self.data:
            self.fabric.port(port).wants_every_cell = True
        return leaf

    # ---- time
    def run(self, seconds: float) -> None:
        self.run_until(self.clock.now + self.clock.slots(seconds))

    def run_until(self, slot: int) -> None:
        while True:
            t = self.clock.peek()
            if t is None or t > slot:
                break
            self._fabric_to(t)
            self.clock.run_next()
        self._fabric_to(slot)
        self.clock.run_until(slot)

    def _fabric_to(self, slot: int) -> None:
        if not self.data or slot <= self.fabric.now:
            return
        self.fabric.run(slot)
        for port, leaf in self.leaves.items():
            r = self.fabric.port(port).receive()
            if len(r):
                leaf.sink.feed(r.cells, r.slots)

    # ---- data
    def send(self, port: int, cells: np.ndarray) -> np.ndarray:
        """Put cells on ``port``'s input line from now (the root's adapter transmitting)."""
        if self.fabric.now < self.clock.now:
            self._fabric_to(self.clock.now)
        return self.fabric.port(port).send(cells, at=max(self.clock.now, self.fabric.now))


def traffic(pcr: int) -> Any:
    """A CBR-like descriptor: forward PCR (CLP 0+1), no backward traffic (point-to-multipoint)."""
    return B.traffic_descriptor(forward_pcr_01=pcr, backward_pcr_01=0)
