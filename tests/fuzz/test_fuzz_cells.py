"""Fuzzing the cell layer: header decoding (I.361, HEC of I.432.1), the HEC receiver, cell delineation
and OAM cells (I.610).

Each decoder gets random octets and mutated valid inputs (see fuzzkit); then structure-aware ones:
headers whose fields are rewritten and whose HEC is stamped again (so decoding goes past the HEC
check), OAM payloads rewritten under a fresh CRC-10 (so it goes past the CRC), cell streams with
header bit errors of 1..3 bits, lost, repeated and swapped cells and idle cells in between, and bit
streams with slips (bits gained or lost), error bursts and cuts. The oracles are the targets'
(tools/fuzz/targets.py): kernel and twin agree, the receiver's counters balance, the delineator does
not depend on how the stream is cut into chunks, decoded headers and OAM cells encode back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzzkit import FUZZ, mutated, run, seeds, targets
from hw.cell import IDLE_CELL, hec
from hw.oam import stamp_crc10

CELL_TARGETS = targets("cell.header", "cell.hec_receiver", "cell.delineation", "cell.oam")


@pytest.mark.fuzz
@pytest.mark.parametrize("target", CELL_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_random_octets(target, data):
    run(target, data.draw(st.binary(max_size=target.max_input)))


@pytest.mark.fuzz
@pytest.mark.parametrize("target", CELL_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_mutated_seeds(target, data):
    run(target, data.draw(mutated(seeds(target))))


# ------------------------------------------------------------------------ headers and OAM payloads


@st.composite
def rewritten_headers(draw, seeds):
    """A seed whose four header octets are rewritten (any GFC/VPI, VCI, PTI, CLP; edge values
    likely) and whose HEC is stamped again, so that it decodes; sometimes with a HEC left wrong by
    1 or 2 bits (the single-bit errors a receiver corrects, the double ones it cannot)."""
    cell = bytearray(draw(st.sampled_from(seeds)))
    for i in draw(st.lists(st.integers(0, 3), min_size=1, max_size=4)):
        cell[i] = draw(st.one_of(st.sampled_from((0x00, 0x0F, 0xF0, 0xFF, 0x01, 0x0E)), st.integers(0, 255)))
    cell[4] = hec(bytes(cell[:4]))
    for bit in draw(st.lists(st.integers(0, 39), max_size=2, unique=True)):
        cell[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(cell)


@pytest.mark.fuzz
@FUZZ
@given(cell=rewritten_headers(seeds("cell.header")))
def test_rewritten_headers(cell):
    run("cell.header", cell)


@st.composite
def rewritten_oam(draw, seeds):
    """An OAM cell whose type octet, loopback indication or any payload octet is rewritten, under a
    fresh CRC-10 (I.610 10.1) so that the decoder checks the codes; or a header rewritten (PTI, VCI:
    F4/F5 or neither) under a fresh HEC."""
    cell = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(("types", "indication", "payload", "reserved", "pti", "vci")))
        if where == "types":
            cell[5] = draw(st.integers(0, 255))
        elif where == "indication":
            cell[6] = draw(st.sampled_from((0, 1, 2, 0x80, 0xFF)))
        elif where == "payload":
            cell[draw(st.integers(6, 50))] = draw(st.integers(0, 255))
        elif where == "reserved":
            cell[51] |= draw(st.integers(1, 63)) << 2
        elif where == "pti":
            cell[3] = cell[3] & 0xF1 | draw(st.integers(0, 7)) << 1
        else:
            vci = draw(st.sampled_from((0, 3, 4, 5, 32, 0xFFFF)))
            cell[1] = cell[1] & 0xF0 | vci >> 12
            cell[2] = vci >> 4 & 0xFF
            cell[3] = cell[3] & 0x0F | (vci & 0xF) << 4
    cell[4] = hec(bytes(cell[:4]))
    row = np.frombuffer(bytes(cell), np.uint8).reshape(1, 53).copy()
    if draw(st.booleans()):
        stamp_crc10(row)
    return row.tobytes()


@pytest.mark.fuzz
@FUZZ
@given(cell=rewritten_oam(seeds("cell.oam")))
def test_rewritten_oam_cells(cell):
    run("cell.oam", cell)


# ------------------------------------------------------------------------------------ cell streams


@st.composite
def impaired_cells(draw, seeds):
    """A stream of whole cells with cell-level impairments: 1..3 header bits wrong, a cell lost,
    repeated or swapped with the next, idle cells inserted, a payload octet changed."""
    stream = draw(st.sampled_from(seeds))
    cells = [bytearray(stream[i: i + 53]) for i in range(0, len(stream) - 52, 53)]
    for _ in range(draw(st.integers(1, 6))):
        if not cells:
            break
        i = draw(st.integers(0, len(cells) - 1))
        op = draw(st.sampled_from(("header_bits", "lose", "repeat", "swap", "idle", "payload")))
        if op == "header_bits":
            for bit in draw(st.lists(st.integers(0, 39), min_size=1, max_size=3, unique=True)):
                cells[i][bit // 8] ^= 0x80 >> (bit % 8)
        elif op == "lose":
            del cells[i]
        elif op == "repeat":
            cells.insert(i, bytearray(cells[i]))
        elif op == "swap" and i + 1 < len(cells):
            cells[i], cells[i + 1] = cells[i + 1], cells[i]
        elif op == "idle":
            cells[i:i] = [bytearray(IDLE_CELL)] * draw(st.integers(1, 3))
        elif op == "payload":
            cells[i][draw(st.integers(5, 52))] ^= draw(st.integers(1, 255))
    return b"".join(cells)


@pytest.mark.fuzz
@pytest.mark.parametrize("target", targets("cell.hec_receiver", "aal5.reassembly"), ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_impaired_cell_streams(target, data):
    run(target, data.draw(impaired_cells(seeds(target))))


@st.composite
def slipped_bits(draw, seeds):
    """A bit stream with slips (1..7 bits gained or lost at a point: the cell boundary moves), bursts
    of bit errors, and a cut: what delineation must recover from (I.432.1 4.5)."""
    bits = np.unpackbits(np.frombuffer(draw(st.sampled_from(seeds)), np.uint8))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(bits)))
        op = draw(st.sampled_from(("gain", "lose", "burst", "cut")))
        n = draw(st.integers(1, 7))
        if op == "gain":
            bits = np.concatenate([bits[:at], np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
                                                       np.uint8), bits[at:]])
        elif op == "lose":
            bits = np.concatenate([bits[:at], bits[at + n:]])
        elif op == "burst":
            bits = bits.copy()
            bits[at: at + 8 * n] ^= 1
        else:
            bits = bits[:at]
    return np.packbits(bits).tobytes()


@pytest.mark.fuzz
@FUZZ
@given(stream=slipped_bits(seeds("cell.delineation")))
def test_slipped_bit_streams(stream):
    run("cell.delineation", stream)
