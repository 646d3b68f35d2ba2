"""Classic pcap export (draft-ietf-opsawg-pcap): header and records for both magics and byte orders,
bulk = one by one, scapy/capinfos/tshark as independent readers, and the pcapng -> pcap converter."""

from __future__ import annotations

import io
import struct
import subprocess
from decimal import Decimal

import numpy as np
import pytest
from scapy.utils import RawPcapReader

import captures.pcap as pcap_module
from captures import reader
from captures.errors import CaptureFieldError
from captures.pcap import PcapWriter, pcapng_to_pcap
from captures.pcapng import PcapngWriter
from captures.records import LINKTYPE_ERF, LINKTYPE_SUNATM, erf_cell_record, sunatm_record

T0 = 1_700_000_000_123_456_789


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanosecond", [True, False])
def test_header_and_records(order, nanosecond):
    out = io.BytesIO()
    with PcapWriter(out, LINKTYPE_SUNATM, snaplen=4000, nanosecond=nanosecond, byteorder=order) as w:
        w.write_packet(T0, b"\x86\x00\x00\x05hello")
        w.write_packet(T0 + 1_999, b"ab", orig_len=10)
        assert w.packets_written == 2
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    frac = (123_456_789, 123_458_788) if nanosecond else (123_456, 123_458)  # microseconds: floor
    expected = (
        struct.pack(order + "IHHIIII", magic, 2, 4, 0, 0, 4000, 123)
        + struct.pack(order + "4I", 1_700_000_000, frac[0], 9, 9) + b"\x86\x00\x00\x05hello"
        + struct.pack(order + "4I", 1_700_000_000, frac[1], 2, 10) + b"ab"
    )
    assert out.getvalue() == expected


def test_bulk_equals_one_by_one(monkeypatch):
    monkeypatch.setattr(pcap_module, "BULK_CHUNK_RECORDS", 4)
    data = np.random.default_rng(3).integers(0, 256, (11, 68), dtype=np.uint8)
    times = T0 + np.arange(11, dtype=np.int64) * 1_234_567
    for nanosecond in (True, False):
        bulk, single = io.BytesIO(), io.BytesIO()
        with PcapWriter(bulk, LINKTYPE_ERF, nanosecond=nanosecond, byteorder=">") as w:
            w.write_packets(times, data, orig_len=np.full(11, 70))
        with PcapWriter(single, LINKTYPE_ERF, nanosecond=nanosecond, byteorder=">") as w:
            for i in range(11):
                w.write_packet(int(times[i]), data[i].tobytes(), orig_len=70)
        assert bulk.getvalue() == single.getvalue()


def test_snaplen_cuts_and_counts():
    out = io.BytesIO()
    with PcapWriter(out, LINKTYPE_SUNATM, snaplen=6) as w:
        w.write_packet(0, bytes(10))
        w.write_packets(np.array([1, 2]), np.zeros((2, 8), np.uint8))
        assert w.packets_truncated == 3
    raw = out.getvalue()
    assert struct.unpack_from("<II", raw, 24 + 8) == (6, 10)
    assert len(raw) == 24 + 3 * (16 + 6)


def test_writer_errors():
    w = PcapWriter(io.BytesIO(), LINKTYPE_SUNATM)
    for call, field in [
        (lambda: w.write_packet(-1, b""), "time_ns"),
        (lambda: w.write_packet((1 << 32) * 10**9, b""), "time_ns"),
        (lambda: w.write_packet(0, b"abc", orig_len=1), "orig_len"),
        (lambda: w.write_packets(np.zeros(1, np.int64), np.zeros((1, 3), np.float32)), "data"),
        (lambda: PcapWriter(io.BytesIO(), 1 << 16), "linktype"),
        (lambda: PcapWriter(io.BytesIO(), 1, snaplen=0), "snaplen"),
        (lambda: PcapWriter(io.BytesIO(), 1, byteorder="!"), "byteorder"),
    ]:
        with pytest.raises(CaptureFieldError) as err:
            call()
        assert err.value.field == field
    w.close()
    with pytest.raises(CaptureFieldError):
        w.write_packet(0, b"")


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanosecond", [True, False])
def test_scapy_reads_our_pcap(tmp_path, order, nanosecond):
    path = tmp_path / "x.pcap"
    with PcapWriter(path, LINKTYPE_SUNATM, nanosecond=nanosecond, byteorder=order) as w:
        for i in range(5):
            w.write_packet(T0 + i * 1_001, sunatm_record(i % 2 == 0, 0, 5, bytes([i]) * 20))
    with RawPcapReader(str(path)) as rd:
        assert rd.linktype == LINKTYPE_SUNATM
        got = list(rd)
    assert [data for data, _ in got] == [sunatm_record(i % 2 == 0, 0, 5, bytes([i]) * 20) for i in range(5)]
    unit = 1 if nanosecond else 1000
    assert [(meta.sec, meta.usec) for _, meta in got] == [
        (1_700_000_000, (123_456_789 + i * 1_001) // unit) for i in range(5)
    ]


# --------------------------------------------------------------------------------- converter
def three_interface_capture(path) -> list[np.ndarray]:
    cells = [np.random.default_rng(s).integers(0, 256, (n, 53), dtype=np.uint8) for s, n in ((1, 5), (2, 3))]
    with PcapngWriter(path) as w:
        sig = w.add_interface(LINKTYPE_SUNATM, "adapter0<->switch.port0", snaplen=2000)
        erf = w.add_interface(LINKTYPE_ERF, "switch.port1<->leaf1")
        w.add_interface(LINKTYPE_ERF, "switch.port2<->leaf2")
        w.write_packet(sig, T0, sunatm_record(True, 0, 5, b"a" * 30), comments=["one", "two"])
        w.write_erf_cells(erf, cells[0], T0 + 10 + np.arange(5))
        w.write_packet(sig, T0 + 20, sunatm_record(False, 0, 5, b"b" * 31), comments="three")
        w.write_erf_cells(2, cells[1], T0 + 30 + np.arange(3))
        w.write_packet(sig, T0 + 40, sunatm_record(True, 0, 5, b"c" * 32))
    return cells


def test_convert_one_interface_by_id_and_by_name(tmp_path):
    src = tmp_path / "three.pcapng"
    cells = three_interface_capture(src)
    by_id = tmp_path / "erf.pcap"
    report = pcapng_to_pcap(src, by_id, interface=1)
    assert report == (5, 0, 6, LINKTYPE_ERF)
    with reader.open(by_id) as rd:
        recs = list(rd)
        assert rd.format == "pcap" and rd.interfaces[0].linktype == LINKTYPE_ERF
    assert [r.data for r in recs] == [erf_cell_record(c.tobytes(), T0 + 10 + i) for i, c in enumerate(cells[0])]
    assert [r.time_ns for r in recs] == [T0 + 10 + i for i in range(5)]

    by_name = tmp_path / "sig.pcap"
    report = pcapng_to_pcap(src, by_name, interface="adapter0<->switch.port0", nanosecond=False, byteorder=">")
    assert report == (3, 3, 8, LINKTYPE_SUNATM)
    with reader.open(by_name) as rd:
        recs = list(rd)
        assert rd.interfaces[0].snaplen == 2000 and rd.interfaces[0].tsresol == 6
    assert [len(r.data) for r in recs] == [34, 35, 36]
    assert [r.time_ns for r in recs] == [T0 // 1000 * 1000, (T0 + 20) // 1000 * 1000, (T0 + 40) // 1000 * 1000]


def test_convert_by_name_across_sections(tmp_path):
    first, second = tmp_path / "a.pcapng", tmp_path / "b.pcapng"
    for path, order, base in ((first, "<", T0), (second, ">", T0 + 10**9)):
        with PcapngWriter(path, byteorder=order) as w:
            w.add_interface(LINKTYPE_ERF, "other")
            w.add_interface(LINKTYPE_SUNATM, "sig")
            w.write_packet(1, base, b"\x86\x00\x00\x05" + bytes(8))
            w.write_packet(0, base + 1, bytes(68))
    both = tmp_path / "both.pcapng"
    both.write_bytes(first.read_bytes() + second.read_bytes())
    out = tmp_path / "sig.pcap"
    assert pcapng_to_pcap(both, out, interface="sig").packets == 2
    with reader.open(out) as rd:
        assert [r.time_ns for r in rd] == [T0, T0 + 10**9]
    assert pcapng_to_pcap(both, tmp_path / "s1.pcap", interface=1, section=1).packets == 1


def test_convert_refuses_what_is_not_there(tmp_path):
    src = tmp_path / "three.pcapng"
    three_interface_capture(src)
    with pytest.raises(CaptureFieldError, match="switch.port1<->leaf1"):
        pcapng_to_pcap(src, tmp_path / "none.pcap", interface="nope")
    assert not (tmp_path / "none.pcap").exists()
    with pytest.raises(CaptureFieldError):
        pcapng_to_pcap(src, tmp_path / "none.pcap", interface=3)
    pcap_path = tmp_path / "p.pcap"
    PcapWriter(pcap_path, LINKTYPE_SUNATM).close()
    with pytest.raises(CaptureFieldError):
        pcapng_to_pcap(pcap_path, tmp_path / "none.pcap")


def test_convert_an_interface_without_packets_gives_an_empty_pcap(tmp_path):
    src = tmp_path / "empty.pcapng"
    with PcapngWriter(src) as w:
        w.add_interface(LINKTYPE_ERF, "quiet", snaplen=100)
    assert pcapng_to_pcap(src, tmp_path / "q.pcap", interface="quiet") == (0, 0, 0, LINKTYPE_ERF)
    raw = (tmp_path / "q.pcap").read_bytes()
    assert raw == struct.pack("<IHHIIII", 0xA1B23C4D, 2, 4, 0, 0, 100, LINKTYPE_ERF)


# ------------------------------------------------------------------------- tshark and capinfos
def status_enquiry_sd(call_ref: int = 1) -> bytes:
    """An SSCOP SD PDU (Q.2110) carrying a Q.2931 STATUS ENQUIRY without IEs, built by hand."""
    message = bytes((0x09, 0x03)) + call_ref.to_bytes(3, "big") + bytes((0x75, 0x80, 0x00, 0x00))
    return message + bytes(3) + bytes((0xC8, 0, 0, 0))  # pad to 4 octets, PL=3, type SD, N(S)=0


def tshark_rows(tshark: str, path, *fields: str) -> list[list[str]]:
    out = subprocess.run(
        [tshark, "-n", "-r", str(path), "-T", "fields", *[a for f in fields for a in ("-e", f)]],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout
    return [line.split("\t") for line in out.splitlines()]


def capinfos(tshark: str, path) -> dict[str, str]:
    tool = tshark.rsplit("/", 1)[0] + "/capinfos"
    out = subprocess.run([tool, "-M", "-t", "-E", "-c", str(path)], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


@pytest.mark.tshark
@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanosecond", [True, False])
def test_tshark_and_capinfos_read_our_pcap(tshark, tmp_path, order, nanosecond):
    cells_path, sig_path = tmp_path / "cells.pcap", tmp_path / "sig.pcap"
    cells = np.random.default_rng(4).integers(0, 256, (3, 53), dtype=np.uint8)
    cells[:, :4] = (0x01, 0x23, 0x45, 0x60)  # GFC 0, VPI 0x12, VCI 0x3456, PTI 0
    times = [T0, T0 + 2_830, T0 + 5_661]
    with PcapWriter(cells_path, LINKTYPE_ERF, nanosecond=nanosecond, byteorder=order) as w:
        for c, t in zip(cells, times):
            w.write_packet(t, erf_cell_record(c.tobytes(), t))
    with PcapWriter(sig_path, LINKTYPE_SUNATM, nanosecond=nanosecond, byteorder=order) as w:
        for i, t in enumerate(times):
            w.write_packet(t, sunatm_record(i != 1, 0, 5, status_enquiry_sd(i + 1)))

    rows = tshark_rows(tshark, cells_path, "frame.time_epoch", "atm.vpi", "atm.vci", "_ws.malformed")
    # Wireshark takes the time of an ERF packet from the ERF header, which keeps the nanoseconds.
    assert [int(Decimal(r[0]) * 10**9) for r in rows] == times
    assert [r[1:] for r in rows] == [["18", "13398", ""]] * 3
    rows = tshark_rows(tshark, sig_path, "frame.time_epoch", "atm.channel", "q2931.message_type", "_ws.malformed")
    unit = 1 if nanosecond else 1000
    assert [int(Decimal(r[0]) * 10**9) for r in rows] == [t // unit * unit for t in times]
    assert [r[1:] for r in rows] == [["0", "0x75", ""], ["1", "0x75", ""], ["0", "0x75", ""]]

    # wiretap calls the SunATM encapsulation "ATM PDUs".
    for path, encapsulation in ((cells_path, "erf"), (sig_path, "atm-pdus")):
        info = capinfos(tshark, path)
        assert info["File type"] == ("nsecpcap" if nanosecond else "pcap")
        assert info["File encapsulation"] == encapsulation
        assert info["Number of packets"] == "3"
