"""What makes bytes an SSCOP PDU: the type codes, trailer sizes and validity rules of ITU-T Q.2110.

This module is the single definition of *valid* shared by the scapy layers (``pdu``) and the fast
codec (``fastcodec``); it has no scapy in it. The field layouts themselves are written twice, once as
scapy layers and once as struct code, and tests prove the two equal.

An SSCOP PDU is read from its end (Q.2110 7.2): the last 32-bit word is

    PL (2) | reserved (1) | S (1, END only; reserved elsewhere) | PDU type (4) | 24-bit field

and PDUs that carry user data or SSCOP-UU (BGN, BGAK, END, RS, BGREJ, SD, UD, MD) put it first, padded
with PL octets (0..3) to a whole number of 32-bit words. The fixed words before the last one are:

    BGN, RS, ER        [reserved (24) | N(SQ) (8)]
    BGAK, END, BGREJ,  [reserved (32)]
    ENDAK, RSAK, ERAK
    POLL               [reserved (8) | N(PS) (24)]
    STAT               list of [reserved (8) | N(S) (24)], [reserved (8) | N(PS)], [reserved (8) | N(MR)]
    USTAT              two list words, [reserved (8) | N(MR)]
    SD, UD, MD         none
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from firmware.sscop.errors import SSCOPDecodeError


class PDUType(IntEnum):
    """The PDU type codes of Q.2110 7.2 (the low nibble of the first octet of the last word)."""

    BGN = 0x1    # begin
    BGAK = 0x2   # begin acknowledge
    END = 0x3    # end
    ENDAK = 0x4  # end acknowledge
    RS = 0x5     # resynchronization
    RSAK = 0x6   # resynchronization acknowledge
    BGREJ = 0x7  # begin reject
    SD = 0x8     # sequenced data
    ER = 0x9     # error recovery
    POLL = 0xA   # transmitter state with request for receiver state
    STAT = 0xB   # solicited receiver state
    USTAT = 0xC  # unsolicited receiver state
    UD = 0xD     # unnumbered user data
    MD = 0xE     # unnumbered management data
    ERAK = 0xF   # error recovery acknowledge


#: Octets after the data/UU part and its pad: the fixed trailer words (for STAT, without the list).
TRAILER_OCTETS: dict[PDUType, int] = {
    PDUType.BGN: 8, PDUType.BGAK: 8, PDUType.END: 8, PDUType.ENDAK: 8, PDUType.RS: 8,
    PDUType.RSAK: 8, PDUType.BGREJ: 8, PDUType.SD: 4, PDUType.ER: 8, PDUType.POLL: 8,
    PDUType.STAT: 12, PDUType.USTAT: 16, PDUType.UD: 4, PDUType.MD: 4, PDUType.ERAK: 8,
}

#: PDUs with an SSCOP-UU field (Q.2110 7.2), bounded by the parameter j.
UU_TYPES = frozenset({PDUType.BGN, PDUType.BGAK, PDUType.END, PDUType.RS, PDUType.BGREJ})
#: PDUs with an information field, bounded by the parameter k.
INFO_TYPES = frozenset({PDUType.SD, PDUType.UD, PDUType.MD})
#: PDUs whose last word carries PL, the pad length of their data or UU part.
PADDED_TYPES = UU_TYPES | INFO_TYPES
#: PDUs of one length only: exactly their trailer.
FIXED_TYPES = frozenset({PDUType.ENDAK, PDUType.RSAK, PDUType.ER, PDUType.POLL, PDUType.USTAT, PDUType.ERAK})

#: Sequence numbers N(S), N(R), N(MR), N(PS) and list elements are 24 bits; N(SQ) is 8 (Q.2110 7.5).
SEQ_MODULUS = 1 << 24
SQ_MODULUS = 1 << 8

#: How a decoder names each PDU's trailer words, first missing field first (for "truncated" errors).
_FIRST_TRAILER_FIELD: dict[PDUType, str] = {
    PDUType.BGN: "N(SQ)", PDUType.RS: "N(SQ)", PDUType.ER: "N(SQ)", PDUType.POLL: "N(PS)",
    PDUType.STAT: "N(PS)", PDUType.USTAT: "list element 1",
}


@dataclass(frozen=True, slots=True)
class SSCOPLimits:
    """The Q.2110 7.7 parameters that bound a PDU's length (defaults as ngatm's SSCOP, for SAAL use).

    k: the longest information field of SD, UD and MD PDUs, in octets;
    j: the longest SSCOP-UU field of BGN, BGAK, END, RS and BGREJ PDUs, in octets;
    max_stat: MaxSTAT, the most list elements a STAT PDU may carry."""

    k: int = 4096
    j: int = 4096
    max_stat: int = 67


DEFAULT_LIMITS = SSCOPLimits()


class Framing(NamedTuple):
    """Where the parts of a valid PDU lie: the data/UU part [0, data_octets), then pad_octets of pad,
    then (STAT only) list_elements list words, then the fixed trailer words."""

    pdu_type: PDUType
    data_octets: int
    pad_octets: int
    list_elements: int = 0


def frame_pdu(data: bytes | bytearray | memoryview, *, offset: int = 0,
              limits: SSCOPLimits = DEFAULT_LIMITS) -> Framing:
    """Check ``data`` as a Q.2110 receiver checks an incoming PDU, and say where its parts lie.

    A receiver discards (Q.2110 clause 8; ngatm's sscop_input reports it to layer management as
    MAA-ERROR 'U') a PDU that is not a whole number of 32-bit words, has no known type, is not of the
    length its type allows, or whose pad is longer than the part it pads. This raises
    :class:`SSCOPDecodeError` naming the field and the offset (``offset`` is added, so that an error
    inside a link-layer record points into the record). Reserved bits and pad octets are not checked:
    a receiver ignores them, and the decoders keep them."""
    n = len(data)
    if n < 4:
        raise SSCOPDecodeError(offset + n, "trailer",
                               f"truncated: {n} octets, an SSCOP PDU needs at least its 4-octet last word")
    if n % 4:
        raise SSCOPDecodeError(offset + n - n % 4, "length",
                               f"{n} octets is not a whole number of 32-bit words (Q.2110 7.2)")
    code = data[n - 4] & 0x0F
    if code == 0:
        raise SSCOPDecodeError(offset + n - 4, "PDU type", "0 is not an SSCOP PDU type (Q.2110 7.2)")
    pdu_type = PDUType(code)
    name = pdu_type.name
    trailer = TRAILER_OCTETS[pdu_type]
    if n < trailer:
        field = _FIRST_TRAILER_FIELD.get(pdu_type, "reserved word")
        raise SSCOPDecodeError(offset, field,
                               f"truncated: a {name} PDU has at least {trailer} octets, got {n}", pdu_type=code)
    if pdu_type in FIXED_TYPES and n != trailer:
        raise SSCOPDecodeError(offset, "length",
                               f"oversized: a {name} PDU is exactly {trailer} octets, got {n}", pdu_type=code)
    if pdu_type is PDUType.STAT:
        elements = (n - trailer) // 4
        if elements > limits.max_stat:
            raise SSCOPDecodeError(offset, "list",
                                   f"oversized: {elements} list elements, more than MaxSTAT={limits.max_stat}"
                                   " (Q.2110 7.7)", pdu_type=code)
        return Framing(pdu_type, 0, 0, elements)
    if pdu_type not in PADDED_TYPES:
        return Framing(pdu_type, 0, 0, 2 if pdu_type is PDUType.USTAT else 0)
    pad = data[n - 4] >> 6
    part = n - trailer
    if pad > part:
        raise SSCOPDecodeError(offset + n - 4, "PL",
                               f"pad length {pad} but only {part} octets precede the trailer", pdu_type=code)
    octets = part - pad
    if pdu_type in INFO_TYPES and octets > limits.k:
        raise SSCOPDecodeError(offset, "information",
                               f"oversized: {octets} octets, more than k={limits.k} (Q.2110 7.7)", pdu_type=code)
    if pdu_type in UU_TYPES and octets > limits.j:
        raise SSCOPDecodeError(offset, "SSCOP-UU",
                               f"oversized: {octets} octets, more than j={limits.j} (Q.2110 7.7)", pdu_type=code)
    return Framing(pdu_type, octets, pad)
