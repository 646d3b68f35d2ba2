"""Typed errors of the scenario loader: every one names the file (when there is one) and the dotted key
path of what was wrong (``leaves[3].behaviour``, ``script[2].add_party.leaf``), and says what was
expected. The command line prints them as one line and exits with 2 (bad input).

    ScenarioError (hw.errors.AtmemuError)
    +-- ScenarioFileError        the file cannot be read (missing, a directory, too large)
    +-- ScenarioSyntaxError      not TOML: line and column (also a hw.errors.DecodeError)
    +-- ScenarioFieldError       a key or a value (also a hw.errors.FieldError: .field is the key path)
        +-- UnknownKeyError      a key the format does not have, with a "did you mean" suggestion
        +-- MissingKeyError      a required key left out
        +-- WrongTypeError       a string where a number is expected, ...
        +-- OutOfRangeError      a value outside its range or set of choices
        +-- ConsistencyError     values that do not fit together: a duplicate port, a leaf that does
            |                    not exist, an address another port serves
            +-- ScriptOrderError a script step where it cannot be (add_party before make_call, ...)
"""

from __future__ import annotations

import reprlib

from hw.errors import AtmemuError, DecodeError, FieldError

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = _repr.maxdict = _repr.maxtuple = 6
_repr.maxlevel = 3


def show(value: object) -> str:
    """A short repr of a value from a file (a fuzzed file may hold megabytes or deep nesting)."""
    return _repr.repr(value)


class ScenarioError(AtmemuError):
    """Base of the scenario loader's errors. ``source``: the file it came from, when known."""

    source: str | None = None

    def __str__(self) -> str:
        message = super().__str__()
        return f"{self.source}: {message}" if self.source else message


class ScenarioFileError(ScenarioError):
    """The scenario file cannot be read."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"scenario {path}: {reason}")


class ScenarioSyntaxError(ScenarioError, DecodeError):
    """The text is not TOML. ``line`` and ``column`` count from 1 (0 when the parser gave none);
    ``offset`` is the character offset of that position in the text."""

    def __init__(self, reason: str, line: int = 0, column: int = 0, offset: int = 0) -> None:
        DecodeError.__init__(self, "scenario TOML", offset, "syntax", reason)
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line else ""
        self.args = (f"{where}TOML syntax error: {reason}",)


class ScenarioFieldError(ScenarioError, FieldError):
    """A key or a value of the scenario. ``field`` (alias ``path``) is the dotted key path."""

    def __init__(self, path: str, value: object, expected: str, message: str | None = None) -> None:
        FieldError.__init__(self, path, value, expected)
        self.args = (message or f"{path}={show(value)}: expected {expected}",)

    @property
    def path(self) -> str:
        return self.field


class UnknownKeyError(ScenarioFieldError):
    """A key the scenario format does not have. ``suggestion``: the closest known key, or None;
    ``known``: the keys allowed at that place."""

    def __init__(self, path: str, key: str, known: tuple[str, ...], suggestion: str | None,
                 what: str = "key", expected: str | None = None) -> None:
        self.key = key
        self.known = tuple(known)
        self.suggestion = suggestion
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        if expected is None:
            expected = "one of " + ", ".join(known) if known else "no keys here"
        super().__init__(path, key, expected, f"{path}: unknown {what}{hint} (expected {expected})")


class MissingKeyError(ScenarioFieldError):
    """A required key is missing."""

    def __init__(self, path: str, expected: str) -> None:
        super().__init__(path, None, expected, f"{path}: missing; expected {expected}")


class WrongTypeError(ScenarioFieldError):
    """A value of the wrong TOML type."""

    def __init__(self, path: str, value: object, expected: str) -> None:
        self.got = type_name(value)
        super().__init__(path, value, expected, f"{path}={show(value)}: expected {expected}, got {self.got}")


class OutOfRangeError(ScenarioFieldError):
    """A value of the right type outside its range or its set of choices. ``suggestion``: for a
    misspelt choice, the closest one."""

    def __init__(self, path: str, value: object, expected: str, suggestion: str | None = None) -> None:
        self.suggestion = suggestion
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        super().__init__(path, value, expected, f"{path}={show(value)}: expected {expected}{hint}")


class ConsistencyError(ScenarioFieldError):
    """Values that are each fine but do not fit together."""


class ScriptOrderError(ConsistencyError):
    """A script step that cannot come where it is. ``step``: its index in the script; ``value``: the
    leaf the step names, or None when the whole step is out of place."""

    def __init__(self, path: str, value: object, expected: str, step: int) -> None:
        self.step = step
        shown = path if value is None else f"{path}={show(value)}"
        super().__init__(path, value, expected, f"{shown}: expected {expected}")


def type_name(value: object) -> str:
    """The TOML name of a parsed value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"  # date, time, datetime: TOML has them, the format does not
