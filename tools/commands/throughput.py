"""atmemu throughput: cell-level throughput, loss and delay of a fabric architecture under a traffic
model, at one load or a sweep of loads (points run in parallel on Dask)."""

from __future__ import annotations

import json
import math
import os
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hw.fabric.config import Arch
from hw.fabric.errors import FabricConfigError
from hw.fabric.experiment import Experiment, run, sweep_points
from hw.fabric.traffic import KINDS

NAME = "throughput"
HELP = "measure a fabric's throughput, loss and delay under generated traffic"
DESCRIPTION = """Runs the switch fabric kernel with traffic generated inside it and reports, per load point,
throughput (copies delivered per output per slot), loss by cause, and queueing delay (slots) with
percentiles. --load takes a value, a range START:STOP:STEP (STOP included) or a comma list; a sweep's
points run in parallel on Dask (a local cluster by default), each with a seed derived from --seed and
the point's parameters, so results do not depend on the number of workers."""
EXAMPLES = """examples:
  atmemu throughput --ports 16 --arch oq --load 0.9 --slots 1000000
  atmemu throughput --arch iq-fifo --load 1.0 --ports 8 --json
  atmemu throughput --arch voq-islip --iterations 2 --load 0.1:0.9:0.1 --plot islip.png
  atmemu throughput --traffic bursty --burst 32 --load 0.5,0.7,0.9 --workers 2 --json
  atmemu throughput --traffic aal5 --epd --ppd --queue-limit 64 --epd-threshold 48 --load 0.95
  atmemu throughput --load 0.2:1.0:0.1 --scheduler tcp://10.0.0.5:8786
"""

TIMING_KEYS = ("elapsed_s", "input_cells_per_s")


def parse_loads(text: str) -> list[float]:
    """"0.9", "0.1:0.9:0.1" (stop included), or "0.5,0.7,0.9"."""
    try:
        if ":" in text:
            parts = [float(x) for x in text.split(":")]
            if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
                raise ValueError
            start, stop, step = parts
            n = int(math.floor((stop - start) / step + 1e-9)) + 1
            loads = [round(start + k * step, 10) for k in range(n)]
        else:
            loads = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise FabricConfigError("--load", text, "a number, START:STOP:STEP or a comma list") from None
    if not loads or any(not 0.0 <= x <= 1.0 for x in loads):
        raise FabricConfigError("--load", text, "loads in 0..1 (cells per input per slot)")
    return loads


def register(p) -> None:
    p.add_argument("--ports", type=int, default=16, help="line ports N (2..256; default 16)")
    p.add_argument("--arch", choices=[a.label for a in Arch], default="oq", help="queueing architecture")
    p.add_argument("--traffic", choices=KINDS, default="uniform", help="traffic model (default uniform)")
    p.add_argument("--load", default="0.8", help="cells per input per slot: P, START:STOP:STEP or P1,P2,...")
    p.add_argument("--slots", type=int, default=100_000, help="slots per load point (default 100000)")
    p.add_argument("--warmup", type=int, default=None, help="slots before measuring (default slots/10)")
    p.add_argument("--seed", type=int, default=1, help="base seed (default 1)")
    p.add_argument("--iterations", type=int, default=1, help="iSLIP/PIM iterations (default 1)")
    p.add_argument("--batches", type=int, default=20, help="batches for the delay's standard error")
    p.add_argument("--buffers", type=int, default=0, help="shared memory in cells (default 1024 x ports)")
    p.add_argument("--queue-limit", type=int, default=0, help="QLIMIT per port (default: see docs)")
    p.add_argument("--clp-threshold", type=int, default=0, help="CLP_THRESH per port (default QLIMIT)")
    p.add_argument("--epd-threshold", type=int, default=0, help="EPD_THRESH per port (default QLIMIT)")
    p.add_argument("--multicast-fraction", type=float, default=0.0, help="share of VCs that are multicast")
    p.add_argument("--fanout", type=int, default=4, help="leaves per multicast VC (default 4)")
    p.add_argument("--burst", type=float, default=16.0, help="bursty: mean burst length in cells")
    p.add_argument("--hot-port", type=int, default=0, help="hotspot: the hot output")
    p.add_argument("--hot-fraction", type=float, default=0.5, help="hotspot: share of cells to the hot output")
    p.add_argument("--clp", type=float, default=0.0, help="probability that a cell is CLP=1")
    p.add_argument("--epd", action="store_true", help="early packet discard on the traffic VCs")
    p.add_argument("--ppd", action="store_true", help="partial packet discard on the traffic VCs")
    p.add_argument("--json", action="store_true", help="one JSON object per load point on stdout")
    p.add_argument("--timing", action="store_true", help="add wall time and cells/s to the results")
    p.add_argument("--plot", metavar="FILE", help="PNG of throughput and delay against load, and delay distributions")
    p.add_argument("--workers", type=int, default=0, help="local Dask workers for a sweep (default min(points, CPUs))")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run a sweep on an existing Dask scheduler")


def template_from(args) -> Experiment:
    if not 2 <= args.ports <= 256:
        raise FabricConfigError("--ports", args.ports, "2..256")
    warmup = args.slots // 10 if args.warmup is None else args.warmup
    return Experiment(
        ports=args.ports, arch=args.arch, traffic=args.traffic, load=0.0, slots=args.slots, seed=args.seed,
        iterations=args.iterations, warmup=warmup, batches=min(args.batches, max(1, args.slots - warmup)),
        buffers=args.buffers, queue_limit=args.queue_limit, clp_threshold=args.clp_threshold,
        epd_threshold=args.epd_threshold, multicast_fraction=args.multicast_fraction, fanout=args.fanout,
        burst=args.burst, hot_port=args.hot_port, hot_fraction=args.hot_fraction, clp=args.clp, epd=args.epd,
        ppd=args.ppd,
    )


def _clean(result: dict, timing: bool) -> dict:
    """JSON-ready: NaN -> null; timing fields only on request (they differ between runs)."""

    def fix(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    out = {k: fix(v) for k, v in result.items() if timing or k not in TIMING_KEYS}
    return out


def run_sweep(points: list[Experiment], workers: int = 0, scheduler: str | None = None,
              on_done=None) -> list[dict]:
    """Run the points on Dask (a LocalCluster of ``workers`` processes, or the scheduler at
    ``scheduler``); results in the order of ``points``. ``on_done(result)`` as each one finishes."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        n = workers or min(len(points), os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(run, points, pure=False)
        index = {f.key: k for k, f in enumerate(futures)}
        results: list[dict | None] = [None] * len(points)
        for fut in as_completed(futures):
            res = fut.result()
            results[index[fut.key]] = res
            if on_done:
                on_done(res)
        return results  # type: ignore[return-value]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def plot(results: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    loads = [r["load"] for r in results]
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4.5))
    a1.plot(loads, [r["throughput"] for r in results], "o-", label="throughput")
    a1.plot(loads, [r["offered_load"] for r in results], "--", color="grey", label="offered (copies/output/slot)")
    a1.set_xlabel("load (cells per input per slot)")
    a1.set_ylabel("copies per output per slot")
    a1.set_title("throughput")
    a1.legend()
    a1.grid(alpha=0.3)
    a2.plot(loads, [r["mean_delay"] for r in results], "o-", label="mean")
    a2.plot(loads, [r["p99_delay"] for r in results], "s--", label="99th percentile")
    a2.set_yscale("symlog", linthresh=1)
    a2.set_xlabel("load")
    a2.set_ylabel("queueing delay (slots)")
    a2.set_title("delay")
    a2.legend()
    a2.grid(alpha=0.3)
    for r in results:
        lower = np.array(r["delay_hist"]["lower"], dtype=float)
        count = np.array(r["delay_hist"]["count"], dtype=float)
        if count.sum() == 0:
            continue
        ccdf = 1.0 - np.cumsum(count) / count.sum()
        keep = ccdf > 0
        a3.step(lower[keep], ccdf[keep], where="post", label=f"load {r['load']:g}")
    a3.set_yscale("log")
    a3.set_xscale("symlog", linthresh=1)
    a3.set_xlim(left=0)
    a3.set_xlabel("delay d (slots)")
    a3.set_ylabel("P(delay > d)")
    a3.set_title("delay distribution")
    if len(results) <= 10:
        a3.legend(fontsize=7)
    a3.grid(alpha=0.3)
    r0 = results[0]
    fig.suptitle(f"{r0['arch']}, N={r0['ports']}, {r0['traffic']} traffic, {r0['slots']} slots per point")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(args) -> int:
    loads = parse_loads(args.load)
    template = template_from(args)
    points = sweep_points(template, loads, args.seed)
    quiet = getattr(args, "quiet", False)
    err = Console(stderr=True, quiet=quiet)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=quiet) as progress:
        if len(points) == 1 and not args.scheduler:
            task = progress.add_task(f"{args.arch} N={args.ports} load {loads[0]:g}", total=points[0].slots)
            results = [run(points[0], progress=lambda done, total: progress.update(task, completed=done))]
        else:
            task = progress.add_task(f"{args.arch} N={args.ports}: {len(points)} load points", total=len(points))
            results = run_sweep(points, args.workers, args.scheduler, on_done=lambda r: progress.advance(task))
    for r in results:
        r["base_seed"] = args.seed
    cleaned = [_clean(r, args.timing) for r in results]
    if args.json:
        for r in cleaned:
            print(json.dumps(r), flush=True)
    else:
        table = Table(title=f"atmemu throughput: {args.arch}, N={args.ports}, {args.traffic}, {args.slots} slots")
        for col in ("load", "throughput", "mean delay", "p99", "loss ratio", "dropped", "queued"):
            table.add_column(col, justify="right")
        for r in results:
            dropped = ", ".join(f"{k} {v}" for k, v in r["dropped"].items() if v) or "0"
            table.add_row(f"{r['load']:g}", f"{r['throughput']:.4f}", f"{r['mean_delay']:.3f}",
                          f"{r['p99_delay']:g}", f"{r['loss_ratio']:.2e}", dropped, str(r["queued_at_end"]))
        Console(file=sys.stdout).print(table)
    if args.plot:
        plot(results, args.plot)
        err.print(f"plot written to {args.plot}")
    return 0


__all__ = ["parse_loads", "run_sweep", "plot", "template_from"]
