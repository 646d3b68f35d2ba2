"""AAL5 reassembly with per-VC state (ITU-T I.363.5 clause 9.1 SAR receive, 9.2.2 CPCS receive).

Cells arrive in batches (n, 53) with the cell slot at which each arrived. For each VC (keyed by
VPI/VCI) the receiver collects cell payloads until a cell with AUU = 1 (PTI 001/011) ends the
CPCS-PDU, then checks it (I.363.5 9.2.2.2):

1. CRC-32: the register over the whole PDU must end at the residue 0xC704DD7B, else a CRC error;
2. Length: it must fit the PDU (Length + 8 <= 48 n) with a pad of at most 47 octets, else a length
   error (a lost or gained cell shows up here when the CRC does not catch it first);
3. size: Length above the VC's maximum SDU is an oversize error; so is a PDU that grows past the
   cells that maximum needs without an end (the rest of its cells, up to its AUU cell, are discarded);
4. Length 0 is the abort function (I.363 / RFC 1483 section 3) when ``abort_on_zero_length``.

A reassembly timer (in cell slots) discards a partial PDU whose VC has had no cell for longer than
``timeout_slots``; :meth:`Reassembler.close` discards the partial PDU of a VC whose connection was
released (counted in ``closes`` / ``cells_closed``, reported as :class:`~hw.aal5.errors.Aal5ClosedError`). Cells with PTI 1xx (F5 OAM, RM, reserved: I.361 2.2.4) are not AAL5 user data,
and VPI 0 / VCI 0 cells (unassigned, or idle cells a PHY let through) belong to no VC: both are counted
and set aside.

Nothing is dropped silently: every cell is counted once as delivered, discarded (under a named reason)
or pending, and ``cells_in == cells_delivered + cells_discarded + cells_pending`` always holds.
Every discarded PDU is also reported as a typed error object (hw.aal5.errors), returned with the frames.

Like a SAR chip, the receiver keeps partial PDUs in a shared pool of 48-octet cell buffers linked per VC
(memory is bounded by ``pool_cells``), and runs the CRC cell by cell as the cells arrive. The numba
kernel (hw.aal5.rx_kernel) does all of this for a whole batch; hw.aal5.rx_twin is its plain-Python
twin (dicts, lists of payloads, bytewise CRC) and tests hold the two to the same output.
"""

from __future__ import annotations

import numpy as np

from hw.aal5.cpcs import MAX_SDU
from hw.aal5.rx_kernel import KernelEngine
from hw.aal5.errors import Aal5RxError
from hw.aal5.rx_records import CELL_OCTETS, COUNTER_NAMES, DISCARD_COUNTERS, Reassembled, Sdu, error_object
from hw.aal5.rx_twin import TwinEngine
from hw.aal5.sar import MAX_VCI, max_vpi
from hw.errors import AtmemuError, FieldError

_PENDING = COUNTER_NAMES.index("cells_pending")

__all__ = ["COUNTER_NAMES", "Reassembled", "Reassembler", "Sdu", "error_object"]


def _non_decreasing(slot: np.ndarray, n: int) -> bool:
    """``slot`` (int64, n > 1) never goes back. A signalling frame is a few cells: on Python ints
    up to 16 cells (cheaper than two numpy temporaries), with numpy above."""
    if n <= 16:
        s = slot.tolist()
        prev = s[0]
        for x in s:
            if x < prev:
                return False
            prev = x
        return True
    return bool((slot[1:] >= slot[:-1]).all())


class Reassembler:
    """AAL5 receiver with per-VC state. Feed it cell batches; it returns the SDUs completed and the
    errors found, and keeps counters (see :data:`COUNTER_NAMES`).

    ``max_sdu``: default maximum SDU of every VC (65535; per VC with :meth:`set_max_sdu`, e.g. from the
    AAL parameters IE). ``timeout_slots``: reassembly timer in cell slots (None: no timer).
    ``max_vcs``: size of the connection table (cells of further VCs are counted and discarded).
    ``pool_cells``: 48-octet buffers shared by all partial PDUs. ``nni``: NNI headers (12-bit VPI).
    ``abort_on_zero_length``: treat Length 0 as the abort function (I.363; RFC 1483 section 3).
    ``engine``: "kernel" (numba) or "twin" (plain Python, same behaviour)."""

    def __init__(self, *, max_sdu: int = MAX_SDU, timeout_slots: int | None = None, max_vcs: int = 1024,
                 pool_cells: int = 16384, nni: bool = False, abort_on_zero_length: bool = True,
                 engine: str = "kernel") -> None:
        self._check_max_sdu("max_sdu", max_sdu)
        if timeout_slots is not None and (not isinstance(timeout_slots, (int, np.integer)) or timeout_slots < 0):
            raise FieldError("timeout_slots", timeout_slots, "None or an integer >= 0 (cell slots)")
        for name, value in (("max_vcs", max_vcs), ("pool_cells", pool_cells)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise FieldError(name, value, "an integer >= 1")
        engines = {"kernel": KernelEngine, "twin": TwinEngine}
        if engine not in engines:
            raise FieldError("engine", engine, "'kernel' or 'twin'")
        self.max_sdu = int(max_sdu)
        self.timeout_slots = timeout_slots
        self.nni = bool(nni)
        self.abort_on_zero_length = bool(abort_on_zero_length)
        self.now = 0
        self._engine = engines[engine](int(max_vcs), int(pool_cells), self.max_sdu)

    @staticmethod
    def _check_max_sdu(name: str, max_sdu) -> None:
        if not isinstance(max_sdu, (int, np.integer)) or not 0 <= max_sdu <= MAX_SDU:
            raise FieldError(name, max_sdu, f"an integer 0..{MAX_SDU}")

    def set_max_sdu(self, vpi: int, vci: int, max_sdu: int) -> None:
        """Maximum SDU of one VC (opens its entry in the connection table)."""
        self._check_max_sdu("max_sdu", max_sdu)
        if not 0 <= vpi <= max_vpi(self.nni):
            raise FieldError("vpi", vpi, f"0..{max_vpi(self.nni)}")
        if not 0 <= vci <= MAX_VCI:
            raise FieldError("vci", vci, f"0..{MAX_VCI}")
        if not self._engine.set_max_sdu(vpi << 16 | vci, int(max_sdu)):
            raise FieldError("vpi/vci", (vpi, vci), "room in the connection table (max_vcs)")

    def feed(self, cells: np.ndarray, slot, now: int | None = None) -> Reassembled:
        """Reassemble a batch. ``slot``: the arrival slot of every cell (an int) or of each cell (int
        array, non-decreasing). Afterwards the reassembly timer runs at ``now`` (default: the last slot)."""
        if (cells.__class__ is np.ndarray and slot.__class__ is np.ndarray and cells.dtype == np.uint8
                and slot.dtype == np.int64 and cells.ndim == 2 and cells.shape[1] == CELL_OCTETS
                and slot.shape[0] == cells.shape[0] and slot.ndim == 1 and cells.flags.c_contiguous):
            # the usual call (arrays as links and fabrics deliver them): checks without conversions
            n = cells.shape[0]
            if n:
                if slot[0] < self.now:
                    raise FieldError("slot[0]", int(slot[0]), f">= {self.now}, the time already reached")
                if n > 1 and not _non_decreasing(slot, n):
                    back = np.flatnonzero(np.diff(slot) < 0)
                    raise FieldError(f"slot[{int(back[0]) + 1}]", int(slot[back[0] + 1]), "non-decreasing cell slots")
                end = int(slot[-1])
            else:
                end = self.now
            slots = slot
        else:
            cells, slots, end = self._checked(cells, slot)
        now = end if now is None else now
        if now < end:
            raise FieldError("now", now, f">= the last cell's slot {end}")
        self.now = int(now)
        timeout = -1 if self.timeout_slots is None else int(self.timeout_slots)
        return self._engine.run(cells, slots, int(now), timeout, self.abort_on_zero_length, self.nni)

    def _checked(self, cells, slot) -> tuple[np.ndarray, np.ndarray, int]:
        if not isinstance(cells, np.ndarray) or cells.dtype != np.uint8 or cells.ndim != 2 or cells.shape[1] != CELL_OCTETS:
            desc = f"{cells.dtype} array {cells.shape}" if isinstance(cells, np.ndarray) else type(cells).__name__
            raise FieldError("cells", desc, "a uint8 array of shape (n, 53)")
        cells = np.ascontiguousarray(cells)
        n = cells.shape[0]
        slots = np.asarray(slot)
        if slots.ndim == 0:
            if not np.issubdtype(slots.dtype, np.integer):
                raise FieldError("slot", slot, "an integer cell slot or one per cell")
            if int(slots) < self.now:
                raise FieldError("slot", int(slots), f">= {self.now}, the time already reached")
            end = int(slots)
            slots = np.full(n, end, np.int64)
        elif slots.shape != (n,) or not np.issubdtype(slots.dtype, np.integer):
            raise FieldError("slot", f"{slots.dtype} array {slots.shape}", f"an integer or {n} integers")
        else:
            slots = slots.astype(np.int64)
            if n:
                back = np.flatnonzero(np.diff(slots) < 0)
                if back.size:
                    raise FieldError(f"slot[{int(back[0]) + 1}]", int(slots[back[0] + 1]), "non-decreasing cell slots")
                if slots[0] < self.now:
                    raise FieldError("slot[0]", int(slots[0]), f">= {self.now}, the time already reached")
            end = int(slots[-1]) if n else self.now
        return cells, slots, end

    def close(self, vpi: int, vci: int, slot: int | None = None) -> Aal5RxError | None:
        """Close a VC (its connection was released): a partial CPCS-PDU it holds is discarded, counted
        in ``closes`` and ``cells_closed``, and returned as an :class:`~hw.aal5.errors.Aal5ClosedError`
        (None when nothing was held). The VC is idle afterwards, with the default maximum SDU; cells
        that come later on it start a new PDU. ``slot``: when (default: the last slot reached)."""
        if not 0 <= vpi <= max_vpi(self.nni):
            raise FieldError("vpi", vpi, f"0..{max_vpi(self.nni)}")
        if not 0 <= vci <= MAX_VCI:
            raise FieldError("vci", vci, f"0..{MAX_VCI}")
        record = self._engine.close(vpi << 16 | vci, self.now if slot is None else int(slot))
        return None if record is None else error_object(record)

    def expire(self, now: int) -> Reassembled:
        """Run the reassembly timer at slot ``now`` with no new cells (returns the timeouts found)."""
        return self.feed(np.zeros((0, CELL_OCTETS), np.uint8), np.zeros(0, np.int64), now)

    @property
    def counters(self) -> dict[str, int]:
        out = {name: int(v) for name, v in zip(COUNTER_NAMES, self._engine.cnt)}
        out["cells_discarded"] = sum(out[name] for name in DISCARD_COUNTERS)
        return out

    @property
    def cells_pending(self) -> int:
        """Cells held in partial PDUs (the one counter the receive path reads per batch)."""
        return int(self._engine.cnt[_PENDING])

    @property
    def n_vcs(self) -> int:
        return self._engine.n_vcs

    def check_conservation(self) -> None:
        """Raise if cells_in != delivered + discarded + pending (it never should)."""
        c = self.counters
        total = c["cells_delivered"] + c["cells_discarded"] + c["cells_pending"]
        if c["cells_in"] != total:
            raise AtmemuError(f"AAL5 reassembler lost track of cells: cells_in {c['cells_in']} != {total}")
