"""Per-VC traffic shaping with the GCRA, and the cell scheduler that puts the VCs' cells on the slots.

GCRA (ITU-T I.371 clause 7.2.2 / Annex A, ATM Forum TM 4.0 clause 4.4.3): the *virtual scheduling
algorithm* keeps a theoretical arrival time TAT. A cell at time t conforms to GCRA(T, tau) when
TAT <= t + tau; a conforming cell sets TAT = max(TAT, t) + T; a non-conforming cell leaves TAT
unchanged. :meth:`Gcra.police` is that algorithm as a policer (UPC) applies it to arrivals.

A shaper does the converse: it gives each cell the earliest instant at which it conforms. On a
slotted line that instant must become a whole slot, and T = 1/PCR = R/PCR slots (R the line's cells/s)
is rarely an integer. The shaper sends the cell in the first slot t >= TAT - tau
(:meth:`Gcra.earliest`) and accounts it at its conforming instant TAT - tau when that instant lies in
the slot's quantization interval (t - 1, t], else at t (the cell was held longer, by an idle VC or
by other VCs): :meth:`Gcra.shape`. So the k-th cell of a VC sending alone at the PCR leaves in slot
ceil(t0 + k T): the spacing equals 1/PCR within a slot, with no drift, and the average rate is the
PCR exactly. Seen by a policer that timestamps cells at slot starts, the stream conforms to
GCRA(T, CDVT + 1 slot) (cells are late by less than a slot), and to GCRA(T, CDVT) when T is an integer:
the extra slot is the line's quantization, which the CDVT of a connection must cover (TM 4.0 4.4.3).
TAT is kept exactly, as an integer count of 1/scale slot where scale is the common denominator of T
and tau: no rounding however long the VC runs.

VBR adds a second GCRA on the sustainable rate (TM 4.0 4.4.3.2): GCRA(Ts = 1/SCR,
tau_s = (MBS - 1)(Ts - T) + CDVT). A cell goes when it conforms to both.

The scheduler serves, in every slot, one VC whose next cell conforms: the highest service category
first (CBR, then VBR, ABR, UBR), round robin inside a category (the VC served longest ago first). A
slot in which no VC conforms stays empty (the PHY sends an idle cell). ABR is shaped at its PCR: the
ABR source behaviour of TM 4.0 (RM cells, ACR) is not modelled.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm
from typing import Iterable

from hw.errors import FieldError

#: scheduling priority of each service category value (registers.SERVICE_VALUES): lower goes first
PRIORITY = {1: 0, 2: 1, 8: 2, 4: 3}


def _rational(name: str, value) -> Fraction:
    try:
        f = Fraction(value)
    except (TypeError, ValueError):
        raise FieldError(name, value, "a number of slots") from None
    if f < 0:
        raise FieldError(name, value, ">= 0 slots")
    return f


class Gcra:
    """GCRA(T, tau) by the virtual scheduling algorithm, in exact arithmetic. ``increment`` (T) and
    ``limit`` (tau) are in slots: ints, Fractions, or anything Fraction accepts."""

    __slots__ = ("increment", "limit", "scale", "_inc", "_lim", "tat")

    def __init__(self, increment, limit=0) -> None:
        self.increment = _rational("T", increment)
        if self.increment <= 0:
            raise FieldError("T", increment, "> 0 slots")
        self.limit = _rational("tau", limit)
        self.scale = lcm(self.increment.denominator, self.limit.denominator)
        self._inc = int(self.increment * self.scale)
        self._lim = int(self.limit * self.scale)
        self.tat = 0  # in 1/scale slot; 0: the first cell conforms at any t >= 0

    @property
    def tat_slots(self) -> Fraction:
        """The theoretical arrival time, in slots."""
        return Fraction(self.tat, self.scale)

    def conforms(self, t: int) -> bool:
        """I.371 VSA: TAT <= t + tau."""
        return self.tat <= t * self.scale + self._lim

    def police(self, t: int) -> bool:
        """Policing (UPC), the VSA: True and TAT = max(TAT, t) + T when the cell arriving at ``t``
        conforms; False and TAT unchanged when it does not."""
        if not self.conforms(t):
            return False
        ts = t * self.scale
        self.tat = (self.tat if self.tat > ts else ts) + self._inc
        return True

    # -- shaping -------------------------------------------------------------------------------
    def earliest(self, now: int) -> int:
        """The first whole slot >= ``now`` at or after the conforming instant TAT - tau."""
        need = -((self._lim - self.tat) // self.scale)  # ceil(TAT - tau)
        return now if need < now else need

    def shape(self, t: int) -> None:
        """Account a cell sent in slot ``t`` (>= :meth:`earliest`): at its conforming instant
        TAT - tau if that lies in (t - 1, t] (TAT += T), else at t (TAT = max(TAT, t) + T)."""
        ts = t * self.scale
        if self.tat - self._lim > ts - self.scale:
            self.tat += self._inc
        else:
            self.tat = (self.tat if self.tat > ts else ts) + self._inc

    def __repr__(self) -> str:
        return f"<Gcra T={self.increment} tau={self.limit} TAT={self.tat_slots}>"


class VcShaper:
    """The shaper of one VC: GCRA on the PCR, and on the SCR when there is one.

    ``line_rate``: cells/s of the line (slots per second); ``pcr``, ``scr``: cells/s (pcr 0: the line
    rate; scr 0: none); ``mbs``: cells; ``cdvt``: slots."""

    __slots__ = ("pcr", "scr", "mbs", "cdvt", "peak", "sustained")

    def __init__(self, line_rate: int, pcr: int = 0, cdvt: int = 0, scr: int = 0, mbs: int = 1) -> None:
        if line_rate <= 0:
            raise FieldError("line_rate", line_rate, "> 0 cells/s")
        check_traffic(line_rate, pcr, scr, mbs, cdvt)
        self.pcr, self.scr, self.mbs, self.cdvt = pcr, scr, mbs, cdvt
        t = Fraction(line_rate, pcr) if pcr else Fraction(1)
        self.peak = Gcra(t, cdvt)
        self.sustained: Gcra | None = None
        if scr:
            ts = Fraction(line_rate, scr)
            self.sustained = Gcra(ts, (mbs - 1) * (ts - t) + cdvt)

    def earliest(self, now: int) -> int:
        e = self.peak.earliest(now)
        if self.sustained is not None:
            e = max(e, self.sustained.earliest(now))
        return e

    def emit(self, t: int) -> None:
        """A cell of this VC was sent in slot ``t``."""
        self.peak.shape(t)
        if self.sustained is not None:
            self.sustained.shape(t)

    @property
    def tat_slot(self) -> int:
        """The PCR TAT rounded up to a slot (the VC.TAT register)."""
        tat = self.peak.tat_slots
        return -((-tat.numerator) // tat.denominator)


def check_traffic(line_rate: int, pcr: int, scr: int, mbs: int, cdvt: int) -> None:
    """Raise FieldError for traffic parameters a shaper cannot run."""
    if not 0 <= pcr <= line_rate:
        raise FieldError("PCR.RATE", pcr, f"0 (line rate) .. {line_rate} cells/s (the line rate)")
    peak = pcr or line_rate
    if not 0 <= scr <= peak:
        raise FieldError("SCR.RATE", scr, f"0 (none) .. the PCR {peak} cells/s")
    if scr and mbs < 1:
        raise FieldError("MBS.CELLS", mbs, ">= 1 cell when SCR is set")
    if cdvt < 0:
        raise FieldError("CDVT.SLOTS", cdvt, ">= 0 slots")


class CellScheduler:
    """Chooses, slot after slot, which VC sends. ``shapers[vc]`` and ``priority[vc]`` are kept by the
    owner (the adapter), as is the backlog (cells queued per VC)."""

    def __init__(self) -> None:
        self.shapers: dict[int, VcShaper] = {}
        self.priority: dict[int, int] = {}
        self._served: dict[int, int] = {}  # slot at which each VC last sent (round robin)

    def configure(self, vc: int, shaper: VcShaper, service: int) -> None:
        self.shapers[vc] = shaper
        self.priority[vc] = PRIORITY.get(service, 3)

    def remove(self, vc: int) -> None:
        self.shapers.pop(vc, None)
        self.priority.pop(vc, None)
        self._served.pop(vc, None)

    def plan(self, start: int, max_cells: int, backlog: dict[int, int]) -> tuple[list[int], int | None]:
        """A run of back-to-back cells from slot ``start``: the VC of each slot start, start + 1, ...
        (at most ``max_cells``; it stops at the first slot in which no VC conforms), and the slot at
        which the scheduler should run next (None: nothing left). ``backlog`` is decremented."""
        active = {vc for vc, n in backlog.items() if n > 0}
        run: list[int] = []
        t = start
        while active and len(run) < max_cells:
            best, best_key = -1, None
            for vc in active:
                if self.shapers[vc].earliest(t) == t:
                    key = (self.priority[vc], self._served.get(vc, -1), vc)
                    if best_key is None or key < best_key:
                        best, best_key = vc, key
            if best < 0:
                break
            self.shapers[best].emit(t)
            self._served[best] = t
            backlog[best] -= 1
            if backlog[best] == 0:
                active.discard(best)
            run.append(best)
            t += 1
        if not active:
            return run, None
        return run, min(self.shapers[vc].earliest(t) for vc in active)


def shaped_slots(shaper: VcShaper, cells: int, start: int = 0) -> list[int]:
    """Emission slots of ``cells`` back-to-back cells of one VC alone on the line (for tests and
    documentation)."""
    out = []
    t = start
    for _ in range(cells):
        t = shaper.earliest(t)
        shaper.emit(t)
        out.append(t)
        t += 1
    return out


def police(increment, limit, arrivals: Iterable[int]) -> list[bool]:
    """I.371 GCRA policing of a sequence of arrival slots: conforming or not, cell by cell."""
    g = Gcra(increment, limit)
    return [g.police(int(t)) for t in arrivals]


__all__ = ["Gcra", "VcShaper", "CellScheduler", "PRIORITY", "check_traffic", "shaped_slots", "police"]
