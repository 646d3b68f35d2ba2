"""Signalling exchanges read from captures of every kind replay works on: SunATM written by the recorder,
ERF AAL5 and ERF cells on VPI 0/VCI 5 written as another capture tool would (classic pcap, no interface
names, the direction only by ERF port), with SSCOP retransmissions recognised and AAL5 errors counted."""

from __future__ import annotations

import numpy as np
import pytest

from captures.exchange import read_exchanges
from captures.pcap import PcapWriter
from captures.pcapng import PcapngWriter
from captures.recorder import Recorder
from captures.records import LINKTYPE_ERF, erf_aal5_record, erf_cell_records
from captures.summary import SummaryFieldError
from captures.synth import SignallingWriter
from firmware.sscop import fastcodec
from firmware.sscop.layout import PDUType
from firmware.uni import builders as b
from hw.aal5 import cpcs_pdu, segment
from hw.clock import Clock

CPS = 353_208
LEAF = "+4930999"


def messages():
    """(sent by, message) of a short root exchange."""
    return [("user", b.Setup(1, called=LEAF)), ("network", b.CallProceeding(1)), ("network", b.Connect(1)),
            ("user", b.ConnectAcknowledge(1)), ("user", b.AddParty(1, 1, "+4930888")),
            ("network", b.AddPartyReject(1, 1, cause=17))]


def sunatm_capture(path, *, retransmit: bool = False, reestablish: bool = False):
    clock = Clock("OC-3c")
    with Recorder(path, clock) as rec:
        link = rec.link("root", "switch:0")
        w = SignallingWriter(rec)
        w.establish(link, 0)
        slot = 100
        for who, message in messages():
            w.message(link, who, message, slot)
            slot += 100
        if retransmit:  # the ADD PARTY again, with its N(S): a retransmission
            w.message(link, "user", messages()[4][1], slot, n_s=2)
        if reestablish:  # a new SSCOP connection: N(S) starts at 0 again, and 0 is a new message
            w.establish(link, slot + 100)
            w.message(link, "user", b.StatusEnquiry(1), slot + 200)
    return path


def sds():
    """(sent by, SD PDU octets) of :func:`messages`, numbered per direction from 0."""
    count = {"user": 0, "network": 0}
    out = []
    for who, message in messages():
        out.append((who, fastcodec.encode_sd(count[who], bytes(message))))
        count[who] += 1
    return out


def view(exchange):
    return [(f.sent_by, f.summary.sscop, f.summary.message, f.summary.call_ref, f.summary.endpoint_ref,
             f.summary.causes) for f in exchange.frames]


def test_sunatm_exchange_keeps_direction_messages_and_octets(tmp_path):
    ex = read_exchanges(sunatm_capture(tmp_path / "s.pcapng"))
    assert list(ex.links) == ["root<->switch:0"]
    frames = ex["root<->switch:0"].frames
    assert [f.summary.sscop for f in frames[:2]] == ["BGN", "BGAK"]
    assert [(f.sent_by, f.message) for f in frames[2:]] == [(who, bytes(m)) for who, m in messages()]
    assert [f.summary.message for f in ex["root<->switch:0"].messages("network")] == [
        "CALL PROCEEDING", "CONNECT", "ADD PARTY REJECT"]
    assert ex.counters["signalling_frames"] == 8 and not ex.counters["retransmissions"]


def test_a_retransmitted_sd_is_no_new_message_until_sscop_restarts(tmp_path):
    ex = read_exchanges(sunatm_capture(tmp_path / "r.pcapng", retransmit=True, reestablish=True))
    frames = ex["root<->switch:0"].frames
    again = [f for f in frames if f.retransmission]
    assert len(again) == 1 and again[0].summary.message == "ADD PARTY"
    assert ex.counters["retransmissions"] == 1
    # After the second BGN/BGAK, N(S) 0 of the user side is a new message, not a repeat of the SETUP.
    assert [f.summary.message for f in ex["root<->switch:0"].messages("user")] == [
        "SETUP", "CONNECT ACKNOWLEDGE", "ADD PARTY", "STATUS ENQUIRY"]


def test_erf_aal5_from_another_tool_with_erf_port0(tmp_path):
    path = tmp_path / "aal5.pcap"
    header = (0 << 20 | 5 << 4 | 1 << 1).to_bytes(4, "big")  # VPI 0, VCI 5, PTI 001
    with PcapWriter(path, LINKTYPE_ERF) as w:
        for i, (who, sd) in enumerate(sds()):
            port = 0 if who == "network" else 1  # this tool put the network's fibre on port 0
            w.write_packet(i * 1000, erf_aal5_record(header, cpcs_pdu(sd), i * 1000, interface=port))
    undirected = read_exchanges(path)
    assert list(undirected.links) == ["if0"] and not undirected["if0"].directed
    ex = read_exchanges(path, erf_port0="network")
    assert ex["if0"].directed
    assert view(ex["if0"]) == view(read_exchanges(sunatm_capture(tmp_path / "s.pcapng"))["root<->switch:0"])[2:]
    with pytest.raises(SummaryFieldError):
        read_exchanges(path, erf_port0="dte")


def cell_capture(path, *, corrupt: int | None = None, trailing: bool = False) -> int:
    """The SDs of :func:`sds` as ERF cells on 0/5 of two ports, data cells of 1/32 interleaved, in a
    pcapng interface with no description (as another tool writes it). Returns the data cells written."""
    rows, times, data_cells = [], [], 0
    slot = 0

    def add(part, port):
        nonlocal slot
        ts = (slot + np.arange(len(part), dtype=np.int64)) * 2831  # one OC-3c slot a cell
        rows.append(erf_cell_records(part, ts, port))
        times.append(ts)
        slot += len(part)

    for i, (who, sd) in enumerate(sds()):
        port = 0 if who == "user" else 1
        cells = segment(sd, 0, 5)
        if i == corrupt:
            cells[0, 20] ^= 0x01
        data = segment(bytes(100), 1, 32)
        data_cells += len(data)
        for part in (cells[:1], data, cells[1:]):  # the data VC's cells land inside the PDU
            if len(part):
                add(part, port)
    if trailing:
        add(segment(fastcodec.encode_sd(9, bytes(200)), 0, 5)[:2], 0)  # the first 2 of 5 cells
    records = np.concatenate(rows)
    with PcapngWriter(path) as w:
        iface = w.add_interface(LINKTYPE_ERF, "dag0")
        w.write_packets(iface, np.concatenate(times), records)
    return data_cells


def test_erf_cells_on_the_signalling_vc_are_reassembled(tmp_path):
    path = tmp_path / "cells.pcapng"
    data_cells = cell_capture(path, trailing=True)
    ex = read_exchanges(path, erf_port0="user")
    assert view(ex["dag0"]) == view(read_exchanges(sunatm_capture(tmp_path / "s.pcapng"))["root<->switch:0"])[2:]
    assert ex.counters["data_cells"] == data_cells
    assert ex.counters["frames_reassembled"] == len(sds())
    assert ex.counters["aal5_cells_pending"] == 2  # the first cells of a PDU never finished
    # Each frame is stamped with the time of its last cell and numbered as that cell's record.
    first = ex["dag0"].frames[0]
    assert first.summary.cells == len(segment(sds()[0][1], 0, 5))


def test_a_corrupted_signalling_cell_loses_its_frame_and_is_counted(tmp_path):
    path = tmp_path / "bad.pcapng"
    cell_capture(path, corrupt=4)
    ex = read_exchanges(path, erf_port0="user")
    assert ex.counters["aal5_discarded.crc"] == 1
    assert [f.summary.message for f in ex["dag0"].frames] == [
        "SETUP", "CALL PROCEEDING", "CONNECT", "CONNECT ACKNOWLEDGE", "ADD PARTY REJECT"]


def test_undecodable_frames_are_kept_and_counted(tmp_path):
    clock = Clock("OC-3c")
    path = tmp_path / "u.pcapng"
    with Recorder(path, clock) as rec:
        link = rec.link("root", "switch:0")
        rec.record_signalling(link, "user", b"\x01\x02\x03", 0)  # no SSCOP trailer
        rec.record_signalling(link, "user", fastcodec.encode_sd(0, b"\x09\x03\x00\x00\x01"), 1)  # a short message
        rec.record_signalling(link, "network", fastcodec.encode(PDUType.POLL, n_ps=1, n_s=0), 2)
    ex = read_exchanges(path)
    frames = ex["root<->switch:0"].frames
    assert [f.summary.error is not None for f in frames] == [True, True, False]
    assert frames[1].message == b"\x09\x03\x00\x00\x01"  # the SD's octets are there to re-send as they were
    assert ex.counters["undecodable"] == 2


def test_signalling_cells_recorded_by_a_cell_tap_know_their_direction(tmp_path):
    """The recorder's ERF interface says whose cells port 0 holds: no --erf-port0 needed."""
    from captures.taps import CellTap

    path = tmp_path / "tap.pcapng"
    with Recorder(path, Clock("OC-3c")) as rec:
        link = rec.link("switch:0", "root", user="root")
        tap = CellTap(rec, link, vcs=[(0, 5)])
        slot = 0
        for who, sd in sds():
            cells = segment(sd, 0, 5)
            lane = "root->switch:0" if who == "user" else "switch:0->root"
            tap(lane, cells, slot + np.arange(len(cells)))
            slot += len(cells) + 10
    ex = read_exchanges(path)
    assert ex["switch:0<->root"].directed
    assert [(f.sent_by, f.summary.message) for f in ex["switch:0<->root"].frames] == [
        (who, name) for (who, _), name in zip(sds(), ["SETUP", "CALL PROCEEDING", "CONNECT", "CONNECT ACKNOWLEDGE",
                                                      "ADD PARTY", "ADD PARTY REJECT"])]
