"""Which cells of a batch belong to a set of VCs: the cell tap's filter, one pass over the headers.

A UNI cell header (I.361 2.2) is GFC (4 bits), VPI (8), VCI (16), PTI (3), CLP (1), HEC (8); its VC is
the 24 bits ``VPI << 16 | VCI``, octets 0-3 shifted right by 4. :func:`vc_mask` marks, for an (n, 53)
uint8 array, the cells whose VC is in a sorted key array (``exclude=False``) or not in it
(``exclude=True``, for "every VC but the signalling channel").

The kernel reads the four header octets of each row and looks the key up by binary search, in one
pass, with no temporary array per cell (the numpy equivalent gathers the strided header octets into a
copy first, which costs more than the whole lookup). :func:`vc_mask_twin` is its plain-Python twin, the
same algorithm a cell at a time; tests hold the two to the same answers on random cases.
"""

from __future__ import annotations

from bisect import bisect_left

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def vc_mask_kernel(cells, keys, exclude, out):
    """``out[i]`` = whether cell ``i``'s VC is in ``keys`` (sorted uint32), negated when ``exclude``."""
    m = keys.shape[0]
    for i in range(cells.shape[0]):
        key = ((np.uint32(cells[i, 0]) & np.uint32(0x0F)) << 20) | (np.uint32(cells[i, 1]) << 12) \
            | (np.uint32(cells[i, 2]) << 4) | (np.uint32(cells[i, 3]) >> 4)
        lo, hi = 0, m
        while lo < hi:  # the first key >= key
            mid = (lo + hi) >> 1
            if keys[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        found = lo < m and keys[lo] == key
        out[i] = found != exclude


def vc_mask_twin(cells, keys, exclude: bool) -> np.ndarray:
    """Plain-Python twin of :func:`vc_mask_kernel`: the same key and binary search, a cell at a time."""
    keys = [int(k) for k in keys]
    out = np.zeros(len(cells), dtype=bool)
    for i, row in enumerate(cells):
        key = ((int(row[0]) & 0x0F) << 20) | (int(row[1]) << 12) | (int(row[2]) << 4) | (int(row[3]) >> 4)
        at = bisect_left(keys, key)
        out[i] = (at < len(keys) and keys[at] == key) != exclude
    return out


def vc_mask(cells: np.ndarray, keys: np.ndarray, exclude: bool = False) -> np.ndarray:
    """The kernel on a (n, 53) uint8 array and a sorted uint32 key array: a bool mask of n."""
    out = np.empty(cells.shape[0], dtype=np.bool_)
    vc_mask_kernel(cells, keys, bool(exclude), out)
    return out


__all__ = ["vc_mask", "vc_mask_kernel", "vc_mask_twin"]
