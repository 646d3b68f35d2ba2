"""scapy fields the Q.2931 information elements need beyond scapy's own.

- :class:`ExtBitField`: the extension bit of an octet whose next octet is optional (Q.2931 4.5.1 coding
  rule: ext 0 = "another octet of this group follows", 1 = "last octet"). On dissection it holds the bit
  as received (and decides whether the optional octet is read); on build it is always derived from
  whether the optional octet's values are present, so it cannot contradict them.
- :class:`SubfieldListField`: the identifier/value lists of the AAL parameters, ATM traffic descriptor and
  end-to-end transit delay IEs. The value is a list of ``(identifier, value)`` pairs (value ``None`` for
  identifiers that carry none). Dissection stops at the first identifier it does not know, leaving the
  rest for the IE's raw ``tail``, so an element with unknown subfields still re-encodes byte for byte.
"""

from __future__ import annotations

from typing import Callable, Mapping

from scapy.fields import BitField, Field


class ExtBitField(BitField):
    """One extension bit; ``follows(pkt)`` tells whether the optional next octet is present."""

    __slots__ = ["follows"]

    def __init__(self, name: str, follows: Callable[[object], bool]) -> None:
        super().__init__(name, None, 1)
        self.follows = follows

    def i2m(self, pkt, x):
        return 0 if self.follows(pkt) else 1


def optional_octet_present(ext_field: str, value_field: str) -> Callable[[object], bool]:
    """Condition of the fields of an optional octet: present when its value field is set (built or
    dissected), else, while dissecting (the value not read yet), when the ext bit before it is 0."""

    def present(pkt) -> bool:
        if value_field in pkt.fields:
            return pkt.fields[value_field] is not None
        return pkt.getfieldval(ext_field) == 0

    return present


class ContentTruncated(Exception):
    """Raised inside a field's getfield when the IE contents end in the middle of that field."""


class SubfieldListField(Field):
    """A list of ``(identifier, value)`` subfields; ``octets`` maps each known identifier to the size of
    its big-endian unsigned value (0: no value). ``active(pkt)`` False makes the list empty (used by the
    AAL parameters IE, whose user-defined AAL carries no subfields)."""

    __slots__ = ["octets", "active", "names"]
    islist = 1

    def __init__(self, name: str, octets: Mapping[int, int], names: Mapping[int, str] | None = None,
                 active: Callable[[object], bool] | None = None) -> None:
        super().__init__(name, None)
        self.octets = dict(octets)
        self.names = dict(names or {})
        self.active = active

    def getfield(self, pkt, s):
        items: list[tuple[int, int | None]] = []
        if self.active is not None and not self.active(pkt):
            return s, items
        pos = 0
        n = len(s)
        octets = self.octets
        while pos < n and s[pos] in octets:
            ident = s[pos]
            size = octets[ident]
            if pos + 1 + size > n:
                raise ContentTruncated(f"subfield 0x{ident:02X} needs {size} value octets")
            value = int.from_bytes(s[pos + 1:pos + 1 + size], "big") if size else None
            items.append((ident, value))
            pos += 1 + size
        return s[pos:], items

    def addfield(self, pkt, s, val):
        return s + self.i2m(pkt, val)

    def i2m(self, pkt, val) -> bytes:
        out = bytearray()
        for ident, value in val or ():
            out.append(ident)
            size = self.octets.get(ident, 0)
            if size:
                out += int(value).to_bytes(size, "big")
        return bytes(out)

    def any2i(self, pkt, x):
        return [] if x is None else [(int(i), None if v is None else int(v)) for i, v in x]

    def i2len(self, pkt, x) -> int:
        return len(self.i2m(pkt, x))

    def i2repr(self, pkt, x) -> str:
        parts = []
        for ident, value in x or ():
            label = self.names.get(ident, f"0x{ident:02X}")
            parts.append(label if value is None else f"{label}={value}")
        return "[" + ", ".join(parts) + "]"

    def do_copy(self, x):
        return list(x) if x is not None else x
