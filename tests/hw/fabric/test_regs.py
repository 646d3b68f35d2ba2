"""hw/regs.py, the declarative register framework, and the fabric's map built with it."""

from __future__ import annotations

import numpy as np
import pytest

from hw.errors import FieldError
from hw.fabric.config import FabricConfig
from hw.fabric.counters import PORT_RX_CELLS, VC_IN_CELLS
from hw.fabric.errors import FabricConfigError
from hw.fabric.fabric import Fabric
from hw.fabric.registers import FABRIC_ID
from hw.regs import (
    Access,
    AccessError,
    Field,
    Register,
    RegisterFile,
    RegisterMap,
    UnmappedOffset,
    Window,
    counter,
    device_maps,
)

RO, RW, W1C, RC, WO = Access.RO, Access.RW, Access.W1C, Access.RC, Access.WO


def small_map() -> RegisterMap:
    return RegisterMap(
        "toy", "Toy device",
        (
            Register("CTRL", 0x0, (Field("EN", 0, 0, RW, 1, "enable"), Field("MODE", 3, 1, RW, 2, "mode", {"A": 0, "B": 5}),
                                   Field("REV", 15, 8, RO, 0x42, "revision"))),
            Register("IRQ", 0x4, (Field("DONE", 0, 0, W1C), Field("ERR", 1, 1, W1C))),
            Register("POP", 0x8, (Field("V", 31, 0, RC),)),
            Register("KICK", 0xC, (Field("GO", 0, 0, WO),)),
            counter("FRAMES", 0x10, "frames"),
        ),
        (Window("Q", 0x100, 4, 0x10, (Register("CFG", 0x0, (Field("A", 7, 0, RW), Field("B", 15, 8, RW))),
                                      counter("N", 0x8, "count"))),),
    )


def test_reset_values_and_bus_reads():
    rf = RegisterFile(small_map())
    assert rf.read(0x0) == 0x42 << 8 | 2 << 1 | 1
    assert rf.peek("CTRL") == rf.read(0x0)
    assert rf.get("CTRL", "MODE") == 2


def test_bus_write_ignores_read_only_bits_and_named_write_refuses_them():
    rf = RegisterFile(small_map())
    rf.write(0x0, 0xFFFF)
    assert rf.get("CTRL", "REV") == 0x42  # RO kept
    assert rf.get("CTRL", "MODE") == 7 and rf.get("CTRL", "EN") == 1
    with pytest.raises(AccessError):
        rf.set("CTRL", REV=1)


def test_w1c_rc_wo_semantics():
    m = small_map()
    irq = np.array([3], np.uint32)
    pop = np.array([9], np.uint32)
    rf = RegisterFile(m, {"IRQ.DONE": (irq, 0), "IRQ.ERR": (irq, 1), "POP.V": pop})
    assert rf.read(0x4) == 3
    rf.write(0x4, 0b01)  # clears DONE only
    assert irq[0] == 0b10
    assert rf.peek("POP") == 9 and rf.read(0x8) == 9 and rf.read(0x8) == 0  # cleared by a bus read
    rf.write(0xC, 1)
    assert rf.read(0xC) == 0  # write-only reads as 0


def test_named_values_packed_fields_and_range_checks():
    m = small_map()
    rf = RegisterFile(m)
    rf.set("CTRL", MODE="B")
    assert rf.get("CTRL", "MODE") == 5
    with pytest.raises(FieldError) as e:
        rf.set("CTRL", MODE=8)
    assert "CTRL.MODE" in str(e.value)
    with pytest.raises(FieldError):
        rf.set("CTRL", MODE="C")
    with pytest.raises(FieldError):
        rf.write(0x0, 1 << 32)


def test_windows_bulk_write_and_read():
    rf = RegisterFile(small_map())
    rf.write_table("Q", [0, 2], A=[5, 6], B=9)
    assert rf.read(0x100) == 9 << 8 | 5
    assert rf.read(0x120) == 9 << 8 | 6
    np.testing.assert_array_equal(rf.read_table("Q", "A"), [5, 0, 6, 0])
    with pytest.raises(FieldError):
        rf.write_table("Q", [4], A=1)  # entry 4 of 4
    with pytest.raises(FieldError):
        rf.write_table("Q", [1], A=256)


def test_unmapped_offsets_name_the_offset():
    rf = RegisterFile(small_map())
    with pytest.raises(UnmappedOffset) as e:
        rf.read(0x14)
    assert "0x14" in str(e.value)
    with pytest.raises(UnmappedOffset) as e:
        rf.read(0x104)  # inside Q[0] but no register there
    assert "Q[0]" in str(e.value)


def test_map_declaration_errors():
    with pytest.raises(FieldError):  # fields overlap
        RegisterMap("x", "x", (Register("R", 0, (Field("A", 3, 0), Field("B", 4, 3))),))
    with pytest.raises(FieldError):  # field outside the register
        RegisterMap("x", "x", (Register("R", 0, (Field("A", 32, 0),)),))
    with pytest.raises(FieldError):  # registers overlap
        RegisterMap("x", "x", (Register("R", 0, (Field("A", 0, 0),)), counter("C", 0, "c")))
    with pytest.raises(FieldError):  # 64-bit register misaligned
        RegisterMap("x", "x", (counter("C", 4, "c"),))
    with pytest.raises(FieldError):  # reset value wider than the field
        RegisterMap("x", "x", (Register("R", 0, (Field("A", 1, 0, RW, 4),)),))
    with pytest.raises(FieldError):  # window over a register
        RegisterMap("x", "x", (Register("R", 0x20, (Field("A", 0, 0),)),),
                    (Window("W", 0x0, 4, 0x10, (Register("E", 0, (Field("A", 0, 0),)),)),))


def test_write_hooks_see_writes_and_check_can_refuse():
    seen = []

    def check(name, idx, values):
        if values.get("A", np.zeros(1)).max() > 100:
            raise FieldError(name, int(values["A"].max()), "<= 100")

    rf = RegisterFile(small_map(), on_write=lambda n, i: seen.append((n, i.tolist())), check=check)
    rf.set("Q.CFG", 1, A=3)
    assert seen == [("Q.CFG", [1])]
    with pytest.raises(FieldError):
        rf.set("Q.CFG", 1, A=200)
    assert rf.get("Q.CFG", "A", 1) == 3  # refused: nothing written


def test_markdown_documents_every_register():
    md = small_map().markdown()
    for text in ("# Toy device", "| 0x0000 | CTRL |", "Q[4]", "### Q.CFG (+0x00", "| [15:8] | REV | RO | 0x42 |",
                 "B=5", "W1C"):
        assert text in md, text


# -- the fabric's map -------------------------------------------------------------------------------


def test_fabric_map_is_discoverable_and_documented():
    maps = device_maps()
    assert "fabric" in maps
    md = maps["fabric"]().markdown()
    for text in ("VC.KEY", "LEAF.NEXT", "DROP_IN_EPD", "PORT.QLIMIT", "HIST", "0xA7F5".lower()):
        assert text.lower() in md.lower(), text


def test_fabric_registers_read_the_kernel_counters_and_program_the_tables():
    fab = Fabric(FabricConfig(ports=4, vcs=64, leaves=64, buffers=64))
    m = fab.map
    assert fab.regs.read(m.offset_of("ID")) >> 16 == FABRIC_ID
    assert fab.regs.get("CONFIG", "PORTS") == 4
    fab.state.port_cnt[2, PORT_RX_CELLS] = 123456789012
    off = m.offset_of("PORT.RX_CELLS", 2)
    assert fab.regs.read(off) == 123456789012
    fab.state.vc_cnt[9, VC_IN_CELLS] = 7
    assert fab.regs.read(m.offset_of("VC.IN_CELLS", 9)) == 7
    # the reserved signalling entries are there after reset
    assert fab.regs.get("VC.KEY", "VCI", 3) == 5 and fab.regs.get("VC.PORT", "PORT", 3) == 3
    assert fab.regs.get("LEAF.PORT", "PORT", 3) == 4  # control port
    # the control port wants every cell at reset
    assert fab.regs.get("PORT.CTRL", "STOP", 4) == 1 and fab.regs.get("PORT.CTRL", "STOP", 0) == 0
    # bus writes program the tables the kernel uses
    fab.regs.write(m.offset_of("PORT.QLIMIT", 1), 17)
    assert fab.state.port_qlimit[1] == 17


def test_fabric_refuses_bad_table_values_with_the_field_named():
    fab = Fabric(FabricConfig(ports=4, vcs=64, leaves=64, buffers=64))
    with pytest.raises(FabricConfigError) as e:
        fab.regs.set("LEAF.PORT", 20, PORT=9)
    assert "LEAF.PORT" in str(e.value)
    assert fab.state.leaf_port[20] == 0
    # two valid entries cannot share a key: the second one is refused and left invalid
    fab.regs.write_table("VC", [20], PORT=1, VPI=1, VCI=40, VALID=1)
    with pytest.raises(FabricConfigError) as e:
        fab.regs.write_table("VC", [21], PORT=1, VPI=1, VCI=40, VALID=1)
    assert "VC[21]" in str(e.value)
    assert fab.regs.get("VC.CTRL", "VALID", 21) == 0
