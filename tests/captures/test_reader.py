"""Capture reader: pcap and pcapng files built by hand (both byte orders, resolutions, sections, block
kinds), round trips through the writers, the vectorised runs against the one-block path, damaged
files refused with the right typed error and offset, bounded memory, and fuzzing."""

from __future__ import annotations

import io
import os
import signal
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import captures.reader as reader_module
from captures import reader
from captures.errors import (
    BadFieldError,
    BadMagicError,
    BadOptionError,
    BlockLengthError,
    BlockLengthMismatchError,
    CaptureDecodeError,
    RecordTooLongError,
    TruncatedError,
    UnknownInterfaceError,
    UnsupportedVersionError,
)
from captures.pcap import PcapWriter
from captures.pcapng import MAX_BLOCK_OCTETS, MAX_RECORD_OCTETS, PcapngWriter, TimeResolution
from captures.reader import Record
from captures.records import LINKTYPE_ERF, LINKTYPE_SUNATM, erf_cell_record, sunatm_record

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))
T0 = 1_700_000_000_123_456_789


# ------------------------------------------------------------------- files built by hand
def opts(order: str, *options: tuple[int, bytes], end: bool = True) -> bytes:
    out = b"".join(struct.pack(order + "HH", c, len(v)) + v + bytes(-len(v) % 4) for c, v in options)
    return out + (struct.pack(order + "HH", 0, 0) if end and options else b"")


def block(order: str, block_type: int, body: bytes, *, trailing: int | None = None) -> bytes:
    total = len(body) + 12
    tail = struct.pack(order + "I", total if trailing is None else trailing)
    return struct.pack(order + "II", block_type, total) + body + tail


def shb(order: str, major: int = 1, minor: int = 0, options: bytes = b"") -> bytes:
    return block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, major, minor, -1) + options)


def idb(order: str, linktype: int, snaplen: int = 0, *options: tuple[int, bytes]) -> bytes:
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, snaplen) + opts(order, *options))


def epb(order: str, iface: int, ticks: int, data: bytes, orig: int | None = None, comments=()) -> bytes:
    orig = len(data) if orig is None else orig
    body = struct.pack(order + "5I", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig)
    return block(order, 6, body + data + bytes(-len(data) % 4) + opts(order, *[(1, c) for c in comments]))


def pb(order: str, iface: int, ticks: int, data: bytes) -> bytes:
    body = struct.pack(order + "HH4I", iface, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data))
    return block(order, 2, body + data + bytes(-len(data) % 4))


def pcap_file(order: str, nanosecond: bool, records, snaplen=65535, linktype=LINKTYPE_SUNATM, link_extra=0) -> bytes:
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = struct.pack(order + "IHHIIII", magic, 2, 4, 0, 0, snaplen, linktype | link_extra)
    for sec, frac, data, orig in records:
        out += struct.pack(order + "4I", sec, frac, len(data), orig) + data
    return out


def read_all(raw: bytes) -> list[Record]:
    with reader.open(io.BytesIO(raw)) as rd:
        return list(rd)


# ----------------------------------------------------------------------------------- pcap
@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanosecond", [True, False])
def test_pcap_both_byte_orders_and_resolutions(order, nanosecond):
    records = [(1_700_000_000, 999_999 if not nanosecond else 999_999_999, b"\x86\x00\x00\x05abc", 7),
               (1_700_000_001, 5, b"", 0), (0, 0, bytes(range(200)), 300)]
    raw = pcap_file(order, nanosecond, records)
    with reader.open(io.BytesIO(raw)) as rd:
        got = list(rd)
        assert rd.format == "pcap"
        assert rd.interfaces == [reader.Interface(0, 0, LINKTYPE_SUNATM, 65535, None, None, 9 if nanosecond else 6, 0)]
    unit = 1 if nanosecond else 1000
    assert got == [
        Record(0, LINKTYPE_SUNATM, sec * 10**9 + frac * unit, data, orig, (), 0, offset)
        for (sec, frac, data, orig), offset in zip(records, (24, 24 + 16 + 7, 24 + 32 + 7))
    ]


def test_pcap_uniform_records_come_in_one_batch():
    cells = [bytes([i]) * 68 for i in range(50)]
    raw = pcap_file(">", True, [(i, i * 7, c, 68) for i, c in enumerate(cells)], linktype=LINKTYPE_ERF)
    with reader.open(io.BytesIO(raw)) as rd:
        batches = list(rd.batches())
    assert [len(b.time_ns) for b in batches] == [1, 49]  # the first record, then a vectorised run
    assert batches[1].data.shape == (49, 68)
    assert b"".join(b.data.tobytes() for b in batches) == b"".join(cells)
    assert np.concatenate([b.time_ns for b in batches]).tolist() == [i * 10**9 + i * 7 for i in range(50)]
    assert np.concatenate([b.offset for b in batches]).tolist() == [24 + 84 * i for i in range(50)]
    assert (batches[1].linktype == LINKTYPE_ERF).all() and batches[1].comments is None


def test_pcap_run_stops_where_the_length_changes():
    lengths = [10] * 5 + [11] + [10] * 3
    raw = pcap_file("<", False, [(i, 0, bytes([i]) * n, n) for i, n in enumerate(lengths)])
    assert [len(r.data) for r in read_all(raw)] == lengths
    assert [r.data[0] if r.data else None for r in read_all(raw)] == list(range(9))


# --------------------------------------------------------------------------------- pcapng
def test_pcapng_sections_byte_orders_resolutions_and_block_kinds():
    le = (
        shb("<", options=opts("<", (4, b"other tool"), (1, b"section comment")))
        + idb("<", LINKTYPE_SUNATM, 0, (2, b"sig"), (3, b"the signalling link"))  # if_tsresol absent: us
        + block("<", 4, opts("<", (0, b"")))  # Name Resolution Block: skipped, counted
        + epb("<", 0, 1_700_000_000_123_456, b"\x86\x00\x00\x05xyz", comments=(b"one", b"two\0junk", b"\xffbad"))
        + idb("<", LINKTYPE_ERF, 68, (2, b"cells"), (9, b"\x89"), (14, struct.pack("<q", 1)))  # 2^-9 s, +1 s
        + epb("<", 1, 3 * 512 + 256, bytes(68), orig=70)
        + block("<", 3, struct.pack("<I", 5) + b"abcde\0\0\0")  # Simple Packet Block: skipped, counted
        + pb("<", 0, 42, b"old")
        + block("<", 5, struct.pack("<III", 0, 0, 0))  # Interface Statistics Block
        + block("<", 0x40000BAD, b"\0" * 8)  # custom block
    )
    be = (
        shb(">", minor=2)  # 1.2 reads as 1.0 (section 4.1)
        + idb(">", LINKTYPE_ERF, 100, (9, b"\x0c"))  # picoseconds: ns rounded down
        + epb(">", 0, 5_000_000_001_999, b"\x01\x02\x03")
    )
    future = shb("<", major=2) + block("<", 1, b"\0" * 8) + epb("<", 7, 0, b"skipped")
    raw = le + be + future + shb("<") + idb("<", 1, 0, (9, b"\x09")) + epb("<", 0, T0, b"eth")
    with reader.open(io.BytesIO(raw)) as rd:
        got = list(rd)
        interfaces = rd.interfaces
        skipped = dict(rd.skipped)
    first_epb = le.index(epb("<", 0, 1_700_000_000_123_456, b"\x86\x00\x00\x05xyz",
                             comments=(b"one", b"two\0junk", b"\xffbad")))
    assert [(r.section, r.interface, r.linktype, r.time_ns, r.data, r.orig_len, r.comments) for r in got] == [
        (0, 0, LINKTYPE_SUNATM, 1_700_000_000_123_456_000, b"\x86\x00\x00\x05xyz", 7, ("one", "two", "\ufffdbad")),
        (0, 1, LINKTYPE_ERF, 1_000_000_000 + 3_500_000_000, bytes(68), 70, ()),
        (0, 0, LINKTYPE_SUNATM, 42_000, b"old", 3, ()),
        (1, 0, LINKTYPE_ERF, 5_000_000_001, b"\x01\x02\x03", 3, ()),
        (3, 0, 1, T0, b"eth", 3, ()),
    ]
    assert got[0].offset == first_epb
    assert [(i.section, i.id, i.name, i.description, i.tsresol, i.tsoffset, i.snaplen) for i in interfaces] == [
        (0, 0, "sig", "the signalling link", 6, 0, 0),
        (0, 1, "cells", None, 0x89, 1, 68),
        (1, 0, None, None, 12, 0, 100),
        (3, 0, None, None, 9, 0, 0),
    ]
    assert skipped == {
        "Name Resolution Block": 1, "Simple Packet Block": 1, "Interface Statistics Block": 1,
        "block type 0x40000BAD": 1, "section of version 2.0": 1, "block in an unreadable section": 2,
    }


def test_round_trip_through_the_writer_three_interfaces(tmp_path):
    path = tmp_path / "rt.pcapng"
    rng = np.random.default_rng(9)
    cells = rng.integers(0, 256, (40, 53), dtype=np.uint8)
    expected = []
    with PcapngWriter(path) as w:
        sig = w.add_interface(LINKTYPE_SUNATM, "adapter0<->switch.port0")
        erf = w.add_interface(LINKTYPE_ERF, "switch.port1<->leaf1")
        leaf = w.add_interface(LINKTYPE_SUNATM, "switch.port2<->leaf2", snaplen=20)
        for k in range(3):
            frame = sunatm_record(k % 2 == 0, 0, 5, bytes([k]) * (50 + k))
            comments = (f"NdisClAddParty party={k} -> PENDING", "é ✓")
            w.write_packet(sig, T0 + k, frame, comments=comments)
            expected.append((0, LINKTYPE_SUNATM, T0 + k, frame, len(frame), comments))
            times = T0 + 1_000 * (k + 1) + np.arange(10 * k, 10 * k + 10)
            w.write_erf_cells(erf, cells[10 * k : 10 * k + 10], times)
            expected += [(1, LINKTYPE_ERF, int(t), erf_cell_record(c.tobytes(), int(t)), 68, ())
                         for c, t in zip(cells[10 * k : 10 * k + 10], times)]
        w.write_packet(leaf, 2**63 - 1, bytes(range(30)), comments="cut to the snap length")
        expected.append((2, LINKTYPE_SUNATM, 2**63 - 1, bytes(range(20)), 30, ("cut to the snap length",)))
    with reader.open(path) as rd:
        got = list(rd)
        names = ["adapter0<->switch.port0", "switch.port1<->leaf1", "switch.port2<->leaf2"]
        assert [i.name for i in rd.interfaces] == names
        assert all(i.tsresol == 9 for i in rd.interfaces)
    assert [(r.interface, r.linktype, r.time_ns, r.data, r.orig_len, r.comments) for r in got] == expected
    raw = path.read_bytes()
    assert all(struct.unpack_from("<I", raw, r.offset)[0] == 6 for r in got)  # offsets point at the EPBs
    with reader.open(path) as rd:
        batches = list(rd.batches())
    assert max(len(b.time_ns) for b in batches) == 9  # runs of cells after the first of each group
    assert [r for b in batches for r in b.records()] == got


@pytest.mark.parametrize("order", ["<", ">"])
def test_run_hands_the_faulty_block_to_the_one_block_path(order):
    """In a run of 100 identical EPBs, damage block 57 in several ways: the error names block 57."""
    head = shb(order) + idb(order, LINKTYPE_ERF, 0, (9, b"\x09"))
    blocks = [epb(order, 0, T0 + i, bytes([i]) * 68) for i in range(100)]
    at = len(head) + sum(len(b) for b in blocks[:57])

    def damaged(i: int, fmt: str, value: int) -> bytes:
        b = bytearray(blocks[57])
        struct.pack_into(order + fmt, b, i, value)
        return head + b"".join(blocks[:57]) + bytes(b) + b"".join(blocks[58:])

    cases = [
        (damaged(len(blocks[57]) - 4, "I", 96), BlockLengthMismatchError, "block_total_length"),
        (damaged(8, "I", 3), UnknownInterfaceError, "interface_id"),
        (damaged(20, "I", 200), BlockLengthError, "captured_length"),
    ]
    for raw, error, field in cases:
        with pytest.raises(error) as err:
            read_all(raw)
        assert (err.value.offset, err.value.field) == (at, field)
    # Not an error: a different captured length or a comment only ends the run.
    fine = damaged(20, "I", 66)
    assert [len(r.data) for r in read_all(fine)] == [68] * 57 + [66] + [68] * 42
    with_comment = head + b"".join(blocks[:57]) + epb(order, 0, 5, bytes(68), comments=(b"hi",)) + b"".join(blocks[58:])
    got = read_all(with_comment)
    assert got[57].comments == ("hi",) and got[57].time_ns == 5 and len(got) == 100
    assert [r.time_ns for r in got[58:]] == [T0 + i for i in range(58, 100)]


@pytest.mark.parametrize("tsresol, tsoffset", [(6, 0), (9, -5), (0x8A, 3), (12, 0), (0xA2, 0), (0xC0, 7), (3, 0)])
def test_runs_convert_time_like_the_one_block_path(tsresol, tsoffset):
    rng = np.random.default_rng(tsresol)
    ticks = np.sort(rng.integers(0, 2**62, 60, dtype=np.int64)).tolist() + [0, 1, 2**64 - 1]
    base = TimeResolution(tsresol, tsoffset)
    ticks = [t for t in ticks if base.in_range(t)]
    order = "<"
    raw = shb(order) + idb(order, 1, 0, (9, bytes([tsresol])), (14, struct.pack("<q", tsoffset))) + b"".join(
        epb(order, 0, t, b"abcd") for t in ticks)
    with reader.open(io.BytesIO(raw)) as rd:
        batches = list(rd.batches())
    assert np.concatenate([b.time_ns for b in batches]).tolist() == [base.ns(t) for t in ticks]
    if base.vector:
        assert len(batches) <= 2 + len(ticks) // reader_module.BATCH_RECORDS


@given(st.integers(0, 255), st.integers(-(2**63), 2**63 - 1), st.lists(st.integers(0, 2**64 - 1), min_size=1))
def test_time_resolution_vector_and_scalar_agree(tsresol, tsoffset, ticks):
    base = TimeResolution(tsresol, tsoffset)
    for t in ticks:
        assert base.in_range(t) == (-(2**63) <= base.ns(t) <= 2**63 - 1)
    inside = [t for t in ticks if base.in_range(t)]
    if base.vector and inside:
        assert base.ns_array(np.array(inside, dtype=np.uint64)).tolist() == [base.ns(t) for t in inside]


# ------------------------------------------------------------------------------ damaged files
def pcapng_ok(order: str = "<") -> bytes:
    return shb(order) + idb(order, LINKTYPE_SUNATM, 100, (2, b"sig"), (9, b"\x09"))


def _len_patch(raw: bytes, at: int, value: int, order: str = "<") -> bytes:
    b = bytearray(raw)
    struct.pack_into(order + "I", b, at, value)
    return bytes(b)


OK = pcapng_ok()
E1 = epb("<", 0, T0, b"hello")
BLOCK = "block_total_length"
DAMAGED = [
    pytest.param(b"GIF89a......", BadMagicError, 0, "magic", id="not a capture"),
    pytest.param(b"\x0a\x0d", TruncatedError, 0, "magic", id="too short"),
    pytest.param(OK[:8] + b"\x4d\x3c\x2b\x2a" + OK[12:], BadMagicError, 0, "byte_order_magic",
                 id="bad byte-order magic"),
    pytest.param(OK[:10], TruncatedError, 0, "byte_order_magic", id="SHB cut before its magic"),
    pytest.param(OK + E1[:6], TruncatedError, len(OK), "block header", id="block header cut"),
    pytest.param(OK + _len_patch(E1, 4, 46), BlockLengthError, len(OK), BLOCK, id="length not a multiple of 4"),
    pytest.param(OK + _len_patch(E1, 4, 28), BlockLengthError, len(OK), BLOCK, id="length below the EPB minimum"),
    pytest.param(OK + struct.pack("<II", 99, 8) + bytes(8), BlockLengthError, len(OK), BLOCK,
                 id="length below the general minimum"),
    pytest.param(OK + _len_patch(E1, 4, 4096), TruncatedError, len(OK), BLOCK, id="length beyond the file"),
    pytest.param(OK + E1[:-4], TruncatedError, len(OK), BLOCK, id="block cut short"),
    pytest.param(OK + _len_patch(E1, len(E1) - 4, len(E1) + 4), BlockLengthMismatchError, len(OK), BLOCK,
                 id="leading and trailing lengths disagree"),
    pytest.param(OK + block("<", 4, bytes(8), trailing=24), BlockLengthMismatchError, len(OK), BLOCK,
                 id="skipped block whose lengths disagree"),
    pytest.param(OK + epb("<", 1, 0, b"x"), UnknownInterfaceError, len(OK), "interface_id",
                 id="EPB for an undeclared interface"),
    pytest.param(shb("<") + epb("<", 0, 0, b"x"), UnknownInterfaceError, len(shb("<")), "interface_id",
                 id="EPB before any IDB"),
    pytest.param(OK + epb("<", 0, 0, bytes(101)), RecordTooLongError, len(OK), "captured_length",
                 id="EPB over the snap length"),
    pytest.param(OK + _len_patch(E1, 20, 9), BlockLengthError, len(OK), "captured_length",
                 id="captured length overruns the block"),
    pytest.param(OK + block("<", 6, struct.pack("<5I", 0, 0, 0, 1, 1) + b"x\0\0\0" + struct.pack("<HH", 1, 40)
                            + b"abcd"), BadOptionError, len(OK) + 32, "option 1", id="option overruns the block"),
    pytest.param(OK + idb("<", 1, 0, (9, b"\x09\x09")), BadOptionError, len(OK) + 16, "if_tsresol",
                 id="if_tsresol of the wrong length"),
    pytest.param(OK + idb("<", 1, 0, (14, bytes(4))), BadOptionError, len(OK) + 16, "if_tsoffset",
                 id="if_tsoffset of the wrong length"),
    pytest.param(OK + idb("<", 1, 0, (9, b"\x09"), (9, b"\x06")), BadOptionError, len(OK) + 24, "option 9",
                 id="if_tsresol twice"),
    pytest.param(OK + epb("<", 0, 2**63, b"x"), BadFieldError, len(OK), "timestamp",
                 id="timestamp beyond int64 nanoseconds"),
    pytest.param(pcap_file("<", True, [])[:20], TruncatedError, 0, "file header", id="pcap header cut"),
    pytest.param(_len_patch(pcap_file("<", True, []), 4, 3 | 4 << 16), UnsupportedVersionError, 4, "version_major",
                 id="pcap version 3"),
    pytest.param(pcap_file("<", True, [], link_extra=1 << 20), BadFieldError, 20, "linktype",
                 id="pcap reserved link bits"),
    pytest.param(pcap_file("<", True, [(0, 0, b"abc", 3)])[:-8], TruncatedError, 24, "record header",
                 id="pcap record header cut"),
    pytest.param(pcap_file(">", False, [(0, 0, b"abc", 3)])[:-1], TruncatedError, 24, "captured_length",
                 id="pcap record data cut"),
    pytest.param(pcap_file("<", True, [(0, 0, b"ab", 2), (0, 0, bytes(11), 11)], snaplen=10), RecordTooLongError,
                 24 + 18, "captured_length", id="pcap record over the snap length"),
]


def test_damaged_cases_are_all_different():
    assert len({case.values[0] for case in DAMAGED}) == len(DAMAGED)


@pytest.mark.parametrize("raw, error, offset, field", DAMAGED)
def test_damaged_files_raise_the_right_typed_error(raw, error, offset, field):
    with pytest.raises(error) as err:
        read_all(raw)
    assert (type(err.value), err.value.offset, err.value.field) == (error, offset, field)
    assert isinstance(err.value, CaptureDecodeError)
    assert f"at offset {offset}" in str(err.value)


def test_records_over_the_hard_limit():
    # pcap with SnapLen 0 ("no limit" in practice): the reader's 256 KiB limit still applies.
    big = struct.pack("<4I", 0, 0, MAX_RECORD_OCTETS + 1, MAX_RECORD_OCTETS + 1)
    raw = pcap_file("<", True, [], snaplen=0) + big + bytes(MAX_RECORD_OCTETS + 1)
    with pytest.raises(RecordTooLongError) as err:
        read_all(raw)
    assert (err.value.offset, err.value.field) == (24, "captured_length")
    # pcapng, interface without a snap length: an EPB of 256 KiB + 4 is refused before it is read.
    head = struct.pack("<5I", 0, 0, 0, MAX_RECORD_OCTETS + 4, MAX_RECORD_OCTETS + 4)
    raw = OK[:-len(idb("<", LINKTYPE_SUNATM, 100, (2, b"sig"), (9, b"\x09")))] + idb("<", 1, 0)
    epb_raw = block("<", 6, head + bytes(MAX_RECORD_OCTETS + 4))
    with pytest.raises(RecordTooLongError) as err:
        read_all(raw + epb_raw)
    assert (err.value.offset, err.value.field) == (len(raw), "captured_length")
    # A block over the parsing limit by its options alone.
    too_long = block("<", 6, struct.pack("<5I", 0, 0, 0, 0, 0) + opts("<", *[(1, b"c" * 60000)] * 6))
    assert len(too_long) > MAX_BLOCK_OCTETS
    with pytest.raises(BlockLengthError) as err:
        read_all(raw + too_long)
    assert (err.value.offset, err.value.field) == (len(raw), "block_total_length")


@pytest.mark.parametrize("claim", [0xFFFFFFFC, 1 << 30, MAX_BLOCK_OCTETS - 4])
def test_length_fields_are_checked_before_anything_is_allocated(claim):
    raw = OK + struct.pack("<II", 6, claim) + bytes(64)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(TruncatedError) as err:
            read_all(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.value.offset == len(OK) and peak < (1 << 21)  # the 1 MiB read chunk, not the claim


class Trickle(io.RawIOBase):
    """A stream that cannot seek or tell its size and hands out a few octets per read."""

    def __init__(self, raw: bytes, step: int = 7) -> None:
        self._raw, self._pos, self._step = raw, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self._step, len(self._raw) - self._pos)
        b[:n] = self._raw[self._pos : self._pos + n]
        self._pos += n
        return n


def test_non_seekable_streams():
    raw = OK + b"".join(epb("<", 0, T0 + i, bytes([i]) * 9) for i in range(30)) + block("<", 4, b"\0" * 40)
    raw += epb("<", 0, 1, b"last", comments=(b"c",))
    got = list(reader.open(Trickle(raw)))
    assert got == read_all(raw) and len(got) == 31
    with pytest.raises(TruncatedError) as err:
        list(reader.open(Trickle(raw[:-5])))
    assert err.value.offset == len(raw) - len(epb("<", 0, 1, b"last", comments=(b"c",)))
    pcap = pcap_file("<", True, [(1, 2, b"abc", 3)] * 5)
    assert len(list(reader.open(Trickle(pcap, step=3)))) == 5
    with pytest.raises(TruncatedError):
        list(reader.open(Trickle(pcap[:-1])))


def test_reading_memory_does_not_grow_with_the_capture(tmp_path):
    peaks = []
    for n in (30_000, 300_000):
        path = tmp_path / f"{n}.pcapng"
        with PcapngWriter(path) as w:
            e = w.add_interface(LINKTYPE_ERF, "cells")
            for start in range(0, n, 30_000):
                w.write_erf_cells(e, np.zeros((30_000, 53), np.uint8), np.arange(start, start + 30_000))
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            count = 0
            with reader.open(path) as rd:
                for batch in rd.batches():
                    count += len(batch.time_ns)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert count == n
    assert peaks[1] < 8 * 2**20 < path.stat().st_size  # a 30 MB capture read in < 8 MiB
    assert peaks[1] < 1.5 * peaks[0] + (1 << 20)


# --------------------------------------------------------------------------------- scapy
def test_packets_are_scapy_packets_with_time_comments_and_interface(tmp_path):
    from scapy.layers.l2 import Ether

    path = tmp_path / "eth.pcapng"
    frame = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / b"payload")
    with PcapngWriter(path) as w:
        w.add_interface(1, "eth<->wire")
        w.write_packet(0, T0, frame, comments=["a comment"])
        w.write_packet(0, T0 + 1, frame, orig_len=100)
    pkts = list(reader.open(path).packets())
    assert [type(p) for p in pkts] == [Ether, Ether]
    assert pkts[0].src == "02:00:00:00:00:01"
    assert [int(p.time * 10**9) for p in pkts] == [T0, T0 + 1]
    assert pkts[0].comments == [b"a comment"] and pkts[1].comments is None
    assert [p.wirelen for p in pkts] == [len(frame), 100]
    assert {p.sniffed_on for p in pkts} == {"eth<->wire"}


def test_packets_of_unknown_link_types_are_raw(tmp_path):
    from scapy.packet import Raw

    path = tmp_path / "x.pcap"
    with PcapWriter(path, 147) as w:  # LINKTYPE_USER0: nothing registered
        w.write_packet(1, b"\x01\x02")
    (pkt,) = reader.open(path).packets()
    assert isinstance(pkt, Raw) and bytes(pkt) == b"\x01\x02"


def test_packets_decode_with_the_atm_link_type_layers(tmp_path):
    linktypes = pytest.importorskip("captures.linktypes", reason="the scapy link-type layers are not there yet")
    path = tmp_path / "atm.pcapng"
    cells = np.zeros((3, 53), np.uint8)
    cells[:, :4] = (0x01, 0x23, 0x45, 0x60)
    with PcapngWriter(path) as w:
        w.add_interface(LINKTYPE_ERF, "cells")
        w.add_interface(LINKTYPE_SUNATM, "sig")
        w.write_erf_cells(0, cells, np.arange(3))
        w.write_packet(1, 4, sunatm_record(False, 0, 5, b"\x09\x03\x00\x00\x01\x75\x80\x00\x00\0\0\0\xc8\0\0\0"))
    pkts = list(reader.open(path).packets())
    assert all(isinstance(p, linktypes.ERF) for p in pkts[:3])
    assert [(p[linktypes.ERFATMCell].vpi, p[linktypes.ERFATMCell].vci) for p in pkts[:3]] == [(0x12, 0x3456)] * 3
    sig = pkts[3]
    assert isinstance(sig, linktypes.SunATM) and (sig.dir, sig.type, sig.vpi, sig.vci) == (0, 6, 0, 5)


# ---------------------------------------------------------------------------------- fuzzing
def _sample_pcapng() -> bytes:
    out = io.BytesIO()
    with PcapngWriter(out) as w:
        w.add_interface(LINKTYPE_SUNATM, "sig")
        w.add_interface(LINKTYPE_ERF, "cells", snaplen=200)
        w.write_packet(0, T0, sunatm_record(True, 0, 5, b"abcdefgh"), comments=["NdisClAddParty", "x"])
        w.write_erf_cells(1, np.arange(6 * 53, dtype=np.uint8).reshape(6, 53) % 251, T0 + np.arange(6))
        w.write_packet(0, T0 + 9, sunatm_record(False, 0, 5, b"ij"))
    be = io.BytesIO()
    with PcapngWriter(be, byteorder=">") as w:
        w.add_interface(LINKTYPE_ERF, "be")
        w.write_packet(0, 5, b"\0" * 13, comments="c")
    return out.getvalue() + block("<", 4, b"\0" * 4) + be.getvalue()


SAMPLES = [
    _sample_pcapng(),
    pcap_file("<", True, [(1, 2, b"abc", 3), (1, 3, b"defg", 9)] + [(2, i, bytes(8), 8) for i in range(5)]),
    pcap_file(">", False, [(1, 2, b"abc", 3)], snaplen=16),
]


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang("the reader did not finish within 10 s")


def _read_everything(raw: bytes) -> None:
    """Read ``raw`` to the end; only the capture layer's typed errors may come out."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    try:
        with reader.open(io.BytesIO(raw)) as rd:
            for batch in rd.batches():
                assert batch.data.shape[0] == len(batch.time_ns)
    except CaptureDecodeError as err:
        assert 0 <= err.offset <= len(raw) and err.field and err.reason
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


_mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("word"), st.integers(0, 10**6),
              st.sampled_from([0, 1, 3, 4, 8, 12, 28, 32, 100, 0xFFFFFFFC, 0xFFFFFFFF, 1 << 31])),
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(1, 64)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 64)),
)


def _mutate(raw: bytes, mutations, filler: bytes) -> bytes:
    b = bytearray(raw)
    for kind, at, arg in mutations:
        at = at % (len(b) + 1)
        if kind == "flip" and at < len(b):
            b[at] ^= arg
        elif kind == "word":
            for order in "<>"[arg % 2 :][:1]:
                b[at : at + 4] = struct.pack(order + "I", arg)
        elif kind == "cut":
            del b[at:]
        elif kind == "insert":
            b[at:at] = (filler * 64)[:arg]
        elif kind == "delete":
            del b[at : at + arg]
    return bytes(b)


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(SAMPLES))), st.lists(_mutation, min_size=1, max_size=4),
       st.binary(min_size=1, max_size=8))
def test_fuzz_mutated_files_give_only_typed_errors(sample, mutations, filler):
    _read_everything(_mutate(SAMPLES[sample], mutations, filler))


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.sampled_from([b"\x0a\x0d\x0d\x0a", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b""]), st.binary(max_size=600))
def test_fuzz_random_files_give_only_typed_errors(magic, tail):
    _read_everything(magic + tail)


def test_runs_after_a_new_interface_or_section_use_its_own_columns():
    """The vectorised runs keep the columns of a section's interfaces between runs: an interface added
    between two runs (other link type, other snap length) and a new section must each be seen."""
    out = io.BytesIO()
    with PcapngWriter(out) as w:
        a = w.add_interface(LINKTYPE_SUNATM, "a", snaplen=64)
        w.write_packets(a, np.arange(5, dtype=np.int64), np.zeros((5, 8), np.uint8))
        b = w.add_interface(LINKTYPE_ERF, "b", snaplen=100)
        w.write_packets(b, np.arange(5, dtype=np.int64), np.ones((5, 80), np.uint8))  # within b's snap only
        w.write_packets(a, np.arange(3, dtype=np.int64), np.zeros((3, 8), np.uint8))
    second = io.BytesIO()
    with PcapngWriter(second) as w:
        c = w.add_interface(LINKTYPE_ERF, "c", snaplen=16)
        w.write_packets(c, np.arange(4, dtype=np.int64), np.zeros((4, 16), np.uint8))
    with reader.open(io.BytesIO(out.getvalue() + second.getvalue())) as rd:
        got = [(r.section, r.interface, r.linktype, len(r.data)) for r in rd]
        assert rd.interface(1, 0).name == "c"
        with pytest.raises(KeyError):
            rd.interface(1, 1)
    assert got == ([(0, 0, LINKTYPE_SUNATM, 8)] * 5 + [(0, 1, LINKTYPE_ERF, 80)] * 5 + [(0, 0, LINKTYPE_SUNATM, 8)] * 3
                   + [(1, 0, LINKTYPE_ERF, 16)] * 4)
