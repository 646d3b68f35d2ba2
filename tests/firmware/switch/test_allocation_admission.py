"""VPI/VCI allocation per port (cause 35) and connection admission control on peak cell rates
(cause 37, and 73 for a descriptor without a peak cell rate)."""

from __future__ import annotations

import pytest

from firmware.switch.admission import EGRESS, INGRESS, Admission, CellRates
from firmware.switch.allocation import VcAllocator
from firmware.switch.config import PortConfig, SwitchConfig
from firmware.switch.errors import AdmissionError, AllocationError, BookkeepingError
from firmware.uni import builders as B


def small(vpis=(0, 1), vcis=(32, 34), ports=2) -> SwitchConfig:
    return SwitchConfig(tuple(PortConfig(i, vpi_range=vpis, vci_range=vcis) for i in range(ports)))


def test_every_value_once_then_cause_35() -> None:
    a = VcAllocator(small())
    got = {a.allocate(0) for _ in range(6)}
    assert got == {(p, c) for p in (0, 1) for c in (32, 33, 34)}
    with pytest.raises(AllocationError) as e:
        a.allocate(0)
    assert e.value.cause == 35 and e.value.port == 0
    assert a.allocate(1) == (0, 32)                    # ports are independent
    assert a.refused[0] == 1 and a.in_use(0) == 6


def test_freed_values_are_not_reused_at_once() -> None:
    a = VcAllocator(small())
    first = a.allocate(0)
    a.free(0, *first)
    assert a.allocate(0) != first                      # round robin: the others come first
    for _ in range(4):
        a.allocate(0)
    assert a.allocate(0) == first                      # only value left


def test_requested_values() -> None:
    a = VcAllocator(small())
    assert a.allocate(0, 1, 33) == (1, 33)
    with pytest.raises(AllocationError) as e:
        a.allocate(0, 1, 33)                           # exclusive VPCI/VCI in use
    assert e.value.cause == 35
    with pytest.raises(AllocationError):
        a.allocate(0, 2, 40)                           # outside the port's ranges
    assert a.allocate(0, 1) in {(1, 32), (1, 34)}      # exclusive VPCI, any VCI
    a.allocate(0, 1)
    with pytest.raises(AllocationError):
        a.allocate(0, 1)                               # no VCI left on VPI 1
    assert a.allocated[0] == 3 and a.freed[0] == 0


def test_bookkeeping_errors_are_typed() -> None:
    a = VcAllocator(small())
    with pytest.raises(BookkeepingError):
        a.free(0, 0, 32)
    with pytest.raises(BookkeepingError):
        a.allocate(7)


def td(forward: int, backward: int = 0, best_effort: bool = False):
    return B.traffic_descriptor(forward_pcr_01=forward, backward_pcr_01=backward, best_effort=best_effort)


def test_cell_rates_from_the_traffic_descriptor() -> None:
    assert CellRates.from_traffic_descriptor(td(1000, 20)) == CellRates(1000, 20, False)
    assert CellRates.from_traffic_descriptor(B.best_effort(5000, 0)).best_effort
    with pytest.raises(AdmissionError) as e:
        CellRates.from_traffic_descriptor(B.traffic_descriptor(forward_pcr_0=1000))
    assert e.value.cause == 73


def test_admission_until_the_line_rate_then_cause_37() -> None:
    cfg = SwitchConfig.uniform(2)                      # OC-3c: 353,208 cells/s
    ad = Admission(cfg)
    half = CellRates(176_604)
    ad.reserve("a", half, [(0, INGRESS, "forward"), (1, EGRESS, "forward")])
    ad.reserve("b", half, [(0, INGRESS, "forward")])
    assert ad.available(0, INGRESS) == 0 and ad.available(1, EGRESS) == 176_604
    with pytest.raises(AdmissionError) as e:
        ad.reserve("c", CellRates(1), [(1, EGRESS, "forward"), (0, INGRESS, "forward")])
    assert e.value.cause == 37 and e.value.port == 0 and e.value.direction == INGRESS
    assert ad.available(1, EGRESS) == 176_604          # all or nothing: leg 1 was not committed
    ad.release("a")
    ad.reserve("c", CellRates(1), [(0, INGRESS, "forward")])
    assert ad.refused[37] == 1 and ad.admitted == 3 and ad.released == 1


def test_best_effort_reserves_nothing_but_must_fit_the_line() -> None:
    cfg = SwitchConfig.uniform(1)
    ad = Admission(cfg)
    for k in range(5):
        ad.reserve(k, CellRates(353_208, best_effort=True), [(0, INGRESS, "forward")])
    assert ad.committed_total() == 0
    with pytest.raises(AdmissionError) as e:
        ad.reserve("big", CellRates(353_209, best_effort=True), [(0, INGRESS, "forward")])
    assert e.value.cause == 37
    strict = Admission(SwitchConfig.uniform(1, reserve_best_effort=True))
    strict.reserve(0, CellRates(353_208, best_effort=True), [(0, INGRESS, "forward")])
    with pytest.raises(AdmissionError):
        strict.reserve(1, CellRates(1, best_effort=True), [(0, INGRESS, "forward")])


def test_utilisation_limits_the_capacity() -> None:
    ad = Admission(SwitchConfig.uniform(1, utilisation=0.5))
    with pytest.raises(AdmissionError):
        ad.reserve(0, CellRates(176_605), [(0, EGRESS, "forward")])
    ad.reserve(0, CellRates(176_604), [(0, EGRESS, "forward")])


def test_admission_bookkeeping_errors() -> None:
    ad = Admission(SwitchConfig.uniform(1))
    ad.reserve("x", CellRates(10), [(0, INGRESS, "backward")])
    with pytest.raises(BookkeepingError):
        ad.reserve("x", CellRates(10), [(0, INGRESS, "forward")])
    with pytest.raises(BookkeepingError):
        ad.release("y")
    with pytest.raises(BookkeepingError):
        ad.reserve("z", CellRates(10), [(0, "sideways", "forward")])
