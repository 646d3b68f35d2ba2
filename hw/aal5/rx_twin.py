"""Plain-Python twin of the AAL5 reassembly kernel (hw.aal5.rx_kernel): the same rules in the same
order, written with a dict of VCs, lists of cell payloads and the bytewise CRC; the buffer pool is a
count of free cells. Tests hold the two to identical SDUs, error records and counters.
"""

from __future__ import annotations

import numpy as np

from hw.aal5.cpcs import CELL_PAYLOAD, TRAILER_OCTETS, pdu_cells
from hw.aal5.crc import CRC32_INIT, CRC32_RESIDUE, crc32_update_twin
from hw.aal5.rx_records import (ASSEMBLING, C_DELIVERED, C_IN, C_NO_VC, C_NOT_USER, C_PENDING, C_UNASSIGNED,
                                COUNTER_NAMES, DISCARDING, F_DELIVERED, HEADER_OCTETS, IDLE, K_ABORT, K_CLOSED, K_CRC,
                                K_LENGTH, K_NO_BUFFER, K_OVERSIZE, K_TIMEOUT, KIND_CELL_COUNTER,
                                KIND_PDU_COUNTER, O_DELIVERED, Reassembled, frames_from)


class _TwinVc:
    __slots__ = ("key", "state", "reg", "payloads", "last", "max_sdu", "discard")

    def __init__(self, key: int, max_sdu: int) -> None:
        self.key = key
        self.state = IDLE
        self.reg = CRC32_INIT
        self.payloads: list[bytes] = []
        self.last = 0
        self.max_sdu = max_sdu
        self.discard = 0


class TwinEngine:
    """Plain-Python twin of :class:`KernelEngine`: a dict of VCs, lists of payloads, bytewise CRC; the
    pool is a count of free cell buffers. Same rules, same order, same counters and records."""

    def __init__(self, max_vcs: int, pool_cells: int, default_max_sdu: int) -> None:
        self.vcs: dict[int, _TwinVc] = {}
        self.max_vcs = max_vcs
        self.pool_cells = pool_cells
        self.free = pool_cells
        self.default_max_sdu = default_max_sdu
        self.cnt = np.zeros(len(COUNTER_NAMES), np.int64)

    def _vc(self, key: int) -> _TwinVc | None:
        vc = self.vcs.get(key)
        if vc is None and len(self.vcs) < self.max_vcs:
            vc = self.vcs[key] = _TwinVc(key, self.default_max_sdu)
        return vc

    def set_max_sdu(self, key: int, max_sdu: int) -> bool:
        vc = self._vc(key)
        if vc is None:
            return False
        vc.max_sdu = max_sdu
        return True

    @property
    def n_vcs(self) -> int:
        return len(self.vcs)

    def _drop(self, vc: _TwinVc, kind: int, slot: int, a: int, b: int, c: int, extra: int, errs: list) -> int:
        held = len(vc.payloads)
        cc = int(KIND_CELL_COUNTER[kind])
        self.cnt[cc] += held + extra
        self.cnt[KIND_PDU_COUNTER[kind]] += 1
        self.cnt[C_PENDING] -= held
        self.free += held
        vc.payloads = []
        errs.append((kind, vc.key, slot, held + extra, a, b, c))
        return cc

    def close(self, key: int, slot: int) -> tuple | None:
        """Discard VC ``key``'s partial PDU (see :meth:`KernelEngine.close`)."""
        vc = self.vcs.get(key)
        if vc is None:
            return None
        record = None
        if vc.state == ASSEMBLING:
            errs: list = []
            self._drop(vc, K_CLOSED, slot, 0, 0, 0, 0, errs)
            record = errs[0]
        vc.state = IDLE
        vc.max_sdu = self.default_max_sdu
        return record

    def run(self, cells, slots, now, timeout, abort, nni) -> Reassembled:
        cnt = self.cnt
        data = bytearray()
        frames: list[tuple] = []
        errs: list[tuple] = []
        for i in range(cells.shape[0]):
            row = cells[i].tobytes()
            cnt[C_IN] += 1
            pti = (row[3] >> 1) & 0x7
            if pti >= 4:
                cnt[C_NOT_USER] += 1
                continue
            vpi = (row[0] << 4 | row[1] >> 4) if nni else ((row[0] & 0x0F) << 4 | row[1] >> 4)
            vci = (row[1] & 0x0F) << 12 | row[2] << 4 | row[3] >> 4
            if vpi == 0 and vci == 0:  # unassigned or idle cell
                cnt[C_UNASSIGNED] += 1
                continue
            vc = self._vc(vpi << 16 | vci)
            if vc is None:
                cnt[C_NO_VC] += 1
                continue
            t = int(slots[i])
            if timeout >= 0 and vc.state != IDLE and t - vc.last > timeout:
                if vc.state == ASSEMBLING:
                    self._drop(vc, K_TIMEOUT, t, vc.last, timeout, 0, 0, errs)
                vc.state = IDLE
            vc.last = t
            auu = pti & 1
            if vc.state == DISCARDING:
                cnt[vc.discard] += 1
                vc.state = IDLE if auu else DISCARDING
                continue
            if vc.state == IDLE:
                vc.reg = CRC32_INIT
                vc.payloads = []
                vc.state = ASSEMBLING
            max_cells = pdu_cells(vc.max_sdu)
            if len(vc.payloads) + 1 > max_cells:
                vc.discard = self._drop(vc, K_OVERSIZE, t, max_cells, vc.max_sdu, 0, 1, errs)
                vc.state = IDLE if auu else DISCARDING
                continue
            if self.free == 0:
                vc.discard = self._drop(vc, K_NO_BUFFER, t, self.pool_cells, 0, 0, 1, errs)
                vc.state = IDLE if auu else DISCARDING
                continue
            self.free -= 1
            payload = row[HEADER_OCTETS:]
            vc.payloads.append(payload)
            vc.reg = crc32_update_twin(vc.reg, payload)
            cnt[C_PENDING] += 1
            if not auu:
                continue
            vc.state = IDLE
            n = len(vc.payloads)
            octets = n * CELL_PAYLOAD
            length = payload[42] << 8 | payload[43]
            if vc.reg != CRC32_RESIDUE:
                self._drop(vc, K_CRC, t, int.from_bytes(payload[44:48], "big"), vc.reg, octets, 0, errs)
            elif length + TRAILER_OCTETS > octets or octets - TRAILER_OCTETS - length > CELL_PAYLOAD - 1:
                self._drop(vc, K_LENGTH, t, length, octets, 0, 0, errs)
            elif length > vc.max_sdu:
                self._drop(vc, K_OVERSIZE, t, length, vc.max_sdu, 1, 0, errs)
            elif length == 0 and abort:
                self._drop(vc, K_ABORT, t, 0, 0, 0, 0, errs)
            else:
                frames.append((len(data), length, vc.key, payload[40], payload[41], t, n))
                data += b"".join(vc.payloads)[:length]
                cnt[C_DELIVERED] += n
                cnt[F_DELIVERED] += 1
                cnt[O_DELIVERED] += length
                cnt[C_PENDING] -= n
                self.free += n
                vc.payloads = []
        if timeout >= 0:
            for vc in self.vcs.values():
                if vc.state != IDLE and now - vc.last > timeout:
                    if vc.state == ASSEMBLING:
                        self._drop(vc, K_TIMEOUT, now, vc.last, timeout, 0, 0, errs)
                    vc.state = IDLE
        fr = np.array(frames, dtype=np.int64).reshape(-1, 7)
        er = np.array(errs, dtype=np.int64).reshape(-1, 7)
        return frames_from(np.frombuffer(bytes(data), np.uint8), fr, er)


