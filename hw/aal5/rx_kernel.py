"""The AAL5 reassembly kernel (numba) and the engine that holds its state in numpy arrays.

State, as a SAR chip keeps it: a connection table (open-addressing hash of VPI << 16 | VCI to a VC
slot), per-VC registers (state, CRC register, cells held, head and tail of its buffer chain, slot of
its last cell, maximum SDU), and a pool of 48-octet cell buffers with a free stack, shared by all
VCs. The rules are in hw.aal5.reassembly; the plain twin is hw.aal5.rx_twin.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hw.aal5.cpcs import CELL_PAYLOAD, TRAILER_OCTETS
from hw.aal5.crc import CRC32_RESIDUE, crc32_small, crc32_update
from hw.aal5.rx_records import (ASSEMBLING, C_DELIVERED, C_IN, C_NO_VC, C_NOT_USER, C_PENDING, C_UNASSIGNED,
                                CELL_OCTETS, COUNTER_NAMES, DISCARDING, F_DELIVERED, HEADER_OCTETS, IDLE,
                                K_ABORT, K_CLOSED, K_CRC, K_LENGTH, K_NO_BUFFER, K_OVERSIZE, K_TIMEOUT,
                                KIND_CELL_COUNTER, KIND_PDU_COUNTER, O_DELIVERED, Reassembled, frames_from)

_ONE_CELL_MAX_LENGTH = CELL_PAYLOAD - TRAILER_OCTETS  # the longest SDU of a one-cell CPCS-PDU: 40 octets

# Scalars of the kernel state
S_NVCS, S_FREE_TOP = 0, 1


@nb.njit(cache=True, nogil=True)
def vc_slot(ht_key, ht_vc, vc_key, sc, key):
    """Slot of VC ``key`` (VPI << 16 | VCI) in the connection table, inserting it when new.
    Returns (slot, new), slot -1 when the table is full. Open addressing, linear probing."""
    mask = ht_key.shape[0] - 1
    h = ((key * 0x9E3779B1) >> 8) & mask
    while True:
        k = ht_key[h]
        if k == key:
            return ht_vc[h], False
        if k < 0:
            v = sc[S_NVCS]
            if v >= vc_key.shape[0]:
                return -1, False
            ht_key[h] = key
            ht_vc[h] = v
            vc_key[v] = key
            sc[S_NVCS] = v + 1
            return v, True
        h = (h + 1) & mask


@nb.njit(cache=True, nogil=True)
def _free_chain(head, pool_next, free_stack, sc):
    p = head
    top = sc[S_FREE_TOP]
    while p >= 0:
        nxt = pool_next[p]
        free_stack[top] = p
        top += 1
        p = nxt
    sc[S_FREE_TOP] = top


@nb.njit(cache=True, nogil=True)
def _record(errs, ne, kind, key, slot, cells, a, b, c):
    errs[ne, 0] = kind
    errs[ne, 1] = key
    errs[ne, 2] = slot
    errs[ne, 3] = cells
    errs[ne, 4] = a
    errs[ne, 5] = b
    errs[ne, 6] = c
    return ne + 1


@nb.njit(cache=True, nogil=True)
def _drop_pdu(v, kind, slot, a, b, c, vc_key, vc_cells, vc_head, cnt, pool_next, free_stack, sc, errs, ne, extra):
    """Discard VC v's partial PDU (plus ``extra`` cells not buffered) as an error of ``kind``."""
    held = vc_cells[v]
    cc = KIND_CELL_COUNTER[kind]
    cnt[cc] += held + extra
    cnt[KIND_PDU_COUNTER[kind]] += 1
    cnt[C_PENDING] -= held
    _free_chain(vc_head[v], pool_next, free_stack, sc)
    vc_head[v] = -1
    vc_cells[v] = 0
    return _record(errs, ne, kind, vc_key[v], slot, held + extra, a, b, c), cc


@nb.njit(cache=True, nogil=True)
def reassemble_kernel(cells, slots, now, timeout, abort_on_zero, nni, default_max_sdu,
                      ht_key, ht_vc, vc_key, vc_state, vc_reg, vc_cells, vc_head, vc_tail, vc_last,
                      vc_max_sdu, vc_discard, pool, pool_next, free_stack, sc, cnt,
                      out_data, fr, errs):
    """Reassemble a batch of cells (rows of ``cells``, arrival slot ``slots[i]``), then run the
    reassembly timer of every VC at slot ``now``. ``timeout`` < 0 disables the timer.

    Delivered SDUs go to ``out_data`` with one row of ``fr`` per frame:
    (offset, length, key, CPCS-UU, CPI, slot, cells). Discarded PDUs add one row of ``errs``:
    (kind, key, slot, cells, a, b, c) (a, b, c: details of the kind). Returns (frames, octets, errors)."""
    nf = 0
    nd = 0
    ne = 0
    last_key = -1
    v = -1
    for i in range(cells.shape[0]):
        cnt[C_IN] += 1
        row = cells[i]
        b3 = row[3]
        if b3 & 0x08:  # PTI 1xx: OAM F5 (100, 101), RM (110), reserved (111): I.361 2.2.4
            cnt[C_NOT_USER] += 1
            continue
        if nni:
            vpi = (np.int64(row[0]) << 4) | (np.int64(row[1]) >> 4)
        else:
            vpi = (np.int64(row[0] & 0x0F) << 4) | (np.int64(row[1]) >> 4)
        vci = (np.int64(row[1] & 0x0F) << 12) | (np.int64(row[2]) << 4) | (np.int64(b3) >> 4)
        key = (vpi << 16) | vci
        if key == 0:  # unassigned (I.361 2.2.3) or idle (I.432.1 4.5.1) cell: belongs to no VC
            cnt[C_UNASSIGNED] += 1
            continue
        if key != last_key:
            v, new = vc_slot(ht_key, ht_vc, vc_key, sc, key)
            if v < 0:
                last_key = -1
                cnt[C_NO_VC] += 1
                continue
            if new:
                vc_state[v] = IDLE
                vc_cells[v] = 0
                vc_head[v] = -1
                vc_tail[v] = -1
                vc_max_sdu[v] = default_max_sdu
            last_key = key
        t = slots[i]
        st = vc_state[v]
        # the reassembly timer of this VC, checked before the cell joins it
        if timeout >= 0 and st != IDLE and t - vc_last[v] > timeout:
            if st == ASSEMBLING:
                ne, _ = _drop_pdu(v, K_TIMEOUT, t, vc_last[v], timeout, 0, vc_key, vc_cells, vc_head,
                                  cnt, pool_next, free_stack, sc, errs, ne, 0)
            st = IDLE
        vc_last[v] = t
        auu = (b3 & 0x02) != 0
        if st == DISCARDING:  # the rest of a PDU already reported as errored
            cnt[vc_discard[v]] += 1
            vc_state[v] = IDLE if auu else DISCARDING
            continue
        if st == IDLE:
            vc_reg[v] = 0xFFFFFFFF
            vc_cells[v] = 0
            vc_head[v] = -1
            vc_tail[v] = -1
            st = ASSEMBLING
        max_sdu = vc_max_sdu[v]
        max_cells = (max_sdu + TRAILER_OCTETS + CELL_PAYLOAD - 1) // CELL_PAYLOAD
        if vc_cells[v] + 1 > max_cells:
            ne, cc = _drop_pdu(v, K_OVERSIZE, t, max_cells, max_sdu, 0, vc_key, vc_cells, vc_head,
                               cnt, pool_next, free_stack, sc, errs, ne, 1)
            vc_discard[v] = cc
            vc_state[v] = IDLE if auu else DISCARDING
            continue
        top = sc[S_FREE_TOP]
        if top == 0:
            ne, cc = _drop_pdu(v, K_NO_BUFFER, t, pool.shape[0], 0, 0, vc_key, vc_cells, vc_head,
                               cnt, pool_next, free_stack, sc, errs, ne, 1)
            vc_discard[v] = cc
            vc_state[v] = IDLE if auu else DISCARDING
            continue
        top -= 1
        sc[S_FREE_TOP] = top
        p = free_stack[top]
        buf = pool[p]
        for b in range(CELL_PAYLOAD):
            buf[b] = row[HEADER_OCTETS + b]
        pool_next[p] = -1
        if vc_head[v] < 0:
            vc_head[v] = p
        else:
            pool_next[vc_tail[v]] = p
        vc_tail[v] = p
        vc_reg[v] = crc32_update(vc_reg[v], row, HEADER_OCTETS, CELL_OCTETS)
        vc_cells[v] += 1
        cnt[C_PENDING] += 1
        if not auu:
            vc_state[v] = ASSEMBLING
            continue
        # end of the CPCS-PDU: I.363.5 9.2.2.2 checks, in order CRC, Length, size, abort
        vc_state[v] = IDLE
        n = vc_cells[v]
        octets = n * CELL_PAYLOAD
        length = (np.int64(buf[42]) << 8) | np.int64(buf[43])
        if vc_reg[v] != CRC32_RESIDUE:
            carried = (np.int64(buf[44]) << 24) | (np.int64(buf[45]) << 16) | (np.int64(buf[46]) << 8) | np.int64(buf[47])
            ne, _ = _drop_pdu(v, K_CRC, t, carried, vc_reg[v], octets, vc_key, vc_cells, vc_head,
                              cnt, pool_next, free_stack, sc, errs, ne, 0)
            continue
        if length + TRAILER_OCTETS > octets or octets - TRAILER_OCTETS - length > CELL_PAYLOAD - 1:
            ne, _ = _drop_pdu(v, K_LENGTH, t, length, octets, 0, vc_key, vc_cells, vc_head,
                              cnt, pool_next, free_stack, sc, errs, ne, 0)
            continue
        if length > max_sdu:
            ne, _ = _drop_pdu(v, K_OVERSIZE, t, length, max_sdu, 1, vc_key, vc_cells, vc_head,
                              cnt, pool_next, free_stack, sc, errs, ne, 0)
            continue
        if length == 0 and abort_on_zero:
            ne, _ = _drop_pdu(v, K_ABORT, t, 0, 0, 0, vc_key, vc_cells, vc_head,
                              cnt, pool_next, free_stack, sc, errs, ne, 0)
            continue
        # deliver: copy the SDU out of the linked cell buffers
        fr[nf, 0] = nd
        fr[nf, 1] = length
        fr[nf, 2] = key
        fr[nf, 3] = buf[40]
        fr[nf, 4] = buf[41]
        fr[nf, 5] = t
        fr[nf, 6] = n
        nf += 1
        left = length
        p = vc_head[v]
        while left > 0:
            take = CELL_PAYLOAD if left > CELL_PAYLOAD else left
            src = pool[p]
            for b in range(take):
                out_data[nd + b] = src[b]
            nd += take
            left -= take
            p = pool_next[p]
        cnt[C_DELIVERED] += n
        cnt[F_DELIVERED] += 1
        cnt[O_DELIVERED] += length
        cnt[C_PENDING] -= n
        _free_chain(vc_head[v], pool_next, free_stack, sc)
        vc_head[v] = -1
        vc_cells[v] = 0
    # the reassembly timer of every VC at slot `now`
    if timeout >= 0:
        for v in range(sc[S_NVCS]):
            if vc_state[v] != IDLE and now - vc_last[v] > timeout:
                if vc_state[v] == ASSEMBLING:
                    ne, _ = _drop_pdu(v, K_TIMEOUT, now, vc_last[v], timeout, 0, vc_key, vc_cells,
                                      vc_head, cnt, pool_next, free_stack, sc, errs, ne, 0)
                vc_state[v] = IDLE
    return nf, nd, ne


class KernelEngine:
    """Connection table, cell-buffer pool and counters as numpy arrays, driven by :func:`reassemble_kernel`."""

    def __init__(self, max_vcs: int, pool_cells: int, default_max_sdu: int) -> None:
        ht = 1
        while ht < 2 * max_vcs:
            ht <<= 1
        self.ht_key = np.full(ht, -1, np.int64)
        self.ht_vc = np.full(ht, -1, np.int32)
        self.vc_key = np.full(max_vcs, -1, np.int64)
        self.vc_state = np.zeros(max_vcs, np.int8)
        self.vc_reg = np.zeros(max_vcs, np.uint32)
        self.vc_cells = np.zeros(max_vcs, np.int64)
        self.vc_head = np.full(max_vcs, -1, np.int32)
        self.vc_tail = np.full(max_vcs, -1, np.int32)
        self.vc_last = np.zeros(max_vcs, np.int64)
        self.vc_max_sdu = np.zeros(max_vcs, np.int64)
        self.vc_discard = np.zeros(max_vcs, np.int64)
        self.pool = np.zeros((pool_cells, CELL_PAYLOAD), np.uint8)
        self.pool_next = np.full(pool_cells, -1, np.int32)
        self.free_stack = np.arange(pool_cells, dtype=np.int32)
        self.sc = np.array([0, pool_cells], np.int64)
        self.cnt = np.zeros(len(COUNTER_NAMES), np.int64)
        self.default_max_sdu = default_max_sdu
        # output buffers, reused from run to run (grown when a batch needs more)
        self._out = np.empty(64 * CELL_PAYLOAD, np.uint8)
        self._fr = np.empty((64, 7), np.int64)
        self._errs = np.empty((128 + max_vcs, 7), np.int64)
        self._slots: dict[int, int] = {}  # VPI << 16 | VCI -> VC slot, as the small-batch path found them

    def set_max_sdu(self, key: int, max_sdu: int) -> bool:
        v, new = vc_slot(self.ht_key, self.ht_vc, self.vc_key, self.sc, key)
        if v < 0:
            return False
        if new:
            self.vc_state[v] = IDLE
            self.vc_head[v] = -1
            self.vc_cells[v] = 0
        self.vc_max_sdu[v] = max_sdu
        return True

    def run(self, cells, slots, now, timeout, abort, nni) -> Reassembled:
        n = cells.shape[0]
        if n == 1 and timeout < 0:
            done = self._one_cell_pdu(cells, slots, nni)
            if done is not None:
                return done
        need_data = (int(self.cnt[C_PENDING]) + n) * CELL_PAYLOAD
        if self._out.shape[0] < need_data:
            self._out = np.empty(max(need_data, 2 * self._out.shape[0]), np.uint8)
        if self._fr.shape[0] < n:  # at most one frame per cell
            self._fr = np.empty((max(n, 2 * self._fr.shape[0]), 7), np.int64)
        if self._errs.shape[0] < 2 * n + self.vc_key.shape[0]:
            self._errs = np.empty((2 * n + self.vc_key.shape[0], 7), np.int64)
        out, fr, errs = self._out, self._fr, self._errs
        nf, nd, ne = reassemble_kernel(
            cells, slots, now, timeout, abort, nni, self.default_max_sdu, self.ht_key, self.ht_vc, self.vc_key,
            self.vc_state, self.vc_reg, self.vc_cells, self.vc_head, self.vc_tail, self.vc_last, self.vc_max_sdu,
            self.vc_discard, self.pool, self.pool_next, self.free_stack, self.sc, self.cnt, out, fr, errs)
        if not nf and not ne:
            return frames_from(out[:0], fr[:0], errs[:0])
        return frames_from(out[:nd].copy(), fr[:nf], errs[:ne])

    def _one_cell_pdu(self, cells, slots, nni) -> Reassembled | None:
        """The plain-Python form of :func:`reassemble_kernel` for its most frequent batch: one cell that
        is a whole intact CPCS-PDU (AUU = 1 on a VC with no PDU under way, CRC and Length right, not an
        abort, within the VC's maximum SDU), with the reassembly timer off. A signalling message of up to
        36 octets is such a frame, and a numba call with 27 arguments plus its result arrays cost more
        than the frame itself. Anything else returns None, with nothing changed, and goes to the kernel.

        It changes what the kernel would (counters, the VC's last slot, CRC register and idle state)
        except for scratch the kernel rewrites before reading: the cell buffer it would have borrowed
        from the pool and given back (its contents, its link, the VC's tail pointer). Tests run random
        batches through both and compare results, counters and state."""
        row = cells[0].tobytes()
        b3 = row[3]
        if b3 & 0x0A != 0x02:  # user data with AUU = 1 only (PTI 0x1): I.361 2.2.4
            return None
        vpi = (row[0] << 4 | row[1] >> 4) if nni else ((row[0] & 0x0F) << 4 | row[1] >> 4)
        key = vpi << 16 | (row[1] & 0x0F) << 12 | row[2] << 4 | b3 >> 4
        v = self._slots.get(key)
        if v is None:
            v = self._find(key) if key else None
            if v is None:  # a VC never seen (key 0 included): the kernel opens or refuses it
                return None
            self._slots[key] = v
        if self.vc_state[v] != IDLE or not self.sc[S_FREE_TOP]:
            return None
        length = row[47] << 8 | row[48]
        # I.363.5 9.2.2.2: CRC-32 over the PDU (the register ends at the residue iff the carried CRC is
        # the CRC of what precedes it), then Length (fits one cell, pad <= 47), size, abort.
        if (crc32_small(row[5:49]) != int.from_bytes(row[49:53], "big") or length > _ONE_CELL_MAX_LENGTH
                or length > self.vc_max_sdu[v] or length == 0):
            return None  # errors and aborts: the kernel finds and reports them
        cnt = self.cnt
        cnt[C_IN] += 1
        cnt[C_DELIVERED] += 1
        cnt[F_DELIVERED] += 1
        cnt[O_DELIVERED] += length
        slot = int(slots[0])
        self.vc_last[v] = slot
        self.vc_reg[v] = CRC32_RESIDUE
        return Reassembled([(0, length, key, row[45], row[46], slot, 1)], None, [row[5:5 + length]])

    def _find(self, key: int) -> int | None:
        """The VC slot of ``key`` in the connection table, None when absent (the kernel's probe)."""
        mask = self.ht_key.shape[0] - 1
        h = ((key * 0x9E3779B1) >> 8) & mask
        while True:
            k = int(self.ht_key[h])
            if k < 0:
                return None
            if k == key:
                return int(self.ht_vc[h])
            h = (h + 1) & mask

    def close(self, key: int, slot: int) -> tuple | None:
        """Discard VC ``key``'s partial PDU, if any (its buffers back to the pool), and leave the VC
        idle with the default maximum SDU; returns the error record, None when nothing was held. The
        connection table keeps the entry (``max_vcs`` bounds the VCs ever seen)."""
        mask = self.ht_key.shape[0] - 1
        h = ((key * 0x9E3779B1) >> 8) & mask
        while True:
            k = int(self.ht_key[h])
            if k < 0:
                return None  # never seen: nothing held
            if k == key:
                break
            h = (h + 1) & mask
        v = int(self.ht_vc[h])
        record = None
        if self.vc_state[v] == ASSEMBLING:
            held = int(self.vc_cells[v])
            self.cnt[C_PENDING] -= held
            self.cnt[KIND_CELL_COUNTER[K_CLOSED]] += held
            self.cnt[KIND_PDU_COUNTER[K_CLOSED]] += 1
            p, top = int(self.vc_head[v]), int(self.sc[S_FREE_TOP])
            while p >= 0:
                self.free_stack[top] = p
                top += 1
                p = int(self.pool_next[p])
            self.sc[S_FREE_TOP] = top
            record = (K_CLOSED, key, slot, held, 0, 0, 0)
        self.vc_state[v] = IDLE
        self.vc_head[v] = self.vc_tail[v] = -1
        self.vc_cells[v] = 0
        self.vc_max_sdu[v] = self.default_max_sdu
        return record

    @property
    def n_vcs(self) -> int:
        return int(self.sc[S_NVCS])


