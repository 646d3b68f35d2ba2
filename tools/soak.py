"""Soak: add/drop party cycles through the MCM root for a long time with cell loss on the signalling links
(issue 9), checking that nothing piles up and nothing is lost.

    python -m tools.soak --cycles 100000 --loss 1e-5 [--window 8] [--seed 1] [--json]
    make soak                                                  # 100,000 cycles, 1e-5

The rig (cm.mcm.rig.McmRig): NDIS with the rule checker (report mode), the CoNDIS client, the MCM on the
emulated adapter on port 0 of a 4-port switch (SwitchNode: fabric, a line per port, per-port SAAL through
the control port), an accepting leaf on ports 1..3; every line loses cells independently with
probability ``loss`` (both directions), so every signalling link - the MCM's and the leaves' - loses SD
PDUs and SSCOP recovers them by retransmission. The client holds one call (to port 1) and runs cycles,
``window`` at a time: NdisClAddParty to a leaf address, wait for every completion, NdisClDropParty of
each party added, wait again. A call the network closes (it should not, at these loss rates) is made
again; every failure status is counted.

Printed (a rich table, or JSON): cycles, NDIS operations issued and completed (must be equal), their
statuses, rule violations (0), tracemalloc current and peak at the start (after a warm-up) and at the end,
the live party/call state objects at the start and the end (must not grow), whether every counter
balances (Network.check, adapter, host SSCOP), the faults injected (cells lost on the lines, HEC
discards, SSCOP retransmissions), virtual and wall time and the rate. Exit 0 when every promise holds,
1 when one does not.

The client, the leaves and the MCM keep some history on purpose (the client's completion log, its ended
parties, the leaves' party records): the soak trims those lists after each window - they are the
harness's records, not protocol state - and counts the objects that are protocol state.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

#: Classes whose live instances are party or call state somewhere in the stack.
STATE_CLASSES = ("cm.client.ClientParty", "cm.client.ClientCall", "cm.mcm.parties.McmParty",
                 "firmware.switch.interface.UniCall", "firmware.uni.machines.call.Call",
                 "firmware.uni.machines.table.Machine", "firmware.switch.control_plane.Party",
                 "firmware.switch.control_plane.Branch", "firmware.switch.control_plane.SwitchCall",
                 "firmware.endpoint.leaf.LeafParty")


def live_state_objects() -> dict[str, int]:
    """How many instances of each :data:`STATE_CLASSES` class are alive (after a full collection)."""
    gc.collect()
    names = {n.rsplit(".", 1)[1]: n for n in STATE_CLASSES}
    counts = Counter()
    for obj in gc.get_objects():
        cls = obj.__class__
        full = names.get(cls.__name__)
        if full is not None and f"{cls.__module__}.{cls.__name__}" == full:
            counts[cls.__name__] += 1
    return {n: counts.get(n, 0) for n in names}


@dataclass
class SoakResult:
    cycles: int = 0
    window: int = 0
    loss: float = 0.0
    seed: int = 0
    issued: int = 0
    completed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    failed_ops: int = 0
    calls_made: int = 0
    violations: int = 0
    violation_names: list[str] = field(default_factory=list)
    memory_start: tuple[int, int] = (0, 0)       # tracemalloc (current, peak) after the warm-up, bytes
    memory_end: tuple[int, int] = (0, 0)
    objects_start: dict[str, int] = field(default_factory=dict)
    objects_end: dict[str, int] = field(default_factory=dict)
    balanced: bool = False
    unbalanced: str = ""
    cells_lost: int = 0
    hec_discarded: int = 0
    sscop_retransmissions: int = 0
    virtual_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def not_completed(self) -> int:
        return self.issued - self.completed

    @property
    def objects_grew(self) -> dict[str, tuple[int, int]]:
        return {k: (self.objects_start.get(k, 0), v) for k, v in self.objects_end.items()
                if v > self.objects_start.get(k, 0)}

    @property
    def ok(self) -> bool:
        return (self.not_completed == 0 and self.violations == 0 and self.balanced and not self.objects_grew
                and self.cycles > 0)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(not_completed=self.not_completed, objects_grew=self.objects_grew, ok=self.ok,
                 cycles_per_second=self.cycles / self.wall_seconds if self.wall_seconds else None)
        return d


def run_soak(cycles: int, *, loss: float = 1e-5, window: int = 8, seed: int = 1, warmup: int | None = None,
             progress: Callable[[int], None] | None = None) -> SoakResult:
    """Run ``cycles`` add/drop cycles (``window`` parties at a time) with cell loss ``loss`` on every line.
    ``warmup``: cycles run before the start figures are taken (default: 5 % of the cycles, at least 2
    windows); they count in the cycles done."""
    from cm.mcm import McmConfig
    from cm.mcm.rig import McmRig
    from cm.ndis.status import NDIS_STATUS, status_name
    from hw.link import Impairments

    res = SoakResult(window=window, loss=loss, seed=seed)
    rig = McmRig(ports=4, addresses=-(-window // 3) + 1, mode="report", config=McmConfig(),
                 network={"link_impairments": Impairments(loss=loss), "seed": seed})
    rig.up(limit_seconds=30.0)
    client = rig.client
    addresses = [rig.address(1 + i % 3, esi=1 + i // 3) for i in range(window)]
    statuses: Counter[str] = Counter()
    state = {"call": None}

    def ensure_call():
        call = state["call"]
        if call is not None and call.phase.value == "connected" and not call.closing:
            return call
        if call is not None:   # the network closed it: let the close finish
            rig.run_while(lambda: call.phase.value not in ("closed", "failed"), limit_seconds=120)
        call = client.make_call(rig.address(1, esi=1))
        res.issued += 1
        res.calls_made += 1
        rig.run_while(lambda: call.phase.value == "making", limit_seconds=120)
        state["call"] = call
        return call

    def trim() -> None:
        # the harness's history (not protocol state): the client's log and ended parties, the leaves' records
        call = state["call"]
        for c in client.log:
            statuses[status_name(c.status)] += 1
        res.completed += sum(1 for c in client.log if c.kind in ("MakeCall", "AddParty", "DropParty", "CloseCall"))
        client.log.clear()
        for c in list(client.calls):
            c.ended.clear()
            if c is not call and c.phase.value in ("closed", "failed"):
                client.calls.remove(c)
        for leaf in rig.net.leaves.values():
            ep = leaf.endpoint
            ep.parties[:] = [p for p in ep.parties if p.outcome is None]

    def cycle(n: int) -> None:
        call = ensure_call()
        if call.phase.value != "connected":
            return
        log = client.log
        before = len(log)
        parties = [client.add_party(call, addresses[i]) for i in range(n)]
        res.issued += n
        rig.run_while(lambda: len(log) < before + n, limit_seconds=120)
        active = [p for p in parties if p.phase.value == "active"]
        res.failed_ops += n - len(active)
        before = len(log)
        dropping = 0
        for p in active:
            if p.phase.value != "active":
                continue      # gone meanwhile (the network dropped it: counted as the incoming drop)
            client.drop_party(p)
            res.issued += 1
            dropping += 1
        rig.run_while(lambda: any(p.phase.value == "dropping" for p in active), limit_seconds=120)
        res.failed_ops += sum(1 for p in active if p.drop_completions and p.drop_completions[-1] != NDIS_STATUS.SUCCESS)

    wall0 = time.perf_counter()
    # the warm-up fills what is bounded and kept on purpose (register decode plans of the leaf entries the
    # switch touches, numba dispatch, the clock's free lists): memory is measured from there on
    warm = max(window * 2, cycles // 20) if warmup is None else warmup
    done = 0
    while done < min(warm, cycles):
        n = min(window, cycles - done)
        cycle(n)
        done += n
    trim()
    gc.collect()
    tracemalloc.start()
    res.objects_start = live_state_objects()
    res.memory_start = tracemalloc.get_traced_memory()
    if progress is not None:
        progress(done)
    while done < cycles:
        n = min(window, cycles - done)
        cycle(n)
        done += n
        trim()
        if progress is not None:
            progress(done)
    res.cycles = done
    res.objects_end = live_state_objects()
    res.memory_end = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the end: close the call, unload (the checker looks for requests left pending), then the books
    call = state["call"]
    if call is not None and call.phase.value == "connected" and not call.closing:
        res.issued += 1        # NdisClCloseCall
    rig.finish(settle_seconds=5.0)
    trim()
    report = rig.checker.report()
    res.violations = len(report)
    res.violation_names = sorted(set(report.names()))
    res.statuses = dict(statuses)
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

    t = Table(title=f"soak: {res.cycles:,} add/drop cycles, cell loss {res.loss:g}, window {res.window}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    mib = 1 / (1 << 20)
    rows = [
        ("cycles done", f"{res.cycles:,}"),
        ("NDIS operations issued / completed", f"{res.issued:,} / {res.completed:,}"),
        ("operations not completed", f"{res.not_completed}"),
        ("failed operations (completed with a failure status)", f"{res.failed_ops}"),
        ("completion statuses", ", ".join(f"{k} {v:,}" for k, v in sorted(res.statuses.items()))),
        ("calls made", f"{res.calls_made}"),
        ("rule violations", f"{res.violations}" + (f" ({', '.join(res.violation_names)})" if res.violations else "")),
        ("tracemalloc current / peak at start (MiB)", f"{res.memory_start[0] * mib:.2f} / {res.memory_start[1] * mib:.2f}"),
        ("tracemalloc current / peak at end (MiB)", f"{res.memory_end[0] * mib:.2f} / {res.memory_end[1] * mib:.2f}"),
        ("live party/call state objects start -> end",
         ", ".join(f"{k} {res.objects_start.get(k, 0)}->{v}" for k, v in res.objects_end.items())),
        ("counters balanced", "yes" if res.balanced else f"NO: {res.unbalanced}"),
        ("faults injected: cells lost on the lines", f"{res.cells_lost:,}"),
        ("SSCOP SD retransmissions", f"{res.sscop_retransmissions:,}"),
        ("virtual time (s)", f"{res.virtual_seconds:,.1f}"),
        ("wall time (s)", f"{res.wall_seconds:,.1f} ({res.cycles / max(res.wall_seconds, 1e-9):,.0f} cycles/s)"),
        ("verdict", "OK" if res.ok else "FAILED"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    Console().print(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=100_000, help="add/drop party cycles (default 100000)")
    ap.add_argument("--loss", type=float, default=1e-5, help="cell loss probability on every line (default 1e-5)")
    ap.add_argument("--window", type=int, default=8, help="parties added (then dropped) at a time (default 8)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the lines' random draws")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON, no progress bar")
    args = ap.parse_args(argv)
    if args.cycles <= 0 or args.window <= 0 or not 0.0 <= args.loss <= 1.0:
        print("cycles and window must be > 0, loss in [0, 1]", file=sys.stderr)
        return 2
    if args.json:
        res = run_soak(args.cycles, loss=args.loss, window=args.window, seed=args.seed)
        print(json.dumps(res.to_json(), indent=2))
        return 0 if res.ok else 1
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("soak"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn()) as bar:
        task = bar.add_task("cycles", total=args.cycles)
        res = run_soak(args.cycles, loss=args.loss, window=args.window, seed=args.seed,
                       progress=lambda n: bar.update(task, completed=n))
    _print(res)
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
