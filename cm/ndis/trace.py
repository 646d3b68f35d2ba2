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


#: Code of the drivers' deferred-call dispatchers (see :func:`dispatcher`), and the call sites of the
#: deferred calls they are running (innermost last).
_DISPATCHERS: set = set()
_ORIGINS: list[Location] = []


def dispatcher(function: Callable) -> Callable:
    """Mark a driver function that makes NDIS calls queued earlier (a driver never calls NDIS holding
    its own lock: it queues the call and makes it after the release). An NDIS call made from it is
    reported at the place it was queued - given to :func:`origin` by the dispatcher - not at the
    dispatcher's loop."""
    _DISPATCHERS.add(getattr(function, "__func__", function).__code__)
    return function


def call_site(skip: int = 1) -> Location:
    """Where the caller of the function calling this was (``skip`` more frames up): what a driver
    records when it queues an NDIS call."""
    frame = sys._getframe(skip + 1)
    return Location(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_qualname)


def push_origin(location: Location) -> None:
    """A dispatcher starts running a deferred call queued at ``location``."""
    _ORIGINS.append(location)


def pop_origin() -> None:
    _ORIGINS.pop()


def caller_location(skip: int = 1) -> Location:
    """The innermost stack frame outside the NDIS model (cm/ndis) and the rule checker (cm/rules); when
    that frame is a driver's dispatcher of deferred calls, the place the call was queued."""
    frame = sys._getframe(skip)
    machinery = _MACHINERY_CODE
    while frame is not None:
        code = frame.f_code
        inside = machinery.get(code)
        if inside is None:
            if len(machinery) >= _LOCATIONS_KEPT:
                machinery.clear()
            inside = machinery[code] = code.co_filename.startswith(MACHINERY_DIRS)
        if not inside:
            if _ORIGINS and code in _DISPATCHERS:
                return _ORIGINS[-1]
            key = (code, frame.f_lineno)
            where = _LOCATIONS.get(key)
            if where is None:
                if len(_LOCATIONS) >= _LOCATIONS_KEPT:
                    _LOCATIONS.clear()
                where = _LOCATIONS[key] = Location(code.co_filename, frame.f_lineno, code.co_qualname)
            return where
        frame = frame.f_back
    return UNKNOWN


#: per code object: whether it belongs to the machinery (cm/ndis, cm/rules); and the Location of each
#: (code, line) met, as every NDIS call asks for its caller's (bounded: cleared when full)
_MACHINERY_CODE: dict = {}
_LOCATIONS: dict = {}
_LOCATIONS_KEPT = 4096


def handler_location(handler: Callable) -> Location:
    """Where a driver's handler function is defined (for a violation found when the handler returns)."""
    func = getattr(handler, "__func__", handler)
    code = getattr(func, "__code__", None)
    if code is None:
        return Location("<builtin>", 0, getattr(handler, "__qualname__", repr(handler)))
    return Location(code.co_filename, code.co_firstlineno, code.co_qualname)
