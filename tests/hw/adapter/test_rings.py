"""Descriptor formats (declared once) and the ring index arithmetic."""

from __future__ import annotations

import pytest

from hw.adapter import RX_DESC, TX_DESC, HostMemory
from hw.adapter.rings import DescriptorLayout, ring_free, ring_next, ring_used, status_name, RX_ERR
from hw.errors import FieldError
from hw.regs import Field, Register


def test_tx_descriptor_bits_are_where_the_declaration_says():
    raw = TX_DESC.pack(ADDR=0x1122_3344_5566_7788, LEN=0x0102, UU=0xAB, CLP=1, EOP=1, OWN=1, VC=0xFED,
                       STATUS="BAD_VC", DONE=1)
    assert len(raw) == 16
    assert raw[:8] == bytes.fromhex("8877665544332211")  # little-endian 64-bit address
    assert int.from_bytes(raw[8:12], "little") == 0x0102 | 0xAB << 16 | 1 << 24 | 1 << 25 | 1 << 31
    assert int.from_bytes(raw[12:16], "little") == 0xFED | 1 << 16 | 1 << 31
    back = TX_DESC.unpack(raw)
    assert back["LEN"] == 0x0102 and back["VC"] == 0xFED and back["STATUS"] == 1


def test_rx_descriptor_round_trip_and_update_keeps_other_fields():
    mem = HostMemory(4096)
    a = mem.alloc(RX_DESC.octets, align=32)
    RX_DESC.write(mem, a, ADDR=0xABCDEF, SIZE=2048, OWN=1)
    RX_DESC.update(mem, a, LEN=7, VC=3, ERR="CRC", SOP=1, EOP=1, DONE=1, SLOT=1 << 40)
    RX_DESC.update(mem, a, OWN=0)
    d = RX_DESC.read(mem, a)
    assert (d["ADDR"], d["SIZE"], d["OWN"], d["LEN"], d["VC"], d["ERR"], d["SOP"], d["EOP"], d["DONE"],
            d["SLOT"]) == (0xABCDEF, 2048, 0, 7, 3, RX_ERR["CRC"], 1, 1, 1, 1 << 40)
    assert status_name(RX_ERR, d["ERR"]) == "CRC"


def test_bad_descriptor_values_and_declarations_are_typed():
    with pytest.raises(FieldError, match="LEN"):
        TX_DESC.pack(LEN=1 << 16)
    with pytest.raises(FieldError, match="NOPE"):
        TX_DESC.pack(NOPE=1)
    with pytest.raises(FieldError):
        RX_DESC.pack(ERR="BAD")
    with pytest.raises(FieldError):
        TX_DESC.unpack(bytes(15))
    with pytest.raises(FieldError):  # overlapping fields
        DescriptorLayout("bad", 8, (Register("W", 0, (Field("A", 7, 0), Field("B", 3, 0))),))
    with pytest.raises(FieldError):  # a word past the end of the descriptor
        DescriptorLayout("bad", 4, (Register("W", 4, (Field("A", 7, 0),)),))


def test_ring_index_arithmetic_wraps_for_any_size():
    for size in (2, 3, 7, 16, 65535):
        for head in (0, size - 1):
            assert ring_used(head, head, size) == 0 and ring_free(head, head, size) == size - 1
            tail = ring_next(head, size, size - 1)  # full: one entry stays empty
            assert ring_used(head, tail, size) == size - 1 and ring_free(head, tail, size) == 0
    assert ring_next(6, 7) == 0 and ring_next(5, 7, 3) == 1


def test_the_design_note_shows_the_declared_descriptor_formats():
    from pathlib import Path

    from hw.adapter.rings import markdown

    note = (Path(__file__).resolve().parents[3] / "docs" / "adapter.md").read_text()
    section = note.split("<!-- descriptors: begin -->\n", 1)[1].split("<!-- descriptors: end -->", 1)[0]
    assert section == markdown(), "regenerate the section of docs/adapter.md from hw.adapter.rings.markdown()"
