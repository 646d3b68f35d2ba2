"""Typed errors of the UNI signalling layer (Q.2931 / Q.2971 messages and information elements).

A decode error names what was wrong and where (``offset`` in the input, ``field``), and says what a
receiver must do about it, as Q.2931 5.6 and 5.7 prescribe:

- ``cause``: the Q.2931 cause value (Q.2610) a network or user would answer with, or ``None`` when the
  message is simply ignored (bad protocol discriminator, message too short, bad call reference format);
- ``disposition``: a :class:`Disposition` (ignore, report STATUS, clear the call, or process the rest);
- ``clause``: the clause of Q.2931 that prescribes that handling.

Both decoders (the scapy definition and the fast codec) raise exactly these errors, with the same cause,
disposition and offset; tests hold them to it.
"""

from __future__ import annotations

from enum import IntEnum

from hw.errors import DecodeError, FieldError


class Disposition(IntEnum):
    """What a receiver does with a message it could not take as it came (Q.2931 5.6, 5.7).

    The numeric order is the order of precedence of Q.2931 5.7.2 when several problems call for different
    handling: the highest wins."""

    PROCEED = 1  #: discard the faulty IE and process the rest of the message (5.7.2 action 001)
    PROCEED_AND_REPORT = 2  #: process the rest, then answer STATUS with the cause (5.6.8)
    IGNORE = 3  #: discard the message, answer nothing (5.6.1 - 5.6.3, 5.7)
    REPORT = 4  #: discard the message and answer STATUS with the cause (5.6.4, 5.6.7)
    CLEAR = 5  #: clear the call with the cause (5.7 action "clear call")


class UniDecodeError(DecodeError):
    """Bytes that are not a valid Q.2931 message or information element."""

    def __init__(self, what: str, offset: int, field: str, reason: str, *, cause: int | None,
                 disposition: Disposition | None, clause: str) -> None:
        super().__init__(what, offset, field, reason)
        self.cause = cause
        self.disposition = disposition
        self.clause = clause

    def __str__(self) -> str:
        tail = f" -> cause {self.cause}" if self.cause is not None else ""
        disp = f", {self.disposition.name.lower()}" if self.disposition is not None else ""
        return f"{super().__str__()} ({self.clause}{tail}{disp})"


class MessageIgnored(UniDecodeError):
    """A frame the receiver must ignore without answering: wrong protocol discriminator (Q.2931 5.6.1),
    too short to hold a message header (5.6.2), or a malformed call reference (5.6.3.1)."""

    def __init__(self, offset: int, field: str, reason: str, clause: str) -> None:
        super().__init__("Q.2931 message", offset, field, reason, cause=None,
                         disposition=Disposition.IGNORE, clause=clause)


class UnknownMessageType(UniDecodeError):
    """A message type this implementation does not know: cause 97 (Q.2931 5.6.4), handled as the message
    compatibility instruction says (5.7.1)."""

    def __init__(self, message_type: int, disposition: Disposition) -> None:
        super().__init__("Q.2931 message", 5, "message_type", f"unknown message type 0x{message_type:02X}",
                         cause=97, disposition=disposition, clause="Q.2931 5.6.4, 5.7.1")
        self.message_type = message_type


class MessageLengthError(UniDecodeError):
    """The message length field disagrees with the octets received: cause 104 (Q.2931 5.6.5)."""

    def __init__(self, declared: int, actual: int) -> None:
        super().__init__("Q.2931 message", 7, "length",
                         f"message length says {declared} octets of IEs, {actual} received",
                         cause=104, disposition=Disposition.REPORT, clause="Q.2931 5.6.5")
        self.declared = declared
        self.actual = actual


class IEContentError(UniDecodeError):
    """An information element that cannot be taken as received: cause 100, invalid IE contents.

    Raised by the IE decoders (``disposition`` None: a lone IE has no message to act on) and by the message
    decoders, where ``disposition`` follows Q.2931 5.6.7.2 (mandatory IE: report), 5.6.8.2 (optional IE:
    proceed and report) or the IE's own action indicator (5.7.2). For a message, ``message`` holds the
    leniently decoded message (the faulty IEs kept as received) so a receiver told to proceed can, and
    ``problems`` lists every faulty IE found as ``(offset, field, reason, identifier)``."""

    def __init__(self, what: str, offset: int, field: str, reason: str, identifier: int, *,
                 disposition: Disposition | None = None, clause: str = "Q.2931 5.6.8.2",
                 mandatory: bool = False, message=None, problems=()) -> None:
        super().__init__(what, offset, field, reason, cause=100, disposition=disposition, clause=clause)
        self.identifier = identifier
        self.mandatory = mandatory
        self.message = message
        self.problems = tuple(problems)


class UniEncodeError(FieldError):
    """A value given to a builder or an encoder that the wire format cannot carry."""
