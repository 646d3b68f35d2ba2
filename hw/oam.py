"""OAM F4/F5 cells (ITU-T I.610): fault management (AIS, RDI, loopback) and the CRC-10.

Flows (I.610 §7.2): an F4 flow belongs to a virtual path and rides VCI 3 (segment) or VCI 4
(end-to-end) of that VP; an F5 flow belongs to a virtual channel and is told apart by the PTI, 100
(segment) or 101 (end-to-end).

Payload (I.610 §10.1, common OAM cell fields), 48 octets::

    octet 0       OAM type (4 bits) | function type (4 bits)
    octets 1..45  function-specific field (45 octets)
    octets 46..47 reserved (6 bits, 0) | EDC: CRC-10 (10 bits)

The CRC-10 uses the generator x^10 + x^9 + x^5 + x^4 + x + 1 (0x233) over the 374 bits before it; a
receiver finds the whole 384-bit payload divisible by the generator. Unused octets of the
function-specific fields are coded 0x6A (I.610 §10.2).

Single cells are :class:`OamCell`; the builders :func:`loopback_cell`, :func:`ais_cell`,
:func:`rdi_cell` return 53 octets; :func:`parse_oam_cell` checks the CRC-10 and the codes and raises
:class:`OamError` naming the field. In bulk, :func:`crc10_ok` and :func:`stamp_crc10` run the numba
kernel :func:`oam_edc_kernel` (plain twin :func:`oam_edc_twin`) over (n, 53) cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numba as nb
import numpy as np

from hw.cell import (
    CELL_OCTETS,
    HEADER_OCTETS,
    PAYLOAD_OCTETS,
    PTI_OAM_F5_END_TO_END,
    PTI_OAM_F5_SEGMENT,
    PTI_USER_DATA,
    VCI_OAM_F4_END_TO_END,
    VCI_OAM_F4_SEGMENT,
    CellHeader,
    check_cells,
    check_int,
    check_octets,
)
from hw.errors import DecodeError, FieldError

# ---------------------------------------------------------------------------------------------------
# Codes (I.610 §10.1, Table "OAM type and function type identifiers")
# ---------------------------------------------------------------------------------------------------

OAM_TYPE_FAULT_MANAGEMENT = 0b0001
OAM_TYPE_PERFORMANCE_MANAGEMENT = 0b0010
OAM_TYPE_APS_COORDINATION = 0b0101
OAM_TYPE_ACTIVATION_DEACTIVATION = 0b1000
OAM_TYPE_SYSTEM_MANAGEMENT = 0b1111

# Fault management function types.
FM_AIS = 0b0000
FM_RDI = 0b0001  # remote defect indication (FERF in older texts)
FM_CONTINUITY_CHECK = 0b0100
FM_LOOPBACK = 0b1000

#: The function types each OAM type defines; anything else is rejected by the parser.
FUNCTION_TYPES: dict[int, dict[int, str]] = {
    OAM_TYPE_FAULT_MANAGEMENT: {
        FM_AIS: "AIS",
        FM_RDI: "RDI",
        FM_CONTINUITY_CHECK: "continuity check",
        FM_LOOPBACK: "loopback",
    },
    OAM_TYPE_PERFORMANCE_MANAGEMENT: {
        0b0000: "forward monitoring",
        0b0001: "backward reporting",
        0b0010: "monitoring and reporting",
    },
    OAM_TYPE_APS_COORDINATION: {0b0000: "group protection", 0b0001: "individual protection"},
    OAM_TYPE_ACTIVATION_DEACTIVATION: {
        0b0000: "performance monitoring",
        0b0001: "continuity check",
        0b0010: "forward performance monitoring and backward reporting",
    },
    # system management cells are for end systems only; I.610 leaves their function types open
    OAM_TYPE_SYSTEM_MANAGEMENT: {code: "system management" for code in range(16)},
}
OAM_TYPE_NAMES = {
    OAM_TYPE_FAULT_MANAGEMENT: "fault management",
    OAM_TYPE_PERFORMANCE_MANAGEMENT: "performance management",
    OAM_TYPE_APS_COORDINATION: "APS coordination protocol",
    OAM_TYPE_ACTIVATION_DEACTIVATION: "activation/deactivation",
    OAM_TYPE_SYSTEM_MANAGEMENT: "system management",
}

FUNCTION_SPECIFIC_OCTETS = 45
UNUSED_OCTET = 0x6A  # I.610 §10.2: unused octets of function-specific fields
ID_OCTETS = 16  # loopback location ID, source ID, defect location
ID_END_POINT = b"\xff" * ID_OCTETS  # loopback location ID "all ones": the end point of the connection/segment

# Offsets inside the 48-octet payload.
OFF_TYPES = 0
OFF_FUNCTION_SPECIFIC = 1
OFF_EDC = 46  # reserved 6 bits + CRC-10 in octets 46..47
# Loopback function-specific field (I.610 §10.2.4): indication(1) tag(4) location ID(16) source ID(16) unused(8).
OFF_LB_INDICATION = 1
OFF_LB_CORRELATION_TAG = 2
OFF_LB_LOCATION_ID = 6
OFF_LB_SOURCE_ID = 22
OFF_LB_UNUSED = 38
# AIS/RDI function-specific field (I.610 §10.2.1): defect type(1) defect location(16) unused(28).
OFF_DEFECT_TYPE = 1
OFF_DEFECT_LOCATION = 2
OFF_DEFECT_UNUSED = 18


class OamError(DecodeError):
    """An OAM cell that cannot be decoded; ``offset`` counts octets from the start of the cell."""


class Flow(Enum):
    F4 = "F4"  # virtual path
    F5 = "F5"  # virtual channel


class Scope(Enum):
    SEGMENT = "segment"
    END_TO_END = "end-to-end"


# ---------------------------------------------------------------------------------------------------
# CRC-10 (I.610 §10.1): byte-wise table, the same in the kernel and its twin
# ---------------------------------------------------------------------------------------------------

CRC10_POLY = 0x233  # x^10 + x^9 + x^5 + x^4 + x + 1, without the x^10 term
CRC10_MASK = 0x3FF


def _crc10_tables() -> tuple[np.ndarray, np.ndarray]:
    """Slicing-by-4 tables and a 6-bit table for the CRC-10 kernels.

    ``slices[k, b]``: remainder of b(x) * x^(10 + 8k) divided by the generator, i.e. the CRC-10 of
    octet b followed by k zero octets. The CRC is linear, so four octets b0..b3 entering a register
    ``crc`` give ``S3[x0] ^ S2[x1] ^ S1[x2] ^ S0[x3]``, where x0..x3 are the octets of
    (b0 b1 b2 b3) XOR (crc << 22): four independent lookups per four octets.
    ``six[v]``: remainder of v(x) * x^10 for a 6-bit v, for the 6 reserved bits before the EDC."""
    def step(crc: int, bits: int) -> int:
        for _ in range(bits):
            crc = ((crc << 1) ^ CRC10_POLY) & CRC10_MASK if crc & 0x200 else (crc << 1) & CRC10_MASK
        return crc

    slices = np.zeros((4, 256), dtype=np.uint16)
    for byte in range(256):
        slices[0, byte] = step(byte << 2, 8)  # the octet aligned on the top of the 10-bit register
    for k in range(1, 4):
        slices[k] = [step(int(v), 8) for v in slices[k - 1]]  # one more zero octet
    six = np.array([step(v << 4, 6) for v in range(64)], dtype=np.uint16)
    return slices, six


CRC10_SLICES, CRC10_SIX = _crc10_tables()
#: CRC10_TABLE[b]: remainder of b(x) * x^10 divided by the generator (byte-at-a-time table).
CRC10_TABLE = CRC10_SLICES[0]


def crc10(data: bytes) -> int:
    """CRC-10 of whole octets (initial 0, MSB first, no final XOR; the catalogue's CRC-10/ATM)."""
    crc = 0
    for octet in bytes(data):
        crc = ((crc << 8) & CRC10_MASK) ^ int(CRC10_TABLE[((crc >> 2) ^ octet) & 0xFF])
    return crc


@nb.njit(cache=True, nogil=True)
def oam_edc_kernel(cells, out):
    """EDC (CRC-10) each (n, 53) cell's OAM payload should carry: the CRC-10 of the 46 octets
    before the EDC octets and of the 6 reserved bits, into ``out`` (uint16). Slicing by 4 over
    octets 0..43 of the payload, then octets 44 and 45, then the 6 bits."""
    s0 = CRC10_SLICES[0]
    s1 = CRC10_SLICES[1]
    s2 = CRC10_SLICES[2]
    s3 = CRC10_SLICES[3]
    for i in range(cells.shape[0]):
        crc = 0
        for j in range(HEADER_OCTETS, HEADER_OCTETS + 44, 4):
            top = crc >> 2  # the register's 10 bits meet the group's first 10 bits
            low = (crc & 0x3) << 6
            crc = np.int64(
                s3[cells[i, j] ^ top] ^ s2[cells[i, j + 1] ^ low] ^ s1[cells[i, j + 2]] ^ s0[cells[i, j + 3]]
            )
        for j in range(HEADER_OCTETS + 44, HEADER_OCTETS + OFF_EDC):
            crc = ((crc << 8) & CRC10_MASK) ^ np.int64(s0[((crc >> 2) ^ cells[i, j]) & 0xFF])
        reserved = cells[i, HEADER_OCTETS + OFF_EDC] >> 2
        out[i] = ((crc << 6) & CRC10_MASK) ^ CRC10_SIX[(crc >> 4) ^ reserved]


def oam_edc_twin(cells, out) -> None:
    """Plain-Python twin of :func:`oam_edc_kernel` (same algorithm and tables, no numba)."""
    s0, s1, s2, s3 = (CRC10_SLICES[k].tolist() for k in range(4))
    six = CRC10_SIX.tolist()
    for i, row in enumerate(cells[:, HEADER_OCTETS:].tolist()):
        crc = 0
        for j in range(0, 44, 4):
            top, low = crc >> 2, (crc & 0x3) << 6
            crc = s3[row[j] ^ top] ^ s2[row[j + 1] ^ low] ^ s1[row[j + 2]] ^ s0[row[j + 3]]
        for octet in row[44:OFF_EDC]:
            crc = ((crc << 8) & CRC10_MASK) ^ s0[((crc >> 2) ^ octet) & 0xFF]
        out[i] = ((crc << 6) & CRC10_MASK) ^ six[(crc >> 4) ^ (row[OFF_EDC] >> 2)]


def received_edc(cells: np.ndarray) -> np.ndarray:
    """(n,) uint16: the CRC-10 field as received in each (n, 53) cell."""
    check_cells("cells", cells, CELL_OCTETS)
    hi = cells[:, HEADER_OCTETS + OFF_EDC].astype(np.uint16) & 0x3
    return (hi << 8) | cells[:, HEADER_OCTETS + OFF_EDC + 1]


def expected_edc(cells: np.ndarray) -> np.ndarray:
    """(n,) uint16: the CRC-10 each (n, 53) cell's payload should carry."""
    check_cells("cells", cells, CELL_OCTETS)
    out = np.empty(cells.shape[0], dtype=np.uint16)
    oam_edc_kernel(cells, out)
    return out


def crc10_ok(cells: np.ndarray) -> np.ndarray:
    """(n,) bool: each cell's OAM payload passes its CRC-10 check."""
    return expected_edc(cells) == received_edc(cells)


def stamp_crc10(cells: np.ndarray) -> np.ndarray:
    """Write the CRC-10 into each (n, 53) cell's payload in place (keeping the 6 reserved bits); returns it."""
    edc = expected_edc(cells)
    col = HEADER_OCTETS + OFF_EDC
    cells[:, col] = (cells[:, col] & 0xFC) | (edc >> 8).astype(np.uint8)
    cells[:, col + 1] = (edc & 0xFF).astype(np.uint8)
    return cells


# ---------------------------------------------------------------------------------------------------
# One OAM cell
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loopback:
    """Loopback function-specific field (I.610 §10.2.4)."""

    loopback_indication: bool  # True: to be looped back; False: has been looped back
    correlation_tag: int  # 32 bits, chosen by the originator to match the returned cell
    location_id: bytes = ID_END_POINT  # where to loop back (all ones: the end point)
    source_id: bytes = ID_END_POINT  # who sent it (all ones: not given)

    def pack(self) -> bytes:
        check_int("correlation tag", self.correlation_tag, 0xFFFFFFFF)
        field = (
            bytes((1 if self.loopback_indication else 0,))
            + self.correlation_tag.to_bytes(4, "big")
            + check_octets("loopback location ID", self.location_id, (ID_OCTETS,))
            + check_octets("source ID", self.source_id, (ID_OCTETS,))
        )
        return field + bytes((UNUSED_OCTET,)) * (FUNCTION_SPECIFIC_OCTETS - len(field))

    @classmethod
    def unpack(cls, field: bytes) -> "Loopback":
        indication = field[OFF_LB_INDICATION - 1]
        if indication & 0xFE:  # I.610 §10.2.4: 0000000x
            raise OamError(
                "OAM loopback cell", HEADER_OCTETS + OFF_LB_INDICATION, "loopback indication",
                f"0x{indication:02X} is not 0000000x",
            )
        return cls(
            loopback_indication=bool(indication),
            correlation_tag=int.from_bytes(field[OFF_LB_CORRELATION_TAG - 1 : OFF_LB_LOCATION_ID - 1], "big"),
            location_id=bytes(field[OFF_LB_LOCATION_ID - 1 : OFF_LB_SOURCE_ID - 1]),
            source_id=bytes(field[OFF_LB_SOURCE_ID - 1 : OFF_LB_UNUSED - 1]),
        )


@dataclass(frozen=True)
class DefectReport:
    """AIS/RDI function-specific field (I.610 §10.2.1); 0x6A throughout when not used."""

    defect_type: int = UNUSED_OCTET
    defect_location: bytes = bytes((UNUSED_OCTET,)) * ID_OCTETS

    def pack(self) -> bytes:
        field = bytes((check_int("defect type", self.defect_type, 0xFF),)) + check_octets(
            "defect location", self.defect_location, (ID_OCTETS,)
        )
        return field + bytes((UNUSED_OCTET,)) * (FUNCTION_SPECIFIC_OCTETS - len(field))

    @classmethod
    def unpack(cls, field: bytes) -> "DefectReport":
        return cls(defect_type=field[0], defect_location=bytes(field[1 : 1 + ID_OCTETS]))


@dataclass(frozen=True)
class OamCell:
    """One OAM cell: where it flows, its type codes and its 45-octet function-specific field."""

    vpi: int
    vci: int  # for F4 flows, 3 (segment) or 4 (end-to-end)
    flow: Flow
    scope: Scope
    oam_type: int
    function_type: int
    function_specific: bytes
    clp: int = 0
    gfc: int = 0
    nni: bool = False

    def header(self) -> CellHeader:
        if self.flow is Flow.F4:
            pti = PTI_USER_DATA
            want = VCI_OAM_F4_SEGMENT if self.scope is Scope.SEGMENT else VCI_OAM_F4_END_TO_END
            if self.vci != want:
                raise FieldError("VCI", self.vci, f"{want} for a {self.scope.value} F4 OAM cell")
        else:
            pti = PTI_OAM_F5_SEGMENT if self.scope is Scope.SEGMENT else PTI_OAM_F5_END_TO_END
        return CellHeader(vpi=self.vpi, vci=self.vci, pti=pti, clp=self.clp, gfc=self.gfc, nni=self.nni)

    def pack(self) -> bytes:
        """The 53 octets, HEC and CRC-10 included."""
        header = self.header().pack()
        check_int("OAM type", self.oam_type, 0xF)
        check_int("function type", self.function_type, 0xF)
        specific = check_octets("function-specific field", self.function_specific, (FUNCTION_SPECIFIC_OCTETS,))
        types = bytes(((self.oam_type << 4) | self.function_type,))
        cell = np.frombuffer(header + types + specific + b"\0\0", np.uint8).reshape(1, CELL_OCTETS).copy()
        return stamp_crc10(cell)[0].tobytes()

    @property
    def function_name(self) -> str:
        return FUNCTION_TYPES.get(self.oam_type, {}).get(self.function_type, "unknown")

    @property
    def loopback(self) -> Loopback:
        self._require(OAM_TYPE_FAULT_MANAGEMENT, FM_LOOPBACK)
        return Loopback.unpack(self.function_specific)

    @property
    def defect(self) -> DefectReport:
        if self.oam_type != OAM_TYPE_FAULT_MANAGEMENT or self.function_type not in (FM_AIS, FM_RDI):
            raise FieldError("function type", self.function_name, "AIS or RDI")
        return DefectReport.unpack(self.function_specific)

    def _require(self, oam_type: int, function_type: int) -> None:
        if (self.oam_type, self.function_type) != (oam_type, function_type):
            raise FieldError("function type", self.function_name, FUNCTION_TYPES[oam_type][function_type])


def _flow_fields(vpi: int, vci: int | None, flow: Flow, scope: Scope) -> tuple[int, Flow, Scope]:
    flow, scope = Flow(flow), Scope(scope)
    if flow is Flow.F4:
        if vci is not None:
            raise FieldError("VCI", vci, "None for an F4 cell (its VCI is 3 or 4, set by the scope)")
        return (VCI_OAM_F4_SEGMENT if scope is Scope.SEGMENT else VCI_OAM_F4_END_TO_END), flow, scope
    if vci is None:
        raise FieldError("VCI", vci, "the VC's VCI for an F5 cell")
    return vci, flow, scope


def loopback_cell(
    vpi: int,
    vci: int | None = None,
    *,
    flow: Flow = Flow.F5,
    scope: Scope = Scope.END_TO_END,
    correlation_tag: int = 0,
    loopback_indication: bool = True,
    location_id: bytes = ID_END_POINT,
    source_id: bytes = ID_END_POINT,
    clp: int = 0,
    gfc: int = 0,
    nni: bool = False,
) -> bytes:
    """A loopback cell (I.610 §10.2.4); for F4 flows leave ``vci`` out."""
    vci, flow, scope = _flow_fields(vpi, vci, flow, scope)
    lb = Loopback(loopback_indication, correlation_tag, location_id, source_id)
    return OamCell(vpi, vci, flow, scope, OAM_TYPE_FAULT_MANAGEMENT, FM_LOOPBACK, lb.pack(), clp, gfc, nni).pack()


def _defect_cell(function_type: int, vpi, vci, flow, scope, defect_type, defect_location, clp, gfc, nni) -> bytes:
    vci, flow, scope = _flow_fields(vpi, vci, flow, scope)
    report = DefectReport(defect_type, defect_location)
    return OamCell(vpi, vci, flow, scope, OAM_TYPE_FAULT_MANAGEMENT, function_type, report.pack(), clp, gfc, nni).pack()


def ais_cell(
    vpi: int,
    vci: int | None = None,
    *,
    flow: Flow = Flow.F5,
    scope: Scope = Scope.END_TO_END,
    defect_type: int = UNUSED_OCTET,
    defect_location: bytes = bytes((UNUSED_OCTET,)) * ID_OCTETS,
    clp: int = 0,
    gfc: int = 0,
    nni: bool = False,
) -> bytes:
    """An alarm indication signal cell (I.610 §10.2.1), sent downstream after a defect."""
    return _defect_cell(FM_AIS, vpi, vci, flow, scope, defect_type, defect_location, clp, gfc, nni)


def rdi_cell(
    vpi: int,
    vci: int | None = None,
    *,
    flow: Flow = Flow.F5,
    scope: Scope = Scope.END_TO_END,
    defect_type: int = UNUSED_OCTET,
    defect_location: bytes = bytes((UNUSED_OCTET,)) * ID_OCTETS,
    clp: int = 0,
    gfc: int = 0,
    nni: bool = False,
) -> bytes:
    """A remote defect indication cell (I.610 §10.2.1), sent upstream by the end that receives AIS."""
    return _defect_cell(FM_RDI, vpi, vci, flow, scope, defect_type, defect_location, clp, gfc, nni)


def parse_oam_cell(cell: bytes, *, nni: bool = False, check_hec: bool = True) -> OamCell:
    """Decode one 53-octet OAM cell. Raises :class:`OamError` (or :class:`hw.cell.HecError`) naming
    the field and its offset in the cell: not an OAM cell, CRC-10 mismatch, unknown codes, a bad
    loopback indication."""
    octets = check_octets("cell", cell, (CELL_OCTETS,))
    header = CellHeader.unpack(octets, nni=nni, check_hec=check_hec)
    if header.pti in (PTI_OAM_F5_SEGMENT, PTI_OAM_F5_END_TO_END):
        flow = Flow.F5
        scope = Scope.SEGMENT if header.pti == PTI_OAM_F5_SEGMENT else Scope.END_TO_END
    elif header.vci in (VCI_OAM_F4_SEGMENT, VCI_OAM_F4_END_TO_END) and header.pti < PTI_OAM_F5_SEGMENT:
        flow = Flow.F4
        scope = Scope.SEGMENT if header.vci == VCI_OAM_F4_SEGMENT else Scope.END_TO_END
    else:
        raise OamError(
            "OAM cell", 3, "PTI",
            f"PTI {header.pti:03b} on VCI {header.vci} is neither an F5 (PTI 10x) nor an F4 (VCI 3/4) OAM cell",
        )
    row = np.frombuffer(octets, np.uint8).reshape(1, CELL_OCTETS)
    edc_received, edc_expected = int(received_edc(row)[0]), int(expected_edc(row)[0])
    if edc_received != edc_expected:
        reason = f"received 0x{edc_received:03X}, computed 0x{edc_expected:03X}"
        raise OamError("OAM cell", HEADER_OCTETS + OFF_EDC, "CRC-10", reason)
    payload = octets[HEADER_OCTETS:]
    oam_type, function_type = payload[OFF_TYPES] >> 4, payload[OFF_TYPES] & 0xF
    if oam_type not in FUNCTION_TYPES:
        reason = f"{oam_type:04b} is not defined by I.610"
        raise OamError("OAM cell", HEADER_OCTETS + OFF_TYPES, "OAM type", reason)
    if function_type not in FUNCTION_TYPES[oam_type]:
        reason = f"{function_type:04b} is not defined for {OAM_TYPE_NAMES[oam_type]}"
        raise OamError("OAM cell", HEADER_OCTETS + OFF_TYPES, "function type", reason)
    oam = OamCell(
        vpi=header.vpi, vci=header.vci, flow=flow, scope=scope, oam_type=oam_type, function_type=function_type,
        function_specific=bytes(payload[OFF_FUNCTION_SPECIFIC:OFF_EDC]), clp=header.clp, gfc=header.gfc, nni=nni,
    )
    if (oam_type, function_type) == (OAM_TYPE_FAULT_MANAGEMENT, FM_LOOPBACK):
        oam.loopback  # validates the loopback indication octet
    return oam
