"""The fabric's VC and leaf tables programmed through its register file only, read back through it,
and left empty when everything is removed. The real hw.fabric fabric is used (its register file; no
cell is switched here, see test_end_to_end.py for the data plane)."""

from __future__ import annotations

import pytest

from firmware.switch.errors import BookkeepingError, FabricProgrammingError, ResourceError
from firmware.switch.fabric_programming import FabricProgrammer
from hw.fabric import program
from hw.fabric.config import FabricConfig
from hw.fabric.fabric import Fabric
from hw.fabric.tables import cam_key


def fabric(ports: int = 4, vcs: int = 32, leaves: int = 32) -> Fabric:
    return Fabric(FabricConfig(ports=ports, vcs=vcs, leaves=leaves, buffers=64, capture=64))


def reserved_ok(f: Fabric) -> bool:
    """The fabric's reserved entries (signalling to the control port, control-port routing tags)."""
    n = f.config.ports
    return all(f.regs.get("VC.CTRL", "VALID", i) == 1 for i in range(2 * n)) and \
        all(program.leaves_of(f.regs, i) == [i] for i in range(2 * n))


def test_root_vc_leaves_and_removal_leave_the_tables_empty() -> None:
    f = fabric()
    fp = FabricProgrammer(f.regs)
    assert fp.first_entry == 8 and fp.empty
    vc = fp.install_vc(0, 0, 40)
    assert f.regs.get("VC.CTRL", "VALID", vc) == 1 and f.regs.get("VC.HEAD", "LEAF", vc) == fp.nil
    assert f.cam.owner[cam_key(0, 0, 40)] == vc                      # the key is in the lookup CAM
    l1 = fp.add_leaf(vc, 1, 0, 50)
    l2 = fp.add_leaf(vc, 2, 1, 60)
    l3 = fp.add_leaf(vc, 3, 0, 70)
    assert [v.index for v in fp.leaf_list(vc)] == [l3, l2, l1]       # linked at the head
    assert program.leaves_of(f.regs, vc) == [l3, l2, l1]             # the fabric's own reader agrees
    assert [(v.port, v.vpi, v.vci) for v in fp.leaf_list(vc)] == [(3, 0, 70), (2, 1, 60), (1, 0, 50)]
    fp.verify()
    fp.remove_leaf(vc, l2)                                           # from the middle
    assert program.leaves_of(f.regs, vc) == [l3, l1] and f.regs.get("LEAF.CTRL", "VALID", l2) == 0
    fp.remove_leaf(vc, l3)                                           # the head
    assert program.leaves_of(f.regs, vc) == [l1]
    fp.verify()
    fp.remove_vc(vc)                                                 # with its last leaf still linked
    assert cam_key(0, 0, 40) not in f.cam.owner
    assert fp.empty and fp.valid_entries() == ([], [])
    assert (fp.vcs_installed, fp.vcs_removed, fp.leaves_added, fp.leaves_removed) == (1, 1, 3, 3)
    assert reserved_ok(f)
    fp.verify()


def test_leaf_entries_are_reused_last() -> None:
    f = fabric()
    fp = FabricProgrammer(f.regs)
    vc = fp.install_vc(1, 0, 33)
    first = fp.add_leaf(vc, 2, 0, 40)
    fp.remove_leaf(vc, first)
    second = fp.add_leaf(vc, 2, 0, 40)
    assert second != first                                           # FIFO free list
    vc2 = fp.install_vc(1, 0, 34)
    fp.remove_vc(vc)
    assert fp.install_vc(1, 0, 35) not in (vc,)                      # VC entries too
    fp.remove_vc(vc2)


def test_one_leaf_per_port_and_unknown_entries_are_refused() -> None:
    f = fabric()
    fp = FabricProgrammer(f.regs)
    vc = fp.install_vc(0, 0, 40)
    fp.add_leaf(vc, 1, 0, 50)
    with pytest.raises(BookkeepingError):
        fp.add_leaf(vc, 1, 0, 51)                                    # Q.2971: one branch per link
    with pytest.raises(BookkeepingError):
        fp.remove_leaf(vc, 31)
    with pytest.raises(BookkeepingError):
        fp.remove_vc(vc + 1)
    with pytest.raises(BookkeepingError):
        fp.add_leaf(vc, 4, 0, 50)                                    # port 4 is the control port
    with pytest.raises(FabricProgrammingError):
        fp.install_vc(0, 0, 40)                                      # the key is in use (the CAM refuses)
    fp.verify()                                                      # the refused entry was cleaned up


def test_full_tables_are_cause_47() -> None:
    f = fabric(vcs=10, leaves=10)                                    # 8 reserved entries, 2 free
    fp = FabricProgrammer(f.regs)
    a = fp.install_vc(0, 0, 40)
    fp.install_vc(0, 0, 41)
    with pytest.raises(ResourceError) as e:
        fp.install_vc(0, 0, 42)
    assert e.value.cause == 47
    fp.add_leaf(a, 1, 0, 50)
    fp.add_leaf(a, 2, 0, 50)
    with pytest.raises(ResourceError):
        fp.add_leaf(a, 3, 0, 50)


def test_the_programmer_starts_on_clean_tables_and_notices_tampering() -> None:
    f = fabric()
    program.connect(f.regs, 9, 0, 0, 99, [(9, 1, 0, 99)])            # someone else's entry
    with pytest.raises(FabricProgrammingError):
        FabricProgrammer(f.regs)
    f.reset()
    fp = FabricProgrammer(f.regs)
    vc = fp.install_vc(0, 0, 40)
    leaf = fp.add_leaf(vc, 1, 0, 50)
    f.regs.set("LEAF.PORT", leaf, PORT=2)                            # behind the programmer's back
    with pytest.raises(FabricProgrammingError):
        fp.verify()
    f.regs.set("LEAF.PORT", leaf, PORT=1)
    f.regs.set("VC.CTRL", vc, VALID=0)
    with pytest.raises(FabricProgrammingError):
        fp.verify()
