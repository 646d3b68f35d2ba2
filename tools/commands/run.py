"""atmemu run: the main job on its built-in default scenario.

Today the default scenario is the cell-level demonstration (tools/cell_demo.py): AAL5 frames
segmented into cells, carried over an OC-3c link with bit errors, re-delineated after a bit slip,
HEC-corrected and reassembled, with every stage's counters. It grows into the end-to-end
point-to-multipoint call as the signalling layers land.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from tools.cell_demo import VCS, CellDemoOptions, run_cell_demo

NAME = "run"
HELP = "run the default scenario and print its summary"
EXAMPLES = """examples:
  atmemu run
  atmemu run --ber 1e-5 --frames 10000
  atmemu run --json
"""


def register(p) -> None:
    d = CellDemoOptions()
    p.add_argument("--frames", type=int, default=d.frames, help=f"AAL5 frames to send (default {d.frames})")
    p.add_argument("--ber", type=float, default=d.ber, help=f"bit error ratio of the link (default {d.ber:g})")
    p.add_argument("--slip-after", type=int, default=d.slip_after_cells, metavar="CELLS",
                   help="delete one bit of the received stream after this many cells (default %(default)s)")
    p.add_argument("--no-slip", action="store_true", help="no bit slip")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def main(args) -> int:
    from hw.errors import FieldError

    if args.frames < 1:
        raise FieldError("--frames", args.frames, "at least 1")
    opts = CellDemoOptions(frames=args.frames, ber=args.ber, seed=args.seed,
                           slip_after_cells=None if args.no_slip else args.slip_after)
    console = Console(quiet=args.quiet or args.json)
    with console.status("running the cell-level demonstration"):
        result = run_cell_demo(opts)
    if args.json:
        print(json.dumps({
            "scenario": "cell-demo",
            "options": asdict(opts),
            "stages": [asdict(s) for s in result.stages],
            "frames_sent": result.frames_sent,
            "frames_delivered": result.frames_delivered,
            "frames_identical": result.frames_identical,
            "frames_mismatched": result.frames_mismatched,
            "ok": result.ok,
        }))
        return 0 if result.ok else 1
    slip = "no bit slip" if opts.slip_after_cells is None else f"one bit slip after {opts.slip_after_cells} cells"
    console.print(f"[bold]Cell-level demonstration[/]: {opts.frames} AAL5 frames on {len(VCS)} VCs over OC-3c, "
                  f"BER {opts.ber:g}, {slip}, seed {opts.seed}")
    for stage in result.stages:
        table = Table(title=stage.name, title_justify="left", show_header=False, min_width=50)
        table.add_column("counter")
        table.add_column("value", justify="right")
        for k, v in stage.counters.items():
            table.add_row(k, f"{v:,}")
        table.add_row("[dim]" + stage.equation + "[/]", "[green]holds[/]" if stage.balanced else "[red]BROKEN[/]")
        console.print(table)
    console.print(
        f"frames: sent {result.frames_sent:,}, delivered {result.frames_delivered:,} "
        f"({result.frames_identical:,} byte-identical to what was sent, {result.frames_mismatched} not), "
        f"lost {result.frames_sent - result.frames_delivered:,} (their cells are in the AAL5 discard counters; "
        f"a lost end-of-frame cell merges two frames into one errored PDU)"
    )
    console.print("[green]OK[/]: every stage conserves its cells" if result.ok else "[red]CHECK FAILED[/]")
    return 0 if result.ok else 1
