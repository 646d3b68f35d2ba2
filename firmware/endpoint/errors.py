"""Typed errors of the emulated endpoints (root and leaves)."""

from __future__ import annotations

from hw.errors import AtmemuError, FieldError


class EndpointError(AtmemuError):
    """An endpoint was asked for something its state does not allow (adding a party to a call that is
    not active, sending data on a call with no connection identifier yet...)."""


class BehaviourError(EndpointError, FieldError):
    """A leaf behaviour with a value that cannot be used (a negative delay, a cause outside 1..127)."""
