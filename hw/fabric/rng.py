"""Random numbers inside the kernels, and their plain-Python twin.

Generator: xorshift64* (S. Vigna, "An experimental exploration of Marsaglia's xorshift generators,
scrambled", ACM TOMS 42(4), 2016): state x (64 bits, never 0),

    x ^= x >> 12;  x ^= x << 25;  x ^= x >> 27;  output = x * 0x2545F4914F6CDD1D  (mod 2^64)

and we use the high 32 bits of the output (its best bits). Period 2^64 - 1; a few cycles per draw.
Seeding: SplitMix64 (Steele, Lea, Flood, OOPSLA 2014) of (seed, stream index), so every input port
and the scheduler have their own stream: a port's traffic does not depend on how many ports there are
or on the order in which the kernel visits them.

Derived draws, all in integers so the twin reproduces them bit for bit:
- Bernoulli(p): ``u32 < threshold(p)`` with ``threshold(p) = round(p * 2^32)`` (p = 1 always fires);
- uniform in 0..n-1: ``(u32 * n) >> 32`` (Lemire's multiply-shift; bias below n / 2^32).
"""

from __future__ import annotations

import numba as nb
import numpy as np

MASK64 = (1 << 64) - 1
XS_MULT = 0x2545F4914F6CDD1D
SM_GAMMA = 0x9E3779B97F4A7C15
SCHEDULER_STREAM = 0xFFFF  # stream index of a scheduler's random choices (PIM, FIFO contention)


def splitmix64(x: int) -> tuple[int, int]:
    """One SplitMix64 step: (next state, output)."""
    x = (x + SM_GAMMA) & MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return x, z ^ (z >> 31)


def stream_seed(seed: int, stream: int) -> int:
    """The xorshift64* state of stream ``stream`` of run ``seed`` (never 0)."""
    x, _ = splitmix64((seed & MASK64) ^ ((stream * 0xD1B54A32D192ED03) & MASK64))
    _, out = splitmix64(x)
    return out or SM_GAMMA


def threshold(p: float) -> int:
    """The integer threshold that makes ``u32 < threshold`` fire with probability p."""
    if not 0.0 <= p <= 1.0:
        from hw.errors import FieldError

        raise FieldError("probability", p, "0..1")
    return int(round(p * 4294967296.0))


# -- kernel versions -------------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True, _nrt=False)
def next_u32(state, i):
    """Advance stream ``i`` of the uint64 array ``state``; return 32 random bits (as uint64)."""
    x = state[i]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[i] = x
    return (x * np.uint64(XS_MULT)) >> np.uint64(32)


@nb.njit(cache=True, nogil=True, _nrt=False)
def xorshift_step(x):
    """The same step on a state held in a register: (next state, 32 random bits as uint64)."""
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    return x, (x * np.uint64(XS_MULT)) >> np.uint64(32)


@nb.njit(cache=True, nogil=True, _nrt=False)
def below(state, i, n):
    """Uniform integer in 0..n-1 from stream ``i`` (n >= 1)."""
    return np.int64((next_u32(state, i) * np.uint64(n)) >> np.uint64(32))


# -- twin ------------------------------------------------------------------------------------------


class XorShift64Star:
    """Plain-Python twin of :func:`next_u32` / :func:`below` for one stream."""

    __slots__ = ("x",)

    def __init__(self, state: int) -> None:
        self.x = state & MASK64

    def u32(self) -> int:
        x = self.x
        x ^= x >> 12
        x ^= (x << 25) & MASK64
        x ^= x >> 27
        self.x = x
        return ((x * XS_MULT) & MASK64) >> 32

    def below(self, n: int) -> int:
        return (self.u32() * n) >> 32
