"""Typed errors of the pcap link-layer codecs (SunATM, ERF).

A record that is not what its link type says raises :class:`LinkTypeDecodeError`, naming the offset
inside the record and the field at fault. An SSCOP PDU inside a record that is not valid raises the
SSCOP layer's own :class:`firmware.sscop.errors.SSCOPDecodeError`, with its offset counted from the
start of the record too.
"""

from __future__ import annotations

from hw.errors import AtmemuError, DecodeError


class LinkTypeError(AtmemuError):
    """Base of the link-layer codec errors."""


class LinkTypeDecodeError(LinkTypeError, DecodeError):
    """A record of a pcap link type that cannot be decoded: ``what`` names the link type."""
