"""Plugging the emulated endpoints into a switch port, over the real stack.

A :class:`Station` is what a user device runs on its UNI: a user-side SAAL endpoint
(:class:`~firmware.signalling_link.SignallingLink`, SSCF-UNI over SSCOP) carried as AAL5 cells on VPI
0/VCI 5 by a :class:`~firmware.signalling_link.CellPort` on the port's link, and a
:class:`~firmware.switch.channel.SaalChannel` over it, which establishes the link at once and keeps it
up. The station is the port's device for the switch (:meth:`firmware.switch.node.SwitchNode.attach`):
the switch's cells reach its CellPort through the cell-available signal.

* :func:`attach_root` - a :class:`RootStation`: a :class:`~firmware.endpoint.root.RootEndpoint` on the
  station, and :meth:`RootStation.send` to put a call's AAL5 frames on the line (after the signalling
  cells already queued, in order: the data goes into the fabric on the call's VPI/VCI);
* :func:`attach_leaf` - a :class:`LeafStation`: a :class:`~firmware.endpoint.leaf.LeafEndpoint` whose
  port's cells of other VCs than 0/5 go to its :class:`~firmware.endpoint.leaf.DataSink` (counted per VC,
  AAL5 reassembled, CRC checked).

Addresses default to the switch's address plan (``config.aesa_of(port)``), the codec to the switch's.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from firmware.endpoint.errors import EndpointError
from firmware.endpoint.leaf import DataSink, LeafBehaviour, LeafEndpoint
from firmware.endpoint.root import RootCall, RootEndpoint
from firmware.signalling_link import CellPort, SignallingLink
from firmware.sscop.machine import SSCOPParams
from firmware.switch.channel import SaalChannel
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers


class Station:
    """The user side of the signalling on one switch port: SAAL endpoint, CellPort, SAAL channel.
    ``other``: where cells of other VCs go (``other(cells, slots)``), None to count them as frames on
    the wrong VC."""

    def __init__(self, node: Any, port: int, *, name: str, codec: str | None = None, sscop: SSCOPParams | None = None,
                 other: Any = None) -> None:
        self.node = node
        self.port = port
        self.name = name
        self.clock = node.clock
        codec = codec if codec is not None else node.saal[port].codec
        self.saal = SignallingLink(node.clock, name=name, side="user", params=sscop, codec=codec)
        self.cell_port = CellPort(self.saal, node.port(port), other=other)
        self.channel = SaalChannel(self.saal, establish=True, name=name)
        node.attach(port, self.cell_port)

    @property
    def link(self):
        return self.node.links[self.port]

    def check_conservation(self) -> None:
        self.saal.check_conservation()
        self.cell_port.check_conservation()


class RootStation(Station):
    """A root endpoint on a switch port. ``endpoint`` is the :class:`RootEndpoint`; ``setup`` is its."""

    def __init__(self, node: Any, port: int, *, address: Any = None, timers: Timers = DEFAULT_TIMERS,
                 name: str | None = None, codec: str | None = None, sscop: SSCOPParams | None = None,
                 traffic: Any = None, aal: Any = None, qos: Any = None) -> None:
        name = name or f"root{port}"
        super().__init__(node, port, name=name, codec=codec, sscop=sscop)
        self.address = address if address is not None else node.config.aesa_of(port)
        self.endpoint = RootEndpoint(node.clock, self.channel, address=self.address, timers=timers, name=name,
                                     traffic=traffic, aal=aal, qos=qos)
        self.frames_sent = 0
        self.cells_sent = 0
        self.scripts: list[Any] = []   # firmware.network.RootScript runs of this root

    def setup(self, called: Any, **kw: Any) -> RootCall:
        """SETUP of a point-to-multipoint call (see :meth:`RootEndpoint.setup`)."""
        return self.endpoint.setup(called, **kw)

    @property
    def calls(self) -> list[RootCall]:
        return self.endpoint.calls

    def send(self, call: RootCall, sdus: list[bytes] | bytes) -> int:
        """AAL5 frames on ``call``'s VC, queued on the line from now (one cell per slot, behind what is
        queued already); returns the cells queued."""
        if isinstance(sdus, (bytes, bytearray)):
            sdus = [bytes(sdus)]
        if not sdus:
            return 0
        if call.connection is None:
            raise EndpointError(f"{self.name}: call {call.ucall.cref} has no connection identifier yet")
        cells = np.concatenate([call.cells(s) for s in sdus])
        return self.send_cells(cells, frames=len(sdus))

    def send_cells(self, cells: np.ndarray, *, frames: int = 0) -> int:
        taken = self.cell_port.send_cells(cells)
        self.cells_sent += taken
        self.frames_sent += frames
        return taken


class LeafStation(Station):
    """A leaf endpoint on a switch port; its data cells go to ``sink``. ``endpoint`` is the
    :class:`LeafEndpoint`."""

    def __init__(self, node: Any, port: int, behaviours: Mapping[Any, LeafBehaviour] | LeafBehaviour | None = None,
                 *, timers: Timers = DEFAULT_TIMERS, name: str | None = None, codec: str | None = None,
                 sscop: SSCOPParams | None = None, sink: DataSink | None = None) -> None:
        name = name or f"leaf{port}"
        self.sink = sink if sink is not None else DataSink()
        super().__init__(node, port, name=name, codec=codec, sscop=sscop, other=self.sink.feed)
        if behaviours is None or isinstance(behaviours, LeafBehaviour):
            behaviours = {node.config.aesa_of(port): behaviours or LeafBehaviour.accept()}
        self.endpoint = LeafEndpoint(node.clock, self.channel, behaviours, timers=timers, name=name, sink=self.sink)

    @property
    def parties(self):
        return self.endpoint.parties

    def check_conservation(self) -> None:
        super().check_conservation()
        self.sink.check_conservation()


def attach_root(node: Any, port: int, **kw: Any) -> RootStation:
    """A :class:`RootStation` on ``node``'s port ``port`` (keywords: ``address``, ``timers``, ``name``,
    ``codec``, ``sscop``, ``traffic``, ``aal``, ``qos``)."""
    return RootStation(node, port, **kw)


def attach_leaf(node: Any, port: int, behaviours: Mapping[Any, LeafBehaviour] | LeafBehaviour | None = None,
                **kw: Any) -> LeafStation:
    """A :class:`LeafStation` on ``node``'s port ``port``, answering for its address in the switch's
    plan with ``behaviours`` (one :class:`LeafBehaviour`, default accept) or for the addresses of a
    mapping (keywords: ``timers``, ``name``, ``codec``, ``sscop``, ``sink``)."""
    return LeafStation(node, port, behaviours, **kw)


__all__ = ["LeafStation", "RootStation", "Station", "attach_leaf", "attach_root"]
