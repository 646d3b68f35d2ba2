"""Typed errors of the UNI call, party and restart state machines (Q.2931, Q.2971).

A peer's message that is not allowed in the current state is *not* an error of this layer: the
machine answers it the way the standard says (STATUS with cause 101, RELEASE COMPLETE with cause 81,
DROP PARTY ACKNOWLEDGE with cause 89 ...) and returns that answer. The errors here are for what the
local side got wrong:

* :class:`UNIProtocolError` - a primitive from the local user, a timer expiry or a signal between
  machines that the table does not allow in the current state. The machine's state is unchanged.
* :class:`UnknownEventError` - an event name that is not in the machine's vocabulary at all.
* :class:`TableError` - a transition table that is malformed (duplicate row, unknown state or event).
* :class:`ParameterError` - an event parameter of the wrong kind (a cause outside 0..127, say).
"""

from __future__ import annotations

from hw.errors import AtmemuError, FieldError

#: Q.850/Q.2610 cause 101, "message not compatible with call state".
CAUSE_MESSAGE_NOT_COMPATIBLE = 101


class UNIError(AtmemuError):
    """Base of every error of the UNI state machines."""


class UNIProtocolError(UNIError):
    """An event that the machine's table does not allow in its current state; the state is unchanged.

    ``cause`` is the Q.850 cause value that describes the fault (101 "message not compatible with
    call state" unless said otherwise); ``reason`` says what was wrong in words."""

    def __init__(self, machine: str, state: str, event: str, cause: int = CAUSE_MESSAGE_NOT_COMPATIBLE,
                 reason: str = "not allowed in this state") -> None:
        self.machine = machine
        self.state = state
        self.event = event
        self.cause = cause
        self.reason = reason
        super().__init__(f"{machine}: event {event!r} in state {state}: {reason} (cause {cause})")


class UnknownEventError(UNIProtocolError):
    """An event name the machine does not know (not a message, primitive, timer or signal of it)."""

    def __init__(self, machine: str, state: str, event: str) -> None:
        super().__init__(machine, state, event, cause=97, reason="unknown event for this machine")


class TableError(UNIError):
    """A transition table that cannot be used: names what is wrong and in which row."""

    def __init__(self, table: str, reason: str) -> None:
        self.table = table
        self.reason = reason
        super().__init__(f"table {table}: {reason}")


class ParameterError(UNIError, FieldError):
    """An event parameter that is out of range or of the wrong kind."""
