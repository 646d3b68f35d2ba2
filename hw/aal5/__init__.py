"""AAL5 (ITU-T I.363.5): the CPCS-PDU and its CRC-32, segmentation into cells, reassembly per VC.

    crc32(data) -> int                              I.363.5 9.2.2.2.1, hw.aal5.crc
    cpcs_pdu(sdu, uu=0, cpi=0) -> bytes             I.363.5 9.2.2.2,   hw.aal5.cpcs
    segment(sdu, vpi, vci, clp=0) -> (n, 53) uint8  I.363.5 9.1,       hw.aal5.sar
    segment_batch(buf, offsets, lengths, vpi, vci)  many frames at once
    Reassembler(...).feed(cells, slot)              per-VC reassembly, hw.aal5.reassembly

Every numba kernel here has a plain-Python twin beside it (``*_twin``, ``TwinEngine``).
"""

from hw.aal5.cpcs import MAX_PDU_CELLS, MAX_SDU, cpcs_pdu, pad_octets, parse_cpcs_pdu, pdu_cells
from hw.aal5.crc import CRC32_CHECK, CRC32_RESIDUE, crc32, crc32_batch, crc32_register, crc32_twin
from hw.aal5.errors import (Aal5AbortError, Aal5ClosedError, Aal5CrcError, Aal5LengthError, Aal5NoBufferError, Aal5OversizeError,
                            Aal5RxError, Aal5TimeoutError)
from hw.aal5.reassembly import COUNTER_NAMES, Reassembled, Reassembler, Sdu
from hw.aal5.sar import pack_sdus, segment, segment_batch, segment_batch_twin

__all__ = [
    "MAX_PDU_CELLS", "MAX_SDU", "cpcs_pdu", "pad_octets", "parse_cpcs_pdu", "pdu_cells",
    "CRC32_CHECK", "CRC32_RESIDUE", "crc32", "crc32_batch", "crc32_register", "crc32_twin",
    "Aal5AbortError", "Aal5ClosedError", "Aal5CrcError", "Aal5LengthError", "Aal5NoBufferError", "Aal5OversizeError",
    "Aal5RxError", "Aal5TimeoutError",
    "COUNTER_NAMES", "Reassembled", "Reassembler", "Sdu",
    "pack_sdus", "segment", "segment_batch", "segment_batch_twin",
]
