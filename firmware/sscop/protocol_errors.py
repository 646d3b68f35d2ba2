"""Typed errors of the SSCOP protocol machine (ITU-T Q.2110).

The wire-format errors of the layer (undecodable bytes, encoder fields out of range) live in
``firmware.sscop.errors``; these are the errors of the *protocol*, under the same base
:class:`~firmware.sscop.errors.SSCOPError` (``except SSCOPError`` catches every error of the layer):
an event the connection-control table does not allow in the current state, a timer expiry for a timer that is not running, a bad
parameter set, a bad field in a neutral :class:`~firmware.sscop.events.SSCOPPdu` or user request.

Every error raised by :class:`~firmware.sscop.machine.SSCOPMachine` leaves the machine exactly as it
was before the call (state, state variables, buffers, running timers).

Received PDUs are never rejected with an exception for being unexpected: Q.2110 8.2 prescribes a
reaction (ignore, MAA-ERROR, END...) for every PDU in every state, and the table encodes it.
"""

from __future__ import annotations

from typing import Any

from firmware.sscop.errors import SSCOPError
from hw.errors import FieldError


class SSCOPProtocolError(SSCOPError):
    """An event that the SSCOP state table does not allow in the current state.

    ``state`` and ``event`` are the table's :class:`~firmware.sscop.states.State` and
    :class:`~firmware.sscop.states.Event`; ``reason`` says why the pair is illegal (the Q.2110 clause).
    """

    def __init__(self, state: Any, event: Any, reason: str = "") -> None:
        self.state = state
        self.event = event
        self.reason = reason
        state_text = f"{int(state)} {state.label}" if hasattr(state, "label") else str(state)
        event_text = getattr(event, "value", event)
        message = f"SSCOP: {event_text} is not allowed in state {state_text}"
        if reason:
            message += f": {reason}"
        super().__init__(message)


class SSCOPTimerError(SSCOPProtocolError):
    """A timer expiry was delivered for a timer the machine had not started (or had stopped).

    The caller maps StartTimer/StopTimer onto its clock; an expiry of a timer that is not running
    means the caller did not cancel it (7.6: a stopped timer does not expire)."""


class SSCOPValueError(SSCOPError, FieldError):
    """A field of a neutral SSCOP PDU, a user request or a parameter set is out of range.

    (Named apart from ``firmware.sscop.errors.SSCOPFieldError``, the encoder's error.)"""
