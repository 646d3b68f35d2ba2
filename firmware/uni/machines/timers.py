"""Timer durations of the UNI machines, in seconds of the virtual clock.

Defaults are the values of the project's reference (reference/atm-wire-formats.md), which are those of
Q.2931 / Q.2971 as FreeBSD's ngatm sets them. The machines never read a clock: a transition asks the
caller to start or stop a timer with a duration, and the caller feeds the expiry back as an event.

Retry counts: Q.2931 lets T303 (SETUP), T308 (RELEASE), T316 (RESTART) and T322 (STATUS ENQUIRY)
expire once with a retransmission and acts on the second expiry (Q.2931 5.1.1, 5.4.3, 5.5.1, 5.6.11;
ngatm's init303/init308/init316/init322 default to 2). The tables name these events ``T303#1`` and
``T303#2``; the caller only ever feeds ``T303``.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.uni.machines.errors import ParameterError

#: Timers whose first expiry retransmits and whose second expiry gives up.
COUNTED_TIMERS = ("T303", "T308", "T316", "T322")
#: How many expiries in a row the tables distinguish for a counted timer.
EXPIRIES = 2


@dataclass(frozen=True)
class Timers:
    """Durations in seconds. ``T399_user``/``T399_network``: Q.2971 gives the add-party timer a
    different default on each side of the interface (T303 + T310 of that side in ngatm)."""

    T303: float = 4.0
    T308: float = 30.0
    #: Q.2931 5.6.10 (table of network/user timers): an Active call waits this long for the signalling
    #: AAL to come back after a failure, then is cleared with cause 27. 10 s on both sides.
    T309: float = 10.0
    T310: float = 10.0
    T313: float = 4.0
    T316: float = 120.0
    T322: float = 4.0
    T397: float = 180.0
    T398: float = 4.0
    T399_user: float = 34.0
    T399_network: float = 14.0

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ParameterError(name, value, "a duration in seconds > 0")


DEFAULT_TIMERS = Timers()
