"""The switch node's co-simulation loop: cells from a link enter the fabric at their arrival slot, cells
leaving a fabric port go on its link at their departure slot, devices and the switch CPU see every frame
at the slot after its last cell; any device that speaks the cell-available protocol plugs into a port
(the emulated adapter among them); every counter of the node balances."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from firmware.network import Network
from firmware.signalling_link import Direction
from firmware.switch import SwitchConfig
from firmware.switch.errors import SwitchError
from firmware.switch.node import SwitchNode
from hw.aal5 import Reassembler, segment
from hw.clock import Clock
from hw.fabric.config import FabricConfig
from hw.fabric.fabric import Fabric
from hw.fabric.traffic import Traffic, build


class Probe:
    """A bare user device: sends cells when told, takes what arrives at the slot after it arrives."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.port = None
        self.got: list[tuple[int, np.ndarray, np.ndarray]] = []   # (slot taken, cells, arrival slots)

    def attach(self, port) -> None:
        self.port = port

    def wake_rx(self, cells, slots) -> None:
        arrival = int(slots[-1]) + self.port.rx.delay_slots
        self.clock.schedule_at(arrival + 1, self._take)

    def _take(self) -> None:
        rx = self.port.rx
        rx.advance(self.clock.now)
        d = self.port.receive(self.clock.now - 1)
        if len(d):
            self.got.append((self.clock.now, d.cells, d.slots))

    def send(self, cells: np.ndarray) -> None:
        self.port.send(cells, at=self.clock.now)


def node(ports: int = 4, **kw) -> SwitchNode:
    clock = Clock("OC-3c")
    return SwitchNode(clock, SwitchConfig.uniform(ports), fabric_config=FabricConfig(ports=ports, vcs=64, leaves=64),
                      **kw)


def test_cells_cross_the_node_at_their_exact_slots() -> None:
    n = node(link_delay_slots=5)
    a, b = Probe(n.clock), Probe(n.clock)
    n.attach(1, a)
    n.attach(2, b)
    prog = n.control_plane.fabric
    vc = prog.install_vc(1, 0, 100)
    prog.add_leaf(vc, 2, 0, 200)
    frames = [segment(bytes([i]) * (30 + 50 * i), 0, 100) for i in range(4)]
    sent_at = [1000, 1001, 1500, 4000]
    for slot, cells in zip(sent_at, frames):
        n.clock.schedule_at(slot, a.send, cells)
    n.run_until(6000)
    # the reference: the same fabric fed directly with the cells at their arrival slots (sent + 5, one per
    # slot on the line: the second frame queues behind the first)
    ref = Fabric(FabricConfig(ports=4, vcs=64, leaves=64))
    ref.regs.write_table("LEAF", [8], PORT=2, VPI=0, VCI=200, VALID=1, KEEP_HEADER=0, **{"NEXT.LEAF": 0xFFFFFF})
    ref.regs.write_table("VC", [8], PORT=1, VPI=0, VCI=100, HEAD=8, VALID=1, AAL5=1, MCAST=1)
    ref.port(2).wants_every_cell = True
    line = 0
    for slot, cells in zip(sent_at, frames):
        line = max(line, slot)
        ref.inject(1, cells, at=line + 5)
        line += cells.shape[0]
    ref.run(6000)
    want = ref.port(2).receive()
    got_cells = np.concatenate([c for _, c, _ in b.got])
    got_slots = np.concatenate([s for _, _, s in b.got])
    assert np.array_equal(got_cells, want.cells)
    assert got_slots.tolist() == (want.slots + 5).tolist()          # departure + the link's delay
    assert all(taken == int(slots[-1]) + 1 for taken, _, slots in b.got)
    out = Reassembler().feed(got_cells, got_slots)
    assert [s.sdu for s in out] == [bytes([i]) * (30 + 50 * i) for i in range(4)]
    c = n.counters
    assert (c["cells_in"], c["injected"], c["cells_out"], c["cells_late"]) == (sum(map(len, frames)),) * 3 + (0,)
    n.check_conservation()


def test_every_signalling_frame_is_taken_the_slot_after_its_last_cell() -> None:
    net = Network(6, link_delay_slots=3)
    root = net.add_root(0, pcr=1000)
    for p in range(1, 6):
        net.add_leaf(p)
    taken: list[tuple[str, int, int]] = []

    def tap(name):
        return lambda direction, octets, slot: taken.append((name, slot, net.clock.now)) \
            if direction is Direction.RX else None

    for i, saal in enumerate(net.node.saal):
        saal.tap = tap(f"switch:{i}")
    for st in (root, *net.leaves.values()):
        st.saal.tap = tap(st.name)
    script = net.script()
    script.make_call(1)
    net.run(0.01)
    for p in range(2, 6):
        script.add_party(p)
    net.run(0.01)
    script.drop_party(3)
    script.close_call()
    assert net.run_until_idle(5.0)
    assert len(taken) > 30 and {name.split(":")[0] for name, _, _ in taken} >= {"switch", "root0", "leaf1"}
    late = [(name, slot, now) for name, slot, now in taken if now != slot + 1]
    assert not late
    assert net.node.counters["frames_late"] == 0
    net.check()


def test_a_device_is_plugged_once_and_the_books_catch_a_lost_cell() -> None:
    n = node()
    probe = Probe(n.clock)
    n.attach(1, probe)
    assert n.device(1) is probe and n.fabric.port(1).wants_every_cell
    with pytest.raises(SwitchError):
        n.attach(1, Probe(n.clock))
    probe.send(segment(b"to nowhere", 0, 99))     # no VC: the fabric counts it as an unknown-VC drop
    n.run(0.001)
    assert n.fabric.regs.get("PORT.DROP_IN_UNKNOWN_VC", "COUNT", 1) == 1
    n.check_conservation()
    n._port_counters[1]["injected"] += 1
    with pytest.raises(SwitchError, match="port 1"):
        n.check_conservation()


def _mini_driver():
    """The adapter tests' driver harness (tests/hw/adapter/conftest.py), loaded as a module."""
    path = Path(__file__).resolve().parents[2] / "hw" / "adapter" / "conftest.py"
    spec = importlib.util.spec_from_file_location("adapter_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)    # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    return module.MiniDriver


def test_an_emulated_adapter_plugs_into_a_port() -> None:
    from hw.adapter import Adapter, HostMemory

    n = node(link_delay_slots=2)
    adapter = Adapter(n.clock, HostMemory(4 << 20), name="host")
    n.attach(2, adapter)                         # adapter.attach(port) is called by the node
    assert adapter.port is n.port(2)
    driver = _mini_driver()(adapter)
    driver.bring_up()
    driver.open_vc(1, 0, 200, tx=False)          # receives VC 0/200
    driver.open_vc(2, 0, 300, rx=False)          # sends on VC 0/300
    probe = Probe(n.clock)
    n.attach(1, probe)
    prog = n.control_plane.fabric
    down = prog.install_vc(1, 0, 100)
    prog.add_leaf(down, 2, 0, 200)
    up = prog.install_vc(2, 0, 300)
    prog.add_leaf(up, 1, 0, 400)
    sdus = [bytes([7 + i]) * (100 * i + 20) for i in range(3)]
    n.clock.schedule_at(100, probe.send, np.concatenate([segment(s, 0, 100) for s in sdus]))
    n.run(0.001)
    assert [f.data for f in driver.frames_on(1)] == sdus and all(f.err == 0 for f in driver.frames_on(1))
    for s in sdus:
        assert driver.send(2, s[::-1])
    n.run(0.002)
    cells = np.concatenate([c for _, c, _ in probe.got])
    slots = np.concatenate([s for _, _, s in probe.got])
    out = Reassembler().feed(cells, slots)
    assert [(s.vci, s.sdu) for s in out] == [(400, s[::-1]) for s in sdus]
    adapter.check_conservation()
    n.check_conservation()


def test_typed_errors() -> None:
    from firmware.switch.errors import SwitchConfigError
    from hw.errors import FieldError

    with pytest.raises(SwitchConfigError):
        SwitchNode(Clock("OC-12c"), SwitchConfig.uniform(4))        # the clock counts other slots
    with pytest.raises(FieldError):
        SwitchNode(Clock(), SwitchConfig.uniform(4))                # no line rate: timers cannot be placed
    n = node()
    with pytest.raises(FieldError):
        n.port(4)
    with pytest.raises(FieldError):
        n.run_until(-1)


def _vci(cells: np.ndarray) -> np.ndarray:
    return ((cells[:, 1].astype(np.int64) & 0xF) << 12) | (cells[:, 2].astype(np.int64) << 4) | (cells[:, 3] >> 4)


def _call_with_background(account_only: bool) -> tuple[SwitchNode, Probe, list[bytes]]:
    """A call 1 -> 2 between two devices (VCI 100 in, 200 out), as
    test_cells_cross_the_node_at_their_exact_slots, with background (uniform load 0.5 on every port
    toward every port, VCI 32..35, hw.fabric.traffic) in the entries the node keeps for traffic."""
    n = node()
    assert n.traffic_entries == range(8, 8)
    entries = n.reserve_traffic_entries(16)
    assert entries == range(8, 24) and n.control_plane.fabric.first_entry == 24
    a, b = Probe(n.clock), Probe(n.clock)
    n.attach(1, a)
    n.attach(2, b)
    n.fabric.load_traffic(build(Traffic("uniform", 0.5), 4), seed=3, first_entry=entries.start,
                          account_only=account_only)
    prog = n.control_plane.fabric
    vc = prog.install_vc(1, 0, 100)
    assert vc == 24                                   # the control plane's entries start above the traffic's
    prog.add_leaf(vc, 2, 0, 200)
    sdus = [bytes([i]) * (30 + 50 * i) for i in range(4)]
    for slot, sdu in zip([1000, 1001, 1500, 4000], sdus):
        n.clock.schedule_at(slot, a.send, segment(sdu, 0, 100))
    n.run_until(6000)
    return n, b, sdus


def test_background_toward_a_device_is_counted_but_never_reaches_it_nor_stops_the_fabric() -> None:
    """Background loaded ACCOUNT_ONLY takes port 2's output slots inside the fabric (counted as sent there)
    while the device on port 2 receives only the call's cells, whole, and the fabric stops only for the
    slots that carry them. Loaded without the flag, the same background reaches the device and stops the
    fabric at every slot it leaves on a device's port."""
    n, b, sdus = _call_with_background(account_only=True)
    got = np.concatenate([c for _, c, _ in b.got])
    slots = np.concatenate([s for _, _, s in b.got])
    assert (_vci(got) == 200).all()                   # no background cell (VCI 32..35) reached the device
    assert [s.sdu for s in Reassembler().feed(got, slots)] == sdus
    regs = n.fabric.regs
    uncaptured = regs.array("PORT.TX_UNCAPTURED.COUNT")
    tx = regs.array("PORT.TX_CELLS.COUNT")
    bg_out = regs.array("LEAF.OUT.COUNT")[8:24]
    bg_port = regs.array("LEAF.PORT.PORT")[8:24]
    assert uncaptured[2] == bg_out[bg_port == 2].sum() > 1000   # the background did leave on port 2
    assert tx[2] == uncaptured[2] + len(got)
    assert uncaptured[1] == bg_out[bg_port == 1].sum() and uncaptured[[0, 3]].sum() == 0  # no device there
    # one stop per slot in which the call's cells left (at most: a stop may also come from elsewhere,
    # here nothing else reaches software)
    assert n.stops == len(np.unique(slots))
    n.check_conservation()

    m, mb, _ = _call_with_background(account_only=False)
    assert m.stops > 10 * n.stops                     # before ACCOUNT_ONLY: a stop per background slot
    mine = np.concatenate([c for _, c, _ in mb.got])
    assert (_vci(mine) != 200).sum() > 1000
    # the switching itself is the same: the flag changes what software sees, not the fabric's counts
    np.testing.assert_array_equal(m.fabric.regs.array("PORT.TX_CELLS.COUNT"), tx)


def test_traffic_entries_are_kept_only_before_the_control_plane_programs() -> None:
    from firmware.switch.errors import FabricProgrammingError
    from hw.errors import FieldError
    from hw.fabric.errors import FabricConfigError

    n = node(traffic_entries=10)
    assert n.traffic_entries == range(8, 18) and n.control_plane.fabric.first_entry == 18
    assert Network(4, traffic_entries=6).node.traffic_entries == range(8, 14)   # the network passes it on
    with pytest.raises(FieldError):
        n.reserve_traffic_entries(-1)
    with pytest.raises(FabricProgrammingError):
        n.reserve_traffic_entries(64)                 # past the tables: refused, nothing moved
    assert n.control_plane.fabric.first_entry == 18
    # a traffic program may not take entries the control plane owns...
    n.control_plane.fabric.install_vc(1, 0, 100)
    with pytest.raises(FabricConfigError, match="first_entry"):
        n.fabric.load_traffic(build(Traffic("uniform", 0.5), 4), first_entry=14)
    with pytest.raises(FabricConfigError, match="first_entry"):
        n.fabric.load_traffic(build(Traffic("uniform", 0.5), 4), first_entry=7)   # nor the reserved ones
    # ...and once it has programmed, its entries stay where they are
    with pytest.raises(FabricProgrammingError):
        n.reserve_traffic_entries(20)
    assert n.traffic_entries == range(8, 18)
