"""VPI/VCI allocation per port (the network side chooses the connection identifier, Q.2931 5.1.2 on the
calling user's interface and 5.2.3 on the called user's, and sends it in the Connection identifier IE).

Each port allocates from its configured VPI and VCI ranges (:class:`~firmware.switch.config.PortConfig`).
A request may name a VPCI/VCI (the calling user's Connection identifier IE, "exclusive VPCI, exclusive
VCI") or only a VPCI ("exclusive VPCI, any VCI"); without one the switch picks. When what is asked
cannot be given - the named VPI/VCI is in use or outside the port's ranges, or nothing is free - the
answer is cause 35, "requested VPCI/VCI not available" (Q.2610).

Values are handed out round robin from the last one given, not lowest-first, so a connection
identifier just released is not reused at once: cells of the old connection still in flight cannot
reach the new one (the same reason call references and endpoint references are allocated this way).
A value is freed when its connection is gone (Q.2931 5.4: on RELEASE COMPLETE, or T308's last expiry).
"""

from __future__ import annotations

from collections import Counter

from firmware.switch.config import PortConfig, SwitchConfig
from firmware.switch.errors import AllocationError, BookkeepingError

#: Cause 35, "requested VPCI/VCI not available" (Q.2610), the answer to every allocation failure here.
CAUSE_VPCI_VCI_NOT_AVAILABLE = 35


class PortVcPool:
    """The VPI/VCI values of one port."""

    def __init__(self, port: PortConfig) -> None:
        self.port = port.index
        self.vpi_lo, self.vpi_hi = port.vpi_range
        self.vci_lo, self.vci_hi = port.vci_range
        self.vcis_per_vpi = self.vci_hi - self.vci_lo + 1
        self.size = port.vc_count
        self.used: set[tuple[int, int]] = set()
        self._cursor = 0

    def __contains__(self, vc: tuple[int, int]) -> bool:
        return vc in self.used

    def _at(self, k: int) -> tuple[int, int]:
        return self.vpi_lo + k // self.vcis_per_vpi, self.vci_lo + k % self.vcis_per_vpi

    def _in_range(self, vpi: int, vci: int) -> bool:
        return self.vpi_lo <= vpi <= self.vpi_hi and self.vci_lo <= vci <= self.vci_hi

    def allocate(self, vpi: int | None = None, vci: int | None = None) -> tuple[int, int]:
        """A free (VPI, VCI): exactly the one named, any VCI of the VPI named, or any."""
        if vpi is not None and vci is not None:
            if not self._in_range(vpi, vci):
                raise AllocationError(self.port, f"VPI/VCI {vpi}/{vci} is outside the port's ranges "
                                      f"VPI {self.vpi_lo}..{self.vpi_hi}, VCI {self.vci_lo}..{self.vci_hi}")
            if (vpi, vci) in self.used:
                raise AllocationError(self.port, f"VPI/VCI {vpi}/{vci} is in use")
            self.used.add((vpi, vci))
            return vpi, vci
        if vpi is not None:
            if not self.vpi_lo <= vpi <= self.vpi_hi:
                raise AllocationError(self.port, f"VPI {vpi} is outside the port's range {self.vpi_lo}..{self.vpi_hi}")
            base = (vpi - self.vpi_lo) * self.vcis_per_vpi
            for j in range(self.vcis_per_vpi):
                vc = self._at(base + j)
                if vc not in self.used:
                    self.used.add(vc)
                    return vc
            raise AllocationError(self.port, f"no VCI free on VPI {vpi}")
        if len(self.used) >= self.size:
            raise AllocationError(self.port, f"all {self.size} VPI/VCI values are in use")
        k = self._cursor
        while True:
            vc = self._at(k)
            k = (k + 1) % self.size
            if vc not in self.used:
                self._cursor = k
                self.used.add(vc)
                return vc

    def free(self, vpi: int, vci: int) -> None:
        if (vpi, vci) not in self.used:
            raise BookkeepingError(f"port {self.port}: VPI/VCI {vpi}/{vci} freed but not allocated")
        self.used.remove((vpi, vci))


class VcAllocator:
    """VPI/VCI pools of every port of the switch, with counters."""

    def __init__(self, config: SwitchConfig) -> None:
        self.pools = [PortVcPool(p) for p in config.ports]
        self.allocated: Counter[int] = Counter()   # port -> values given
        self.freed: Counter[int] = Counter()       # port -> values returned
        self.refused: Counter[int] = Counter()     # port -> requests answered with cause 35

    def pool(self, port: int) -> PortVcPool:
        if not isinstance(port, int) or not 0 <= port < len(self.pools):
            raise BookkeepingError(f"port {port!r}: no such port (0..{len(self.pools) - 1})")
        return self.pools[port]

    def allocate(self, port: int, vpi: int | None = None, vci: int | None = None) -> tuple[int, int]:
        """A VPI/VCI on ``port`` (see :meth:`PortVcPool.allocate`); :class:`AllocationError`, cause 35,
        when it cannot be given."""
        pool = self.pool(port)
        try:
            vc = pool.allocate(vpi, vci)
        except AllocationError:
            self.refused[port] += 1
            raise
        self.allocated[port] += 1
        return vc

    def free(self, port: int, vpi: int, vci: int) -> None:
        self.pool(port).free(vpi, vci)
        self.freed[port] += 1

    def in_use(self, port: int | None = None) -> int:
        if port is None:
            return sum(len(p.used) for p in self.pools)
        return len(self.pool(port).used)
