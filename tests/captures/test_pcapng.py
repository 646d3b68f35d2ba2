"""pcapng writer: the octets on disk (draft-ietf-opsawg-pcapng), scapy and tshark as independent readers,
the bulk paths against the one-packet path, limits and errors, memory while streaming."""

from __future__ import annotations

import io
import struct
import subprocess
import tracemalloc
from decimal import Decimal

import numpy as np
import pytest
from scapy.utils import PcapNgReader

import captures.pcapng as pcapng_module
from captures.errors import CaptureFieldError
from captures.pcapng import MAX_RECORD_OCTETS, PcapngWriter, link_name
from captures.records import (
    LINKTYPE_ERF,
    LINKTYPE_SUNATM,
    erf_aal5_record,
    erf_cell_record,
    sunatm_record,
)
from hw.cell import hec

T0 = 1_700_000_000_123_456_789  # ns since 1970, every digit significant


def random_cells(n: int, seed: int = 7, vpi: int | None = None, vci: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 256, (n, 53), dtype=np.uint8)
    if vpi is not None:
        cells[:, 0] = vpi >> 4
        cells[:, 1] = ((vpi & 0xF) << 4) | (vci >> 12)
        cells[:, 2] = (vci >> 4) & 0xFF
        cells[:, 3] = ((vci & 0xF) << 4) | (cells[:, 3] & 0x0F)
    for row in cells:
        row[4] = hec(bytes(row[:4]))
    return cells


def status_enquiry_sd(call_ref: int = 1, ns: int = 0) -> bytes:
    """An SSCOP SD PDU (Q.2110) carrying a Q.2931 STATUS ENQUIRY (0x75) without IEs: the SDU of a
    signalling frame, built by hand here so that the test does not lean on the project's encoders."""
    message = bytes((0x09, 0x03)) + call_ref.to_bytes(3, "big") + bytes((0x75, 0x80, 0x00, 0x00))
    pad = -len(message) % 4
    return message + bytes(pad) + bytes(((pad << 6) | 0x08,)) + ns.to_bytes(3, "big")


def crc32_aal5(data: bytes) -> int:
    """I.363.5 CRC-32: poly 0x04C11DB7, MSB first, init all ones, complemented."""
    crc = 0xFFFFFFFF
    for octet in data:
        crc ^= octet << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc ^ 0xFFFFFFFF


def cpcs_pdu(sdu: bytes) -> bytes:
    body = sdu + bytes(-(len(sdu) + 8) % 48) + b"\x00\x00" + struct.pack(">H", len(sdu))
    return body + struct.pack(">I", crc32_aal5(body))


# ---------------------------------------------------------------------------- octets on disk
def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + bytes(-len(value) % 4)


def block(order: str, block_type: int, body: bytes) -> bytes:
    return struct.pack(order + "II", block_type, len(body) + 12) + body + struct.pack(order + "I", len(body) + 12)


@pytest.mark.parametrize("order", ["<", ">"])
def test_octets_follow_the_draft(order):
    """SHB (4.1), IDB (4.2), EPB (4.3) and options (3.5), built by hand from the draft's figures."""
    out = io.BytesIO()
    with PcapngWriter(out, byteorder=order, application="atmemu-test") as w:
        assert w.add_interface(LINKTYPE_SUNATM, "adapter0<->switch.port0", snaplen=1000) == 0
        w.write_packet(0, T0, b"\x86\x00\x00\x05abcde", comments=["NdisClAddParty party=3 -> PENDING"])
    end = struct.pack(order + "HH", 0, 0)
    shb = block(
        order, 0x0A0D0D0A,
        struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1) + option(order, 4, b"atmemu-test") + end,
    )
    idb = block(
        order, 1,
        struct.pack(order + "HHI", 123, 0, 1000) + option(order, 2, b"adapter0<->switch.port0")
        + option(order, 9, b"\x09") + end,
    )
    epb = block(
        order, 6,
        struct.pack(order + "5I", 0, T0 >> 32, T0 & 0xFFFFFFFF, 9, 9) + b"\x86\x00\x00\x05abcde\x00\x00\x00"
        + option(order, 1, b"NdisClAddParty party=3 -> PENDING") + end,
    )
    assert out.getvalue() == shb + idb + epb
    assert out.closed is False  # a file object given to the writer stays open


def test_link_name():
    assert link_name("adapter0", "switch.port0") == "adapter0<->switch.port0"


def test_streams_to_the_file(tmp_path):
    path = tmp_path / "s.pcapng"
    w = PcapngWriter(path, buffer_octets=4096)
    w.add_interface(LINKTYPE_SUNATM, "a<->b")
    sizes = []
    for i in range(3000):
        w.write_packet(0, i, bytes(60))
        if i % 1000 == 999:
            sizes.append(path.stat().st_size)  # the buffer drains to disk as packets come
    w.close()
    w.close()
    assert sizes[0] > 50_000 and sizes[0] < sizes[1] < sizes[2]
    shb = 12 + 16 + (4 + 8) + 4  # fixed fields, shb_userappl "atmemu" padded, opt_endofopt
    idb = 12 + 8 + (4 + 8) + (4 + 4) + 4  # fixed fields, if_name "a<->b", if_tsresol, opt_endofopt
    assert path.stat().st_size == shb + idb + 3000 * (12 + 20 + 60)


# ----------------------------------------------------------------- scapy as an independent reader
@pytest.mark.parametrize("order", ["<", ">"])
def test_scapy_reads_three_interfaces_comments_and_nanoseconds(tmp_path, order):
    path = tmp_path / "three.pcapng"
    cells = random_cells(4)
    with PcapngWriter(path, byteorder=order) as w:
        sig = w.add_interface(LINKTYPE_SUNATM, link_name("adapter0", "switch.port0"))
        erf = w.add_interface(LINKTYPE_ERF, link_name("switch.port1", "leaf1"))
        other = w.add_interface(LINKTYPE_SUNATM, link_name("switch.port2", "leaf2"))
        w.write_packet(sig, T0, sunatm_record(True, 0, 5, b"one"), comments=["first", "second line"])
        w.write_erf_cells(erf, cells, T0 + 1 + np.arange(4))
        w.write_packet(other, T0 + 10, sunatm_record(False, 0, 5, b"two"), comments="NdisMCmAddPartyComplete")
    with PcapNgReader(str(path)) as rd:
        pkts = list(rd)
    assert len(pkts) == 6
    assert [bytes(p) for p in pkts] == (
        [sunatm_record(True, 0, 5, b"one")]
        + [erf_cell_record(cells[i].tobytes(), T0 + 1 + i) for i in range(4)]
        + [sunatm_record(False, 0, 5, b"two")]
    )
    assert [int(p.time * 10**9) for p in pkts] == [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 10]
    names = ["adapter0<->switch.port0"] + ["switch.port1<->leaf1"] * 4 + ["switch.port2<->leaf2"]
    assert [p.sniffed_on for p in pkts] == names
    assert pkts[0].comments == [b"first", b"second line"]
    assert pkts[5].comments == [b"NdisMCmAddPartyComplete"]


# ------------------------------------------------------------------------- bulk = one by one
def test_write_packets_equals_write_packet(monkeypatch):
    monkeypatch.setattr(pcapng_module, "BULK_CHUNK_RECORDS", 7)  # several chunks, a ragged last one
    data = np.random.default_rng(2).integers(0, 256, (30, 13), dtype=np.uint8)  # 13: padded to 16
    times = T0 + np.arange(30, dtype=np.int64) * 999
    origs = 13 + np.arange(30)
    bulk, single = io.BytesIO(), io.BytesIO()
    for out in (bulk, single):
        with PcapngWriter(out) as w:
            w.add_interface(LINKTYPE_SUNATM, "x")
            w.add_interface(LINKTYPE_SUNATM, "y")
            if out is bulk:
                w.write_packets(1, times, data, orig_len=origs)
            else:
                for i in range(30):
                    w.write_packet(1, int(times[i]), data[i].tobytes(), orig_len=int(origs[i]))
            assert w.packets_written == 30
    assert bulk.getvalue() == single.getvalue()


def test_write_erf_cells_equals_write_packet(monkeypatch):
    monkeypatch.setattr(pcapng_module, "BULK_CHUNK_RECORDS", 5)
    cells = random_cells(23)
    times = T0 + np.arange(23, dtype=np.uint64) * 2_831
    bulk, single = io.BytesIO(), io.BytesIO()
    for out in (bulk, single):
        with PcapngWriter(out, byteorder=">") as w:
            w.add_interface(LINKTYPE_SUNATM, "sig")
            erf = w.add_interface(LINKTYPE_ERF, "cells")
            if out is bulk:
                w.write_erf_cells(erf, cells, times, erf_interface=2)
            else:
                for i in range(23):
                    w.write_packet(erf, int(times[i]), erf_cell_record(cells[i].tobytes(), int(times[i]), interface=2))
    assert bulk.getvalue() == single.getvalue()


def test_bulk_writers_accept_nothing():
    out = io.BytesIO()
    with PcapngWriter(out) as w:
        e = w.add_interface(LINKTYPE_ERF, "cells")
        size = out.tell()
        w.write_erf_cells(e, np.zeros((0, 53), np.uint8), np.zeros(0, np.int64))
        w.write_packets(e, np.zeros(0, np.int64), np.zeros((0, 68), np.uint8))
        w.flush()
        assert out.tell() == size and w.packets_written == 0


# ------------------------------------------------------------------------------ snap length
def test_packets_longer_than_the_snap_length_are_cut_and_counted():
    out = io.BytesIO()
    with PcapngWriter(out) as w:
        w.add_interface(LINKTYPE_SUNATM, "x", snaplen=8)
        w.write_packet(0, 1, bytes(range(20)))
        w.write_packets(0, np.array([2, 3]), np.ones((2, 10), np.uint8))
        assert w.packets_truncated == 3
    raw = out.getvalue()
    first_epb = raw.index(struct.pack("<II", 6, 28 + 8 + 4))
    assert struct.unpack_from("<II", raw, first_epb + 20) == (8, 20)  # captured 8 of 20
    assert raw[first_epb + 28 : first_epb + 36] == bytes(range(8))


# ---------------------------------------------------------------------------------- errors
def test_writer_errors():
    w = PcapngWriter(io.BytesIO())
    s = w.add_interface(LINKTYPE_SUNATM, "sig")
    cases = [
        (lambda: w.write_packet(1, 0, b""), "interface"),
        (lambda: w.write_packet(s, -1, b""), "time_ns"),
        (lambda: w.write_packet(s, 1 << 64, b""), "time_ns"),
        (lambda: w.write_packet(s, 0, b"abc", orig_len=2), "orig_len"),
        (lambda: w.write_packet(s, 0, b"", comments="a\0b"), "comment"),
        (lambda: w.write_packet(s, 0, b"", comments="\ud800"), "comment"),
        (lambda: w.write_packet(s, 0, b"", comments="x" * 65536), "comment"),
        (lambda: w.write_packet(s, 0, b"", comments=["x" * 60000] * 6), "comments"),
        (lambda: w.write_erf_cells(s, np.zeros((1, 53), np.uint8), np.zeros(1, np.int64)), "interface"),
        (lambda: w.write_packets(s, np.zeros(1, np.int64), np.zeros((1, 4), np.int32)), "data"),
        (lambda: w.write_packets(s, np.zeros(2, np.int64), np.zeros((1, 4), np.uint8)), "times_ns"),
        (lambda: w.write_packets(s, np.zeros(1, np.int64), np.zeros((1, 4), np.uint8), orig_len=3), "orig_len"),
        (lambda: w.add_interface(70000, "x"), "linktype"),
        (lambda: w.add_interface(LINKTYPE_ERF, "x", snaplen=0), "snaplen"),
        (lambda: w.add_interface(LINKTYPE_ERF, "x", snaplen=MAX_RECORD_OCTETS + 1), "snaplen"),
    ]
    for call, field in cases:
        with pytest.raises(CaptureFieldError) as err:
            call()
        assert err.value.field == field
    e = w.add_interface(LINKTYPE_ERF, "cells")
    with pytest.raises(CaptureFieldError):  # ERF keeps 32 bits of seconds
        w.write_erf_cells(e, np.zeros((1, 53), np.uint8), np.array([(1 << 32) * 10**9], dtype=np.uint64))
    w.close()
    with pytest.raises(CaptureFieldError) as err:
        w.write_packet(s, 0, b"")
    assert err.value.field == "writer"
    with pytest.raises(CaptureFieldError):
        PcapngWriter(io.BytesIO(), byteorder="=")


# ---------------------------------------------------------------------------------- memory
def test_bulk_cell_writing_memory_does_not_grow_with_the_input(tmp_path):
    cells = random_cells(200_000)  # 10.6 MB of input, 20 MB written
    times = np.arange(200_000, dtype=np.int64)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        with PcapngWriter(tmp_path / "m.pcapng") as w:
            w.write_erf_cells(w.add_interface(LINKTYPE_ERF, "c"), cells, times)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"{peak} octets at peak"


# ---------------------------------------------------------------- tshark, the independent decoder
def tshark_fields(tshark: str, path, *fields: str, extra: tuple[str, ...] = ()) -> list[list[str]]:
    out = subprocess.run(
        [tshark, "-n", "-r", str(path), *extra, "-T", "fields", "-E", "separator=\t", "-E", "aggregator=|",
         *[a for f in fields for a in ("-e", f)]],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout
    return [line.split("\t") for line in out.splitlines()]


def write_mixed(path, order: str = "<") -> tuple[np.ndarray, list[int]]:
    cells = random_cells(6, vpi=0x12, vci=0x3456)
    cell_times = [T0 + 1_000 + 2_831 * i for i in range(6)]
    with PcapngWriter(path, byteorder=order) as w:
        sig = w.add_interface(LINKTYPE_SUNATM, link_name("adapter0", "switch.port0"))
        erf = w.add_interface(LINKTYPE_ERF, link_name("switch.port1", "leaf1"))
        aal5 = w.add_interface(LINKTYPE_ERF, link_name("switch.port0", "switch.control"))
        w.write_packet(sig, T0, sunatm_record(True, 0, 5, status_enquiry_sd(1, 0)),
                       comments=["NdisClAddParty party=3 -> PENDING", "ADD PARTY"])
        w.write_packet(sig, T0 + 1, sunatm_record(False, 0, 5, status_enquiry_sd(0x800001, 0)), comments="answer")
        w.write_erf_cells(erf, cells, np.array(cell_times))
        pdu = cpcs_pdu(status_enquiry_sd(2, 1))
        w.write_packet(aal5, T0 + 99_999, erf_aal5_record(b"\x00\x00\x00\x50", pdu, T0 + 99_999))
    return cells, cell_times


@pytest.mark.tshark
@pytest.mark.parametrize("order", ["<", ">"])
def test_tshark_decodes_what_we_write(tshark, tmp_path, order):
    path = tmp_path / "mixed.pcapng"
    _, cell_times = write_mixed(path, order)
    rows = tshark_fields(
        tshark, path, "frame.interface_name", "frame.comment", "frame.time_epoch", "atm.vpi", "atm.vci",
        "atm.channel", "q2931.message_type", "erf.types.type", "_ws.malformed", "_ws.expert",
    )
    assert len(rows) == 9
    names = [r[0] for r in rows]
    assert names == ["adapter0<->switch.port0"] * 2 + ["switch.port1<->leaf1"] * 6 + ["switch.port0<->switch.control"]
    assert rows[0][1] == "NdisClAddParty party=3 -> PENDING|ADD PARTY"
    assert rows[1][1] == "answer"
    assert all(r[1] == "" for r in rows[2:])
    times = [int(Decimal(r[2]) * 10**9) for r in rows]
    assert times == [T0, T0 + 1, *cell_times, T0 + 99_999]  # to the nanosecond
    assert [(r[3], r[4]) for r in rows] == [("0", "5")] * 2 + [("18", "13398")] * 6 + [("0", "5")]
    assert rows[0][5] == "0" and rows[1][5] == "1"  # SunATM 0x80: DTE->DCE is channel 0
    assert [r[6] for r in rows] == ["0x75", "0x75"] + [""] * 6 + ["0x75"]  # STATUS ENQUIRY via SSCOP
    assert [r[7] for r in rows[2:]] == ["3"] * 6 + ["4"]
    assert all(r[8] == "" for r in rows), "malformed packets"
    # The only expert items are the packet comments themselves.
    experts = [e for r in rows for e in r[9].split("|") if e]
    assert len(experts) == 3 and all(e.startswith("Expert Info (Comment/Comment)") for e in experts)


@pytest.mark.tshark
def test_tshark_finds_the_aal5_crc_correct(tshark, tmp_path):
    path = tmp_path / "mixed.pcapng"
    write_mixed(path)
    detail = subprocess.run([tshark, "-n", "-r", str(path), "-V", "-Y", "erf.types.type == 4"],
                            check=True, capture_output=True, text=True, timeout=120).stdout
    assert "AAL5 CRC" in detail and "(correct)" in detail and "(incorrect)" not in detail
