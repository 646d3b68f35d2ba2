"""Typed errors of the SSCOP layer (ITU-T Q.2110).

A PDU that a Q.2110 receiver would discard as invalid (clause 7: unknown PDU type, not a whole
number of 32-bit words, wrong length for its type, pad longer than the part it pads, longer than the
negotiated maximum) is answered by the strict decoders with :class:`SSCOPDecodeError`, naming the
offset and the field at fault. A value out of range given to an encoder is a :class:`SSCOPFieldError`.
"""

from __future__ import annotations

from hw.errors import AtmemuError, DecodeError, FieldError


class SSCOPError(AtmemuError):
    """Base of every error of the SSCOP layer."""


class SSCOPDecodeError(SSCOPError, DecodeError):
    """Bytes that are not a valid SSCOP PDU.

    ``offset`` counts from the start of the enclosing frame when the decoder was given a base offset
    (a link-layer record), else from the start of the PDU. ``pdu_type`` is the type code read from the
    trailer, or None when the PDU was too short to hold one."""

    def __init__(self, offset: int, field: str, reason: str, *, pdu_type: int | None = None,
                 what: str = "SSCOP PDU") -> None:
        self.pdu_type = pdu_type
        super().__init__(what, offset, field, reason)


class SSCOPFieldError(SSCOPError, FieldError):
    """A field value given to an SSCOP encoder is out of range or inconsistent with the others."""
