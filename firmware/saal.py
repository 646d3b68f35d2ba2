"""The signalling AAL (SAAL) of the UNI: a Q.2931 message rides as the information field of an SSCOP
SD PDU, on VPI 0/VCI 5.

SSCF-UNI (Q.2130) hands each signalling message to SSCOP as assured data (AA-DATA), which SSCOP sends
as the information field of an SD PDU (Q.2110 7.2), adding nothing before it. Only SD carries Q.2931:
the UU of BGN/BGAK/END/... and the data of UD/MD are other things, and Wireshark too hands only SD
payloads to Q.2931 (its ``sscop.payload`` preference). Importing this module binds SD to the Q.2931
dispatcher in scapy, so ``SSCOP(raw)`` of an SD decodes down to the message class of its type, and
``SD(n_s=...) / message`` builds the PDU.
"""

from __future__ import annotations

from scapy.packet import bind_layers

from firmware.sscop import fastcodec
from firmware.sscop.layout import DEFAULT_LIMITS, SSCOPLimits
from firmware.sscop.pdu import SD, SSCOP, decode_sscop, payload_octets
from firmware.uni import Q2931, decode_message  # the package registers every message and IE class

bind_layers(SD, Q2931)


def sd_octets(message: Q2931 | bytes, n_s: int) -> bytes:
    """The SD PDU with sequence number ``n_s`` carrying ``message`` (the fast path: no scapy layer is
    built around the message)."""
    return fastcodec.encode_sd(n_s, bytes(message))


def decode_signalling(octets: bytes | bytearray | memoryview, *, offset: int = 0,
                      limits: SSCOPLimits = DEFAULT_LIMITS) -> tuple[SSCOP, Q2931 | None]:
    """Strictly decode one SSCOP PDU of the signalling channel, and the Q.2931 message of an SD.

    Returns ``(pdu, message)``, ``message`` None for every PDU but SD. Raises
    :class:`~firmware.sscop.errors.SSCOPDecodeError` for an invalid PDU (offsets plus ``offset``) and
    the Q.2931 decoder's :class:`~firmware.uni.errors.UniDecodeError` (with the cause a receiver
    answers) for an invalid message; the message starts the SD, so its offsets are also offsets in the
    PDU."""
    pdu = decode_sscop(octets, offset=offset, limits=limits)
    if not isinstance(pdu, SD):
        return pdu, None
    return pdu, decode_message(payload_octets(pdu))
