"""Soak: add/drop party cycles through the MCM root for a long time with cell loss on the signalling links
(issue 9), checking that nothing piles up and nothing is lost.

    python -m tools.soak --cycles 100000 --loss 1e-5 [--window 8] [--seed 1] [--trace-cycles N] [--json]
    make soak                                                  # 100,000 cycles, 1e-5

The rig (cm.mcm.rig.McmRig): NDIS with the rule checker (report mode), the CoNDIS client, the MCM on the
emulated adapter on port 0 of a 4-port switch (SwitchNode: fabric, a line per port, per-port SAAL through
the control port), an accepting leaf on ports 1..3; every line loses cells independently with
probability ``loss`` (both directions), so every signalling link - the MCM's and the leaves' - loses SD
PDUs and SSCOP recovers them by retransmission. The client holds one call (to port 1) and runs cycles,
``window`` at a time: NdisClAddParty to a leaf address, wait for every completion, NdisClDropParty of
each party added, wait again. A call the network closes (it should not, at these loss rates) is made
again; every failure status is counted.

Nothing is trimmed: the soak runs the client and the leaves as they are. What they keep on purpose is
bounded by construction - the client's recent completions, a call's recent gone parties, a leaf's recent
ended parties (cm.client.HISTORY, firmware.endpoint.leaf.HISTORY records, in deques) - and the soak
reports those records apart from the state objects still in use.

How memory is measured, and why so. tracemalloc slows this workload 3 to 7 times (it hooks every
allocation, and the firmware makes many short-lived objects; measured on 2 busy cores: 33-62 cycles/s
traced, 170-230 not), so it is not on for the whole run:

* Over the whole run, with nothing traced: every object the collector tracks, counted by type (after a
  full collection) at the start and at the end; the interpreter's allocated blocks
  (``sys.getallocatedblocks``: every object and buffer Python allocated, whoever holds it); the RSS and
  its peak. A leak of one small object per cycle shows as thousands of objects and blocks over the run.
  The party/call state classes (:data:`STATE_CLASSES`) are counted apart: ``live`` (in use by the
  protocol) and ``records`` (held only as a bounded record); live ones must not grow. State objects
  alive before the soak's rig was built (other rigs of the same process, in a test run) are left out.
* Two tracemalloc windows, one right after the warm-up (the start) and one at the very end of the run:
  tracing starts, ``trace_cycles`` cycles run and then more until every bounded record has been
  replaced since (so each record evicted afterwards was itself traced: a bounded history then nets to
  zero instead of reading as growth; caches that fill more slowly than the records - register decode
  plans, rings - get that long too), snapshot A, ``trace_cycles`` more cycles, snapshot B. Reported per
  window: the traced peak during those cycles (bytes above the level at A: what the cycles need at their
  busiest), the net growth B - A and its top lines by file:line. Peak memory "at the start" and "at the
  end" are those two windows'; the process's own (allocated blocks, RSS) are beside them.
* The warm-up runs until every bounded record is full, so the start figures include them at their size.

The collector runs as the network benchmarks run it (tools.bench.network.quiet_collector: the setup
frozen out of collections, young collections less often); every count is taken after a full collection.

Printed (a rich table, or JSON): cycles, NDIS operations issued and completed (must be equal), their
statuses, rule violations (0), the memory figures above, whether every counter balances (Network.check,
adapter, host SSCOP), the faults injected (cells lost on the lines, HEC discards, SSCOP retransmissions),
virtual and wall time and the rate. Exit 0 when every promise holds, 1 when one does not, 2 for bad
arguments.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import tracemalloc
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

#: Classes whose instances are party or call state somewhere in the stack.
STATE_CLASSES = ("cm.client.ClientParty", "cm.client.ClientCall", "cm.mcm.parties.McmParty",
                 "firmware.switch.interface.UniCall", "firmware.uni.machines.call.Call",
                 "firmware.uni.machines.table.Machine", "firmware.switch.control_plane.Party",
                 "firmware.switch.control_plane.Branch", "firmware.switch.control_plane.SwitchCall",
                 "firmware.endpoint.leaf.LeafParty")
#: Top lines (tracemalloc) and types (object counts) reported.
TOP = 12


def count_objects(records: set[int] = frozenset(), before: set[int] = frozenset()
                  ) -> tuple[Counter[str], dict[str, dict[str, int]]]:
    """Every object the collector tracks, by type (``module.qualname``), after a full collection; and for
    each :data:`STATE_CLASSES` class ``{"live": n, "records": m}``, ``records`` being those whose id is in
    ``records`` (held as a bounded record, not as state in use). State objects whose id is in ``before``
    (alive before the soak's rig was built: another rig of the same process) are left out."""
    gc.collect()
    by_type: Counter[str] = Counter()
    state = {n: {"live": 0, "records": 0} for n in STATE_CLASSES}
    for obj in gc.get_objects():
        cls = obj.__class__
        name = f"{cls.__module__}.{cls.__qualname__}"
        by_type[name] += 1
        s = state.get(name)
        if s is not None and id(obj) not in before:
            s["records" if id(obj) in records else "live"] += 1
    return by_type, {n.rsplit(".", 1)[1]: v for n, v in state.items()}


def state_object_ids() -> set[int]:
    """ids of the :data:`STATE_CLASSES` objects alive now (after a full collection)."""
    gc.collect()
    return {id(o) for o in gc.get_objects() if f"{o.__class__.__module__}.{o.__class__.__qualname__}" in STATE_CLASSES}


def _rss() -> int:
    """Resident set size now, bytes (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0


def _rss_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # Linux: KiB


@dataclass
class TraceWindow:
    """One tracemalloc window: ``settle`` cycles (the measured count, then until every bounded record was
    replaced), snapshot A, ``cycles`` more, snapshot B. Bytes."""

    settle: int = 0
    cycles: int = 0
    settled: bool = False          # every bounded record replaced before A
    peak: int = 0                  # highest traced memory during the measured cycles, above its level at A
    growth: int = 0                # net traced bytes B - A
    growth_blocks: int = 0
    top: list[tuple[str, int, int]] = field(default_factory=list)   # (file:line, bytes, blocks) B - A


@dataclass
class Memory:
    """Process figures at one point of the run, and the tracemalloc window there."""

    objects: int = 0               # objects the collector tracks
    blocks: int = 0                # sys.getallocatedblocks()
    rss: int = 0
    rss_peak: int = 0
    window: TraceWindow = field(default_factory=TraceWindow)


@dataclass
class SoakResult:
    cycles: int = 0
    window: int = 0
    loss: float = 0.0
    seed: int = 0
    warmup: int = 0
    issued: int = 0
    completed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    failed_ops: int = 0
    calls_made: int = 0
    violations: int = 0
    violation_names: list[str] = field(default_factory=list)
    memory_start: Memory = field(default_factory=Memory)
    memory_end: Memory = field(default_factory=Memory)
    objects_before: int = 0        # state objects alive before the rig was built (left out of the counts)
    objects_start: dict[str, dict[str, int]] = field(default_factory=dict)   # STATE_CLASSES: live, records
    objects_end: dict[str, dict[str, int]] = field(default_factory=dict)
    types_grew: list[tuple[str, int, int]] = field(default_factory=list)     # (type, start, end), top growth
    records_bound: dict[str, int] = field(default_factory=dict)              # what the records are bounded by
    balanced: bool = False
    unbalanced: str = ""
    cells_lost: int = 0
    hec_discarded: int = 0
    sscop_retransmissions: int = 0
    virtual_seconds: float = 0.0
    wall_seconds: float = 0.0
    measured_seconds: float = 0.0      # wall time of the cycles between the start and end figures
    measured_cycles: int = 0
    bulk_seconds: float = 0.0          # ... of those run between the two tracemalloc windows (nothing traced)
    bulk_cycles: int = 0

    @property
    def not_completed(self) -> int:
        return self.issued - self.completed

    @property
    def objects_grew(self) -> dict[str, tuple[int, int]]:
        """State classes whose live instances grew from the start to the end."""
        return {k: (self.objects_start.get(k, {}).get("live", 0), v["live"]) for k, v in self.objects_end.items()
                if v["live"] > self.objects_start.get(k, {}).get("live", 0)}

    @property
    def records_over_bound(self) -> dict[str, tuple[int, int]]:
        """State classes with more instances held as records than the records' bounds allow."""
        out = {}
        for name, bound in self.records_bound.items():
            n = max(self.objects_start.get(name, {}).get("records", 0),
                    self.objects_end.get(name, {}).get("records", 0))
            if n > bound:
                out[name] = (n, bound)
        return out

    @property
    def cycles_per_second(self) -> float | None:
        """Cycles per wall second from the start figures to the end ones (the traced windows included)."""
        return self.measured_cycles / self.measured_seconds if self.measured_seconds else None

    @property
    def bulk_cycles_per_second(self) -> float | None:
        """Cycles per wall second between the two tracemalloc windows (nothing traced)."""
        return self.bulk_cycles / self.bulk_seconds if self.bulk_seconds else None

    @property
    def ok(self) -> bool:
        return (self.not_completed == 0 and self.violations == 0 and self.balanced and not self.objects_grew
                and not self.records_over_bound and self.cycles > 0)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(not_completed=self.not_completed, objects_grew=self.objects_grew,
                 records_over_bound=self.records_over_bound, ok=self.ok, cycles_per_second=self.cycles_per_second,
                 bulk_cycles_per_second=self.bulk_cycles_per_second)
        return d


class _Driver:
    """The client's side of the soak: one call, cycles of ``n`` adds then their drops."""

    def __init__(self, rig: Any, res: SoakResult, window: int) -> None:
        from cm.ndis.status import NDIS_STATUS

        self.rig = rig
        self.client = rig.client
        self.res = res
        self.success = NDIS_STATUS.SUCCESS
        self.addresses = [rig.address(1 + i % 3, esi=1 + i // 3) for i in range(window)]
        self.leaves = [rig.net.leaves[p].endpoint for p in sorted({1 + i % 3 for i in range(window)})]
        self.call = None
        self.done = 0

    def ensure_call(self):
        call, client, rig = self.call, self.client, self.rig
        if call is not None and call.phase.value == "connected" and not call.closing:
            return call
        if call is not None:   # the network closed it: let the close finish
            rig.run_while(lambda: call.phase.value not in ("closed", "failed"), limit_seconds=120)
        call = client.make_call(rig.address(1, esi=1))
        self.res.issued += 1
        self.res.calls_made += 1
        rig.run_while(lambda: call.phase.value == "making", limit_seconds=120)
        self.call = call
        return call

    def cycle(self, n: int) -> None:
        """``n`` parties added, then dropped (those that became active)."""
        call, client, rig, res = self.ensure_call(), self.client, self.rig, self.res
        self.done += n
        if call.phase.value != "connected":
            return
        target = client.completed + n
        parties = [client.add_party(call, self.addresses[i]) for i in range(n)]
        res.issued += n
        rig.run_while(lambda: client.completed < target, limit_seconds=120)
        active = [p for p in parties if p.phase.value == "active"]
        res.failed_ops += n - len(active)
        for p in active:
            if p.phase.value != "active":
                continue      # gone meanwhile (the network dropped it: counted as the incoming drop)
            client.drop_party(p)
            res.issued += 1
        rig.run_while(lambda: any(p.phase.value == "dropping" for p in active), limit_seconds=120)
        res.failed_ops += sum(1 for p in active if p.drop_completions and p.drop_completions[-1] != self.success)

    def run(self, cycles: int, window: int, progress: Callable[[int], None] | None) -> None:
        end = self.done + cycles
        while self.done < end:
            self.cycle(min(window, end - self.done))
            if progress is not None:
                progress(self.done)

    # ---- the bounded records
    def turnover(self) -> dict[str, tuple[Any, int, int]]:
        """For each bounded record: (whose, how many entries went in so far, its bound)."""
        c = self.client
        marks = {"client.log": (c, c.completed, c.log.maxlen)}
        if self.call is not None:
            marks["call.ended"] = (self.call, self.call.parties_ended, self.call.ended.maxlen)
        for ep in self.leaves:
            marks[f"{ep.name}.ended"] = (ep, sum(ep.counters[k] for k in ("released", "dropped", "rejected", "left")),
                                         ep.ended.maxlen)
        return marks

    def replaced_since(self, marks: dict[str, tuple[Any, int, int]]) -> bool:
        """Has every bounded record taken in at least its bound of entries since ``marks``?"""
        now = self.turnover()
        for key, (who, n, bound) in now.items():
            was_who, was_n, _ = marks.get(key, (None, 0, 0))
            if n - (was_n if was_who is who else 0) < bound:
                return False
        return True

    def run_until_replaced(self, window: int, limit: int, progress: Callable[[int], None] | None) -> tuple[int, bool]:
        """Cycles until every bounded record was replaced (at most ``limit``): (cycles run, replaced)."""
        marks, start = self.turnover(), self.done
        while not self.replaced_since(marks) and self.done - start < limit:
            self.run(min(window, limit - (self.done - start)), window, progress)
        return self.done - start, self.replaced_since(marks)

    def record_ids(self) -> set[int]:
        """ids of the objects held only as bounded records: gone calls and parties, ended leaf parties."""
        ids: set[int] = set()
        for call in self.client.ended_calls:
            ids.add(id(call))
        for call in self.client.calls:
            ids.update(id(p) for p in call.ended)
        for leaf in self.rig.net.leaves.values():
            ids.update(id(p) for p in leaf.endpoint.ended)
        return ids

    def bounds(self) -> dict[str, int]:
        c = self.client
        return {"ClientCall": c.ended_calls.maxlen,
                "ClientParty": c.history * (len(c.calls) or 1),
                "LeafParty": sum(leaf.endpoint.ended.maxlen for leaf in self.rig.net.leaves.values())}


def _figures(driver: _Driver, before: set[int]) -> tuple[Memory, Counter[str], dict[str, dict[str, int]]]:
    gc.unfreeze()       # frozen objects are not in gc.get_objects(): count everything
    by_type, state = count_objects(driver.record_ids(), before)
    mem = Memory(objects=sum(by_type.values()), blocks=sys.getallocatedblocks(), rss=_rss(), rss_peak=_rss_peak())
    gc.collect()
    gc.freeze()
    return mem, by_type, state


def _trace_window(driver: _Driver, window: int, trace_cycles: int, settle_limit: int,
                  progress: Callable[[int], None] | None) -> TraceWindow:
    """Trace, run until every bounded record was replaced and at least ``trace_cycles`` (caches that fill
    more slowly than the records - first-use plans, rings - are then traced on both sides), snapshot A,
    ``trace_cycles`` more, snapshot B."""
    w = TraceWindow()
    tracemalloc.start()
    try:
        driver.run(trace_cycles, window, progress)
        w.settle, w.settled = driver.run_until_replaced(window, settle_limit, progress)
        w.settle += trace_cycles
        gc.collect()
        a = tracemalloc.take_snapshot()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        driver.run(trace_cycles, window, progress)
        w.cycles = trace_cycles
        w.peak = tracemalloc.get_traced_memory()[1] - base
        gc.collect()
        b = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"))
    stats = b.filter_traces(ignore).compare_to(a.filter_traces(ignore), "lineno")
    w.growth = sum(s.size_diff for s in stats)
    w.growth_blocks = sum(s.count_diff for s in stats)
    w.top = [(f"{s.traceback[0].filename}:{s.traceback[0].lineno}", s.size_diff, s.count_diff)
             for s in stats[:TOP] if s.size_diff or s.count_diff]
    return w


def run_soak(cycles: int, *, loss: float = 1e-5, window: int = 8, seed: int = 1, trace_cycles: int | None = None,
             progress: Callable[[int], None] | None = None) -> SoakResult:
    """Run about ``cycles`` add/drop cycles (``window`` parties at a time) with cell loss ``loss`` on every
    line: the warm-up, the start window, the bulk, the end window (see the module's docstring).
    ``trace_cycles``: cycles measured in each tracemalloc window after it settled (default: twice as many
    as the warm-up took). Raises ValueError when ``cycles`` is too few for those phases."""
    from cm.mcm import McmConfig
    from cm.mcm.rig import McmRig
    from cm.ndis.status import status_name
    from hw.link import Impairments
    from tools.bench.network import quiet_collector

    res = SoakResult(window=window, loss=loss, seed=seed)
    wall0 = time.perf_counter()
    before = state_object_ids()
    res.objects_before = len(before)
    rig = McmRig(ports=4, addresses=-(-window // 3) + 1, mode="report", config=McmConfig(),
                 network={"link_impairments": Impairments(loss=loss), "seed": seed})
    rig.up(limit_seconds=30.0)
    driver = _Driver(rig, res, window)
    with quiet_collector():
        # warm-up: until every bounded record is full (numba's dispatch and first-use caches settle here too)
        limit = max(cycles, window)
        res.warmup, full = driver.run_until_replaced(window, limit, progress)
        settle_limit = 4 * max(res.warmup, window)
        trace = 2 * max(res.warmup, window) if trace_cycles is None else trace_cycles
        # a window: trace cycles, then until the records were replaced (about the warm-up), then trace again
        need = 2 * (2 * trace + res.warmup)
        bulk = cycles - driver.done - need
        if not full or bulk < 0:
            raise ValueError(f"{cycles} cycles are too few: the warm-up took {res.warmup} "
                             f"({'records full' if full else 'records still not full'}), the two tracemalloc "
                             f"windows need about {need} more")
        res.memory_start, types_start, res.objects_start = _figures(driver, before)
        t0, n0 = time.perf_counter(), driver.done
        res.memory_start.window = _trace_window(driver, window, trace, settle_limit, progress)
        t1, n1 = time.perf_counter(), driver.done
        driver.run(bulk, window, progress)
        res.bulk_seconds, res.bulk_cycles = time.perf_counter() - t1, driver.done - n1
        res.memory_end.window = _trace_window(driver, window, trace, settle_limit, progress)
        res.measured_seconds, res.measured_cycles = time.perf_counter() - t0, driver.done - n0
        mem, types_end, res.objects_end = _figures(driver, before)
        mem.window = res.memory_end.window
        res.memory_end = mem
        res.records_bound = driver.bounds()
    res.cycles = driver.done
    growth = [(t, types_start.get(t, 0), n) for t, n in types_end.items() if n > types_start.get(t, 0)]
    res.types_grew = sorted(growth, key=lambda g: g[1] - g[2])[:TOP]
    # the end: close the call, unload (the checker looks for requests left pending), then the books
    call = driver.call
    if call is not None and call.phase.value == "connected" and not call.closing:
        res.issued += 1        # NdisClCloseCall
    rig.finish(settle_seconds=5.0)
    client = rig.client
    res.completed = sum(n for (kind, _), n in client.counts.items()
                        if kind in ("MakeCall", "AddParty", "DropParty", "CloseCall"))
    statuses: Counter[str] = Counter()
    for (_, s), n in client.counts.items():
        statuses[status_name(s)] += n
    res.statuses = dict(statuses)
    report = rig.checker.report()
    res.violations = len(report)
    res.violation_names = sorted(set(report.names()))
    try:
        rig.check_conservation()
        res.balanced = True
    except Exception as exc:  # noqa: BLE001 - reported as the soak's finding
        res.unbalanced = str(exc)
    for link in rig.net.node.links:
        for lane in link.lanes:
            c = lane.counters
            res.cells_lost += c["cells_lost_random"] + c["cells_lost_burst"] + c["cells_lost_down"]
    res.hec_discarded = sum(rig.net.node.port_counters(i)["hec_discarded"] for i in range(len(rig.net.node.links)))
    res.sscop_retransmissions = _retransmissions(rig)
    res.virtual_seconds = rig.clock.seconds()
    res.wall_seconds = time.perf_counter() - wall0
    return res


def _retransmissions(rig: Any) -> int:
    """SD PDUs sent again by every SSCOP of the run (the MCM's, the switch's, the leaves')."""
    total = 0
    saals = [rig.mcm.saal, *rig.net.node.saal, *(leaf.saal for leaf in rig.net.leaves.values())]
    for s in saals:
        counters = getattr(s.sscop, "counters", None) or {}
        total += int(counters.get("tx.retransmitted", 0) or 0)
    return total


def _print(res: SoakResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title=f"soak: {res.cycles:,} add/drop cycles, cell loss {res.loss:g}, window {res.window}")
    t.add_column("figure")
    t.add_column("start", justify="right")
    t.add_column("end", justify="right")
    mib = 1 / (1 << 20)
    s, e = res.memory_start, res.memory_end

    def both(f: Callable[[Memory], str]) -> tuple[str, str]:
        return f(s), f(e)

    rows = [
        ("cycles done (warm-up)", f"{res.cycles:,} ({res.warmup:,})", ""),
        ("NDIS operations issued / completed", f"{res.issued:,} / {res.completed:,}", ""),
        ("operations not completed", f"{res.not_completed}", ""),
        ("failed operations (completed with a failure status)", f"{res.failed_ops}", ""),
        ("completion statuses", ", ".join(f"{k} {v:,}" for k, v in sorted(res.statuses.items())), ""),
        ("calls made", f"{res.calls_made}", ""),
        ("rule violations",
         f"{res.violations}" + (f" ({', '.join(res.violation_names)})" if res.violations else ""), ""),
        ("tracemalloc window: settle + measured cycles", *both(lambda m: f"{m.window.settle} + {m.window.cycles}"
                                                                     + ("" if m.window.settled else " (not settled)"))),
        ("tracemalloc peak in the window (MiB)", *both(lambda m: f"{m.window.peak * mib:.2f}")),
        ("tracemalloc net growth over the measured cycles (KiB, blocks)",
         *both(lambda m: f"{m.window.growth / 1024:+.1f}, {m.window.growth_blocks:+d}")),
        ("allocated blocks", *both(lambda m: f"{m.blocks:,}")),
        ("objects tracked by the collector", *both(lambda m: f"{m.objects:,}")),
        ("RSS / peak RSS (MiB)", *both(lambda m: f"{m.rss * mib:.1f} / {m.rss_peak * mib:.1f}")),
    ]
    if res.objects_before:
        rows.append(("state objects from before the rig (left out)", f"{res.objects_before:,}", ""))
    for name in res.objects_end:
        a, b = res.objects_start.get(name, {}), res.objects_end[name]
        rows.append((f"  {name}: live (records)", f"{a.get('live', 0)} ({a.get('records', 0)})",
                     f"{b['live']} ({b['records']})"))
    rows += [
        ("counters balanced", "yes" if res.balanced else f"NO: {res.unbalanced}", ""),
        ("faults injected: cells lost on the lines", f"{res.cells_lost:,}", ""),
        ("SSCOP SD retransmissions", f"{res.sscop_retransmissions:,}", ""),
        ("virtual time (s)", f"{res.virtual_seconds:,.1f}", ""),
        ("wall time (s)", f"{res.wall_seconds:,.1f}", ""),
        ("cycles/s: start to end figures / untraced bulk", f"{res.cycles_per_second or 0:,.0f}",
         f"{res.bulk_cycles_per_second or 0:,.0f}"),
        ("verdict", "OK" if res.ok else "FAILED", ""),
    ]
    for row in rows:
        t.add_row(*row)
    console.print(t)
    for label, m in (("start", s), ("end", e)):
        top = Table(title=f"tracemalloc growth by line, {label} window ({m.window.cycles} cycles)")
        top.add_column("file:line")
        top.add_column("bytes", justify="right")
        top.add_column("blocks", justify="right")
        for where, size, count in m.window.top:
            top.add_row(where, f"{size:+,}", f"{count:+,}")
        console.print(top)
    if res.types_grew:
        grew = Table(title="object types that grew, start -> end")
        grew.add_column("type")
        grew.add_column("start", justify="right")
        grew.add_column("end", justify="right")
        for name, a, b in res.types_grew:
            grew.add_row(name, f"{a:,}", f"{b:,}")
        console.print(grew)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=100_000, help="add/drop party cycles (default 100000)")
    ap.add_argument("--loss", type=float, default=1e-5, help="cell loss probability on every line (default 1e-5)")
    ap.add_argument("--window", type=int, default=8, help="parties added (then dropped) at a time (default 8)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the lines' random draws")
    ap.add_argument("--trace-cycles", type=int, default=None,
                    help="cycles measured in each tracemalloc window (default: twice the warm-up)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON, no progress bar")
    args = ap.parse_args(argv)
    if args.cycles <= 0 or args.window <= 0 or not 0.0 <= args.loss <= 1.0 or (args.trace_cycles or 0) < 0:
        print("cycles and window must be > 0, trace cycles >= 0, loss in [0, 1]", file=sys.stderr)
        return 2
    kw = dict(loss=args.loss, window=args.window, seed=args.seed, trace_cycles=args.trace_cycles)
    try:
        if args.json:
            res = run_soak(args.cycles, **kw)
            print(json.dumps(res.to_json(), indent=2))
            return 0 if res.ok else 1
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        with Progress(TextColumn("soak"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn()) as bar:
            task = bar.add_task("cycles", total=args.cycles)
            res = run_soak(args.cycles, progress=lambda n: bar.update(task, completed=n), **kw)
    except ValueError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    _print(res)
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
