"""atmemu bench: the project's benchmark runner."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from tools import bench

NAME = "bench"
HELP = "run a benchmark suite and print its figures"
EXAMPLES = """examples:
  atmemu bench --list
  atmemu bench cells
  atmemu bench fabric --json > fabric.jsonl
"""


def register(p) -> None:
    p.add_argument("suite", nargs="?", help="suite to run (see --list)")
    p.add_argument("--json", action="store_true", help="one JSON object per line per figure")
    p.add_argument("--list", action="store_true", help="list the suites")
    p.add_argument("--scale", type=float, default=1.0, help="shrink the problem sizes (quick look; default 1.0)")


def si(value: float) -> str:
    """A figure in engineering notation that fits a narrow column: 1.62 G, 13.8 M, 4.22."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}"
    return f"{value:.3g}"


def main(args) -> int:
    if args.list or not args.suite:
        print("\n".join(bench.suites()))
        return 0 if args.list else 2
    console = Console(stderr=True, quiet=getattr(args, "quiet", False))
    ctx = bench.Context(scale=args.scale, log=lambda m: console.log(m))
    figs = []
    for fig in bench.run(args.suite, ctx):
        figs.append(fig)
        if args.json:
            print(json.dumps(fig.as_json()), flush=True)
    if not args.json:
        table = Table(title=f"atmemu bench {args.suite}")
        for col in ("figure", "value", "unit", "x twin", "target", "ok", "note"):
            table.add_column(col, justify="right" if col in ("value", "x twin", "target") else "left",
                             no_wrap=col != "note")
        for f in figs:
            ok = {None: "", True: "yes", False: "NO"}[f.meets_target]
            table.add_row(
                f.figure,
                si(f.value),
                f.unit,
                "" if f.ratio_to_twin is None else f"{f.ratio_to_twin:,.1f}",
                "" if f.target is None else si(f.target),
                ok,
                f.note,
            )
        Console().print(table)
    return 0
