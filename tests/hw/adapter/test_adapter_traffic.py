"""Frames through two adapters over a link, driven only through registers, rings and interrupts:
identical bytes, per-VC order, ring wrap-around, scatter-gather, multi-buffer frames, AAL0, drops
counted (no descriptor, unknown VC, CRC errors under bit errors), conservation end to end."""

from __future__ import annotations

import numpy as np
from hw.adapter import RX_ERR, TX_STATUS, Adapter, HostMemory
from hw.adapter.registers import AAL_VALUES, SERVICE_VALUES
from hw.aal5 import pdu_cells
from hw.cell import CellHeader
from hw.clock import Clock
from hw.link import Impairments, Link

SIZES = [1, 40, 47, 48, 49, 96, 100, 1500, 9180, 65535]


def payload(rng: np.random.Generator, n: int) -> bytes:
    return rng.integers(0, 256, n, dtype=np.uint8).tobytes()


def open_both(pair, vcs):
    for d in (pair.da, pair.db):
        for index, vpi, vci, kw in vcs:
            d.open_vc(index, vpi, vci, **kw)


def drain(pair, slots=20000):
    pair.run(slots)
    for d in (pair.da, pair.db):
        for r in range(d.ad.cfg.rx_rings):
            d.harvest(r)


def check_conservation(pair):
    pair.a.check_conservation()
    pair.b.check_conservation()
    pair.link.check_conservation()


def test_frames_of_every_size_on_several_vcs_arrive_identical_and_in_order(make_pair):
    pair = make_pair(driver_b={"rx_ring_size": 64})
    vcs = [(1, 0, 100, {}), (2, 1, 200, {}), (3, 0, 5, {"rx_ring": 1}), (7, 2, 4000, {})]
    open_both(pair, vcs)
    rng = np.random.default_rng(7)
    sent: dict[int, list[bytes]] = {1: [], 2: [], 3: [], 7: []}
    plan = [(vc, n) for n in SIZES for vc in (1, 2, 7)] + [(3, 120), (3, 60)]
    for vc, n in plan:
        data = payload(rng, n)
        ring = 1 if vc == 3 else 0
        while not pair.da.send(vc, data, ring=ring, uu=vc):
            pair.run(200)  # ring full: let the adapter drain it, as a driver would wait
        sent[vc].append(data)
    drain(pair, 60000)
    for vc, frames in sent.items():
        got = pair.db.frames_on(vc)
        assert [f.data for f in got] == frames, f"VC {vc}"
        assert all(f.err == 0 and f.uu == vc for f in got)
    # multi-buffer frames: 2048-octet buffers, so 9180 octets take 5 descriptors, 65535 take 32
    assert max(f.buffers for f in pair.db.frames) == 32
    cells = sum(pdu_cells(len(d)) for frames in sent.values() for d in frames)
    assert pair.da.counter("TX_CELLS") == cells == pair.db.counter("RX_CELLS")
    assert pair.db.counter("RX_FRAMES") == len(plan) == pair.da.counter("TX_FRAMES")
    assert pair.db.counter("RX_OCTETS") == sum(n for _, n in plan)
    assert pair.link.counters["a->b"]["cells_delivered"] == cells
    for vc, frames in sent.items():
        assert pair.db.counter("RX_FRAMES", vc) == len(frames)
        assert pair.da.counter("TX_CELLS", vc) == sum(pdu_cells(len(d)) for d in frames)
    assert all(status == TX_STATUS["OK"] for _, status in pair.da.tx_status)
    check_conservation(pair)


def test_both_directions_at_once(make_pair):
    pair = make_pair()
    open_both(pair, [(1, 0, 100, {})])
    rng = np.random.default_rng(3)
    ab = [payload(rng, int(n)) for n in rng.integers(1, 3000, 12)]
    ba = [payload(rng, int(n)) for n in rng.integers(1, 3000, 12)]
    for x, y in zip(ab, ba):
        assert pair.da.send(1, x)
        assert pair.db.send(1, y)
    drain(pair)
    assert [f.data for f in pair.db.frames] == ab
    assert [f.data for f in pair.da.frames] == ba
    check_conservation(pair)


def test_ring_wraparound_many_times(make_pair):
    pair = make_pair(driver_a={"tx_ring_size": 4}, driver_b={"rx_ring_size": 4})
    open_both(pair, [(1, 0, 100, {})])
    rng = np.random.default_rng(11)
    sent = []
    for k in range(40):  # ten times around both rings
        data = payload(rng, int(rng.integers(1, 1000)))
        while not pair.da.send(1, data):
            pair.run(50)
        sent.append(data)
        pair.run(int(rng.integers(0, 40)))
    drain(pair)
    assert [f.data for f in pair.db.frames] == sent
    assert pair.db.counter("RX_NO_DESC") == 0
    assert pair.da.rd("TXR.HEAD") == 40 % 4 and pair.db.rd("RXR.HEAD") == 40 % 4
    check_conservation(pair)


def test_scatter_gather_transmit_and_small_receive_buffers(make_pair):
    pair = make_pair(driver_b={"rx_buf_size": 100, "rx_ring_size": 64})
    open_both(pair, [(1, 0, 100, {})])
    rng = np.random.default_rng(5)
    data = payload(rng, 1000)
    assert pair.da.send(1, data, chunks=[1, 0, 300, 99, 200])  # a zero-length buffer inside a chain is fine
    drain(pair)
    (f,) = pair.db.frames
    assert f.data == data and f.buffers == 10
    assert pair.da.counter("TX_DESCRIPTORS") == 6
    check_conservation(pair)


def test_no_descriptor_drops_are_counted_and_later_frames_still_arrive(make_pair):
    pair = make_pair(driver_b={"post": 2, "rx_buf_size": 2048}, bring_up_b={"int_mask": 0})
    open_both(pair, [(1, 0, 100, {})])
    rng = np.random.default_rng(2)
    sent = [payload(rng, 500) for _ in range(5)] + [payload(rng, 3000)]
    for d in sent:
        assert pair.da.send(1, d)
    pair.run(5000)
    b = pair.db
    assert b.counter("RX_FRAMES") == 2
    assert b.counter("RX_NO_DESC") == 4
    assert b.counter("RX_NO_DESC_CELLS") == 3 * pdu_cells(500) + pdu_cells(3000)
    assert b.counter("RX_DROPS", 1) == 4
    status = b.rd("INT_STATUS")
    assert b.field("INT_STATUS", "RX_NO_DESC", status) == 1
    b.harvest(0)
    assert [f.data for f in b.frames] == sent[:2]
    assert pair.da.send(1, sent[0])
    drain(pair)
    assert [f.data for f in b.frames] == sent[:2] + [sent[0]]
    check_conservation(pair)


def test_unknown_vc_cells_counted(make_pair):
    pair = make_pair()
    pair.da.open_vc(1, 0, 100)
    pair.da.open_vc(2, 3, 333)
    pair.db.open_vc(1, 0, 100)
    rng = np.random.default_rng(9)
    pair.da.send(2, payload(rng, 200))  # B has no VC 3/333
    pair.da.send(1, payload(rng, 10))
    drain(pair)
    assert pair.db.counter("RX_UNKNOWN_VC") == pdu_cells(200)
    assert len(pair.db.frames) == 1
    check_conservation(pair)


def test_crc_errors_under_bit_errors_are_counted_and_reported(make_pair):
    # bit errors flip payload bits (CRC-32 catches them) and header bits (HEC corrects single-bit
    # errors and discards the rest: a lost cell then breaks its frame too)
    pair = make_pair(impairments=Impairments(ber=6e-5), seed=4, driver_b={"rx_ring_size": 128})
    open_both(pair, [(1, 0, 100, {}), (2, 0, 101, {})])
    rng = np.random.default_rng(4)
    sent = {1: [], 2: []}
    for k in range(120):
        vc = 1 + k % 2
        data = payload(rng, int(rng.integers(200, 1500)))
        while not pair.da.send(vc, data):
            pair.run(100)
        sent[vc].append(data)
    drain(pair, 40000)
    b = pair.db
    errors = [f for f in b.frames if f.err]
    crc = [f for f in errors if f.err == RX_ERR["CRC"]]
    assert crc, "some frames must be hit"
    assert b.counter("RX_CRC_ERRORS") == len(crc)
    reported = (b.counter("RX_CRC_ERRORS") + b.counter("RX_LENGTH_ERRORS") + b.counter("RX_OVERSIZE")
                + b.counter("RX_ABORTS"))
    assert reported == len(errors) and b.counter("RX_UNREPORTED") == 0
    assert all(f.data == b"" for f in errors)
    for vc in (1, 2):  # every good frame is one that was sent, in order
        good = [f.data for f in b.frames_on(vc) if not f.err]
        it = iter(sent[vc])
        assert all(any(g == s for s in it) for g in good)
    lane = pair.link.counters["a->b"]
    assert lane["cells_errored"] > 0
    assert b.counter("RX_PHY_CELLS") == lane["cells_delivered"] == pair.da.counter("TX_CELLS")
    assert b.counter("RX_HEC_CORRECTED") + b.counter("RX_HEC_DISCARDS") > 0
    check_conservation(pair)


def test_aal0_raw_cells_round_trip(make_pair):
    pair = make_pair()
    open_both(pair, [(4, 0, 42, {"aal": "AAL0"})])
    rng = np.random.default_rng(1)
    records = []
    for pti, clp in ((0, 0), (1, 1), (5, 0)):  # user data, AUU + CLP, end-to-end F5 OAM
        head = CellHeader(0, 0, pti, clp).fields_octets()
        records.append(head + payload(rng, 48))
    assert pair.da.send(4, b"".join(records))
    drain(pair)
    got = pair.db.frames
    assert len(got) == 3
    for f, rec, (pti, clp) in zip(got, records, ((0, 0), (1, 1), (5, 0))):
        h = CellHeader.unpack(f.data[:4] + b"\0", check_hec=False)
        assert (h.vpi, h.vci, h.pti, h.clp) == (0, 42, pti, clp)
        assert f.data[4:] == rec[4:] and f.clp == clp
    assert pair.db.counter("RX_FRAMES") == 3 and pair.db.counter("RX_CELLS") == 3
    check_conservation(pair)


def test_transmit_descriptor_errors_are_written_back(make_pair):
    pair = make_pair()
    open_both(pair, [(1, 0, 100, {}), (4, 0, 42, {"aal": "AAL0"})])
    pair.da.open_vc(5, 0, 55, tx=False, rx=False)
    da = pair.da
    da.send(200, b"x" * 10)  # VC index beyond nothing enabled: VC_DISABLED (index < VCS)
    da.send(5, b"x" * 10)  # disabled
    da.send(4, b"x" * 51)  # AAL0 needs whole 52-octet cells
    da.send(1, b"")  # an empty AAL5 SDU would be the abort
    da.send(1, b"abc", chunks=[1])
    TX_bad_vc = pair.a.cfg.vcs  # an index past the table
    da.send(TX_bad_vc, b"x")
    da.send(1, b"ok")
    drain(pair)
    da.reclaim(0)
    codes = [status for _, status in da.tx_status]
    assert codes == [TX_STATUS[s] for s in ("VC_DISABLED", "VC_DISABLED", "BAD_LENGTH", "BAD_LENGTH",
                                             "OK", "OK", "BAD_VC", "OK")]
    assert da.counter("TX_DESC_ERRORS") == 5
    assert [f.data for f in pair.db.frames] == [b"abc", b"ok"]
    assert any(da.field("INT_STATUS", "TX_ERROR", r.status) for r in da.isr_log)
    check_conservation(pair)


def test_mixed_vc_chain_is_refused(make_pair):
    pair = make_pair()
    open_both(pair, [(1, 0, 100, {}), (2, 0, 101, {})])
    da = pair.da
    da.send(1, b"first part", doorbell=False, chunks=[])
    # hand-craft a chain whose descriptors name two VCs
    from hw.adapter import TX_DESC
    from hw.adapter.rings import ring_next
    i = da.tx_tail[0]
    prev = (i - 1) % da.tx_size
    TX_DESC.update(da.mem, da.tx_ring_base[0] + prev * 16, EOP=0)
    buf = da.mem.alloc(4)
    da.tx_bufs[0][i] = buf
    TX_DESC.write(da.mem, da.tx_ring_base[0] + i * 16, ADDR=buf, LEN=4, EOP=1, OWN=1, VC=2)
    da.tx_tail[0] = ring_next(i, da.tx_size)
    da.wr("TXR.TAIL", da.tx_tail[0])
    drain(pair)
    da.reclaim(0)
    assert [s for _, s in da.tx_status] == [TX_STATUS["MIXED_VC"]] * 2
    assert pair.db.frames == []


def test_oam_cells_on_an_aal5_vc_are_counted(make_pair):
    pair = make_pair()
    pair.da.open_vc(4, 0, 100, aal="AAL0")  # A sends raw cells on the VC that B reads as AAL5
    pair.db.open_vc(4, 0, 100)
    rec = CellHeader(0, 0, 4, 0).fields_octets() + bytes(48)  # segment F5 OAM
    pair.da.send(4, rec * 3)
    drain(pair)
    assert pair.db.counter("RX_OAM_CELLS") == 3 and pair.db.frames == []
    check_conservation(pair)


def test_oversize_and_max_sdu(make_pair):
    pair = make_pair()
    open_both(pair, [(1, 0, 100, {"max_sdu": 1000})])
    pair.da.send(1, b"y" * 1001)
    pair.da.send(1, b"z" * 1000)
    drain(pair)
    errs = [f for f in pair.db.frames if f.err]
    assert [f.err for f in errs] == [RX_ERR["OVERSIZE"]]
    assert [f.data for f in pair.db.frames if not f.err] == [b"z" * 1000]
    check_conservation(pair)


def test_reassembly_timeout_reports_a_partial_pdu(make_pair):
    pair = make_pair()
    pair.da.open_vc(4, 0, 100, aal="AAL0")
    pair.db.open_vc(1, 0, 100)
    pair.db.wr("RX_TIMEOUT", 500)
    # two cells of a PDU that never ends (AUU never set)
    pair.da.send(4, (CellHeader(0, 0, 0, 0).fields_octets() + bytes(48)) * 2)
    pair.run(400)
    assert pair.db.counter("RX_PENDING_CELLS") == 2
    pair.run(1000)
    for r in range(2):
        pair.db.harvest(r)
    assert pair.db.counter("RX_TIMEOUTS") == 1
    (f,) = pair.db.frames
    assert f.err == RX_ERR["TIMEOUT"] and f.vc == 1
    check_conservation(pair)


def test_disabled_receiver_counts_cells(make_pair):
    pair = make_pair()
    open_both(pair, [(1, 0, 100, {})])
    pair.db.wr("CTRL", pair.db.bits("CTRL", TX_EN=1, RX_EN=0))
    pair.da.send(1, b"q" * 100)
    drain(pair)
    assert pair.db.counter("RX_DISABLED_CELLS") == 3 and pair.db.frames == []
    check_conservation(pair)


def test_loopback(make_pair):
    pair = make_pair()
    da = pair.da
    da.open_vc(1, 0, 100)
    da.wr("CTRL", da.bits("CTRL", TX_EN=1, RX_EN=1, LOOPBACK=1))
    pair.db.open_vc(1, 0, 100)
    pair.db.send(1, b"from the line")  # dropped at A's PHY while in loopback
    da.send(1, b"to myself" * 30)
    drain(pair)
    assert [f.data for f in da.frames] == [b"to myself" * 30]
    assert pair.link.counters["a->b"]["cells_offered"] == 0
    assert da.counter("RX_DISABLED_CELLS") == 1
    check_conservation(pair)


def test_reset_mid_traffic_discards_and_restarts(make_pair):
    pair = make_pair()
    open_both(pair, [(1, 0, 100, {"pcr": 10_000})])  # slow VC: cells stay queued
    pair.da.send(1, b"r" * 4000)
    pair.run(500)
    assert pair.da.counter("TX_QUEUED_CELLS") > 0
    pair.da.wr("CTRL", pair.da.bits("CTRL", RESET=1))
    assert pair.da.counter("TX_CELLS") == 0 and pair.da.rd("TXR.CTRL") == 0 and pair.da.rd("VC.CTRL", 1) == \
        pair.da.bits("VC.CTRL", AAL="AAL5", SERVICE="UBR")
    assert pair.a.tx.queued == 0
    pair.run(20000)
    # B saw a partial PDU; the rest never comes. A works again after a new bring-up.
    assert pair.db.frames == []
    da = type(pair.da)(pair.a)
    da.bring_up()
    da.open_vc(1, 0, 100)
    da.send(1, b"again")
    pair.db.wr("RX_TIMEOUT", 0)
    drain(pair)
    # the partial PDU from before the reset and the new frame merge: the CRC catches it
    assert [f.err for f in pair.db.frames] == [RX_ERR["CRC"]]
    check_conservation(pair)


def test_kernel_and_twin_engines_give_the_same_run(make_pair):
    """The adapter with the numba HEC receiver and reassembler, and with their plain twins: the same
    impaired run gives the same frames, error reports and counters."""
    results = {}
    for eng in ("kernel", "twin"):
        pair = make_pair(impairments=Impairments(ber=3e-5), seed=8, engine=eng, driver_b={"rx_ring_size": 64})
        open_both(pair, [(1, 0, 100, {}), (2, 5, 77, {})])
        rng = np.random.default_rng(8)
        for k in range(40):
            data = payload(rng, int(rng.integers(1, 2000)))
            while not pair.da.send(1 + k % 2, data):
                pair.run(100)
        drain(pair, 30000)
        results[eng] = ([(f.vc, f.data, f.err, f.slot) for f in pair.db.frames], pair.b.counter_values())
    assert results["kernel"] == results["twin"]
    assert any(err for _, _, err, _ in results["kernel"][0])  # the run did exercise the error paths


def test_adapter_without_a_line_counts_cells_lost_at_the_phy(driver_cls):
    clock = Clock("OC-3c")
    ad = Adapter(clock, HostMemory(1 << 20))
    d = driver_cls(ad)
    d.bring_up()
    d.open_vc(1, 0, 100)
    d.send(1, b"nowhere" * 10)
    clock.run_for(100)
    assert d.counter("TX_NO_LINE_CELLS") == d.counter("TX_CELLS") == 2
    assert d.field("STATUS", "LINK_UP", d.rd("STATUS")) == 0
    ad.check_conservation()


def test_aal_and_service_values_are_the_atm_h_ones():
    assert AAL_VALUES == {"AAL0": 1, "AAL5": 8}  # AAL_TYPE_AAL0 / AAL_TYPE_AAL5
    assert SERVICE_VALUES == {"CBR": 1, "VBR": 2, "UBR": 4, "ABR": 8}  # ATM_SERVICE_CATEGORY_*
    assert Link  # the adapter's line is an hw.link.Link


def test_cells_from_a_raw_far_end_header_errors_idle_and_unassigned(driver_cls):
    """The far end is the test itself: it puts cells on the line and raises the adapter's
    cell-available input (wake_rx), as a testbed in front of a fabric port does."""
    from hw.aal5 import segment
    from hw.cell import idle_cells, unassigned_cells

    clock = Clock("OC-3c")
    link = Link("OC-3c")
    ad = Adapter(clock, HostMemory(1 << 20))
    ad.attach(link.a)
    d = driver_cls(ad)
    d.bring_up()
    d.open_vc(1, 0, 100)
    frame = b"hello, adapter" * 10
    good = segment(frame, 0, 100)
    one_bit = segment(frame, 0, 100)
    one_bit[:, 2] ^= 0x10  # a single-bit header error in every cell: corrected (then detection mode...)
    two_bit = segment(b"lost", 0, 100)
    two_bit[0, 1] ^= 0x81  # two bits: discarded
    cells = np.concatenate([good, idle_cells(3), unassigned_cells(2), two_bit, good])
    clock.run_for(10)
    link.advance(clock.now)
    link.b.send(cells)
    ad.wake_rx()
    clock.run_for(200)
    assert [f.data for f in d.frames] == [frame, frame]
    assert d.counter("RX_HEC_DISCARDS") == 1 and d.counter("RX_IDLE_CELLS") == 5
    assert d.counter("RX_PHY_CELLS") == len(cells)
    # the frame's slot is the arrival of its last cell; the descriptor was written one slot later
    assert d.frames[1].slot == 10 + len(cells) - 1
    assert d.isr_log[-1].slot == 10 + len(cells)
    ad.check_conservation()
    # a single-bit error after a good header is corrected (I.432.1 correction mode)
    link.b.send(one_bit[:1].copy())
    link.b.send(one_bit[1:].copy())
    ad.wake_rx()
    clock.run_for(100)
    assert d.counter("RX_HEC_CORRECTED") == 1 and d.counter("RX_HEC_DISCARDS") == 1 + len(one_bit) - 1
    ad.check_conservation()


def run_mixed_traffic(pair, announce: str) -> tuple:
    """Frames and AAL0 cells A -> B; B's cell-available input driven as ``announce`` says."""
    if announce == "bare":
        pair.a.far_wake = lambda cells, slots: pair.b.wake_rx()
    elif announce == "none":
        pair.a.far_wake = None
        pair.db.wr("RX_POLL", 1)  # the receiver polls every slot instead
    open_both(pair, [(1, 0, 100, {}), (2, 0, 101, {"rx_ring": 1}), (4, 0, 42, {"aal": "AAL0"})])
    rng = np.random.default_rng(12)
    for k in range(30):
        vc = (1, 2, 4)[k % 3]
        data = payload(rng, 52 * int(rng.integers(1, 4)) if vc == 4 else int(rng.integers(1, 700)))
        assert pair.da.send(vc, data, ring=1 if vc == 2 else 0)
        pair.run(int(rng.integers(0, 30)))
    drain(pair, 5000)
    frames = [(f.vc, f.data, f.err, f.slot) for f in pair.db.frames]
    isr = [(r.slot, r.status) for r in pair.db.isr_log]
    return frames, isr


def test_announced_and_unannounced_cells_give_the_same_slots(make_pair):
    """Whether the far end announces the cells it sends (wake_rx(cells, slots)), only says that it
    sent some (wake_rx()), or says nothing (RX_POLL every slot), every frame and every interrupt comes
    at the same slot."""
    for delay in (0, 5):
        runs = {mode: run_mixed_traffic(make_pair(delay_slots=delay), mode) for mode in ("cells", "bare", "none")}
        assert runs["cells"] == runs["bare"] == runs["none"]
        assert len(runs["cells"][0]) > 30 and runs["cells"][1]


def test_rx_poll_alone_gets_exact_descriptor_slots_and_late_interrupts(make_pair):
    pair = make_pair()
    pair.a.far_wake = None  # B is never told that cells come
    open_both(pair, [(1, 0, 100, {})])
    pair.db.wr("RX_POLL", 100)
    pair.run(10)
    pair.da.send(1, b"p" * 200)  # 5 cells, slots 10..14
    pair.run(300)
    (f,) = pair.db.frames
    assert f.data == b"p" * 200 and f.slot == 14
    assert [r.slot for r in pair.db.isr_log] == [100]  # found by the poll at slot 100


def test_cells_arriving_after_a_reset_are_drained_and_counted(make_pair):
    pair = make_pair(delay_slots=3)
    open_both(pair, [(1, 0, 100, {"pcr": 35_000})])  # about one cell every 10 slots
    pair.db.send(1, b"d" * 2000)  # 42 cells toward A
    pair.run(200)
    received_before = pair.da.counter("RX_PHY_CELLS")
    assert 0 < received_before < 42
    pair.da.wr("CTRL", pair.da.bits("CTRL", RESET=1))
    pair.run(1000)
    assert pair.link.b_to_a.rx_backlog == 0
    assert pair.da.counter("RX_DISABLED_CELLS") == pair.da.counter("RX_PHY_CELLS") == 42 - received_before
    pair.a.check_conservation()
