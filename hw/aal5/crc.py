"""The CRC-32 of the AAL5 CPCS-PDU trailer (ITU-T I.363.5 clause 9.2.2.2.1, "CRC field").

Generator G(x) = x^32 + x^26 + x^23 + x^22 + x^16 + x^12 + x^11 + x^10 + x^8 + x^7 + x^5 + x^4 + x^2 + x + 1
(0x04C11DB7), register preset to all ones, bits taken most significant first (not bit-reflected, unlike
the Ethernet FCS), and the ones complement of the remainder is sent. These are the CRC-32/BZIP2
parameters: the check value over b"123456789" is 0xFC891918.

A receiver that runs the register over the whole CPCS-PDU, CRC field included, ends (before the final
complement) at the constant residue 0xC704DD7B when the PDU is intact.

The fast path is a numba kernel using slicing-by-8 (eight 256-entry tables, eight octets per step);
its plain twin is the textbook one-table bytewise loop in plain Python. Both run the same register
update rule, so tests hold them to the same answer on random data.
"""

from __future__ import annotations

import zlib

import numba as nb
import numpy as np

CRC32_POLY = 0x04C11DB7
CRC32_INIT = 0xFFFFFFFF
CRC32_XOROUT = 0xFFFFFFFF
#: Register value after running over an intact PDU including its CRC field (before the complement).
CRC32_RESIDUE = 0xC704DD7B
#: CRC-32/BZIP2 (= AAL5) check value of b"123456789".
CRC32_CHECK = 0xFC891918


def _tables(poly: int) -> np.ndarray:
    """Slicing-by-8 tables: row 0 is the bytewise table T0[b] = (b << 24) mod G; row k is the
    contribution of an octet that sits k octets further from the end of an 8-octet block."""
    t = np.zeros((8, 256), dtype=np.uint32)
    for b in range(256):
        r = b << 24
        for _ in range(8):
            r = ((r << 1) ^ poly) & 0xFFFFFFFF if r & 0x80000000 else (r << 1) & 0xFFFFFFFF
        t[0, b] = r
    for k in range(1, 8):
        for b in range(256):
            prev = int(t[k - 1, b])
            t[k, b] = ((prev << 8) & 0xFFFFFFFF) ^ int(t[0, prev >> 24])
    return t


CRC32_TABLES = _tables(CRC32_POLY)
#: The bytewise table as a tuple of Python ints (used by the plain twins).
CRC32_TABLE_PY: tuple[int, ...] = tuple(int(v) for v in CRC32_TABLES[0])


# --------------------------------------------------------------------------------------------------
# numba kernels


@nb.njit(cache=True, nogil=True)
def crc32_update(reg, buf, start, stop):
    """Run the CRC register ``reg`` (uint32, no complement applied) over ``buf[start:stop]``.

    Slicing-by-8: the register is XORed onto the next four octets, then eight table lookups fold the
    whole 8-octet block in one step. Returns the new register value."""
    t = CRC32_TABLES
    r = np.uint32(reg)
    i = start
    while i + 8 <= stop:
        a = r ^ ((np.uint32(buf[i]) << 24) | (np.uint32(buf[i + 1]) << 16)
                 | (np.uint32(buf[i + 2]) << 8) | np.uint32(buf[i + 3]))
        r = (t[7, (a >> 24) & 0xFF] ^ t[6, (a >> 16) & 0xFF] ^ t[5, (a >> 8) & 0xFF] ^ t[4, a & 0xFF]
             ^ t[3, buf[i + 4]] ^ t[2, buf[i + 5]] ^ t[1, buf[i + 6]] ^ t[0, buf[i + 7]])
        i += 8
    while i < stop:
        r = np.uint32((r << 8) & 0xFFFFFFFF) ^ t[0, ((r >> 24) ^ buf[i]) & 0xFF]
        i += 1
    return np.uint32(r)


@nb.njit(cache=True, nogil=True)
def crc32_kernel(buf):
    """AAL5 CRC-32 of a whole uint8 array."""
    return np.uint32(crc32_update(np.uint32(0xFFFFFFFF), buf, 0, buf.shape[0]) ^ np.uint32(0xFFFFFFFF))


@nb.njit(cache=True, nogil=True)
def crc32_batch_kernel(buf, offsets, lengths, out):
    """CRC-32 of many frames held in one flat buffer: frame j is ``buf[offsets[j]:offsets[j]+lengths[j]]``."""
    for j in range(offsets.shape[0]):
        s = offsets[j]
        out[j] = crc32_update(np.uint32(0xFFFFFFFF), buf, s, s + lengths[j]) ^ np.uint32(0xFFFFFFFF)


# --------------------------------------------------------------------------------------------------
# plain twins (bytewise, one table, plain Python ints)


def crc32_update_twin(reg: int, data: bytes | bytearray | memoryview) -> int:
    """Bytewise twin of :func:`crc32_update` (register in, register out, no complement)."""
    table = CRC32_TABLE_PY
    r = reg
    for octet in bytes(data):
        r = ((r << 8) & 0xFFFFFFFF) ^ table[(r >> 24) ^ octet]
    return r


def crc32_twin(data: bytes | bytearray | memoryview) -> int:
    return crc32_update_twin(CRC32_INIT, data) ^ CRC32_XOROUT


#: Each octet with its bits in reverse order (bit 7 <-> bit 0), as a ``bytes.translate`` table.
REVERSED_OCTETS = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def _reverse32(value: int) -> int:
    r = REVERSED_OCTETS
    return r[value & 0xFF] << 24 | r[value >> 8 & 0xFF] << 16 | r[value >> 16 & 0xFF] << 8 | r[value >> 24]


def crc32_small(data: bytes) -> int:
    """The AAL5 CRC-32 of a few octets in plain Python, with no numpy or numba call: the fast form of
    :func:`crc32_twin` for the SAR's small frames. zlib computes the bit-reflected CRC-32 with the same
    generator, preset and final complement; fed every octet bit-reversed, its register is the
    bit-reverse of the AAL5 (most significant bit first) register, so reversing its result gives the
    AAL5 CRC. Tests hold it equal to the twin on random data."""
    return _reverse32(zlib.crc32(data.translate(REVERSED_OCTETS)))


def crc32_batch_twin(buf: bytes | np.ndarray, offsets, lengths) -> np.ndarray:
    raw = bytes(np.asarray(buf, dtype=np.uint8)) if not isinstance(buf, bytes) else buf
    return np.array(
        [crc32_twin(raw[int(o): int(o) + int(n)]) for o, n in zip(offsets, lengths)], dtype=np.uint32
    )


# --------------------------------------------------------------------------------------------------
# public API


def as_octets(data, field: str = "data") -> np.ndarray:
    """View ``data`` (bytes, bytearray, memoryview or a 1-D uint8 array) as a 1-D uint8 array, no copy
    when possible. Anything else raises a FieldError naming ``field``."""
    from hw.errors import FieldError

    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8 or data.ndim != 1:
            raise FieldError(field, f"array {data.dtype} {data.shape}", "1-D uint8 array or bytes")
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return np.frombuffer(data, dtype=np.uint8)
    raise FieldError(field, type(data).__name__, "bytes, bytearray, memoryview or 1-D uint8 array")


def crc32(data) -> int:
    """AAL5 CRC-32 (I.363.5 clause 9.2.2.2.1) of ``data``; ``crc32(b"123456789") == 0xFC891918``."""
    return int(crc32_kernel(as_octets(data)))


def crc32_register(data, reg: int = CRC32_INIT) -> int:
    """The raw register after running over ``data`` from ``reg`` (no final complement). Over a whole
    intact CPCS-PDU, CRC field included, this is :data:`CRC32_RESIDUE`."""
    return int(crc32_update(np.uint32(reg), as_octets(data), 0, len(data)))


def crc32_batch(buf, offsets, lengths) -> np.ndarray:
    """CRC-32 of many frames in one flat buffer (``offsets``/``lengths`` index it); returns uint32[n]."""
    from hw.errors import FieldError

    b = as_octets(buf, "buf")
    off = np.ascontiguousarray(offsets, dtype=np.int64)
    ln = np.ascontiguousarray(lengths, dtype=np.int64)
    if off.shape != ln.shape or off.ndim != 1:
        raise FieldError("offsets/lengths", (off.shape, ln.shape), "two 1-D arrays of the same length")
    if off.size and (off.min() < 0 or ln.min() < 0 or int((off + ln).max()) > b.shape[0]):
        bad = int(np.argmax((off < 0) | (ln < 0) | (off + ln > b.shape[0])))
        raise FieldError(f"frame[{bad}]", (int(off[bad]), int(ln[bad])), f"inside a buffer of {b.shape[0]} octets")
    out = np.empty(off.shape[0], dtype=np.uint32)
    crc32_batch_kernel(b, off, ln, out)
    return out
