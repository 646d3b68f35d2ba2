"""Typed errors shared by every layer of atmemu.

Each layer derives its own errors from these bases, so a caller can catch one layer's errors, or every
atmemu error at once (the command line turns ``AtmemuError`` into a one-line message and exit code 2).
An error says what was wrong and where: the field, and the offset in the input when there is one.
"""

from __future__ import annotations


class AtmemuError(Exception):
    """Base of every error atmemu raises on purpose."""


class FieldError(AtmemuError, ValueError):
    """A value given for a named field is out of range or of the wrong kind."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}={value!r}: expected {expected}")


class DecodeError(AtmemuError, ValueError):
    """Bytes that cannot be decoded: names the offset, the field and what was wrong."""

    def __init__(self, what: str, offset: int, field: str, reason: str) -> None:
        self.what = what
        self.offset = offset
        self.field = field
        self.reason = reason
        super().__init__(f"{what}: at offset {offset}, field {field}: {reason}")
