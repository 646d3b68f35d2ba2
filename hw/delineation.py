"""I.432.1 cell delineation: HUNT, PRESYNC, SYNC over a raw bit stream.

I.432.1 §4.5 (cell delineation algorithm, figure "Cell delineation state diagram"):

- HUNT: the receiver checks, bit by bit, whether the 32 bits at the current position and the 8 bits
  after them form a header with a correct HEC. When they do, it assumes a header there: PRESYNC.
- PRESYNC: cell by cell (every 424 bits) it checks the HEC again. DELTA consecutive correct HECs
  confirm the delineation: SYNC. One incorrect HEC means the header was a false one: HUNT.
- SYNC: the delineation is lost only after ALPHA consecutive incorrect HECs: HUNT.

ALPHA = 7 and DELTA = 6 are the values for the SDH-based interface (I.432.2); the cell-based
interface uses DELTA = 8. Both are constructor arguments.

Choices this model makes where the figure leaves room (hardware differs on these too):
- A "correct HEC" is a zero syndrome; a header that the HEC receiver could correct counts as incorrect
  here (the HEC receiver, :mod:`hw.hec_receiver`, downstream, decides whether to correct it).
- After a failed PRESYNC check or a loss of SYNC at bit p, HUNT resumes at bit p + 1 (the stream is
  not rewound), so a false header found in HUNT can delay the true one by a cell.
- Cells are delivered in SYNC only: the cell whose HEC completes the DELTA confirmations is the first
  one delivered; cells with an incorrect HEC in SYNC are delivered too (for the HEC receiver to
  discard), except the ALPHA-th, whose position HUNT starts from.

Accounting (nothing is dropped without a count): every bit fed is either still pending, or was
slipped over in HUNT (``bits_hunted``), or belongs to a cell held in PRESYNC (``cells_presync``) or
delivered (``cells_delivered``): ``bits_in = bits_hunted + 424 * (cells_presync + cells_delivered)
+ bits_pending``.

Bits are taken most significant bit of each octet first. :class:`CellDelineator` accepts chunks of
any size and keeps its state and the unexamined tail between them; :func:`delineate_kernel` (numba)
and :func:`delineate_twin` (plain Python) are the same algorithm over the same tables.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

import numba as nb
import numpy as np

from hw.cell import CELL_OCTETS, HEC_TABLE, hec_of
from hw.errors import AtmemuError, FieldError

CELL_BITS = 8 * CELL_OCTETS
ALPHA_SDH = 7  # I.432.2 (SDH-based interface); I.432.1 §4.5
DELTA_SDH = 6
DELTA_CELL_BASED = 8  # I.432.1 §4.5, cell-based interface


class State(IntEnum):
    HUNT = 0
    PRESYNC = 1
    SYNC = 2


class Event(IntEnum):
    HEC_OK = 0  # a correct HEC that completes nothing
    HEC_BAD = 1  # an incorrect HEC that completes nothing
    HEC_OK_DELTA = 2  # the DELTA-th consecutive correct HEC in PRESYNC
    HEC_BAD_ALPHA = 3  # the ALPHA-th consecutive incorrect HEC in SYNC


class Action(IntEnum):
    SLIP_BIT = 0  # move on one bit (counted in bits_hunted)
    HOLD_CELL = 1  # take the cell as delineated but keep it from the ATM layer (cells_presync)
    DELIVER = 2  # take the cell and deliver it (cells_delivered)


class Rule(NamedTuple):
    next_state: State
    action: Action
    clause: str


_FIG = "I.432.1 §4.5, figure 'Cell delineation state diagram'"

#: (state, event) -> (next state, action, clause): the delineation machine, as data.
TRANSITIONS: dict[tuple[State, Event], Rule] = {
    (State.HUNT, Event.HEC_BAD): Rule(State.HUNT, Action.SLIP_BIT, f"{_FIG}: HUNT checks bit by bit"),
    (State.HUNT, Event.HEC_OK): Rule(State.PRESYNC, Action.HOLD_CELL, f"{_FIG}: correct HEC (bit by bit)"),
    (State.PRESYNC, Event.HEC_OK): Rule(State.PRESYNC, Action.HOLD_CELL, f"{_FIG}: PRESYNC checks cell by cell"),
    (State.PRESYNC, Event.HEC_OK_DELTA): Rule(State.SYNC, Action.DELIVER, f"{_FIG}: DELTA consecutive correct HECs"),
    (State.PRESYNC, Event.HEC_BAD): Rule(State.HUNT, Action.SLIP_BIT, f"{_FIG}: incorrect HEC (cell by cell)"),
    (State.SYNC, Event.HEC_OK): Rule(State.SYNC, Action.DELIVER, f"{_FIG}: SYNC"),
    (State.SYNC, Event.HEC_BAD): Rule(State.SYNC, Action.DELIVER, f"{_FIG}: < ALPHA consecutive incorrect HECs"),
    (State.SYNC, Event.HEC_BAD_ALPHA): Rule(State.HUNT, Action.SLIP_BIT, f"{_FIG}: ALPHA consecutive incorrect HECs"),
}

#: The table as arrays for the kernels; -1 marks an illegal (state, event).
NEXT_STATE = np.full((len(State), len(Event)), -1, dtype=np.int8)
ACTION = np.full((len(State), len(Event)), -1, dtype=np.int8)
for (_state, _event), _rule in TRANSITIONS.items():
    NEXT_STATE[_state, _event] = _rule.next_state
    ACTION[_state, _event] = _rule.action

# Counter slots in the kernels' int64 counter array; slots 8.. hold transition counts [from * 3 + to].
C_BITS_HUNTED = 0
C_CELLS_PRESYNC = 1
C_CELLS_DELIVERED = 2
C_HEC_ERRORS_IN_SYNC = 3
C_TRANSITIONS_UNLOGGED = 4
C_TRANSITION_BASE = 8
N_COUNTERS = C_TRANSITION_BASE + len(State) * len(State)

STATUS_OK = 0
STATUS_ILLEGAL_EVENT = -1


class DelineationError(AtmemuError):
    """An event the delineation table does not allow in the current state (a bug, never input)."""

    def __init__(self, state: int, event: int, bit: int) -> None:
        self.state, self.event, self.bit = state, event, bit
        super().__init__(
            f"cell delineation: event {Event(event).name} is illegal in state {State(state).name} (at bit {bit})"
        )


# ---------------------------------------------------------------------------------------------------
# The kernel and its plain twin: same algorithm, same tables
# ---------------------------------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True)
def _octet_at(buf, byte, shift):
    if shift == 0:
        return buf[byte]
    return ((buf[byte] << shift) | (buf[byte + 1] >> (8 - shift))) & 0xFF


@nb.njit(cache=True, nogil=True)
def delineate_kernel(buf, pos, state, run, alpha, delta, base_bit, out, counters, log_bit, log_state):
    """Delineate cells in ``buf`` (uint8) from bit ``pos``, in ``state`` with ``run`` consecutive
    correct (PRESYNC) or incorrect (SYNC) HECs so far. Delivered cells go to ``out`` (m, 53);
    transitions to ``log_bit``/``log_state`` (stream bit = ``base_bit`` + buffer bit). Stops when the
    next cell would run past the buffer. Returns (status, pos, state, run, cells out, transitions);
    with status STATUS_ILLEGAL_EVENT, ``run`` is replaced by the illegal event and nothing moves."""
    n_bits = buf.shape[0] * 8
    n_out = 0
    n_log = 0
    while True:
        shift = pos & 7
        byte = pos >> 3
        need = CELL_BITS + (8 if shift else 0)  # whole octets under the cell
        if pos - shift + need > n_bits:
            break
        h0 = _octet_at(buf, byte, shift)
        h1 = _octet_at(buf, byte + 1, shift)
        h2 = _octet_at(buf, byte + 2, shift)
        h3 = _octet_at(buf, byte + 3, shift)
        h4 = _octet_at(buf, byte + 4, shift)
        ok = hec_of(h0, h1, h2, h3) == h4
        if state == 0:  # State.HUNT
            event = 0 if ok else 1
        elif state == 1:  # State.PRESYNC
            event = (2 if run + 1 >= delta else 0) if ok else 1
        else:  # State.SYNC
            event = 0 if ok else (3 if run + 1 >= alpha else 1)
        next_state = NEXT_STATE[state, event]
        action = ACTION[state, event]
        if next_state < 0:
            return STATUS_ILLEGAL_EVENT, pos, state, event, n_out, n_log
        if action == 0:  # Action.SLIP_BIT
            counters[C_BITS_HUNTED] += 1
            pos += 1
        elif action == 1:  # Action.HOLD_CELL
            counters[C_CELLS_PRESYNC] += 1
            pos += CELL_BITS
        else:  # Action.DELIVER
            if shift == 0:
                for j in range(CELL_OCTETS):
                    out[n_out, j] = buf[byte + j]
            else:
                for j in range(CELL_OCTETS):
                    out[n_out, j] = ((buf[byte + j] << shift) | (buf[byte + j + 1] >> (8 - shift))) & 0xFF
            n_out += 1
            counters[C_CELLS_DELIVERED] += 1
            if not ok:
                counters[C_HEC_ERRORS_IN_SYNC] += 1
            pos += CELL_BITS
        if next_state != state:
            counters[C_TRANSITION_BASE + state * 3 + next_state] += 1
            if n_log < log_bit.shape[0]:
                log_bit[n_log] = base_bit + pos - (1 if action == 0 else CELL_BITS)
                log_state[n_log] = next_state
                n_log += 1
            else:
                counters[C_TRANSITIONS_UNLOGGED] += 1
            run = 0
        elif state == 1:  # consecutive correct HECs in PRESYNC
            run += 1
        elif state == 2:  # consecutive incorrect HECs in SYNC
            run = 0 if ok else run + 1
        state = next_state
    return STATUS_OK, pos, state, run, n_out, n_log


def delineate_twin(buf, pos, state, run, alpha, delta, base_bit, out, counters, log_bit, log_state):
    """Plain-Python twin of :func:`delineate_kernel` (same algorithm and tables, no numba)."""
    data = buf.tolist()
    hec_table = HEC_TABLE.tolist()
    next_of = NEXT_STATE.tolist()
    action_of = ACTION.tolist()
    n_bits = len(data) * 8
    n_out = n_log = 0

    def octet_at(byte: int, shift: int) -> int:
        if shift == 0:
            return data[byte]
        return ((data[byte] << shift) | (data[byte + 1] >> (8 - shift))) & 0xFF

    while True:
        shift, byte = pos & 7, pos >> 3
        if pos - shift + CELL_BITS + (8 if shift else 0) > n_bits:
            break
        h = [octet_at(byte + k, shift) for k in range(5)]
        crc = hec_table[hec_table[hec_table[hec_table[h[0]] ^ h[1]] ^ h[2]] ^ h[3]] ^ 0x55
        ok = crc == h[4]
        if state == State.HUNT:
            event = Event.HEC_OK if ok else Event.HEC_BAD
        elif state == State.PRESYNC:
            event = (Event.HEC_OK_DELTA if run + 1 >= delta else Event.HEC_OK) if ok else Event.HEC_BAD
        else:
            event = Event.HEC_OK if ok else (Event.HEC_BAD_ALPHA if run + 1 >= alpha else Event.HEC_BAD)
        next_state, action = next_of[state][event], action_of[state][event]
        if next_state < 0:
            return STATUS_ILLEGAL_EVENT, pos, state, int(event), n_out, n_log
        if action == Action.SLIP_BIT:
            counters[C_BITS_HUNTED] += 1
            pos += 1
        elif action == Action.HOLD_CELL:
            counters[C_CELLS_PRESYNC] += 1
            pos += CELL_BITS
        else:
            out[n_out, :] = [octet_at(byte + j, shift) for j in range(CELL_OCTETS)]
            n_out += 1
            counters[C_CELLS_DELIVERED] += 1
            if not ok:
                counters[C_HEC_ERRORS_IN_SYNC] += 1
            pos += CELL_BITS
        if next_state != state:
            counters[C_TRANSITION_BASE + state * 3 + next_state] += 1
            if n_log < len(log_bit):
                log_bit[n_log] = base_bit + pos - (1 if action == Action.SLIP_BIT else CELL_BITS)
                log_state[n_log] = next_state
                n_log += 1
            else:
                counters[C_TRANSITIONS_UNLOGGED] += 1
            run = 0
        elif state == State.PRESYNC:
            run += 1
        elif state == State.SYNC:
            run = 0 if ok else run + 1
        state = next_state
    return STATUS_OK, pos, state, run, n_out, n_log


# ---------------------------------------------------------------------------------------------------
# The delineator: chunks in, cells out, state carried between chunks
# ---------------------------------------------------------------------------------------------------


class Transition(NamedTuple):
    bit: int  # stream bit offset (from the first bit ever fed) of the header that caused it
    to_state: State


@dataclass(frozen=True)
class DelineationCounters:
    bits_in: int
    bits_pending: int  # fed, not examined yet (less than a cell)
    bits_hunted: int  # slipped over one by one in HUNT
    cells_presync: int  # taken as cells in PRESYNC but not delivered
    cells_delivered: int
    hec_errors_in_sync: int  # delivered cells whose HEC was incorrect (the HEC receiver's business)
    hunt_to_presync: int  # a header found in HUNT
    presync_to_hunt: int  # a false header exposed in PRESYNC
    presync_to_sync: int  # delineation confirmed
    sync_to_hunt: int  # delineation lost
    transitions_unlogged: int  # transitions counted but not written to the log (log full)


class CellDelineator:
    """I.432.1 cell delineation over a byte stream fed in chunks.

    ``engine="kernel"`` (default) runs :func:`delineate_kernel`, ``engine="twin"`` its plain twin.
    ``transitions`` keeps the last ``log_size`` state changes; ``counters`` counts all of them.
    """

    def __init__(
        self, alpha: int = ALPHA_SDH, delta: int = DELTA_SDH, *, engine: str = "kernel", log_size: int = 4096
    ) -> None:
        for name, value in (("ALPHA", alpha), ("DELTA", delta)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 255:
                raise FieldError(name, value, "an integer 1..255")
        if engine not in ("kernel", "twin"):
            raise FieldError("engine", engine, "'kernel' or 'twin'")
        self.alpha, self.delta = alpha, delta
        self._run_fn = delineate_kernel if engine == "kernel" else delineate_twin
        self._state = int(State.HUNT)
        self._run = 0
        self._tail = np.zeros(0, dtype=np.uint8)  # unexamined octets, from the one holding bit _pos
        self._pos = 0  # bit offset of the next header candidate inside _tail
        self._base_bit = 0  # stream bit offset of _tail's first bit
        self._bits_in = 0
        self._counters = np.zeros(N_COUNTERS, dtype=np.int64)
        self.transitions: deque[Transition] = deque(maxlen=log_size)

    @property
    def state(self) -> State:
        return State(self._state)

    @property
    def counters(self) -> DelineationCounters:
        c = self._counters
        t = C_TRANSITION_BASE
        return DelineationCounters(
            bits_in=self._bits_in,
            bits_pending=self._tail.shape[0] * 8 - self._pos,
            bits_hunted=int(c[C_BITS_HUNTED]),
            cells_presync=int(c[C_CELLS_PRESYNC]),
            cells_delivered=int(c[C_CELLS_DELIVERED]),
            hec_errors_in_sync=int(c[C_HEC_ERRORS_IN_SYNC]),
            hunt_to_presync=int(c[t + State.HUNT * 3 + State.PRESYNC]),
            presync_to_hunt=int(c[t + State.PRESYNC * 3 + State.HUNT]),
            presync_to_sync=int(c[t + State.PRESYNC * 3 + State.SYNC]),
            sync_to_hunt=int(c[t + State.SYNC * 3 + State.HUNT]),
            transitions_unlogged=int(c[C_TRANSITIONS_UNLOGGED]),
        )

    def feed(self, chunk: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
        """Take the next octets of the stream; return the cells delivered, (m, 53) uint8."""
        if isinstance(chunk, np.ndarray):
            if chunk.dtype != np.uint8 or chunk.ndim != 1:
                raise FieldError("chunk", f"{chunk.dtype} array of shape {chunk.shape}", "a 1-D uint8 array or bytes")
            data = chunk
        elif isinstance(chunk, (bytes, bytearray, memoryview)):
            data = np.frombuffer(chunk, dtype=np.uint8)
        else:
            raise FieldError("chunk", type(chunk).__name__, "a 1-D uint8 array or bytes")
        self._bits_in += data.shape[0] * 8
        buf = np.concatenate((self._tail, data)) if self._tail.shape[0] else np.ascontiguousarray(data)
        n_bits = buf.shape[0] * 8 - self._pos
        out = np.empty((n_bits // CELL_BITS + 1, CELL_OCTETS), dtype=np.uint8)
        log_capacity = 2 * (n_bits // CELL_BITS) + 4  # a PRESYNC round trip spans at least a cell
        log_bit = np.empty(log_capacity, dtype=np.int64)
        log_state = np.empty(log_capacity, dtype=np.int8)
        status, pos, state, run, n_out, n_log = self._run_fn(
            buf, self._pos, self._state, self._run, self.alpha, self.delta, self._base_bit,
            out, self._counters, log_bit, log_state,
        )
        if status != STATUS_OK:
            raise DelineationError(state, run, self._base_bit + pos)
        self._state, self._run = int(state), int(run)
        self.transitions.extend(Transition(int(b), State(int(s))) for b, s in zip(log_bit[:n_log], log_state[:n_log]))
        keep_from = pos >> 3
        self._tail = buf[keep_from:].copy()
        self._pos = pos & 7
        self._base_bit += keep_from * 8
        return out[:n_out]
