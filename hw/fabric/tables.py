"""Translation tables: the VPI/VCI lookup CAM, leaf lists, and the outgoing header of each copy.

Hardware model. Each VC entry (registers VC.*) holds the lookup key (input port, VPI, VCI), control
bits and the head of its leaf list; each leaf entry (LEAF.*) holds an output port, the outgoing
VPI/VCI and the link to the next leaf. The lookup itself is a CAM: writing VC.CTRL.VALID=1 (or a new
key to a valid entry) installs the key; the kernel finds the entry in one probe sequence. The CAM is
emulated by an open-addressing hash table with linear probing (Knuth, TAOCP vol. 3, 6.4, algorithm L;
deletion by backward shift, algorithm R), twice as large as the VC table so probes stay short.

Reserved entries (set at reset, re-programmable):
- VC i (i < N), leaf i: port i, VPI 0/VCI 5 -> control port, header kept. I.361 / Q.2931: VPI 0,
  VCI 5 is the signalling channel; every port's signalling goes to the switch's own CPU.
- VC N+k, leaf N+k: from the control port to port k, header kept (the control port's cells carry this
  entry number as a routing tag, so the CPU can send any header, e.g. VPI 0/VCI 5, out of any port;
  untagged control-port cells are looked up normally, key VPI 0/VCI 32+k).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.cell import hec_of
from hw.fabric.errors import FabricConfigError

HASH_MULT = 0x9E3779B97F4A7C15  # Fibonacci hashing (Knuth 6.4)
SIGNALLING_VPI = 0
SIGNALLING_VCI = 5
CONTROL_TAG_VCI = 32  # key VCI of the reserved control -> port k entries is 32 + k


def cam_key(port: int, vpi: int, vci: int) -> int:
    return (int(port) << 24) | (int(vpi) << 16) | int(vci)


@nb.njit(cache=True, nogil=True, _nrt=False)
def cam_slot(key, size):
    """First probe position of a key in a CAM of ``size`` (a power of two) entries."""
    h = (np.uint64(key) * np.uint64(HASH_MULT)) >> np.uint64(32)
    return np.int64(h & np.uint64(size - 1))


def cam_slot_twin(key: int, size: int) -> int:
    return (((key * HASH_MULT) & 0xFFFFFFFFFFFFFFFF) >> 32) & (size - 1)


@nb.njit(cache=True, nogil=True, _nrt=False)
def cam_lookup(cam_key_arr, cam_vc_arr, key):
    """VC entry of a key, or -1."""
    size = cam_key_arr.shape[0]
    h = cam_slot(key, size)
    while True:
        k = cam_key_arr[h]
        if k == key:
            return cam_vc_arr[h]
        if k == -1:
            return -1
        h = (h + 1) & (size - 1)


class Cam:
    """The CAM's write side (what the hardware does when VC registers are written)."""

    def __init__(self, keys: np.ndarray, vcs: np.ndarray) -> None:
        self.keys = keys
        self.vcs = vcs
        self.size = keys.shape[0]
        self.installed: dict[int, int] = {}  # vc entry -> key it is installed under
        self.owner: dict[int, int] = {}  # key -> vc entry

    def install(self, vc: int, key: int) -> None:
        if self.installed.get(vc) == key:
            return
        other = self.owner.get(key)
        if other is not None and other != vc:
            port, vpi, vci = key >> 24, (key >> 16) & 0xFF, key & 0xFFFF
            raise FabricConfigError(
                f"VC[{vc}].KEY", f"port {port} VPI {vpi} VCI {vci}", f"a key not used by valid entry VC[{other}]"
            )
        self.remove(vc)
        h = cam_slot_twin(key, self.size)
        while self.keys[h] != -1:
            h = (h + 1) & (self.size - 1)
        self.keys[h] = key
        self.vcs[h] = vc
        self.installed[vc] = key
        self.owner[key] = vc

    def remove(self, vc: int) -> None:
        key = self.installed.pop(vc, None)
        if key is None:
            return
        del self.owner[key]
        mask = self.size - 1
        i = cam_slot_twin(key, self.size)
        while self.keys[i] != key:
            i = (i + 1) & mask
        # backward-shift deletion keeps every remaining key reachable from its home slot
        j = i
        while True:
            self.keys[i] = -1
            self.vcs[i] = -1
            while True:
                j = (j + 1) & mask
                if self.keys[j] == -1:
                    return
                home = cam_slot_twin(int(self.keys[j]), self.size)
                # move j back to i unless its home lies cyclically in (i, j]
                if (i <= j and not (i < home <= j)) or (i > j and not (home > i or home <= j)):
                    break
            self.keys[i] = self.keys[j]
            self.vcs[i] = self.vcs[j]
            i = j

    def clear(self) -> None:
        self.keys[:] = -1
        self.vcs[:] = -1
        self.installed.clear()
        self.owner.clear()


# -- outgoing header ------------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True, _nrt=False)
def write_header(out, gfc, vpi, vci, pti, clp):
    """UNI header (I.361: GFC 4, VPI 8, VCI 16, PTI 3, CLP 1) and its HEC (I.432) into out[0:5]."""
    b0 = ((gfc & 0xF) << 4) | ((vpi >> 4) & 0xF)
    b1 = ((vpi & 0xF) << 4) | ((vci >> 12) & 0xF)
    b2 = (vci >> 4) & 0xFF
    b3 = ((vci & 0xF) << 4) | ((pti & 7) << 1) | (clp & 1)
    out[0] = b0
    out[1] = b1
    out[2] = b2
    out[3] = b3
    out[4] = hec_of(np.uint8(b0), np.uint8(b1), np.uint8(b2), np.uint8(b3))


def header_twin(gfc: int, vpi: int, vci: int, pti: int, clp: int) -> bytes:
    """Plain-Python twin of :func:`write_header` (builds the header from the field definitions)."""
    from hw.cell import hec

    word = (gfc & 0xF) << 28 | (vpi & 0xFF) << 20 | (vci & 0xFFFF) << 4 | (pti & 7) << 1 | (clp & 1)
    head = word.to_bytes(4, "big")
    return head + bytes([hec(head)])


def parse_header_twin(cell: bytes) -> tuple[int, int, int, int, int]:
    """(GFC, VPI, VCI, PTI, CLP) of a UNI header."""
    word = int.from_bytes(bytes(cell[:4]), "big")
    return word >> 28, (word >> 20) & 0xFF, (word >> 4) & 0xFFFF, (word >> 1) & 7, word & 1


#: payload of a generated (test) cell when it has to be materialised (capture): in the spirit of the
#: ITU-T O.191 test cell, it carries the sequence number and a time stamp, then the idle pattern.
#:   octets 0..3 sequence number (big-endian), 4..11 arrival slot, 12..15 VC entry, 16..47 0x6A
TEST_FILL = 0x6A


@nb.njit(cache=True, nogil=True, _nrt=False)
def write_test_cell_payload(out, seq, slot, vc):
    for k in range(4):
        out[5 + k] = (seq >> (24 - 8 * k)) & 0xFF
    for k in range(8):
        out[9 + k] = (slot >> (56 - 8 * k)) & 0xFF
    for k in range(4):
        out[17 + k] = (vc >> (24 - 8 * k)) & 0xFF
    for k in range(21, 53):
        out[k] = TEST_FILL


def payload_of_test_cell(seq: int, slot: int, vc: int) -> bytes:
    return seq.to_bytes(4, "big") + slot.to_bytes(8, "big") + vc.to_bytes(4, "big") + bytes([TEST_FILL]) * 32


def parse_test_cell_payload(payload: bytes) -> tuple[int, int, int]:
    """(sequence number, arrival slot, VC entry) of a generated cell's payload (48 octets)."""
    p = bytes(payload)
    return int.from_bytes(p[0:4], "big"), int.from_bytes(p[4:12], "big"), int.from_bytes(p[12:16], "big")
