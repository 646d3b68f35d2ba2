"""A physical link between two ports: one cell per slot each way, idle cells when there is nothing to
send, and injectable impairments (bit errors, cell loss, loss bursts, link down).

Like an HDL netlist, a link has two explicit ends, ports ``a`` and ``b``. Each direction is a
:class:`Lane` with its own transmit FIFO, impairments, random generator, counters and time: the lane's
``now`` is the next slot it transmits. A lane takes one queued cell per slot, or inserts an idle cell
(I.432.1 4.5.1, cell rate decoupling: header 00 00 00 01, HEC 0x52, payload 0x6A) when the FIFO has
nothing for that slot. The far port then :meth:`Port.receive` s the cells with their arrival slots
(transmit slot + propagation delay).

Time. :meth:`Link.advance` transmits both lanes up to a slot; :meth:`Lane.advance` one lane (the two
directions of a fibre pair are independent, and a co-simulation may need one direction ahead of the
other: a switch takes the cells a device queued toward it before the switch runs their slots, and
puts the cells it switches on the way back only once it has run theirs). ``Link.now`` is the slot
both lanes have reached. The transmit slot of every cell is fixed when it is queued: cells go out in
FIFO order, one per slot, each in the first free slot at or after the slot it was offered for
(:meth:`Port.send` ``at``: now by default, or a slot, or one slot per cell; a cell offered for a slot
the lane has already transmitted goes out at the lane's next slot).

Impairments, applied at transmission in this order, each counted:
- link down: every cell transmitted while down is lost (``cells_lost_down``); no idle cells are sent;
- loss bursts: a two-state (Gilbert) channel over slots; a burst starts in a slot with probability
  ``burst_start`` and lasts a geometric number of slots of mean ``burst_mean_slots``; cells in a
  burst are lost (``cells_lost_burst``);
- random loss: each cell independently with probability ``loss`` (``cells_lost_random``);
- bit errors: each of the 424 bits of every cell sent (header included, idle cells included when
  they are emitted) flips with probability ``ber``. Vectorised: the number of flipped bits over a
  block is drawn Binomial(bits, ber), then their positions without replacement.
A lane with no impairment in effect (and no idle cells to emit) takes a fast path that draws nothing
and copies nothing; it delivers exactly what the general path would.

Taps: :meth:`Link.add_tap` ``(fn)`` has ``fn(direction, cells, slots)`` called in bulk with the user
cells each lane delivers (after the impairments; idle cells excluded) and their arrival slots,
``direction`` the lane's name ("a->b"). With no tap the cost is one test per transmission.

Cell-available signal: a lane's ``on_offer`` (None by default) is called as ``on_offer(lane, n)`` after
``n`` cells were queued on it, so whatever sits at the far end (a switch port) learns that cells are on
their way without polling.

Clock: a link made with ``clock=`` never queues a cell for a slot before the clock's now (a device on a
live line sends from now on, whatever its lane's own time).

Conservation, per lane: ``cells_offered == cells_delivered + cells_lost_random + cells_lost_burst +
cells_lost_down + cells_dropped_queue_full + cells_queued``. Results depend only on the seed and the
sequence of calls (same calls, same seed: same cells, same counters).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from hw.cell import CELL_OCTETS, IDLE_CELL as _IDLE_CELL_BYTES
from hw.errors import AtmemuError, FieldError
from hw.rates import LineRate, rate as line_rate

CELL_BITS = CELL_OCTETS * 8
#: The idle cell of hw.cell as a row, for broadcasting into transmit blocks.
IDLE_CELL = np.frombuffer(_IDLE_CELL_BYTES, dtype=np.uint8)

COUNTER_NAMES = (
    "cells_offered",
    "cells_delivered",
    "cells_lost_random",
    "cells_lost_burst",
    "cells_lost_down",
    "cells_dropped_queue_full",
    "cells_queued",  # a gauge: offered, waiting in the transmit FIFO
    "cells_errored",  # delivered user cells with at least one flipped bit
    "bits_flipped",  # in user and idle cells
    "idle_inserted",
    "idle_errored",
    "slots",  # slots transmitted
    "slots_down",
    "burst_slots",
)

#: fn(direction, cells, arrival slots) - see the module documentation.
Tap = Callable[[str, np.ndarray, np.ndarray], object]

_NO_CELLS = np.zeros((0, CELL_OCTETS), np.uint8)
_NO_SLOTS = np.zeros(0, np.int64)
_NO_FLAGS = np.zeros(0, bool)
#: "not idle" flags of a clean line's deliveries, shared read-only (a slice of it per delivery)
_USER_FLAGS = np.zeros(4096, bool)
for _a in (_NO_CELLS, _NO_SLOTS, _NO_FLAGS, _USER_FLAGS):
    _a.setflags(write=False)


@dataclass
class Impairments:
    """What the line does to cells. All probabilities in [0, 1]."""

    ber: float = 0.0  # bit error ratio, per transmitted bit
    loss: float = 0.0  # independent cell loss probability
    burst_start: float = 0.0  # probability a loss burst starts in a given slot
    burst_mean_slots: float = 1.0  # mean burst length in slots (>= 1)

    def __post_init__(self) -> None:
        for f in ("ber", "loss", "burst_start"):
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise FieldError(f, v, "a probability in [0, 1]")
        if not isinstance(self.burst_mean_slots, (int, float)) or self.burst_mean_slots < 1:
            raise FieldError("burst_mean_slots", self.burst_mean_slots, "a mean burst length >= 1 slot")

    @property
    def none(self) -> bool:
        """True when the line does nothing to the cells (the lane's fast path applies)."""
        return self.ber <= 0.0 and self.loss <= 0.0 and self.burst_start <= 0.0


def check_cells(cells, field: str = "cells") -> np.ndarray:
    if cells.__class__ is np.ndarray and cells.dtype == np.uint8 and cells.ndim == 2 and cells.shape[1] == CELL_OCTETS:
        return cells
    if not isinstance(cells, np.ndarray) or cells.dtype != np.uint8 or cells.ndim != 2 or cells.shape[1] != CELL_OCTETS:
        desc = f"{cells.dtype} array {cells.shape}" if isinstance(cells, np.ndarray) else type(cells).__name__
        raise FieldError(field, desc, "a uint8 array of shape (n, 53)")
    return cells


@dataclass
class Delivery:
    """Cells that reached a port, with the slot at which each arrived; ``idle`` marks idle cells
    (only present when the link emits them)."""

    cells: np.ndarray
    slots: np.ndarray
    idle: np.ndarray

    def __len__(self) -> int:
        return int(self.cells.shape[0])


_EMPTY_DELIVERY = Delivery(_NO_CELLS, _NO_SLOTS, _NO_FLAGS)


class Lane:
    """One direction of a link: transmit FIFO (each queued cell with its transmit slot), impairments,
    counters, its own time, and the receive buffer of the far port."""

    def __init__(self, name: str, impairments: Impairments, rng: np.random.Generator, delay_slots: int,
                 emit_idle: bool, max_queue_cells: int, link: "Link | None" = None) -> None:
        self.name = name
        self.impairments = impairments
        self.rng = rng
        self.delay_slots = delay_slots
        self.emit_idle = emit_idle
        self.max_queue_cells = max_queue_cells
        self.link = link
        self.now = 0  # next slot to transmit
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self.on_offer: Callable[["Lane", int], object] | None = None
        self._fifo: deque[list] = deque()  # [cells, transmit slots] chunks, in order
        self._last_tx = -1  # transmit slot of the last queued cell
        self._rx: deque[Delivery] = deque()
        self._in_burst = False
        self._run_left: int | None = None  # slots left in the current good or bad run (None: not drawn)
        self._taps: list[Tap] = link._taps if link is not None else []

    @property
    def up(self) -> bool:
        return self.link is None or self.link.is_up

    # -- transmit side ---------------------------------------------------------------------------

    @property
    def last_tx(self) -> int | None:
        """Transmit slot of the last cell queued (None when the FIFO is empty)."""
        return self._last_tx if self.counters["cells_queued"] else None

    @property
    def busy_until(self) -> int:
        """The first slot after the last queued cell's transmission (``now`` when the FIFO is empty)."""
        return self._last_tx + 1 if self.counters["cells_queued"] else self.now

    def offer(self, cells: np.ndarray, at=None, *, copy: bool = True) -> int:
        """Queue cells for transmission; returns how many were queued (the rest are counted as
        dropped because the FIFO is full). ``at``: the slot from which they may go (default: the
        lane's now), or one slot per cell (non-decreasing): each cell goes out in the first free
        slot at or after its own. On a link with a clock, no cell goes before the clock's now.
        ``copy=False``: the caller gives the cells away (they are not copied into the FIFO)."""
        cells = check_cells(cells)
        c = self.counters
        n = cells.shape[0]
        want = None
        spread = True
        if at is not None and not (at.__class__ is int or isinstance(at, (int, np.integer))):
            # one slot per cell: checked before anything is counted
            want = at if at.__class__ is np.ndarray and at.dtype == np.int64 else np.asarray(at, dtype=np.int64)
            if want.ndim != 1 or want.shape[0] != n:
                raise FieldError("at", f"{want.size} slots", f"one slot per cell ({n})")
            if n > 1:
                if n <= 16:   # a few cells (signalling): the smallest step on Python ints
                    w = want.tolist()
                    low = min(b - a for a, b in zip(w, w[1:]))
                else:
                    low = (want[1:] - want[:-1]).min()
                if low < 0:
                    raise FieldError("at", want.tolist()[:8], "non-decreasing slots")
                spread = low >= 1     # one cell per slot already: each goes in its own slot
        room = self.max_queue_cells - c["cells_queued"]
        take = n if n <= room else max(0, room)
        c["cells_offered"] += n
        if take < n:
            c["cells_dropped_queue_full"] += n - take
        if not take:
            return 0
        first = self._last_tx + 1 if c["cells_queued"] else self.now
        clock = self.link.clock if self.link is not None else None
        if clock is not None and first < clock.now:
            first = clock.now  # a device on a live line sends from the clock's now, never into the past
        if want is None:
            s = first if at is None else max(first, int(at))
            tx = np.arange(s, s + take, dtype=np.int64)
        else:
            want = want[:take]
            if spread and want[0] >= first:
                tx = want.copy()
            else:
                # tx[i] = max(want[i], tx[i-1] + 1), tx[-1] = first - 1: a running maximum of want[i] - i
                steps = np.arange(take, dtype=np.int64)
                tx = np.maximum.accumulate(np.maximum(want - steps, first)) + steps
        self._fifo.append([cells[:take].copy() if copy else cells[:take], tx])
        self._last_tx = int(tx[-1])
        c["cells_queued"] += take
        if self.on_offer is not None:
            self.on_offer(self, take)
        return take

    def offer_departures(self, cells: np.ndarray, slots: np.ndarray) -> int:
        """Queue cells to go out at exactly ``slots`` (int64, one per cell): a switch output's departures,
        handed to the lane once the fabric has run their slots; the cells are given away (not copied).
        The fast form of ``offer(cells, slots, copy=False)`` for its common case - a run of consecutive
        slots, all still free on the lane, room in the FIFO - with the same effects (tests/hw/test_link.py
        holds them equal); anything else goes through :meth:`offer`."""
        cells = check_cells(cells)
        n = cells.shape[0]
        c = self.counters
        if n and slots.__class__ is np.ndarray and slots.dtype == np.int64 and slots.shape == (n,):
            s0 = int(slots[0])
            first = self._last_tx + 1 if c["cells_queued"] else self.now
            clock = self.link.clock if self.link is not None else None
            if clock is not None and first < clock.now:
                first = clock.now
            if (s0 >= first and n <= self.max_queue_cells - c["cells_queued"]
                    and (int(slots[-1]) - s0 == n - 1 if n <= 2 else slots.tolist() == list(range(s0, s0 + n)))):
                c["cells_offered"] += n
                self._fifo.append([cells, slots.copy()])
                self._last_tx = s0 + n - 1
                c["cells_queued"] += n
                if self.on_offer is not None:
                    self.on_offer(self, n)
                return n
        return self.offer(cells, slots, copy=False)

    def _dequeue(self, until: int) -> tuple[np.ndarray, np.ndarray]:
        """The queued cells whose transmit slot is before ``until``, with those slots."""
        fifo = self._fifo
        if len(fifo) == 1 and fifo[0][1][-1] < until:  # one chunk, all due (the common case): as below
            cells, tx = fifo.popleft()
            self.counters["cells_queued"] -= cells.shape[0]
            return cells, tx
        parts_c, parts_t = [], []
        while fifo:
            head = fifo[0]
            tx = head[1]
            if tx[-1] < until:
                fifo.popleft()
                parts_c.append(head[0])
                parts_t.append(tx)
                continue
            if tx[0] < until:
                cut = int(np.searchsorted(tx, until))
                parts_c.append(head[0][:cut])
                parts_t.append(tx[:cut])
                head[0], head[1] = head[0][cut:], tx[cut:]
            break
        if not parts_c:
            return _NO_CELLS, _NO_SLOTS
        if len(parts_c) == 1:
            cells, tx = parts_c[0], parts_t[0]
        else:
            cells, tx = np.concatenate(parts_c), np.concatenate(parts_t)
        self.counters["cells_queued"] -= cells.shape[0]
        return cells, tx

    def _burst_mask(self, m: int) -> np.ndarray:
        """Slots of the next ``m`` that fall in a loss burst. Two-state (Gilbert) channel: good runs
        last Geometric(burst_start) slots (mean 1 / burst_start), bursts Geometric(1 / burst_mean_slots);
        the run in progress carries over from one call to the next. Costs O(bursts), not O(slots)."""
        imp = self.impairments
        mask = np.zeros(m, dtype=bool)
        if imp.burst_start <= 0.0 and not self._in_burst:
            return mask
        pos = 0
        while pos < m:
            if self._run_left == 0:  # the run is over: the channel changes state
                self._in_burst = not self._in_burst
                self._run_left = None
            if self._run_left is None:
                if self._in_burst:
                    self._run_left = int(self.rng.geometric(1.0 / imp.burst_mean_slots))
                elif imp.burst_start > 0.0:
                    self._run_left = int(self.rng.geometric(imp.burst_start))
                else:
                    break  # bursts switched off: stay good
            take = min(self._run_left, m - pos)
            if self._in_burst:
                mask[pos:pos + take] = True
            pos += take
            self._run_left -= take
        return mask

    def _flip_bits(self, block: np.ndarray) -> np.ndarray:
        """Flip each bit of ``block`` with probability ber, in place; returns the rows hit."""
        ber = self.impairments.ber
        if ber <= 0.0 or block.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        nbits = block.shape[0] * CELL_BITS
        k = int(self.rng.binomial(nbits, ber))
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        pos = self.rng.choice(nbits, size=k, replace=False)
        flat = block.reshape(-1)
        np.bitwise_xor.at(flat, pos >> 3, (0x80 >> (pos & 7)).astype(np.uint8))  # bit 0 = MSB, sent first
        self.counters["bits_flipped"] += k
        return np.unique(pos // CELL_BITS)

    def advance(self, until: int) -> None:
        """Transmit the slots from the lane's now up to ``until`` (exclusive); nothing when it is
        already there or beyond."""
        start = self.now
        m = until - start
        if m <= 0:
            return
        self.now = until
        c = self.counters
        c["slots"] += m
        cells, tx = self._dequeue(until) if c["cells_queued"] else (_NO_CELLS, _NO_SLOTS)
        k = cells.shape[0]
        up = self.link is None or self.link.is_up
        if up and not self.emit_idle and not self._in_burst and self.impairments.none:
            # the fast path: a clean line, no idle cells to emit
            c["idle_inserted"] += m - k
            if k:
                c["cells_delivered"] += k
                arrivals = tx + self.delay_slots if self.delay_slots else tx
                self._rx.append(Delivery(cells, arrivals, _USER_FLAGS[:k] if k <= 4096 else np.zeros(k, bool)))
                if self._taps:
                    for fn in tuple(self._taps):
                        fn(self.name, cells, arrivals)
            return
        self._transmit_impaired(start, m, cells, tx, up)

    def _transmit_impaired(self, start: int, m: int, cells: np.ndarray, tx: np.ndarray, up: bool) -> None:
        c = self.counters
        k = cells.shape[0]
        if not up:
            c["slots_down"] += m
            c["cells_lost_down"] += k
            # the burst channel keeps running in time even while the link is down
            self._burst_mask(m)
            return
        keep = np.ones(k, dtype=bool)
        burst = self._burst_mask(m)
        c["burst_slots"] += int(burst.sum())
        if k:
            in_burst = burst[tx - start]
            c["cells_lost_burst"] += int(in_burst.sum())
            keep &= ~in_burst
            if self.impairments.loss > 0.0:
                lost = (self.rng.random(k) < self.impairments.loss) & keep
                c["cells_lost_random"] += int(lost.sum())
                keep &= ~lost
        cells, slots = cells[keep], tx[keep]  # a fresh array: bits are never flipped in the sender's buffer
        idle_n = m - k
        c["idle_inserted"] += idle_n
        if self.emit_idle and idle_n:
            free = np.ones(m, dtype=bool)
            free[tx - start] = False
            idle_slots = start + np.flatnonzero(free)
            block = np.concatenate([cells, np.broadcast_to(IDLE_CELL, (idle_n, CELL_OCTETS))])
            slots = np.concatenate([slots, idle_slots])
            is_idle = np.zeros(block.shape[0], dtype=bool)
            is_idle[cells.shape[0]:] = True
        else:
            block, is_idle = cells, np.zeros(cells.shape[0], dtype=bool)
        hit = self._flip_bits(block)
        n_user = cells.shape[0]
        c["cells_errored"] += int(np.count_nonzero(hit < n_user))
        c["idle_errored"] += int(np.count_nonzero(hit >= n_user))
        c["cells_delivered"] += n_user
        if self._taps and n_user:
            user, arrivals = block[:n_user], slots[:n_user] + self.delay_slots
            for fn in tuple(self._taps):
                fn(self.name, user, arrivals)
        if block.shape[0]:
            if self.emit_idle and n_user and idle_n:
                order = np.argsort(slots, kind="stable")  # user and idle cells in slot order
                block, slots, is_idle = block[order], slots[order], is_idle[order]
            self._rx.append(Delivery(block, slots + self.delay_slots, is_idle))

    # -- receive side ----------------------------------------------------------------------------

    def take(self, until: int | None) -> Delivery:
        rx = self._rx
        if not rx:
            return _EMPTY_DELIVERY
        if len(rx) == 1 and (until is None or rx[0].slots[-1] <= until):
            return rx.popleft()  # one delivery, all arrived by ``until`` (the common case): as below
        parts: list[Delivery] = []
        while rx:
            d = rx[0]
            if until is None or d.slots[-1] <= until:
                parts.append(rx.popleft())
                continue
            cut = int(np.searchsorted(d.slots, until, side="right"))
            if cut:
                parts.append(Delivery(d.cells[:cut], d.slots[:cut], d.idle[:cut]))
                rx[0] = Delivery(d.cells[cut:], d.slots[cut:], d.idle[cut:])
            break
        if not parts:
            return _EMPTY_DELIVERY
        if len(parts) == 1:
            return parts[0]
        return Delivery(np.concatenate([p.cells for p in parts]), np.concatenate([p.slots for p in parts]),
                        np.concatenate([p.idle for p in parts]))

    @property
    def rx_backlog(self) -> int:
        """Cells waiting in the far port's receive buffer."""
        return sum(len(d) for d in self._rx)

    @property
    def next_arrival(self) -> int | None:
        """Arrival slot of the first cell waiting in the far port's receive buffer, or None."""
        return int(self._rx[0].slots[0]) if self._rx else None

    def conservation_gap(self) -> int:
        """offered - (delivered + lost + dropped + queued): always 0."""
        c = self.counters
        return c["cells_offered"] - (c["cells_delivered"] + c["cells_lost_random"] + c["cells_lost_burst"]
                                     + c["cells_lost_down"] + c["cells_dropped_queue_full"] + c["cells_queued"])


class Port:
    """One end of a link: transmits into :attr:`tx`, receives from :attr:`rx`."""

    def __init__(self, link: "Link", name: str) -> None:
        self.link = link
        self.name = name
        self.tx: Lane
        self.rx: Lane

    @property
    def peer(self) -> "Port":
        return self.link.b if self is self.link.a else self.link.a

    def send(self, cells: np.ndarray, at=None) -> int:
        """Queue cells for transmission from this port: from slot ``at`` (default: the transmit
        lane's now; or one slot per cell), each in the first free slot at or after its own. Returns
        cells queued."""
        return self.tx.offer(cells, at)

    def receive(self, until: int | None = None) -> Delivery:
        """Cells that arrived at this port by slot ``until`` (default: all transmitted so far)."""
        return self.rx.take(until)

    def __repr__(self) -> str:
        return f"<Port {self.link.name}.{self.name}>"


class Link:
    """A full-duplex link at a line rate between ports ``a`` and ``b``."""

    def __init__(self, rate: LineRate | str = "OC-3c", *, name: str = "link", a: str = "a", b: str = "b",
                 impairments: Impairments | None = None, delay_slots: int = 0, seed: int = 0,
                 emit_idle: bool = False, max_queue_cells: int = 1 << 20, clock=None) -> None:
        self.rate = line_rate(rate)
        if clock is not None and not hasattr(clock, "now"):
            raise FieldError("clock", clock, "None or a hw.clock.Clock")
        #: with a clock, cells are never queued for a slot before its now (see Lane.offer)
        self.clock = clock
        if not isinstance(delay_slots, int) or delay_slots < 0:
            raise FieldError("delay_slots", delay_slots, "an integer >= 0")
        if not isinstance(max_queue_cells, int) or max_queue_cells < 0:
            raise FieldError("max_queue_cells", max_queue_cells, "an integer >= 0")
        self.name = name
        self.is_up = True
        self._taps: list[Tap] = []
        imp = impairments or Impairments()
        rng_ab, rng_ba = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
        self.a, self.b = Port(self, a), Port(self, b)
        self.a_to_b = Lane(f"{a}->{b}", replace(imp), rng_ab, delay_slots, emit_idle, max_queue_cells, self)
        self.b_to_a = Lane(f"{b}->{a}", replace(imp), rng_ba, delay_slots, emit_idle, max_queue_cells, self)
        self.a.tx = self.b.rx = self.a_to_b
        self.b.tx = self.a.rx = self.b_to_a
        self.down_events = 0

    @property
    def lanes(self) -> tuple[Lane, Lane]:
        return self.a_to_b, self.b_to_a

    @property
    def now(self) -> int:
        """The slot both lanes have reached (the next one at least one of them transmits)."""
        a, b = self.a_to_b.now, self.b_to_a.now
        return a if a < b else b

    def advance(self, until: int) -> None:
        """Transmit every slot before ``until`` in both directions (each lane from its own now)."""
        if not isinstance(until, (int, np.integer)) or until < self.now:
            raise FieldError("until", until, f"an integer slot >= the link's current slot {self.now}")
        until = int(until)
        self.a_to_b.advance(until)
        self.b_to_a.advance(until)

    # -- taps --------------------------------------------------------------------------------------
    def add_tap(self, fn: Tap) -> None:
        """Call ``fn(direction, cells, slots)`` with the user cells each lane delivers from now on
        (see the module documentation)."""
        if not callable(fn):
            raise FieldError("fn", fn, "a callable fn(direction, cells, slots)")
        self._taps.append(fn)

    def remove_tap(self, fn: Tap) -> None:
        try:
            self._taps.remove(fn)
        except ValueError:
            raise FieldError("fn", fn, "a tap added with add_tap") from None

    @property
    def taps(self) -> tuple[Tap, ...]:
        return tuple(self._taps)

    # -- line state --------------------------------------------------------------------------------
    def set_impairments(self, impairments: Impairments, direction: str | None = None) -> None:
        """Change what the line does from each lane's current slot on, in one direction (a lane name
        such as "a->b") or both."""
        if not isinstance(impairments, Impairments):
            raise FieldError("impairments", impairments, "an Impairments")
        lanes = [lane for lane in self.lanes if direction is None or lane.name == direction]
        if not lanes:
            raise FieldError("direction", direction, " or ".join(lane.name for lane in self.lanes))
        for lane in lanes:
            lane.impairments = impairments

    def down(self) -> None:
        """Loss of signal from each lane's current slot on (both directions)."""
        if self.is_up:
            self.down_events += 1
        self.is_up = False

    def up(self) -> None:
        self.is_up = True

    @property
    def counters(self) -> dict[str, dict[str, int]]:
        return {lane.name: dict(lane.counters) for lane in self.lanes}

    def check_conservation(self) -> None:
        for lane in self.lanes:
            gap = lane.conservation_gap()
            if gap:
                raise AtmemuError(f"link {self.name} lane {lane.name}: {gap} cells unaccounted for")

    def __repr__(self) -> str:
        return f"<Link {self.name} {self.rate.name} slot {self.now} {'up' if self.is_up else 'DOWN'}>"
