"""The link: one cell per slot, idle cells, impairments with the statistics they promise, link down,
conservation and determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hw.aal5 import Reassembler, pack_sdus, segment_batch
from hw.cell import hec
from hw.errors import FieldError
from hw.link import IDLE_CELL, Impairments, Link


def user_cells(n: int, seed: int = 0) -> np.ndarray:
    cells = np.random.default_rng(seed).integers(0, 256, (n, 53), dtype=np.uint8)
    cells[:, :4] = [0x00, 0x10, 0x02, 0x00]  # VPI 1 / VCI 32: never an idle header
    return cells


def conserved(link: Link) -> dict:
    link.check_conservation()
    for c in link.counters.values():
        assert c["cells_offered"] == (c["cells_delivered"] + c["cells_lost_random"] + c["cells_lost_burst"]
                                      + c["cells_lost_down"] + c["cells_dropped_queue_full"] + c["cells_queued"])
    return link.counters["a->b"]


def test_one_cell_per_slot_then_idle():
    link = Link("OC-12c", delay_slots=3)
    cells = user_cells(10)
    link.a.send(cells)
    link.advance(4)
    d = link.b.receive()
    assert np.array_equal(d.cells, cells[:4]) and d.slots.tolist() == [3, 4, 5, 6]
    assert conserved(link)["cells_queued"] == 6
    link.advance(20)
    d = link.b.receive(until=10)  # arrivals up to slot 10 only
    assert d.slots.tolist() == [7, 8, 9, 10]
    d = link.b.receive()
    assert np.array_equal(d.cells, cells[8:]) and d.slots.tolist() == [11, 12]
    c = conserved(link)
    assert (c["cells_delivered"], c["idle_inserted"], c["slots"]) == (10, 10, 20)
    assert len(link.a.receive()) == 0 and link.counters["b->a"]["idle_inserted"] == 20


def test_idle_cells_when_emitted():
    link = Link(emit_idle=True)
    link.a.send(user_cells(2), at=5)
    link.advance(10)
    d = link.b.receive()
    assert d.slots.tolist() == list(range(10)) and d.idle.tolist() == [True] * 5 + [False] * 2 + [True] * 3
    assert (d.cells[d.idle] == IDLE_CELL).all()
    assert IDLE_CELL[4] == hec(bytes(IDLE_CELL[:4])) == 0x52  # I.432.1: idle header 00 00 00 01, HEC 0x52


def test_link_down_loses_what_is_sent_and_up_restores():
    link = Link()
    link.a.send(user_cells(5), at=0)
    link.advance(2)
    link.down()
    link.a.send(user_cells(10, 1))
    link.advance(10)
    c = conserved(link)
    assert (c["cells_delivered"], c["cells_lost_down"], c["slots_down"]) == (2, 8, 8)
    link.up()
    link.advance(20)
    c = conserved(link)
    assert (c["cells_delivered"], c["cells_lost_down"], c["cells_queued"]) == (7, 8, 0)
    assert c["idle_inserted"] == 5  # slots 15..19 only: none while the line is dark (slots 2..9)
    assert link.down_events == 1


def test_full_fifo_drops_are_counted():
    link = Link(max_queue_cells=10)
    assert link.a.send(user_cells(15)) == 10
    assert conserved(link)["cells_dropped_queue_full"] == 5


def test_sender_buffer_is_not_touched_by_bit_errors():
    cells = user_cells(1000)
    before = cells.copy()
    link = Link(impairments=Impairments(ber=1e-2), seed=1)
    link.a.send(cells)
    link.advance(1000)
    assert np.array_equal(cells, before)
    assert not np.array_equal(link.b.receive().cells, before)


def run(seed: int, imp: Impairments, n: int = 3000, chunks: int = 3):
    link = Link(impairments=imp, seed=seed, emit_idle=True)
    for k in range(chunks):
        link.a.send(user_cells(n, k), at=k * 2 * n)
        link.b.send(user_cells(n // 2, k + 10))
        if k == 1:
            link.advance(k * 2 * n + n // 2)
            link.down()
            link.advance(k * 2 * n + n // 2 + 100)
            link.up()
    link.advance(chunks * 2 * n)
    return link, link.b.receive(), link.a.receive()


def test_deterministic_for_a_seed_and_conserved():
    imp = Impairments(ber=1e-4, loss=1e-2, burst_start=1e-3, burst_mean_slots=8)
    (l1, d1, e1), (l2, d2, e2) = run(7, imp), run(7, imp)
    assert np.array_equal(d1.cells, d2.cells) and np.array_equal(d1.slots, d2.slots)
    assert np.array_equal(e1.cells, e2.cells)
    assert l1.counters == l2.counters
    c = conserved(l1)
    assert all(c[k] > 0 for k in ("cells_lost_random", "cells_lost_burst", "cells_lost_down", "cells_errored",
                                  "idle_errored", "idle_inserted"))
    l3, d3, _ = run(8, imp)
    assert not np.array_equal(d1.cells, d3.cells) or not np.array_equal(d1.slots, d3.slots)


def test_bit_error_rate_is_right():
    # 100,000 cells = 42.4 M bits at BER 1e-4: flips ~ Binomial(42.4e6, 1e-4), mean 4240, sd 65.
    # 5 sd either side (about 7.7 %) fails a correct link with probability below 1e-6.
    n, ber = 100_000, 1e-4
    cells = user_cells(n, 3)
    link = Link(impairments=Impairments(ber=ber), seed=11)
    link.a.send(cells)
    link.advance(n)
    got = link.b.receive().cells
    diff = np.unpackbits(got ^ cells, axis=1)  # (n, 424) bits flipped
    flips = int(diff.sum())
    mean = n * 424 * ber
    assert abs(flips - mean) < 5 * math.sqrt(mean)
    c = conserved(link)
    assert c["bits_flipped"] == flips  # the counter is the truth
    assert c["cells_errored"] == int(diff.any(axis=1).sum())
    p_cell = 1 - (1 - ber) ** 424  # a cell has at least one flipped bit
    assert abs(c["cells_errored"] - n * p_cell) < 5 * math.sqrt(n * p_cell * (1 - p_cell))
    # flips land anywhere in the cell, header included: 40 of 424 bits are header bits
    header = int(diff[:, :40].sum())
    assert abs(header - flips * 40 / 424) < 5 * math.sqrt(flips * 40 / 424 * (1 - 40 / 424))


def test_cell_loss_probability_is_right():
    n, p = 100_000, 0.05  # lost ~ Binomial(1e5, 0.05): mean 5000, sd 69; 5 sd tolerance
    link = Link(impairments=Impairments(loss=p), seed=5)
    link.a.send(user_cells(n))
    link.advance(n)
    c = conserved(link)
    assert abs(c["cells_lost_random"] - n * p) < 5 * math.sqrt(n * p * (1 - p))
    assert len(link.b.receive()) == c["cells_delivered"]


def test_loss_bursts_have_the_promised_shape():
    n, start, mean = 400_000, 1e-3, 10.0
    link = Link(impairments=Impairments(burst_start=start, burst_mean_slots=mean), seed=9)
    link.a.send(user_cells(n))
    for until in range(50_000, n + 1, 50_000):  # bursts carry over between calls
        link.advance(until)
    c = conserved(link)
    lost = np.ones(n, dtype=bool)
    lost[link.b.receive().slots] = False
    edges = np.flatnonzero(np.diff(np.concatenate(([0], lost.astype(np.int8), [0]))))
    runs = edges[1::2] - edges[::2]
    # about n / (1/start + mean) = 396 bursts (Poisson-like count: sd ~ 20), mean length 10 slots
    assert 300 < runs.size < 500
    assert 8.0 < runs.mean() < 12.0  # sd of the mean of ~400 geometric(0.1) runs is ~0.47
    assert runs.sum() == c["cells_lost_burst"] == c["burst_slots"]


def test_lanes_are_independent():
    link = Link(impairments=Impairments(loss=0.5), seed=2)
    link.set_impairments(Impairments(), "b->a")
    link.a.send(user_cells(1000))
    link.b.send(user_cells(1000))
    link.advance(1000)
    assert link.counters["b->a"]["cells_delivered"] == 1000
    assert link.counters["a->b"]["cells_lost_random"] > 300
    assert link.a.peer is link.b and link.b.peer is link.a


def test_link_carries_aal5_and_the_reassembler_accounts_for_every_cell():
    sdus = [bytes([i]) * (100 + 37 * i) for i in range(60)]
    buf, off, ln = pack_sdus(sdus)
    cells = segment_batch(buf, off, ln, 0, 32)
    link = Link(impairments=Impairments(loss=0.01, ber=2e-5), seed=4)
    link.a.send(cells)
    link.advance(len(cells) + 10)
    d = link.b.receive()
    r = Reassembler(timeout_slots=1000)
    out = r.feed(d.cells, d.slots)
    out_late = r.expire(link.now + 2000)
    assert all(s.sdu in sdus for s in out)  # what is delivered is intact
    lc, rc = conserved(link), r.counters
    assert rc["cells_in"] == lc["cells_delivered"]
    assert rc["cells_in"] == rc["cells_delivered"] + rc["cells_discarded"] + rc["cells_pending"]
    assert rc["cells_pending"] == 0 and len(out) + len(out.errors) + len(out_late.errors) >= 1
    assert len(out) < len(sdus)  # the impairments cost something


def test_bad_arguments_are_typed_errors():
    link = Link()
    with pytest.raises(FieldError) as e:
        link.a.send(np.zeros((2, 52), np.uint8))
    assert e.value.field == "cells"
    link.advance(10)
    with pytest.raises(FieldError) as e:
        link.advance(5)
    assert e.value.field == "until"
    with pytest.raises(FieldError) as e:
        Impairments(ber=1.5)
    assert e.value.field == "ber"
    with pytest.raises(FieldError) as e:
        Link("OC-1")
    assert e.value.field == "line rate"
    with pytest.raises(FieldError) as e:
        link.set_impairments(Impairments(), "a->c")
    assert e.value.field == "direction"


# ---- per-lane time, scheduled transmission, the clock floor, the cell-available signal, taps ------------


def test_lanes_keep_their_own_time():
    link = Link(delay_slots=2)
    link.a.send(user_cells(3))
    link.a_to_b.advance(10)                  # one direction runs ahead of the other
    assert (link.a_to_b.now, link.b_to_a.now, link.now) == (10, 0, 0)
    assert link.b.receive().slots.tolist() == [2, 3, 4]
    link.b.send(user_cells(1, 1), at=4)      # the other direction is still at slot 0: the cell goes at 4
    link.advance(8)                          # both up to 8 (the first lane stays at 10)
    assert (link.a_to_b.now, link.b_to_a.now, link.now) == (10, 8, 8)
    assert link.a.receive().slots.tolist() == [6]
    with pytest.raises(FieldError):
        link.advance(7)
    conserved(link)


def test_cells_offered_per_slot_go_out_in_exactly_those_slots():
    link = Link(delay_slots=1)
    cells = user_cells(4)
    assert link.b.send(cells, at=np.array([5, 6, 9, 20])) == 4
    assert (link.b_to_a.last_tx, link.b_to_a.busy_until) == (20, 21)
    link.advance(30)
    d = link.a.receive()
    assert d.slots.tolist() == [6, 7, 10, 21] and np.array_equal(d.cells, cells)
    # slots that collide or lie behind the line's time queue up, one per slot, in order
    link.b.send(user_cells(3, 1), at=np.array([25, 25, 40]))
    link.advance(50)
    assert link.a.receive().slots.tolist() == [31, 32, 41]
    with pytest.raises(FieldError):
        link.b.send(user_cells(2), at=np.array([60, 59]))   # not in slot order
    with pytest.raises(FieldError):
        link.b.send(user_cells(2), at=np.array([60]))       # not one slot per cell
    assert conserved(link)["cells_offered"] == 0 and link.counters["b->a"]["cells_delivered"] == 7


def test_scheduled_cells_meet_the_impairments_of_their_slot():
    # a loss burst over slots 100..199: only the cells scheduled in it are lost
    link = Link(emit_idle=True)
    lane = link.a_to_b
    lane.impairments = Impairments(burst_start=1e-9, burst_mean_slots=1e9)
    lane._in_burst, lane._run_left = False, 100      # the good run ends at slot 100, then a long burst
    link.a.send(user_cells(3), at=np.array([50, 150, 250]))
    link.advance(200)
    c = conserved(link)
    assert (c["cells_delivered"], c["cells_lost_burst"], c["cells_queued"]) == (1, 1, 1)
    d = link.b.receive()
    assert d.slots[~d.idle].tolist() == [50]
    assert d.slots.tolist() == [t for t in range(200) if t != 150]   # idle cells fill the other slots


def test_a_link_with_a_clock_never_sends_into_the_past():
    from hw.clock import Clock

    clock = Clock("OC-3c")
    link = Link(clock=clock)
    clock.run_until(1000)
    link.a.send(user_cells(2))               # the lane is still at slot 0, the clock at 1000
    link.advance(1010)
    assert link.b.receive().slots.tolist() == [1000, 1001]
    with pytest.raises(FieldError):
        Link(clock=object())


def test_offer_signals_the_far_end():
    link = Link()
    seen = []
    link.a_to_b.on_offer = lambda lane, n: seen.append((lane.name, n, lane.busy_until))
    link.a.send(user_cells(3))
    link.a.send(user_cells(2), at=10)
    assert seen == [("a->b", 3, 3), ("a->b", 2, 12)]


@pytest.mark.parametrize("impaired", [False, True])
def test_taps_see_the_user_cells_each_lane_delivers(impaired):
    imp = Impairments(loss=0.2, ber=1e-3) if impaired else None
    link = Link(impairments=imp, seed=3, emit_idle=impaired, delay_slots=4)
    taps: list[tuple[str, np.ndarray, np.ndarray]] = []

    def tap(direction, cells, slots):
        taps.append((direction, cells.copy(), slots.copy()))

    link.add_tap(tap)
    link.a.send(user_cells(200))
    link.b.send(user_cells(50, 1), at=np.arange(50) * 3)
    link.advance(300)
    got = {"a->b": link.b.receive(), "b->a": link.a.receive()}
    for direction, d in got.items():
        seen = [(c, s) for name, c, s in taps if name == direction]
        cells = np.concatenate([c for c, _ in seen])
        slots = np.concatenate([s for _, s in seen])
        user = ~d.idle
        assert np.array_equal(cells, d.cells[user]) and np.array_equal(slots, d.slots[user])  # after impairments
        assert cells.shape[0] == link.counters[direction]["cells_delivered"]
        assert not (cells[:, :4] == [0, 0, 0, 1]).all(axis=1).any()                          # no idle cell
    link.remove_tap(tap)
    link.a.send(user_cells(5))
    link.advance(310)
    assert sum(c.shape[0] for _, c, _ in taps) == sum(link.counters[d]["cells_delivered"] for d in got) - 5
    with pytest.raises(FieldError):
        link.remove_tap(tap)
    with pytest.raises(FieldError):
        link.add_tap("not callable")


@pytest.mark.parametrize("seed", range(4))
def test_departures_fast_form_has_the_effects_of_a_scheduled_offer(seed):
    """Lane.offer_departures (a switch output's cells, each for its exact slot) against the general
    offer(cells, slots, copy=False): same counters, same transmit slots, same cells delivered, same
    cell-available signals - on runs of consecutive slots (its fast case), and on gaps, slots already
    taken, a nearly full FIFO and a clock ahead of the lane (where it defers to offer)."""
    from hw.clock import Clock

    results = []
    fallbacks = []
    for fast in (True, False):
        clock = Clock("OC-3c")
        link = Link(clock=clock, delay_slots=int(seed % 2), max_queue_cells=40 if seed == 3 else 1024)
        lane = link.b_to_a
        signals = []
        lane.on_offer = lambda ln, n: signals.append((n, ln.busy_until))
        draw = np.random.default_rng(seed)
        t = 0
        got = []
        for k in range(60):
            n = int(draw.integers(1, 5))
            t += int(draw.integers(-2, 6))
            if draw.random() < 0.3:
                slots = np.arange(t, t + n, dtype=np.int64)
            else:
                slots = np.sort(t + draw.integers(0, 3 * n, n)).astype(np.int64)
            cells = user_cells(n, seed * 100 + k)
            if fast:
                queued = lane.counters["cells_offered"]
                general = lane.offer
                lane.offer = lambda *a, **kw: fallbacks.append(1) or general(*a, **kw)
                taken = lane.offer_departures(cells, slots)
                del lane.offer
                assert lane.counters["cells_offered"] == queued + n
            else:
                taken = lane.offer(cells, slots, copy=False)
            got.append((taken, lane.last_tx))
            if draw.random() < 0.4:
                step = int(draw.integers(0, 8))
                clock.run_until(clock.now + step)
                link.advance(max(link.now, clock.now))
            t = max(t, clock.now - 1)
        link.advance(link.now + 300)
        d = link.a.receive()
        results.append((got, signals, d.slots.tolist(), d.cells.tobytes(), dict(lane.counters)))
        conserved(link)
    assert results[0] == results[1]
    assert 0 < len(fallbacks) < 60 or seed == 3  # both the fast form and the general offer were exercised
    if seed == 3:
        assert results[0][4]["cells_dropped_queue_full"]  # a full FIFO: the offer counts the drops
