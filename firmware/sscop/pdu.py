"""The 15 SSCOP PDUs of ITU-T Q.2110 7.2 as scapy layers, read from the trailer at the end.

``SSCOP(raw)`` reads the PDU type from the last 32-bit word and returns the layer of that type; each
layer names its fields as Q.2110 does (``n_s``, ``n_r``, ``n_mr``, ``n_ps``, ``n_sq``, ``s``, ``list_``).
The data of SD, UD and MD and the SSCOP-UU of BGN, BGAK, END, RS and BGREJ is the layer's scapy
payload, so ``SD(n_s=7) / message`` builds ``message | pad | [PL|type|N(S)]`` with PL and the pad
computed (SD's payload is bound to Q.2931 in ``firmware.saal``, as Wireshark does).

Every bit is kept: reserved fields, the pad octets and the reserved octet of STAT/USTAT list elements
are fields of their own, so decoding then encoding any valid PDU gives back the same octets.

Dissection stays lenient (scapy's way: odd bytes end up as ``Raw``); :func:`decode_sscop` is the strict
decoder that raises :class:`SSCOPDecodeError` for anything a Q.2110 receiver would discard.
"""

from __future__ import annotations

from typing import Any, ClassVar

from scapy.config import conf
from scapy.fields import BitEnumField, BitField, ByteField, Field, StrField, ThreeBytesField, XIntField
from scapy.packet import Packet

from firmware.sscop.errors import SSCOPDecodeError
from firmware.sscop.layout import (
    DEFAULT_LIMITS,
    PADDED_TYPES,
    TRAILER_OCTETS,
    PDUType,
    SSCOPLimits,
    frame_pdu,
)

#: The Q.2110 abbreviation of each type code, shown by ``show()``.
PDU_TYPE_NAMES = {t.value: t.name for t in PDUType}


class PadField(StrField):
    """The 0..3 pad octets that align the data or UU part (Q.2110 7.2). On dissection the layer hands
    this field exactly pad + trailer, so the pad is what precedes the trailer. ``None`` (the default)
    builds PL zero octets."""

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, bytes]:
        n = max(0, len(s) - pkt.trailer_octets)
        return s[n:], s[:n]


def _list_count(pkt: Packet, s: bytes) -> int:
    """List elements ahead in ``s``: USTAT has two; STAT has every word before its 12-octet tail."""
    if pkt.pdu_type == PDUType.USTAT:
        return 2
    return max(0, (len(s) - TRAILER_OCTETS[PDUType.STAT]) // 4)


class ListElementsField(Field[list[int], bytes]):
    """The list of a STAT or USTAT PDU (Q.2110 7.2): one 32-bit word per element, a reserved octet and
    a 24-bit N(S). The value is the list of N(S); the reserved octets live in ``list_rsvd``."""

    islist = 1

    def __init__(self, name: str, default: list[int] | None) -> None:
        super().__init__(name, default, fmt="!I")

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, list[int]]:
        count = _list_count(pkt, s)
        values = [int.from_bytes(s[4 * i + 1: 4 * i + 4], "big") for i in range(count)]
        return s[4 * count:], values

    def addfield(self, pkt: Packet, s: bytes, val: list[int] | None) -> bytes:
        rsvd = pkt.getfieldval("list_rsvd") or b""
        out = bytearray(s)
        for i, n_s in enumerate(val or ()):
            out.append(rsvd[i] if i < len(rsvd) else 0)
            out += (n_s & 0xFFFFFF).to_bytes(3, "big")
        return bytes(out)

    def i2len(self, pkt: Packet, x: list[int] | None) -> int:
        return 4 * len(x or ())

    def randval(self) -> Any:
        from scapy.volatile import RandNum
        return [RandNum(0, 0xFFFFFF) for _ in range(2)]


class ListReservedField(StrField):
    """The reserved octet of each list element, in order; ``b""`` when they are all zero (as SSCOP
    sends them). It takes no room of its own: on dissection it reads the octets ahead of ``list_``
    without consuming them, and ``list_`` writes them back on build."""

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, bytes]:
        octets = bytes(s[4 * i] for i in range(_list_count(pkt, s)))
        return s, octets if any(octets) else b""

    def addfield(self, pkt: Packet, s: bytes, val: bytes | None) -> bytes:
        return s


class SSCOP(Packet):
    """An SSCOP PDU. ``SSCOP(raw)`` dissects ``raw`` as the PDU its last word names; build with the
    PDU classes (``SD``, ``POLL``, ...) or ``SSCOP(type=...)``."""

    name = "SSCOP"
    #: ``pkt[SSCOP]`` below this layer finds the PDU whatever its type.
    match_subclass = True
    fields_desc: ClassVar[list[Field]] = []
    #: Type code of the PDU (Q.2110 7.2); None on the dispatcher itself.
    pdu_type: ClassVar[PDUType | None] = None
    #: Octets after the data/UU part and the pad (STAT: without its list).
    trailer_octets: ClassVar[int] = 0
    #: Fields named in ``summary()``.
    summary_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        if _pkt is None:
            return PDU_CLASSES.get(kargs.get("type"), cls)
        if len(_pkt) < 4:
            return conf.raw_layer
        sub = PDU_CLASSES.get(_pkt[-4] & 0x0F)
        if sub is None or len(_pkt) < sub.trailer_octets:
            return conf.raw_layer
        return sub

    def do_dissect(self, s: bytes) -> bytes:
        if self.pdu_type is None:
            return s
        n = len(s)
        fixed = self.trailer_octets
        if self.pdu_type == PDUType.STAT:
            fixed += 4 * _list_count(self, s)
        if n < fixed:
            # Too short for this PDU's trailer (only when a PDU class is called directly; the SSCOP
            # dispatcher answers Raw). Inside a stack scapy turns this into a Raw payload.
            raise SSCOPDecodeError(0, "trailer", f"truncated: a {self.pdu_type.name} PDU has at least "
                                   f"{fixed} octets, got {n}", pdu_type=int(self.pdu_type))
        pad = min(s[-4] >> 6, n - fixed) if self.pdu_type in PADDED_TYPES else 0
        start = n - fixed - pad
        rest = super().do_dissect(s[start:])
        # The fields were read from the end: the cached raw octets would be rebuilt in the wrong order
        # (fields first, payload after), so the layer always rebuilds from its fields.
        self.raw_packet_cache = None
        return s[:start] + rest

    def do_build_payload(self) -> bytes:
        # The data/UU part is everything the payload layers hold, their padding included (a Q.2931
        # message followed by stray octets): it all precedes the trailer.
        return self.payload.do_build() + self.payload.build_padding()

    def build_padding(self) -> bytes:
        return b""  # already inside the data part, before the trailer

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        # Q.2110 7.2: the data or UU part comes first and is padded to 32 bits; PL says by how much.
        if self.pdu_type in PADDED_TYPES:
            pad = self.getfieldval("pad")
            pl = self.getfieldval("pl")
            if pl is None:
                pl = len(pad) if pad is not None else -len(pay) % 4
            if pad is None:
                pkt = bytes(pl) + pkt
            pkt = pkt[:-4] + bytes([(pkt[-4] & 0x3F) | (pl & 0x3) << 6]) + pkt[-3:]
        return pay + pkt

    def mysummary(self) -> str:
        if self.pdu_type is None:
            return "SSCOP"
        parts = [f"{name}={self.getfieldval(name)}" for name in self.summary_fields]
        return " ".join([f"SSCOP {self.pdu_type.name}", *parts])


# Field builders: each PDU class gets fresh field objects, named as in Q.2110 7.2.

def _pad() -> list[Field]:
    return [PadField("pad", None)]


def _sq_word() -> list[Field]:
    return [ThreeBytesField("rsvd_sq", 0), ByteField("n_sq", 0)]


def _reserved_word() -> list[Field]:
    return [XIntField("rsvd_word", 0)]


def _padded_last_word(code: PDUType, seq: str | None, *, source_bit: bool = False) -> list[Field]:
    """[PL (2) | reserved (2) or reserved (1) + S (1) | type (4) | seq or reserved (24)]."""
    bits: list[Field] = [BitField("pl", None, 2)]
    if source_bit:
        # Q.2110 7.2: S = 1 when the END was sent by SSCOP itself, 0 when by the SSCOP user.
        bits += [BitField("rsvd", 0, 1), BitEnumField("s", 0, 1, {0: "SSCOP user", 1: "SSCOP"})]
    else:
        bits += [BitField("rsvd", 0, 2)]
    bits += [BitEnumField("type", int(code), 4, PDU_TYPE_NAMES)]
    bits += [ThreeBytesField(seq, 0)] if seq else [ThreeBytesField("rsvd24", 0)]
    return bits


def _last_word(code: PDUType, seq: str | None) -> list[Field]:
    """[reserved (4) | type (4) | seq or reserved (24)] of PDUs without a data or UU part."""
    return [BitField("rsvd", 0, 4), BitEnumField("type", int(code), 4, PDU_TYPE_NAMES),
            ThreeBytesField(seq, 0) if seq else ThreeBytesField("rsvd24", 0)]


class BGN(SSCOP):
    """Begin: requests a connection; N(SQ) tells retransmissions apart, N(MR) opens the window."""
    name = "SSCOP BGN (begin)"
    pdu_type = PDUType.BGN
    trailer_octets = 8
    summary_fields = ("n_sq", "n_mr")
    fields_desc = [*_pad(), *_sq_word(), *_padded_last_word(PDUType.BGN, "n_mr")]


class BGAK(SSCOP):
    """Begin acknowledge: accepts the connection."""
    name = "SSCOP BGAK (begin acknowledge)"
    pdu_type = PDUType.BGAK
    trailer_octets = 8
    summary_fields = ("n_mr",)
    fields_desc = [*_pad(), *_reserved_word(), *_padded_last_word(PDUType.BGAK, "n_mr")]


class END(SSCOP):
    """End: releases the connection; S says whether SSCOP or its user sent it."""
    name = "SSCOP END (end)"
    pdu_type = PDUType.END
    trailer_octets = 8
    summary_fields = ("s",)
    fields_desc = [*_pad(), *_reserved_word(), *_padded_last_word(PDUType.END, None, source_bit=True)]


class ENDAK(SSCOP):
    """End acknowledge."""
    name = "SSCOP ENDAK (end acknowledge)"
    pdu_type = PDUType.ENDAK
    trailer_octets = 8
    fields_desc = [*_reserved_word(), *_last_word(PDUType.ENDAK, None)]


class RS(SSCOP):
    """Resynchronization command."""
    name = "SSCOP RS (resynchronization)"
    pdu_type = PDUType.RS
    trailer_octets = 8
    summary_fields = ("n_sq", "n_mr")
    fields_desc = [*_pad(), *_sq_word(), *_padded_last_word(PDUType.RS, "n_mr")]


class RSAK(SSCOP):
    """Resynchronization acknowledge."""
    name = "SSCOP RSAK (resynchronization acknowledge)"
    pdu_type = PDUType.RSAK
    trailer_octets = 8
    summary_fields = ("n_mr",)
    fields_desc = [*_reserved_word(), *_last_word(PDUType.RSAK, "n_mr")]


class BGREJ(SSCOP):
    """Begin reject: refuses the connection."""
    name = "SSCOP BGREJ (begin reject)"
    pdu_type = PDUType.BGREJ
    trailer_octets = 8
    fields_desc = [*_pad(), *_reserved_word(), *_padded_last_word(PDUType.BGREJ, None)]


class SD(SSCOP):
    """Sequenced data: one SSCOP user message (a Q.2931 message on the SAAL) numbered N(S)."""
    name = "SSCOP SD (sequenced data)"
    pdu_type = PDUType.SD
    trailer_octets = 4
    summary_fields = ("n_s",)
    fields_desc = [*_pad(), *_padded_last_word(PDUType.SD, "n_s")]


class ER(SSCOP):
    """Error recovery command."""
    name = "SSCOP ER (error recovery)"
    pdu_type = PDUType.ER
    trailer_octets = 8
    summary_fields = ("n_sq", "n_mr")
    fields_desc = [*_sq_word(), *_last_word(PDUType.ER, "n_mr")]


class POLL(SSCOP):
    """Poll: the transmitter's state N(S), and a request for the receiver's, numbered N(PS)."""
    name = "SSCOP POLL (poll)"
    pdu_type = PDUType.POLL
    trailer_octets = 8
    summary_fields = ("n_ps", "n_s")
    fields_desc = [ByteField("rsvd_ps", 0), ThreeBytesField("n_ps", 0), *_last_word(PDUType.POLL, "n_s")]


class STAT(SSCOP):
    """Solicited status: the answer to POLL N(PS); the list gives the gaps, as pairs of N(S)."""
    name = "SSCOP STAT (solicited status)"
    pdu_type = PDUType.STAT
    trailer_octets = 12
    summary_fields = ("n_ps", "n_mr", "n_r", "list_")
    fields_desc = [ListReservedField("list_rsvd", b""), ListElementsField("list_", []),
                   ByteField("rsvd_ps", 0), ThreeBytesField("n_ps", 0),
                   ByteField("rsvd_mr", 0), ThreeBytesField("n_mr", 0),
                   *_last_word(PDUType.STAT, "n_r")]


class USTAT(SSCOP):
    """Unsolicited status: reports one gap, the two list elements, without a POLL."""
    name = "SSCOP USTAT (unsolicited status)"
    pdu_type = PDUType.USTAT
    trailer_octets = 16
    summary_fields = ("n_mr", "n_r", "list_")
    fields_desc = [ListReservedField("list_rsvd", b""), ListElementsField("list_", [0, 0]),
                   ByteField("rsvd_mr", 0), ThreeBytesField("n_mr", 0),
                   *_last_word(PDUType.USTAT, "n_r")]


class UD(SSCOP):
    """Unnumbered user data."""
    name = "SSCOP UD (unnumbered data)"
    pdu_type = PDUType.UD
    trailer_octets = 4
    fields_desc = [*_pad(), *_padded_last_word(PDUType.UD, None)]


class MD(SSCOP):
    """Unnumbered management data."""
    name = "SSCOP MD (management data)"
    pdu_type = PDUType.MD
    trailer_octets = 4
    fields_desc = [*_pad(), *_padded_last_word(PDUType.MD, None)]


class ERAK(SSCOP):
    """Error recovery acknowledge."""
    name = "SSCOP ERAK (error recovery acknowledge)"
    pdu_type = PDUType.ERAK
    trailer_octets = 8
    summary_fields = ("n_mr",)
    fields_desc = [*_reserved_word(), *_last_word(PDUType.ERAK, "n_mr")]


#: The layer of each PDU type code.
PDU_CLASSES: dict[int, type[SSCOP]] = {
    cls.pdu_type: cls
    for cls in (BGN, BGAK, END, ENDAK, RS, RSAK, BGREJ, SD, ER, POLL, STAT, USTAT, UD, MD, ERAK)
}

for _code, _cls in PDU_CLASSES.items():
    assert TRAILER_OCTETS[PDUType(_code)] == _cls.trailer_octets, _cls


def decode_sscop(data: bytes | bytearray | memoryview, *, offset: int = 0,
                 limits: SSCOPLimits = DEFAULT_LIMITS) -> SSCOP:
    """Decode one SSCOP PDU strictly: the layer of its type, or :class:`SSCOPDecodeError` (naming the
    field and its offset, plus ``offset`` when the PDU sits inside a larger record) for anything a
    Q.2110 receiver discards. The data of an SD is dissected further by whatever layer is bound to SD
    (Q.2931 once ``firmware.saal`` is imported), leniently: its own strict check is that layer's."""
    raw = bytes(data)
    framing = frame_pdu(raw, offset=offset, limits=limits)
    return PDU_CLASSES[framing.pdu_type](raw)


def payload_octets(pdu: SSCOP) -> bytes:
    """The data or UU octets of a PDU as they were received (or as they will be sent), whatever layer
    dissected them."""
    original = getattr(pdu.payload, "original", None)
    return bytes(original) if original is not None else bytes(pdu.payload)
