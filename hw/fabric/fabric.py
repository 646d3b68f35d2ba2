"""The switch fabric component: ports, register file, and the engine kernel behind them.

Who uses what:
- the switch control plane programs the VC and leaf tables and reads counters through ``fabric.regs``
  (an hw.regs.RegisterFile; map in registers.py), receives signalling cells from
  ``fabric.control.receive()`` and sends cells out of any port with ``fabric.control.send(cells, port)``;
- an adapter or a capture replay puts cells on a line with ``fabric.port(i).send(cells)`` and, when
  it consumes a port's output (``fabric.port(i).wants_every_cell = True``), reads it with
  ``fabric.port(i).receive()``;
- the clock calls ``fabric.advance(until)``: the kernel runs in bulk and returns early at the end of
  a slot in which a cell reached a STOP port (the control port, or a port that wants every cell), so
  software sees each such cell at its exact slot;
- throughput runs load a traffic program (``load_traffic``): cells generated inside the kernel, checked
  by the emulated leaves inside the kernel, never handed to Python one by one. Loaded with
  ``account_only=True`` its leaves carry LEAF.CTRL.ACCOUNT_ONLY, so even on a port that wants every
  cell its copies are only counted (PORT.TX_UNCAPTURED): background traffic next to devices. With
  ``FabricConfig(threads=2)`` a run uses a second core for the traffic sources and the accounting of
  delivered copies, with exactly the results of one thread (pipeline.py).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from hw.fabric import engine
from hw.fabric.config import FabricConfig
from hw.fabric.counters import (
    LEAF_VALID,
    NIL,
    PORT_CAPTURE,
    PORT_DROP_IN,
    PORT_DROP_OUT,
    PORT_STOP,
    VC_DROP,
    VC_VALID,
    Drop,
)
from hw.fabric.egress import STOP_CAPTURE, STOP_PORT
from hw.fabric.errors import CellInputError, FabricConfigError
from hw.fabric.generator import MODE_BERNOULLI, MODE_CBR, MODE_OFF, MODE_ONOFF
from hw.fabric.memory import descriptor, queue_nodes
from hw.fabric.pipeline import TwoThreadRunner
from hw.fabric.registers import LEAF_COUNTERS, PORT_COUNTERS, VC_COUNTERS, build_map
from hw.fabric.rng import SCHEDULER_STREAM, stream_seed
from hw.fabric.state import (
    SC_BLK_LEN,
    SC_CAP_N,
    SC_FREE,
    SC_GEN_ON,
    SC_INJ_POS,
    SC_NODE_FREE,
    SC_NOW,
    COUNTERS,
    FabricState,
    allocate,
    reset_dynamic,
)
from hw.fabric.tables import CONTROL_TAG_VCI, SIGNALLING_VCI, SIGNALLING_VPI, Cam, cam_key
from hw.fabric.traffic import TrafficProgram
from hw.regs import RegisterFile

_EMPTY_CELLS = np.zeros((0, 53), np.uint8)
_RUN = 64  # runs of up to this many cells take their port and tag columns from constant arrays


@dataclass
class Received:
    """Cells delivered on one output, in delivery order, with the slot of each."""

    slots: np.ndarray  # int64
    in_ports: np.ndarray  # input each cell came from
    vcs: np.ndarray  # VC entry
    leaves: np.ndarray  # leaf entry
    cells: np.ndarray  # (n, 53) uint8, header rewritten and HEC regenerated

    def __len__(self) -> int:
        return int(self.slots.shape[0])


@dataclass(slots=True)
class Advance:
    """Result of Fabric.advance: the slot reached (the next to run) and why it returned."""

    slot: int
    stopped: bool  # True: a cell reached a STOP port in slot ``slot - 1``
    ports: tuple[int, ...] = ()  # outputs with new cells for software


#: An empty injection list, typed as the kernels take it (slot int64, port int16, tag int32, cells).
_NO_INJECTION = (np.zeros(0, np.int64), np.zeros(0, np.int16), np.zeros(0, np.int32), np.zeros((0, 53), np.uint8))


class KernelCall:
    """Calls an engine kernel for one fabric state, without the dispatcher's per-call type resolution.

    A numba dispatcher types every argument at each call; for the state (a named tuple of ~90 arrays)
    that costs ~10 us, most of a one-slot advance. The argument types never change for a given state
    object (its arrays are allocated once; the injection arrays are built by Fabric with fixed dtypes,
    C-contiguous), so the compiled overload is looked up once per state and its entry point called
    directly: it unboxes the same arguments into the same machine code the dispatcher would pick. Any
    other state object (``load_traffic`` may rebind arrays) is resolved again. Without a compiled
    dispatcher (NUMBA_DISABLE_JIT), the kernel is called as given. tests/hw/fabric/test_fabric_fast_path.py
    holds both calls equal."""

    __slots__ = ("kernel", "_state", "_entry")

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self._state = None
        self._entry = None

    def __call__(self, s, until: int, inj: tuple) -> int:
        if s is not self._state:
            self._resolve(s, until, inj)
        if self._entry is None:
            return self.kernel(s, until, *inj)
        return self._entry(s, until, *inj)

    def _resolve(self, s, until: int, inj: tuple) -> None:
        self._state, self._entry = s, None
        k = self.kernel
        if not hasattr(k, "overloads") or not hasattr(k, "typeof_pyval"):
            return  # a plain function (JIT disabled)
        for a in inj:
            if not (a.flags.c_contiguous and a.flags.writeable):
                return  # not the layout this fast call is for: the dispatcher decides
        types = tuple(k.typeof_pyval(a) for a in (s, until, *inj))
        cres = k.overloads.get(types)
        if cres is None:
            k.compile(types)
            cres = k.overloads.get(types)
        self._entry = getattr(cres, "entry_point", None)


class FabricPort:
    """One port of the fabric (line port, or the control port)."""

    def __init__(self, fabric: "Fabric", index: int) -> None:
        self.fabric = fabric
        self.index = index

    def send(self, cells: np.ndarray, at: int | None = None) -> np.ndarray:
        """Put cells on this port's input line, one per slot from ``at`` (default: now), behind any
        cells already waiting for this line. Returns the slot of each cell."""
        return self.fabric.inject(self.index, cells, at=at)

    def receive(self) -> Received:
        """Cells delivered on this output since the last call (only when CAPTURE is set)."""
        return self.fabric._take(self.index)

    @property
    def wants_every_cell(self) -> bool:
        return bool(self.fabric.regs.get("PORT.CTRL", "CAPTURE", self.index))

    @wants_every_cell.setter
    def wants_every_cell(self, on: bool) -> None:
        self.fabric.regs.set("PORT.CTRL", self.index, CAPTURE=int(on), STOP=int(on))


class ControlPort(FabricPort):
    def send(self, cells: np.ndarray, port: int | None = None, at: int | None = None) -> np.ndarray:
        """Send cells from the switch CPU. With ``port``, they leave that port with their header
        unchanged (routing tag = reserved VC N+port); without, they are looked up like any cell."""
        tag = -1
        if port is not None:
            if not 0 <= port < self.fabric.config.ports:
                raise CellInputError("port", port, f"a line port 0..{self.fabric.config.ports - 1}")
            tag = self.fabric.config.ports + port
        return self.fabric.inject(self.index, cells, at=at, tag=tag)


class Fabric:
    def __init__(self, config: FabricConfig | None = None, seed: int = 0, **kwargs) -> None:
        self.config = config if config is not None else FabricConfig(**kwargs)
        cfg = self.config
        self.state: FabricState = allocate(cfg)
        self._kernel = engine.kernel(cfg.arch)
        self._call = KernelCall(self._kernel)
        self._runner: TwoThreadRunner | None = None
        if cfg.threads == 2:
            self._runner = TwoThreadRunner(self._kernel, cfg.block, cfg.ports)
            weakref.finalize(self, self._runner.close)
        self.map = build_map(cfg)
        self.cam = Cam(self.state.cam_key, self.state.cam_vc)
        self._status = {"STOPPED": np.zeros(1, np.uint32), "CAPTURE_FULL": np.zeros(1, np.uint32)}
        self._stopped_flag, self._capture_full_flag = self._status["STOPPED"], self._status["CAPTURE_FULL"]
        P = cfg.port_count
        #: register -> (field, highest value) that _check refuses above (NIL allowed for a LEAF link)
        self._limits = {"VC.PORT": ("PORT", P - 1), "LEAF.PORT": ("PORT", P - 1),
                        "VC.HEAD": ("LEAF", cfg.leaves - 1), "LEAF.NEXT": ("LEAF", cfg.leaves - 1)}
        self.regs = RegisterFile(self.map, self._backing(), on_write=self._on_write, check=self._check,
                                 check_names=frozenset(self._limits))
        self.seed = seed
        self._seed_streams(seed)
        # Injected cells not yet run, as the kernel takes them (slots int64, ports int16, tags int32,
        # cells), in segments: each segment in (slot, port) order, and every cell of a segment before
        # every cell of the next (see inject and advance).
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._line_next = [0] * cfg.port_count  # first free slot of each input line
        # a run's port and tag columns: views of constant arrays (runs of up to _RUN cells), not new arrays
        self._port_col = [np.full(_RUN, p, np.int16) for p in range(cfg.port_count)]
        self._tag_col = {t: np.full(_RUN, t, np.int32) for t in [-1] + list(range(cfg.ports, 2 * cfg.ports))}
        self._rx: dict[int, list[Received]] = {}  # output -> chunks not yet received (never empty lists)
        self._control_index = cfg.control
        self.ports = [FabricPort(self, i) for i in range(cfg.ports)]
        self.control = ControlPort(self, cfg.control)
        self.traffic: TrafficProgram | None = None
        self.traffic_vcs = (0, 0)  # VC entries used by the traffic program
        self.traffic_leaves = (0, 0)  # and its leaf entries
        self._reserved_entries()

    # -- binding ------------------------------------------------------------------------------------
    def _backing(self) -> dict:
        s = self.state
        sc = s.sc
        b: dict = {
            "SLOT.SLOT": sc[SC_NOW:SC_NOW + 1], "FREE.COUNT": sc[SC_FREE:SC_FREE + 1],
            "CAPTURED.COUNT": sc[SC_CAP_N:SC_CAP_N + 1],
            "STATUS.STOPPED": self._status["STOPPED"], "STATUS.CAPTURE_FULL": self._status["CAPTURE_FULL"],
            "PORT.CTRL.CAPTURE": (s.port_flags, 0), "PORT.CTRL.STOP": (s.port_flags, 1),
            "PORT.QLIMIT.LIMIT": s.port_qlimit, "PORT.CLP_THRESH.LIMIT": s.port_clp_th,
            "PORT.EPD_THRESH.LIMIT": s.port_epd_th, "PORT.OCCUPANCY.CELLS": s.occ,
            "VC.CTRL.VALID": (s.vc_flags, 0), "VC.CTRL.AAL5": (s.vc_flags, 1), "VC.CTRL.EPD": (s.vc_flags, 2),
            "VC.CTRL.PPD": (s.vc_flags, 3), "VC.CTRL.MCAST": (s.vc_flags, 4),
            "VC.PORT.PORT": s.vc_port, "VC.KEY.VPI": s.vc_vpi, "VC.KEY.VCI": s.vc_vci, "VC.HEAD.LEAF": s.vc_head,
            "LEAF.CTRL.VALID": (s.leaf_flags, 0), "LEAF.CTRL.KEEP_HEADER": (s.leaf_flags, 1),
            "LEAF.CTRL.ACCOUNT_ONLY": (s.leaf_flags, 2),
            "LEAF.PORT.PORT": s.leaf_port, "LEAF.HDR.VPI": s.leaf_vpi, "LEAF.HDR.VCI": s.leaf_vci,
            "LEAF.NEXT.LEAF": s.leaf_next, "HIST.COUNT.COUNT": s.hist,
        }
        for name, (array, col, _) in PORT_COUNTERS.items():
            b[f"PORT.{name}.COUNT"] = getattr(s, array)[:, col]
        for cause in Drop:
            b[f"PORT.DROP_IN_{cause.name}.COUNT"] = s.port_cnt[:, PORT_DROP_IN + cause]
            b[f"PORT.DROP_OUT_{cause.name}.COUNT"] = s.port_cnt[:, PORT_DROP_OUT + cause]
            b[f"VC.DROP_{cause.name}.COUNT"] = s.vc_cnt[:, VC_DROP + cause]
        for name, (array, col, _) in VC_COUNTERS.items():
            b[f"VC.{name}.COUNT"] = getattr(s, array) if col is None else getattr(s, array)[:, col]
        for name, (array, col, _) in LEAF_COUNTERS.items():
            b[f"LEAF.{name}.COUNT"] = getattr(s, array) if col is None else getattr(s, array)[:, col]
        return b

    def _check(self, name: str, idx: np.ndarray, values: dict) -> None:
        limit = self._limits.get(name)  # the register file calls this only for these (check_names)
        if limit is None:
            return
        fname, hi = limit
        vals = values[fname]
        if vals.size == 1:  # one entry (a bus write): on a Python int
            v = int(vals.reshape(-1)[0])
            if v > hi and not (fname == "LEAF" and v == NIL):
                raise FabricConfigError(f"{name}.{fname}", v, f"0..{hi}" + (" or 0xFFFFFF" if fname == "LEAF" else ""))
            return
        vals = np.atleast_1d(vals)
        bad = vals[(vals > hi) & ~((vals == NIL) & (fname == "LEAF"))]
        if bad.size:
            raise FabricConfigError(f"{name}.{fname}", int(bad[0]), f"0..{hi}" + (" or 0xFFFFFF" if fname == "LEAF" else ""))

    def _on_write(self, name: str, idx: np.ndarray) -> None:
        if name in ("VC.CTRL", "VC.PORT", "VC.KEY"):
            s = self.state
            for v in idx.tolist():
                if s.vc_flags[v] & VC_VALID:
                    try:
                        self.cam.install(v, cam_key(s.vc_port[v], s.vc_vpi[v], s.vc_vci[v]))
                    except FabricConfigError:
                        s.vc_flags[v] &= ~VC_VALID  # refused: the entry stays out of the CAM
                        self.cam.remove(v)
                        raise
                else:
                    self.cam.remove(v)

    def _reserved_entries(self) -> None:
        """VPI 0/VCI 5 of every port -> control port; control port -> port k by routing tag."""
        N = self.config.ports
        r = self.regs
        ports = np.arange(N)
        r.write_table("LEAF", ports, PORT=N, VALID=1, KEEP_HEADER=1, **{"NEXT.LEAF": NIL})
        r.write_table("VC", ports, PORT=ports, VPI=SIGNALLING_VPI, VCI=SIGNALLING_VCI, HEAD=ports, VALID=1)
        r.write_table("LEAF", N + ports, PORT=ports, VALID=1, KEEP_HEADER=1, **{"NEXT.LEAF": NIL})
        r.write_table("VC", N + ports, PORT=N, VPI=0, VCI=CONTROL_TAG_VCI + ports, HEAD=N + ports, VALID=1)

    def _seed_streams(self, seed: int) -> None:
        P = self.config.port_count
        for i in range(P):
            self.state.rng[i] = stream_seed(seed, i)
        self.state.sched_rng[0] = stream_seed(seed, SCHEDULER_STREAM)

    # -- traffic ------------------------------------------------------------------------------------
    def load_traffic(self, program: TrafficProgram, seed: int | None = None, *, first_entry: int | None = None,
                     account_only: bool = False) -> None:
        """Program the traffic's VCs and leaves through the register file, and load the generator.
        Generation starts at the current slot; ``seed`` reseeds every stream.

        ``first_entry``: the VC and leaf entries the program takes, from there on (default 2N, the first
        entry after the reserved ones); they must be free, or the program's already loaded there. Software
        that shares the tables with the traffic (a switch's control plane) must be given the others.
        ``account_only``: set LEAF.CTRL.ACCOUNT_ONLY on the traffic's leaves: their copies are counted
        like any delivered copy but never captured for software nor stop the kernel, even on an output
        whose consumer wants every cell (background traffic toward a port with a device)."""
        cfg = self.config
        N = cfg.ports
        if program.ports != N:
            raise FabricConfigError("traffic ports", program.ports, f"{N} (this fabric)")
        nv, nl = program.vc_count, program.leaf_count
        v0 = l0 = self._traffic_first_entry(first_entry, nv, nl)
        if v0 + nv > cfg.vcs:
            raise FabricConfigError("vcs", cfg.vcs, f">= {v0 + nv} for this traffic")
        if l0 + nl > cfg.leaves:
            raise FabricConfigError("leaves", cfg.leaves, f">= {l0 + nl} for this traffic")
        _check_generator(program, N + 1)
        r = self.regs
        leaf_idx = l0 + np.arange(nl)
        # leaves of one VC are contiguous: link each to the next of the same VC
        same_next = np.zeros(nl, bool)
        same_next[:-1] = program.leaf_vc[1:] == program.leaf_vc[:-1]
        nxt = np.where(same_next, leaf_idx + 1, NIL)
        r.write_table("LEAF", leaf_idx, PORT=program.leaf_port, VPI=program.leaf_vpi, VCI=program.leaf_vci,
                      VALID=1, KEEP_HEADER=0, ACCOUNT_ONLY=int(bool(account_only)), **{"NEXT.LEAF": nxt})
        first_leaf = np.full(nv, NIL, np.int64)
        firsts = np.flatnonzero(np.concatenate([[True], ~same_next[:-1]])) if nl else np.zeros(0, np.int64)
        first_leaf[program.leaf_vc[firsts]] = l0 + firsts
        vc_idx = v0 + np.arange(nv)
        r.write_table("VC", vc_idx, PORT=program.vc_port, VPI=program.vc_vpi, VCI=program.vc_vci, HEAD=first_leaf,
                      AAL5=int(program.vc_aal5), EPD=int(program.vc_epd), PPD=int(program.vc_ppd),
                      MCAST=program.vc_mcast.astype(np.int64), VALID=1)
        if self._runner is not None:
            self._runner.discard_pending(self.state)
        s = self.state
        for name, arr in program.gen.items():
            arr = np.asarray(arr)
            if name in ("alias_vc", "alias_alt", "cal_vc"):
                arr = np.where(arr >= 0, arr + v0, arr)
            if getattr(s, name).shape != arr.shape:
                # tables sized by the program: replace the array (same dtype) in the state
                s = s._replace(**{name: np.ascontiguousarray(arr, dtype=getattr(s, name).dtype)})
            else:
                getattr(s, name)[...] = arr
        self.state = s
        s.gen_vc[:] = 0
        s.gen_left[:] = 0
        s.vc_left[:] = 0
        s.sc[SC_BLK_LEN] = 0
        s.sc[SC_GEN_ON] = 1
        if seed is not None:
            self.seed = seed
            self._seed_streams(seed)
        self.traffic = program
        self.traffic_vcs = (v0, v0 + nv)
        self.traffic_leaves = (l0, l0 + nl)

    def _traffic_first_entry(self, first_entry: int | None, nv: int, nl: int) -> int:
        """The first VC and leaf entry of a traffic program of ``nv`` VCs and ``nl`` leaves: 2N by
        default; else an int from 2N on (entries below are the reserved ones, registers.py). Its entries
        must not be valid, unless the traffic loaded before holds them (a reload): a program never
        overwrites entries someone else programmed."""
        N2 = 2 * self.config.ports
        if first_entry is None:
            first = N2
        elif isinstance(first_entry, bool) or not isinstance(first_entry, (int, np.integer)):
            raise FabricConfigError("traffic first_entry", first_entry, f"an int, {N2} or more")
        else:
            first = int(first_entry)
        if first < N2:
            raise FabricConfigError("traffic first_entry", first, f"{N2} or more (entries 0..{N2 - 1} are reserved)")
        s = self.state
        for table, flags, valid, count, own in (("VC", s.vc_flags, VC_VALID, nv, self.traffic_vcs),
                                                ("LEAF", s.leaf_flags, LEAF_VALID, nl, self.traffic_leaves)):
            idx = np.arange(first, min(first + count, flags.shape[0]))
            busy = idx[((flags[idx] & valid) != 0) & ~((idx >= own[0]) & (idx < own[1]))]
            if busy.size:
                raise FabricConfigError("traffic first_entry", first,
                                        f"free {table} entries from there on ({table}[{int(busy[0])}] is valid)")
        return first

    def stop_traffic(self) -> None:
        if self._runner is not None:
            self._runner.discard_pending(self.state)
        self.state.gen_mode[:] = 0
        self.state.sc[SC_GEN_ON] = 0
        self.state.sc[SC_BLK_LEN] = 0

    # -- cells in -----------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return int(self.state.sc[SC_NOW])

    def port(self, index: int) -> FabricPort:
        if index == self.config.control:
            return self.control
        if not 0 <= index < self.config.ports:
            raise CellInputError("port", index, f"0..{self.config.ports} ({self.config.ports} = control)")
        return self.ports[index]

    def inject(self, port: int, cells: np.ndarray, at: int | None = None, tag: int = -1) -> np.ndarray:
        """Queue cells for input ``port``'s line (one per slot). Returns their slots."""
        if not self.config.payload:
            raise CellInputError("payload", False, "a fabric built with payload=True to accept injected cells")
        if not 0 <= port <= self._control_index:
            raise CellInputError("port", port, f"0..{self._control_index}")
        if not (cells.__class__ is np.ndarray and cells.ndim == 2 and cells.dtype == np.uint8 and cells.shape[1] == 53):
            cells = np.asarray(cells)
            if cells.ndim == 1:
                cells = cells.reshape(1, -1)
            if cells.dtype != np.uint8 or cells.ndim != 2 or cells.shape[1] != 53:
                raise CellInputError("cells", f"{cells.dtype}{list(cells.shape)}", "a uint8 array of shape (n, 53)")
        now = int(self.state.sc[SC_NOW])
        start = now if at is None else int(at)
        if start < now:
            raise CellInputError("at", start, f"a slot >= now ({now})")
        n = cells.shape[0]
        line_next = self._line_next[port]
        first = start if start > line_next else line_next
        slots = np.arange(first, first + n, dtype=np.int64)
        if n:
            self._line_next[port] = first + n
            own = np.array(cells, dtype=np.uint8, order="C")  # a copy: the caller keeps its array
            tags = self._tag_col.get(tag)
            if n <= _RUN and tags is not None:
                self._queue_run((slots, self._port_col[port][:n], tags[:n], own), first, port)
            else:
                self._queue_run((slots, np.full(n, port, np.int16), np.full(n, tag, np.int32), own), first, port)
        return slots

    def _queue_run(self, run: tuple, first: int, port: int) -> None:
        """Add a run of one line's cells (consecutive slots from ``first``) to the pending segments: as a
        segment of its own when it comes after every pending cell (a line's cells come after that
        line's earlier ones, and the control port, the last port, queues behind the CPU's earlier
        frames: the common case), else merged, in (slot, port) order, with the segments it overlaps."""
        pending = self._pending
        if pending:
            last = pending[-1]
            last_slot = int(last[0][-1])
            if first < last_slot or (first == last_slot and port <= int(last[1][-1])):
                # overlaps: merge with every segment from the first one holding a cell after its first
                j = len(pending) - 1
                while j > 0:
                    prev_slot = int(pending[j - 1][0][-1])
                    if first > prev_slot or (first == prev_slot and port > int(pending[j - 1][1][-1])):
                        break
                    j -= 1
                slots, ports, tags, cells = (np.concatenate(x) for x in zip(run, *pending[j:]))
                order = np.lexsort((ports, slots))
                pending[j:] = [(slots[order], ports[order], tags[order], cells[order])]
                return
        pending.append(run)

    # -- time ---------------------------------------------------------------------------------------
    def advance(self, until: int) -> Advance:
        """Run up to slot ``until`` (exclusive) or stop early: returns at the end of the first slot in
        which a cell reached a STOP port; its cells are then waiting in receive()."""
        s = self.state
        sc = s.sc
        now = int(sc[SC_NOW])
        if until < now:
            raise CellInputError("until", until, f">= now ({now})")
        pending = self._pending
        stopped = False
        while True:
            # the kernel takes the first pending segment, and runs at most to the next one's first slot
            if pending:
                inj = pending[0]
                end = until
                if len(pending) > 1:
                    nxt = int(pending[1][0][0])
                    if nxt < until:
                        end = nxt
            else:
                inj, end = _NO_INJECTION, until
            sc[SC_INJ_POS] = 0
            if self._runner is not None:
                self.state, reason = self._runner.run(s, end, inj)
                s = self.state
                sc = s.sc
            else:
                reason = self._call(s, end, inj)
            used = int(sc[SC_INJ_POS])
            if used:
                if used == inj[0].shape[0]:
                    del pending[0]
                else:
                    pending[0] = inj = (inj[0][used:], inj[1][used:], inj[2][used:], inj[3][used:])
            if sc[SC_CAP_N]:
                self._drain()
            if reason == STOP_PORT:
                self._stopped_flag[0] = 1
                stopped = True
                break
            if reason == STOP_CAPTURE:
                self._capture_full_flag[0] = 1
                continue
            if end >= until:
                break
            # reached the next segment's first slot: what is left of the head (cells of that slot on
            # lower ports) goes in front of it, already in order
            if pending and pending[0] is inj and len(pending) > 1:
                pending[0:2] = [tuple(np.concatenate(x) for x in zip(pending[0], pending[1]))]
        return Advance(int(sc[SC_NOW]), stopped, tuple(sorted(self._rx)))  # outputs with cells (no empty lists)

    def run(self, until: int) -> int:
        """Advance to ``until`` whatever stops on the way (captured cells accumulate in receive())."""
        while self.now < until:
            self.advance(until)
        return self.now

    def _drain(self) -> None:
        """Move the capture buffer's cells to each output's receive list, in delivery order."""
        s = self.state
        n = int(s.sc[SC_CAP_N])
        if not n:
            return
        ports = s.cap_port[:n].tolist()
        # one copy of the whole capture, then each output's cells as a slice of it
        slot, ins, vcs = s.cap_slot[:n].copy(), s.cap_in[:n].astype(np.int64), s.cap_vc[:n].astype(np.int64)
        leaves, cells = s.cap_leaf[:n].astype(np.int64), s.cap_cell[:n].copy()
        s.sc[SC_CAP_N] = 0
        rx = self._rx
        first = ports[0]
        if n == 1 or ports.count(first) == n:  # one output (the common case)
            chunks = rx.get(first)
            if chunks is None:
                rx[first] = [Received(slot, ins, vcs, leaves, cells)]
            else:
                chunks.append(Received(slot, ins, vcs, leaves, cells))
            return
        if any(b < a for a, b in zip(ports, ports[1:])):
            # outputs interleaved (a run of several slots): group them, each in delivery order
            order = np.argsort(s.cap_port[:n], kind="stable")
            slot, ins, vcs, leaves, cells = slot[order], ins[order], vcs[order], leaves[order], cells[order]
            ports = [ports[i] for i in order.tolist()]
        lo = 0
        while lo < n:
            p = ports[lo]
            hi = lo + 1
            while hi < n and ports[hi] == p:
                hi += 1
            rx.setdefault(p, []).append(Received(slot[lo:hi], ins[lo:hi], vcs[lo:hi], leaves[lo:hi], cells[lo:hi]))
            lo = hi

    def _take(self, port: int) -> Received:
        chunks = self._rx.pop(port, None)
        if not chunks:
            z = np.zeros(0, np.int64)
            return Received(z, z, z, z, _EMPTY_CELLS.copy())
        if len(chunks) == 1:
            return chunks[0]
        return Received(np.concatenate([c.slots for c in chunks]), np.concatenate([c.in_ports for c in chunks]),
                        np.concatenate([c.vcs for c in chunks]), np.concatenate([c.leaves for c in chunks]),
                        np.concatenate([c.cells for c in chunks]))

    # -- state --------------------------------------------------------------------------------------
    def queued_copies(self) -> int:
        """Copies in the queues: the pointer nodes not free."""
        return self.config.nodes - int(self.state.sc[SC_NODE_FREE])

    def reset_statistics(self) -> None:
        """Zero every counter and the histogram (tables and queues untouched)."""
        for name in COUNTERS:
            getattr(self.state, name)[...] = 0

    def reset(self) -> None:
        """Hardware reset: registers to reset values, memory emptied, reserved entries back. Virtual
        time goes on (the clock is not the fabric's): SLOT keeps counting from now."""
        now = self.now
        self.regs.reset()
        self.state.sc[SC_NOW] = now
        self.cam.clear()
        reset_dynamic(self.state, self.config)
        self.reset_statistics()
        self.stop_traffic()
        self.state.port_flags[self.config.control] = PORT_CAPTURE | PORT_STOP
        self._pending.clear()
        self._rx.clear()
        self._line_next = [0] * self.config.port_count
        self._reserved_entries()


def _check_generator(program: TrafficProgram, P: int) -> None:
    """The generator's tables index each other without bounds checks in the kernel (and a BERNOULLI
    source looks up its VC column before knowing whether a cell arrives, generator.py): every source
    that draws a VC needs a non-empty column range inside the alias table. And a source sends only
    VCs keyed on its own input port (as build() makes them): the sources then share no state, so the
    kernel may generate them in any order (generator.py) and still match the slot-by-slot twin."""
    gen = program.gen
    mode = np.asarray(gen["gen_mode"])
    off, n = np.asarray(gen["alias_off"], np.int64), np.asarray(gen["alias_n"], np.int64)
    alias_vc, alias_alt = np.asarray(gen["alias_vc"], np.int64), np.asarray(gen["alias_alt"], np.int64)
    size = len(gen["alias_prob"])
    if len(alias_vc) != size or len(alias_alt) != size:
        raise FabricConfigError("traffic alias table", (size, len(alias_vc), len(alias_alt)),
                                "alias_prob, alias_vc and alias_alt of one length")
    cal_off, cal_len = np.asarray(gen["cal_off"], np.int64), np.asarray(gen["cal_len"], np.int64)
    cal_vc = np.asarray(gen["cal_vc"], np.int64)
    nv = program.vc_count
    for i in range(P):
        m = int(mode[i])
        if m not in (MODE_OFF, MODE_BERNOULLI, MODE_ONOFF, MODE_CBR):
            raise FabricConfigError(f"traffic gen_mode[{i}]", m, "a generator mode (generator.py)")
        if m in (MODE_BERNOULLI, MODE_ONOFF):
            if not (n[i] >= 1 and 0 <= off[i] and off[i] + n[i] <= size):
                raise FabricConfigError(f"traffic alias columns of port {i}", (int(off[i]), int(n[i])),
                                        f"1 or more columns inside the alias table (0..{size})")
            sent = np.concatenate([alias_vc[off[i]:off[i] + n[i]], alias_alt[off[i]:off[i] + n[i]]])
        elif m == MODE_CBR:
            if not (cal_len[i] >= 1 and 0 <= cal_off[i] and cal_off[i] + cal_len[i] <= len(cal_vc)):
                raise FabricConfigError(f"traffic calendar of port {i}", (int(cal_off[i]), int(cal_len[i])),
                                        f"1 or more slots inside the calendar (0..{len(cal_vc)})")
            sent = cal_vc[cal_off[i]:cal_off[i] + cal_len[i]]
            sent = sent[sent >= 0]
        else:
            continue
        bad = sent[(sent < 0) | (sent >= nv)]
        if bad.size:
            raise FabricConfigError(f"traffic VCs of port {i}", int(bad[0]), f"VCs of the program, 0..{nv - 1}")
        foreign = sent[program.vc_port[sent] != i]
        if foreign.size:
            raise FabricConfigError(f"traffic VCs of port {i}", int(foreign[0]),
                                    f"a VC keyed on input port {i} (VC {int(foreign[0])} is on port "
                                    f"{int(program.vc_port[foreign[0]])})")


__all__ = ["Fabric", "FabricPort", "ControlPort", "Received", "Advance", "queue_contents"]


def queue_contents(fabric: Fabric) -> dict:
    """{queue: [(vc, seq, leaf), ...]} of the non-empty queues, walking the pointer lists (keys:
    output o for OQ, ("in", i) for an input FIFO, (i, o) for a VOQ, ("mc", i) for a multicast queue)."""
    s = fabric.state
    cfg = fabric.config
    P = cfg.port_count
    out = {}
    for q in range(cfg.queue_count):
        items = []
        for b, leaf in queue_nodes(s, q):
            _, seq, vc, _ = descriptor(s, b)
            items.append((vc, seq, leaf))
        if not items:
            continue
        if cfg.arch.name == "OQ":
            key = q
        elif cfg.arch.name == "IQ_FIFO":
            key = ("in", q)
        elif q < P * P:
            key = divmod(q, P)
        else:
            key = ("mc", q - P * P)
        out[key] = items
    return out
