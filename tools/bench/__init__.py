"""The benchmark runner behind ``atmemu bench SUITE [--json]``.

A suite is a set of figure functions registered with :func:`figures`; any module in this package may
add to any suite, so each topic keeps its benchmarks next to the others of its kind::

    @figures("cells")
    def hec_batch(ctx):
        ...
        yield Figure("hec_batch", value, "headers/s", ratio_to_twin=value / twin_value)

Every ratio is measured in the same run as its figure. ``--json`` prints one JSON object per line per
figure: {"suite", "figure", "value", "unit", "ratio_to_twin"} (plus "target" when the issue names one).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator


@dataclass
class Figure:
    figure: str
    value: float
    unit: str
    ratio_to_twin: float | None = None
    target: float | None = None  # the figure the issue asks for (same unit), when there is one
    note: str = ""
    lower_is_better: bool = False  # the target is a ceiling (memory, latency), not a floor
    suite: str = ""

    @property
    def meets_target(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.lower_is_better else self.value >= self.target

    def as_json(self) -> dict:
        out = {
            "suite": self.suite,
            "figure": self.figure,
            "value": self.value,
            "unit": self.unit,
            "ratio_to_twin": self.ratio_to_twin,
        }
        if self.target is not None:
            out["target"] = self.target
            if self.lower_is_better:
                out["lower_is_better"] = True
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Context:
    """What a figure function gets: a size scale for quick runs (1.0 = the issue's sizes)."""

    scale: float = 1.0
    log: Callable[[str], None] = lambda msg: None
    extra: dict = field(default_factory=dict)


FigureFn = Callable[[Context], Iterator[Figure]]
_SUITES: dict[str, list[FigureFn]] = {}


def figures(suite: str) -> Callable[[FigureFn], FigureFn]:
    def register(fn: FigureFn) -> FigureFn:
        _SUITES.setdefault(suite, []).append(fn)
        return fn

    return register


def _load_all() -> None:
    import tools.bench as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"tools.bench.{info.name}")


def suites() -> list[str]:
    _load_all()
    return sorted(_SUITES)


def run(suite: str, ctx: Context) -> Iterator[Figure]:
    _load_all()
    if suite not in _SUITES:
        from hw.errors import FieldError

        raise FieldError("SUITE", suite, "one of " + ", ".join(sorted(_SUITES)))
    for fn in _SUITES[suite]:
        for fig in fn(ctx):
            fig.suite = suite
            yield fig


def best_rate(fn: Callable[[], object], items: float, repeat: int = 3, min_time: float = 0.2) -> float:
    """Items per second of ``fn`` (which processes ``items`` items per call): best of ``repeat`` runs,
    each run looping until ``min_time`` seconds have passed."""
    best = 0.0
    for _ in range(repeat):
        calls = 0
        start = time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = max(best, items * calls / elapsed)
    return best


def to_json_lines(figs: list[Figure]) -> str:
    return "\n".join(json.dumps(f.as_json()) for f in figs)
