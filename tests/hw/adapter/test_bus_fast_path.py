"""The adapter's register bus decodes each offset once and then reads and writes the backing arrays
with Python ints (Adapter._bus_read / _bus_write). Its twin is the generic register file
(hw.regs.RegisterFile.read / write): the same random sequences of bus accesses, given to two adapters
built alike, one through each path, leave every register equal, raise the same errors and read the
same values."""

from __future__ import annotations

import random

import pytest

from hw.adapter import Adapter, AdapterConfig, HostMemory
from hw.clock import Clock
from hw.errors import AtmemuError


def _adapter() -> Adapter:
    a = Adapter(Clock("OC-3c"), HostMemory(1 << 20), AdapterConfig(vcs=8), strict=False)
    ring = a.memory.alloc(64 * 32, align=32)  # the same address in both (same allocator, same calls)
    a.ring_address = ring  # type: ignore[attr-defined]
    return a


def _registers(a: Adapter) -> list[tuple[str, int]]:
    out = [(r.name, 0) for r in a.map.registers]
    for w in a.map.windows:
        for i in range(w.count):
            out += [(f"{w.name}.{r.name}", i) for r in w.registers]
    return out


def _snapshot(a: Adapter) -> dict:
    return {(name, i): a.regs.peek(name, i) for name, i in _registers(a)}


def _generic_write32(a: Adapter, offset: int, value: int) -> None:
    """Adapter.write32 before the fast path: decode, combine a 64-bit half, RegisterFile.write."""
    base, name, word = a._decode32(offset)
    _, _, r = a.map.decode(base)
    if not any(f.access.writable for f in r.fields):
        from hw.regs import AccessError
        raise AccessError(f"{a.name} {name} at {base:#x}", "RO", "written")
    if r.width == 64:
        current = a._peek_raw(base)
        value = (current & ~0xFFFF_FFFF) | value if word == 0 else (current & 0xFFFF_FFFF) | (value << 32)
    a.regs.write(base, value)
    a._finish_event()


def _generic_read32(a: Adapter, offset: int) -> int:
    base, _, word = a._decode32(offset)
    _, _, r = a.map.decode(base)
    value = a.regs.read(base)
    return value if r.width == 32 else (value & 0xFFFF_FFFF if word == 0 else value >> 32)


def _value(rng: random.Random, a: Adapter, name: str) -> int:
    kind = rng.random()
    if name.endswith("BASE") and kind < 0.5:
        return a.ring_address & 0xFFFF_FFFF  # type: ignore[attr-defined]
    if kind < 0.3:
        return rng.randrange(0, 4)
    if kind < 0.6:
        return rng.randrange(0, 1 << 16)
    return rng.getrandbits(32)


@pytest.mark.parametrize("seed", range(6))
def test_fast_bus_path_equals_the_register_file(seed: int) -> None:
    rng = random.Random(seed)
    fast, twin = _adapter(), _adapter()
    targets = [(name, i) for name, i in _registers(fast) if not name.endswith("COUNT") and name != "CTRL"]
    targets += [("CTRL", 0)] * 3
    for step in range(400):
        name, i = rng.choice(targets)
        base = fast.offset(name, i)
        width = fast.map.decode(base)[2].width
        offset = base + (4 if width == 64 and rng.random() < 0.5 else 0)
        if rng.random() < 0.3:
            assert fast.read32(offset) == _generic_read32(twin, offset), (step, name, i)
            continue
        value = _value(rng, fast, name)
        outcomes = []
        for adapter, write in ((fast, fast.write32), (twin, lambda o, v: _generic_write32(twin, o, v))):
            try:
                write(offset, value)
                outcomes.append(None)
            except AtmemuError as exc:
                outcomes.append((type(exc), str(exc).replace(adapter.name, "")))
        assert outcomes[0] == outcomes[1], (step, name, i, value, outcomes)
        fast.clock.run_for(1)
        twin.clock.run_for(1)
    assert _snapshot(fast) == _snapshot(twin)


def test_fast_bus_path_refuses_what_the_map_refuses() -> None:
    a = _adapter()
    from hw.regs import AccessError, UnmappedOffset
    with pytest.raises(AccessError):
        a.write32(a.offset("ID"), 1)
    with pytest.raises(UnmappedOffset):
        a.write32(a.offset("CTRL") + 2, 1)
    with pytest.raises(AtmemuError):
        a.write32(a.offset("CTRL"), 1 << 32)
    with pytest.raises(AtmemuError):
        a.write32(a.offset("CTRL"), True)
    with pytest.raises(UnmappedOffset):
        a.write64(a.offset("CTRL"), 1)
    assert a.read64(a.offset("SLOT")) == a.clock.now
