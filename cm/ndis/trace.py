"""Where in a driver an NDIS call came from: the first stack frame outside the NDIS model and the rule
checker, so that a violation names the driver's file and line, not the dispatcher's."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable

_CM_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Frames in these directories belong to the machinery, not to a driver.
MACHINERY_DIRS = (os.path.join(_CM_DIR, "ndis") + os.sep, os.path.join(_CM_DIR, "rules") + os.sep)


@dataclass(frozen=True, slots=True)
class Location:
    """A place in driver code: file, line and function name."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{_short(self.file)}:{self.line} in {self.function}"


UNKNOWN = Location("<unknown>", 0, "<unknown>")


def _short(path: str) -> str:
    """The path relative to the current directory when it lies below it (shorter reports)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def caller_location(skip: int = 1) -> Location:
    """The innermost stack frame outside the NDIS model (cm/ndis) and the rule checker (cm/rules)."""
    frame = sys._getframe(skip)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(MACHINERY_DIRS):
            return Location(filename, frame.f_lineno, frame.f_code.co_qualname)
        frame = frame.f_back
    return UNKNOWN


def handler_location(handler: Callable) -> Location:
    """Where a driver's handler function is defined (for a violation found when the handler returns)."""
    func = getattr(handler, "__func__", handler)
    code = getattr(func, "__code__", None)
    if code is None:
        return Location("<builtin>", 0, getattr(handler, "__qualname__", repr(handler)))
    return Location(code.co_filename, code.co_firstlineno, code.co_qualname)
