"""Emulated host memory: the physical memory the driver allocates buffers and rings in, and the
adapter reaches by DMA.

One numpy ``uint8`` arena stands for the host's physical memory from ``base`` to ``base + size``.
The driver gets buffers from :meth:`HostMemory.alloc` (the physical address of a contiguous,
aligned range, as ``NdisMAllocateSharedMemory`` gives a miniport) and gives them back with
:meth:`HostMemory.free`. Both the driver (``who="cpu"``) and the adapter (``who="dma"``) go through
the same checked accessors, and every access must lie inside one live allocation: an access outside
the arena, in memory never allocated or already freed, or running over the end of a buffer raises
:class:`hw.adapter.errors.DmaError` naming who, the operation, the address and the length. That is
stricter than a bare PCI bus and is what an IOMMU with one mapping per buffer would enforce; it turns
the classic driver bugs (a stale physical address, a wrong length) into an error at the access.

Multi-octet values are little-endian, as descriptors in x86 host memory are.
"""

from __future__ import annotations

import bisect

import numpy as np

from hw.adapter.errors import BadFree, DmaError, OutOfHostMemory
from hw.errors import FieldError

DEFAULT_BASE = 0x1000_0000
DEFAULT_SIZE = 16 << 20

COUNTER_NAMES = (
    "cpu_reads", "cpu_writes", "cpu_read_octets", "cpu_write_octets",
    "dma_reads", "dma_writes", "dma_read_octets", "dma_write_octets",
    "allocations", "frees",
)


def _int(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise FieldError(name, value, "an integer")
    v = int(value)
    if v < low or (high is not None and v > high):
        raise FieldError(name, v, f"{low}..{high}" if high is not None else f">= {low}")
    return v


#: (is DMA, operation) -> (counter of operations, counter of octets)
_COUNTER_KEYS = {(dma, op): (f"{'dma' if dma else 'cpu'}_{op}s", f"{'dma' if dma else 'cpu'}_{op}_octets")
                 for dma in (False, True) for op in ("read", "write")}


class HostMemory:
    """Physical host memory with a first-fit allocator and checked CPU and DMA accessors."""

    def __init__(self, size: int = DEFAULT_SIZE, *, base: int = DEFAULT_BASE) -> None:
        self.size = _int("size", size, 1)
        self.base = _int("base", base, 1)  # address 0 is never valid: a NULL pointer faults
        self.arena = np.zeros(self.size, dtype=np.uint8)
        self._octets = memoryview(self.arena)  # the same octets, for the per-descriptor byte copies
        # live allocations: sorted starts (for bisect) and start -> size
        self._starts: list[int] = []
        self._sizes: dict[int, int] = {}
        # free ranges as sorted, non-adjacent [start, size] pairs (addresses)
        self._free: list[list[int]] = [[self.base, self.size]]
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self._hit = (0, 0)  # (start, end) of the allocation the last check found (never after a free)
        self._hit2 = (0, 0)  # the one found before it (rings and buffers alternate)

    @property
    def end(self) -> int:
        return self.base + self.size

    # -- allocator -----------------------------------------------------------------------------
    def alloc(self, size: int, align: int = 64) -> int:
        """A zero-filled buffer of ``size`` octets whose physical address is a multiple of ``align``
        (a power of two). Returns the address."""
        size = _int("size", size, 1)
        align = _int("align", align, 1)
        if align & (align - 1):
            raise FieldError("align", align, "a power of two")
        for i, (start, length) in enumerate(self._free):
            addr = (start + align - 1) & -align
            if addr + size > start + length:
                continue
            # split the free range into [start, addr) and [addr + size, start + length)
            pieces = []
            if addr > start:
                pieces.append([start, addr - start])
            if addr + size < start + length:
                pieces.append([addr + size, start + length - addr - size])
            self._free[i:i + 1] = pieces
            bisect.insort(self._starts, addr)
            self._sizes[addr] = size
            off = addr - self.base
            self.arena[off:off + size] = 0
            self.counters["allocations"] += 1
            return addr
        raise OutOfHostMemory(size, align, self.free_octets, max((f[1] for f in self._free), default=0))

    def free(self, address: int) -> None:
        """Give back the buffer that starts at ``address``."""
        address = _int("address", address, 0)
        size = self._sizes.pop(address, None)
        self._hit = self._hit2 = (0, 0)
        if size is None:
            owner = self.owner(address)
            reason = (f"inside the buffer at {owner[0]:#x}, not its start" if owner
                      else "not a live allocation (never allocated, or already freed)")
            raise BadFree(address, reason)
        del self._starts[bisect.bisect_left(self._starts, address)]
        starts = [f[0] for f in self._free]
        i = bisect.bisect_left(starts, address)
        self._free.insert(i, [address, size])
        # coalesce with the next range, then with the previous one
        if i + 1 < len(self._free) and address + size == self._free[i + 1][0]:
            self._free[i][1] += self._free.pop(i + 1)[1]
        if i > 0 and self._free[i - 1][0] + self._free[i - 1][1] == address:
            self._free[i - 1][1] += self._free.pop(i)[1]
        self.counters["frees"] += 1

    def owner(self, address: int) -> tuple[int, int] | None:
        """(start, size) of the live allocation containing ``address``, or None."""
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0:
            return None
        start = self._starts[i]
        size = self._sizes[start]
        return (start, size) if address < start + size else None

    def size_of(self, address: int) -> int:
        """Size of the allocation that starts at ``address``."""
        try:
            return self._sizes[address]
        except KeyError:
            raise FieldError("address", hex(address), "the start of a live allocation") from None

    @property
    def allocated_octets(self) -> int:
        return sum(self._sizes.values())

    @property
    def free_octets(self) -> int:
        return sum(f[1] for f in self._free)

    def check_conservation(self) -> None:
        """allocated + free == size, and no two ranges overlap (it always holds)."""
        spans = sorted([(s, s + n) for s, n in self._sizes.items()] + [(s, s + n) for s, n in self._free])
        pos = self.base
        for a, b in spans:
            if a != pos:
                raise AssertionError(f"host memory map broken at {pos:#x} (next range starts {a:#x})")
            pos = b
        if pos != self.end:
            raise AssertionError(f"host memory map ends at {pos:#x}, not {self.end:#x}")

    # -- checked access ------------------------------------------------------------------------
    def check(self, address: int, length: int, *, who: str = "cpu", op: str = "access") -> int:
        """Offset in the arena of ``length`` octets at ``address``, after checking they lie inside
        one live allocation; else :class:`DmaError`. (The allocation found last is tried first: ring
        and buffer accesses hit the same few allocations in a row.)"""
        if address.__class__ is not int or length.__class__ is not int:
            if isinstance(address, (bool, np.bool_)) or not isinstance(address, (int, np.integer)):
                raise FieldError("address", address, "an integer physical address")
            if isinstance(length, (bool, np.bool_)) or not isinstance(length, (int, np.integer)):
                raise FieldError("length", length, "an integer >= 0")
            address, length = int(address), int(length)
        if length < 0:
            raise FieldError("length", length, "an integer >= 0")
        start, end = self._hit
        if start <= address < end and address + length <= end:
            return address - self.base
        start, end = self._hit2
        if start <= address < end and address + length <= end:
            self._hit, self._hit2 = self._hit2, self._hit
            return address - self.base
        if address < self.base or address + length > self.end:
            raise DmaError(who, op, address, length,
                           f"outside host memory {self.base:#x}..{self.end:#x}")
        found = self.owner(address)
        if found is None:
            raise DmaError(who, op, address, length, "no live allocation there (never allocated, or freed)")
        start, size = found
        if address + length > start + size:
            raise DmaError(who, op, address, length,
                           f"runs {address + length - start - size} octets past the end of the "
                           f"{size}-octet buffer at {start:#x}")
        self._hit, self._hit2 = (start, start + size), self._hit
        return address - self.base

    def _count(self, who: str, op: str, n: int) -> None:
        ops, octets = _COUNTER_KEYS[(who == "dma", op)]
        c = self.counters
        c[ops] += 1
        c[octets] += n

    def read(self, address: int, length: int, *, who: str = "cpu") -> bytes:
        start, end = self._hit  # check()'s first test, inline: descriptors and buffers hit it in a row
        if address.__class__ is int and length.__class__ is int and start <= address < end \
                and 0 <= length and address + length <= end:
            off = address - self.base
        else:
            off = self.check(address, length, who=who, op="read")
        ops, octets = _COUNTER_KEYS[(who == "dma", "read")]
        c = self.counters
        c[ops] += 1
        c[octets] += length
        return bytes(self._octets[off:off + length])

    def read_array(self, address: int, length: int, *, who: str = "cpu") -> np.ndarray:
        """Like :meth:`read`, as a fresh uint8 array."""
        off = self.check(address, length, who=who, op="read")
        self._count(who, "read", length)
        return self.arena[off:off + length].copy()

    def write(self, address: int, data, *, who: str = "cpu") -> None:
        if data.__class__ is bytes or data.__class__ is bytearray:  # descriptors and frames: copied as octets
            n = len(data)
            start, end = self._hit  # check()'s first test, inline (see read)
            if address.__class__ is int and start <= address < end and address + n <= end:
                off = address - self.base
            else:
                off = self.check(address, n, who=who, op="write")
            ops, octets = _COUNTER_KEYS[(who == "dma", "write")]
            c = self.counters
            c[ops] += 1
            c[octets] += n
            self._octets[off:off + n] = data
            return
        octets = np.frombuffer(bytes(data), dtype=np.uint8) if not isinstance(data, np.ndarray) else \
            np.ascontiguousarray(data, dtype=np.uint8).reshape(-1)
        off = self.check(address, octets.shape[0], who=who, op="write")
        self._count(who, "write", octets.shape[0])
        self.arena[off:off + octets.shape[0]] = octets

    def read_uint(self, address: int, octets: int, *, who: str = "cpu") -> int:
        return int.from_bytes(self.read(address, octets, who=who), "little")

    def write_uint(self, address: int, octets: int, value: int, *, who: str = "cpu") -> None:
        if not 0 <= value < (1 << (8 * octets)):
            raise FieldError("value", value, f"an unsigned {8 * octets}-bit value")
        self.write(address, int(value).to_bytes(octets, "little"), who=who)

    def read32(self, address: int, *, who: str = "cpu") -> int:
        return self.read_uint(address, 4, who=who)

    def write32(self, address: int, value: int, *, who: str = "cpu") -> None:
        self.write_uint(address, 4, value, who=who)

    def read64(self, address: int, *, who: str = "cpu") -> int:
        return self.read_uint(address, 8, who=who)

    def write64(self, address: int, value: int, *, who: str = "cpu") -> None:
        self.write_uint(address, 8, value, who=who)

    def __repr__(self) -> str:
        return (f"<HostMemory {self.base:#x}..{self.end:#x}: {len(self._sizes)} buffers, "
                f"{self.allocated_octets} octets allocated>")


__all__ = ["HostMemory", "DEFAULT_BASE", "DEFAULT_SIZE", "COUNTER_NAMES"]
