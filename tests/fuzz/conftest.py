"""The fuzz tests' plumbing: the shared helper module on sys.path, which test is running (for the per
decoder count of inputs), and the report that ``python -m tools.fuzz`` prints as a table.

With ``ATMEMU_FUZZ_REPORT=path`` the session writes, as JSON, per decoder: inputs tried, crashes
found (failed tests, one per distinct error hypothesis reports), the failing tests, the outcomes the
inputs reached (accepted, or which typed error), and the known bugs kept as strict xfail tests."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import fuzzkit  # noqa: E402 - after the path is set

_FAILURES: dict[str, int] = {}  # node id -> distinct errors
_XFAILED: list[str] = []
_DURATIONS: dict[str, float] = {}


@pytest.fixture(autouse=True)
def _current_test(request):
    fuzzkit.CURRENT["nodeid"] = request.node.nodeid
    started = time.perf_counter()
    yield
    _DURATIONS[request.node.nodeid] = time.perf_counter() - started
    fuzzkit.CURRENT["nodeid"] = "?"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    if hasattr(report, "wasxfail"):
        if report.skipped:
            _XFAILED.append(item.nodeid)
        return
    if report.failed:
        error = call.excinfo.value if call.excinfo is not None else None
        _FAILURES[item.nodeid] = len(error.exceptions) if isinstance(error, BaseExceptionGroup) else 1


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("ATMEMU_FUZZ_REPORT")
    if not path:
        return
    from tools.fuzz.targets import TARGETS

    rows = {name: {"family": t.family, "decoder": t.decoder, "inputs": 0, "crashes": 0, "failed_tests": [],
                   "seconds": 0.0, "outcomes": dict(fuzzkit.OUTCOMES.get(name, {}))} for name, t in TARGETS.items()}
    tests_of: dict[str, set[str]] = {}
    for (name, nodeid), count in fuzzkit.COUNTS.items():
        rows[name]["inputs"] += count
        tests_of.setdefault(nodeid, set()).add(name)
    for nodeid, seconds in _DURATIONS.items():
        names = tests_of.get(nodeid, ())
        for name in names:
            rows[name]["seconds"] += seconds / len(names)
    unattributed = []
    for nodeid, errors in _FAILURES.items():
        names = tests_of.get(nodeid)
        if not names:
            unattributed.append(nodeid)
            continue
        for name in names:
            rows[name]["crashes"] += errors
            rows[name]["failed_tests"].append(nodeid)
    report = {"examples_per_test": fuzzkit.FUZZ_EXAMPLES, "targets": rows, "known_bugs_xfail": _XFAILED,
              "unattributed_failures": unattributed, "exitstatus": int(exitstatus)}
    with open(path, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1, sort_keys=True)
