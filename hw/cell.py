"""ATM cells (ITU-T I.361): UNI and NNI headers, the HEC of I.432.1, idle and unassigned cells.

A cell is 53 octets: a 5-octet header (4 octets of fields + HEC) and a 48-octet payload.
Cells in bulk are rows of a numpy ``uint8`` array of shape (n, 53); no Python object per cell.

UNI header: GFC(4) VPI(8) VCI(16) PTI(3) CLP(1) HEC(8).
NNI header:        VPI(12) VCI(16) PTI(3) CLP(1) HEC(8).

Bits are numbered in transmission order: octet 0 first, most significant bit of each octet first
(I.361 §2.1). One header is a :class:`CellHeader`; many headers are columns (:class:`HeaderColumns`)
packed by :func:`pack_headers` and unpacked by :func:`unpack_headers`.

The HEC kernels: :func:`hec_of` (four octets, callable from other kernels), :func:`hec_batch` over a
batch (numba kernel :func:`hec_batch_kernel`, plain twin :func:`hec_batch_twin`), :func:`stamp_hec`.
The receiver side (single-bit correction, detection mode) is :mod:`hw.hec_receiver`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numba as nb
import numpy as np

from hw.errors import DecodeError, FieldError

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


def _hec_slices(table: np.ndarray) -> np.ndarray:
    """Slicing-by-4 tables: ``HEC_SLICES[k, b]`` is the CRC-8 (no coset) of octet ``b`` followed by
    ``k`` zero octets. The CRC is linear, so the CRC of header octets b0 b1 b2 b3 is
    ``S[3,b0] ^ S[2,b1] ^ S[1,b2] ^ S[0,b3]``: four independent lookups instead of a chain of four."""
    slices = np.zeros((4, 256), dtype=np.uint8)
    slices[0] = table
    for k in range(1, 4):
        # one more zero octet after b: crc(b, 0 * k) = T[crc(b, 0 * (k-1))]
        slices[k] = table[slices[k - 1]]
    return slices


#: Slicing-by-4 CRC-8 tables for the batch HEC kernel (row k: octet followed by k zero octets).
HEC_SLICES = _hec_slices(HEC_TABLE)


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


# ---------------------------------------------------------------------------------------------------
# Header fields (I.361 §2.2) and pre-assigned values (I.361 Table 2, ATM Forum UNI 3.1/4.0 §2.2.1)
# ---------------------------------------------------------------------------------------------------

GFC_MAX = 0xF
VPI_MAX_UNI = 0xFF
VPI_MAX_NNI = 0xFFF
VCI_MAX = 0xFFFF
PTI_MAX = 0x7
CLP_MAX = 0x1

# Payload type identifier codes (I.361 §2.2.4, Table "PTI coding").
PTI_USER_DATA = 0b000  # user data cell, no congestion, ATM-user-to-ATM-user indication (AUU) 0
PTI_AUU = 0b001  # mask: AUU bit ("SDU type 1"); AAL5 marks the last cell of a CPCS-PDU with it
PTI_EFCI = 0b010  # mask: explicit forward congestion indication (congestion experienced)
PTI_OAM_F5_SEGMENT = 0b100  # segment OAM F5 flow cell
PTI_OAM_F5_END_TO_END = 0b101  # end-to-end OAM F5 flow cell
PTI_RM = 0b110  # resource management cell (I.371 / ATM Forum TM 4.0)
PTI_RESERVED = 0b111  # reserved for future functions

# Pre-assigned VCIs (I.361 Table 2; VCI 16..18 from the ATM Forum). VCIs 0..31 are reserved in every
# VP (ATM Forum UNI 3.1 §2.2.1) and are not for user connections.
VCI_UNASSIGNED = 0
VCI_META_SIGNALLING = 1
VCI_BROADCAST_SIGNALLING = 2
VCI_OAM_F4_SEGMENT = 3  # segment OAM F4 flow of the VP (I.610 §7.2.1)
VCI_OAM_F4_END_TO_END = 4  # end-to-end OAM F4 flow of the VP
VCI_SIGNALLING = 5  # point-to-point signalling (SAAL, Q.2931) on VPI 0
VCI_VP_RM = 6  # VP resource management
VCI_ILMI = 16  # ATM Forum ILMI on VPI 0
VCI_LANE_LECS = 17
VCI_PNNI = 18
VCI_RESERVED_MAX = 31
VCI_FIRST_USER = 32

SIGNALLING_VPI, SIGNALLING_VCI = 0, VCI_SIGNALLING
ILMI_VPI, ILMI_VCI = 0, VCI_ILMI


def vpi_max(nni: bool) -> int:
    return VPI_MAX_NNI if nni else VPI_MAX_UNI


def check_int(field: str, value: object, high: int) -> int:
    """``value`` as an int in 0..high, else :class:`FieldError` naming ``field`` (bools are refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise FieldError(field, value, f"an integer 0..{high}")
    if not 0 <= value <= high:
        raise FieldError(field, value, f"0..{high}")
    return int(value)


def check_octets(field: str, data: object, lengths: tuple[int, ...]) -> bytes:
    """``data`` (bytes-like or uint8 array) as bytes of one of ``lengths``, else :class:`FieldError`."""
    if not isinstance(data, (bytes, bytearray, memoryview, np.ndarray)):
        raise FieldError(field, type(data).__name__, "bytes")
    octets = bytes(np.asarray(data, dtype=np.uint8).ravel()) if isinstance(data, np.ndarray) else bytes(data)
    if len(octets) not in lengths:
        raise FieldError(field, f"{len(octets)} octets", " or ".join(f"{n} octets" for n in lengths))
    return octets


class HecError(DecodeError):
    """A header whose HEC does not match its first four octets (carries the syndrome)."""

    def __init__(self, what: str, received: int, computed: int) -> None:
        self.received = received
        self.computed = computed
        self.syndrome = received ^ computed
        super().__init__(what, 4, "HEC", f"received 0x{received:02X}, computed 0x{computed:02X}")


@dataclass(frozen=True)
class CellHeader:
    """One cell header (I.361 §2.2). ``nni`` selects the NNI layout (12-bit VPI, no GFC)."""

    vpi: int
    vci: int
    pti: int = PTI_USER_DATA
    clp: int = 0
    gfc: int = 0
    nni: bool = False

    def __post_init__(self) -> None:
        check_int("VPI", self.vpi, vpi_max(self.nni))
        check_int("VCI", self.vci, VCI_MAX)
        check_int("PTI", self.pti, PTI_MAX)
        check_int("CLP", self.clp, CLP_MAX)
        check_int("GFC", self.gfc, 0 if self.nni else GFC_MAX)  # no GFC field at the NNI

    # -- wire format --
    def fields_octets(self) -> bytes:
        """The four field octets (header without HEC)."""
        top = self.vpi >> 4 if self.nni else (self.gfc << 4) | (self.vpi >> 4)
        return bytes(
            (
                top,
                ((self.vpi & 0xF) << 4) | (self.vci >> 12),
                (self.vci >> 4) & 0xFF,
                ((self.vci & 0xF) << 4) | (self.pti << 1) | self.clp,
            )
        )

    def pack(self) -> bytes:
        """The five header octets, HEC included."""
        four = self.fields_octets()
        return four + bytes((hec(four),))

    @classmethod
    def unpack(cls, data: bytes, *, nni: bool = False, check_hec: bool = True) -> "CellHeader":
        """Header of a 5-octet header or a 53-octet cell. A HEC mismatch raises :class:`HecError`
        (correcting it is the receiver's job: :mod:`hw.hec_receiver`)."""
        octets = check_octets("header", data, (HEADER_OCTETS, CELL_OCTETS))
        if check_hec:
            computed = hec(octets[:4])
            if octets[4] != computed:
                raise HecError("cell header", octets[4], computed)
        o0, o1, o2, o3 = octets[:4]
        vpi_top = o0 if nni else o0 & 0xF
        return cls(
            vpi=(vpi_top << 4) | (o1 >> 4),
            vci=((o1 & 0xF) << 12) | (o2 << 4) | (o3 >> 4),
            pti=(o3 >> 1) & 0x7,
            clp=o3 & 1,
            gfc=0 if nni else o0 >> 4,
            nni=nni,
        )

    # -- meaning of the PTI (I.361 §2.2.4) --
    @property
    def is_user_data(self) -> bool:
        return self.pti < PTI_OAM_F5_SEGMENT

    @property
    def auu(self) -> bool:
        """ATM-user-to-ATM-user indication (user data cells only): AAL5's end-of-frame mark."""
        return self.is_user_data and bool(self.pti & PTI_AUU)

    @property
    def efci(self) -> bool:
        return self.is_user_data and bool(self.pti & PTI_EFCI)

    @property
    def is_oam_f5(self) -> bool:
        return self.pti in (PTI_OAM_F5_SEGMENT, PTI_OAM_F5_END_TO_END)

    @property
    def is_oam_f4(self) -> bool:
        return self.vci in (VCI_OAM_F4_SEGMENT, VCI_OAM_F4_END_TO_END)


def make_cell(header: CellHeader, payload: bytes = bytes(PAYLOAD_OCTETS)) -> bytes:
    """One 53-octet cell: the header (with its HEC) and a 48-octet payload."""
    if not isinstance(header, CellHeader):
        raise FieldError("header", type(header).__name__, "a CellHeader")
    return header.pack() + check_octets("payload", payload, (PAYLOAD_OCTETS,))


def parse_cell(cell: bytes, *, nni: bool = False, check_hec: bool = True) -> tuple[CellHeader, bytes]:
    """(header, 48-octet payload) of one 53-octet cell."""
    octets = check_octets("cell", cell, (CELL_OCTETS,))
    return CellHeader.unpack(octets, nni=nni, check_hec=check_hec), octets[HEADER_OCTETS:]


# ---------------------------------------------------------------------------------------------------
# Batches: headers as columns, cells as (n, 53) uint8 rows
# ---------------------------------------------------------------------------------------------------


class HeaderColumns(NamedTuple):
    """Header fields of n cells, one array per field (``gfc`` is all zero at the NNI)."""

    gfc: np.ndarray  # uint8
    vpi: np.ndarray  # uint16
    vci: np.ndarray  # uint16
    pti: np.ndarray  # uint8
    clp: np.ndarray  # uint8
    hec: np.ndarray  # uint8 (as received; see hec_batch for the computed one)


def _column(field: str, values: object, high: int, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise FieldError(field, f"dtype {arr.dtype}", f"integers 0..{high}")
    if arr.ndim > 1:
        raise FieldError(field, f"shape {arr.shape}", "a scalar or a 1-D array")
    if arr.ndim == 1 and arr.shape[0] != n:
        raise FieldError(field, f"{arr.shape[0]} values", f"{n} values (one per cell) or a scalar")
    bad = (arr < 0) | (arr > high)
    if np.any(bad):
        index = int(np.argmax(bad)) if arr.ndim else 0
        where = f"{field}[{index}]" if arr.ndim else field
        raise FieldError(where, int(arr.reshape(-1)[index]), f"0..{high}")
    return np.broadcast_to(arr.astype(np.uint32), (n,))


def check_cells(field: str, cells: object, min_cols: int = CELL_OCTETS, exact: bool = True) -> np.ndarray:
    """``cells`` if it is a 2-D uint8 array with ``min_cols`` columns (at least, unless ``exact``),
    else :class:`FieldError` naming ``field`` and what was wrong (type, dtype or shape)."""
    if not isinstance(cells, np.ndarray):
        raise FieldError(field, type(cells).__name__, "a numpy uint8 array of shape (n, 53)")
    if cells.dtype != np.uint8:
        raise FieldError(field, f"dtype {cells.dtype}", "uint8")
    if cells.ndim != 2 or (cells.shape[1] != min_cols if exact else cells.shape[1] < min_cols):
        want = f"shape (n, {min_cols})" if exact else f"shape (n, >= {min_cols})"
        raise FieldError(field, f"shape {cells.shape}", want)
    return cells


def pack_headers(
    vpi: object,
    vci: object,
    pti: object = 0,
    clp: object = 0,
    gfc: object = 0,
    *,
    nni: bool = False,
    n: int | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Pack n headers, HEC included, into an (n, 5) uint8 array (or into the first five columns of
    ``out``, e.g. an (n, 53) cell array). Fields are scalars or 1-D arrays of length n; ``n`` is taken
    from the arrays, from ``out`` or from the argument. Out-of-range values raise :class:`FieldError`
    naming the field and the index of the first bad value."""
    if n is None:
        lengths = [np.shape(v)[0] for v in (vpi, vci, pti, clp, gfc) if np.ndim(v) == 1]
        n = lengths[0] if lengths else (out.shape[0] if out is not None else 1)
    if out is None:
        out = np.empty((n, HEADER_OCTETS), dtype=np.uint8)
    else:
        check_cells("out", out, HEADER_OCTETS, exact=False)
        if out.shape[0] != n:
            raise FieldError("out", f"{out.shape[0]} rows", f"{n} rows")
    vpi_ = _column("VPI", vpi, vpi_max(nni), n)
    vci_ = _column("VCI", vci, VCI_MAX, n)
    pti_ = _column("PTI", pti, PTI_MAX, n)
    clp_ = _column("CLP", clp, CLP_MAX, n)
    gfc_ = _column("GFC", gfc, 0 if nni else GFC_MAX, n)
    out[:, 0] = (vpi_ >> 4) if nni else (gfc_ << 4) | (vpi_ >> 4)
    out[:, 1] = ((vpi_ & 0xF) << 4) | (vci_ >> 12)
    out[:, 2] = (vci_ >> 4) & 0xFF
    out[:, 3] = ((vci_ & 0xF) << 4) | (pti_ << 1) | clp_
    hec_batch_kernel(out, out[:, 4])
    return out


def unpack_headers(cells: np.ndarray, *, nni: bool = False) -> HeaderColumns:
    """Header fields of an (n, 53) cell array (or (n, 5) headers) as columns. The HEC is returned as
    received; checking or correcting it is :mod:`hw.hec_receiver`'s job."""
    check_cells("cells", cells, HEADER_OCTETS, exact=False)
    o0 = cells[:, 0].astype(np.uint16)
    o1 = cells[:, 1].astype(np.uint16)
    o2 = cells[:, 2].astype(np.uint16)
    o3 = cells[:, 3]
    vpi_top = o0 if nni else o0 & 0xF
    return HeaderColumns(
        gfc=np.zeros(len(cells), np.uint8) if nni else (cells[:, 0] >> 4),
        vpi=(vpi_top << 4) | (o1 >> 4),
        vci=((o1 & 0xF) << 12) | (o2 << 4) | (o3 >> 4).astype(np.uint16),
        pti=(o3 >> 1) & 0x7,
        clp=o3 & 1,
        hec=cells[:, 4].copy(),
    )


def make_cells(headers: np.ndarray, payloads: np.ndarray | bytes | int = 0) -> np.ndarray:
    """(n, 53) cells from (n, 5) headers and payloads: an (n, 48) array, one 48-octet payload for all,
    or one octet value to fill every payload with."""
    check_cells("headers", headers, HEADER_OCTETS)
    cells = np.empty((headers.shape[0], CELL_OCTETS), dtype=np.uint8)
    cells[:, :HEADER_OCTETS] = headers
    if isinstance(payloads, (int, np.integer)):
        cells[:, HEADER_OCTETS:] = check_int("payload octet", payloads, 0xFF)
    elif isinstance(payloads, np.ndarray) and payloads.ndim == 2:
        check_cells("payloads", payloads, PAYLOAD_OCTETS)
        if payloads.shape[0] != headers.shape[0]:
            raise FieldError("payloads", f"{payloads.shape[0]} rows", f"{headers.shape[0]} rows")
        cells[:, HEADER_OCTETS:] = payloads
    else:
        cells[:, HEADER_OCTETS:] = np.frombuffer(check_octets("payload", payloads, (PAYLOAD_OCTETS,)), np.uint8)
    return cells


# ---------------------------------------------------------------------------------------------------
# HEC over a batch (I.432.1 §4.3.2): numba kernel and plain twin, same slicing-by-4 algorithm
# ---------------------------------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True)
def hec_batch_kernel(cells, out):
    """HEC of each row of ``cells`` (any 2-D uint8 array with at least four columns) into ``out``.
    One thread is enough: the four lookups are independent, so LLVM keeps the loop well fed (well
    over 1 G headers/s on one core of the reference machine; see ``atmemu bench cells``)."""
    s0 = HEC_SLICES[0]
    s1 = HEC_SLICES[1]
    s2 = HEC_SLICES[2]
    s3 = HEC_SLICES[3]
    for i in range(cells.shape[0]):
        out[i] = s3[cells[i, 0]] ^ s2[cells[i, 1]] ^ s1[cells[i, 2]] ^ s0[cells[i, 3]] ^ HEC_COSET


def hec_batch_twin(cells, out) -> None:
    """Plain-Python twin of :func:`hec_batch_kernel` (same slicing-by-4 algorithm, no numba)."""
    s0, s1, s2, s3 = (HEC_SLICES[k].tolist() for k in range(4))
    for i, row in enumerate(cells[:, :4].tolist()):
        out[i] = s3[row[0]] ^ s2[row[1]] ^ s1[row[2]] ^ s0[row[3]] ^ HEC_COSET


def hec_batch(cells: np.ndarray) -> np.ndarray:
    """HEC computed over the first four octets of each row of an (n, 4), (n, 5) or (n, 53) uint8
    array: a (n,) uint8 array."""
    check_cells("cells", cells, 4, exact=False)
    out = np.empty(cells.shape[0], dtype=np.uint8)
    hec_batch_kernel(cells, out)
    return out


def stamp_hec(cells: np.ndarray) -> np.ndarray:
    """Write the correct HEC into octet 4 of every row of an (n, >= 5) uint8 array, in place; returns it."""
    check_cells("cells", cells, HEADER_OCTETS, exact=False)
    hec_batch_kernel(cells, cells[:, 4])
    return cells


def hec_ok(cells: np.ndarray) -> np.ndarray:
    """(n,) bool: the received HEC (octet 4) matches the first four octets."""
    return hec_batch(cells) == check_cells("cells", cells, HEADER_OCTETS, exact=False)[:, 4]


# ---------------------------------------------------------------------------------------------------
# Idle and unassigned cells
# ---------------------------------------------------------------------------------------------------

# Idle cells (I.432.1 §4.4, cell rate decoupling; header pattern from I.361 Table 2, "reserved for
# use of the physical layer"): header 00 00 00 01 + HEC, every payload octet 01101010.
IDLE_HEADER = bytes((0x00, 0x00, 0x00, 0x01, hec(b"\x00\x00\x00\x01")))
IDLE_PAYLOAD_OCTET = 0x6A
IDLE_CELL = IDLE_HEADER + bytes((IDLE_PAYLOAD_OCTET,)) * PAYLOAD_OCTETS
# Physical-layer cells (idle, physical-layer OAM): octets 00 00 00 0000PPP1 (I.361 Table 2).
_PHYSICAL_LAYER_MASK = np.array([0xFF, 0xFF, 0xFF, 0xF1], dtype=np.uint8)
_PHYSICAL_LAYER_VALUE = np.array([0x00, 0x00, 0x00, 0x01], dtype=np.uint8)
# Unassigned cells (I.361 Table 2): VPI 0, VCI 0, CLP 0; GFC (UNI) and PTI any value.
_UNASSIGNED_MASK_UNI = np.array([0x0F, 0xFF, 0xFF, 0xF1], dtype=np.uint8)
_UNASSIGNED_MASK_NNI = np.array([0xFF, 0xFF, 0xFF, 0xF1], dtype=np.uint8)


def idle_cells(n: int) -> np.ndarray:
    """(n, 53) idle cells."""
    check_int("n", n, 1 << 40)
    return np.tile(np.frombuffer(IDLE_CELL, dtype=np.uint8), (n, 1))


def unassigned_cells(n: int, *, gfc: int = 0, payload_octet: int = IDLE_PAYLOAD_OCTET) -> np.ndarray:
    """(n, 53) unassigned cells (VPI 0, VCI 0, PTI 0, CLP 0). I.361 leaves their payload open; it is
    filled with ``payload_octet``."""
    check_int("n", n, 1 << 40)
    return make_cells(pack_headers(0, 0, 0, 0, gfc, n=n), payload_octet)


def is_idle(cells: np.ndarray) -> np.ndarray:
    """(n,) bool: the cell's first four header octets are the idle pattern 00 00 00 01."""
    check_cells("cells", cells, 4, exact=False)
    return np.all(cells[:, :4] == _PHYSICAL_LAYER_VALUE, axis=1)


def is_physical_layer(cells: np.ndarray) -> np.ndarray:
    """(n,) bool: idle or physical-layer OAM cells (header 00 00 00 0000PPP1), never given to the ATM
    layer (I.432.1 §4.4)."""
    check_cells("cells", cells, 4, exact=False)
    return np.all((cells[:, :4] & _PHYSICAL_LAYER_MASK) == _PHYSICAL_LAYER_VALUE, axis=1)


def is_unassigned(cells: np.ndarray, *, nni: bool = False) -> np.ndarray:
    """(n,) bool: VPI 0, VCI 0 and CLP 0 (I.361 Table 2), whatever the GFC and PTI."""
    check_cells("cells", cells, 4, exact=False)
    mask = _UNASSIGNED_MASK_NNI if nni else _UNASSIGNED_MASK_UNI
    return np.all((cells[:, :4] & mask) == 0, axis=1)
