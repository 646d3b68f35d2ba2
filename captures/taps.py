"""Taps: what feeds a :class:`captures.recorder.Recorder` from the running emulation.

:class:`SignallingTap` sits on a SAAL endpoint (``firmware.signalling_link.SignallingLink``), whose
``tap(direction, sdu_octets, slot)`` hook shows every SSCOP PDU it sends ("tx") and receives ("rx").
A frame is recorded once per link, where it was sent (as a tap on the sender's fibre would see it):

- what the endpoint sends is recorded, with the SunATM direction bit of the endpoint's ``side``;
- what it receives is recorded only when the far end's tap did not record it as it was sent (no tap
  there, or not yet when it was sent); a frame the far end's tap has is counted in ``frames_seen_twice``.
  The link remembers the frames each side's tap recorded until they arrive, in order (a VC does not
  reorder), which is how a received frame is recognised.

So tapping one end of a link records both directions, tapping both ends records each frame once, and
a tap added while frames are on their way misses none. A frame lost on the line after the sender's tap
is in the capture, as it is on a real sender's tap (``frames_lost_after_tap`` counts those seen missing).

:class:`CellTap` sits on a ``hw.link.Link`` (``Link.add_tap(fn)``; ``fn(direction, cells, slots)`` is
called in bulk with the user cells the link delivers, ``direction`` a lane name such as ``"a->b"``).
It keeps the cells of the VCs asked for (:mod:`captures.vcfilter`: one pass over the 24 VPI/VCI bits of
every header, no Python object per cell) and writes them as ERF type 3 records, up to a count bound; optionally it
reassembles them per direction (``hw.aal5.Reassembler``) and writes every whole AAL5 PDU as an ERF
type 4 record with its CPCS trailer and CRC-32. Everything not written is counted (see
:class:`captures.recorder.RecordedLink`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

import numpy as np

from captures.recorder import SIDES, RecordedLink, Recorder, RecorderError, RecorderFieldError, other_side
from captures.vcfilter import vc_mask
from hw.aal5 import Reassembler, cpcs_pdu
from hw.cell import CELL_OCTETS

SIGNALLING_KEY = (0 << 16) | 5  # VPI 0 / VCI 5 (I.361 2.2.3)


class TapUnavailableError(RecorderError):
    """The thing to tap does not offer the hook the tap needs (for example a ``hw.link.Link`` without
    ``add_tap``)."""


def vc_key(vpi: int, vci: int) -> int:
    """The 24-bit VPI/VCI key of a UNI cell header: ``VPI << 16 | VCI``."""
    if not 0 <= vpi <= 0xFF or not 0 <= vci <= 0xFFFF:
        raise RecorderFieldError("vcs", (vpi, vci), "(VPI 0..255, VCI 0..65535) pairs")
    return vpi << 16 | vci


# ------------------------------------------------------------------------------------------ signalling
class SignallingTap:
    """Records the SSCOP PDUs of one SAAL endpoint on one link of a recorder (see the module doc).

    The endpoint's ``tap`` hook is taken over; a tap already there is still called, first.
    :meth:`remove` gives it back."""

    def __init__(self, recorder: Recorder, link: RecordedLink, endpoint: Any) -> None:
        side = getattr(endpoint, "side", None)
        if side not in SIDES:
            raise RecorderFieldError("endpoint", endpoint, "a SAAL endpoint with side 'user' or 'network'")
        if not hasattr(endpoint, "tap"):
            raise TapUnavailableError(f"{endpoint!r} has no tap hook (firmware.signalling_link.SignallingLink has)")
        if isinstance(endpoint.tap, SignallingTap):
            raise RecorderFieldError("endpoint", endpoint, "an endpoint not tapped yet")
        if link.signalling_taps.get(side):
            raise RecorderFieldError("endpoint", endpoint, f"the {other_side(side)} end of {link.name}: its "
                                     f"{side} end is tapped already (a link has one end on each side)")
        self.recorder = recorder
        self.link = link
        self.endpoint = endpoint
        self.side = side
        self._peer = other_side(side)
        self._previous = endpoint.tap
        endpoint.tap = self
        link.signalling_taps[side] = 1
        recorder.taps.append(self)

    def __call__(self, direction: str, sdu: bytes, slot: int) -> None:
        if self._previous is not None:
            self._previous(direction, sdu, slot)
        link = self.link
        if direction == "tx":
            self.recorder.record_signalling(link, self.side, sdu, slot)
            link.in_flight[self.side].append(sdu)
            return
        # Received: recorded already if the sender's tap saw it go. A link keeps its frames in order
        # (one VC, no reordering), so the sender's recorded frames not yet seen are matched oldest first;
        # those passed over were lost on the line.
        sent = link.in_flight[self._peer]
        if sent and sdu in sent:
            while sent.popleft() != sdu:
                link.counters["frames_lost_after_tap"] += 1
            link.counters["frames_seen_twice"] += 1
            return
        link.counters["frames_recorded_at_receiver"] += 1
        self.recorder.record_signalling(link, self._peer, sdu, slot)

    def remove(self) -> None:
        """Stop recording this endpoint and give its tap hook back."""
        if self.endpoint.tap is self:
            self.endpoint.tap = self._previous
            self.link.signalling_taps.pop(self.side, None)
        if self in self.recorder.taps:
            self.recorder.taps.remove(self)

    def finish(self) -> None:
        """Nothing to flush: frames are written as they come."""


# ------------------------------------------------------------------------------------------ data cells
class CellTap:
    """Records the data cells one ``hw.link.Link`` delivers on one link of a recorder.

    ``vcs``: the (VPI, VCI) pairs to record; None records every VC but the signalling channel 0/5 (its
    frames are in the SunATM interface already; name (0, 5) to have its cells too). ``limit``: at most
    this many cells written as ERF type 3 (None: no bound); ``cells=False`` writes none. ``aal5``: also
    reassemble the kept cells per direction and write each whole AAL5 PDU as an ERF type 4 record, at
    most ``aal5_limit`` of them. ``lanes``: the lane names of what end ``a`` and end ``b`` of the link
    send (default: the hw link's lanes, ``a_to_b`` then ``b_to_a``; without a hw link,
    ``"<end_a>-><end_b>"`` and ``"<end_b>-><end_a>"``). ``reassembly_timeout_slots``: the AAL5
    reassembly timer (None: none). With ``hw_link``, the tap attaches itself with ``hw_link.add_tap``."""

    def __init__(self, recorder: Recorder, link: RecordedLink, hw_link: Any = None, *,
                 vcs: Iterable[tuple[int, int]] | None = None, limit: int | None = None, cells: bool = True,
                 aal5: bool = False, aal5_limit: int | None = None, lanes: tuple[str, str] | None = None,
                 reassembly_timeout_slots: int | None = None) -> None:
        for name, value in (("limit", limit), ("aal5_limit", aal5_limit)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise RecorderFieldError(name, value, "None or an integer >= 0")
        if not cells and not aal5:
            raise RecorderFieldError("cells/aal5", (cells, aal5), "cells, AAL5 PDUs or both to record")
        add = None
        if hw_link is not None:
            add = getattr(hw_link, "add_tap", None)
            if add is None:
                raise TapUnavailableError(f"{hw_link!r} has no add_tap(fn): this hw.link.Link cannot be tapped "
                                          "(call the CellTap with (direction, cells, slots) instead)")
        self.recorder = recorder
        self.link = link
        self.hw_link = hw_link
        self.keys = None if vcs is None else np.array(sorted({vc_key(int(p), int(c)) for p, c in vcs}), np.uint32)
        # The filter's keys: those asked for, or (by default) the signalling channel's, left out.
        self._filter = (np.array([SIGNALLING_KEY], np.uint32), True) if self.keys is None else (self.keys, False)
        self.limit = limit
        self.aal5_limit = aal5_limit
        self.record_cells = bool(cells)
        if lanes is None:
            if hw_link is not None:
                lanes = (hw_link.a_to_b.name, hw_link.b_to_a.name)
            else:
                lanes = (f"{link.end_a}->{link.end_b}", f"{link.end_b}->{link.end_a}")
        if len(lanes) != 2 or lanes[0] == lanes[1]:
            raise RecorderFieldError("lanes", lanes, "two different lane names (end a's, then end b's)")
        self.senders = {lanes[0]: link.end_a, lanes[1]: link.end_b}
        self.reassemblers: dict[str, Reassembler] | None = (
            {lane: Reassembler(timeout_slots=reassembly_timeout_slots) for lane in lanes} if aal5 else None)
        self.counters: Counter = Counter()  # this tap's share of the link's counters
        if add is not None:
            add(self)
        recorder.taps.append(self)

    def _count(self, name: str, n: int) -> None:
        if n:
            self.counters[name] += n
            self.link.counters[name] += n

    def __call__(self, direction: str, cells: np.ndarray, slots: np.ndarray) -> None:
        sender = self.senders.get(direction)
        if sender is None:
            raise RecorderFieldError("direction", direction, " or ".join(repr(k) for k in self.senders))
        if (not isinstance(cells, np.ndarray) or cells.dtype != np.uint8 or cells.ndim != 2
                or cells.shape[1] != CELL_OCTETS):
            raise RecorderFieldError("cells", getattr(cells, "shape", type(cells).__name__),
                                     f"a uint8 array of shape (n, {CELL_OCTETS})")
        n = int(cells.shape[0])
        slots = np.asarray(slots)
        if slots.shape != (n,) or slots.dtype.kind not in "iu":
            raise RecorderFieldError("slots", f"{slots.dtype} array of shape {slots.shape}",
                                     f"an integer array of shape ({n},)")
        if not n:
            return
        self._count("cells_seen", n)
        keep = vc_mask(cells, *self._filter)
        if not keep.all():
            cells, slots = cells[keep], slots[keep]
            self._count("cells_filtered_out", n - int(cells.shape[0]))
        m = int(cells.shape[0])
        if not m:
            return
        if self.record_cells:
            room = m if self.limit is None else max(0, self.limit - self.counters["cells"])
            k = min(m, room)
            self._count("cells_over_limit", m - k)
            if k:
                self.recorder.record_cells(self.link, sender, cells[:k], slots[:k])
                self.counters["cells"] += k  # the link's "cells" counter is the recorder's
        if self.reassemblers is not None:
            self._aal5(direction, sender, cells, slots)

    def _aal5(self, lane: str, sender: str, cells: np.ndarray, slots: np.ndarray) -> None:
        result = self.reassemblers[lane].feed(cells, slots.astype(np.int64, copy=False))
        for error in result.errors:
            self._count(f"aal5_discarded.{error.kind}", 1)
        for i in range(len(result)):
            if self.aal5_limit is not None and self.counters["aal5_pdus"] >= self.aal5_limit:
                self._count("aal5_pdus_over_limit", len(result) - i)
                break
            # The reassembler checked the CRC-32 and Length (I.363.5 9.2.2.2): the PDU rebuilt from the SDU,
            # UU and CPI is the one the cells carried, octet for octet.
            pdu = cpcs_pdu(result.sdu(i), int(result.uu[i]), int(result.cpi[i]))
            self.recorder.record_aal5(self.link, sender, int(result.vpi[i]), int(result.vci[i]), pdu,
                                      int(result.slot[i]))
            self.counters["aal5_pdus"] += 1

    def remove(self) -> None:
        """Detach from the hw link (``remove_tap``) and stop recording."""
        if self.hw_link is not None:
            remove = getattr(self.hw_link, "remove_tap", None)
            if remove is not None:
                remove(self)
            self.hw_link = None
        self.finish()
        if self in self.recorder.taps:
            self.recorder.taps.remove(self)

    def finish(self) -> None:
        """Count the cells of AAL5 PDUs still incomplete (they are in no record)."""
        if self.reassemblers is None:
            return
        pending = sum(r.counters["cells_pending"] for r in self.reassemblers.values())
        self._count("aal5_cells_pending", pending - self.counters["aal5_cells_pending"])


# ------------------------------------------------------------------------------------------ a whole switch
def tap_switch_node(recorder: Recorder, node: Any, *, cells: dict[str, Any] | None = None) -> dict[int, RecordedLink]:
    """Record every port of a switch node (``firmware.switch.node.SwitchNode``) that has a device: one
    link per port, ``"<switch>:<port><-><device>"`` with the device on the user side, its signalling
    tapped at both ends (the switch CPU's SAAL endpoint of the port, and the device's when it has one:
    a ``CellPort`` carries its endpoint). ``cells``: also tap the port's line for data cells, with these
    :class:`CellTap` options (``{}`` for every VC but 0/5). Returns the recorded link of each port."""
    out: dict[int, RecordedLink] = {}
    for port in range(node.ports):
        device = node.device(port)
        if device is None:
            continue
        endpoint = getattr(device, "endpoint", None)
        name = getattr(endpoint, "name", None) or f"device{port}"
        link = recorder.link(f"{node.name}:{port}", name, user=name)
        recorder.tap_signalling(link, node.saal[port])
        if getattr(endpoint, "side", None) in SIDES and hasattr(endpoint, "tap"):
            recorder.tap_signalling(link, endpoint)
        if cells is not None:
            line = node.links[port]  # end a is the device's side of the line, end b the switch's
            CellTap(recorder, link, line, lanes=(line.b_to_a.name, line.a_to_b.name), **cells)
        out[port] = link
    return out


def finish_taps(recorder: Recorder) -> None:
    """Called by :meth:`Recorder.close`: every tap accounts for what it still holds."""
    for tap in list(recorder.taps):
        tap.finish()


__all__ = ["CellTap", "SignallingTap", "TapUnavailableError", "finish_taps", "tap_switch_node", "vc_key"]
