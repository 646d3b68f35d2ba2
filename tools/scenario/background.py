"""Background traffic of a scenario run (``[traffic]``): cells generated inside the fabric's kernel, on
the line ports other than the root's, competing with the call's cells for the shared cell memory and
the output queues of the leaves' ports.

What it is (docs/scenario.md, "Background traffic"):

* *Sources*: every line port but the root's is an input of background: the fabric's generator
  (hw/fabric/generator.py) offers ``traffic.load`` cells per cell slot on it, with the model of
  ``traffic.model`` (hw.fabric.traffic.KINDS), seeded from the scenario's ``seed``. A cell that a device
  sends on the same line in the same slot takes the line: the generated cell is not sent and is counted
  (PORT.GEN_BLOCKED).
* *Destinations*: the same ports, never the root's (the root of a point-to-multipoint call receives
  nothing on it) and never the source's own. Input ``S[a]`` (S: the background ports in order, M of
  them) has one VC to each of the K ports that follow it in S, ``S[a+1], .., S[a+K]`` (mod M), so every
  output receives from exactly K inputs and carries ``load`` cells per slot, the load of one input.
  K is M - 1 when the VC table has room, fewer when it has not (:func:`vcs_per_input`).
* *Identifiers*: input port i's k-th VC is VPI 1 / VCI 32 + k; it leaves as VPI 1 / VCI 32 + i. The
  control plane allocates on VPI 0 only (firmware.switch.config.PortConfig.vpi_range), so background
  never shares a VPI/VCI with a call on any line (I.361: the VPI/VCI is per link).
* *At the outputs*: a background copy leaves the fabric at line rate like any cell and is counted by
  the fabric's egress counters (PORT.TX_CELLS, VC.OUT, LEAF.OUT, the delay histogram). Its leaf entries
  carry LEAF.CTRL.ACCOUNT_ONLY (``Fabric.load_traffic(account_only=True)``): on a port with a device
  (a leaf station; SwitchNode sets PORT.CTRL.CAPTURE and STOP there) the fabric neither hands them to
  software nor stops for them, and counts them in PORT.TX_UNCAPTURED. So the background takes the
  leaves' output slots and queues inside the kernel, at the kernel's speed, and the leaf stations see
  only the call's cells. :attr:`BackgroundReport.per_leaf` counts, from the fabric's leaf counters,
  the background copies delivered on each leaf's port.
* *When*: from the first step of the script to its last; the queues then drain while the run settles.

The fabric's VC and leaf entries from 2N on (N line ports) hold the background's tables
(``Fabric.load_traffic(first_entry=...)``); the switch node keeps them from the control plane, whose
entries start above them (:meth:`firmware.switch.node.SwitchNode.reserve_traffic_entries`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hw.fabric.counters import Drop
from hw.fabric.fabric import queue_contents
from hw.fabric.traffic import Traffic, TrafficProgram, build
from tools.scenario import model as m

#: VPI of every background VC, on input and output (the control plane allocates on VPI 0).
BACKGROUND_VPI = 1
#: First VCI of the background (the first VCI not reserved by I.361 / the UNI signalling conventions).
BACKGROUND_VCI = 32
#: VC entries left to the control plane at least (the scenario's call takes one).
CONTROL_PLANE_VCS = 16
#: Generator arrays that are tables indexed through a per-port offset, and the per-port offset of each.
_TABLES = {"alias_prob": "alias_off", "alias_vc": "alias_off", "alias_alt": "alias_off",
           "len_cdf": "len_off", "len_val": "len_off", "cal_vc": "cal_off"}
#: Tables whose values are VC numbers of the program (renumbered when per-input programs are joined).
_VC_VALUED = ("alias_vc", "alias_alt", "cal_vc")


def background_ports(s: m.Scenario) -> tuple[int, ...]:
    """The line ports that carry background: every one but the root's."""
    return tuple(p for p in range(s.topology.ports) if p != s.root.port)


def vcs_per_input(ports: int, background: int, vc_entries: int, leaf_entries: int) -> int:
    """K: the VCs each of ``background`` inputs gets in a fabric of ``ports`` line ports and the given
    table sizes: M - 1 (every other background port) when the tables have room, else as many as fit
    after the 2N reserved entries and :data:`CONTROL_PLANE_VCS` VC entries (and N leaf entries: one
    call reaches at most every port) left to the control plane; at least 1."""
    room_vcs = (vc_entries - 2 * ports - CONTROL_PLANE_VCS) // background
    room_leaves = (leaf_entries - 2 * ports - ports) // background
    return max(1, min(background - 1, room_vcs, room_leaves))


def entries_needed(s: m.Scenario, vc_entries: int, leaf_entries: int) -> int:
    """The fabric VC entries (and as many leaf entries: one leaf per VC) the background of ``s`` takes
    in a fabric of the given table sizes, 0 without background: what to keep from the control plane
    (SwitchNode's ``traffic_entries``, firmware.network.Network's too)."""
    if s.traffic.model == "none" or s.traffic.load <= 0:
        return 0
    ports = background_ports(s)
    return len(ports) * vcs_per_input(s.topology.ports, len(ports), vc_entries, leaf_entries)


def program(model: str, load: float, ports: int, sources: tuple[int, ...], per_input: int,
            hot_port: int | None = None) -> TrafficProgram:
    """The background's :class:`TrafficProgram` for a fabric of ``ports`` line ports: inputs ``sources``,
    each with ``per_input`` unicast VCs to the ports that follow it in ``sources`` (module doc).

    Each input's generator tables are those :func:`hw.fabric.traffic.build` makes for input 0 of a
    ``per_input``-port switch (its VC k goes to output k), so every model keeps its meaning (the VC
    distribution, burst and frame lengths, the CBR calendar); they are then placed at the input's port
    and their VC numbers moved to the input's block. ``hot_port`` (hotspot): the hot output; an input
    that has no VC to it (the hot port itself) sends uniformly."""
    M, K = len(sources), per_input
    if not 1 <= K <= M - 1:
        raise ValueError(f"per_input {K}: expected 1..{M - 1} for {M} background ports")
    P = ports + 1
    per_port: dict[str, np.ndarray] = {}
    tables: dict[str, list[np.ndarray]] = {name: [] for name in _TABLES}
    sizes = {"alias_off": 0, "len_off": 0, "cal_off": 0}
    vc_port, vc_vci, leaf_port, leaf_vci = [], [], [], []
    aal5 = False
    for a, i in enumerate(sources):
        outs = [sources[(a + 1 + k) % M] for k in range(K)]
        kind, hot = model, 0
        if model == "hotspot":
            if hot_port in outs:
                hot = outs.index(hot_port)
            else:
                kind = "uniform"
        one = build(Traffic(kind=kind, load=load, hot_port=hot, inputs=(0,)), K)
        aal5 = aal5 or one.vc_aal5
        base = a * K
        for name, arr in one.gen.items():
            arr = np.asarray(arr)
            if name in _TABLES:
                offset_name = _TABLES[name]
                part = arr.astype(np.int64) + base if name in _VC_VALUED else arr
                if name in _VC_VALUED:
                    part = np.where(arr >= 0, part, arr)
                tables[name].append(part.astype(arr.dtype))
                continue
            if name not in per_port:
                per_port[name] = np.zeros(P, arr.dtype)
            value = arr[0]
            if name in sizes:  # an offset into a table: past the tables of the inputs before
                value = value + sizes[name]
            per_port[name][i] = value
        for name in sizes:
            first_table = next(t for t, o in _TABLES.items() if o == name)
            sizes[name] += len(one.gen[first_table])
        vc_port += [i] * K
        vc_vci += [BACKGROUND_VCI + k for k in range(K)]
        leaf_port += outs
        leaf_vci += [BACKGROUND_VCI + i] * K
    gen = dict(per_port)
    for name, parts in tables.items():
        gen[name] = np.concatenate(parts)
    n = M * K
    vpi = np.full(n, BACKGROUND_VPI, np.int64)
    return TrafficProgram(
        ports=ports, vc_port=np.array(vc_port, np.int64), vc_vpi=vpi, vc_vci=np.array(vc_vci, np.int64),
        vc_aal5=aal5, vc_epd=False, vc_ppd=False, vc_mcast=np.zeros(n, bool),
        leaf_vc=np.arange(n, dtype=np.int64), leaf_port=np.array(leaf_port, np.int64), leaf_vpi=vpi.copy(),
        leaf_vci=np.array(leaf_vci, np.int64), gen=gen)


@dataclass
class BackgroundReport:
    """What the background traffic did, from the fabric's counters. Cells: ``generated`` = ``offered``
    (arrived in the fabric) + ``blocked`` (a device's cell held the line that slot); ``offered`` =
    ``delivered`` + sum(``dropped``) + ``queued`` (still in the fabric at the end)."""

    model: str
    load: float
    ports: list[int]
    vcs_per_input: int
    offered: int
    delivered: int
    dropped: dict[str, int]
    queued: int
    blocked: int
    mean_delay_us: float
    max_delay_us: float
    per_leaf: dict[int, int] = field(default_factory=dict)  # background copies delivered on each leaf's port

    @property
    def generated(self) -> int:
        return self.offered + self.blocked

    @property
    def balanced(self) -> bool:
        return self.offered == self.delivered + sum(self.dropped.values()) + self.queued


@dataclass
class LeafCells:
    """The call's cells toward one leaf's port, from the fabric's leaf entries of the call:
    ``delivered`` copies, ``dropped`` in the fabric (any cause: VC.DROP_* says which), ``gaps`` (cells
    the fabric's leaf checker saw missing), AAL5 frames it saw whole (``frames_ok``) and with a cell
    missing (``frames_bad``), the queueing delay through the fabric."""

    delivered: int
    dropped: int
    gaps: int
    frames_ok: int
    frames_bad: int
    mean_delay_us: float
    max_delay_us: float


@dataclass
class CallCells:
    """The call's data cells through the fabric: the VC entries and leaf entries the control plane
    programmed in the run (from its first entry on; a scenario has one call). ``cells_in``: cells that
    arrived on the root's VC; ``offered``: their copies (one per leaf at arrival); ``dropped``: copies
    dropped, by cause (hw.fabric.counters.Drop); ``per_leaf``: by the leaf's port."""

    cells_in: int
    offered: int
    delivered: int
    dropped: dict[str, int]
    per_leaf: dict[int, LeafCells]


def call_cells(node, first_entry: int) -> CallCells:
    """Read :class:`CallCells` from the fabric's registers (entries ``first_entry`` on)."""
    regs = node.fabric.regs
    vc = slice(first_entry, None)
    dropped = {c.key: int(regs.array(f"VC.DROP_{c.name}.COUNT")[vc].sum()) for c in Drop}
    slot_us = 1e6 / node.clock.rate.cells_per_second
    port = regs.array("LEAF.PORT.PORT")[first_entry:]
    names = ("OUT", "DROPPED", "LOST", "FRAMES_OK", "FRAMES_BAD", "DELAY_SUM", "DELAY_MAX")
    cols = {n: regs.array(f"LEAF.{n}.COUNT")[first_entry:] for n in names}
    used = (cols["OUT"] > 0) | (cols["DROPPED"] > 0)
    per_leaf = {}
    for p in sorted(set(port[used].tolist())):
        sel = used & (port == p)
        out = int(cols["OUT"][sel].sum())
        per_leaf[int(p)] = LeafCells(out, int(cols["DROPPED"][sel].sum()), int(cols["LOST"][sel].sum()),
                                     int(cols["FRAMES_OK"][sel].sum()), int(cols["FRAMES_BAD"][sel].sum()),
                                     round(int(cols["DELAY_SUM"][sel].sum()) / out * slot_us, 3) if out else 0.0,
                                     round(int(cols["DELAY_MAX"][sel].max(initial=0)) * slot_us, 3))
    return CallCells(int(regs.array("VC.IN_CELLS.COUNT")[vc].sum()), int(regs.array("VC.OFFERED.COUNT")[vc].sum()),
                     int(regs.array("VC.OUT.COUNT")[vc].sum()), {k: v for k, v in dropped.items() if v}, per_leaf)


class Background:
    """The background traffic of one run on ``node`` (a SwitchNode) for scenario ``s``. Made before the
    control plane programs anything, unless the node was built with enough ``traffic_entries``
    (:func:`entries_needed`): it keeps the fabric entries of the background from the control plane;
    :meth:`start` and :meth:`stop` load and stop the generator; :meth:`report` reads the counters."""

    def __init__(self, node, s: m.Scenario) -> None:
        self.node = node
        self.s = s
        fabric = node.fabric
        self.ports = background_ports(s)
        self.per_input = vcs_per_input(node.ports, len(self.ports), fabric.config.vcs, fabric.config.leaves)
        hot = min(s.leaf_ports) if s.leaf_ports else self.ports[0]  # hotspot: the lowest leaf's port
        self.program = program(s.traffic.model, s.traffic.load, node.ports, self.ports, self.per_input, hot)
        self.count = self.program.vc_count  # one leaf per VC: as many leaf entries
        entries = node.traffic_entries
        if len(entries) < self.count:
            entries = node.reserve_traffic_entries(self.count)
        self.first = entries.start
        self.running = False

    def start(self) -> None:
        """Load the generator (Fabric.load_traffic: the VC and leaf entries through the register file, the
        leaves ACCOUNT_ONLY), seeded from the scenario's seed; generation starts at the current slot."""
        self.node.fabric.load_traffic(self.program, seed=self.s.seed, first_entry=self.first, account_only=True)
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.node.fabric.stop_traffic()
            self.running = False

    def out_vcs(self, port: int) -> set[tuple[int, int]]:
        """The (VPI, VCI) of the background copies that leave the fabric on ``port``."""
        sel = self.program.leaf_port == port
        return {(int(v), int(c)) for v, c in zip(self.program.leaf_vpi[sel], self.program.leaf_vci[sel])}

    def report(self) -> BackgroundReport:
        """The report, from the fabric's counters (``per_leaf``: the background's copies the fabric sent
        on each leaf's port, from its leaf entries; none of them reached a leaf station)."""
        regs = self.node.fabric.regs
        sl = slice(self.first, self.first + self.count)
        offered = int(regs.array("VC.OFFERED.COUNT")[sl].sum())
        delivered = int(regs.array("VC.OUT.COUNT")[sl].sum())
        dropped = {c.key: int(regs.array(f"VC.DROP_{c.name}.COUNT")[sl].sum()) for c in Drop}
        leaf_sl = slice(self.first, self.first + self.program.leaf_count)
        out = regs.array("LEAF.OUT.COUNT")[leaf_sl]
        delay_sum = int(regs.array("LEAF.DELAY_SUM.COUNT")[leaf_sl].sum())
        delay_max = int(regs.array("LEAF.DELAY_MAX.COUNT")[leaf_sl].max(initial=0))
        blocked = int(regs.array("PORT.GEN_BLOCKED.COUNT")[list(self.ports)].sum())
        slot_us = 1e6 / self.node.clock.rate.cells_per_second
        n_out = int(out.sum())
        mine = range(self.first, self.first + self.count)
        queued = sum(1 for items in queue_contents(self.node.fabric).values() for vc, _, _ in items if vc in mine)
        leaf_port = regs.array("LEAF.PORT.PORT")[leaf_sl]
        per_leaf = {p: int(out[leaf_port == p].sum()) for p in self.s.leaf_ports if p in self.ports}
        return BackgroundReport(
            self.s.traffic.model, self.s.traffic.load, list(self.ports), self.per_input, offered, delivered,
            {k: v for k, v in dropped.items() if v}, queued, blocked,
            round(delay_sum / n_out * slot_us, 3) if n_out else 0.0, round(delay_max * slot_us, 3), per_leaf)


__all__ = ["BACKGROUND_VCI", "BACKGROUND_VPI", "Background", "BackgroundReport", "CallCells", "LeafCells",
           "call_cells", "background_ports", "entries_needed", "program", "vcs_per_input"]
