"""GCRA shaping measured on the link: the slots at which an adapter's cells leave, read at the far
port of the line (no second adapter, so nothing but the wire is between the shaper and the test)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from hw.adapter import Adapter, HostMemory
from hw.adapter.shaper import police
from hw.aal5 import pdu_cells
from hw.cell import unpack_headers
from hw.clock import Clock
from hw.link import Link

R = 353_208


def ceil(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


def setup(driver_cls):
    clock = Clock("OC-3c")
    link = Link("OC-3c")
    ad = Adapter(clock, HostMemory(4 << 20))
    ad.attach(link.a)
    d = driver_cls(ad)
    d.bring_up()
    return clock, link, d


def on_wire(clock, link):
    link.advance(clock.now)
    got = link.b.receive()
    h = unpack_headers(got.cells)
    return got.slots, h.vci.astype(np.int64)


def test_cell_spacing_equals_1_over_pcr_within_a_slot(driver_cls):
    clock, link, d = setup(driver_cls)
    pcr = 100_000  # T = 3.53208 slots
    d.open_vc(1, 0, 100, service="CBR", pcr=pcr)
    clock.run_for(10)
    start = clock.now
    d.send(1, bytes(4800))  # 101 cells
    clock.run_for(1000)
    slots, _ = on_wire(clock, link)
    T = Fraction(R, pcr)
    assert len(slots) == pdu_cells(4800)
    assert slots.tolist() == [ceil(start + k * T) for k in range(len(slots))]
    assert all(police(T, 1, slots.tolist()))
    assert d.rd64("VC.TAT", 1) == ceil(start + len(slots) * T)


def test_conforming_burst_up_to_cdvt(driver_cls):
    clock, link, d = setup(driver_cls)
    pcr, cdvt = R // 10, 40  # T = R / 35320, just above 10 slots
    T = Fraction(R, pcr)
    d.open_vc(1, 0, 100, service="VBR", pcr=pcr, cdvt=cdvt)
    clock.run_for(5)
    start = clock.now
    d.send(1, bytes(40 * 48 - 8))  # 40 cells
    clock.run_for(1000)
    slots, _ = on_wire(clock, link)
    rel = (slots - start).tolist()
    burst = int(Fraction(cdvt) / (T - 1)) + 1
    assert rel[:burst] == list(range(burst))  # back to back, as the tolerance allows
    assert rel[burst] > burst
    assert rel == [max(k, ceil(k * T - cdvt)) for k in range(40)]
    assert all(police(T, cdvt + 1, slots.tolist()))
    assert not all(police(T, 0, slots.tolist()))  # the burst does not conform without the tolerance


def test_cbr_keeps_its_rate_while_ubr_fills_the_line(driver_cls):
    clock, link, d = setup(driver_cls)
    d.open_vc(1, 0, 100, service="CBR", pcr=R // 4)  # T = 4 slots exactly (R divisible by 4)
    d.open_vc(2, 0, 200, service="UBR")
    d.send(2, bytes(200 * 48 - 8))  # 200 UBR cells
    d.send(1, bytes(30 * 48 - 8))  # 30 CBR cells
    clock.run_for(400)
    slots, vci = on_wire(clock, link)
    cbr = slots[vci == 100]
    assert len(cbr) == 30 and set(np.diff(cbr).tolist()) == {4}
    assert all(police(4, 0, cbr.tolist()))
    # the line is never idle while cells wait: 230 cells in 230 consecutive slots
    assert slots.tolist() == list(range(slots[0], slots[0] + 230))


def test_vbr_scr_and_mbs_on_the_line(driver_cls):
    clock, link, d = setup(driver_cls)
    pcr, scr, mbs = R // 2, R // 8, 5
    d.open_vc(3, 1, 300, service="VBR", pcr=pcr, scr=scr, mbs=mbs)
    d.send(3, bytes(30 * 48 - 8))
    clock.run_for(1000)
    slots, _ = on_wire(clock, link)
    gaps = np.diff(slots).tolist()
    assert gaps[:mbs - 1] == [2] * (mbs - 1)  # a burst of MBS cells at the PCR
    assert gaps[-5:] == [8] * 5  # then the SCR
    T, Ts = Fraction(R, pcr), Fraction(R, scr)
    assert all(police(T, 0, slots.tolist())) and all(police(Ts, (mbs - 1) * (Ts - T), slots.tolist()))


def test_several_shaped_vcs_each_conform(driver_cls):
    clock, link, d = setup(driver_cls)
    rates = {1: 50_000, 2: 70_001, 3: 120_000, 4: 0}
    for vc, pcr in rates.items():
        d.open_vc(vc, 0, 100 + vc, service="CBR" if pcr else "UBR", pcr=pcr, cdvt=2)
    for vc in rates:
        d.send(vc, bytes(60 * 48 - 8))
    clock.run_for(3000)
    slots, vci = on_wire(clock, link)
    assert len(slots) == 4 * 60 and len(set(slots.tolist())) == len(slots)
    for vc, pcr in rates.items():
        mine = slots[vci == 100 + vc].tolist()
        T = Fraction(R, pcr) if pcr else Fraction(1)
        # contention only delays cells, and a late cell resets the TAT: still conforming
        assert all(police(T, 2 + 1, mine)), vc
        assert d.counter("TX_CELLS", vc) == 60


def test_pcr_change_takes_effect(driver_cls):
    clock, link, d = setup(driver_cls)
    d.open_vc(1, 0, 100, service="CBR", pcr=R // 8)
    d.send(1, bytes(10 * 48 - 8))
    clock.run_for(100)
    d.wr("VC.PCR", R // 2, 1)
    d.send(1, bytes(10 * 48 - 8))
    clock.run_for(100)
    slots, _ = on_wire(clock, link)
    gaps = np.diff(slots).tolist()
    assert gaps[:9] == [8] * 9 and gaps[-9:] == [2] * 9
