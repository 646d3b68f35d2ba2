"""Reference cell header fields, HEC and OAM CRC-10, bit by bit with ``bitstring``.

Independent of :mod:`hw.cell` and :mod:`hw.oam`: fields are laid out with ``bitstring`` format
strings straight from I.361 §2.1 (Figures "Header structure at UNI/NNI"), and the CRCs are long
division of bit strings by the generator polynomial, as I.432.1 §4.3.2 and I.610 §10.1 define them.
"""

from __future__ import annotations

from bitstring import BitArray, Bits, pack

# I.361 §2.1: (field, width in bits) in transmission order.
UNI_LAYOUT = (("gfc", 4), ("vpi", 8), ("vci", 16), ("pti", 3), ("clp", 1))
NNI_LAYOUT = (("vpi", 12), ("vci", 16), ("pti", 3), ("clp", 1))


def _format(layout: tuple[tuple[str, int], ...], named: bool) -> str:
    return ", ".join(f"uint{width}={name}" if named else f"uint{width}" for name, width in layout)

# Generators as bit strings, highest power first.
HEC_GENERATOR = Bits("0b100000111")  # x^8 + x^2 + x + 1 (I.432.1 §4.3.2)
HEC_COSET = Bits("0b01010101")  # added (mod 2) to the remainder (I.432.1 §4.3.2)
CRC10_GENERATOR = Bits("0b11000110011")  # x^10 + x^9 + x^5 + x^4 + x + 1 (I.610 §10.1)


def pack_header(*, vpi: int, vci: int, pti: int = 0, clp: int = 0, gfc: int = 0, nni: bool = False) -> bytes:
    """The four field octets of a header (no HEC)."""
    if nni:
        return pack(_format(NNI_LAYOUT, True), vpi=vpi, vci=vci, pti=pti, clp=clp).tobytes()
    return pack(_format(UNI_LAYOUT, True), gfc=gfc, vpi=vpi, vci=vci, pti=pti, clp=clp).tobytes()


def unpack_header(octets: bytes, *, nni: bool = False) -> dict[str, int]:
    """Fields of a 5-octet header: gfc (0 at the NNI), vpi, vci, pti, clp and the received hec."""
    bits = Bits.from_bytes(bytes(octets[:5]))
    layout = NNI_LAYOUT if nni else UNI_LAYOUT
    fields = dict(zip((name for name, _ in layout), bits[:32].unpack(_format(layout, False))))
    fields.setdefault("gfc", 0)
    fields["hec"] = bits[32:40].uint
    return fields


def remainder(message: Bits, generator: Bits) -> Bits:
    """Remainder of message(x) * x^r divided by generator(x) (r = degree), by long division."""
    degree = len(generator) - 1
    work = BitArray(message) + Bits.from_zeros(degree)
    for i in range(len(message)):
        if work[i]:
            work[i : i + degree + 1] ^= generator
    return Bits(work[len(message) :])


def syndrome(codeword: Bits, generator: Bits) -> Bits:
    """Remainder of codeword(x) divided by generator(x): zero for a codeword."""
    degree = len(generator) - 1
    work = BitArray(codeword)
    for i in range(len(codeword) - degree):
        if work[i]:
            work[i : i + degree + 1] ^= generator
    return Bits(work[len(codeword) - degree :])


def hec(header: bytes) -> int:
    """HEC of the first four octets of a header."""
    return (remainder(Bits.from_bytes(bytes(header[:4])), HEC_GENERATOR) ^ HEC_COSET).uint


def crc8(data: bytes) -> int:
    """CRC-8 with the HEC generator, no coset, over any octets (the catalogue's CRC-8/SMBUS)."""
    return remainder(Bits.from_bytes(bytes(data)), HEC_GENERATOR).uint


def header_syndrome(header: bytes) -> int:
    """Syndrome of a received 5-octet header: 0 when the HEC matches (the coset removed first)."""
    bits = BitArray.from_bytes(bytes(header[:5]))
    bits[32:40] ^= HEC_COSET
    return syndrome(bits, HEC_GENERATOR).uint


def crc10(data: bytes) -> int:
    """CRC-10 of any octets (generator 0x233, initial 0, MSB first, no final XOR)."""
    return remainder(Bits.from_bytes(bytes(data)), CRC10_GENERATOR).uint


def oam_crc10(payload: bytes) -> int:
    """The EDC of a 48-octet OAM payload: CRC-10 of the 374 bits before the CRC-10 field (I.610 §10.1)."""
    return remainder(Bits.from_bytes(bytes(payload))[:374], CRC10_GENERATOR).uint


def oam_crc10_ok(payload: bytes) -> bool:
    """The 48-octet payload, CRC-10 field included, is a codeword."""
    return syndrome(Bits.from_bytes(bytes(payload)), CRC10_GENERATOR).uint == 0
