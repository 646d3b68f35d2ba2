"""The switch as a whole, on the virtual clock: fabric, line ports, the CPU's signalling stacks behind
the control port, and the control plane.

:class:`SwitchNode` owns

* the :class:`hw.fabric.Fabric` (its register file is the only way the control plane touches it);
* one :class:`hw.link.Link` per line port: ``node.port(i)`` is the outside end, where a user device
  plugs in (an emulated adapter: ``adapter.attach(node.port(i))``, or a firmware station of
  :mod:`firmware.endpoint.attach`); the switch end feeds fabric input i through the port's PHY (HEC
  check and correction, I.432.1 4.3; idle cells set aside) and takes fabric output i;
* behind the control port, one network-side SAAL endpoint per port
  (:class:`~firmware.signalling_link.SignallingLink`: SSCF-UNI over SSCOP) whose AAL5 cells on
  VPI 0/VCI 5 go through the fabric: the fabric routes VPI 0/VCI 5 of every port to the control port,
  and the CPU sends out of port i with ``ControlPort.send(cells, port=i)``;
* the :class:`~firmware.switch.control_plane.ControlPlane` on those endpoints
  (:class:`~firmware.switch.channel.SaalChannel` each). It programs the fabric's VC and leaf entries
  from its first entry on; ``traffic_entries`` (or :meth:`SwitchNode.reserve_traffic_entries` before
  any call) keeps entries 2N.. below it for a traffic program (``fabric.load_traffic(program,
  first_entry=node.traffic_entries.start)``), so the two never share an entry.

Time (the co-simulation loop, :meth:`SwitchNode.run_until`). One clock; the fabric, the links and the
devices all count its slots. The loop keeps three rules, and with them no cell is early or late and no
slot is skipped:

1. *Before the fabric runs a slot, every cell arriving in it is injected.* A device queues cells on
   its link (at or after the clock's now); the lane's cell-available signal (``Lane.on_offer``) marks
   the port, and before the fabric advances the node transmits the queued cells (the lane runs ahead
   of the clock: their transmit slots were fixed when they were queued), passes them through the
   port's PHY and injects each run of consecutive arrivals at its arrival slot (transmit slot + the
   link's delay).
2. *The fabric never runs past a slot in which software must act.* It advances to the next clock
   event (or the end of the run) and stops early at the end of a slot in which a cell reached the
   control port or a port with a device (STOP, ``FabricPort.wants_every_cell``). Each departed cell is
   put on its port's link at its departure slot (a scheduled offer: the lane transmits it in exactly
   that slot) and the device is told (its ``wake_rx(cells, transmit slots)``), so it runs at the slot
   after the arrival; each control-port cell goes to its port's reassembler, and a completed frame
   reaches the port's SSCOP in an event at the slot after its last cell.
3. *Clock events run with the fabric at their slot.* An event (a timer, a device's receive run, the
   CPU's frame) may send: a device's cells go by rule 1, the CPU's cells are injected at once into the
   control port's input line (``at`` = now), behind the cells already waiting there.

Cost: the fabric is entered once per stretch between clock events and once per slot in which a cell
reaches software; links are touched only when they carry something; a quiet network costs one fabric
advance per clock event.

Counters (``counters``, per port in ``port_counters(i)``): ``cells_in`` (from the link), ``hec_discarded``,
``physical_layer``, ``injected``; ``cells_out`` (to the link), ``cells_late`` (a departure the lane could
not take in its slot: always 0); ``frames_in``/``frames_out`` of the CPU's SAR, its AAL5 errors;
:meth:`check_conservation` checks them, the links', the fabric's (every copy offered is delivered,
queued or dropped under a cause) and the signalling endpoints'.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import numpy as np

from firmware.signalling_link import SIGNALLING_VCI, SIGNALLING_VPI, SignallingLink
from firmware.sscop.machine import SSCOPParams
from firmware.switch.channel import SaalChannel
from firmware.switch.config import SwitchConfig
from firmware.switch.control_plane import ControlPlane
from firmware.switch.errors import SwitchConfigError, SwitchError
from hw.aal5 import Reassembler, segment
from hw.cell import is_physical_layer
from hw.clock import Clock
from hw.errors import FieldError
from hw.fabric.config import FabricConfig
from hw.fabric.fabric import Fabric
from hw.hec_receiver import HecReceiver
from hw.link import Impairments, Lane, Link, Port
from hw.rates import rate as _rate

PORT_COUNTERS = ("cells_in", "hec_discarded", "physical_layer", "injected", "cells_out", "cells_late",
                 "frames_in", "frames_out", "frames_late", "aal5_errors")


class CpuSar:
    """The switch CPU's SAR for one port's signalling VC: SSCOP PDUs of the port's network-side
    :class:`SignallingLink` as AAL5 cells (I.363.5) through the fabric's control port."""

    def __init__(self, node: "SwitchNode", index: int, endpoint: SignallingLink) -> None:
        self.node = node
        self.index = index
        self.endpoint = endpoint
        self.reassembler = Reassembler()
        self.counters = node._port_counters[index]
        self.last_aal5_error = None
        endpoint.frame_out = self.send_frame

    def send_frame(self, sdu: bytes) -> None:
        cells = segment(sdu, SIGNALLING_VPI, SIGNALLING_VCI)
        self.counters["frames_out"] += 1
        self.node._cpu_send(self.index, cells)

    def receive(self, cells: np.ndarray, slots: np.ndarray) -> None:
        """Control-port cells that came in on this port (in slot order)."""
        result = self.reassembler.feed(cells, slots)
        if result.errors:
            self.counters["aal5_errors"] += len(result.errors)
            self.last_aal5_error = result.errors[-1]
        if not len(result):
            return
        clock = self.node.clock
        frame_in = self.endpoint.frame_in
        counters = self.counters
        for frame in result:  # the records as Python values (reading result.slot would build an array)
            counters["frames_in"] += 1
            slot = frame.slot
            due = slot + 1
            if due < clock.now:  # cannot happen while the loop keeps its rules; counted if it did
                counters["frames_late"] += 1
                due = clock.now
            clock.schedule_at(due, frame_in, frame.sdu, slot)


class SwitchNode:
    """A point-to-multipoint ATM switch with its line ports and control plane, on ``clock``.

    ``config``: the control plane's configuration (ports, address plan...). ``fabric_config``: the
    fabric's (default: as many ports, enough VC and leaf entries). ``line_rate``: every port's rate
    (default: the configuration's; the clock counts this rate's slots). ``codec``: "fast" or "scapy",
    for every network-side UNI. ``link_delay_slots``, ``link_impairments``, ``emit_idle``, ``seed``:
    the lines. ``sscop``: the network side's SSCOP parameters (default Q.2130's). ``traffic_entries``:
    fabric VC and leaf entries, from 2N, that the control plane leaves to a traffic program."""

    def __init__(self, clock: Clock, config: SwitchConfig, *, fabric_config: FabricConfig | None = None,
                 line_rate: Any = None, codec: str = "fast", link_delay_slots: int = 0,
                 link_impairments: Impairments | None = None, emit_idle: bool = False, seed: int = 0,
                 sscop: SSCOPParams | None = None, name: str = "switch", traffic_entries: int = 0) -> None:
        if not isinstance(clock, Clock) or clock.rate is None:
            raise FieldError("clock", clock, "a hw.clock.Clock with a line rate")
        n = config.port_count
        rates = {p.rate for p in config.ports}
        rate = _rate(line_rate) if line_rate is not None else config.ports[0].rate
        if len(rates) > 1:
            raise SwitchConfigError("ports", sorted(r.name for r in rates), "one line rate for every port")
        if rate != clock.rate:
            raise SwitchConfigError("line_rate", rate.name, f"the clock's rate ({clock.rate.name}): the clock counts "
                                    "the lines' cell slots")
        self.clock = clock
        self.config = config
        self.name = name
        self.fabric = Fabric(fabric_config or FabricConfig(ports=n, vcs=max(256, 4 * n), leaves=max(512, 8 * n)))
        if self.fabric.config.ports != n:
            raise SwitchConfigError("fabric_config.ports", self.fabric.config.ports, f"{n}, the switch's ports")
        self.links = [Link(rate, name=f"{name}.{i}", a="user", b="switch", delay_slots=link_delay_slots,
                           impairments=link_impairments, emit_idle=emit_idle, seed=seed * 1000 + i, clock=clock)
                      for i in range(n)]
        self._port_counters = [Counter() for _ in range(n)]
        self._phy = [HecReceiver() for _ in range(n)]
        self._dirty: set[int] = set()
        self._wake: list[Callable[[np.ndarray, np.ndarray], Any] | None] = [None] * n
        self._devices: list[Any] = [None] * n
        for i, link in enumerate(self.links):
            link.a_to_b.on_offer = self._offered(i)
        self.saal = [SignallingLink(clock, name=f"{name}:{i}", side="network", params=sscop, codec=codec)
                     for i in range(n)]
        self.sar = [CpuSar(self, i, s) for i, s in enumerate(self.saal)]
        self.channels = [SaalChannel(s, name=f"{name}:{i}") for i, s in enumerate(self.saal)]
        self.control_plane = ControlPlane(config, clock, self.fabric.regs, self.channels, name=name)
        if traffic_entries:
            self.reserve_traffic_entries(traffic_entries)
        self._control = self.fabric.config.control
        self._injected = 0  # cells given to the fabric (line inputs and the control port)
        self.advances = 0   # fabric.advance calls
        self.stops = 0      # of which ended early (a cell for software)

    def __repr__(self) -> str:
        return f"<SwitchNode {self.name} {len(self.links)} ports slot {self.clock.now}>"

    # ---- ports and devices
    @property
    def ports(self) -> int:
        return len(self.links)

    def port(self, index: int) -> Port:
        """The outside end of line port ``index``'s link: plug a device in here."""
        self._check_port(index)
        return self.links[index].a

    def attach(self, index: int, device: Any) -> None:
        """Plug ``device`` into port ``index``: ``device.attach(port)`` is called when the device has it
        (an emulated adapter); cells the switch sends toward the port reach ``device.wake_rx(cells,
        transmit slots)`` (the cell-available signal) when it has one; the fabric stops after every slot
        in which the port sends, so the device runs at its cells' slots."""
        self._check_port(index)
        if self._devices[index] is not None:
            raise SwitchError(f"{self.name}: port {index} already has {self._devices[index]!r}")
        attach = getattr(device, "attach", None)
        if callable(attach):
            attach(self.links[index].a)
        self._devices[index] = device
        self._wake[index] = getattr(device, "wake_rx", None)
        self.fabric.port(index).wants_every_cell = True

    # ---- the fabric's tables
    @property
    def traffic_entries(self) -> range:
        """The fabric's VC and leaf entries kept from the control plane for a traffic program: from 2N
        (after the fabric's reserved entries) up to the control plane's first entry."""
        return range(2 * self.fabric.config.ports, self.control_plane.fabric.first_entry)

    def reserve_traffic_entries(self, count: int) -> range:
        """Keep ``count`` fabric entries from 2N for a traffic program: the control plane's programmer
        starts after them (FabricProgrammer.start_at). Before the control plane programs anything (a
        later call raises FabricProgrammingError); ``count`` is checked (FieldError). Returns
        :attr:`traffic_entries`."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise FieldError("traffic_entries", count, "an int >= 0")
        self.control_plane.fabric.start_at(2 * self.fabric.config.ports + count)
        return self.traffic_entries

    def device(self, index: int) -> Any:
        return self._devices[index]

    def _check_port(self, index: int) -> None:
        if not isinstance(index, int) or not 0 <= index < len(self.links):
            raise FieldError("port", index, f"a line port 0..{len(self.links) - 1}")

    def _offered(self, index: int) -> Callable[[Lane, int], None]:
        dirty = self._dirty

        def mark(lane: Lane, n: int) -> None:
            dirty.add(index)
        return mark

    # ---- time
    def run(self, seconds: float) -> None:
        self.run_until(self.clock.now + self.clock.slots(seconds))

    def run_for(self, slots: int) -> None:
        self.run_until(self.clock.now + slots)

    def run_until(self, until: int, stop: Callable[[], bool] | None = None) -> bool:
        """Run the clock's events and the fabric together up to slot ``until`` (see the module doc).

        ``stop``: asked after every clock event the loop runs - those the cell path makes on the way
        (a device's receive run, the CPU's frame, a DPC) as much as those scheduled before the call.
        When it answers True the run ends there, at that event's slot, and ``run_until`` returns True
        (False: ``until`` was reached). A caller waiting for something (an NDIS completion, a party
        state) must pass it here: the exchange it waits for is made of events created inside this
        loop, so stepping from one already-scheduled event (``clock.peek()``) to the next sees it only
        at the next protocol timer - one SSCOP Timer_POLL later while an SD is outstanding."""
        clock, fabric = self.clock, self.fabric
        if until < clock.now:
            raise FieldError("until", until, f">= now ({clock.now})")
        dirty = self._dirty
        while True:
            if dirty:
                self._feed()
            t = clock.peek()
            target = until if t is None or t > until else t
            if fabric.now < target:
                adv = fabric.advance(target)
                self.advances += 1
                if adv.stopped:
                    self.stops += 1
                if adv.ports:
                    self._deliver(adv.ports)
                continue
            if t is None or t > until:
                break
            clock.run_next()
            if stop is not None and stop():
                return True
        clock.run_until(until)
        return False

    def run_while(self, condition: Callable[[], bool], until: int) -> bool:
        """Run while ``condition()`` holds, checked before starting and after every clock event, at most
        up to slot ``until``; True when the condition became false (the clock is then at the slot of
        the event that made it so)."""
        if not condition():
            return True
        self.run_until(until, stop=lambda: not condition())
        return not condition()

    def _feed(self) -> None:
        """Rule 1: transmit what devices queued, through each port's PHY into the fabric."""
        dirty = sorted(self._dirty)
        self._dirty.clear()
        fabric = self.fabric
        for i in dirty:
            lane = self.links[i].a_to_b
            lane.advance(lane.busy_until)
            d = lane.take(None)                      # what the switch end's port receives
            n = d.cells.shape[0]
            if not n:
                continue
            c = self._port_counters[i]
            c["cells_in"] += n
            cells, slots = d.cells, d.slots
            keep = self._phy[i].receive_mask(cells)   # I.432.1 4.3.1: single-bit correction, detection
            if not (keep[0] if n == 1 else keep.all()):
                c["hec_discarded"] += int(n - keep.sum())
                cells, slots = cells[keep], slots[keep]
            if lane.emit_idle and cells.shape[0]:
                physical = is_physical_layer(cells)      # idle cells (I.432.1 4.4): not for the ATM layer
                if physical.any():
                    c["physical_layer"] += int(physical.sum())
                    cells, slots = cells[~physical], slots[~physical]
            m = cells.shape[0]
            if not m:
                continue
            c["injected"] += m
            self._injected += m
            if m == 1 or slots[-1] - slots[0] == m - 1:
                fabric.inject(i, cells, at=int(slots[0]))
            else:  # runs of consecutive arrivals, each at its first slot
                breaks = np.flatnonzero(np.diff(slots) != 1) + 1
                for run_cells, run_slots in zip(np.split(cells, breaks), np.split(slots, breaks)):
                    fabric.inject(i, run_cells, at=int(run_slots[0]))

    def _deliver(self, ports: tuple[int, ...]) -> None:
        """Rule 2: cells that left the fabric, onto their links (or to the CPU)."""
        take = self.fabric._take   # FabricPort.receive of each output, without the port object
        control = self._control
        for p in ports:
            r = take(p)
            if not len(r):
                continue
            if p == control:
                self._to_cpu(r)
                continue
            lane = self.links[p].b_to_a
            cells, slots = r.cells, r.slots
            taken = lane.offer_departures(cells, slots)   # the fabric's arrays are fresh: given away
            c = self._port_counters[p]
            c["cells_out"] += taken
            if not taken:
                continue
            if lane.last_tx != int(slots[taken - 1]):
                c["cells_late"] += taken
            wake = self._wake[p]
            if wake is not None:
                wake(cells[:taken] if taken < cells.shape[0] else cells, slots[:taken])

    def _to_cpu(self, r) -> None:
        ins = r.in_ports
        if ins.shape[0] <= 16:  # a few signalling cells: on Python ints
            first, *rest = ins.tolist()
            if all(p == first for p in rest):
                self.sar[first].receive(r.cells, r.slots)
                return
        elif (ins == ins[0]).all():
            self.sar[int(ins[0])].receive(r.cells, r.slots)
            return
        for p in np.unique(ins).tolist():
            sel = ins == p
            self.sar[p].receive(r.cells[sel], r.slots[sel])

    def _cpu_send(self, port: int, cells: np.ndarray) -> None:
        """Rule 3: the CPU's cells into the control port's input line, from now, out of ``port``
        (``ControlPort.send(cells, port=port)``: the routing tag of reserved VC N + port; ``port`` is
        one of the switch's line ports, checked when its SAR was made)."""
        self.fabric.inject(self._control, cells, at=self.clock.now, tag=self._control + port)
        self._injected += cells.shape[0]

    # ---- views and checks
    @property
    def counters(self) -> Counter[str]:
        """Every port's counters summed (each name of :data:`PORT_COUNTERS` present, zeros too), and
        the loop's ``advances`` and ``stops``."""
        total: Counter[str] = Counter(dict.fromkeys(PORT_COUNTERS, 0))
        for c in self._port_counters:
            total.update(c)
        total["advances"] = self.advances
        total["stops"] = self.stops
        return total

    def port_counters(self, index: int) -> Counter[str]:
        out: Counter[str] = Counter(dict.fromkeys(PORT_COUNTERS, 0))
        out.update(self._port_counters[index])
        return out

    def in_flight(self) -> int:
        """Cells on their way: queued on a link lane or waiting in a receive buffer, injected into the
        fabric and not yet arrived, or queued in it (0: the lines and the fabric are empty)."""
        n = 0
        for link in self.links:
            for lane in link.lanes:
                n += lane.counters["cells_queued"] + lane.rx_backlog
        arrived = int(self.fabric.regs.array("PORT.RX_CELLS.COUNT").sum())
        return n + (self._injected - arrived) + self.fabric.queued_copies()

    def check_conservation(self) -> None:
        """Raise :class:`SwitchError` naming every count that does not add up: the links', the ports'
        PHYs, the fabric's copies, the CPU's SARs and signalling endpoints, the control plane's books."""
        problems = []
        for i, link in enumerate(self.links):
            try:
                link.check_conservation()
            except Exception as exc:  # noqa: BLE001 - collected with its message
                problems.append(str(exc))
            c = self._port_counters[i]
            if c["cells_in"] != c["hec_discarded"] + c["physical_layer"] + c["injected"]:
                problems.append(f"port {i}: cells in {c['cells_in']} != HEC discards {c['hec_discarded']} + "
                                f"physical-layer {c['physical_layer']} + injected {c['injected']}")
            if c["cells_late"] or c["frames_late"]:
                problems.append(f"port {i}: {c['cells_late']} cells and {c['frames_late']} frames late")
            r = self.sar[i].reassembler
            try:
                r.check_conservation()
                self.saal[i].check_conservation()
            except Exception as exc:  # noqa: BLE001
                problems.append(f"port {i}: {exc}")
            if r.counters["frames_delivered"] != c["frames_in"]:
                problems.append(f"port {i}: CPU reassembler delivered {r.counters['frames_delivered']} frames, "
                                f"{c['frames_in']} went to SSCOP")
        regs = self.fabric.regs
        offered = int(regs.array("PORT.RX_COPIES.COUNT").sum())
        delivered = int(regs.array("PORT.TX_CELLS.COUNT").sum())
        dropped = sum(int(regs.array(f"PORT.DROP_IN_{cause}.COUNT").sum()) for cause in _DROP_CAUSES)
        queued = self.fabric.queued_copies()
        if offered != delivered + dropped + queued:
            problems.append(f"fabric: copies offered {offered} != delivered {delivered} + dropped {dropped} "
                            f"+ queued {queued}")
        try:
            self.control_plane.check_balance()
        except Exception as exc:  # noqa: BLE001
            problems.append(str(exc))
        if problems:
            raise SwitchError(f"{self.name}: " + "; ".join(problems))


def _drop_causes() -> tuple[str, ...]:
    from hw.fabric.counters import Drop

    return tuple(cause.name for cause in Drop)


_DROP_CAUSES = _drop_causes()

__all__ = ["CpuSar", "PORT_COUNTERS", "SwitchNode"]
