"""The adapter's interrupt logic: cause register (W1C), mask, coalescing, and the interrupt line.

Causes set bits of INT_STATUS whatever the mask (a polling driver sees them). The line is a level:

    line = (INT_STATUS & INT_MASK & ~COMPLETION_CAUSES) != 0
           or (gate open and (INT_STATUS & INT_MASK & COMPLETION_CAUSES) != 0)

Coalescing holds back the completion causes (TX_DONE*, RX_DONE*) behind a gate. The gate opens when
COALESCE.MAX_FRAMES completions have been counted since it closed (0 or 1: at the first one), or
COALESCE.MAX_DELAY slots after the first of them (0: no timer); it closes, and the count restarts, when
the driver has cleared every completion cause in INT_STATUS. Error causes (RX_NO_DESC, RX_ERROR,
TX_ERROR, FAULT, LINK) bypass the gate. (MAX_FRAMES > 1 with MAX_DELAY = 0 can hold the last few
completions of a burst forever: that is what the timer is for, as on every NIC with coalescing.)

The driver connects its ISR with :meth:`InterruptLine.connect`. The line is level-triggered, as PCI
INTx: the ISR runs (synchronously, at the slot of the event that raised the line) when the line rises,
and again as long as the line is still up when it returns. An ISR must therefore clear (W1C) or mask
the causes it takes; one that leaves the line up call after call raises
:class:`hw.adapter.errors.InterruptStorm` after ``STORM_LIMIT`` calls instead of looping forever.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

import numpy as np

from hw.adapter.errors import InterruptStorm
from hw.adapter.registers import COMPLETION_CAUSES
from hw.clock import Clock, EventHandle

#: consecutive ISR calls with the line still up before InterruptStorm is raised
STORM_LIMIT = 64

LINE_BIT = 31
#: rising edges kept in InterruptLine.edges
EDGE_LOG = 1024


class InterruptLine:
    """INT_STATUS / INT_MASK / INT_PENDING (packed words shared with the register file), coalescing,
    and the line with the ISR connected to it."""

    def __init__(self, clock: Clock, status: np.ndarray, mask: np.ndarray, pending: np.ndarray,
                 max_frames: np.ndarray, max_delay: np.ndarray, count_edge: Callable[[], None]) -> None:
        self.clock = clock
        self.status = status  # uint32[1], INT_STATUS packed
        self.mask = mask  # uint32[1], INT_MASK packed
        self.pending = pending  # uint32[1], INT_PENDING packed (refreshed by refresh())
        self._max_frames = max_frames  # COALESCE.MAX_FRAMES backing array
        self._max_delay = max_delay
        # the same words as memoryviews: read and written as Python ints on the per-frame path
        self._st, self._mk, self._pd = memoryview(status), memoryview(mask), memoryview(pending)
        self._mf, self._md = memoryview(max_frames), memoryview(max_delay)
        self._count_edge = count_edge
        self._isr: Callable[[], object] | None = None
        self._in_isr = False
        self.level = False
        self.gate_open = False
        self.held = 0  # completions counted since the gate closed
        self._timer: EventHandle | None = None
        self.isr_calls = 0
        self.edges: deque[int] = deque(maxlen=EDGE_LOG)  # slots of the last rising edges (for traces)

    # -- driver side ---------------------------------------------------------------------------
    def connect(self, isr: Callable[[], object] | None) -> None:
        """Connect the driver's ISR (called with no argument); None disconnects it."""
        self._isr = isr
        self.update()

    # -- device side ---------------------------------------------------------------------------
    def cause(self, bit: int, completions: int = 0) -> None:
        """Set cause ``bit``; ``completions`` is how many descriptors it completes (for coalescing)."""
        self._st[0] |= 1 << bit
        if (1 << bit) & COMPLETION_CAUSES and not self.gate_open:
            first = self.held == 0
            self.held += max(1, completions)
            if self.held >= max(1, self._mf[0]):
                self._open()
            elif first and self._md[0] > 0:
                self._timer = self.clock.schedule_in(self._md[0], self._timeout)
        self.update()

    def _timeout(self) -> None:
        self._timer = None
        if self._st[0] & COMPLETION_CAUSES:
            self._open()
        self.update()

    def _open(self) -> None:
        self.gate_open = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def written(self) -> None:
        """INT_STATUS, INT_MASK or COALESCE was written: close the gate once every completion cause
        is acknowledged, and re-evaluate the line."""
        if not self._st[0] & COMPLETION_CAUSES:
            self.gate_open = False
            self.held = 0
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self.update()

    def reset(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self.gate_open = False
        self.held = 0
        self.level = False
        self.refresh()

    # -- the line ------------------------------------------------------------------------------
    def compute_level(self) -> bool:
        enabled = self._st[0] & self._mk[0]
        return bool(enabled & ~COMPLETION_CAUSES) or (self.gate_open and bool(enabled & COMPLETION_CAUSES))

    def refresh(self) -> None:
        self._pd[0] = (self._st[0] & self._mk[0]) | (int(self.level) << LINE_BIT)

    def update(self) -> None:
        level = self.compute_level()
        rising = level and not self.level
        self.level = level
        self.refresh()
        if rising:
            self._count_edge()
            self.edges.append(self.clock.now)
        if level and self._isr is not None and not self._in_isr:
            self._dispatch()

    def _dispatch(self) -> None:
        self._in_isr = True
        try:
            calls = 0
            while self.level and self._isr is not None:
                self._isr()
                self.isr_calls += 1
                calls += 1
                # the ISR's register writes re-evaluated the level (update() does not re-enter)
                if self.level and calls >= STORM_LIMIT:
                    raise InterruptStorm(calls, self._st[0] & self._mk[0])
        finally:
            self._in_isr = False


__all__ = ["InterruptLine", "STORM_LIMIT"]
