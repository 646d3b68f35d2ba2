"""Typed errors of the MCM driver. A real driver fails MiniportInitializeEx with an NDIS status when the
hardware is not what it expects; here that status rides on the error."""

from __future__ import annotations

from cm.ndis.status import NDIS_STATUS
from hw.errors import AtmemuError, FieldError


class McmError(AtmemuError):
    """Base of the MCM's errors."""


class McmHardwareError(McmError, FieldError):
    """The adapter answered something the driver cannot work with (an unknown ID, a ring it refused, a
    fault at initialisation). ``status`` is what MiniportInitializeEx would return."""

    status = NDIS_STATUS.FAILURE

    def __init__(self, field: str, value: object, expected: str) -> None:
        FieldError.__init__(self, field, value, expected)


class McmStateError(McmError):
    """A request the driver cannot take in its current state (the adapter halted, a VC without a
    connection identifier asked to send...)."""


__all__ = ["McmError", "McmHardwareError", "McmStateError"]
