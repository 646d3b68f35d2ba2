"""Broadband low layer information (identifier 0x5F, Q.2931 4.5.9).

The contents are up to three optional octet groups, told apart by bits 7-6 of their first octet (the
layer identification), each first octet possibly followed by extension octets chained by ext bits (ext 0:
another octet of the group follows)::

    octet 5    ext 1 | 01 | user information layer 1 protocol (5)
    octet 6    ext   | 10 | user information layer 2 protocol (5)      then 6a, 6b (mode, window size,
                                                                        or user-specified layer 2 info)
    octet 7    ext   | 11 | user information layer 3 protocol (5)      then 7a, 7b, 7c (mode, packet size,
                                                                        window; for ISO/IEC TR 9577 the
                                                                        initial protocol identifier:
                                                                        7a ext 0 | IPI bits 8-2,
                                                                        7b ext 1 | IPI bit 1 | spare)
    octet 8    0x80 (SNAP identifier), 8.1 OUI (3 octets), 8.2 PID (2 octets)  -- only when the layer 3
               protocol is TR 9577 and the IPI is SNAP (0x80)

Typed fields: ``l1_protocol``, ``l2_protocol``, ``l3_protocol`` (None when the group is absent), the
extension octets of the layer 2 and 3 groups as received (``l2_extension``, ``l3_extension``; the IPI is
read from them by :attr:`ipi`), the SNAP ``snap_oui`` and ``snap_pid``, and a raw ``tail`` for any octet
after those groups. Dissection here is written out rather than left to scapy's field walk, because which
field comes next depends on bits of the octet that has not been read yet.

Problems (the strict decoder raises on them, offsets from the identifier octet): a layer 1 octet with ext
0, an extension chain longer than the standard defines (2 octets for layer 2, 3 for layer 3), contents
ending inside a chain or inside the SNAP octets, a SNAP identifier octet other than 0x80.
"""

from __future__ import annotations

from scapy.fields import Field, StrField

from firmware.uni.constants import (BLLI_MAX_L2_EXTENSION, BLLI_MAX_L3_EXTENSION, BLLI_SNAP_ID, IPI_SNAP,
                                    IEId, Layer2Protocol, Layer3Protocol)
from firmware.uni.ie import IE_HEADER_OCTETS, InformationElement, ie_header, register

_HEADER = 7


class _OptionalValue(Field):
    """A value set by the element's own dissector (never walked by scapy): int or None."""

    __slots__ = ["names", "width"]

    def __init__(self, name: str, names: dict | None = None, width: int = 2) -> None:
        super().__init__(name, None)
        self.names = names or {}
        self.width = width

    def i2repr(self, pkt, x):
        if x is None:
            return "absent"
        return f"{self.names[x]} (0x{x:0{self.width}X})" if x in self.names else f"0x{x:0{self.width}X}"


def _names(enum) -> dict:
    return {int(x): x.name.lower() for x in enum}


def _ext_chain(body: bytes, pos: int, limit: int, field: str, problems: list) -> tuple[int, bytes]:
    """Read the extension octets that follow an octet with ext 0: up to and including the first octet
    with ext 1, at most ``limit`` octets. Returns (new position, the octets)."""
    start = pos
    while True:
        if pos >= len(body):
            problems.append((IE_HEADER_OCTETS + len(body), field, "contents end inside the extension octets"))
            return pos, body[start:pos]
        octet = body[pos]
        pos += 1
        if octet & 0x80:
            return pos, body[start:pos]
        if pos - start >= limit:
            problems.append((IE_HEADER_OCTETS + pos - 1, field,
                             f"extension octet {pos - start} of {limit} must end the group (ext 1)"))
            return pos, body[start:pos]


@register
class BroadbandLowLayerInformationIE(InformationElement):
    name = "Broadband low layer information"
    fields_desc = ie_header(IEId.BROADBAND_LOW_LAYER_INFORMATION) + [
        _OptionalValue("l1_protocol"),
        _OptionalValue("l2_protocol", _names(Layer2Protocol)),
        StrField("l2_extension", b""),
        _OptionalValue("l3_protocol", _names(Layer3Protocol)),
        StrField("l3_extension", b""),
        _OptionalValue("snap_oui", width=6),
        _OptionalValue("snap_pid", width=4),
        StrField("tail", b""),
    ]

    @property
    def ipi(self) -> int | None:
        """ISO/IEC TR 9577 initial protocol identifier, from octets 7a and 7b."""
        ext = self.l3_extension or b""
        if self.l3_protocol != Layer3Protocol.ISO_TR_9577 or len(ext) != 2:
            return None
        return (ext[0] & 0x7F) << 1 | (ext[1] >> 6) & 1

    def _dissect_contents(self, body: bytes) -> None:
        problems = self.problems
        values = {"l1_protocol": None, "l2_protocol": None, "l2_extension": b"", "l3_protocol": None,
                  "l3_extension": b"", "snap_oui": None, "snap_pid": None, "tail": b""}
        self.fields.update(values)
        pos, n = 0, len(body)
        if pos < n and body[pos] >> 5 & 3 == 1:
            octet = body[pos]
            self.fields["l1_protocol"] = octet & 0x1F
            if not octet & 0x80:
                problems.append((IE_HEADER_OCTETS + pos, "l1_protocol",
                                 "layer 1 octet 5 has no extension octets: ext must be 1"))
                return
            pos += 1
        if pos < n and body[pos] >> 5 & 3 == 2:
            octet = body[pos]
            self.fields["l2_protocol"] = octet & 0x1F
            pos += 1
            if not octet & 0x80:
                before = len(problems)
                pos, self.fields["l2_extension"] = _ext_chain(body, pos, BLLI_MAX_L2_EXTENSION,
                                                              "l2_extension", problems)
                if len(problems) > before:
                    return
        if pos < n and body[pos] >> 5 & 3 == 3:
            octet = body[pos]
            self.fields["l3_protocol"] = octet & 0x1F
            pos += 1
            if not octet & 0x80:
                before = len(problems)
                pos, self.fields["l3_extension"] = _ext_chain(body, pos, BLLI_MAX_L3_EXTENSION,
                                                              "l3_extension", problems)
                if len(problems) > before:
                    return
            if self.ipi == IPI_SNAP:
                if n - pos < 6:
                    problems.append((IE_HEADER_OCTETS + n, "snap_oui", "contents end inside the SNAP octets"))
                    return
                if body[pos] != BLLI_SNAP_ID:
                    problems.append((IE_HEADER_OCTETS + pos, "snap_id",
                                     f"SNAP identifier octet 8 must be 0x80, not 0x{body[pos]:02X}"))
                    return
                self.fields["snap_oui"] = int.from_bytes(body[pos + 1:pos + 4], "big")
                self.fields["snap_pid"] = int.from_bytes(body[pos + 4:pos + 6], "big")
                pos += 6
        self.fields["tail"] = body[pos:]

    def self_build(self):
        if self.raw_packet_cache is not None:
            return self.raw_packet_cache
        p = b""
        for f in self.fields_desc[:_HEADER]:
            p = f.addfield(self, p, self.getfieldval(f.name))
        return p + self.build_contents()

    def build_contents(self) -> bytes:
        out = bytearray()
        if self.l1_protocol is not None:
            out.append(0x80 | 0x20 | self.l1_protocol & 0x1F)
        for protocol, layer_bits, extension in ((self.l2_protocol, 0x40, self.l2_extension),
                                                (self.l3_protocol, 0x60, self.l3_extension)):
            if protocol is None:
                continue
            extension = bytes(extension or b"")
            out.append((0 if extension else 0x80) | layer_bits | protocol & 0x1F)
            out += extension
        if self.snap_oui is not None or self.snap_pid is not None:
            out.append(BLLI_SNAP_ID)
            out += int(self.snap_oui or 0).to_bytes(3, "big") + int(self.snap_pid or 0).to_bytes(2, "big")
        out += bytes(self.tail or b"")
        return bytes(out)
