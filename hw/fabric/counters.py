"""The fabric's counting vocabulary, in one place: drop causes and the column of every counter.

The register map (registers.py), the kernels and the twin all index counters through these names.

Units. A cell that enters the fabric is *offered* as one copy per leaf of its VC at the time of
arrival (one copy when it cannot be routed). Every offered copy ends in exactly one of: delivered
(TX), still queued, or one drop counter below. Conservation, checked by the tests:

    sum(RX_COPIES) == sum(TX_CELLS) + queued copies + sum(DROP_IN_*)      (per input port, per VC)

The register map names every counter once (registers.py: PORT_COUNTERS, VC_COUNTERS, LEAF_COUNTERS
give the array and column of each).
"""

from __future__ import annotations

import enum

import numba as _nb
import numpy as np


class Drop(enum.IntEnum):
    """Why a copy was discarded. Each discarded copy increments exactly one of these."""

    UNKNOWN_VC = 0  # no valid translation-table entry for (port, VPI, VCI)
    NO_LEAF = 1  # the VC is valid but its leaf list is empty (e.g. every party dropped)
    HEC_ERROR = 2  # injected cell whose HEC does not match its header (I.432 4.3.3: discard)
    MEMORY_FULL = 3  # no free buffer in the shared cell memory
    POINTER_FULL = 4  # no free queue-pointer node (the pointer RAM of the shared memory)
    QUEUE_FULL = 5  # tail drop: the port's queue has reached QLIMIT
    CLP_DISCARD = 6  # CLP=1 cell while the queue is at or above CLP_THRESH (selective discard)
    EPD = 7  # early packet discard: a whole AAL5 frame refused at its first cell
    PPD = 8  # partial packet discard: rest of an AAL5 frame after one of its cells was lost

    @property
    def key(self) -> str:
        return self.name.lower()


N_DROP = len(Drop)

# Counters are split by the block that writes them: the ingress (arrivals, buffer management) and the
# delivery accounting (egress.account: delivered copies and the emulated leaf's checker). Their arrays
# are kept apart so that the two may run on two threads without sharing a cache line (pipeline.py).

# -- per port, ingress: port_cnt[port, column] --------------------------------------------------------
PORT_RX_CELLS = 0  # cells that arrived on this input
PORT_RX_COPIES = 1  # copies offered by those cells (fanout, or 1 when unroutable)
PORT_GEN_BLOCKED = 2  # generated cells not sent because an injected cell held the input line that slot
PORT_DROP_IN = 3  # + cause: copies of cells that arrived on this input, dropped
PORT_DROP_OUT = PORT_DROP_IN + N_DROP  # + cause: copies destined to this output, dropped
# copies delivered on this output (so counted in TX_CELLS too) through a leaf with LEAF_ACCOUNT_ONLY
# while the port's consumer flags were set: neither captured nor stopping the kernel (egress.py). Written
# by the switch thread (egress.deliver_copy), like the ingress counters of this array.
PORT_TX_UNCAPTURED = PORT_DROP_OUT + N_DROP
PORT_COLUMNS = PORT_TX_UNCAPTURED + 1

# -- per port, delivery: port_tx[port, column] --------------------------------------------------------
TX_CELLS = 0  # copies delivered on this output
TX_DELAY_SUM = 1  # sum of the delays (slots) of the copies delivered on this output
TX_DELAY_MAX = 2  # largest delay of a copy delivered on this output
TX_COLUMNS = 3

# -- per VC (translation-table entry), ingress: vc_cnt[vc, column]; delivery: vc_out[vc] --------------
VC_IN_CELLS = 0
VC_OFFERED = 1  # copies offered
VC_DROP = 2  # + cause
VC_COLUMNS = VC_DROP + N_DROP

# -- per leaf, delivery (the emulated endpoint's checker): leaf_cnt[leaf, column]; ingress: -------------
# leaf_drop[leaf], copies for this leaf dropped in the fabric, any cause
LEAF_OUT = 0  # copies delivered to this leaf
LEAF_LOST = 1  # sequence numbers skipped (cells lost upstream of this leaf, seen as gaps)
LEAF_MISORDERED = 2  # cells older than one already received (duplicate or out of order): must stay 0
LEAF_FRAMES_OK = 3  # AAL5 frames whose every cell arrived (goodput)
LEAF_FRAMES_BAD = 4  # AAL5 frames closed with a cell missing (would fail the CPCS CRC/length check)
LEAF_DELAY_SUM = 5
LEAF_DELAY_MIN = 6  # (delay + 1) of the fastest copy, 0 until one arrives, so reset to 0 works
LEAF_DELAY_MAX = 7
LEAF_GOOD_CELLS = 8  # cells of the AAL5 frames counted in LEAF_FRAMES_OK (goodput)
LEAF_COLUMNS = 9

# -- bits ------------------------------------------------------------------------------------------
PORT_CAPTURE = np.uint8(1)  # copy every cell delivered on this output to the capture buffer
PORT_STOP = np.uint8(2)  # stop the kernel at the end of a slot in which a cell was delivered here

VC_VALID = np.uint8(1)
VC_AAL5 = np.uint8(2)  # frames delimited by PTI bit 0 (AUU) -> EPD/PPD apply
VC_EPD = np.uint8(4)
VC_PPD = np.uint8(8)
VC_MCAST = np.uint8(16)  # point-to-multipoint: input-queued architectures use the multicast queue

LEAF_VALID = np.uint8(1)
LEAF_KEEP_HEADER = np.uint8(2)  # send the stored header unchanged (signalling to the control port)
# the copies of this leaf leave at line rate and are accounted (TX, VC.OUT, leaf counters, histogram),
# but the port's CAPTURE and STOP do not apply to them: software never sees them (background traffic
# toward a port whose consumer wants every other cell)
LEAF_ACCOUNT_ONLY = np.uint8(4)

#: "no leaf" in leaf links (24-bit fields of the register map)
NIL = 0xFFFFFF

# buffer descriptor flags (memory.py: 6 bits of the descriptor)
BUF_CLP = np.uint8(1)
BUF_PTI_SHIFT = 1  # PTI in bits 1..3
BUF_FIRST = np.uint8(16)  # first cell of an AAL5 frame on its VC
BUF_PAYLOAD = np.uint8(32)  # the cell memory holds this cell's header and payload

# generated-cell flags (traffic block)
GEN_AUU = np.uint8(1)
GEN_CLP = np.uint8(2)


# -- kernel access -----------------------------------------------------------------------------------
# The kernels count through flat views of the 2-D arrays (port_cf, vc_cf, leaf_cf, and port_txf:
# state.py), whose row width is a compile-time constant.


@_nb.njit(cache=True, nogil=True, _nrt=False)
def port_add(port_cf, port, col, x):
    port_cf[port * PORT_COLUMNS + col] += x


@_nb.njit(cache=True, nogil=True, _nrt=False)
def vc_add(vc_cf, vc, col, x):
    vc_cf[vc * VC_COLUMNS + col] += x


@_nb.njit(cache=True, nogil=True, _nrt=False)
def leaf_add(leaf_cf, leaf, col, x):
    leaf_cf[leaf * LEAF_COLUMNS + col] += x
