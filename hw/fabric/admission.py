"""Buffer management: may this copy enter its queue? One decision per copy (per leaf).

Rules (switch-models.md, "Buffer management for AAL5 traffic"):
- tail drop: a queue at QLIMIT takes nothing more;
- CLP-selective discard (I.371 priority control): at or above CLP_THRESH, CLP=1 cells are discarded;
- early packet discard (EPD, Romanow & Floyd, "Dynamics of TCP traffic over ATM networks",
  IEEE JSAC 13(4), 1995): at or above EPD_THRESH, an AAL5 frame is refused at its first cell, and
  all of its cells are discarded, the last one included;
- partial packet discard (PPD, Armitage & Adams, "Packet reassembly during cell loss", IEEE Network
  7(5), 1993): once a cell of an AAL5 frame is lost, the rest of the frame is discarded except its
  last cell (AUU=1), which is offered normally so the receiver's reassembly resynchronises.

Order of the checks for a copy: a discard already running for this leaf's frame (EPD, then PPD);
EPD at a frame's first cell; then shared memory full, pointer RAM full, QLIMIT, CLP threshold. The
discard state is per leaf, because copies of one cell can meet different queues.
"""

from __future__ import annotations

import numba as nb

from hw.fabric.counters import Drop

ACCEPT = -1
NORMAL = 0
EPD_DISCARDING = 1
PPD_DISCARDING = 2

_EPD = int(Drop.EPD)
_PPD = int(Drop.PPD)
_MEM = int(Drop.MEMORY_FULL)
_PTR = int(Drop.POINTER_FULL)
_QUEUE = int(Drop.QUEUE_FULL)
_CLP = int(Drop.CLP_DISCARD)


@nb.njit(cache=True, nogil=True, _nrt=False)
def admit(discard, frames, epd_on, ppd_on, first, last, clp, qlen, limit, clp_th, epd_th, mem_ok, node_ok):
    """(cause or ACCEPT, new discard state) for one copy.

    discard: the leaf's discard state (NORMAL / EPD_DISCARDING / PPD_DISCARDING);
    frames: the cell is a user cell of an AAL5 VC (EPD/PPD apply); first/last: first cell / AUU=1.
    """
    if frames:
        if discard == EPD_DISCARDING:
            return _EPD, (NORMAL if last else EPD_DISCARDING)
        if discard == PPD_DISCARDING and not last:
            return _PPD, PPD_DISCARDING
        if epd_on and first and qlen >= epd_th:
            return _EPD, (NORMAL if last else EPD_DISCARDING)
    if not mem_ok:
        cause = _MEM
    elif not node_ok:
        cause = _PTR
    elif qlen >= limit:
        cause = _QUEUE
    elif clp and qlen >= clp_th:
        cause = _CLP
    else:
        return ACCEPT, NORMAL
    if frames and ppd_on and not last:
        return cause, PPD_DISCARDING
    return cause, NORMAL


def admit_twin(discard, frames, epd_on, ppd_on, first, last, clp, qlen, limit, clp_th, epd_th, mem_ok, node_ok):
    """Plain-Python twin of :func:`admit`, written as the rule list of the module docstring."""
    # a frame already being discarded
    if frames and discard == EPD_DISCARDING:
        return _EPD, NORMAL if last else EPD_DISCARDING
    if frames and discard == PPD_DISCARDING and not last:
        return _PPD, PPD_DISCARDING
    # EPD decides at the first cell of a frame
    if frames and epd_on and first and qlen >= epd_th:
        return _EPD, NORMAL if last else EPD_DISCARDING
    for failed, cause in (
        (not mem_ok, _MEM),
        (not node_ok, _PTR),
        (qlen >= limit, _QUEUE),
        (bool(clp) and qlen >= clp_th, _CLP),
    ):
        if failed:
            return cause, PPD_DISCARDING if (frames and ppd_on and not last) else NORMAL
    return ACCEPT, NORMAL
