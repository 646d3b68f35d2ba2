"""The recorder and its taps: SAAL endpoints and cell links recorded into one pcapng file, one interface per
link, each signalling frame once with the sender's direction bit, virtual-clock nanoseconds, comments tied
to frames, data cells filtered by VC and bounded, AAL5 PDUs with their trailer, statistics at close, and
the classic pcap export."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from captures import reader
from captures.exchange import read_exchanges
from captures.pcapng import BLOCK_ISB, ISB_FILTERACCEPT, ISB_IFDROP, ISB_IFRECV, OPT_COMMENT
from captures.recorder import Recorder, RecorderFieldError, erf_port0_side, slots_to_ns
from captures.records import LINKTYPE_ERF, LINKTYPE_SUNATM, erf_cells_from_records, sunatm_record
from captures.summary import NETWORK_TO_USER, USER_TO_NETWORK, summarize
from captures.taps import CellTap, TapUnavailableError
from firmware.signalling_link import SignallingLink, connect
from firmware.uni import builders as b
from hw.aal5 import parse_cpcs_pdu, segment
from hw.cell import stamp_hec
from hw.clock import Clock
from hw.link import Link

CPS = 353_208  # OC-3c cells per second (reference: line rates)


class Uni:
    """A user-side and a network-side SAAL endpoint over an OC-3c hw link, on one clock; ``raw`` keeps what
    each endpoint's own tap hook saw before the recorder took it over (the recorder must still call it)."""

    def __init__(self, *, delay_slots: int = 40, impairments=None, seed: int = 1) -> None:
        self.clock = Clock("OC-3c")
        self.link = Link("OC-3c", delay_slots=delay_slots, a="adapter0", b="switch:0", impairments=impairments,
                         seed=seed)
        self.raw = {"user": [], "network": []}
        self.user = SignallingLink(self.clock, name="user", side="user",
                                   tap=lambda d, o, s: self.raw["user"].append((str(d.value), o, s)))
        self.network = SignallingLink(self.clock, name="network", side="network",
                                      tap=lambda d, o, s: self.raw["network"].append((str(d.value), o, s)))
        connect(self.link, self.user, self.network)

    def run(self, seconds: float) -> None:
        self.clock.run_for(self.clock.slots(seconds))

    def exchange(self, annotate=None) -> None:
        """Establish, then ADD PARTY from the user and ADD PARTY ACKNOWLEDGE from the network."""
        self.user.establish()
        self.run(0.01)
        if annotate is not None:
            annotate(self.clock.now)
        self.user.send_message(b.AddParty(0x123, 3, "+4930999"))
        self.run(0.01)
        self.network.send_message(b.AddPartyAcknowledge(0x123, 3))
        self.run(0.01)


def frames_of(path: Path) -> list:
    return [f for f in summarize(path) if f.signalling]


def test_both_ends_tapped_record_each_frame_once_with_the_senders_direction(tmp_path):
    uni = Uni()
    path = tmp_path / "uni.pcapng"
    with Recorder(path, uni.clock) as rec:
        link = rec.link("adapter0", "switch:0")
        rec.tap_signalling(link, uni.user)
        rec.tap_signalling(link, uni.network)
        uni.exchange()
    frames = frames_of(path)
    sent = {side: [o for d, o, _ in uni.raw[side] if d == "tx"] for side in ("user", "network")}
    # Each PDU any endpoint sent is in the file once, with the direction bit of its sender.
    assert [f.data[4:] for f in frames if f.direction == USER_TO_NETWORK] == sent["user"]
    assert [f.data[4:] for f in frames if f.direction == NETWORK_TO_USER] == sent["network"]
    assert [f.sscop for f in frames][:2] == ["BGN", "BGAK"]
    assert [f.message for f in frames if f.message] == ["ADD PARTY", "ADD PARTY ACKNOWLEDGE"]
    assert {f.link for f in frames} == {"adapter0<->switch:0"}
    c = rec.links["adapter0<->switch:0"].counters
    received = sum(1 for side in uni.raw.values() for d, _, _ in side if d == "rx")
    assert c["frames"] == len(frames) == len(sent["user"]) + len(sent["network"])
    assert c["frames_seen_twice"] == received  # every frame reached the far end, whose tap left it out


def test_one_end_tapped_records_both_directions_as_the_two_ends_would(tmp_path):
    both, one = Uni(), Uni()
    with Recorder(tmp_path / "both.pcapng", both.clock) as rec:
        link = rec.link("adapter0", "switch:0")
        rec.tap_signalling(link, both.user)
        rec.tap_signalling(link, both.network)
        both.exchange()
    with Recorder(tmp_path / "one.pcapng", one.clock) as rec:
        rec.tap_signalling(rec.link("adapter0", "switch:0"), one.network)
        one.exchange()
    a, b_ = frames_of(tmp_path / "both.pcapng"), frames_of(tmp_path / "one.pcapng")
    assert [(f.direction, f.data) for f in a] == [(f.direction, f.data) for f in b_]
    # Tapped at the receiver, a frame is time-stamped when it arrived: later than where it was sent.
    sent_at = [f.time_ns for f in a if f.direction == USER_TO_NETWORK]
    seen_at = [f.time_ns for f in b_ if f.direction == USER_TO_NETWORK]
    assert all(later > earlier for earlier, later in zip(sent_at, seen_at))


def test_frames_lost_on_the_line_are_recorded_once_and_counted(tmp_path):
    """Cells lost on the line lose their frames (SSCOP sends them again): every PDU either end sent is in
    the capture once, and the receiver's tap tells which the line lost."""
    from hw.link import Impairments

    uni = Uni(impairments=Impairments(loss=0.15), seed=3)
    with Recorder(tmp_path / "lossy.pcapng", uni.clock) as rec:
        link = rec.link("adapter0", "switch:0")
        rec.tap_signalling(link, uni.user)
        rec.tap_signalling(link, uni.network)
        uni.user.establish()
        while not (uni.user.established and uni.network.established):
            uni.run(0.5)  # a lost BGN or BGAK goes again when Timer_CC runs out
        for epref in range(1, 6):
            uni.user.send_message(b.AddParty(0x123, epref, "+4930999"))
            uni.network.send_message(b.AddPartyAcknowledge(0x123, epref))
        uni.run(5.0)  # SSCOP's timers send again what was lost
    c = link.counters
    sent = sum(1 for side in uni.raw.values() for d, _, _ in side if d == "tx")
    received = sum(1 for side in uni.raw.values() for d, _, _ in side if d == "rx")
    assert c["frames"] == sent and c["frames_recorded_at_receiver"] == 0
    assert c["frames_seen_twice"] == received
    assert c["frames_lost_after_tap"] > 0
    assert c["frames_lost_after_tap"] + c["frames_seen_twice"] <= sent  # the rest were still on their way


def test_timestamps_are_the_slots_of_the_virtual_clock_in_nanoseconds(tmp_path):
    uni = Uni()
    epoch = 1_700_000_000_000_000_000
    path = tmp_path / "t.pcapng"
    with Recorder(path, uni.clock, epoch_ns=epoch) as rec:
        link = rec.link("adapter0", "switch:0")
        rec.tap_signalling(link, uni.user)
        rec.tap_signalling(link, uni.network)
        uni.exchange()
    tx_slots = sorted(s for side in uni.raw.values() for d, _, s in side if d == "tx")
    times = [f.time_ns for f in frames_of(path)]
    assert times == [epoch + s * 1_000_000_000 // CPS for s in tx_slots]
    assert tx_slots[-1] > CPS // 100  # a run of several hundredths of a second: the arithmetic is exercised


def test_slots_to_ns_is_exact_for_ints_and_arrays():
    slots = np.array([0, 1, CPS - 1, CPS, 10**12 + 7], dtype=np.int64)  # 10^12 slots: no int64 overflow
    expected = [s * 10**9 // CPS + 5 for s in slots.tolist()]
    assert slots_to_ns(slots, CPS, 5).tolist() == expected
    assert [slots_to_ns(int(s), CPS, 5) for s in slots] == expected


def test_annotation_attaches_to_the_next_message_frame_of_that_side(tmp_path):
    uni = Uni()
    path = tmp_path / "a.pcapng"
    with Recorder(path, uni.clock) as rec:
        link = rec.link("adapter0", "switch:0")
        rec.tap_signalling(link, uni.user)
        rec.tap_signalling(link, uni.network)
        rec.annotate(link, 0, "NdisClMakeCall -> PENDING", messages_only=False)  # the BGN takes it
        uni.exchange(annotate=lambda now: (
            rec.annotate(link, now, "NdisClAddParty party=3 -> PENDING", sent_by="user"),
            rec.annotate(link, now, "NdisMCmAddPartyComplete party=3 SUCCESS", sent_by="network")))
    commented = {f.message or f.sscop: f.comments for f in frames_of(path) if f.comments}
    assert commented == {"BGN": ("NdisClMakeCall -> PENDING",),
                         "ADD PARTY": ("NdisClAddParty party=3 -> PENDING",),
                         "ADD PARTY ACKNOWLEDGE": ("NdisMCmAddPartyComplete party=3 SUCCESS",)}
    assert rec.counters["comments"] == 3 and rec.unattached_comments == []


def test_an_annotation_waits_for_its_slot_and_one_left_over_is_counted_and_kept(tmp_path):
    clock = Clock("OC-3c")
    path = tmp_path / "late.pcapng"
    with Recorder(path, clock) as rec:
        link = rec.link("root", "switch:0")
        rec.annotate(link, 500, "for slot 500 on")
        rec.annotate(link, 10**6, "never used")
        poll = bytes(4) + bytes((0x0A, 0, 0, 1))  # a POLL PDU (type 0xA in the trailer, Q.2110 7.2)
        sd = bytes(8) + bytes((0x08, 0, 0, 1))  # an SD PDU (type 0x8)
        rec.record_signalling(link, "user", sd, 100)  # before slot 500
        rec.record_signalling(link, "user", poll, 600)  # after it, but no message
        rec.record_signalling(link, "user", sd, 700)
    comments = [r.comments for r in reader.open(path)]
    assert comments == [(), (), ("for slot 500 on",)]
    assert rec.unattached_comments == [("root<->switch:0", 10**6, "never used")]
    assert rec.counters["comments_unattached"] == 1
    isbs = interface_statistics(path)
    assert isbs[0]["comments"] == ["annotation for slot 1000000 attached to no frame: never used"]
    assert isbs[0][ISB_IFRECV] == 3


def interface_statistics(path: Path) -> dict[int, dict]:
    """The Interface Statistics Blocks of a little-endian pcapng file, by interface: counters by option
    code, comments. Walks the blocks by hand (section 3.1), apart from the project's reader."""
    data = path.read_bytes()
    out: dict[int, dict] = {}
    pos = 0
    while pos < len(data):
        block_type, length = struct.unpack_from("<II", data, pos)
        if block_type == BLOCK_ISB:
            iface = struct.unpack_from("<I", data, pos + 8)[0]
            stats: dict = {"comments": []}
            p = pos + 20
            while p < pos + length - 4:
                code, olen = struct.unpack_from("<HH", data, p)
                if code == 0:
                    break
                value = data[p + 4:p + 4 + olen]
                if code == OPT_COMMENT:
                    stats["comments"].append(value.decode())
                elif code in (ISB_IFRECV, ISB_IFDROP, ISB_FILTERACCEPT):
                    stats[code] = struct.unpack("<Q", value)[0]
                p += 4 + (olen + 3 & ~3)
            out[iface] = stats
        pos += length
    return out


def test_tapping_mistakes_are_typed_errors(tmp_path):
    uni = Uni()
    with Recorder(tmp_path / "e.pcapng", uni.clock) as rec:
        link = rec.link("adapter0", "switch:0")
        rec.tap_signalling(link, uni.user)
        with pytest.raises(RecorderFieldError, match="not tapped yet"):
            rec.tap_signalling(link, uni.user)
        other_user = SignallingLink(uni.clock, name="u2", side="user")
        with pytest.raises(RecorderFieldError, match="user end is tapped already"):
            rec.tap_signalling(link, other_user)
        with pytest.raises(RecorderFieldError, match="link"):
            rec.annotate("no such link", 0, "x")
        with pytest.raises(RecorderFieldError, match="sent_by"):
            rec.record_signalling(link, "leaf", b"\0" * 8, 0)
        with pytest.raises(RecorderFieldError, match="user"):
            rec.link("a", "b", user="c")
        with pytest.raises(TapUnavailableError, match="add_tap"):
            CellTap(rec, link, object())
    with pytest.raises(RecorderFieldError, match="line rate"):
        Recorder(tmp_path / "x.pcapng", Clock())
    with pytest.raises(RecorderFieldError, match="closed"):
        rec.record_signalling("adapter0<->switch:0", "user", b"\0" * 8, 0)


def test_removing_a_signalling_tap_gives_the_hook_back(tmp_path):
    uni = Uni()
    with Recorder(tmp_path / "r.pcapng", uni.clock) as rec:
        tap = rec.tap_signalling(rec.link("adapter0", "switch:0"), uni.user)
        tap.remove()
        uni.exchange()
    assert rec.counters["frames"] == 0
    assert uni.raw["user"]  # the original hook saw the frames


# ------------------------------------------------------------------------------------------ data cells
def cells_of(vc_pdus: list[tuple[int, int, bytes]]) -> np.ndarray:
    return np.concatenate([segment(sdu, vpi, vci) for vpi, vci, sdu in vc_pdus])


def test_cell_tap_keeps_the_vcs_asked_for_bounded_and_counted(tmp_path):
    clock = Clock("OC-3c")
    rng = np.random.default_rng(1)
    cells = rng.integers(0, 256, (5000, 53), dtype=np.uint8)
    keys = np.array([1 << 16 | 32, 1 << 16 | 33, 5, 2 << 16 | 40])[rng.integers(0, 4, 5000)]
    words = (keys << 4).astype(">u4")  # GFC 0, PTI 0, CLP 0
    cells[:, :4] = words.view(np.uint8).reshape(-1, 4)
    stamp_hec(cells)
    slots = np.arange(5000, dtype=np.int64) * 2
    path = tmp_path / "cells.pcapng"
    with Recorder(path, clock) as rec:
        link = rec.link("adapter0", "switch:0")
        tap = CellTap(rec, link, vcs=[(1, 32), (2, 40)], limit=1500)
        tap("adapter0->switch:0", cells[:3000], slots[:3000])
        tap("switch:0->adapter0", cells[3000:], slots[3000:])
    wanted = np.isin(keys, [1 << 16 | 32, 2 << 16 | 40])
    c = link.counters
    assert c["cells_seen"] == 5000
    assert c["cells_filtered_out"] == int((~wanted).sum())
    assert c["cells"] == 1500 and c["cells_over_limit"] == int(wanted.sum()) - 1500
    rows = [b_.data for b_ in reader.open(path).batches()]
    got = erf_cells_from_records(np.concatenate(rows))
    kept = np.flatnonzero(wanted)[:1500]
    assert np.array_equal(got.cells, cells[kept])  # HEC recomputed on reading: the same 53 octets
    assert got.time_ns.tolist() == [s * 10**9 // CPS for s in slots[kept].tolist()]
    assert got.interface.tolist() == [0 if i < 3000 else 1 for i in kept.tolist()]
    stats = interface_statistics(path)[1]  # the ERF interface, added after the SunATM one
    assert (stats[ISB_IFRECV], stats[ISB_FILTERACCEPT], stats[ISB_IFDROP]) == (5000, int(wanted.sum()),
                                                                               int(wanted.sum()) - 1500)


def test_cell_tap_default_leaves_the_signalling_channel_out():
    cells = cells_of([(0, 5, b"signalling"), (1, 32, b"data"), (0, 16, b"ilmi")])  # one cell each
    clock = Clock("OC-3c")
    import io

    with Recorder(io.BytesIO(), clock) as rec:
        link = rec.link("a", "b")
        CellTap(rec, link)("a->b", cells, np.arange(3))
    assert (link.counters["cells"], link.counters["cells_filtered_out"]) == (2, 1)


def test_aal5_pdus_are_written_whole_with_a_correct_trailer(tmp_path):
    clock = Clock("OC-3c")
    sdus = [bytes(range(256)) * 3, b"x" * 40, b"", b"y" * 1000]
    sdus = [s for s in sdus if s]
    good = cells_of([(1, 32, s) for s in sdus])
    bad = cells_of([(1, 32, b"corrupted on the way")])
    bad[0, 10] ^= 0x40  # a payload bit: the CRC-32 catches it
    tail = cells_of([(1, 32, b"incomplete" * 10)])[:-1]  # no end-of-frame cell
    path = tmp_path / "aal5.pcapng"
    with Recorder(path, clock) as rec:
        link = rec.link("leaf3", "switch:3", user="leaf3")
        tap = CellTap(rec, link, vcs=[(1, 32)], cells=False, aal5=True)
        allc = np.concatenate([good[:5], bad, good[5:], tail])
        tap("leaf3->switch:3", allc, np.arange(len(allc)) * 3)
    records = list(reader.open(path))
    assert all(r.linktype == LINKTYPE_ERF and r.data[8] == 4 for r in records)
    # The bad cell (its own one-cell PDU) landed inside the first PDU: the reassembler refuses what it
    # closes (the first 5 cells and the bad one) and the rest of the first PDU, each on its CRC or length.
    assert sum(v for k, v in link.counters.items() if k.startswith("aal5_discarded.")) == 2
    pdus = [parse_cpcs_pdu(r.data[20:])[0] for r in records]  # raises on a bad CRC or length
    assert pdus == sdus[1:]
    assert all(r.data[16:20] == bytes.fromhex("00100202") for r in records)  # VPI 1, VCI 32, PTI 001
    assert link.counters["aal5_cells_pending"] == len(tail)


def test_erf_interface_description_says_whose_cells_port_0_holds(tmp_path):
    clock = Clock("OC-3c")
    path = tmp_path / "d.pcapng"
    with Recorder(path, clock) as rec:
        link = rec.link("switch:3", "leaf3", user="leaf3")
        CellTap(rec, link, vcs=[(1, 32)])("switch:3->leaf3", cells_of([(1, 32, b"z")]), np.arange(1))
    with reader.open(path) as rd:
        list(rd)
        erf = [i for i in rd.interfaces if i.linktype == LINKTYPE_ERF]
    assert [i.name for i in rd.interfaces] == ["switch:3<->leaf3", "switch:3<->leaf3"]
    assert erf_port0_side(erf[0].description) == "network"  # port 0: what switch:3 sent
    assert [f.direction for f in summarize(path)] == [NETWORK_TO_USER]


def test_cells_through_a_hw_link_tap(tmp_path):
    link = Link("OC-3c", a="adapter0", b="switch:0")
    if not hasattr(link, "add_tap"):
        pytest.skip("hw.link.Link.add_tap is not in this tree yet: the tap is tested by direct calls above")
    clock = Clock("OC-3c")
    cells = cells_of([(1, 32, b"a" * 500), (2, 40, b"b" * 100)])
    path = tmp_path / "link.pcapng"
    with Recorder(path, clock) as rec:
        tap = rec.tap_cells(rec.link("adapter0", "switch:0"), link, vcs=[(1, 32)])
        link.a.send(cells)
        link.advance(len(cells) + 10)
        tap.remove()
    got = erf_cells_from_records(np.concatenate([b_.data for b_ in reader.open(path).batches()]))
    assert np.array_equal(got.cells, cells[:11])


# ------------------------------------------------------------------------------------------ pcap export
def test_classic_pcap_export_of_each_interface(tmp_path):
    clock = Clock("OC-3c")
    path = tmp_path / "run.pcapng"
    rec = Recorder(path, clock)
    link = rec.link("adapter0", "switch:0")
    sdus = [bytes([i]) * 8 + bytes((0x08, 0, 0, i)) for i in range(4)]
    for i, sdu in enumerate(sdus):
        rec.record_signalling(link, "user" if i % 2 == 0 else "network", sdu, 1000 * i, comments=[f"c{i}"])
    CellTap(rec, link, vcs=[(1, 32)])("adapter0->switch:0", cells_of([(1, 32, b"q" * 100)]), np.arange(3))
    assert rec.export_pcap(tmp_path / "early.pcap", link) == 4  # while recording: flushed first
    rec.close()
    paths = rec.export_all_pcap(tmp_path / "pcap")
    assert [p.name for p in paths] == ["run.adapter0_-_switch_0.signalling.pcap", "run.adapter0_-_switch_0.data.pcap"]
    with reader.open(paths[0]) as rd:
        records = list(rd)
        assert rd.format == "pcap" and rd.interfaces[0].linktype == LINKTYPE_SUNATM
    assert [r.data for r in records] == [sunatm_record(i % 2 == 0, 0, 5, s) for i, s in enumerate(sdus)]
    assert [r.time_ns for r in records] == [1000 * i * 10**9 // CPS for i in range(4)]
    with reader.open(paths[1]) as rd:
        assert [len(r.data) for r in rd] == [68, 68, 68]
    assert [f.frame for f in read_exchanges(paths[0])["if0"].frames] == [1, 2, 3, 4]
