"""Typed errors of the capture layer (pcap, pcapng, SunATM and ERF records).

Two families:

- :class:`CaptureDecodeError` and its subclasses: a capture file that cannot be read. Each names the
  file offset where the faulty header, block, record or option begins (``offset``), the field that
  was wrong (``field``) and why (``reason``), through :class:`hw.errors.DecodeError`; ``what`` is the
  file's name.
- :class:`CaptureFieldError`: a value handed to a writer or a record builder that the format cannot
  carry (a VPI over 255, a record over the snap length, a timestamp before 1970...), through
  :class:`hw.errors.FieldError`.

Both derive from :class:`CaptureError`, so a caller can catch every capture problem at once.
"""

from __future__ import annotations

from hw.errors import AtmemuError, DecodeError, FieldError


class CaptureError(AtmemuError):
    """Base of every error of the capture layer."""


class CaptureFieldError(CaptureError, FieldError):
    """A value given to a writer or record builder that the format cannot carry."""


class CaptureDecodeError(CaptureError, DecodeError):
    """A damaged or unsupported capture file; ``offset`` is where the faulty structure begins."""


class BadMagicError(CaptureDecodeError):
    """Neither a pcap magic number nor a pcapng Section Header Block (or a bad byte-order magic)."""


class UnsupportedVersionError(CaptureDecodeError):
    """A pcap major version other than 2, or a pcapng section whose major version is not 1."""


class TruncatedError(CaptureDecodeError):
    """The file ends inside a header, a block or a record."""


class RecordTooLongError(CaptureDecodeError):
    """A record longer than the snap length of its interface or than the reader's hard limit."""


class BlockLengthError(CaptureDecodeError):
    """A pcapng block length that is not a multiple of 4, smaller than the block's minimum, larger
    than the reader's limit, or inconsistent with the block's own fields."""


class BlockLengthMismatchError(BlockLengthError):
    """A pcapng block whose leading and trailing Block Total Length fields disagree."""


class UnknownInterfaceError(CaptureDecodeError):
    """A packet block that names an interface not declared (yet) in its section."""


class BadOptionError(CaptureDecodeError):
    """A pcapng option that overruns its block, or has a length its type does not allow."""


class BadFieldError(CaptureDecodeError):
    """A header field with a value the format forbids (reserved bits set, timestamp out of range...)."""
