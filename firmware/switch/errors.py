"""Typed errors of the switch control plane and of the signalling interfaces it runs.

Two families:

* :class:`CallRefused` and its subclasses are *answers*, not faults: a call or a party the switch cannot
  carry (no route, no VPI/VCI, not enough cell rate). Each carries the Q.850/Q.2610 ``cause`` value the
  control plane puts into the RELEASE COMPLETE, RELEASE or ADD PARTY REJECT it sends back, and the
  clause of the standard the cause comes from. Tests and callers may also catch them directly from the
  routing, allocation and admission modules.
* The others are faults of the caller or of the configuration (a prefix given twice, freeing a VPI/VCI
  that was never allocated, a message the interface cannot build): they are raised and never answered
  on the wire.
"""

from __future__ import annotations

from hw.errors import AtmemuError, FieldError


class SwitchError(AtmemuError):
    """Base of every error of the switch control plane and the signalling interfaces."""


class SwitchConfigError(SwitchError, FieldError):
    """A switch configuration value that cannot be used: names the field, the value and what was expected."""


class CallRefused(SwitchError):
    """The switch cannot carry a call or party; ``cause`` is what it answers with (Q.850 / Q.2610)."""

    def __init__(self, cause: int, reason: str, clause: str) -> None:
        self.cause = cause
        self.reason = reason
        self.clause = clause
        super().__init__(f"cause {cause}: {reason} ({clause})")


class RoutingError(CallRefused):
    """No port serves the called party number: cause 1 (unallocated number: inside the switch's own
    numbering domain but assigned to no port), 3 (no route to destination: outside every prefix the
    switch knows) or 28 (invalid number format: a numbering plan the switch does not route)."""

    def __init__(self, cause: int, number: str, reason: str) -> None:
        self.number = number
        super().__init__(cause, f"called party number {number}: {reason}", "Q.850 (normal class causes 1, 3, 28)")


class AllocationError(CallRefused):
    """No VPI/VCI can be given on a port: cause 35 (requested VPCI/VCI not available)."""

    def __init__(self, port: int, reason: str, cause: int = 35) -> None:
        self.port = port
        super().__init__(cause, f"port {port}: {reason}", "Q.2931 5.1.2 / 5.2.3 (connection identifier)")


class AdmissionError(CallRefused):
    """Connection admission control refuses the cell rate: cause 37 (user cell rate not available)
    when a port would exceed its line rate, 73 (unsupported combination of traffic parameters) when
    the ATM traffic descriptor gives no peak cell rate to admit."""

    def __init__(self, cause: int, reason: str, port: int | None = None, direction: str | None = None) -> None:
        self.port = port
        self.direction = direction
        super().__init__(cause, reason, "I.371 (connection admission control); Q.2931 4.5.6")


class ResourceError(CallRefused):
    """The fabric's translation or leaf table is full: cause 47 (resources unavailable, unspecified)."""

    def __init__(self, reason: str) -> None:
        super().__init__(47, reason, "Q.850 (resource unavailable class)")


class BookkeepingError(SwitchError):
    """The caller broke the bookkeeping of a resource (freeing what was not taken, taking twice)."""


class FabricProgrammingError(SwitchError):
    """The fabric's tables, read back through its registers, are not what the control plane wrote."""


class InterfaceError(SwitchError):
    """A signalling interface was asked for something it cannot do (a message without the contents its
    builder needs, a request on a call that is gone)."""


class BalanceError(SwitchError):
    """The switch's counters do not balance (offered != ended + live): names every mismatch."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("counters do not balance: " + "; ".join(self.problems))
