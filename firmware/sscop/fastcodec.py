"""Hot-path SSCOP encoder and decoder: plain ints and bytes, no scapy objects.

The scapy layers of ``firmware.sscop.pdu`` define the PDUs; this module writes the same layouts a
second time with integer arithmetic, for the SSCOP machines that exchange thousands of PDUs a second.
Tests prove the two byte-identical on all 15 types with random field values: ``encode`` gives the
octets scapy builds, and ``decode`` gives the fields scapy dissects (``Decoded.fields`` equals the
layer's ``fields`` dict, names included). Both decoders check validity with the same rules
(``layout.frame_pdu``).

Fields use the scapy layer's names: ``n_s``, ``n_r``, ``n_mr``, ``n_ps``, ``n_sq``, ``s``, ``list_``,
``pl``, ``pad`` and the reserved ones (``rsvd``, ``rsvd24``, ``rsvd_word``, ``rsvd_sq``, ``rsvd_ps``,
``rsvd_mr``, ``list_rsvd``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from firmware.sscop.errors import SSCOPFieldError
from firmware.sscop.layout import (
    DEFAULT_LIMITS,
    INFO_TYPES,
    PADDED_TYPES,
    UU_TYPES,
    PDUType,
    SSCOPLimits,
    frame_pdu,
)

# Each 32-bit word as (field name, width in bits) from the most significant bit (Q.2110 7.2).
_SQ_WORD = (("rsvd_sq", 24), ("n_sq", 8))
_RESERVED_WORD = (("rsvd_word", 32),)
_PS_WORD = (("rsvd_ps", 8), ("n_ps", 24))
_MR_WORD = (("rsvd_mr", 8), ("n_mr", 24))


def _padded_last(seq: str) -> tuple[tuple[str, int], ...]:
    return (("pl", 2), ("rsvd", 2), ("type", 4), (seq, 24))


def _plain_last(seq: str) -> tuple[tuple[str, int], ...]:
    return (("rsvd", 4), ("type", 4), (seq, 24))


#: The fixed words of each PDU after its data/UU part, pad and list, last word last.
_WORDS: dict[PDUType, tuple[tuple[tuple[str, int], ...], ...]] = {
    PDUType.BGN: (_SQ_WORD, _padded_last("n_mr")),
    PDUType.BGAK: (_RESERVED_WORD, _padded_last("n_mr")),
    PDUType.END: (_RESERVED_WORD, (("pl", 2), ("rsvd", 1), ("s", 1), ("type", 4), ("rsvd24", 24))),
    PDUType.ENDAK: (_RESERVED_WORD, _plain_last("rsvd24")),
    PDUType.RS: (_SQ_WORD, _padded_last("n_mr")),
    PDUType.RSAK: (_RESERVED_WORD, _plain_last("n_mr")),
    PDUType.BGREJ: (_RESERVED_WORD, _padded_last("rsvd24")),
    PDUType.SD: (_padded_last("n_s"),),
    PDUType.ER: (_SQ_WORD, _plain_last("n_mr")),
    PDUType.POLL: (_PS_WORD, _plain_last("n_s")),
    PDUType.STAT: (_PS_WORD, _MR_WORD, _plain_last("n_r")),
    PDUType.USTAT: (_MR_WORD, _plain_last("n_r")),
    PDUType.UD: (_padded_last("rsvd24"),),
    PDUType.MD: (_padded_last("rsvd24"),),
    PDUType.ERAK: (_RESERVED_WORD, _plain_last("n_mr")),
}

# The same as (name, shift, mask) triples, ready for decoding.
_UNPACK: dict[PDUType, tuple[tuple[tuple[str, int, int], ...], ...]] = {}
for _t, _words in _WORDS.items():
    _unpacked = []
    for _word in _words:
        _shift, _fields = 32, []
        for _name, _bits in _word:
            _shift -= _bits
            _fields.append((_name, _shift, (1 << _bits) - 1))
        assert _shift == 0, (_t, _word)
        _unpacked.append(tuple(_fields))
    _UNPACK[_t] = tuple(_unpacked)

_HAS_LIST = (PDUType.STAT, PDUType.USTAT)
_SD_TYPE_BITS = int(PDUType.SD) << 24


class Decoded(NamedTuple):
    """One decoded PDU: its type, every field by the scapy layer's name, and its data/UU octets."""

    type: PDUType
    fields: dict[str, Any]
    payload: bytes


def decode(data: bytes | bytearray | memoryview, *, offset: int = 0,
           limits: SSCOPLimits = DEFAULT_LIMITS) -> Decoded:
    """Decode one SSCOP PDU, raising :class:`SSCOPDecodeError` as ``pdu.decode_sscop`` does."""
    data = bytes(data)
    framing = frame_pdu(data, offset=offset, limits=limits)
    pdu_type = framing.pdu_type
    fields: dict[str, Any] = {}
    pos = framing.data_octets
    if pdu_type in PADDED_TYPES:
        fields["pad"] = data[pos: pos + framing.pad_octets]
        pos += framing.pad_octets
    elif pdu_type in _HAS_LIST:
        count = framing.list_elements
        words = [int.from_bytes(data[pos + 4 * i: pos + 4 * i + 4], "big") for i in range(count)]
        rsvd = bytes(w >> 24 for w in words)
        fields["list_rsvd"] = rsvd if any(rsvd) else b""
        fields["list_"] = [w & 0xFFFFFF for w in words]
        pos += 4 * count
    for word in _UNPACK[pdu_type]:
        value = int.from_bytes(data[pos: pos + 4], "big")
        pos += 4
        for name, shift, mask in word:
            fields[name] = value >> shift & mask
    return Decoded(pdu_type, fields, data[: framing.data_octets])


def _check(pdu_type: PDUType, name: str, value: Any, bits: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << bits:
        raise SSCOPFieldError(f"{pdu_type.name}.{name}", value, f"an integer 0..{(1 << bits) - 1}")
    return value


def encode(pdu_type: int, payload: bytes = b"", /, *, limits: SSCOPLimits = DEFAULT_LIMITS,
           **fields: Any) -> bytes:
    """The octets of one PDU of ``pdu_type`` with the data/UU part ``payload`` and the given fields
    (unset fields are 0; PL and the pad are computed; USTAT's list defaults to [0, 0]).

    Raises :class:`SSCOPFieldError` for an unknown field, a value out of its range, a pad that does
    not match PL or does not align the payload, a payload on a PDU without one, or a length beyond
    ``limits`` — so that everything it encodes, ``decode`` accepts."""
    try:
        pdu_type = PDUType(pdu_type)
    except ValueError:
        raise SSCOPFieldError("type", pdu_type, "an SSCOP PDU type 0x1..0xF (Q.2110 7.2)") from None
    words = _WORDS[pdu_type]
    known = {name for word in words for name, _ in word}
    if pdu_type in PADDED_TYPES:
        known.add("pad")
    elif pdu_type in _HAS_LIST:
        known |= {"list_", "list_rsvd"}
    for name in fields:
        if name not in known:
            raise SSCOPFieldError(name, fields[name], f"a field of the {pdu_type.name} PDU: {sorted(known)}")
    if fields.get("type", pdu_type) != pdu_type:
        raise SSCOPFieldError("type", fields["type"], f"{int(pdu_type)} ({pdu_type.name})")
    payload = bytes(payload)
    out = bytearray(payload)
    if pdu_type in PADDED_TYPES:
        limit, part = (limits.k, "information") if pdu_type in INFO_TYPES else (limits.j, "SSCOP-UU")
        if len(payload) > limit:
            raise SSCOPFieldError(part, len(payload), f"at most {limit} octets (Q.2110 7.7)")
        pad = fields.get("pad")
        pl = fields.get("pl")
        if pl is None:
            pl = len(pad) if pad is not None else -len(payload) % 4
        _check(pdu_type, "pl", pl, 2)
        pad = bytes(pl) if pad is None else bytes(pad)
        if len(pad) != pl:
            raise SSCOPFieldError("pad", pad, f"{pl} octets (PL)")
        if (len(payload) + pl) % 4:
            raise SSCOPFieldError("pl", pl, f"{-len(payload) % 4}: the pad must align {len(payload)} octets"
                                  " to 32 bits (Q.2110 7.2)")
        out += pad
        fields = {**fields, "pl": pl}
    elif payload:
        raise SSCOPFieldError("payload", payload, f"nothing: a {pdu_type.name} PDU carries no data")
    if pdu_type in _HAS_LIST:
        elements = list(fields.get("list_", [0, 0] if pdu_type is PDUType.USTAT else []))
        if pdu_type is PDUType.USTAT and len(elements) != 2:
            raise SSCOPFieldError("list_", elements, "exactly 2 list elements (USTAT)")
        if len(elements) > limits.max_stat:
            raise SSCOPFieldError("list_", elements, f"at most MaxSTAT={limits.max_stat} elements (Q.2110 7.7)")
        rsvd = bytes(fields.get("list_rsvd") or bytes(len(elements)))
        if len(rsvd) != len(elements):
            raise SSCOPFieldError("list_rsvd", rsvd, f"b'' or {len(elements)} octets, one per list element")
        for r, element in zip(rsvd, elements):
            out += (r << 24 | _check(pdu_type, "list_", element, 24)).to_bytes(4, "big")
    for word in words:
        value = 0
        for name, bits in word:
            value = value << bits | _check(pdu_type, name, fields.get(name, pdu_type if name == "type" else 0), bits)
        out += value.to_bytes(4, "big")
    return bytes(out)


def encode_sd(n_s: int, data: bytes) -> bytes:
    """An SD PDU (the hot path): ``data | zero pad | [PL | 0 | 8 | N(S)]``. Does not check k."""
    if not isinstance(n_s, int) or not 0 <= n_s < 1 << 24:
        raise SSCOPFieldError("SD.n_s", n_s, "an integer 0..16777215")
    pl = -len(data) % 4
    return b"".join((data, bytes(pl), (pl << 30 | _SD_TYPE_BITS | n_s).to_bytes(4, "big")))
