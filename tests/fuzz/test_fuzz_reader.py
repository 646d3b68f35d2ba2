"""Fuzzing the capture reader (captures/reader.py): classic pcap and pcapng, from a seekable file and
from a pipe (size unknown, no seeking), which must read the same records before any error.

Beyond random octets behind each magic and mutated seeds (fuzzkit), files taken apart into their
blocks or records and rebuilt: blocks dropped, repeated, swapped; a block's leading or trailing
Block Total Length (or both) off by a little or at an edge (4 GiB among them: the reader must refuse
it without allocating, which the memory bound checks); an EPB's captured length, interface id and
timestamp, an IDB's link type, snap length and options (if_tsresol, if_tsoffset), an option's length,
the SHB's version and byte-order magic; a pcap record's captured length and the file's snap length,
version and link type reserved bits."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from captures.pcapng import BLOCK_EPB, BLOCK_IDB, BLOCK_SHB, BYTE_ORDER_MAGIC, pad4
from fuzzkit import EDGE_INTS, FUZZ, mutated, nudge, put_int, run, seeds, targets

READER_TARGETS = targets("capture.pcap", "capture.pcapng")
MAGICS = {"capture.pcap": (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"),
          "capture.pcapng": (b"\x0a\x0d\x0d\x0a",)}


@pytest.mark.fuzz
@pytest.mark.parametrize("target", READER_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_random_octets_behind_a_magic(target, data):
    magic = data.draw(st.sampled_from(MAGICS[target.name] + (b"",)))
    tail = data.draw(st.binary(max_size=600))
    if target.name == "capture.pcapng" and data.draw(st.booleans()):
        tail = tail[:4] + data.draw(st.sampled_from((b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"))) + tail[8:]
    run(target, magic + tail)


@pytest.mark.fuzz
@pytest.mark.parametrize("target", READER_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_mutated_seeds(target, data):
    run(target, data.draw(mutated(seeds(target))))


# ------------------------------------------------------------------------------------------ pcapng


def pcapng_blocks(raw: bytes) -> list[tuple[str, bytearray]]:
    """(byte order, block) of each block of a well-formed pcapng file (section 3.1)."""
    blocks, pos, order = [], 0, "<"
    while pos + 12 <= len(raw):
        if raw[pos: pos + 4] == b"\x0a\x0d\x0d\x0a":
            order = "<" if struct.unpack_from("<I", raw, pos + 8)[0] == BYTE_ORDER_MAGIC else ">"
        length = struct.unpack_from(order + "I", raw, pos + 4)[0]
        blocks.append((order, bytearray(raw[pos: pos + length])))
        pos += length
    return blocks


def _options_start(order: str, block: bytearray) -> int | None:
    block_type = struct.unpack_from(order + "I", block, 0)[0]
    if block_type == BLOCK_SHB:
        return 24
    if block_type == BLOCK_IDB:
        return 16
    if block_type == BLOCK_EPB and len(block) >= 28:
        return 28 + pad4(struct.unpack_from(order + "I", block, 20)[0])
    return None


_BLOCK_OPS = ("drop", "repeat", "swap", "lead_length", "trail_length", "both_lengths", "epb_caplen", "epb_iface",
              "epb_time", "idb_linktype", "idb_snaplen", "option_length", "tsresol", "tsoffset", "shb_version",
              "shb_magic", "huge_block")


@st.composite
def pcapng_rebuilt(draw, seeds):
    blocks = pcapng_blocks(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(_BLOCK_OPS))
        i = draw(st.integers(0, len(blocks) - 1))
        order, block = blocks[i]
        value = draw(st.one_of(st.sampled_from(EDGE_INTS), st.integers(0, 0xFFFFFFFF)))
        if op == "drop" and len(blocks) > 1:
            del blocks[i]
        elif op == "repeat":
            blocks.insert(i, (order, bytearray(block)))
        elif op == "swap":
            j = draw(st.integers(0, len(blocks) - 1))
            blocks[i], blocks[j] = blocks[j], blocks[i]
        elif op in ("lead_length", "trail_length", "both_lengths"):
            delta = draw(st.sampled_from((-8, -4, -1, 1, 4, 8, None)))
            for at in ((4,) if op == "lead_length" else (len(block) - 4,) if op == "trail_length"
                       else (4, len(block) - 4)):
                if delta is None:
                    put_int(block, at, value, 4, "little" if order == "<" else "big")
                else:
                    nudge(block, at, 4, delta, "little" if order == "<" else "big")
        elif op == "huge_block":  # a block claiming up to 4 GiB, of a type that is parsed or skipped
            kind = draw(st.sampled_from((BLOCK_EPB, BLOCK_IDB, 3, 4, 5, 0x40000BAD)))
            blocks.insert(i, (order, bytearray(struct.pack(order + "III", kind, value % (1 << 32) & ~3, 0))))
        else:
            endian = "little" if order == "<" else "big"
            block_type = struct.unpack_from(order + "I", block, 0)[0] if len(block) >= 4 else -1
            opts = _options_start(order, block)
            if op == "epb_caplen" and block_type == BLOCK_EPB:
                put_int(block, 20, value, 4, endian)
            elif op == "epb_iface" and block_type == BLOCK_EPB:
                put_int(block, 8, draw(st.sampled_from((0, 1, 2, 3, 0xFFFFFFFF))), 4, endian)
            elif op == "epb_time" and block_type == BLOCK_EPB:
                put_int(block, 12 + 4 * draw(st.integers(0, 1)), value, 4, endian)
            elif op == "idb_linktype" and block_type == BLOCK_IDB:
                put_int(block, 8, draw(st.sampled_from((0, 123, 197, 0xFFFF))), 2, endian)
            elif op == "idb_snaplen" and block_type == BLOCK_IDB:
                put_int(block, 12, draw(st.sampled_from((0, 1, 4, 52, 68, 0xFFFFFFFF))), 4, endian)
            elif op == "option_length" and opts is not None and opts + 4 <= len(block) - 4:
                put_int(block, opts + 2, draw(st.sampled_from((0, 1, 3, 4, 8, 0x7FFF, 0xFFFF))), 2, endian)
            elif op in ("tsresol", "tsoffset") and block_type == BLOCK_IDB:
                code, option = (9, bytes((draw(st.sampled_from((0, 6, 9, 10, 19, 20, 0x7F, 0x80, 0x9E, 0xBF,
                                                                   0xFF))),))) if op == "tsresol" else (
                    14, struct.pack(order + "q", draw(st.sampled_from((0, 1, -1, 1 << 40, -(1 << 62), (1 << 63) - 1)))))
                one = struct.pack(order + "HH", code, len(option)) + option + bytes(pad4(len(option)) - len(option))
                extra = one * draw(st.sampled_from((1, 1, 2)))  # twice: the reader refuses a second one
                body = bytes(block[:16]) + extra + bytes(block[16:-4])
                total = struct.pack(order + "I", len(body) + 4)
                block[:] = body[:4] + total + body[8:] + total
            elif op == "shb_version" and block_type == BLOCK_SHB:
                put_int(block, 12, draw(st.sampled_from((0, 1, 2, 0xFFFF))), 2, endian)
                put_int(block, 14, draw(st.sampled_from((0, 1, 2, 0xFFFF))), 2, endian)
            elif op == "shb_magic" and block_type == BLOCK_SHB:
                block[8:12] = block[8:12][::-1] if draw(st.booleans()) else b"\0\0\0\0"
    return b"".join(bytes(b) for _, b in blocks)


@pytest.mark.fuzz
@FUZZ
@given(data=pcapng_rebuilt(seeds("capture.pcapng")))
def test_pcapng_rebuilt_block_by_block(data):
    run("capture.pcapng", data)


# -------------------------------------------------------------------------------------------- pcap


@st.composite
def pcap_rebuilt(draw, seeds):
    raw = draw(st.sampled_from(seeds))
    order = "<" if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    endian = "little" if order == "<" else "big"
    header, records, pos = bytearray(raw[:24]), [], 24
    while pos + 16 <= len(raw):
        caplen = struct.unpack_from(order + "I", raw, pos + 8)[0]
        records.append(bytearray(raw[pos: pos + 16 + caplen]))
        pos += 16 + caplen
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(("drop", "repeat", "swap", "caplen", "caplen_edge", "origlen", "fraction",
                                   "snaplen", "version", "linktype")))
        i = draw(st.integers(0, max(len(records) - 1, 0)))
        if op == "snaplen":
            put_int(header, 16, draw(st.sampled_from((0, 1, 16, 52, 68, 0xFFFFFFFF))), 4, endian)
        elif op == "version":
            put_int(header, 4, draw(st.sampled_from((1, 2, 3, 0xFFFF))), 2, endian)
        elif op == "linktype":  # LinkType and the FCS / reserved bits above it (draft-ietf-opsawg-pcap 4)
            put_int(header, 20, draw(st.sampled_from((123, 197, 0x0400007B, 0x1000007B, 0x0800007B, 0xFFFFFFFF))),
                    4, endian)
        elif not records:
            continue
        elif op == "drop":
            del records[i]
        elif op == "repeat":
            records.insert(i, bytearray(records[i]))
        elif op == "swap":
            j = draw(st.integers(0, len(records) - 1))
            records[i], records[j] = records[j], records[i]
        elif op == "caplen":
            nudge(records[i], 8, 4, draw(st.integers(-8, 8).filter(bool)), endian)
        elif op == "caplen_edge":
            put_int(records[i], 8, draw(st.sampled_from(EDGE_INTS)), 4, endian)
        elif op == "origlen":
            put_int(records[i], 12, draw(st.sampled_from(EDGE_INTS)), 4, endian)
        elif op == "fraction":  # a sub-second part beyond one second
            put_int(records[i], 4, draw(st.sampled_from((999_999, 1_000_000, 999_999_999, 10**9, 0xFFFFFFFF))), 4,
                    endian)
    return bytes(header) + b"".join(records)


@pytest.mark.fuzz
@FUZZ
@given(data=pcap_rebuilt(seeds("capture.pcap")))
def test_pcap_rebuilt_record_by_record(data):
    run("capture.pcap", data)


# ------------------------------------------------------------------- lengths that claim 4 GiB


def _claims(seed_pcapng: bytes, seed_pcap: bytes) -> dict[str, bytes]:
    """Valid files with one length field rewritten to claim about 4 GiB."""
    blocks = pcapng_blocks(seed_pcapng)
    epb = next(i for i, (o, b) in enumerate(blocks) if struct.unpack_from(o + "I", b, 0)[0] == BLOCK_EPB)
    out = {}
    for name, at in (("pcapng EPB captured length", 20), ("pcapng EPB block length", 4),
                     ("pcapng EPB trailing length", None)):
        copy = [(o, bytearray(b)) for o, b in blocks]
        order, block = copy[epb]
        put_int(block, len(block) - 4 if at is None else at, 0xFFFFFFFC, 4, "little" if order == "<" else "big")
        out[name] = b"".join(bytes(b) for _, b in copy)
    out["pcapng unknown block of 4 GiB"] = seed_pcapng + struct.pack("<III", 0x40000BAD, 0xFFFFFFFC, 0)
    pcap = bytearray(seed_pcap)
    put_int(pcap, 24 + 8, 0xFFFFFFFF, 4, "little" if pcap[0] == 0xD4 or pcap[0] == 0x4D else "big")
    out["pcap record captured length"] = bytes(pcap)
    return out


CLAIMS = _claims(targets("capture.pcapng")[0].seeds()[1], targets("capture.pcap")[0].seeds()[0])


@pytest.mark.fuzz
@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_a_length_claiming_4_gib_allocates_nothing_of_that_size(name):
    """Read from a seekable file and from a pipe (where the reader cannot compare the length with the
    octets left), under tracemalloc: a typed error, and a memory peak within the reader's chunks."""
    from tools.fuzz.guard import bounded
    from tools.fuzz.targets import check

    target = TARGETS_BY_NAME["capture.pcapng" if name.startswith("pcapng") else "capture.pcap"]
    data = CLAIMS[name]
    with bounded(10, target.memory(len(data)), trace=True) as peak:
        outcome = check(target, data)
    assert outcome.endswith("Error") and peak.octets < 4 << 20, (outcome, peak.octets)


TARGETS_BY_NAME = {t.name: t for t in READER_TARGETS}
