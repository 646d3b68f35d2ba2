"""Reference AAL5 (I.363.5): CRC-32 by polynomial long division, the CPCS-PDU and SAR, with ``bitstring``.

Independent of :mod:`hw.aal5`: no tables, no shift register. The CRC is the textbook definition
(I.363.5 clause 9.2.2.2.1): the remainder of x^32 * M(x) + x^k * (x^31 + ... + 1) divided by G(x), where the
second term is the effect of presetting the register to all ones (it complements the first 32 bits of
the message), and the CRC field is the ones complement of that remainder. Slow: for tests only.
Cell headers come from :mod:`hw.ref.cell`.
"""

from __future__ import annotations

from bitstring import BitArray, Bits, pack

from hw.ref import cell as ref_cell

#: G(x) = x^32 + x^26 + x^23 + x^22 + x^16 + x^12 + x^11 + x^10 + x^8 + x^7 + x^5 + x^4 + x^2 + x + 1
AAL5_GENERATOR = Bits(uint=(1 << 32) | 0x04C11DB7, length=33)
ALL_ONES_32 = Bits(uint=0xFFFFFFFF, length=32)


def crc32_register(data: bytes) -> int:
    """Register contents after ``data`` from the all-ones preset, before the final complement: the
    remainder of the augmented message (first 32 bits complemented) divided by G(x)."""
    work = BitArray.from_bytes(bytes(data)) + Bits.from_zeros(32)
    work[0:32] ^= ALL_ONES_32
    n = len(work) - 32
    i = work.find("0b1")
    while i is not None and 0 <= i < n:
        work[i: i + 33] ^= AAL5_GENERATOR
        i = work.find("0b1", start=i + 1)
    return work[n:].uint


def crc32(data: bytes) -> int:
    """The AAL5 CRC-32 field for ``data``: ones complement of :func:`crc32_register`."""
    return crc32_register(data) ^ 0xFFFFFFFF


def cpcs_pdu(sdu: bytes, uu: int = 0, cpi: int = 0) -> bytes:
    """SDU | pad | CPCS-UU | CPI | Length | CRC-32, laid out with a bitstring format (I.363.5 9.2.2.2)."""
    pad = (-(len(sdu) + 8)) % 48
    body = pack("bytes, bytes, uint8, uint8, uint16", bytes(sdu), bytes(pad), uu, cpi, len(sdu)).tobytes()
    return body + pack("uint32", crc32(body)).tobytes()


def parse_trailer(pdu: bytes) -> dict[str, int]:
    """The trailer fields of a CPCS-PDU: uu, cpi, length, crc."""
    uu, cpi, length, crc = Bits.from_bytes(bytes(pdu[-8:])).unpack("uint8, uint8, uint16, uint32")
    return {"uu": uu, "cpi": cpi, "length": length, "crc": crc}


def segment(sdu: bytes, vpi: int, vci: int, clp: int = 0, uu: int = 0, cpi: int = 0, nni: bool = False) -> list[bytes]:
    """53-octet cells of one SDU: PTI 000 on every cell but the last, which has AUU (PTI 001)."""
    pdu = cpcs_pdu(sdu, uu, cpi)
    count = len(pdu) // 48
    cells = []
    for k in range(count):
        head = ref_cell.pack_header(vpi=vpi, vci=vci, pti=1 if k == count - 1 else 0, clp=clp, nni=nni)
        cells.append(head + bytes((ref_cell.hec(head),)) + pdu[48 * k: 48 * (k + 1)])
    return cells
