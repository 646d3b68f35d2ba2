"""``python -m tools.fuzz``: the long fuzz run of ``make fuzz``, and its table.

1. The hypothesis fuzz tests (``tests/fuzz``, ``-m fuzz``) with ``--examples`` examples per test;
   their conftest writes, per decoder, the inputs tried, the crashes found (failed tests) and the
   outcomes reached, to ``.hypothesis/fuzz/report.json``.
2. When atheris is importable, each target under the coverage-guided atheris harness
   (``tools.fuzz.atheris_harness``) for ``--atheris-runs`` inputs, from a corpus under
   ``.hypothesis/fuzz/corpus/TARGET`` seeded with the target's valid inputs (kept between runs);
   findings are left under ``.hypothesis/fuzz/crashes/``.
3. A table, per decoder and engine: inputs tried, crashes found, time, and the typed errors the inputs
   reached. Exit status 1 when anything was found (a crash, a hang, a memory blow-up, a failed oracle).

    python -m tools.fuzz --examples 3000 --atheris-runs 20000
    python -m tools.fuzz -k uni --no-atheris
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tools.fuzz.guard import HANG_EXIT_STATUS

OUT = Path(".hypothesis") / "fuzz"
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "20000")),
                   help="hypothesis examples per fuzz test (default: $ATMEMU_FUZZ_EXAMPLES, else 20000)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds one input may take (default 10)")
    p.add_argument("--trace-every", type=int, default=8,
                   help="run one input in N under tracemalloc with the precise memory bound (default 8)")
    p.add_argument("--atheris-runs", type=int, default=20000, help="atheris inputs per target (default 20000)")
    p.add_argument("--no-atheris", action="store_true", help="hypothesis only, even where atheris is installed")
    p.add_argument("-k", dest="keyword", default=None, help="only the fuzz tests and targets matching (pytest -k)")
    p.add_argument("--with-other-fuzz-tests", action="store_true",
                   help="also run, with the same budget, the other tests marked fuzz in tests/ (state machines, "
                        "the NDIS client...), reported as one line: they are not decoders")
    p.add_argument("--out", type=Path, default=OUT, help=f"where reports, corpora and findings go (default {OUT})")
    return p


def run_hypothesis(args, console: Console) -> tuple[dict, int]:
    report = args.out / "report.json"
    log = args.out / "pytest.log"
    report.unlink(missing_ok=True)
    env = {**os.environ, "ATMEMU_FUZZ_EXAMPLES": str(args.examples), "ATMEMU_FUZZ_REPORT": str(report),
           "ATMEMU_FUZZ_TIMEOUT": str(args.timeout), "ATMEMU_FUZZ_TRACE_EVERY": str(args.trace_every)}
    cmd = [sys.executable, "-m", "pytest", "tests/fuzz", "-m", "fuzz", "-p", "no:cacheprovider", "-q", "-rfE"]
    if args.keyword:
        cmd += ["-k", args.keyword]
    console.print(f"[bold]hypothesis[/]: {args.examples} examples per test; log {log}")
    with open(log, "w", encoding="utf-8") as out, console.status("fuzzing with hypothesis..."):
        status = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    if status == HANG_EXIT_STATUS:
        console.print(f"[red]a decoder hung past the hard time limit: the stacks are in {log}[/]")
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
    console.print(f"pytest: {tail[0] if tail else '(no output)'}")
    data = json.loads(report.read_text()) if report.exists() else {"targets": {}, "known_bugs_xfail": []}
    return data, status


def run_other_fuzz_tests(args, console: Console) -> int:
    log = args.out / "other-fuzz-tests.log"
    env = {**os.environ, "ATMEMU_FUZZ_EXAMPLES": str(args.examples)}
    cmd = [sys.executable, "-m", "pytest", "tests", "--ignore=tests/fuzz", "-m", "fuzz", "-p", "no:cacheprovider",
           "-q", "-rfE"]
    with open(log, "w", encoding="utf-8") as out, console.status("the other fuzz tests..."):
        status = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
    console.print(f"other fuzz tests (state machines, client; not per decoder): {tail[0] if tail else '?'}; "
                  f"log {log}")
    return status


def run_atheris(name: str, target, args, console: Console) -> dict:
    corpus = args.out / "corpus" / name
    crashes = args.out / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(target.seeds()):
        (corpus / f"seed-{i:03d}").write_bytes(seed)
    log = args.out / f"atheris-{name}.log"
    cmd = [sys.executable, "-m", "tools.fuzz.atheris_harness", name, f"-runs={args.atheris_runs}",
           f"-max_len={max(4 * target.max_input, 4096)}", f"-timeout={int(args.timeout * 3) + 1}",
           "-rss_limit_mb=4096", f"-artifact_prefix={crashes}/{name}-", str(corpus)]
    env = {**os.environ, "ATMEMU_FUZZ_TIMEOUT": str(args.timeout)}
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as out, console.status(f"atheris: {name}..."):
        status = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    text = log.read_text(encoding="utf-8", errors="replace")
    done = _DONE.search(text)
    runs = int(done.group(1)) if done else len(re.findall(r"^#\d+", text, re.M))
    if not done:
        last = re.findall(r"^#(\d+)", text, re.M)
        runs = int(last[-1]) if last else 0
    return {"inputs": runs, "crashes": 0 if status == 0 else 1, "seconds": time.monotonic() - started,
            "log": str(log), "status": status}


def _reached(outcomes: dict) -> str:
    ok = outcomes.get("ok", 0)
    errors = sorted(((n, k) for k, n in outcomes.items() if k != "ok"), reverse=True)
    shown = ", ".join(f"{k} {n}" for n, k in errors[:3]) + (f", +{len(errors) - 3} more" if len(errors) > 3 else "")
    return f"ok {ok}; {shown}" if shown else f"ok {ok}"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    console = Console() if sys.stdout.isatty() else Console(width=170)  # a log keeps whole rows
    from tools.fuzz.targets import TARGETS

    started = time.monotonic()
    data, status = run_hypothesis(args, console)
    rows = []
    for name, target in TARGETS.items():
        got = data["targets"].get(name)
        if got is None or not got["inputs"]:
            continue
        rows.append((target, "hypothesis", got["inputs"], got["crashes"], got["seconds"], _reached(got["outcomes"])))
    atheris = importlib.util.find_spec("atheris") is not None and not args.no_atheris
    if not atheris:
        why = "--no-atheris" if args.no_atheris else "atheris is not installed (pip install atheris)"
        console.print(f"[yellow]atheris skipped: {why}[/]")
    else:
        for name, target in TARGETS.items():
            if args.keyword and args.keyword not in name:
                continue
            got = run_atheris(name, target, args, console)
            rows.append((target, "atheris", got["inputs"], got["crashes"], got["seconds"],
                         "" if not got["crashes"] else f"see {got['log']}"))
    other = run_other_fuzz_tests(args, console) if args.with_other_fuzz_tests else 0
    table = Table(title=f"fuzzing: {args.examples} hypothesis examples per test"
                  + (f", {args.atheris_runs} atheris runs per target" if atheris else ""))
    for column, justify in (("family", "left"), ("target", "left"), ("decoder", "left"), ("engine", "left"),
                            ("inputs", "right"), ("crashes", "right"), ("s", "right"), ("reached", "left")):
        table.add_column(column, justify=justify)
    for target, engine, inputs, crashes, seconds, reached in rows:
        style = "red" if crashes else None
        table.add_row(target.family, target.name, target.decoder, engine, f"{inputs:,}", str(crashes),
                      f"{seconds:.0f}", reached, style=style)
    total_inputs = sum(r[2] for r in rows)
    total_crashes = sum(r[3] for r in rows)
    table.add_section()
    table.add_row("total", "", "", "", f"{total_inputs:,}", str(total_crashes), f"{time.monotonic() - started:.0f}", "")
    console.print(table)
    for nodeid in data.get("known_bugs_xfail", []):
        console.print(f"known bug kept as a strict xfail: {nodeid}")
    for nodeid in data.get("unattributed_failures", []):
        console.print(f"[red]failed (a test that tried no input through a target): {nodeid}[/]")
    found = total_crashes or data.get("unattributed_failures") or status not in (0, 5) or other not in (0, 5)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
