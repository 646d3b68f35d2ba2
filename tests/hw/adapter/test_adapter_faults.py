"""Faults: bad DMA addresses and descriptors the driver never handed over. Recorded in the registers,
the ring halted, the FAULT interrupt raised; in strict mode also raised as typed errors."""

from __future__ import annotations

import pytest

from hw.adapter import RX_DESC, TX_DESC, DescriptorFault, DmaFault
from hw.adapter.registers import INT_FAULT
from hw.adapter.rings import ring_next


def fault_regs(d):
    info = d.rd("FAULT_INFO")
    return (d.field("FAULT_INFO", "CODE", info), d.field("FAULT_INFO", "DIR", info),
            d.field("FAULT_INFO", "RING", info), d.field("FAULT_INFO", "INDEX", info), d.rd64("FAULT_ADDR"))


def post_bad_tx(d, vc, addr, length, own=1):
    i = d.tx_tail[0]
    TX_DESC.write(d.mem, d.tx_ring_base[0] + i * TX_DESC.octets, ADDR=addr, LEN=length, EOP=1, OWN=own, VC=vc)
    d.tx_tail[0] = ring_next(i, d.tx_size)
    d.wr("TXR.TAIL", d.tx_tail[0])
    return i


def test_tx_dma_outside_any_buffer_raises_in_strict_mode(make_pair):
    pair = make_pair()
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    da = pair.da
    buf = da.mem.alloc(64)
    da.mem.free(buf)  # a stale physical address: the classic bug
    i = post_bad_tx(da, 1, buf, 64)
    with pytest.raises(DmaFault) as info:
        pair.run(10)
    exc = info.value
    assert (exc.direction, exc.ring, exc.index, exc.address) == ("tx", 0, i, buf)
    assert fault_regs(da) == (1, 0, 0, i, buf)
    assert da.field("STATUS", "FAULT", da.rd("STATUS")) == 1
    assert da.field("TXR.CTRL", "HALTED", da.rd("TXR.CTRL")) == 1
    assert da.rd("TXR.HEAD") == i  # the descriptor was not completed
    assert da.isr_log and da.isr_log[-1].status & (1 << INT_FAULT)


def test_non_strict_fault_is_recorded_and_the_ring_can_be_restarted(make_pair):
    pair = make_pair(strict=False)
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    da = pair.da
    post_bad_tx(da, 1, da.mem.end + 4096, 10)  # beyond host memory
    pair.run(10)
    assert pair.a.faults and isinstance(pair.a.faults[0], DmaFault)
    assert da.field("TXR.CTRL", "HALTED", da.rd("TXR.CTRL")) == 1
    da.send(1, b"queued behind the fault")
    pair.run(100)
    assert pair.db.frames == []  # a halted ring is not served
    # recovery, as a driver does it: stop the ring (indices to 0), rewrite it, start it again
    da.wr("TXR.CTRL", 0)
    da.tx_tail[0] = da.tx_clean[0] = 0
    da.tx_bufs[0].clear()
    da.wr("TXR.CTRL", da.bits("TXR.CTRL", ENABLE=1))
    da.send(1, b"after recovery")
    pair.run(100)
    assert [f.data for f in pair.db.frames] == [b"after recovery"]
    assert fault_regs(da)[0] == 1  # the first fault stays recorded until reset


def test_descriptor_not_owned_is_a_descriptor_fault(make_pair):
    pair = make_pair()
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    da = pair.da
    buf = da.mem.alloc(10)
    i = post_bad_tx(da, 1, buf, 10, own=0)
    with pytest.raises(DescriptorFault, match="OWN = 0"):
        pair.run(10)
    assert fault_regs(da)[:4] == (2, 0, 0, i)


def test_rx_buffer_fault_drops_the_frame_counted(make_pair):
    pair = make_pair(strict=False, driver_b={"post": 0})
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    db = pair.db
    buf = db.mem.alloc(32)  # SIZE says 2048: the adapter writes past the end of this buffer
    RX_DESC.write(db.mem, db.rx_ring_base[0], ADDR=buf, SIZE=2048, OWN=1)
    db.rx_bufs[0][0] = (buf, 32)
    db.rx_tail[0] = 1
    db.wr("RXR.TAIL", 1)
    pair.da.send(1, b"x" * 100)
    pair.run(100)
    (fault,) = pair.b.faults
    assert isinstance(fault, DmaFault) and fault.direction == "rx" and fault.address == buf
    assert fault_regs(db)[:4] == (1, 1, 0, 0)
    assert db.counter("RX_NO_DESC") == 1 and db.counter("RX_FRAMES") == 0
    pair.b.check_conservation()


def test_ring_memory_freed_under_the_adapter(make_pair):
    pair = make_pair()
    for d in (pair.da, pair.db):
        d.open_vc(1, 0, 100)
    da = pair.da
    da.send(1, b"abc", doorbell=False)
    da.mem.free(da.tx_ring_base[0])
    da.wr("TXR.TAIL", da.tx_tail[0])
    with pytest.raises(DmaFault, match="no live allocation"):
        pair.run(10)
