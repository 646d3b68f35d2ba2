"""ATM cells (ITU-T I.361): UNI and NNI headers and the HEC of I.432.

A cell is 53 octets: a 5-octet header (4 octets of fields + HEC) and a 48-octet payload.
Cells in bulk are rows of a numpy ``uint8`` array of shape (n, 53); no Python object per cell.

UNI header: GFC(4) VPI(8) VCI(16) PTI(3) CLP(1) HEC(8).
NNI header:        VPI(12) VCI(16) PTI(3) CLP(1) HEC(8).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.errors import FieldError

CELL_OCTETS = 53
HEADER_OCTETS = 5
PAYLOAD_OCTETS = 48

# I.432 4.3.2: HEC = CRC-8 with generator x^8 + x^2 + x + 1 over the first four header octets,
# remainder XOR 01010101 (the coset, which improves delineation on long runs of zeros).
HEC_POLY = 0x07
HEC_COSET = 0x55


def _crc8_table(poly: int) -> np.ndarray:
    table = np.zeros(256, dtype=np.uint8)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table[byte] = crc
    return table


#: CRC-8 (poly 0x07, MSB first, no coset) of each octet value; used by the HEC kernels.
HEC_TABLE = _crc8_table(HEC_POLY)


@nb.njit(cache=True, nogil=True)
def hec_of(b0, b1, b2, b3):
    """HEC of four header octets (numba-callable from other kernels)."""
    crc = HEC_TABLE[b0]
    crc = HEC_TABLE[crc ^ b1]
    crc = HEC_TABLE[crc ^ b2]
    crc = HEC_TABLE[crc ^ b3]
    return np.uint8(crc ^ HEC_COSET)


def hec(header: bytes) -> int:
    """HEC octet of a cell header, given its first four octets (a fifth octet, if present, is ignored)."""
    if len(header) not in (4, 5):
        raise FieldError("header", bytes(header), "4 or 5 octets")
    crc = 0
    for octet in header[:4]:
        crc = int(HEC_TABLE[crc ^ octet])
    return crc ^ HEC_COSET
