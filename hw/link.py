"""A physical link between two ports: one cell per slot each way, idle cells when there is nothing to
send, and injectable impairments (bit errors, cell loss, loss bursts, link down).

Like an HDL netlist, a link has two explicit ends, ports ``a`` and ``b``. Each direction is a
:class:`Lane` with its own transmit FIFO, impairments, random generator and counters. Time is the
clock's cell slot: :meth:`Link.advance` transmits the slots up to a given one in both directions,
taking one queued cell per slot, or inserting an idle cell (I.432.1 4.5.1, cell rate decoupling:
header 00 00 00 01, HEC 0x52, payload 0x6A) when the FIFO is empty. The far port then
:meth:`Port.receive` s the cells with their arrival slots (transmit slot + propagation delay).

Impairments, applied at transmission in this order, each counted:
- link down: every cell transmitted while down is lost (``cells_lost_down``); no idle cells are sent;
- loss bursts: a two-state (Gilbert) channel over slots; a burst starts in a slot with probability
  ``burst_start`` and lasts a geometric number of slots of mean ``burst_mean_slots``; cells in a
  burst are lost (``cells_lost_burst``);
- random loss: each cell independently with probability ``loss`` (``cells_lost_random``);
- bit errors: each of the 424 bits of every cell sent (header included, idle cells included when
  they are emitted) flips with probability ``ber``. Vectorised: the number of flipped bits over a
  block is drawn Binomial(bits, ber), then their positions without replacement.

Conservation, per lane: ``cells_offered == cells_delivered + cells_lost_random + cells_lost_burst +
cells_lost_down + cells_dropped_queue_full + cells_queued``. Results depend only on the seed and the
sequence of calls (same calls, same seed: same cells, same counters).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from hw.cell import CELL_OCTETS, IDLE_CELL as _IDLE_CELL_BYTES
from hw.errors import FieldError
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


def check_cells(cells, field: str = "cells") -> np.ndarray:
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


class Lane:
    """One direction of a link: transmit FIFO, impairments, counters, and the receive buffer of the
    far port."""

    def __init__(self, name: str, impairments: Impairments, rng: np.random.Generator, delay_slots: int,
                 emit_idle: bool, max_queue_cells: int) -> None:
        self.name = name
        self.impairments = impairments
        self.rng = rng
        self.delay_slots = delay_slots
        self.emit_idle = emit_idle
        self.max_queue_cells = max_queue_cells
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self._fifo: deque[np.ndarray] = deque()
        self._rx: deque[Delivery] = deque()
        self._in_burst = False
        self._run_left: int | None = None  # slots left in the current good or bad run (None: not drawn)

    # -- transmit side ---------------------------------------------------------------------------

    def offer(self, cells: np.ndarray) -> int:
        """Queue cells for transmission; returns how many were queued (the rest are counted as
        dropped because the FIFO is full)."""
        cells = check_cells(cells)
        c = self.counters
        n = cells.shape[0]
        room = max(0, self.max_queue_cells - c["cells_queued"])
        take = min(n, room)
        c["cells_offered"] += n
        c["cells_dropped_queue_full"] += n - take
        if take:
            self._fifo.append(cells[:take].copy())
            c["cells_queued"] += take
        return take

    def _dequeue(self, k: int) -> np.ndarray:
        parts, need = [], k
        while need:
            head = self._fifo[0]
            if head.shape[0] <= need:
                parts.append(self._fifo.popleft())
                need -= head.shape[0]
            else:
                parts.append(head[:need])
                self._fifo[0] = head[need:]
                need = 0
        self.counters["cells_queued"] -= k
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

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

    def transmit(self, start: int, m: int, up: bool) -> None:
        """Transmit slots ``start .. start + m - 1``."""
        if m <= 0:
            return
        c = self.counters
        k = min(m, c["cells_queued"])
        cells = self._dequeue(k) if k else np.zeros((0, CELL_OCTETS), np.uint8)
        c["slots"] += m
        if not up:
            c["slots_down"] += m
            c["cells_lost_down"] += k
            # the burst channel keeps running in time even while the link is down
            self._burst_mask(m)
            return
        slots = np.arange(start, start + k, dtype=np.int64)
        keep = np.ones(k, dtype=bool)
        burst = self._burst_mask(m)
        c["burst_slots"] += int(burst.sum())
        if k:
            in_burst = burst[:k]
            c["cells_lost_burst"] += int(in_burst.sum())
            keep &= ~in_burst
            if self.impairments.loss > 0.0:
                lost = (self.rng.random(k) < self.impairments.loss) & keep
                c["cells_lost_random"] += int(lost.sum())
                keep &= ~lost
        cells, slots = cells[keep], slots[keep]  # a fresh array: bits are never flipped in the sender's buffer
        idle_n = m - k
        c["idle_inserted"] += idle_n
        if self.emit_idle and idle_n:
            idle = np.broadcast_to(IDLE_CELL, (idle_n, CELL_OCTETS)).copy()
            block = np.concatenate([cells, idle])
            slots = np.concatenate([slots, np.arange(start + k, start + m, dtype=np.int64)])
            is_idle = np.zeros(block.shape[0], dtype=bool)
            is_idle[cells.shape[0]:] = True
        else:
            block, is_idle = cells, np.zeros(cells.shape[0], dtype=bool)
        hit = self._flip_bits(block)
        n_user = cells.shape[0]
        c["cells_errored"] += int(np.count_nonzero(hit < n_user))
        c["idle_errored"] += int(np.count_nonzero(hit >= n_user))
        c["cells_delivered"] += n_user
        if block.shape[0]:
            self._rx.append(Delivery(block, slots + self.delay_slots, is_idle))

    # -- receive side ----------------------------------------------------------------------------

    def take(self, until: int | None) -> Delivery:
        parts: list[Delivery] = []
        while self._rx:
            d = self._rx[0]
            if until is None or d.slots[-1] <= until:
                parts.append(self._rx.popleft())
                continue
            cut = int(np.searchsorted(d.slots, until, side="right"))
            if cut:
                parts.append(Delivery(d.cells[:cut], d.slots[:cut], d.idle[:cut]))
                self._rx[0] = Delivery(d.cells[cut:], d.slots[cut:], d.idle[cut:])
            break
        if not parts:
            return Delivery(np.zeros((0, CELL_OCTETS), np.uint8), np.zeros(0, np.int64), np.zeros(0, bool))
        if len(parts) == 1:
            return parts[0]
        return Delivery(np.concatenate([p.cells for p in parts]), np.concatenate([p.slots for p in parts]),
                        np.concatenate([p.idle for p in parts]))

    @property
    def rx_backlog(self) -> int:
        """Cells waiting in the far port's receive buffer."""
        return sum(len(d) for d in self._rx)

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

    def send(self, cells: np.ndarray, at: int | None = None) -> int:
        """Queue cells for transmission from this port (after advancing the link to slot ``at`` when
        given). They go out one per slot from the link's current slot on. Returns cells queued."""
        if at is not None:
            self.link.advance(at)
        return self.tx.offer(cells)

    def receive(self, until: int | None = None) -> Delivery:
        """Cells that arrived at this port by slot ``until`` (default: all transmitted so far)."""
        return self.rx.take(until)

    def __repr__(self) -> str:
        return f"<Port {self.link.name}.{self.name}>"


class Link:
    """A full-duplex link at a line rate between ports ``a`` and ``b``."""

    def __init__(self, rate: LineRate | str = "OC-3c", *, name: str = "link", a: str = "a", b: str = "b",
                 impairments: Impairments | None = None, delay_slots: int = 0, seed: int = 0,
                 emit_idle: bool = False, max_queue_cells: int = 1 << 20) -> None:
        self.rate = line_rate(rate)
        if not isinstance(delay_slots, int) or delay_slots < 0:
            raise FieldError("delay_slots", delay_slots, "an integer >= 0")
        if not isinstance(max_queue_cells, int) or max_queue_cells < 0:
            raise FieldError("max_queue_cells", max_queue_cells, "an integer >= 0")
        self.name = name
        self.now = 0  # next slot to transmit
        self.is_up = True
        imp = impairments or Impairments()
        rng_ab, rng_ba = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
        self.a, self.b = Port(self, a), Port(self, b)
        self.a_to_b = Lane(f"{a}->{b}", replace(imp), rng_ab, delay_slots, emit_idle, max_queue_cells)
        self.b_to_a = Lane(f"{b}->{a}", replace(imp), rng_ba, delay_slots, emit_idle, max_queue_cells)
        self.a.tx = self.b.rx = self.a_to_b
        self.b.tx = self.a.rx = self.b_to_a
        self.down_events = 0

    @property
    def lanes(self) -> tuple[Lane, Lane]:
        return self.a_to_b, self.b_to_a

    def advance(self, until: int) -> None:
        """Transmit every slot before ``until`` in both directions (slots now .. until - 1)."""
        if not isinstance(until, (int, np.integer)) or until < self.now:
            raise FieldError("until", until, f"an integer slot >= the link's current slot {self.now}")
        m = int(until) - self.now
        for lane in self.lanes:
            lane.transmit(self.now, m, self.is_up)
        self.now = int(until)

    def set_impairments(self, impairments: Impairments, direction: str | None = None) -> None:
        """Change what the line does from the current slot on, in one direction (a lane name such as
        "a->b") or both."""
        if not isinstance(impairments, Impairments):
            raise FieldError("impairments", impairments, "an Impairments")
        lanes = [lane for lane in self.lanes if direction is None or lane.name == direction]
        if not lanes:
            raise FieldError("direction", direction, " or ".join(lane.name for lane in self.lanes))
        for lane in lanes:
            lane.impairments = impairments

    def down(self) -> None:
        """Loss of signal from the current slot on (both directions)."""
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
                from hw.errors import AtmemuError

                raise AtmemuError(f"link {self.name} lane {lane.name}: {gap} cells unaccounted for")

    def __repr__(self) -> str:
        return f"<Link {self.name} {self.rate.name} slot {self.now} {'up' if self.is_up else 'DOWN'}>"
