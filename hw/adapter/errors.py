"""Typed errors of the ATM network adapter model (hw/adapter).

Two families:

- *programming errors* of the driver, raised at the register write or host-memory call that made
  them (a ring enabled on memory that is not allocated, a VC header changed while the VC is enabled,
  a buffer freed twice...). Register-bus errors (unmapped offset, write to a read-only register) are
  the register framework's own :class:`hw.regs.UnmappedOffset` and :class:`hw.regs.AccessError`.
- *faults* the adapter meets while it works on its own (a DMA to an address no buffer covers, a
  descriptor between HEAD and TAIL that the driver never handed over). The adapter records every
  fault in its registers (STATUS.FAULT, FAULT_INFO, FAULT_ADDR), halts the ring and raises the FAULT
  interrupt, as hardware does; in strict mode (the default) it also raises the fault as an
  exception out of the clock event, so a driver bug stops the run at the slot where it happened.
"""

from __future__ import annotations

from hw.errors import AtmemuError, FieldError


class AdapterError(AtmemuError):
    """Base of the adapter's errors."""


class AdapterConfigError(AdapterError, FieldError):
    """A register value the adapter refuses (names the register field, the entry and what was
    expected); nothing is written."""


class HostMemoryError(AdapterError):
    """Base of the emulated host memory's errors."""


class OutOfHostMemory(HostMemoryError):
    """The allocator has no free range large enough."""

    def __init__(self, size: int, align: int, free: int, largest: int) -> None:
        self.size = size
        self.align = align
        super().__init__(
            f"host memory: cannot allocate {size} octets aligned to {align}: {free} octets free, "
            f"largest free range {largest}"
        )


class BadFree(HostMemoryError):
    """``free`` of an address that is not the start of a live allocation (double free, or an
    address inside a buffer)."""

    def __init__(self, address: int, reason: str) -> None:
        self.address = address
        super().__init__(f"host memory: free({address:#x}): {reason}")


class DmaError(HostMemoryError):
    """An access to host memory that no live allocation covers entirely.

    ``who`` is "cpu" for the driver's own accesses and "dma" for the adapter's; ``address`` and
    ``length`` are the access; ``reason`` says what was wrong (outside the arena, not allocated,
    crosses the end of a buffer)."""

    def __init__(self, who: str, op: str, address: int, length: int, reason: str) -> None:
        self.who = who
        self.op = op
        self.address = address
        self.length = length
        self.reason = reason
        super().__init__(f"{who} {op} of {length} octets at {address:#x}: {reason}")


class AdapterFault(AdapterError):
    """A fault the adapter met while working: recorded in FAULT_INFO / FAULT_ADDR, ring halted.

    ``code`` is the FAULT_INFO.CODE value, ``direction`` "tx" or "rx", ``ring`` the ring index,
    ``index`` the descriptor index, ``address`` the host address involved (or 0)."""

    code = 0

    def __init__(self, direction: str, ring: int, index: int, address: int, reason: str) -> None:
        self.direction = direction
        self.ring = ring
        self.index = index
        self.address = address
        self.reason = reason
        super().__init__(f"adapter fault on {direction} ring {ring}, descriptor {index}: {reason}")


class DmaFault(AdapterFault):
    """The adapter's DMA engine touched host memory that no live allocation covers."""

    code = 1


class DescriptorFault(AdapterFault):
    """A descriptor between HEAD and TAIL without its OWN bit: the driver advanced TAIL over a
    descriptor it had not handed to the adapter (or wrote it after the doorbell)."""

    code = 2


class InterruptStorm(AdapterError):
    """The interrupt line stayed asserted after the ISR returned, call after call: the ISR does not
    acknowledge (W1C) or mask the causes it is given. A level-triggered line would interrupt forever."""

    def __init__(self, calls: int, pending: int) -> None:
        self.calls = calls
        self.pending = pending
        super().__init__(
            f"interrupt storm: the line is still asserted after {calls} consecutive ISR calls "
            f"(INT_STATUS & INT_MASK = {pending:#x}); the ISR must clear (W1C) or mask what it handles"
        )


__all__ = [
    "AdapterError", "AdapterConfigError", "HostMemoryError", "OutOfHostMemory", "BadFree", "DmaError",
    "AdapterFault", "DmaFault", "DescriptorFault", "InterruptStorm",
]
