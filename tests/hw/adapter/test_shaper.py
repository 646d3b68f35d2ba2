"""The GCRA (I.371 virtual scheduling algorithm) and the cell scheduler, against an independent
reference written here with Fractions, cell by cell."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from hw.adapter.shaper import CellScheduler, Gcra, VcShaper, check_traffic, police, shaped_slots
from hw.errors import FieldError

EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))
R = 353_208  # OC-3c cells/s


def reference_police(T: Fraction, tau: Fraction, arrivals):
    """I.371 clause 7.2.2 virtual scheduling algorithm, written from the text."""
    tat = None
    out = []
    for ta in arrivals:
        if tat is None or ta > tat:  # first cell, or TAT in the past: conforming, TAT = ta
            tat = Fraction(ta) + T
            out.append(True)
        elif tat > ta + tau:
            out.append(False)
        else:
            tat = tat + T
            out.append(True)
    return out


def reference_shape(T: Fraction, tau: Fraction, ready, scr=None):
    """The shaper's rule, written from its definition with Fractions: each
    cell goes in the first slot t >= its ready slot (and after the previous cell) with t >= TAT - tau
    for every GCRA; it is accounted at TAT - tau when that instant lies in (t - 1, t], else at t."""
    gcras = [[None, T, tau]] + ([list((None,) + tuple(scr))] if scr else [])
    out = []
    prev = -1
    for r in ready:
        t = max(r, prev + 1)
        for tat, _, lim in gcras:  # not before the conforming instant of each GCRA
            if tat is not None and t < tat - lim:
                t = ceil(tat - lim)
        for g in gcras:
            tat, inc, lim = g
            instant = tat - lim if tat is not None and t - 1 < tat - lim else Fraction(t)
            g[0] = max(instant if tat is None else tat, instant) + inc
        out.append(t)
        prev = t
    return out


def ceil(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


def test_police_known_sequence():
    # T = 4, tau = 2: 0 ok (TAT 4), 2 ok (4 <= 4, TAT 8), 3 not (8 > 5), 6 ok (TAT 12), 13 ok (TAT 17)
    assert police(4, 2, [0, 2, 3, 6, 13]) == [True, True, False, True, True]
    assert police(4, 2, [0, 2, 3, 6, 13]) == reference_police(Fraction(4), Fraction(2), [0, 2, 3, 6, 13])


def test_gcra_spacing_is_1_over_pcr_within_a_slot():
    for pcr in (1, 1000, 100_000, 176_604, 300_000, R):
        shaper = VcShaper(R, pcr)
        T = Fraction(R, pcr)
        slots = shaped_slots(shaper, 300, start=17)
        for k, s in enumerate(slots):
            assert s == ceil(17 + k * T), (pcr, k)  # the ideal time, rounded up to a slot: no drift
        gaps = {b - a for a, b in zip(slots, slots[1:])}
        assert gaps <= {T.numerator // T.denominator, ceil(T)}
        # a policer stamping cells at slot starts needs one slot of CDVT, unless T is an integer
        assert all(police(T, 1, slots))
        assert all(police(T, 0, slots)) == (T.denominator == 1)


def test_cdvt_allows_a_back_to_back_burst_then_the_pcr():
    pcr, cdvt = R // 10, 36  # T = 10 slots (R is a multiple of 4; 353208 / 35320 is not exact)
    T = Fraction(R, pcr)
    slots = shaped_slots(VcShaper(R, pcr, cdvt), 30)
    burst = 1
    while slots[burst] == slots[burst - 1] + 1:
        burst += 1
    # cell k of a back-to-back run conforms while k (T - 1) <= tau
    assert burst == int(Fraction(cdvt) / (T - 1)) + 1
    assert all(police(T, cdvt + 1, slots))
    assert slots == reference_shape(T, Fraction(cdvt), [0] * 30)
    assert slots == [max(k, ceil(k * T - cdvt)) for k in range(30)]


@settings(max_examples=EXAMPLES)
@given(pcr=st.integers(1, R), cdvt=st.integers(0, 1000), start=st.integers(0, 10**9))
def test_lone_vc_closed_form(pcr, cdvt, start):
    """A VC alone with a backlog from slot ``start``: cell k leaves at max(start + k, ceil(start + k T - tau))."""
    T = Fraction(R, pcr)
    slots = shaped_slots(VcShaper(R, pcr, cdvt), 50, start=start)
    assert slots == [max(start + k, ceil(start + k * T - cdvt)) for k in range(50)]


def test_scr_and_mbs():
    pcr, scr, mbs = R // 4, R // 20, 8
    slots = shaped_slots(VcShaper(R, pcr, 0, scr, mbs), 40)
    T, Ts = Fraction(R, pcr), Fraction(R, scr)
    tau_s = (mbs - 1) * (Ts - T)
    assert all(police(T, 0, slots)) and all(police(Ts, tau_s, slots))  # T and Ts are integers here
    assert [b - a for a, b in zip(slots[:mbs], slots[1:mbs])] == [round(T)] * (mbs - 1)
    assert slots == reference_shape(T, Fraction(0), [0] * 40, (Ts, tau_s))
    # after the burst the VC settles at the SCR
    assert slots[-1] - slots[-2] == round(Ts)


@settings(max_examples=EXAMPLES)
@given(pcr=st.integers(1, R), cdvt=st.integers(0, 400), scr_div=st.integers(0, 6), mbs=st.integers(1, 50),
       gaps=st.lists(st.integers(0, 60), min_size=1, max_size=60))
def test_shaper_matches_the_reference_on_random_traffic(pcr, cdvt, scr_div, mbs, gaps):
    scr = pcr // scr_div if scr_div else 0
    shaper = VcShaper(R, pcr, cdvt, scr, mbs)
    ready, t = [], 0
    for g in gaps:
        t += g
        ready.append(t)
    got, prev = [], -1
    for r in ready:
        s = shaper.earliest(max(r, prev + 1))
        shaper.emit(s)
        got.append(s)
        prev = s
    T = Fraction(R, pcr)
    scr_params = None
    if scr:
        Ts = Fraction(R, scr)
        scr_params = (Ts, (mbs - 1) * (Ts - T) + cdvt)
    assert got == reference_shape(T, Fraction(cdvt), ready, scr_params)
    assert reference_police(T, Fraction(cdvt + 1), got) == [True] * len(got)
    if scr_params:
        assert reference_police(scr_params[0], scr_params[1] + 1, got) == [True] * len(got)


@settings(max_examples=EXAMPLES)
@given(num=st.integers(1, 10_000), den=st.integers(1, 997), tau=st.fractions(0, 50),
       arrivals=st.lists(st.integers(0, 5), min_size=1, max_size=80))
def test_police_matches_the_reference(num, den, tau, arrivals):
    T = Fraction(num, den)
    times, t = [], 0
    for a in arrivals:
        t += a
        times.append(t)
    assert police(T, tau, times) == reference_police(T, tau, times)


def test_gcra_is_exact_over_long_runs():
    g = Gcra(Fraction(R, 99_991))  # a prime PCR: T has a large denominator
    t = 0
    for _ in range(100_000):
        t = g.earliest(t)
        g.shape(t)
        t += 1
    assert t - 1 == ceil(Fraction(99_999 * R, 99_991))  # ceil(k T) for k = 99999: no drift


def test_traffic_checks():
    with pytest.raises(FieldError):
        check_traffic(R, R + 1, 0, 1, 0)
    with pytest.raises(FieldError):
        check_traffic(R, 1000, 1001, 1, 0)
    with pytest.raises(FieldError):
        check_traffic(R, 1000, 500, 0, 0)
    with pytest.raises(FieldError):
        Gcra(0)
    check_traffic(R, 0, R, 1, 0)


def test_scheduler_priority_and_round_robin():
    sched = CellScheduler()
    for vc, service in ((1, 4), (2, 4), (3, 1)):  # two UBR, one CBR
        sched.configure(vc, VcShaper(R), service)
    backlog = {1: 3, 2: 3, 3: 2}
    order, wake = sched.plan(0, 100, backlog)
    assert order == [3, 3, 1, 2, 1, 2, 1, 2]
    assert wake is None and backlog == {1: 0, 2: 0, 3: 0}


def test_scheduler_leaves_empty_slots_and_says_when_to_come_back():
    sched = CellScheduler()
    sched.configure(1, VcShaper(R, R // 8), 1)
    backlog = {1: 3}
    order, wake = sched.plan(0, 100, backlog)
    assert order == [1] and wake == 8 and backlog == {1: 2}
    order, wake = sched.plan(8, 100, backlog)
    assert order == [1] and wake == 16
