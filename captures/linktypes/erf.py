"""LINKTYPE_ERF (197), Endace's Extensible Record Format: ATM cell (type 3) and AAL5 (type 4) records.

Record header, 16 octets (as Wireshark's packet-erf.c and wiretap read it):

    ts    u64 little-endian, 32.32 fixed point seconds
    type  bit 7: an extension header follows; bits 0-6: record type (3 ATM cell, 4 AAL5)
    flags bits 0-1 capture interface, 0x04 varying length, 0x08 truncated, 0x10 RX error,
          0x20 DS error, 0xC0 reserved
    rlen  u16 BE, the whole record including this header
    lctr  u16 BE, loss counter
    wlen  u16 BE, octets of the record body on the wire

then 8-octet extension headers while the previous one's bit 7 (of its first octet) says so, then:

- type 3: one cell without its HEC: the 4-octet UNI header GFC(4) VPI(8) VCI(16) PTI(3) CLP(1)
  (I.361) and the 48-octet payload;
- type 4: the 4-octet cell header of the VC and the whole AAL5 CPCS-PDU (I.363.5 9.2.2.2):
  SDU | pad (0..47) | CPCS-UU | CPI | Length (2) | CRC-32 (4). On VPI 0/VCI 5 the SDU is an SSCOP PDU.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from scapy.config import conf
from scapy.fields import (BitEnumField, BitField, ByteField, Field, LELongField, ShortField, StrField,
                          XIntField)
from scapy.packet import Packet

from captures.linktypes.errors import LinkTypeDecodeError
from firmware.sscop.pdu import SSCOP, decode_sscop
from hw.aal5 import crc32, parse_cpcs_pdu
from hw.errors import DecodeError

LINKTYPE_ERF = 197
RECORD_HEADER_OCTETS = 16
EXTENSION_HEADER_OCTETS = 8
ERF_TYPE_ATM = 3
ERF_TYPE_AAL5 = 4
ERF_TYPES = {0: "legacy", 1: "HDLC POS", 2: "Ethernet", ERF_TYPE_ATM: "ATM cell", ERF_TYPE_AAL5: "AAL5"}
CELL_HEADER_OCTETS = 4  # the HEC is not kept
CELL_PAYLOAD_OCTETS = 48
AAL5_TRAILER_OCTETS = 8
#: I.361 payload type identifier (PTI) values.
PTI_NAMES = {0: "user data, SDU 0", 1: "user data, SDU 1 (AUU)", 2: "user data EFCI, SDU 0",
             3: "user data EFCI, SDU 1 (AUU)", 4: "segment F5 OAM", 5: "end-to-end F5 OAM",
             6: "RM cell", 7: "reserved"}
SIGNALLING_VPI, SIGNALLING_VCI = 0, 5


def erf_timestamp(seconds: float | Fraction | int) -> int:
    """ERF timestamp of a time in seconds: 32.32 fixed point (integer seconds in the high word)."""
    return int(Fraction(seconds) * (1 << 32)) & 0xFFFF_FFFF_FFFF_FFFF


def erf_seconds(ts: int) -> Fraction:
    """Seconds of an ERF timestamp, exactly."""
    return Fraction(ts, 1 << 32)


def _lenient(cls: type[Packet], octets: bytes | None, header: int) -> type[Packet]:
    """Lenient dissection: octets too short for a layer's fixed part are Raw, not an exception."""
    return conf.raw_layer if octets is not None and len(octets) < header else cls


class ExtensionHeadersField(Field[list[int], bytes]):
    """ERF extension headers: 8 octets each, read while the type octet (then each header's first
    octet) has bit 7 set. Each header is kept whole, as a 64-bit integer."""

    islist = 1

    def __init__(self, name: str, default: list[int] | None) -> None:
        super().__init__(name, default, fmt="!Q")

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, list[int]]:
        headers: list[int] = []
        more = bool(pkt.getfieldval("ext"))
        while more and len(s) >= EXTENSION_HEADER_OCTETS:
            headers.append(int.from_bytes(s[:EXTENSION_HEADER_OCTETS], "big"))
            more = bool(s[0] & 0x80)
            s = s[EXTENSION_HEADER_OCTETS:]
        return s, headers

    def addfield(self, pkt: Packet, s: bytes, val: list[int] | None) -> bytes:
        return s + b"".join(h.to_bytes(EXTENSION_HEADER_OCTETS, "big") for h in val or ())

    def i2len(self, pkt: Packet, x: list[int] | None) -> int:
        return EXTENSION_HEADER_OCTETS * len(x or ())


class ERF(Packet):
    """An ERF record header. ``ts``, ``ext``, ``rlen`` and ``wlen`` are computed on build when unset
    (``ts`` from the packet's time)."""

    name = "ERF"
    #: ``pkt[SSCOP]`` finds the PDU whatever its type (each type is a subclass of SSCOP).
    match_subclass = True
    fields_desc = [
        LELongField("ts", None),
        BitField("ext", None, 1),
        BitEnumField("type", ERF_TYPE_AAL5, 7, ERF_TYPES),
        BitField("flags_rsvd", 0, 2),
        BitField("dse", 0, 1),
        BitField("rxe", 0, 1),
        BitField("trunc", 0, 1),
        BitField("vlen", 0, 1),
        BitField("iface", 0, 2),
        ShortField("rlen", None),
        ShortField("lctr", 0),
        ShortField("wlen", None),
        ExtensionHeadersField("ext_headers", []),
    ]

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        return _lenient(cls, _pkt, RECORD_HEADER_OCTETS)

    def do_build_payload(self) -> bytes:
        # rlen and wlen count the whole body, the payload layers' padding included.
        return self.payload.do_build() + self.payload.build_padding()

    def build_padding(self) -> bytes:
        return b""  # already inside the body

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        head = bytearray(pkt)
        if self.ts is None:
            head[0:8] = erf_timestamp(self.time).to_bytes(8, "little")
        if self.ext is None:
            head[8] |= 0x80 if self.ext_headers else 0
        if self.rlen is None:
            head[10:12] = (len(head) + len(pay)).to_bytes(2, "big")
        if self.wlen is None:
            head[14:16] = len(pay).to_bytes(2, "big")
        return bytes(head) + pay

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        return {ERF_TYPE_ATM: ERFATMCell, ERF_TYPE_AAL5: ERFAAL5}.get(self.type, conf.raw_layer)

    def mysummary(self) -> str:
        return self.sprintf("ERF %type%")


def _cell_header() -> list[Field]:
    """The UNI cell header without the HEC (I.361 2.2)."""
    return [BitField("gfc", 0, 4), BitField("vpi", SIGNALLING_VPI, 8), BitField("vci", SIGNALLING_VCI, 16),
            BitEnumField("pti", 0, 3, PTI_NAMES), BitField("clp", 0, 1)]


class ERFATMCell(Packet):
    """ERF type 3: one ATM cell, header (no HEC) and its 48-octet payload (the scapy payload)."""

    name = "ERF ATM cell"
    fields_desc = _cell_header()

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        return _lenient(cls, _pkt, CELL_HEADER_OCTETS)

    def mysummary(self) -> str:
        return self.sprintf("ATM cell %vpi%/%vci% PTI %pti%")


class ERFAAL5(Packet):
    """ERF type 4: the cell header of the VC, then the CPCS-PDU (an :class:`AAL5CPCS`)."""

    name = "ERF AAL5"
    match_subclass = True
    fields_desc = _cell_header()

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        return _lenient(cls, _pkt, CELL_HEADER_OCTETS)

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        return AAL5CPCS

    def mysummary(self) -> str:
        return self.sprintf("AAL5 %vpi%/%vci%")


class _CPCSPadField(StrField):
    """The 0..47 pad octets of the CPCS-PDU; on dissection the layer hands it pad + trailer."""

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, bytes]:
        n = max(0, len(s) - AAL5_TRAILER_OCTETS)
        return s[n:], s[:n]


class _CRC32Field(XIntField):
    def i2repr(self, pkt: Packet, x: Any) -> str:
        if x is None:
            return super().i2repr(pkt, x)
        return f"0x{x:08x} ({'correct' if pkt.crc_correct() else 'incorrect'})"


class AAL5CPCS(Packet):
    """The AAL5 CPCS-PDU (I.363.5 9.2.2.2), read from its trailer: the SDU is the scapy payload (an
    SSCOP PDU on VPI 0/VCI 5), then ``pad``, ``uu`` (CPCS-UU), ``cpi``, ``length`` and ``crc``.
    The pad, Length and CRC are computed on build when unset; :meth:`crc_correct` checks the CRC."""

    name = "AAL5 CPCS-PDU"
    match_subclass = True
    fields_desc = [
        _CPCSPadField("pad", None),
        ByteField("uu", 0),
        ByteField("cpi", 0),
        ShortField("length", None),
        _CRC32Field("crc", None),
    ]

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        return _lenient(cls, _pkt, AAL5_TRAILER_OCTETS)

    def do_dissect(self, s: bytes) -> bytes:
        n = len(s)
        if n < AAL5_TRAILER_OCTETS:
            raise LinkTypeDecodeError("AAL5 CPCS-PDU", n, "trailer", f"truncated: {n} octets, the trailer has 8")
        length = int.from_bytes(s[n - 6: n - 4], "big")
        sdu = length if length <= n - AAL5_TRAILER_OCTETS else n - AAL5_TRAILER_OCTETS
        rest = super().do_dissect(s[sdu:])
        self.raw_packet_cache = None  # read from the end: always rebuild in wire order
        return s[:sdu] + rest

    def do_build_payload(self) -> bytes:
        # The SDU is everything the payload layers hold, their padding included: it precedes the trailer.
        return self.payload.do_build() + self.payload.build_padding()

    def build_padding(self) -> bytes:
        return b""  # already inside the SDU, before the pad and trailer

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        # I.363.5 9.2.2.2: pad to a whole number of 48-octet cell payloads; Length counts the SDU;
        # the CRC-32 covers everything before it.
        if self.pad is None:
            pkt = bytes(-(len(pay) + AAL5_TRAILER_OCTETS) % CELL_PAYLOAD_OCTETS) + pkt
        out = bytearray(pay + pkt)
        if self.length is None:
            out[-6:-4] = len(pay).to_bytes(2, "big")
        if self.crc is None:
            out[-4:] = crc32(bytes(out[:-4])).to_bytes(4, "big")
        return bytes(out)

    def crc_correct(self) -> bool:
        """Whether the CRC field matches the CRC-32 of the octets before it (as received, when the
        layer was dissected)."""
        octets = self.original if self.original is not None else bytes(self)
        return len(octets) >= 4 and crc32(octets[:-4]) == int.from_bytes(octets[-4:], "big")

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        under = self.underlayer
        if under is not None and (under.vpi, under.vci) == (SIGNALLING_VPI, SIGNALLING_VCI):
            return SSCOP
        return conf.raw_layer

    def mysummary(self) -> str:
        return self.sprintf("CPCS-PDU length %length% CRC %crc%")


conf.l2types.register(LINKTYPE_ERF, ERF)


def decode_erf(record: bytes | bytearray | memoryview) -> ERF:
    """Decode one ERF record of an ATM link strictly, or raise :class:`LinkTypeDecodeError` (offset
    inside the record, field, reason): a short header or extension header, an ``rlen`` that is not the
    record's length, a record the card marked truncated, a type other than ATM cell or AAL5, a cell
    that is not 52 octets, a CPCS-PDU whose size, Length or CRC is wrong, or an aborted one (Length 0).
    The SSCOP PDU of an AAL5 record on VPI 0/VCI 5 is checked by ``decode_sscop``."""
    raw = bytes(record)
    n = len(raw)
    what = "ERF record"
    if n < RECORD_HEADER_OCTETS:
        raise LinkTypeDecodeError(what, n, "header", f"truncated: {n} octets, the record header has 16")
    rlen = int.from_bytes(raw[10:12], "big")
    if rlen != n:
        raise LinkTypeDecodeError(what, 10, "rlen", f"says {rlen} octets, the record has {n}")
    if raw[9] & 0x08:
        raise LinkTypeDecodeError(what, 9, "flags.trunc", "the capture marked this record truncated")
    pos, more = RECORD_HEADER_OCTETS, bool(raw[8] & 0x80)
    while more:
        if n < pos + EXTENSION_HEADER_OCTETS:
            raise LinkTypeDecodeError(what, pos, "extension header",
                                      f"truncated: {n - pos} octets, an extension header has 8")
        more = bool(raw[pos] & 0x80)
        pos += EXTENSION_HEADER_OCTETS
    erf_type = raw[8] & 0x7F
    body = n - pos
    if erf_type == ERF_TYPE_ATM:
        if body != CELL_HEADER_OCTETS + CELL_PAYLOAD_OCTETS:
            kind = "truncated" if body < 52 else "oversized"
            raise LinkTypeDecodeError(what, pos, "cell", f"{kind}: {body} octets, an ERF ATM cell has 52")
    elif erf_type == ERF_TYPE_AAL5:
        if body < CELL_HEADER_OCTETS:
            raise LinkTypeDecodeError(what, pos, "cell header", f"truncated: {body} octets, need 4")
        cpcs = pos + CELL_HEADER_OCTETS
        try:
            sdu, _, _ = parse_cpcs_pdu(raw[cpcs:])
        except DecodeError as err:
            raise LinkTypeDecodeError(what, cpcs + err.offset, err.field, err.reason) from err
        if not sdu:
            raise LinkTypeDecodeError(what, n - 6, "Length",
                                      "0: the abort function, no SDU (I.363.5 9.2.2.2)")
        header = int.from_bytes(raw[pos:cpcs], "big")
        if (header >> 20 & 0xFF, header >> 4 & 0xFFFF) == (SIGNALLING_VPI, SIGNALLING_VCI):
            decode_sscop(sdu, offset=cpcs)
    else:
        raise LinkTypeDecodeError(what, 8, "type", f"ERF type {erf_type} is not an ATM record "
                                  f"({ERF_TYPE_ATM} ATM cell, {ERF_TYPE_AAL5} AAL5)")
    return ERF(raw)


__all__ = [
    "AAL5CPCS", "ERF", "ERFAAL5", "ERFATMCell", "ERF_TYPE_AAL5", "ERF_TYPE_ATM", "LINKTYPE_ERF",
    "decode_erf", "erf_seconds", "erf_timestamp",
]
