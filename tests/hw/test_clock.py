"""The virtual clock: ordering, cancellation, bounded memory, timers, seconds; and the line rates."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest

from hw.clock import COMPACT_MIN_DEAD, Clock
from hw.errors import FieldError
from hw.rates import OC3C, OC12C, OC48C, OC192C, RATES, LineRate, rate


def test_events_run_in_time_then_insertion_order():
    clock, seen = Clock(), []
    for t, tag in [(5, "a"), (3, "b"), (5, "c"), (3, "d"), (0, "e"), (5, "f")]:
        clock.schedule_at(t, seen.append, tag)
    assert clock.peek() == 0
    assert clock.run_until(4) == 3 and clock.now == 4
    assert seen == ["e", "b", "d"]
    clock.run_until(100)
    assert seen == ["e", "b", "d", "a", "c", "f"]
    assert clock.peek() is None and clock.now == 100


def test_order_matches_a_sort_on_random_schedules():
    rng = random.Random(7)
    clock, seen = Clock(), []
    plan = [(rng.randrange(50), i) for i in range(500)]
    for t, i in plan:
        clock.schedule_at(t, seen.append, i)
    while clock.run_next():
        pass
    assert seen == [i for _, i in sorted(plan)]  # sorted by (time, insertion index)


def test_callbacks_may_schedule_within_the_span():
    clock, seen = Clock(), []

    def chain(k):
        seen.append((clock.now, k))
        if k < 3:
            clock.schedule_in(0 if k == 0 else 2, chain, k + 1)

    clock.schedule_at(1, chain, 0)
    clock.schedule_at(1, seen.append, "same slot, scheduled earlier")
    clock.run_until(4)
    assert seen == [(1, 0), "same slot, scheduled earlier", (1, 1), (3, 2)]
    clock.run_until(10)
    assert seen[-1] == (5, 3)


def test_numpy_slots_are_accepted():
    clock, seen = Clock(), []
    clock.schedule_at(np.int64(3), seen.append, "np")
    clock.run_until(np.int64(5))
    assert seen == ["np"] and clock.now == 5 and type(clock.now) is int


def test_run_next_advances_time_and_reports_empty():
    clock = Clock()
    assert clock.run_next() is False and clock.now == 0
    clock.schedule_in(7, lambda: None)
    assert clock.run_next() is True and clock.now == 7


def test_cancel():
    clock, seen = Clock(), []
    keep = clock.schedule_at(2, seen.append, "keep")
    drop = clock.schedule_at(1, seen.append, "drop")
    assert drop.cancel() is True and drop.cancel() is False and not drop.active
    assert clock.peek() == 2 and clock.pending == 1
    clock.run_until(5)
    assert seen == ["keep"] and keep.cancel() is False  # already run
    assert clock.events_run == 1 and clock.events_cancelled == 1


def test_restarted_timers_keep_memory_bounded():
    clock = Clock()
    fired = []
    timers = [clock.timer(lambda i=i: fired.append(i), f"T{i}") for i in range(10)]
    for step in range(20_000):  # every timer restarted over and over, as SSCOP's Timer_POLL is
        timers[step % 10].start(1000 + step % 7)
        assert clock.queue_size <= 2 * clock.pending + COMPACT_MIN_DEAD + 1
    assert clock.pending == 10
    clock.run_until(10**6)
    assert sorted(fired) == list(range(10)) and all(t.expiries == 1 and not t.running for t in timers)


def test_timer_stop_and_expiry_time():
    clock, fired = Clock(), []
    t = clock.timer(lambda: fired.append(clock.now), "T399")
    t.start(10)
    assert t.running and t.expires_at == 10
    clock.run_until(5)
    t.start(10)  # restart at slot 5
    clock.run_until(14)
    assert fired == []
    clock.run_until(15)
    assert fired == [15] and not t.running and t.stop() is False


def test_bad_times_are_typed_errors():
    clock = Clock()
    clock.run_until(10)
    with pytest.raises(FieldError) as e:
        clock.schedule_at(9, lambda: None)
    assert e.value.field == "time"
    with pytest.raises(FieldError) as e:
        clock.schedule_in(-1, lambda: None)
    assert e.value.field == "delay"
    with pytest.raises(FieldError) as e:
        clock.run_until(3)
    assert e.value.field == "slot"
    with pytest.raises(FieldError) as e:
        clock.schedule_at(12.5, lambda: None)
    assert e.value.field == "time"
    with pytest.raises(FieldError) as e:
        Clock().seconds(5)  # no line rate
    assert e.value.field == "rate"


def test_seconds_and_slots():
    clock = Clock("OC-3c")
    assert clock.slots(1.0) == 353_208
    assert clock.slots(4) == 4 * 353_208  # T398 = 4 s
    assert clock.slots(1e-6) == 1  # part of a slot rounds up: a timer never fires early
    clock.run_until(353_208)
    assert clock.seconds() == pytest.approx(1.0)
    t = clock.timer(lambda: None)
    t.start_seconds(0.5)
    assert t.expires_at == 353_208 + 176_604


@pytest.mark.parametrize("r, cells, ns", [(OC3C, 353_208, 2831), (OC12C, 1_412_830, 708), (OC48C, 5_651_321, 177),
                                          (OC192C, 22_605_283, 44.2)])
def test_rates_from_the_reference(r, cells, ns):
    assert r.cells_per_second == cells
    assert abs(r.payload_bps / 424 - cells) < 1  # payload / 424 bits a cell
    assert r.cell_time_ns == pytest.approx(ns, rel=2e-3)


def test_rate_lookup():
    assert rate("OC-3c") is OC3C and rate("stm-1") is OC3C and rate("oc12") is OC12C and rate(OC48C) is OC48C
    assert len({r.name for r in RATES}) == 4
    with pytest.raises(FieldError) as e:
        rate("OC-768c")
    assert e.value.field == "line rate" and "OC-3c" in e.value.expected
    with pytest.raises(FieldError):
        OC3C.seconds_to_slots(1.0, rounding="up")


def test_slots_are_remembered_per_type_of_duration():
    # 1 ms as a float is the decimal 0.001 (1 slot at 1000 cells/s); as a Fraction of that float it
    # is the binary value, a little more than 1 ms (2 slots). The memo must not mix them up.
    r = LineRate("test", 424_000, 424_000, 1000)
    for _ in range(2):
        assert r.seconds_to_slots(0.001) == 1
        assert r.seconds_to_slots(Fraction(0.001)) == 2
        assert r.seconds_to_slots(1) == 1000 and r.seconds_to_slots(True) == 1000
        assert r.seconds_to_slots(0.0015, rounding="floor") == 1
        assert r.seconds_to_slots(0.0015, rounding="ceil") == 2
        assert r.seconds_to_slots(0.0015, rounding="nearest") == 2
    with pytest.raises(FieldError):
        r.seconds_to_slots(-0.5)


def test_numpy_float_durations_convert_like_python_floats():
    import numpy as np

    from hw.rates import OC3C

    assert OC3C.seconds_to_slots(np.float64(0.5)) == OC3C.seconds_to_slots(0.5) == 176_604
