"""Timer DPCs: the clock the MCM hands to the protocol code it hosts (SSCOP's timers, the Q.2931/Q.2971
timers T303, T308, T310, T397, T398, T399...).

On Windows a driver's timers are NDIS timer objects (NdisAllocateTimerObject, NdisSetTimerObject); their
callback runs as a DPC, at DISPATCH_LEVEL, and takes the adapter's spin lock like every other path into
the driver's state. :class:`TimerDpcClock` gives firmware.signalling_link and firmware.switch.interface
a clock whose events run that way: each callback is wrapped so that it runs at DISPATCH_LEVEL under the
MCM's lock (``enter``/``leave`` given by the MCM: lock, then after the callback unlock, ring the
doorbells and make the NDIS calls the callback queued). Everything else (now, slots(), the rate) is the
system clock's.

It is a :class:`hw.clock.Clock` by type (the protocol code checks that) but holds no events of its own.
"""

from __future__ import annotations

from typing import Any, Callable

from hw.clock import Clock, EventHandle, Timer


class TimerDpcClock(Clock):
    """A view of ``clock`` whose scheduled callbacks run as timer DPCs of the MCM."""

    def __init__(self, clock: Clock, run_as_dpc: Callable[[Callable[..., Any], tuple], None]) -> None:
        # no Clock.__init__: the state lives in the system clock this view forwards to
        self._system = clock
        self._run_as_dpc = run_as_dpc
        self.rate = clock.rate

    @property  # type: ignore[override]
    def now(self) -> int:
        return self._system.now

    @now.setter
    def now(self, value: int) -> None:  # pragma: no cover - only Clock.__init__ would set it
        raise AttributeError("TimerDpcClock: time belongs to the system clock")

    def schedule_at(self, time: int, callback: Callable[..., Any], *args: Any) -> EventHandle:
        return self._system.schedule_at(time, self._run_as_dpc, callback, args)

    def schedule_in(self, delay: int, callback: Callable[..., Any], *args: Any) -> EventHandle:
        return self._system.schedule_in(delay, self._run_as_dpc, callback, args)

    def timer(self, callback: Callable[..., Any], name: str = "") -> Timer:
        return Timer(self, callback, name)

    def slots(self, seconds: float) -> int:
        return self._system.slots(seconds)

    def seconds(self, slots: int | None = None) -> float:
        return self._system.seconds(slots)

    # the event queue is the system clock's: running it from here would be a driver running the OS
    def run_next(self) -> bool:  # pragma: no cover
        raise AttributeError("TimerDpcClock: the system clock runs the events")

    run_until = run_for = run_next  # type: ignore[assignment]

    @property
    def pending(self) -> int:
        return self._system.pending

    def peek(self) -> int | None:
        return self._system.peek()

    def __repr__(self) -> str:
        return f"<TimerDpcClock over {self._system!r}>"


__all__ = ["TimerDpcClock"]
