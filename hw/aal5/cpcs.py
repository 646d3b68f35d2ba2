"""The AAL5 CPCS-PDU (ITU-T I.363.5 clause 9.2.2.2): SDU, pad, and the 8-octet trailer.

    CPCS-PDU = SDU | PAD (0..47) | CPCS-UU (1) | CPI (1) | Length (2) | CRC-32 (4)

The pad makes the whole PDU a multiple of 48 octets, so the trailer sits right-justified in the last
cell payload. Length counts the SDU octets only (1..65535; 0 is the abort function). The CRC covers
everything before it.
"""

from __future__ import annotations

import numpy as np

from hw.aal5.crc import CRC32_RESIDUE, as_octets, crc32, crc32_register
from hw.errors import DecodeError, FieldError

CELL_PAYLOAD = 48
TRAILER_OCTETS = 8
#: I.363.5 clause 9.2.2.2.1: the Length field is 16 bits, so an SDU holds at most 65535 octets.
MAX_SDU = 65535
#: Cells of the longest CPCS-PDU: ceil((65535 + 8) / 48) = 1366.
MAX_PDU_CELLS = (MAX_SDU + TRAILER_OCTETS + CELL_PAYLOAD - 1) // CELL_PAYLOAD


def pdu_cells(sdu_len: int) -> int:
    """Number of 48-octet cell payloads of the CPCS-PDU of an SDU of ``sdu_len`` octets."""
    return (sdu_len + TRAILER_OCTETS + CELL_PAYLOAD - 1) // CELL_PAYLOAD


def pad_octets(sdu_len: int) -> int:
    """Pad length (0..47) for an SDU of ``sdu_len`` octets."""
    return pdu_cells(sdu_len) * CELL_PAYLOAD - sdu_len - TRAILER_OCTETS


def check_octet(field: str, value: int) -> int:
    if not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= 0xFF:
        raise FieldError(field, value, "an integer 0..255")
    return int(value)


def check_sdu_length(length: int, field: str = "SDU length", max_sdu: int = MAX_SDU) -> None:
    if length > max_sdu:
        raise FieldError(field, length, f"at most {max_sdu} octets (I.363.5 9.2.2.2.1, 16-bit Length field)")


def cpcs_pdu(sdu, uu: int = 0, cpi: int = 0) -> bytes:
    """The CPCS-PDU carrying ``sdu``, with CPCS-UU ``uu`` and CPI ``cpi`` (I.363.5 clause 9.2.2.2).

    An empty SDU gives the 48-octet PDU with Length 0, which receivers treat as an abort."""
    octets = as_octets(sdu, "sdu")
    check_sdu_length(octets.shape[0])
    uu, cpi = check_octet("CPCS-UU", uu), check_octet("CPI", cpi)
    n = octets.shape[0]
    pdu = bytearray(pdu_cells(n) * CELL_PAYLOAD)
    pdu[:n] = octets.tobytes()
    end = len(pdu)
    pdu[end - 8] = uu
    pdu[end - 7] = cpi
    pdu[end - 6: end - 4] = n.to_bytes(2, "big")
    pdu[end - 4:] = crc32(memoryview(pdu)[: end - 4]).to_bytes(4, "big")
    return bytes(pdu)


def parse_cpcs_pdu(pdu) -> tuple[bytes, int, int]:
    """Check one whole CPCS-PDU and return (SDU, CPCS-UU, CPI).

    Raises :class:`hw.errors.DecodeError` naming the offset and field: a PDU that is not a multiple
    of 48 octets, a CRC mismatch, or a Length inconsistent with the PDU size."""
    octets = as_octets(pdu, "pdu")
    n = octets.shape[0]
    what = "AAL5 CPCS-PDU"
    if n == 0 or n % CELL_PAYLOAD:
        raise DecodeError(what, n, "CPCS-PDU", f"{n} octets: expected a positive multiple of 48")
    if n > MAX_PDU_CELLS * CELL_PAYLOAD:
        raise DecodeError(what, MAX_PDU_CELLS * CELL_PAYLOAD, "CPCS-PDU", f"{n} octets: more than {MAX_PDU_CELLS} cells")
    residue = crc32_register(octets)
    if residue != CRC32_RESIDUE:
        carried = int.from_bytes(octets[n - 4:].tobytes(), "big")
        computed = crc32(octets[: n - 4])
        raise DecodeError(what, n - 4, "CRC-32", f"carried 0x{carried:08X}, computed 0x{computed:08X}")
    length = int(octets[n - 6]) << 8 | int(octets[n - 5])
    if length + TRAILER_OCTETS > n:
        raise DecodeError(what, n - 6, "Length", f"{length} does not fit a PDU of {n} octets")
    if n - TRAILER_OCTETS - length > CELL_PAYLOAD - 1:
        raise DecodeError(what, n - 6, "Length", f"{length} leaves a pad of {n - 8 - length} octets (max 47)")
    return octets[:length].tobytes(), int(octets[n - 8]), int(octets[n - 7])
