"""Typed errors of the AAL5 layer.

Transmit-side mistakes (an SDU too long, a field out of range) are raised as :class:`hw.errors.FieldError`.
Receive-side problems are *reported*, not raised: the reassembler keeps going and hands back one error
object per discarded CPCS-PDU (besides counting it), so a stream of cells is never stopped by a bad frame.
Each receive error is a :class:`hw.errors.DecodeError` naming the VC, the offset inside the CPCS-PDU
and the field at fault, so a caller may also raise it when it wants strictness.
"""

from __future__ import annotations

from hw.errors import DecodeError


class Aal5RxError(DecodeError):
    """A CPCS-PDU the receiver discarded (I.363.5 clause 9.2.2.2: the receiver checks CRC, Length and
    size, and discards the PDU when a check fails)."""

    kind = "rx"

    def __init__(self, vpi: int, vci: int, *, slot: int, cells: int, offset: int, field: str, reason: str) -> None:
        self.vpi = vpi
        self.vci = vci
        self.slot = slot  # cell slot at which the error was found
        self.cells = cells  # cells of the PDU discarded when the error was found
        super().__init__(f"AAL5 CPCS-PDU on VPI/VCI {vpi}/{vci}", offset, field, reason)


class Aal5CrcError(Aal5RxError):
    """CRC-32 mismatch: the register over the whole PDU did not end at the residue 0xC704DD7B."""

    kind = "crc"


class Aal5LengthError(Aal5RxError):
    """Length field larger than the PDU can hold, or so small that the pad would exceed 47 octets
    (the PDU has more cells than the Length needs)."""

    kind = "length"


class Aal5OversizeError(Aal5RxError):
    """More cells arrived without an end of PDU than the maximum SDU allows."""

    kind = "oversize"


class Aal5TimeoutError(Aal5RxError):
    """The reassembly timer expired: no cell on this VC for longer than the timeout."""

    kind = "timeout"


class Aal5NoBufferError(Aal5RxError):
    """The reassembly cell buffer pool was exhausted while this PDU was being collected."""

    kind = "no_buffer"


class Aal5AbortError(Aal5RxError):
    """A CPCS-PDU with Length 0: the abort function (I.363 / RFC 1483 section 3); not a fault of the
    link, but the PDU carries no SDU and is discarded, so it is reported with the others."""

    kind = "abort"


class Aal5ClosedError(Aal5RxError):
    """The VC was closed (its connection released) while a CPCS-PDU was being collected: the partial
    PDU is discarded (I.363.5 9.2.2: the CPCS of a released connection delivers nothing more)."""

    kind = "closed"
