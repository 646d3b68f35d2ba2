"""atmemu replay: one side of a capture drives a fresh emulator; what it answers is compared, frame by
frame, with the capture. ``--cells`` feeds an ERF cell capture into the fabric as a throughput test;
``--golden`` / ``--update-golden`` replay / regenerate the golden captures (captures/golden/)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from captures import golden_captures
from captures.compare import DIFFERS, EXTRA, MISSING, SAME, SENT, Comparison, Row
from captures.replay import FAST, PACES, REPLAY_SIDES, ROOT, ReplayError, ReplayResult, replay, replay_cells
from hw.errors import AtmemuError, FieldError

NAME = "replay"
HELP = "replay one side of a capture against the emulator and diff the answers (or cells through the fabric)"
DESCRIPTION = """Takes the Q.2931 messages one side of a UNI sent in a capture (by default the root's side:
the user side of the link where SETUP/ADD PARTY were sent), re-sends them through a fresh emulator's
own SSCOP, at the recorded pace or as fast as the answers allow, and prints a frame-by-frame comparison
of what the emulated network answered against the capture: message type, call reference, endpoint
reference, cause and endpoint state (times and SSCOP sequence numbers may differ). Works on any pcap or
pcapng holding SunATM, ERF AAL5 or ERF cells on VPI 0/VCI 5. The leaves of the fresh switch answer as
the capture shows its leaves did (from their own UNIs when the capture has them, else from what the
network passed on to the root). --side network replays the network's messages on a leaf's UNI (--link)
against a fresh emulated leaf. Exit 0 when the answers are the same, 1 when they differ, 2 on bad input.

With --cells, the ERF cells of the capture are fed into the switch fabric instead (each capture
interface and ERF port an input line, each VC routed to the mirror output), and cells in, out, dropped
and the rate are printed."""
EXAMPLES = """examples:
  atmemu replay capture.pcapng
  atmemu replay capture.pcapng --pace recorded --json | jq '.rows[] | select(.status != "same")'
  atmemu replay dag.erf.pcap --erf-port0 user          # ERF has no direction bit: port 0 is the user's
  atmemu replay capture.pcapng --link 'switch:0<->root' --save replayed.pcapng
  atmemu replay --cells cells.pcapng --arch voq-islip
  atmemu replay --golden                               # every capture of captures/golden/
  atmemu replay --update-golden                        # record them again (the default scenario)
"""

STATUS_MARKS = {SAME: ("=", "green"), DIFFERS: ("\u2260", "bold red"), MISSING: ("missing", "bold red"),
                EXTRA: ("extra", "bold red"), SENT: ("\u2192", "dim")}


def register(p) -> None:
    p.add_argument("capture", nargs="?", help="a pcap or pcapng file (SunATM, ERF AAL5 or ERF cells on 0/5)")
    p.add_argument("--side", choices=REPLAY_SIDES, default=ROOT,
                   help="the side whose messages are replayed: root (default: the user side of the root's UNI), "
                   "user or network (of --link)")
    p.add_argument("--link", metavar="NAME", help="the link to replay (a pcapng interface name); default: the "
                   "root's UNI")
    p.add_argument("--pace", choices=PACES, default=FAST,
                   help="recorded: each message at its capture time; fast (default): as soon as the answers "
                   "before it came")
    p.add_argument("--erf-port0", choices=("user", "network"),
                   help="whose frames ERF port 0 holds (ERF records have no direction bit)")
    p.add_argument("--save", metavar="FILE.pcapng", help="keep the capture the replay itself records")
    p.add_argument("--json", action="store_true", help="the comparison (or the cell figures) as one JSON document")
    p.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    cells = p.add_argument_group("cells (--cells)")
    cells.add_argument("--cells", action="store_true", help="feed the ERF cells of the capture into the fabric")
    cells.add_argument("--ports", type=int, default=16, help="fabric ports (default %(default)s)")
    cells.add_argument("--arch", default="oq", help="fabric architecture: oq, iq-fifo, voq-islip, voq-pim")
    cells.add_argument("--rate", default="OC-3c", help="line rate of the capture's slots for --pace recorded")
    golden = p.add_argument_group("golden captures")
    golden.add_argument("--golden", action="store_true", help="replay every capture of captures/golden/")
    golden.add_argument("--update-golden", action="store_true",
                        help="record the golden captures again with the scenario runner")


def main(args) -> int:
    modes = sum(bool(x) for x in (args.golden, args.update_golden))
    if modes > 1:
        raise FieldError("--golden/--update-golden", "both", "one of them")
    if modes and (args.capture or args.cells):
        raise FieldError("capture", args.capture or "--cells", "no capture with --golden or --update-golden")
    if args.update_golden:
        return _update_golden(args)
    if args.golden:
        return _golden(args)
    if not args.capture:
        raise FieldError("capture", None, "a capture file (or --golden / --update-golden)")
    _check_readable(args.capture)
    if args.cells:
        return _cells(args)
    result = replay(args.capture, side=args.side, link=args.link, pace=args.pace, erf_port0=args.erf_port0,
                    output=args.save)
    _show(args, result)
    return 0 if result.equal else 1


def _check_readable(path: str) -> None:
    if os.path.isdir(path):
        raise ReplayInputPathError(f"{path} is a directory, not a capture file")
    if not os.path.exists(path):
        raise FileNotFoundError(2, "no such file", path)


class ReplayInputPathError(AtmemuError):
    """A capture path that is no file."""


# ------------------------------------------------------------------------------------------ output
def _json_document(result: ReplayResult, pace: str) -> dict:
    script = result.script
    return {
        "capture": script.source, "link": script.link, "side": script.side, "replayed": script.sent_by,
        "pace": pace, "driver_link": result.run.link, "steps": len(script.steps), "expected": len(script.expected),
        "got": len(result.got), "skipped": dict(script.counters), "driver": result.run.counters,
        "leaves": {address: plan.__dict__ for address, plan in script.leaves.items()},
        "notes": result.run.notes,
        "summary": result.comparison.as_json(), "rows": [row.as_json() for row in result.comparison.rows],
    }


def _show(args, result: ReplayResult) -> None:
    if args.json:
        print(json.dumps(_json_document(result, args.pace), ensure_ascii=False))
        return
    script = result.script
    head = (f"{script.source}: link {script.link}, {script.sent_by} side replayed ({args.pace} pace), "
            f"{len(script.steps)} messages sent, {len(script.expected)} answers expected, {len(result.got)} got")
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(script.counters.items()))
    if args.plain or not _terminal():
        print(head + (f"; not replayed: {skipped}" if skipped else ""))
        for n, row in enumerate(result.comparison.rows, 1):
            print(_plain_row(n, row))
        print(_verdict(result.comparison))
        return
    _rich(head, skipped, result, quiet=getattr(args, "quiet", False))


def _terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _side_text(view, with_frame: bool = True) -> str:
    if view is None:
        return "\u2014"
    where = f"#{view.frame} " if with_frame and view.frame is not None else ""
    return where + view.text()


def _plain_row(n: int, row: Row) -> str:
    mark = STATUS_MARKS[row.status][0]
    if row.status == SENT:
        return f"{n:>4}  {mark:<7}  {_side_text(row.expected)}"
    fields = f"  [{', '.join(row.fields)}]" if row.fields else ""
    return f"{n:>4}  {mark:<7}  expected {_side_text(row.expected)}  |  got {_side_text(row.got)}{fields}"


def _verdict(comparison: Comparison) -> str:
    c = comparison.counts
    if comparison.equal:
        return f"equal: {c[SAME]} answer{'' if c[SAME] == 1 else 's'} as in the capture"
    return (f"DIFFERENT: {c[DIFFERS]} differ, {c[MISSING]} missing, {c[EXTRA]} extra "
            f"({c[SAME]} as in the capture)")


def _rich(head: str, skipped: str, result: ReplayResult, quiet: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    if not quiet:
        console.print(head)
        if skipped:
            console.print(f"[dim]not replayed (the driver's SSCOP makes its own): {skipped}[/]")
        for note in result.run.notes:
            console.print(f"[dim]{note}[/]")
    table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
    table.add_column("No.", justify="right", width=4, no_wrap=True)
    table.add_column("", width=7, no_wrap=True)
    table.add_column("Expected (capture)", ratio=1, overflow="fold")
    table.add_column("Got (emulator)", ratio=1, overflow="fold")
    table.add_column("Differs in", width=16, overflow="fold")
    for n, row in enumerate(result.comparison.rows, 1):
        mark, style = STATUS_MARKS[row.status]
        if row.status == SENT:
            text = Text(_side_text(row.expected), style="dim")
            table.add_row(str(n), Text(mark, style=style), text, Text("sent", style="dim"), "")
            continue
        table.add_row(str(n), Text(mark, style=style), _side_text(row.expected), _side_text(row.got),
                      Text(", ".join(row.fields), style="red"))
    console.print(table)
    verdict = _verdict(result.comparison)
    console.print(f"[green]{verdict}[/]" if result.equal else f"[bold red]{verdict}[/]")


# ------------------------------------------------------------------------------------------ cells
def _cells(args) -> int:
    if not 2 <= args.ports <= 256:
        raise FieldError("--ports", args.ports, "2..256")
    result = replay_cells(args.capture, pace=args.pace, ports=args.ports, rate=args.rate, arch=args.arch)
    if args.json:
        print(json.dumps({"capture": args.capture, "pace": args.pace, **result.as_json()}))
    else:
        dropped = ", ".join(f"{k} {v:,}" for k, v in result.dropped.items()) or "none"
        print(f"{args.capture}: {result.cells_read:,} ERF cells read into {len(result.inputs)} input lines, "
              f"{result.vcs} VCs ({args.pace} pace, {args.arch}, {args.ports} ports)")
        print(f"cells in {result.cells_in:,}, out {result.cells_out:,}, dropped {result.cells_dropped:,} ({dropped}), "
              f"still queued {result.queued:,}")
        print(f"{result.slots:,} slots in {result.seconds:.3f} s: {result.rate:,.0f} cells/s")
        print("conserved: in = out + dropped + queued" if result.conserved else "NOT CONSERVED")
    return 0 if result.conserved else 1


# ------------------------------------------------------------------------------------------ golden
def _golden(args) -> int:
    files = golden_captures.golden_files()
    if not files:
        raise ReplayError(f"no golden captures in {golden_captures.GOLDEN_DIR} (atmemu replay --update-golden "
                          "records them)")
    failed = 0
    for path in files:
        result = golden_captures.check(path)
        failed += not result.equal
        if args.json:
            print(json.dumps(_json_document(result, "recorded"), ensure_ascii=False))
        else:
            print(f"{path.name}: {_verdict(result.comparison)}")
            for n, row in enumerate(result.comparison.rows, 1):
                if row.status not in (SAME, SENT):
                    print(_plain_row(n, row))
    return 1 if failed else 0


def record_scenario(scenario: str, capture: Path) -> None:
    """The golden producer: the scenario runner records scenario ``scenario`` into ``capture``."""
    from tools.scenario import runner  # imported when used: the runner builds the whole stack

    runner.record(scenario, capture)


def _update_golden(args) -> int:
    written = golden_captures.regenerate(record_scenario)
    for path in written:
        print(f"wrote {path}")
    return 0
