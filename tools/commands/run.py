"""atmemu run: run a scenario (the built-in default without a file), write its captures, summary and
ladder chart, print the summary.

The run (tools/scenario/runner.py): a switch with leaves, the root as a CoNDIS client over the MCM on
an emulated adapter, the client's script as NDIS calls. The verdict: every add completed exactly once,
every leaf received exactly the frames sent while it was a party, no NDIS rule broken, every counter
balanced, every party ended as its leaf's behaviour says. Exit 0 when all hold; 1 when a check failed,
including a run the network cut short (a script step it made impossible, the MCM not coming up: the
scenario was fine, the network said no); 2 for bad input only (a file that cannot be read, a key or
value of the scenario: the error names the key).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

NAME = "run"
HELP = "run a scenario (default: the built-in one) and print its summary"
DESCRIPTION = """Run a scenario file (TOML), or the built-in default scenario without one: a point-to-multipoint call
rooted at the MCM on an emulated adapter, through an emulated switch to leaves that accept, alert,
reject, stay silent or leave. Writes the capture (pcapng; classic pcap too when the scenario asks),
summary.json and a ladder chart (ladder.png) to the output folder, prints the summary."""
EXAMPLES = """examples:
  atmemu run                                # the default scenario, into ./atmemu-out/<timestamp>/
  atmemu run --print-default > my.toml      # the default scenario as a file to edit
  atmemu run my.toml --out results/         # your scenario
  atmemu run --json | jq .parties           # the summary as JSON
  atmemu -q run my.toml && echo passed      # quiet; exit 0 ok, 1 a check failed, 2 bad input

exit codes: 0 every check held, 1 a check failed (a leaf got a frame it should not have or missed
one, a rule violation, counters unbalanced, an add not completed exactly once, a party that did not
end as its leaf's behaviour says, a script step the network made impossible), 2 bad input (a file
that cannot be read, a bad key or value).
"""

CAPTURE_NAME = "capture.pcapng"
SUMMARY_NAME = "summary.json"
LADDER_NAME = "ladder.png"


def register(p) -> None:
    p.add_argument("scenario", nargs="?", metavar="SCENARIO.toml", help="the scenario file (default: built in)")
    p.add_argument("--out", metavar="DIR", help="output folder (default ./atmemu-out/<timestamp>/)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of tables")
    p.add_argument("--print-default", action="store_true", help="print the default scenario (TOML) and exit")
    p.add_argument("--no-ladder", action="store_true", help="do not draw the ladder chart")


def _out_dir(args) -> Path:
    if args.out:
        return Path(args.out)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("atmemu-out") / stamp
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{stamp}-{n}")
    return out


def main(args) -> int:
    from tools.scenario import default_scenario, default_text, load

    if args.print_default:
        sys.stdout.write(default_text())
        return 0
    scenario = load(args.scenario) if args.scenario else default_scenario()
    out = _out_dir(args)
    out.mkdir(parents=True, exist_ok=True)
    quiet = bool(args.quiet or args.json)
    from tools.scenario.runner import RunError

    try:
        result = _execute(scenario, out, quiet)
    except RunError as exc:  # the scenario was read; the run could not go on: a failed check, not bad input
        print(f"atmemu run: check failed: {exc}", file=sys.stderr)
        return 1
    if not args.no_ladder:
        result.ladder = str(_ladder(result, out / LADDER_NAME, scenario))
    summary = result.summary()
    summary["tshark"] = tshark_command(out / CAPTURE_NAME)
    (out / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    summary["summary"] = str(out / SUMMARY_NAME)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print(result, summary, out, quiet=args.quiet)
    return 0 if result.ok else 1


def _execute(scenario, out: Path, quiet: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tools.scenario.runner import run

    capture = out / CAPTURE_NAME
    if quiet:
        return run(scenario, capture=capture)
    console = Console(stderr=True)
    with Progress(TextColumn("[bold]{task.fields[name]}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("starting", total=len(scenario.script) + 2, name=scenario.name)

        def progress(done: int, total: int, text: str) -> None:
            bar.update(task, completed=done, total=total, description=text)

        return run(scenario, capture=capture, progress=progress)


def _ladder(result, path: Path, scenario) -> Path:
    from captures.summary import summarize
    from tools.ladder import run_chart, write

    frames = [f for f in summarize(result.captures[0]) if f.signalling]
    trace = result.trace
    participants, events = run_chart(frames, trace.ndis, trace.host, leaves=scenario.leaf_ports,
                                     rate_cps=trace.rate_cps)
    topo = scenario.topology
    write(path, participants, events, title=f"atmemu run: {scenario.name}",
          subtitle=f"{len(scenario.leaves)} leaves, {topo.ports}-port switch at {topo.line_rate}")
    return path


def _ports(ports: list[int]) -> str:
    if ports and ports == list(range(ports[0], ports[-1] + 1)) and len(ports) > 2:
        return f"{ports[0]}..{ports[-1]}"
    return ", ".join(map(str, ports))


def tshark_command(capture: Path) -> str:
    """The tshark command that opens the capture with its comments and the Q.2931 fields."""
    return (f"tshark -r {capture} -Y 'q2931 || frame.comment' -T fields -e frame.time_relative "
            "-e frame.interface_name -e atm.channel -e q2931.message_type -e q2931.call_ref "
            "-e q2931.endpoint_reference.identifier_value -e q2931.cause.value -e frame.comment")


def _print(result, summary: dict, out: Path, *, quiet: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    ok = result.ok
    head = Table(title=f"atmemu run: {result.scenario}", title_justify="left", show_header=False, box=None)
    head.add_column(style="bold")
    head.add_column()
    for call in result.calls:
        head.add_row("call", f"{call['call']}: {call['phase']}, make {', '.join(call['make_status']) or '-'}, "
                     f"close {', '.join(call['close_status']) or '-'}, {call['parties']} parties")
    head.add_row("cells switched", f"{result.cells_switched:,}")
    head.add_row("virtual time", f"{result.virtual_seconds:.3f} s (run took {result.wall_seconds:.1f} s)")
    verdict = "[green]no violation[/]" if not result.rule_violations else \
        f"[red]{len(result.rule_violations)} violation(s)[/]"
    head.add_row("rule checker", verdict)
    head.add_row("counters", "[green]balanced[/]" if result.counters_balanced else "[red]do not balance[/]")
    cc = result.call_cells
    if cc is not None and cc.cells_in:
        dropped = ", ".join(f"{k} {v:,}" for k, v in cc.dropped.items()) or "none"
        head.add_row("call's cells", f"{cc.cells_in:,} in, {cc.offered:,} copies, {cc.delivered:,} delivered, "
                     f"dropped: {dropped}")
    bg = result.background
    if bg is not None:
        dropped = ", ".join(f"{k} {v:,}" for k, v in bg.dropped.items()) or "none"
        head.add_row("background", f"{bg.model} at load {bg.load:g} on ports {_ports(bg.ports)}: "
                     f"{bg.offered:,} offered, {bg.delivered:,} delivered, dropped: {dropped}, "
                     f"{bg.queued:,} queued at end, {bg.blocked:,} blocked by the devices' cells; "
                     f"delay mean {bg.mean_delay_us:g} us, max {bg.max_delay_us:g} us")
    console.print(head)

    parties = Table(title="parties", title_justify="left")
    for col in ("leaf", "epref", "outcome", "NDIS status", "ended", "frames sent / received / lost",
                "cells dropped", "delay mean / max"):
        parties.add_column(col, justify="right" if col in ("leaf", "epref") else "left")
    per_leaf = cc.per_leaf if cc is not None else {}
    for p in result.parties:
        f = result.frames_per_leaf.get(p.leaf)
        outcome = p.outcome + (" (alerted first)" if p.alerted else "") + (f", cause {p.cause}" if p.cause else "")
        frames = "-" if f is None else f"{f.expected} / {f.received} / {f.lost}" + ("" if f.match else " [red]MISMATCH[/]")
        lc = per_leaf.get(p.leaf)
        dropped = "-" if lc is None else f"{lc.dropped:,}"
        delay = "-" if lc is None or not lc.delivered else f"{lc.mean_delay_us:g} / {lc.max_delay_us:g} us"
        parties.add_row(str(p.leaf), "-" if p.endpoint_ref is None else str(p.endpoint_ref), outcome,
                        (p.ndis_status or "-").removeprefix("NDIS_STATUS_"), p.ended or "-", frames, dropped, delay)
    console.print(parties)
    for v in result.rule_violations:
        console.print(f"[red]rule violation[/]: {v}")
    for problem in result.counter_problems:
        console.print(f"[red]counters[/]: {problem}")
    for note in result.notes:
        console.print(f"[dim]note: {note}[/]")
    console.print(f"written to {out}/: " + ", ".join(Path(c).name for c in result.captures)
                  + f", {SUMMARY_NAME}" + (f", {Path(result.ladder).name}" if result.ladder else ""))
    console.print(f"open the capture: [bold]{summary['tshark']}[/]", soft_wrap=True)
    if ok:
        console.print("[green]OK[/]: every add completed once, every leaf got exactly its frames, no rule broken, "
                      "counters balanced")
    else:
        for failure in result.failures:
            console.print(f"[red]CHECK FAILED[/]: {failure}")
