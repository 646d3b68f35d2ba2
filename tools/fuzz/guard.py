"""Bounds on one fuzz example: time (no hang) and memory (no blow-up).

:func:`bounded` runs a block under

- a soft time limit: SIGALRM raises :class:`Hang` in the decoder's Python code after ``seconds`` (and
  again after the block, should the decoder have caught it: scapy's dissection catches exceptions);
- a hard time limit: if the process is still inside the block at ``hard_factor`` times that (a loop
  inside a numba kernel never returns to the interpreter, so the alarm cannot interrupt it), a watchdog
  thread prints every thread's stack (``faulthandler``) and ends the process with status 70: a hang is
  reported, never waited on;
- an address-space cap (Linux ``RLIMIT_AS``, on every example, at the cost of two system calls): the
  process may grow by at most ``ADDRESS_SPACE_SLACK`` while the block runs, so a decoder that believes
  a length field claiming 4 GiB and allocates it gets a ``MemoryError`` (no typed error: a finding)
  instead of the memory;
- with ``trace=True``, a precise memory limit: ``tracemalloc`` follows every allocation of Python
  objects and numpy buffers, and a peak above ``peak_octets`` raises :class:`MemoryBlowUp` after the
  block. Tracing makes the decoders 2 to 8 times slower, so the fuzz tests trace a fixed share of the
  inputs (chosen by a hash of the input, so a traced failure replays traced).

Alarms work in the main thread only; elsewhere the time limits are skipped.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
import tracemalloc
from contextlib import contextmanager
from typing import Iterator

try:
    import resource
except ImportError:  # not on every platform: the cap is skipped there
    resource = None  # type: ignore[assignment]

#: How much the address space may grow while one example runs (the cap above).
ADDRESS_SPACE_SLACK = 1 << 30
#: Exit status of a process the watchdog ended (EX_SOFTWARE).
HANG_EXIT_STATUS = 70


class FuzzFinding(Exception):
    """Base of what the guard itself finds (never a typed error of any layer)."""


class Hang(FuzzFinding):
    """The decoder ran past the time limit of one example."""


class MemoryBlowUp(FuzzFinding):
    """The decoder's traced memory peaked above the limit of one example."""


class Peak:
    """What :func:`bounded` measured: ``octets``, the traced memory peak above the level at entry
    (0 when the block was not traced)."""

    octets: int = 0


_FIRED = {"alarm": False}
#: Monotonic time after which the watchdog ends the process (0: no block running).
_DEADLINE = [0.0]
_WATCHDOG: list[threading.Thread] = []


def _watch() -> None:
    while True:
        time.sleep(0.5)
        deadline = _DEADLINE[0]
        if deadline and time.monotonic() > deadline:
            sys.stderr.write("\nfuzz guard: a decoder is still running past the hard time limit; stacks:\n")
            faulthandler.dump_traceback(all_threads=True)
            sys.stderr.flush()
            os._exit(HANG_EXIT_STATUS)


def _arm(seconds: float) -> None:
    """Arm the watchdog (one daemon thread for the process, started on first use: re-arming costs a
    float store, where faulthandler.dump_traceback_later starts a thread each time)."""
    if not _WATCHDOG:
        thread = threading.Thread(target=_watch, name="fuzz-guard-watchdog", daemon=True)
        thread.start()
        _WATCHDOG.append(thread)
    _DEADLINE[0] = time.monotonic() + seconds


def _alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    _FIRED["alarm"] = True
    raise Hang("no answer within the time limit")


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _address_space() -> int | None:
    """The process's virtual size in octets (Linux), or None."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def _capped(slack: int) -> Iterator[None]:
    size = _address_space() if resource is not None else None
    if size is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + slack
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY:
        cap = min(cap, soft)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextmanager
def bounded(seconds: float, peak_octets: int, *, trace: bool = True, hard_factor: float = 6.0,
            slack: int = ADDRESS_SPACE_SLACK) -> Iterator[Peak]:
    """Run the block within ``seconds``, an address space grown by at most ``slack`` and, when
    ``trace``, ``peak_octets`` of traced memory (see the module doc)."""
    peak = Peak()
    timed = threading.current_thread() is threading.main_thread() and sys.platform != "win32"
    _FIRED["alarm"] = False
    if timed:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        _arm(seconds * hard_factor)
    started = trace and not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(1)
    if trace:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
    try:
        with _capped(slack):
            yield peak
    finally:
        if trace:
            peak.octets = tracemalloc.get_traced_memory()[1] - base
        if started:
            tracemalloc.stop()
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _DEADLINE[0] = 0.0
            signal.signal(signal.SIGALRM, old)
    if _FIRED["alarm"]:  # raised inside the decoder, and swallowed there (an ``except Exception``)
        raise Hang("no answer within the time limit (the decoder caught the alarm and went on)")
    if trace and peak.octets > peak_octets:
        raise MemoryBlowUp(f"traced memory peaked at {peak.octets} octets, the limit is {peak_octets}")
