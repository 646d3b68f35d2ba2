"""The fuzzing machinery itself can fail: the guard catches a hang (in Python, in Python that swallows
the alarm, in C code the alarm cannot reach), an allocation a lying length field asks for, and a
memory peak over the bound; ``check`` lets through only a target's typed errors and refuses an error
that points outside the input."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from hw.errors import DecodeError
from tools.fuzz.guard import HANG_EXIT_STATUS, Hang, MemoryBlowUp, bounded
from tools.fuzz.targets import TARGETS, Target, check


def test_a_python_loop_past_the_limit_is_a_hang():
    started = time.monotonic()
    with pytest.raises(Hang), bounded(0.2, 1 << 30, trace=False):
        while True:
            pass
    assert time.monotonic() - started < 2


def test_a_hang_the_decoder_swallows_is_still_a_hang():
    with pytest.raises(Hang, match="caught the alarm"), bounded(0.2, 1 << 30, trace=False):
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:
            try:
                time.sleep(0.05)
            except Exception:  # as scapy's dissection does  # noqa: BLE001
                pass


def test_a_length_claiming_4_gib_cannot_be_allocated():
    with pytest.raises(MemoryError), bounded(5, 1 << 40, trace=False):
        bytearray(4 << 30)


def test_a_traced_peak_over_the_bound_is_a_blow_up():
    with pytest.raises(MemoryBlowUp), bounded(5, 1 << 20, trace=True):
        block = bytearray(8 << 20)
        del block
    with bounded(5, 16 << 20, trace=True) as peak:
        block = bytearray(8 << 20)
        del block
    assert 8 << 20 <= peak.octets < 9 << 20


def test_a_hang_the_alarm_cannot_reach_ends_the_process():
    """A loop inside a numba kernel never returns to the interpreter, so the alarm's handler never runs;
    here the alarm is ignored instead, to the same effect: the watchdog prints the stacks and ends the
    process."""
    script = textwrap.dedent("""
        import signal
        from tools.fuzz.guard import bounded
        with bounded(0.5, 1 << 30, trace=False, hard_factor=3):
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            while True:
                pass
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == HANG_EXIT_STATUS, done.stderr[-2000:]
    assert "hard time limit" in done.stderr and 'File "<string>", line 6' in done.stderr  # the loop


def _target(run) -> Target:
    return Target("test.target", "test", "a test decoder", run, (DecodeError,), lambda: [b""], 8, lambda n: 1 << 20)


def _raise(error: BaseException):
    def run(data: bytes) -> None:
        raise error
    return run


def test_check_lets_through_typed_errors_only():
    assert check(_target(_raise(DecodeError("thing", 1, "field", "bad"))), b"abc") == "DecodeError"
    with pytest.raises(IndexError):
        check(_target(_raise(IndexError("boom"))), b"abc")
    with pytest.raises(AssertionError, match="outside"):  # a typed error must point inside the input
        check(_target(_raise(DecodeError("thing", 9, "field", "bad"))), b"abc")
    assert check(_target(lambda data: None), b"abc") == "ok"


def test_the_targets_oracles_can_fail():
    """An oracle that cannot fail checks nothing: a record the two SSCOP decoders would read
    differently, fed as if it came from one of them, must be caught (here: a seed that decodes, with
    its round trip broken on purpose by a decoder that adds an octet)."""
    from firmware.sscop import fastcodec

    seed = TARGETS["sscop.pdu"].seeds()[0]

    def broken(data: bytes) -> None:
        decoded = fastcodec.decode(data)
        assert fastcodec.encode(decoded.type, decoded.payload + b"!", **decoded.fields) == data, "round trip"

    with pytest.raises(Exception):  # noqa: B017 - the broken round trip, whichever way it breaks
        check(_target(broken), seed)
