"""The virtual clock: time in cell slots, and an event queue of (time, order, callback).

One clock drives the whole emulation (DESIGN.md, "Time"). Time is an integer count of cell slots at a
line rate (hw.rates); control-plane work and protocol timers (T398, T399, SSCOP's timers...) are events.
Events due at the same slot run in the order they were scheduled, so a run is reproducible.

Timers are cancelled and restarted far more often than they fire, so cancelling is O(1): the entry
stays in the heap marked dead and is skipped when it surfaces; when dead entries outnumber live ones
the heap is rebuilt, so memory stays within twice the live events (plus a small constant).
"""

from __future__ import annotations

import heapq
from heapq import heappop, heappush
from typing import Any, Callable

import numpy as np

from hw.errors import FieldError
from hw.rates import LineRate, rate as line_rate

#: Dead entries tolerated before a rebuild is considered (the rebuild also needs dead > live).
COMPACT_MIN_DEAD = 64


def _slot(value: Any) -> int | None:
    """``value`` as an int when it is an integer (Python or numpy, not bool), else None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return None


class EventHandle:
    """A scheduled event; :meth:`cancel` it before it runs, at O(1) cost."""

    __slots__ = ("time", "order", "callback", "args", "_clock")

    def __init__(self, clock: "Clock", time: int, order: int, callback: Callable[..., Any], args: tuple) -> None:
        self.time = time
        self.order = order
        self.callback: Callable[..., Any] | None = callback
        self.args = args
        self._clock = clock

    @property
    def active(self) -> bool:
        """Scheduled and not yet run or cancelled."""
        return self.callback is not None

    def cancel(self) -> bool:
        """Cancel the event; False when it had already run or been cancelled."""
        if self.callback is None:
            return False
        self.callback = None
        self.args = ()
        self._clock._dead += 1
        self._clock.events_cancelled += 1
        self._clock._maybe_compact()
        return True

    def __repr__(self) -> str:
        state = "active" if self.active else "done"
        return f"<EventHandle t={self.time} #{self.order} {state}>"


class Clock:
    """Virtual time in cell slots. ``rate`` (a LineRate or its name) is only needed to convert to and
    from seconds."""

    def __init__(self, rate: LineRate | str | None = None, *, start: int = 0) -> None:
        self.rate = None if rate is None else line_rate(rate)
        self.now = int(start)
        self._heap: list[tuple[int, int, EventHandle]] = []
        self._order = 0
        self._dead = 0
        self.events_run = 0
        self.events_cancelled = 0

    # -- scheduling ------------------------------------------------------------------------------

    def schedule_at(self, time: int, callback: Callable[..., Any], *args: Any) -> EventHandle:
        """Run ``callback(*args)`` at slot ``time`` (not before now)."""
        if time.__class__ is not int:
            t = _slot(time)
            if t is None:
                raise FieldError("time", time, "an integer cell slot")
            time = t
        if time < self.now:
            raise FieldError("time", time, f">= now ({self.now}): events cannot be scheduled in the past")
        if not callable(callback):
            raise FieldError("callback", callback, "a callable")
        order = self._order
        handle = EventHandle(self, time, order, callback, args)
        heappush(self._heap, (time, order, handle))
        self._order = order + 1
        return handle

    def schedule_in(self, delay: int, callback: Callable[..., Any], *args: Any) -> EventHandle:
        """Run ``callback(*args)`` ``delay`` slots from now (delay >= 0)."""
        if delay.__class__ is not int:
            d = _slot(delay)
            if d is None:
                raise FieldError("delay", delay, "an integer number of slots >= 0")
            delay = d
        if delay < 0:
            raise FieldError("delay", delay, "an integer number of slots >= 0")
        return self.schedule_at(self.now + delay, callback, *args)

    def timer(self, callback: Callable[..., Any], name: str = "") -> "Timer":
        return Timer(self, callback, name)

    # -- running ---------------------------------------------------------------------------------

    def _drop_dead_head(self) -> None:
        heap = self._heap
        while heap and heap[0][2].callback is None:
            heappop(heap)
            self._dead -= 1

    def peek(self) -> int | None:
        """Slot of the next live event, or None when nothing is scheduled."""
        heap = self._heap
        if heap and heap[0][2].callback is not None:
            return heap[0][0]
        self._drop_dead_head()
        return heap[0][0] if heap else None

    def run_next(self) -> bool:
        """Advance to the next live event and run it; False (time unchanged) when there is none."""
        heap = self._heap
        if not heap or heap[0][2].callback is None:
            self._drop_dead_head()
            if not heap:
                return False
        time, _, handle = heappop(heap)
        callback, args = handle.callback, handle.args
        handle.callback = None
        handle.args = ()
        self.now = time
        self.events_run += 1
        callback(*args)
        return True

    def run_until(self, slot: int) -> int:
        """Run every event due at or before ``slot`` (including those the callbacks schedule within
        that span), then set now = ``slot``. Returns the number of events run."""
        s = _slot(slot)
        if s is None or s < self.now:
            raise FieldError("slot", slot, f"an integer cell slot >= now ({self.now})")
        slot = s
        ran = 0
        while True:
            t = self.peek()
            if t is None or t > slot:
                break
            self.run_next()
            ran += 1
        self.now = slot
        return ran

    def run_for(self, slots: int) -> int:
        """:meth:`run_until` ``now + slots``."""
        return self.run_until(self.now + slots)

    @property
    def pending(self) -> int:
        """Live (scheduled, not cancelled) events."""
        return len(self._heap) - self._dead

    @property
    def queue_size(self) -> int:
        """Heap entries, dead ones included (at most about twice :attr:`pending`)."""
        return len(self._heap)

    def _maybe_compact(self) -> None:
        if self._dead > COMPACT_MIN_DEAD and self._dead * 2 > len(self._heap):
            heap = self._heap  # compacted in place: the heap list is one object for the clock's life
            heap[:] = [e for e in heap if e[2].callback is not None]
            heapq.heapify(heap)
            self._dead = 0

    # -- seconds ---------------------------------------------------------------------------------

    def _need_rate(self) -> LineRate:
        if self.rate is None:
            raise FieldError("rate", None, "a line rate given to the Clock to convert seconds")
        return self.rate

    def seconds(self, slots: int | None = None) -> float:
        """``slots`` (default: now) in seconds at the clock's line rate."""
        return self._need_rate().slots_to_seconds(self.now if slots is None else slots)

    def slots(self, seconds: float) -> int:
        """Whole slots in ``seconds`` (rounded up: a timer never fires before its time)."""
        return self._need_rate().seconds_to_slots(seconds)


class Timer:
    """A restartable protocol timer on a clock (start restarts it; stop cancels it). The callback
    gets no arguments."""

    __slots__ = ("clock", "callback", "name", "_handle", "expiries")

    def __init__(self, clock: Clock, callback: Callable[[], Any], name: str = "") -> None:
        self.clock = clock
        self.callback = callback
        self.name = name
        self._handle: EventHandle | None = None
        self.expiries = 0

    def _fire(self) -> None:
        self._handle = None
        self.expiries += 1
        self.callback()

    def start(self, delay: int) -> None:
        """(Re)start: expire ``delay`` slots from now, cancelling a running instance."""
        self.stop()
        self._handle = self.clock.schedule_in(delay, self._fire)

    def start_seconds(self, seconds: float) -> None:
        self.start(self.clock.slots(seconds))

    def stop(self) -> bool:
        """Cancel; True when it was running."""
        handle, self._handle = self._handle, None
        return handle.cancel() if handle is not None else False

    @property
    def running(self) -> bool:
        return self._handle is not None and self._handle.active

    @property
    def expires_at(self) -> int | None:
        return self._handle.time if self.running else None

    def __repr__(self) -> str:
        return f"<Timer {self.name or hex(id(self))} {'expires at ' + str(self.expires_at) if self.running else 'stopped'}>"
