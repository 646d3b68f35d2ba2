"""The adapter's register map and bus: declared once, discovered by ``atmemu regs``, rendered as
Markdown; typed errors for bad accesses and for values the adapter refuses; 64-bit halves; W1C."""

from __future__ import annotations

import pytest

from hw.adapter import AdapterConfigError, HostMemory, RX_DESC, TX_DESC
from hw.adapter.adapter import Adapter
from hw.adapter.registers import COUNTERS, DEVICE, VC_BASE, AdapterConfig, build_map, register_map
from hw.adapter.rings import markdown as rings_markdown
from hw.clock import Clock
from hw.errors import FieldError
from hw.regs import AccessError, Access, UnmappedOffset, device_maps


@pytest.fixture
def ad():
    return Adapter(Clock("OC-3c"), HostMemory(1 << 20))


def test_device_maps_finds_the_adapter_and_its_markdown_renders():
    maps = device_maps()
    assert DEVICE == "adapter" and maps["adapter"] is register_map
    md = maps["adapter"]().markdown()
    for text in ("# ATM adapter register map", "INT_STATUS", "| W1C |", "TXR[tx_rings]", "VC[vcs]",
                 "### VC.PCR", "RX_HEC_DISCARDS", "RX_CRC_ERRORS", "RX_NO_DESC", "RX_UNKNOWN_VC",
                 "Values: AAL0=1, AAL5=8", "Values: CBR=1, VBR=2, UBR=4, ABR=8"):
        assert text in md, text
    rings = rings_markdown()
    assert "### transmit descriptor (16 octets" in rings and "### receive descriptor (32 octets" in rings
    assert "| +0x10 | STATUS | [3:0] | ERR | adapter |" in rings


def test_maps_follow_the_configuration():
    m = build_map(AdapterConfig(vcs=1024, tx_rings=4, rx_rings=3))
    assert m.window("VC").count == 1024 and m.window("TXR").count == 4 and m.window("RXR").count == 3
    assert {f.name for f in m.register("INT_STATUS").fields} >= {"TX_DONE3", "RX_DONE2"}
    with pytest.raises(FieldError):
        AdapterConfig(vcs=5000)


def test_reset_values_read_over_the_bus(ad):
    assert ad.read32(0x000) == 0xA7AD_0001
    cfg = ad.read32(0x004)
    assert cfg & 0x1FFF == 256 and (cfg >> 16) & 7 == 2 and (cfg >> 20) & 7 == 2 and cfg >> 24 == 8
    assert ad.read32(ad.offset("LINE_RATE")) == 353_208
    assert ad.read32(ad.offset("VC.CTRL", 7)) == (8 << 4) | (4 << 8)  # AAL5, UBR
    assert ad.read32(ad.offset("VC.MAX_SDU", 7)) == 0xFFFF


def test_bad_register_accesses_are_typed(ad):
    with pytest.raises(UnmappedOffset):
        ad.read32(0x0FFC)
    with pytest.raises(UnmappedOffset, match="aligned"):
        ad.read32(0x002)
    with pytest.raises(UnmappedOffset):
        ad.write32(VC_BASE + 0x7C, 0)  # inside a VC entry, between registers
    with pytest.raises(UnmappedOffset):
        ad.read32(VC_BASE + 256 * 0x80)  # past the last VC entry
    with pytest.raises(AccessError, match="ID"):
        ad.write32(0x000, 0)
    with pytest.raises(AccessError):
        ad.write32(ad.offset("STATUS"), 1)
    with pytest.raises(AccessError, match="RX_CELLS"):
        ad.write32(ad.offset("RX_CELLS") + 4, 1)  # high word of a counter
    with pytest.raises(AccessError):
        ad.write32(ad.offset("VC.TX_CELLS", 3), 0)
    with pytest.raises(FieldError):
        ad.write32(ad.offset("COALESCE"), 1 << 32)
    with pytest.raises(UnmappedOffset):
        ad.read64(ad.offset("CTRL"))  # not a 64-bit register


def test_every_register_is_readable_at_its_offsets(ad):
    for r in ad.map.registers:
        ad.read32(r.offset)
        if r.width == 64:
            ad.read32(r.offset + 4)
    for w in ad.map.windows:
        for r in w.registers:
            for i in (0, w.count - 1):
                ad.read32(w.base + i * w.stride + r.offset)


def test_64bit_counter_read_latches_the_high_word(ad):
    i = [n for n, _ in COUNTERS].index("RX_CELLS")
    ad.counters.g[i] = 0x1_FFFF_FFFF
    o = ad.offset("RX_CELLS")
    low = ad.read32(o)
    ad.counters.g[i] += 1  # the counter carries into the high word between the two reads
    high = ad.read32(o + 4)
    assert (high << 32 | low) == 0x1_FFFF_FFFF  # the value at the low read, not a torn mix
    assert ad.read32(o + 4) == 2  # without a latch, the live high word
    assert ad.read64(o) == 0x2_0000_0000


def test_64bit_register_written_in_halves(ad):
    mem = ad.memory
    base = mem.alloc(16 * 8, align=16)
    o = ad.offset("TXR.BASE", 1)
    ad.write32(o, base & 0xFFFF_FFFF)
    ad.write32(o + 4, base >> 32)
    assert ad.regs.get("TXR.BASE", "ADDR", 1) == base
    ad.write64(o, base)
    assert ad.read64(o) == base


def test_int_status_is_w1c(ad):
    ad.irq.cause(0)
    ad.irq.cause(9)
    o = ad.offset("INT_STATUS")
    assert ad.read32(o) == (1 << 0) | (1 << 9)
    ad.write32(o, 1 << 9)
    assert ad.read32(o) == 1
    ad.write32(o, 0)
    assert ad.read32(o) == 1
    assert ad.map.register("INT_STATUS").field("TX_DONE0").access is Access.W1C


def test_reset_is_self_clearing_and_restores_everything(ad):
    ad.write32(ad.offset("COALESCE"), 0x0010_0004)
    ad.write32(ad.offset("VC.PCR", 2), 1000)
    ad.counters.add("RX_CELLS", 5)
    ad.write32(ad.offset("CTRL"), 1)
    assert ad.read32(ad.offset("CTRL")) == 0
    assert ad.read32(ad.offset("COALESCE")) == 0 and ad.read32(ad.offset("VC.PCR", 2)) == 0
    assert ad.read64(ad.offset("RX_CELLS")) == 0


def test_ring_programming_errors(ad):
    mem = ad.memory
    size_o, base_o, ctrl_o, tail_o = (ad.offset(f"TXR.{r}") for r in ("SIZE", "BASE", "CTRL", "TAIL"))
    with pytest.raises(AdapterConfigError, match="SIZE"):
        ad.write32(ctrl_o, 1)  # size 0
    ad.write32(size_o, 8)
    with pytest.raises(AdapterConfigError, match="allocated"):
        ad.write32(ctrl_o, 1)  # base 0: no buffer there
    small = mem.alloc(4 * TX_DESC.octets, align=16)
    ad.write64(base_o, small)
    with pytest.raises(AdapterConfigError, match="allocated"):
        ad.write32(ctrl_o, 1)  # 8 descriptors do not fit in a 4-descriptor buffer
    ad.write64(base_o, small + 8)
    with pytest.raises(AdapterConfigError, match="aligned"):
        ad.write32(ctrl_o, 1)
    with pytest.raises(AdapterConfigError, match="enabled first"):
        ad.write32(tail_o, 1)
    ad.write32(size_o, 4)
    ad.write64(base_o, small)
    ad.write32(ctrl_o, 1)
    with pytest.raises(AdapterConfigError, match="ENABLE = 0"):
        ad.write32(size_o, 8)
    with pytest.raises(AdapterConfigError, match="ENABLE = 0"):
        ad.write32(base_o, 0)
    with pytest.raises(AdapterConfigError, match="0..3"):
        ad.write32(tail_o, 4)
    ad.write32(tail_o, 3)
    ad.write32(ctrl_o, 0)  # disabling resets the indices
    assert ad.read32(tail_o) == 0 and ad.read32(ad.offset("TXR.HEAD")) == 0
    rx = mem.alloc(4 * RX_DESC.octets, align=32)
    ad.write64(ad.offset("RXR.BASE"), rx)
    ad.write32(ad.offset("RXR.SIZE"), 4)
    ad.write32(ad.offset("RXR.CTRL"), 1)


def test_vc_programming_errors(ad):
    def ctrl(**f):
        value = 0
        r = ad.map.window("VC").register("CTRL")
        for name, v in {"AAL": 8, "SERVICE": 4, **f}.items():
            value |= v << r.field(name).lsb
        return value

    hdr = lambda vpi, vci: vpi << 16 | vci  # noqa: E731
    with pytest.raises(AdapterConfigError, match="0/0"):
        ad.write32(ad.offset("VC.CTRL", 1), ctrl(RX_EN=1))
    ad.write32(ad.offset("VC.HDR", 1), hdr(0, 5))
    ad.write32(ad.offset("VC.CTRL", 1), ctrl(RX_EN=1, TX_EN=1))
    with pytest.raises(AdapterConfigError, match="HDR"):
        ad.write32(ad.offset("VC.HDR", 1), hdr(0, 6))  # while enabled
    with pytest.raises(AdapterConfigError, match="AAL"):
        ad.write32(ad.offset("VC.CTRL", 1), ctrl(RX_EN=1, TX_EN=1, AAL=1))  # while enabled
    ad.write32(ad.offset("VC.HDR", 2), hdr(0, 5))
    with pytest.raises(AdapterConfigError, match="already received on VC 1"):
        ad.write32(ad.offset("VC.CTRL", 2), ctrl(RX_EN=1))
    ad.write32(ad.offset("VC.CTRL", 2), ctrl(TX_EN=1))  # transmitting on the same header is fine
    with pytest.raises(AdapterConfigError, match="AAL"):
        ad.write32(ad.offset("VC.CTRL", 3), ctrl(AAL=3))
    with pytest.raises(AdapterConfigError, match="SERVICE"):
        ad.write32(ad.offset("VC.CTRL", 3), ctrl(SERVICE=3))
    with pytest.raises(AdapterConfigError, match="RX_RING"):
        ad.write32(ad.offset("VC.CTRL", 3), ctrl(RX_RING=2))
    with pytest.raises(AdapterConfigError, match="PCR"):
        ad.write32(ad.offset("VC.PCR", 3), 353_209)
    ad.write32(ad.offset("VC.PCR", 3), 1000)
    with pytest.raises(AdapterConfigError, match="SCR"):
        ad.write32(ad.offset("VC.SCR", 3), 1001)
    ad.write32(ad.offset("VC.SCR", 3), 500)
    with pytest.raises(AdapterConfigError, match="MBS"):
        ad.write32(ad.offset("VC.MBS", 3), 0)  # an SCR needs a burst size of at least one cell
    # bulk programming through the register file's table access runs the same checks, and sees a
    # clash between two entries of the same write
    ad.regs.write_table("VC", [6, 7], VPI=[2, 2], VCI=[50, 50])
    with pytest.raises(AdapterConfigError, match="already received on VC 6"):
        ad.regs.write_table("VC", [6, 7], RX_EN=[1, 1])
    assert ad.regs.read_table("VC", "RX_EN", [6, 7]).tolist() == [0, 0]  # nothing was written


def test_atmemu_regs_adapter_prints_the_map(capsys):
    from tools.cli import main

    assert main(["-q", "regs", "adapter"]) == 0
    out = capsys.readouterr().out
    assert out == register_map().markdown()
    assert "### TXR.TAIL (+0x10, 32 bits, reset 0x0)" in out
