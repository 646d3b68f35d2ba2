"""hw/regs.py: the bus write fast path (offset decoded once, Python ints) has exactly the effects of the
named path it replaces (``_apply`` with ``bus=True``): same stored fields, same check and write hook
calls, same refusals."""

from __future__ import annotations

import random

import numpy as np
import pytest

from hw.errors import FieldError
from hw.fabric.config import FabricConfig
from hw.fabric.fabric import Fabric
from hw.regs import Access, Field, Register, RegisterFile, RegisterMap, Window, counter

RO, RW, W1C, RC, WO = Access.RO, Access.RW, Access.W1C, Access.RC, Access.WO


def toy_map() -> RegisterMap:
    return RegisterMap(
        "toy", "Toy device",
        (
            Register("CTRL", 0x0, (Field("EN", 0, 0, RW, 1), Field("MODE", 3, 1, RW, 2), Field("REV", 15, 8, RO, 0x42))),
            Register("IRQ", 0x4, (Field("DONE", 0, 0, W1C), Field("ERR", 1, 1, W1C), Field("LVL", 7, 4, RW))),
            Register("POP", 0x8, (Field("V", 31, 0, RC),)),
            Register("KICK", 0xC, (Field("GO", 0, 0, WO),)),
            counter("FRAMES", 0x10, "frames"),
            Register("WIDE", 0x18, (Field("LO", 31, 0, RW), Field("HI", 63, 32, RW)), width=64),
        ),
        (Window("Q", 0x100, 4, 0x10, (Register("CFG", 0x0, (Field("A", 7, 0, RW), Field("B", 15, 8, W1C))),
                                      counter("N", 0x8, "count"))),),
    )


def _files():
    """Two register files on the same map, IRQ's and Q.CFG's fields packed in one flags array each
    (shifted backing), with hooks that log what they are given."""
    logs = ([], [])
    files = []
    for log in logs:
        irq = np.zeros(1, np.uint32)
        qcfg = np.zeros(4, np.uint32)
        backing = {"IRQ.DONE": (irq, 0), "IRQ.ERR": (irq, 1), "IRQ.LVL": (irq, 4),
                   "Q.CFG.A": (qcfg, 0), "Q.CFG.B": (qcfg, 8)}

        def check(name, idx, values, log=log):
            log.append(("check", name, idx.tolist(), {k: np.asarray(v).tolist() for k, v in values.items()}))
            if name == "CTRL" and int(np.asarray(values["MODE"])[0]) == 6:
                raise FieldError("CTRL.MODE", 6, "not 6 (the toy device refuses it)")

        def on_write(name, idx, log=log):
            log.append(("write", name, idx.tolist()))

        files.append(RegisterFile(toy_map(), backing=backing, check=check, on_write=on_write))
    return files, logs


def _slow_write(rf: RegisterFile, offset: int, value: int) -> None:
    """The named path a bus write had before the fast path: decode, then _apply(bus=True)."""
    w, index, r = rf.map.decode(offset)
    name = r.name if w is None else f"{w.name}.{r.name}"
    if not 0 <= value < (1 << r.width):
        raise FieldError(f"{name} value", value, f"an unsigned {r.width}-bit value")
    rf._apply(name, r, np.array([index]), {f.name: (value >> f.lsb) & f.mask for f in r.fields}, bus=True)


def _state(rf: RegisterFile) -> dict:
    return {k: v.tolist() for k, v in rf._store.items()}


def test_fast_bus_write_matches_the_named_path_on_random_writes():
    (fast, slow), (fast_log, slow_log) = _files()
    rng = random.Random(5)
    offsets = [0x0, 0x4, 0x8, 0xC, 0x10, 0x18] + [0x100 + 0x10 * i + r for i in range(4) for r in (0x0, 0x8)]
    for _ in range(3000):
        off = rng.choice(offsets)
        width = 64 if off == 0x18 else 32
        value = rng.choice([0, 1, 2, 0xFF, 0xFFFF, rng.getrandbits(width), (1 << width) - 1, 1 << width, -1])
        outcomes = []
        for rf, write in ((fast, RegisterFile.write), (slow, _slow_write)):
            try:
                write(rf, off, value)
                outcomes.append(None)
            except FieldError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1], (off, value)
        assert _state(fast) == _state(slow), (off, value)
    assert fast_log == slow_log
    assert any(e[0] == "check" and e[1] == "CTRL" for e in fast_log)  # the hooks did run


def test_fast_bus_write_w1c_clears_only_the_ones_written_and_ignores_read_only_bits():
    (rf, _), _ = _files()
    rf.array("IRQ.DONE")[0] = 0b0011 | 5 << 4          # DONE, ERR pending, LVL 5 (one packed word)
    rf.write(0x4, 0b01 | 5 << 4)                        # clear DONE, keep LVL
    assert (rf.get("IRQ", "DONE"), rf.get("IRQ", "ERR"), rf.get("IRQ", "LVL")) == (0, 1, 5)
    rf.write(0x0, 0xFF00 | 0b0111)                      # REV is read-only
    assert rf.get("CTRL", "REV") == 0x42 and rf.get("CTRL", "MODE") == 3
    with pytest.raises(FieldError):
        rf.write(0x0, 0b1100)                           # MODE 6 refused by the check hook: nothing stored
    assert rf.get("CTRL", "MODE") == 3 and rf.get("CTRL", "EN") == 1
    with pytest.raises(FieldError):
        rf.write(0x0, 1 << 32)


def test_fabric_register_writes_by_bus_match_named_writes():
    """The fabric's map (its check and CAM hooks included): the same VC entry programmed by bus writes
    and by named writes ends in the same state, and a refused key is refused on both paths."""
    a, b = Fabric(FabricConfig(ports=4, vcs=64, leaves=64)), Fabric(FabricConfig(ports=4, vcs=64, leaves=64))
    m = a.regs.map
    fields = {"VC.PORT": {"PORT": 2}, "VC.KEY": {"VPI": 1, "VCI": 99}, "VC.HEAD": {"LEAF": 20},
              "VC.CTRL": {"VALID": 1, "AAL5": 1, "EPD": 0, "PPD": 0, "MCAST": 1}}
    for name, vals in fields.items():
        _, r = m.resolve(name)
        value = sum(v << r.field(f).lsb for f, v in vals.items())
        a.regs.write(m.offset_of(name, 30), value)
        b.regs.set(name, 30, **vals)
    for key in a.regs._store:
        assert a.regs.array(key).tolist() == b.regs.array(key).tolist(), key
    with pytest.raises(FieldError):   # LEAF.PORT beyond the ports: the fabric's check refuses it
        a.regs.write(m.offset_of("LEAF.PORT", 3), 9)


def test_named_field_reads_match_the_registers_value_on_random_states():
    """get(name, field, index) (decoded once per field) against the field cut out of the whole
    register's value (peek), packed and plain fields, plain registers and window entries."""
    (rf, _), _ = _files()
    rng = random.Random(11)
    regs = [("CTRL", None), ("IRQ", None), ("WIDE", None), ("Q.CFG", 4)]
    for _ in range(300):
        for key, arr in rf._store.items():
            arr[...] = rng.getrandbits(arr.dtype.itemsize * 8 - 1)
        for name, count in regs:
            w, r = rf.map.resolve(name)
            for index in range(count or 1):
                whole = rf.peek(name, index)
                for f in r.fields:
                    if f.access.readable:
                        assert rf.get(name, f.name, index) == (whole >> f.lsb) & f.mask, (name, f.name)
    with pytest.raises(FieldError):
        rf.get("Q.CFG", "A", 4)          # beyond the window
    with pytest.raises(FieldError):
        rf.get("CTRL", "EN", 1)          # a plain register has one entry
    with pytest.raises(Exception):
        rf.get("KICK", "GO")             # write-only: not readable


def test_check_hook_sees_only_the_registers_it_names():
    """check_names: writes to other registers skip the check hook (bus and named paths alike), writes
    to the named ones still go through it and are refused by it."""
    seen = []

    def check(name, idx, values):
        seen.append(name)
        if name == "CTRL" and int(np.asarray(values["MODE"]).reshape(-1)[0]) == 6:
            raise FieldError("CTRL.MODE", 6, "not 6")

    rf = RegisterFile(toy_map(), check=check, check_names=frozenset({"CTRL"}))
    rf.write(0x4, 0b10)
    rf.set("Q.CFG", 2, A=7)
    rf.write(0x0, 0b0011)
    rf.set("CTRL", 0, MODE=2)
    assert seen == ["CTRL", "CTRL"]
    with pytest.raises(FieldError):
        rf.write(0x0, 0b1100)
    with pytest.raises(FieldError):
        rf.set("CTRL", 0, MODE=6)
    assert rf.get("CTRL", "MODE") == 2 and rf.get("Q.CFG", "A", 2) == 7
