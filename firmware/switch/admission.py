"""Connection admission control on peak cell rates (ITU-T I.371, connection admission control).

The rate a connection asks for is the peak cell rate of the ATM traffic descriptor IE (Q.2931 4.5.6):
the forward and backward PCR for CLP=0+1 (subfields 0x84/0x85), which every allowed combination of
traffic parameters carries. The switch commits rates per port and per direction:

* ``INGRESS``: cells the user sends into the port (the root's forward traffic enters on the root's port);
* ``EGRESS``: cells the switch sends out of the port (each branch of a point-to-multipoint call carries
  the root's forward traffic out of its leaf's port).

A demand is admitted when, on each (port, direction) it names, the committed rate plus the demand stays
within the port's capacity (its line rate in cells/s times its ``utilisation``); otherwise nothing is
committed and the answer is cause 37, "user cell rate not available" (Q.2610). A descriptor without a
forward PCR for CLP=0+1 is cause 73, "unsupported combination of traffic parameters".

Best effort (UBR, the best effort indicator 0xBE) guarantees no rate, so by default it commits none;
its PCR must still fit the line (a PCR above the line rate can never be carried: cause 37). With
``SwitchConfig.reserve_best_effort`` UBR is committed like any other category.

A point-to-multipoint connection (Q.2971) carries traffic from the root to the leaves only, so the
control plane admits the forward PCR and no backward rate for it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Hashable, Iterable

from firmware.switch.config import SwitchConfig
from firmware.switch.errors import AdmissionError, BookkeepingError
from firmware.uni.access import field
from firmware.uni.constants import TrafficSubfield

_FORWARD_PCR_01 = int(TrafficSubfield.FORWARD_PCR_CLP01)
_BACKWARD_PCR_01 = int(TrafficSubfield.BACKWARD_PCR_CLP01)
_BEST_EFFORT = int(TrafficSubfield.BEST_EFFORT)

INGRESS = "ingress"
EGRESS = "egress"
DIRECTIONS = (INGRESS, EGRESS)
#: Q.2610 cause 37, "user cell rate not available"; cause 73, "unsupported combination of traffic parameters".
CAUSE_CELL_RATE_NOT_AVAILABLE = 37
CAUSE_UNSUPPORTED_TRAFFIC = 73


@dataclass(frozen=True)
class CellRates:
    """What a call asks for, in cells/s (Q.2931 4.5.6)."""

    forward_pcr: int
    backward_pcr: int = 0
    best_effort: bool = False

    @classmethod
    def from_traffic_descriptor(cls, ie) -> CellRates:
        """From an ATM traffic descriptor element (fast-codec or scapy: its ``subfields`` pairs)."""
        if ie is None:
            raise AdmissionError(CAUSE_UNSUPPORTED_TRAFFIC, "no ATM traffic descriptor")
        subfields = field(ie, "subfields") or ()
        forward = backward = None
        best_effort = False
        for ident, value in subfields:
            if ident == _FORWARD_PCR_01 and forward is None:
                forward = value
            elif ident == _BACKWARD_PCR_01 and backward is None:
                backward = value
            elif ident == _BEST_EFFORT:
                best_effort = True
        if forward is None:
            raise AdmissionError(CAUSE_UNSUPPORTED_TRAFFIC, "the ATM traffic descriptor has no forward peak cell "
                                 "rate for CLP=0+1 (Q.2931 4.5.6: present in every allowed combination)")
        return cls(int(forward), int(backward or 0), best_effort)


@dataclass(frozen=True)
class Demand:
    """``rate`` cells/s on ``port`` in ``direction``."""

    port: int
    direction: str
    rate: int


class Admission:
    """Committed cell rates per port and direction; reservations are all-or-nothing and keyed."""

    def __init__(self, config: SwitchConfig) -> None:
        self.capacity = [p.capacity for p in config.ports]
        self.reserve_best_effort = config.reserve_best_effort
        self.committed: dict[tuple[int, str], int] = {(p, d): 0 for p in range(len(self.capacity)) for d in DIRECTIONS}
        self.reservations: dict[Hashable, tuple[Demand, ...]] = {}
        self.admitted = 0
        self.released = 0
        self.refused: Counter[int] = Counter()   # cause -> refusals

    def available(self, port: int, direction: str) -> int:
        return self.capacity[port] - self.committed[(port, direction)]

    def reserve(self, key: Hashable, rates: CellRates, legs: Iterable[tuple[int, str, str]]) -> tuple[Demand, ...]:
        """Commit ``rates`` on ``legs``, each (port, direction, "forward" | "backward"): which PCR of the
        call that leg carries. Raises :class:`AdmissionError` (cause 37) and commits nothing when one leg
        would exceed its port's capacity."""
        if key in self.reservations:
            raise BookkeepingError(f"admission: reservation {key!r} made twice")
        demands = []
        for port, direction, which in legs:
            if direction not in DIRECTIONS or which not in ("forward", "backward"):
                raise BookkeepingError(f"admission: leg {(port, direction, which)!r} is not "
                                       "(port, ingress|egress, forward|backward)")
            if not 0 <= port < len(self.capacity):
                raise BookkeepingError(f"admission: no port {port}")
            pcr = rates.forward_pcr if which == "forward" else rates.backward_pcr
            if pcr > self.capacity[port]:
                self._refuse(f"port {port} {direction}: peak cell rate {pcr} cells/s exceeds the port's "
                             f"capacity of {self.capacity[port]} cells/s", port, direction)
            committed = 0 if rates.best_effort and not self.reserve_best_effort else pcr
            if committed > self.available(port, direction):
                self._refuse(f"port {port} {direction}: {committed} cells/s asked, {self.available(port, direction)} "
                             f"of {self.capacity[port]} left", port, direction)
            demands.append(Demand(port, direction, committed))
        for d in demands:
            self.committed[(d.port, d.direction)] += d.rate
        self.reservations[key] = tuple(demands)
        self.admitted += 1
        return tuple(demands)

    def release(self, key: Hashable) -> tuple[Demand, ...]:
        demands = self.reservations.pop(key, None)
        if demands is None:
            raise BookkeepingError(f"admission: reservation {key!r} released but not held")
        for d in demands:
            self.committed[(d.port, d.direction)] -= d.rate
        self.released += 1
        return demands

    def committed_total(self) -> int:
        return sum(self.committed.values())

    def _refuse(self, reason: str, port: int, direction: str) -> None:
        self.refused[CAUSE_CELL_RATE_NOT_AVAILABLE] += 1
        raise AdmissionError(CAUSE_CELL_RATE_NOT_AVAILABLE, reason, port, direction)
