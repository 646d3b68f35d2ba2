"""Descriptor formats and the ring index protocol: the contract between the driver and the adapter.

The descriptors live in host memory (hw.adapter.host_memory), little-endian, in rings of SIZE
entries starting at the ring's BASE register. Each format is declared once, below, with the register
vocabulary of hw.regs (a descriptor is laid out like a small register block): a field's access says
who writes it: ``RW`` the driver (the adapter only reads it), ``RO`` the adapter (written back when it
completes the descriptor; the driver reads it). OWN is written by both: the driver sets it when it
hands the descriptor over, the adapter clears it when it gives it back.

Index protocol (producer/consumer, as on the common Ethernet controllers):

- transmit: the driver fills descriptors at its TAIL, sets OWN, then writes TXR.TAIL (the doorbell).
  The adapter consumes from HEAD: it fetches the buffers of a whole frame (descriptors up to one with
  EOP), writes each descriptor back (STATUS, DONE = 1, OWN = 0) and advances HEAD. The driver
  reclaims descriptors from its clean index up to HEAD (or while DONE is set).
- receive: the driver posts free buffers at TAIL (ADDR, SIZE, OWN = 1) and writes RXR.TAIL. The
  adapter fills descriptors from HEAD: one frame takes one or more consecutive descriptors (SOP on the
  first, EOP on the last), each written back with LEN, VC, STATUS, SLOT, DONE = 1, OWN = 0, and HEAD
  advances past them. A frame that does not fit in the descriptors posted is dropped whole and
  counted (RX_NO_DESC); the descriptors stay posted.
- HEAD == TAIL means empty, so a ring of SIZE entries holds at most SIZE - 1 descriptors in flight.
  Indices wrap modulo SIZE (any SIZE from 2 to 65535, not only powers of two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from hw.adapter.host_memory import HostMemory
from hw.errors import FieldError
from hw.regs import Access, Field, Register, RegisterMap

RW, RO = Access.RW, Access.RO

#: transmit descriptor STATUS codes (written back by the adapter)
TX_STATUS = {"OK": 0, "BAD_VC": 1, "VC_DISABLED": 2, "BAD_LENGTH": 3, "MIXED_VC": 4}
#: receive descriptor ERR codes
RX_ERR = {"OK": 0, "CRC": 1, "LENGTH": 2, "OVERSIZE": 3, "TIMEOUT": 4, "ABORT": 5, "NO_BUFFER": 6}


@dataclass(frozen=True)
class DescriptorLayout:
    """A descriptor format: ``octets`` long, made of little-endian words (hw.regs Registers)."""

    name: str
    octets: int
    words: tuple[Register, ...]
    doc: str = ""

    def __post_init__(self) -> None:
        # the register-map checks: widths, alignment, overlaps, fields inside their word
        RegisterMap(f"{self.name} descriptor", self.name, self.words)
        for w in self.words:
            if w.offset + w.octets > self.octets:
                raise FieldError(f"{self.name}.{w.name}.offset", w.offset, f"inside {self.octets} octets")
        index: dict[str, tuple[Register, Field]] = {}
        for w in self.words:
            for f in w.fields:
                if f.name in index:
                    raise FieldError(f"{self.name}.{f.name}", f.name, "a field name unique in the descriptor")
                index[f.name] = (w, f)
        object.__setattr__(self, "_index", index)
        # the same declaration as flat tables, for the per-descriptor paths (read, update): per word
        # (position in the layout, offset, octets, its fields as (name, lsb, mask)), per field (its word's
        # position, lsb, mask, named values)
        words = tuple((k, w.offset, w.octets, tuple((f.name, f.lsb, f.mask) for f in w.fields))
                      for k, w in enumerate(self.words))
        object.__setattr__(self, "_words", words)
        object.__setattr__(self, "_fields", {f.name: (k, f.lsb, f.mask, f.values, f)
                                             for k, w in enumerate(self.words) for f in w.fields})
        # every field as (name, its bit in the whole descriptor read as one little-endian integer, mask)
        object.__setattr__(self, "_flat", tuple((name, 8 * offset + lsb, mask)
                                                for _, offset, _, fs in words for name, lsb, mask in fs))
        object.__setattr__(self, "_mergers", {})  # compiled merge plans (merger)
        object.__setattr__(self, "_getters", {})  # compiled field readers (getter)

    def _lookup(self, name: str) -> tuple[Register, Field]:
        try:
            return self._index[name]  # type: ignore[attr-defined]
        except KeyError:
            raise FieldError(f"{self.name} descriptor field", name,
                             "one of " + ", ".join(self._index)) from None  # type: ignore[attr-defined]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self._index)  # type: ignore[attr-defined]

    # -- encoding ------------------------------------------------------------------------------
    def pack(self, **values: int | str) -> bytes:
        """The descriptor's octets with the given fields (others 0). Named values are accepted for
        fields that declare them (e.g. ``ERR="CRC"``)."""
        fields = self._fields  # type: ignore[attr-defined]
        words = [0] * len(self.words)
        for name, value in values.items():
            entry = fields.get(name)
            if entry is None:
                self._lookup(name)  # raises, naming the known fields
            k, lsb, mask, _, f = entry
            if value.__class__ is not int or not 0 <= value <= mask:
                value = self._field_value(f, value)
            words[k] |= value << lsb
        out = bytearray(self.octets)
        for k, offset, n, _ in self._words:  # type: ignore[attr-defined]
            out[offset:offset + n] = words[k].to_bytes(n, "little")
        return bytes(out)

    def unpack(self, octets: bytes) -> dict[str, int]:
        """Every field of a descriptor's octets."""
        if len(octets) != self.octets:
            raise FieldError(f"{self.name} descriptor", f"{len(octets)} octets", f"{self.octets} octets")
        word = int.from_bytes(octets, "little")
        return {name: (word >> bit) & mask for name, bit, mask in self._flat}  # type: ignore[attr-defined]

    def merge(self, octets: bytes, **values: int | str) -> bytes:
        """``octets`` of a descriptor with the given fields replaced, every other bit kept: what
        :meth:`update` leaves in memory, computed on a copy (the adapter reads a descriptor once and
        writes it back once)."""
        fields = self._fields  # type: ignore[attr-defined]
        by_word: dict[int, list[tuple[int, int, int]]] = {}
        for name, value in values.items():
            entry = fields.get(name)
            if entry is None:
                self._lookup(name)
            k, lsb, mask, _, f = entry
            if value.__class__ is not int or not 0 <= value <= mask:
                value = self._field_value(f, value)
            by_word.setdefault(k, []).append((lsb, mask, value))
        out = bytearray(octets)
        for k, offset, n, _ in self._words:  # type: ignore[attr-defined]
            changes = by_word.get(k)
            if changes is None:
                continue
            word = int.from_bytes(out[offset:offset + n], "little")
            for lsb, mask, v in changes:
                word = (word & ~(mask << lsb)) | (v << lsb)
            out[offset:offset + n] = word.to_bytes(n, "little")
        return bytes(out)

    def merger(self, *names: str) -> Callable[..., bytes]:
        """A compiled :meth:`merge` for a fixed list of fields: ``merger("LEN", "VC")(octets, 12, 3)`` is
        ``merge(octets, LEN=12, VC=3)`` (same checks, same errors), without the per-call bookkeeping of
        keyword arguments - the adapter's per-descriptor write-back path. Plans are cached per list."""
        cache = self._mergers  # type: ignore[attr-defined]
        fn = cache.get(names)
        if fn is None:
            fn = cache[names] = self._compile_merger(names)
        return fn

    def _compile_merger(self, names: tuple[str, ...]) -> Callable[..., bytes]:
        fields = self._fields  # type: ignore[attr-defined]
        if len(set(names)) != len(names):
            raise FieldError(f"{self.name} descriptor fields", names, "each field named once")
        by_word: dict[int, list[tuple[int, int, int, Field]]] = {}
        for pos, name in enumerate(names):
            entry = fields.get(name)
            if entry is None:
                self._lookup(name)  # raises, naming the known fields
            k, lsb, mask, _, f = entry
            by_word.setdefault(k, []).append((pos, lsb, mask, f))
        # the words are little-endian and so is the descriptor: read as one little-endian integer, the
        # descriptor holds word k's bit b at bit 8 * offset + b. Per field put, in the layout's order: (its
        # position in the call, bit in the descriptor, mask, field); and the descriptor's bits kept.
        puts = tuple((pos, 8 * offset + lsb, mask, f) for k, offset, _, _ in self._words  # type: ignore[attr-defined]
                     if k in by_word for pos, lsb, mask, f in by_word[k])
        keep = ((1 << 8 * self.octets) - 1) & ~sum(mask << bit for _, bit, mask, _ in puts)
        check = self._field_value
        count = len(names)
        total = self.octets

        def merge(octets: bytes, *values: int | str) -> bytes:
            if len(values) != count:
                raise FieldError(f"{self.name} descriptor values", len(values), f"{count}, one per field {names}")
            if len(octets) != total:
                raise FieldError(f"{self.name} descriptor", f"{len(octets)} octets", f"{total} octets")
            word = int.from_bytes(octets, "little") & keep
            for pos, bit, mask, f in puts:
                v = values[pos]
                if v.__class__ is not int or not 0 <= v <= mask:
                    v = check(f, v)
                word |= v << bit
            return word.to_bytes(total, "little")
        return merge

    def getter(self, *names: str) -> Callable[[bytes], tuple[int, ...]]:
        """A compiled reader of a few fields: ``getter("OWN", "SIZE")(octets)`` is the tuple of
        those fields of :meth:`unpack` (cached per list)."""
        cache = self._getters  # type: ignore[attr-defined]
        fn = cache.get(names)
        if fn is not None:
            return fn
        where = []
        for name in names:
            w, f = self._lookup(name)
            where.append((8 * w.offset + f.lsb, f.mask))  # the field's bit in the whole descriptor (see merger)
        spots = tuple(where)
        octets_needed = self.octets

        def get(octets: bytes) -> tuple[int, ...]:
            if len(octets) != octets_needed:
                raise FieldError(f"{self.name} descriptor", f"{len(octets)} octets", f"{octets_needed} octets")
            word = int.from_bytes(octets, "little")
            return tuple((word >> bit) & mask for bit, mask in spots)
        cache[names] = get
        return get

    def _field_value(self, f: Field, value: int | str) -> int:
        if isinstance(value, str):
            if not f.values or value not in f.values:
                raise FieldError(f"{self.name}.{f.name}", value, "one of " + ", ".join(f.values or {}))
            return f.values[value]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= f.mask:
            raise FieldError(f"{self.name}.{f.name}", value, f"0..{f.mask} ({f.width} bits)")
        return value

    # -- host memory ---------------------------------------------------------------------------
    def read(self, mem: HostMemory, address: int, *, who: str = "cpu") -> dict[str, int]:
        return self.unpack(mem.read(address, self.octets, who=who))

    def write(self, mem: HostMemory, address: int, *, who: str = "cpu", **values: int | str) -> None:
        """Write a whole descriptor (fields not given are 0)."""
        mem.write(address, self.pack(**values), who=who)

    def update(self, mem: HostMemory, address: int, *, who: str = "cpu", **values: int | str) -> None:
        """Read-modify-write of the words holding the given fields (other fields keep their value),
        one word access per word touched, in the layout's order, as hardware writes back a status word."""
        fields = self._fields  # type: ignore[attr-defined]
        by_word: dict[int, list[tuple[int, int, int]]] = {}
        for name, value in values.items():
            entry = fields.get(name)
            if entry is None:
                self._lookup(name)  # raises, naming the known fields
            k, lsb, mask, named, f = entry
            if value.__class__ is not int or not 0 <= value <= mask:
                value = self._field_value(f, value)
            by_word.setdefault(k, []).append((lsb, mask, value))
        for k, offset, n, _ in self._words:  # type: ignore[attr-defined]
            changes = by_word.get(k)
            if changes is None:
                continue
            word = mem.read_uint(address + offset, n, who=who)
            for lsb, mask, v in changes:
                word = (word & ~(mask << lsb)) | (v << lsb)
            mem.write_uint(address + offset, n, word, who=who)

    # -- documentation -------------------------------------------------------------------------
    def markdown(self) -> str:
        out = [f"### {self.name} descriptor ({self.octets} octets, little-endian)", ""]
        if self.doc:
            out += [" ".join(self.doc.split()), ""]
        out += ["| offset | word | bits | field | written by | description |", "|---|---|---|---|---|---|"]
        for w in self.words:
            for f in sorted(w.fields, key=lambda f: -f.msb):
                who = "driver" if f.access is RW else "adapter"
                desc = " ".join(f.doc.split()).replace("|", "\\|")
                if f.values:
                    desc += " Values: " + ", ".join(f"{k}={v}" for k, v in f.values.items()) + "."
                out.append(f"| +{w.offset:#04x} | {w.name} | {f.bits()} | {f.name} | {who} | {desc} |")
        return "\n".join(out) + "\n"


TX_DESC = DescriptorLayout(
    "transmit", 16,
    (
        Register("ADDR", 0x0, (Field("ADDR", 63, 0, RW, 0, "physical address of the buffer"),), width=64),
        Register("CMD", 0x8, (
            Field("LEN", 15, 0, RW, 0, "octets in the buffer (AAL5: part of the SDU; AAL0: whole 52-octet "
                  "cells: 4 header octets without HEC, then 48 payload octets)"),
            Field("UU", 23, 16, RW, 0, "CPCS-UU octet of the AAL5 trailer (taken from the EOP descriptor)"),
            Field("CLP", 24, 24, RW, 0, "cell loss priority of the frame's cells (from the EOP descriptor)"),
            Field("EOP", 25, 25, RW, 0, "last buffer of the frame"),
            Field("OWN", 31, 31, RW, 0, "1: handed to the adapter (set by the driver, cleared by the adapter)"),
        )),
        Register("VC", 0xC, (
            Field("VC", 11, 0, RW, 0, "VC table index (every descriptor of a frame names the same VC)"),
            Field("STATUS", 23, 16, RO, 0, "completion status.", TX_STATUS),
            Field("DONE", 31, 31, RO, 0, "1: written back by the adapter"),
        )),
    ),
    "A frame is one or more descriptors, the last with EOP. The adapter writes every descriptor of "
    "the frame back once it has fetched the buffers (the buffers may then be reused); the frame's cells "
    "then wait for their slots (TX_FRAMES counts them when the last cell is sent).",
)

RX_DESC = DescriptorLayout(
    "receive", 32,
    (
        Register("ADDR", 0x00, (Field("ADDR", 63, 0, RW, 0, "physical address of the buffer"),), width=64),
        Register("BUF", 0x08, (
            Field("SIZE", 15, 0, RW, 0, "octets the buffer can take, 1..65535 (0 is a fault)"),
            Field("OWN", 31, 31, RW, 0, "1: posted to the adapter (set by the driver, cleared by the adapter)"),
        )),
        Register("LEN", 0x0C, (
            Field("LEN", 15, 0, RO, 0, "octets written into this buffer (0 for an errored PDU)"),
            Field("VC", 27, 16, RO, 0, "VC table index the frame arrived on"),
        )),
        Register("STATUS", 0x10, (
            Field("ERR", 3, 0, RO, 0, "0, or why the PDU was discarded (no data is written).", RX_ERR),
            Field("UU", 15, 8, RO, 0, "CPCS-UU of the AAL5 trailer"),
            Field("CPI", 23, 16, RO, 0, "CPI of the AAL5 trailer"),
            Field("SOP", 24, 24, RO, 0, "first buffer of the frame"),
            Field("EOP", 25, 25, RO, 0, "last buffer of the frame"),
            Field("CLP", 26, 26, RO, 0, "AAL0: the cell's CLP bit"),
            Field("DONE", 31, 31, RO, 0, "1: written back by the adapter"),
        )),
        Register("SLOT", 0x18, (Field("SLOT", 63, 0, RO, 0,
                                      "slot in which the frame's last cell arrived"),), width=64),
    ),
    "A frame longer than one buffer continues in the next descriptors (SOP on the first, EOP on the "
    "last). An AAL5 PDU discarded in error is reported in one descriptor with ERR set, LEN 0, SOP and "
    "EOP. AAL0 cells arrive one per descriptor as 52 octets: the 4 header octets (HEC removed) and the "
    "48 payload octets.",
)

TX_DESC_OCTETS = TX_DESC.octets
RX_DESC_OCTETS = RX_DESC.octets


# --------------------------------------------------------------------------------------------------
# index arithmetic (both sides of the ring use these)


def ring_used(head: int, tail: int, size: int) -> int:
    """Descriptors between HEAD and TAIL (handed to the adapter, not yet given back)."""
    return (tail - head) % size


def ring_free(head: int, tail: int, size: int) -> int:
    """Descriptors the driver may still hand over (one entry always stays empty)."""
    return size - 1 - ring_used(head, tail, size)


def ring_next(index: int, size: int, n: int = 1) -> int:
    return (index + n) % size


def descriptor_address(base: int, index: int, layout: DescriptorLayout) -> int:
    return base + index * layout.octets


def markdown() -> str:
    """Both descriptor formats, for the design note."""
    return TX_DESC.markdown() + "\n" + RX_DESC.markdown()


def status_name(codes: Mapping[str, int], value: int) -> str:
    for name, v in codes.items():
        if v == value:
            return name
    return f"UNKNOWN({value})"


__all__ = [
    "DescriptorLayout", "TX_DESC", "RX_DESC", "TX_DESC_OCTETS", "RX_DESC_OCTETS", "TX_STATUS", "RX_ERR",
    "ring_used", "ring_free", "ring_next", "descriptor_address", "markdown", "status_name",
]
