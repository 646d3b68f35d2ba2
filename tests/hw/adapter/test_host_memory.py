"""Emulated host memory: the allocator, and the checked accesses that turn driver DMA bugs into typed
errors."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings, strategies as st

from hw.adapter import BadFree, DmaError, HostMemory, OutOfHostMemory
from hw.errors import FieldError

EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))


def test_alloc_is_aligned_zeroed_and_inside_the_arena():
    mem = HostMemory(1 << 16, base=0x4000_0000)
    a = mem.alloc(100, align=256)
    b = mem.alloc(1)
    assert a % 256 == 0 and b % 64 == 0 and a != b
    assert mem.base <= a < mem.end and mem.read(a, 100) == bytes(100)
    mem.write(a, b"\xff" * 100)
    mem.free(a)
    c = mem.alloc(100, align=256)
    assert c == a and mem.read(c, 100) == bytes(100)  # a fresh buffer is zero-filled
    mem.check_conservation()


def test_free_coalesces_and_the_whole_arena_comes_back():
    mem = HostMemory(4096, base=0x1000)
    bufs = [mem.alloc(512, align=1) for _ in range(8)]
    with pytest.raises(OutOfHostMemory):
        mem.alloc(1, align=1)
    for b in bufs[::2] + bufs[1::2]:
        mem.free(b)
    assert mem.free_octets == 4096 and mem.alloc(4096, align=1) == 0x1000
    mem.check_conservation()


def test_bad_frees_are_typed():
    mem = HostMemory(4096)
    a = mem.alloc(64)
    with pytest.raises(BadFree, match="inside the buffer"):
        mem.free(a + 8)
    mem.free(a)
    with pytest.raises(BadFree, match="already freed"):
        mem.free(a)


@pytest.mark.parametrize("who", ["cpu", "dma"])
def test_accesses_outside_a_live_buffer_raise_dma_errors(who):
    mem = HostMemory(1 << 16, base=0x10_0000)
    a = mem.alloc(100)
    with pytest.raises(DmaError, match="outside host memory") as info:
        mem.read(0, 4, who=who)
    assert info.value.who == who and info.value.address == 0 and info.value.length == 4
    with pytest.raises(DmaError, match="outside host memory"):
        mem.write(mem.end - 2, b"1234", who=who)
    with pytest.raises(DmaError, match="past the end"):
        mem.read(a + 90, 20, who=who)
    with pytest.raises(DmaError, match="no live allocation"):
        mem.write(a + 4096, b"x", who=who)
    mem.free(a)
    with pytest.raises(DmaError, match="no live allocation"):  # use after free
        mem.read(a, 1, who=who)
    with pytest.raises(FieldError):
        mem.read(a, -1)


def test_counters_tell_cpu_from_dma():
    mem = HostMemory(4096)
    a = mem.alloc(64)
    mem.write(a, b"abcd")
    mem.read(a, 4, who="dma")
    mem.write32(a + 8, 0xDEADBEEF, who="dma")
    assert mem.read32(a + 8) == 0xDEADBEEF and mem.read(a + 8, 4) == bytes.fromhex("efbeadde")  # little-endian
    c = mem.counters
    assert (c["cpu_writes"], c["dma_reads"], c["dma_writes"], c["dma_read_octets"]) == (1, 1, 1, 4)


@settings(max_examples=min(EXAMPLES, 200))
@given(ops=st.lists(st.tuples(st.booleans(), st.integers(1, 700), st.sampled_from([1, 8, 64, 256])),
                    max_size=60))
def test_random_alloc_free_keeps_the_map_whole(ops):
    mem = HostMemory(1 << 14, base=0x2000)
    live: dict[int, int] = {}
    for alloc, size, align in ops:
        if alloc or not live:
            try:
                a = mem.alloc(size, align)
            except OutOfHostMemory:
                continue
            assert a % align == 0
            for b, n in live.items():
                assert a + size <= b or b + n <= a  # no overlap
            live[a] = size
            mem.write(a, bytes([size & 0xFF]) * size)
        else:
            a = sorted(live)[size % len(live)]
            assert mem.read(a, live[a]) == bytes([live[a] & 0xFF]) * live[a]
            mem.free(a)
            del live[a]
        mem.check_conservation()
    assert mem.allocated_octets == sum(live.values())
