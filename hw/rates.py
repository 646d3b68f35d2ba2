"""Line rates of ATM over SONET/SDH, as data.

ATM cells fill the SONET/SDH payload (ITU-T I.432.1 / ATM Forum af-phy-0016/0046): cells per second =
payload bit rate / 424 bits, the figures of reference/atm-wire-formats.md ("Line rates"). One cell slot
is the time of one cell at the rate: the unit of the virtual clock (hw.clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from hw.errors import FieldError

CELL_BITS = 53 * 8


@dataclass(frozen=True)
class LineRate:
    name: str
    line_bps: int  # the SONET/SDH line rate
    payload_bps: int  # bits per second available to cells (SPE/VC-4-Nc payload)
    cells_per_second: int  # payload_bps / 424, rounded as in the reference
    aliases: tuple[str, ...] = ()

    @property
    def cell_time(self) -> float:
        """Seconds per cell slot."""
        return 1.0 / self.cells_per_second

    @property
    def cell_time_ns(self) -> float:
        return 1e9 / self.cells_per_second

    def slots_to_seconds(self, slots: int | float) -> float:
        return slots / self.cells_per_second

    def seconds_to_slots(self, seconds: float, *, rounding: str = "ceil") -> int:
        """Cell slots in ``seconds``. ``rounding``: "ceil" (default; a timer never fires early),
        "floor" or "nearest"."""
        if seconds < 0:
            raise FieldError("seconds", seconds, ">= 0")
        if isinstance(seconds, float):
            seconds = float(seconds)  # numpy's float64 is a float whose repr is not a plain decimal
        return _seconds_to_slots(self.cells_per_second, seconds, rounding)


@lru_cache(maxsize=1024, typed=True)
def _seconds_to_slots(cells_per_second: int, seconds: float, rounding: str) -> int:
    """:meth:`LineRate.seconds_to_slots`, exact and remembered: timers ask for the same few durations
    again and again, and the exact arithmetic costs microseconds. ``typed``: 0.001 and Fraction(0.001),
    equal as numbers, are different durations here (the decimal vs the binary value)."""
    # a float is taken as the decimal it prints as (4.0, 0.001), so 1 ms at 1000 cells/s is 1 slot
    exact = (Fraction(repr(seconds)) if isinstance(seconds, float) else Fraction(seconds)) * cells_per_second
    if rounding == "ceil":
        return -((-exact.numerator) // exact.denominator)
    if rounding == "floor":
        return exact.numerator // exact.denominator
    if rounding == "nearest":
        return round(exact)
    raise FieldError("rounding", rounding, "'ceil', 'floor' or 'nearest'")


# reference/atm-wire-formats.md, "Line rates": OC-3c/STM-1 149.76 Mb/s payload -> 353,208 cells/s, ...
OC3C = LineRate("OC-3c", 155_520_000, 149_760_000, 353_208, ("STM-1", "OC3", "STS-3c"))
OC12C = LineRate("OC-12c", 622_080_000, 599_040_000, 1_412_830, ("STM-4c", "OC12", "STS-12c"))
OC48C = LineRate("OC-48c", 2_488_320_000, 2_396_160_000, 5_651_321, ("STM-16c", "OC48", "STS-48c"))
OC192C = LineRate("OC-192c", 9_953_280_000, 9_584_640_000, 22_605_283, ("STM-64c", "OC192", "STS-192c"))

RATES: tuple[LineRate, ...] = (OC3C, OC12C, OC48C, OC192C)


def _norm(name: str) -> str:
    return name.replace("-", "").replace("_", "").replace(" ", "").lower()


_BY_NAME = {_norm(n): r for r in RATES for n in (r.name, *r.aliases)}


def rate(name: str | LineRate) -> LineRate:
    """The line rate called ``name`` (case, dashes and spaces ignored: "OC-3c", "oc3", "STM-1");
    a LineRate is returned as is. Unknown names raise a FieldError listing the known ones."""
    if isinstance(name, LineRate):
        return name
    if isinstance(name, str):
        found = _BY_NAME.get(_norm(name))
        if found is not None:
            return found
    raise FieldError("line rate", name, "one of " + ", ".join(r.name for r in RATES))
