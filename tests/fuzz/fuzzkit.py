"""Shared by the fuzz tests: the budget, the bounded run of one example (counted per decoder), and the
mutation strategies that turn valid seeds into hostile inputs.

Mutations, generic (any byte string; :func:`mutated`):

- ``flip``     one bit flipped;
- ``set``      one octet set to an edge value (0x00, 0x01, 0x7F, 0x80, 0xFF) or any value;
- ``truncate`` the input cut at a point; ``chop`` its head removed;
- ``extend``   octets appended; ``insert``, ``delete``, ``duplicate`` a span inserted, removed, repeated;
- ``int``      a 1-, 2-, 4- or 8-octet integer written at a point, in either byte order: an edge value
               (0, 1, 0x7F.., 0x80.., 0xFF.., 2**32 - 4...) or the input's own length +- a little: how a
               length field is corrupted (a length claiming 4 GiB is in there);
- ``nudge``    an integer already at a point moved by +-1..+-8: the off-by-one of a length field;
- ``splice``   the head of this input joined to the tail of another seed.

The family test modules add structure-aware mutations (IEs of a message, blocks of a pcapng file,
cells of an AAL5 frame, keys of a scenario...) and hand their results to :func:`run`.

Budget: ``ATMEMU_FUZZ_EXAMPLES`` examples per test (300 in the suite; ``make fuzz`` raises it), at
most ``ATMEMU_FUZZ_TIMEOUT`` seconds per example (default 10; a hang gets reported, see
``tools.fuzz.guard``), an address space grown by at most 1 GiB per example, and for one input in
``ATMEMU_FUZZ_TRACE_EVERY`` (default 8) the target's precise memory bound under tracemalloc.
"""

from __future__ import annotations

import os
import zlib
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tools.fuzz.guard import bounded
from tools.fuzz.targets import TARGETS, Target, check

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))
FUZZ_TIMEOUT = float(os.environ.get("ATMEMU_FUZZ_TIMEOUT", "10"))
#: One input in this many is run under tracemalloc with the target's precise memory bound (tracing
#: slows decoding several times); every input runs under the address-space cap (tools.fuzz.guard).
FUZZ_TRACE_EVERY = max(1, int(os.environ.get("ATMEMU_FUZZ_TRACE_EVERY", "8")))

#: The hypothesis settings of every fuzz test: the budget; no deadline (the guard's time limit
#: replaces it: the machine is shared, a slow example is not a hang).
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.large_base_example])

#: Inputs tried, by (target name, test node id); filled by :func:`run`, read by conftest's report.
COUNTS: Counter[tuple[str, str]] = Counter()
#: Outcomes ("ok" or the typed error's class name), by target: what the inputs reached.
OUTCOMES: dict[str, Counter[str]] = {}
#: The node id of the test running now (set by conftest).
CURRENT = {"nodeid": "?"}


_WARM: set[str] = set()


def warm_up(target: Target) -> None:
    """Decode every seed once, outside the bounds: the first call of a numba kernel may compile it
    (when its cache is stale), and compiling is no hang. Every seed must be accepted."""
    if target.name not in _WARM:
        for seed in target.seeds():
            assert check(target, seed) == "ok", f"{target.name}: a seed is refused: {seed.hex()}"
        _WARM.add(target.name)


def run(target: Target | str, data: bytes) -> str:
    """Decode ``data`` with ``target`` within the time and memory bounds; returns "ok" or the typed
    error's name. A crash, a failed oracle, a hang or a memory blow-up propagates (the test fails)."""
    if isinstance(target, str):
        target = TARGETS[target]
    warm_up(target)
    data = bytes(data)
    COUNTS[target.name, CURRENT["nodeid"]] += 1
    traced = zlib.crc32(data) % FUZZ_TRACE_EVERY == 0  # a function of the input: a failure replays alike
    with bounded(FUZZ_TIMEOUT, target.memory(len(data)), trace=traced):
        outcome = check(target, data)
    OUTCOMES.setdefault(target.name, Counter())[outcome] += 1
    return outcome


def targets(*names: str) -> list[Target]:
    return [TARGETS[n] for n in names]


class Seeds(list):
    """A target's seeds, shown by name (hypothesis prints a strategy's arguments with each failure)."""

    def __init__(self, target: Target) -> None:
        super().__init__(target.seeds())
        self.name = target.name

    def __repr__(self) -> str:
        return f"<{len(self)} seeds of {self.name}>"


def seeds(target: Target | str) -> Seeds:
    return Seeds(TARGETS[target] if isinstance(target, str) else target)


# ---------------------------------------------------------------------------------- integer edges

#: Values a corrupted length or count field takes: zero, one, sign and width edges, 4 GiB.
EDGE_INTS = (0, 1, 2, 3, 4, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
             0x7FFFFFFF, 0x80000000, 0xFFFFFFFC, 0xFFFFFFFF, 1 << 32, (1 << 63) - 1, (1 << 64) - 1)
EDGE_OCTETS = (0x00, 0x01, 0x7F, 0x80, 0xFF)


def put_int(buf: bytearray, at: int, value: int, width: int, order: str = "big") -> None:
    """Write ``value`` (wrapped to ``width`` octets) at ``at``, inside ``buf`` as far as it reaches."""
    raw = (value % (1 << (8 * width))).to_bytes(width, order)
    end = min(len(buf), at + width)
    buf[at:end] = raw[: end - at]


def get_int(buf: bytes | bytearray, at: int, width: int, order: str = "big") -> int:
    return int.from_bytes(bytes(buf[at: at + width]).ljust(width, b"\0"), order)


def nudge(buf: bytearray, at: int, width: int, delta: int, order: str = "big") -> None:
    """Move the integer at ``at`` by ``delta`` (wrapping): a length field off by a little."""
    put_int(buf, at, get_int(buf, at, width, order) + delta, width, order)


# -------------------------------------------------------------------------------- generic mutations

_OPS = ("flip", "set", "truncate", "chop", "extend", "insert", "delete", "duplicate", "int", "nudge", "splice")


@st.composite
def mutation_list(draw, max_ops: int = 4):
    """1..max_ops generic mutations, as plain tuples (shown as such when hypothesis reports one)."""
    ops = []
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(_OPS))
        at = draw(st.integers(0, 1 << 16))  # taken modulo the length when applied
        if op == "flip":
            arg = draw(st.integers(0, 7))
        elif op == "set":
            arg = draw(st.one_of(st.sampled_from(EDGE_OCTETS), st.integers(0, 255)))
        elif op in ("extend", "insert"):
            arg = draw(st.binary(min_size=1, max_size=16))
        elif op in ("delete", "duplicate"):
            arg = draw(st.integers(1, 16))
        elif op == "int":
            width = draw(st.sampled_from((1, 2, 4, 8)))
            value = draw(st.one_of(st.sampled_from(EDGE_INTS), st.tuples(st.just("len"), st.integers(-8, 8))))
            arg = (width, value, draw(st.sampled_from(("big", "little"))))
        elif op == "nudge":
            arg = (draw(st.sampled_from((1, 2, 4))), draw(st.integers(-8, 8).filter(bool)),
                   draw(st.sampled_from(("big", "little"))))
        elif op == "splice":
            arg = (draw(st.integers(0, 1 << 16)), draw(st.integers(0, 1 << 16)))
        else:
            arg = None
        ops.append((op, at, arg))
    return ops


def apply(data: bytes, ops, other: bytes = b"") -> bytes:
    """``data`` after the generic mutations ``ops`` (``other``: the seed a splice takes its tail from)."""
    buf = bytearray(data)
    for op, at, arg in ops:
        at = at % (len(buf) + 1)
        if op == "flip" and at < len(buf):
            buf[at] ^= 1 << arg
        elif op == "set" and at < len(buf):
            buf[at] = arg
        elif op == "truncate":
            del buf[at:]
        elif op == "chop":
            del buf[:at]
        elif op == "extend":
            buf += arg
        elif op == "insert":
            buf[at:at] = arg
        elif op == "delete":
            del buf[at: at + arg]
        elif op == "duplicate":
            buf[at:at] = buf[at: at + arg]
        elif op == "int":
            width, value, order = arg
            if isinstance(value, tuple):  # the input's own length, give or take
                value = len(buf) + value[1]
            put_int(buf, at, value, width, order)
        elif op == "nudge":
            width, delta, order = arg
            nudge(buf, at, width, delta, order)
        elif op == "splice" and other:
            cut, start = arg
            buf = buf[: cut % (len(buf) + 1)] + bytearray(other[start % (len(other) + 1):])
    return bytes(buf)


@st.composite
def mutated(draw, seeds: list[bytes], max_ops: int = 4) -> bytes:
    """A seed after 1..max_ops generic mutations (see the module doc)."""
    seed = draw(st.sampled_from(seeds))
    other = draw(st.sampled_from(seeds))
    return apply(seed, draw(mutation_list(max_ops)), other)
