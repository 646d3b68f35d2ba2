"""Golden captures: reference captures of the default scenario, replayed by the tests, so that any change
of the emulator's signalling behaviour shows as a diff.

``captures/golden/`` holds them (pcapng, as the scenario runner records them). :func:`golden_files`
lists them, :func:`check` replays one at its recorded pace against a fresh emulator and returns the
comparison, and :func:`regenerate` writes them again with a producer (the scenario runner: a callable
that runs the default scenario and records it into the path it is given). ``atmemu replay --golden``
and ``atmemu replay --update-golden`` are the commands; ``tests/captures/test_golden.py`` the test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from captures.replay import RECORDED, ROOT, Driver, ReplayResult, replay

#: Where the golden captures live (in the source tree, next to this module).
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
#: The golden captures and how each is made: file name -> name of the scenario recorded into it.
GOLDEN_SCENARIOS = {"default.pcapng": "default"}
_SUFFIXES = (".pcapng", ".pcap")

Producer = Callable[[str, Path], None]  # (scenario name, capture path) -> records the scenario there


def golden_files(folder: str | os.PathLike | None = None) -> list[Path]:
    """The capture files of the golden folder, sorted by name (none when the folder is absent)."""
    root = Path(folder) if folder is not None else GOLDEN_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix in _SUFFIXES)


def check(path: str | os.PathLike, *, driver: Driver | None = None) -> ReplayResult:
    """Replay the root's side of a golden capture at its recorded pace against a fresh emulator."""
    return replay(path, side=ROOT, pace=RECORDED, driver=driver)


def regenerate(producer: Producer, folder: str | os.PathLike | None = None) -> list[Path]:
    """Record every golden scenario again with ``producer`` into ``folder`` (default
    :data:`GOLDEN_DIR`, created if needed); each file is written beside and renamed into place only once
    complete, so a failure leaves the previous capture. Returns the paths written."""
    root = Path(folder) if folder is not None else GOLDEN_DIR
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for name, scenario in GOLDEN_SCENARIOS.items():
        target = root / name
        partial = target.with_suffix(target.suffix + ".partial")
        try:
            producer(scenario, partial)
            os.replace(partial, target)
        finally:
            if partial.exists():
                partial.unlink()
        written.append(target)
    return written


__all__ = ["GOLDEN_DIR", "GOLDEN_SCENARIOS", "Producer", "check", "golden_files", "regenerate"]
