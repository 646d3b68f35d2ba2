"""Interrupts as a driver sees them: exact slots, W1C status, mask, coalescing by count and by delay,
error causes that bypass coalescing, the level-triggered line and the storm guard."""

from __future__ import annotations

import pytest

from hw.adapter import InterruptStorm
from hw.adapter.interrupts import STORM_LIMIT
from hw.adapter.registers import INT_LINK, INT_RX_DONE, INT_RX_NO_DESC, INT_TX_DONE
from hw.aal5 import pdu_cells

RX0 = 1 << INT_RX_DONE
TX0 = 1 << INT_TX_DONE


@pytest.mark.parametrize("delay", [0, 7])
def test_receive_interrupt_at_the_slot_after_the_last_cell(make_pair, delay):
    pair = make_pair(delay_slots=delay)
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    pair.run(1000)
    start = pair.clock.now
    data = b"s" * 500
    pair.da.send(1, data)  # doorbell at `start`: the fetch runs in this slot, the first cell goes out in it
    pair.run(2000)
    k = pdu_cells(len(data))
    last_arrival = start + k - 1 + delay
    rx = [r for r in pair.db.isr_log if r.status & RX0]
    assert [r.slot for r in rx] == [last_arrival + 1]
    (f,) = pair.db.frames
    assert f.slot == last_arrival and f.data == data
    tx = [r for r in pair.da.isr_log if r.status & TX0]
    assert [r.slot for r in tx] == [start]  # transmit completion: when the buffers were fetched


def test_w1c_status_mask_and_pending_without_an_isr(make_pair):
    pair = make_pair(driver_b={"connect_isr": False}, bring_up_b={"int_mask": 0})
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    pair.da.send(1, b"a")
    pair.da.send(1, b"b" * 10_000)  # needs 5 descriptors of 2048: there are 31, fine
    pair.run(1000)
    b = pair.db
    status = b.rd("INT_STATUS")
    assert status == RX0
    assert b.rd("INT_PENDING") == 0 and not pair.b.irq.level  # masked
    b.wr("INT_STATUS", 0)  # writing 0 changes nothing
    assert b.rd("INT_STATUS") == RX0
    b.wr("INT_STATUS", 1 << INT_RX_NO_DESC)  # writing 1 to a clear bit changes nothing either
    assert b.rd("INT_STATUS") == RX0
    b.wr("INT_MASK", RX0)
    assert pair.b.irq.level
    assert b.rd("INT_PENDING") == RX0 | (1 << 31)
    b.wr("INT_STATUS", RX0)  # W1C
    assert b.rd("INT_STATUS") == 0 and not pair.b.irq.level and b.rd("INT_PENDING") == 0
    assert b.counter("INTERRUPTS") == 1


def test_unmasking_a_pending_cause_calls_the_isr_at_once(make_pair):
    pair = make_pair(bring_up_b={"int_mask": 0})
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    pair.da.send(1, b"x")
    pair.run(100)
    assert pair.db.isr_log == []
    pair.db.wr("INT_MASK", RX0)
    assert [r.status for r in pair.db.isr_log] == [RX0]
    assert [f.data for f in pair.db.frames] == [b"x"]


def send_spaced(pair, n, gap, size=1):
    """n one-cell frames, one every ``gap`` slots; returns the arrival slot of each."""
    arrivals = []
    for _ in range(n):
        arrivals.append(pair.clock.now)
        pair.da.send(1, b"c" * size)
        pair.run(gap)
    return arrivals


def test_coalescing_by_frame_count(make_pair):
    pair = make_pair(bring_up_b={"max_frames": 4})
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    arrivals = send_spaced(pair, 10, 100)
    rx = [r.slot for r in pair.db.isr_log if r.status & RX0]
    assert rx == [arrivals[3] + 1, arrivals[7] + 1]  # the 4th and the 8th completion
    assert len(pair.db.frames) == 8
    # the last two are held (no timer): visible by polling
    assert pair.db.rd("INT_STATUS") & RX0
    assert pair.b.irq.held == 2 and not pair.b.irq.level
    pair.db.harvest(0)
    assert len(pair.db.frames) == 10


def test_coalescing_by_delay(make_pair):
    pair = make_pair(bring_up_b={"max_frames": 100, "max_delay": 250})
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    arrivals = send_spaced(pair, 10, 40)
    pair.run(1000)
    rx = [r.slot for r in pair.db.isr_log if r.status & RX0]
    first = arrivals[0] + 1
    # the first held completion starts the timer; the ISR clears the status, so the next batch
    # starts a new timer at its first completion
    assert rx[0] == first + 250
    batch2 = min(a + 1 for a in arrivals if a + 1 > rx[0])
    assert rx[1] == batch2 + 250
    assert len(pair.db.frames) == 10
    assert pair.db.counter("INTERRUPTS") == len(rx)


def test_coalescing_count_and_delay_together(make_pair):
    pair = make_pair(bring_up_b={"max_frames": 3, "max_delay": 1000})
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    arrivals = send_spaced(pair, 4, 50)
    pair.run(2000)
    rx = [r.slot for r in pair.db.isr_log if r.status & RX0]
    assert rx == [arrivals[2] + 1, arrivals[3] + 1 + 1000]


def test_error_causes_bypass_coalescing(make_pair):
    pair = make_pair(driver_b={"post": 0}, bring_up_b={"max_frames": 100})
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    pair.run(10)
    t = pair.clock.now
    pair.da.send(1, b"lost")
    pair.run(100)
    assert [(r.slot, r.status) for r in pair.db.isr_log] == [(t + 1, 1 << INT_RX_NO_DESC)]


def test_isr_that_never_acknowledges_is_an_interrupt_storm(make_pair):
    pair = make_pair()
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    calls = []
    pair.b.irq.connect(lambda: calls.append(pair.db.rd("INT_STATUS")))
    pair.da.send(1, b"x")
    with pytest.raises(InterruptStorm) as info:
        pair.run(100)
    assert len(calls) == STORM_LIMIT and info.value.pending == RX0


def test_isr_that_masks_and_defers_to_a_dpc(make_pair):
    """The NDIS pattern: the ISR masks the interrupt and queues a DPC; the DPC acknowledges, works
    and unmasks. The line drops in the ISR, so no storm."""
    pair = make_pair()
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    db = pair.db
    dpcs = []

    def dpc():
        dpcs.append(pair.clock.now)
        db.wr("INT_STATUS", db.rd("INT_STATUS"))
        db.harvest(0)
        db.wr("INT_MASK", RX0)

    def isr():
        db.wr("INT_MASK", 0)
        pair.clock.schedule_in(3, dpc)

    pair.b.irq.connect(isr)
    t = pair.clock.now
    pair.da.send(1, b"one")
    pair.run(50)
    pair.da.send(1, b"two")
    pair.run(50)
    assert dpcs == [t + 1 + 3, t + 50 + 1 + 3]
    assert [f.data for f in db.frames] == [b"one", b"two"]


def test_link_down_and_up_raise_the_link_cause(make_pair):
    pair = make_pair()
    pair.db.wr("RX_POLL", 16)
    pair.run(100)
    assert pair.db.field("STATUS", "LINK_UP", pair.db.rd("STATUS")) == 1
    pair.link.down()
    pair.run(20)
    assert pair.db.field("STATUS", "LINK_UP", pair.db.rd("STATUS")) == 0
    links = [r for r in pair.db.isr_log if r.status & (1 << INT_LINK)]
    assert len(links) == 1 and 100 < links[0].slot <= 116
    pair.link.up()
    pair.run(20)
    assert len([r for r in pair.db.isr_log if r.status & (1 << INT_LINK)]) == 2
