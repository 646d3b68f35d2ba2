"""The host SSCOP: the signalling AAL of the UNI, run by the MCM (docs/adapter.md, "Decision: SSCOP runs
on the host, in the MCM").

One user-side :class:`firmware.signalling_link.SignallingLink` (SSCF-UNI, Q.2130, over SSCOP, Q.2110)
on the MCM's timer-DPC clock (timers.py). Its lower port is the adapter:

* ``frame_out`` (an SSCOP PDU, the AAL5 SDU) -> a frame on transmit ring 1, VC table entry
  ``McmConfig.signalling_vc`` (VPI 0/VCI 5); the doorbell is rung when the driver leaves its lock;
* frames of receive ring 1 (harvested by the DPC) -> ``frame_in(octets, slot)``; a PDU the adapter
  reported in error (ERR: CRC, length...) is counted and not given to SSCOP (Q.2110 does not see AAL5
  errors; SSCOP recovers the SD by retransmission).

Link state (AAL-ESTABLISH / AAL-RELEASE, Q.2130): the channel of signalling.py establishes the link at
initialisation and again whenever it is lost, holding the messages given meanwhile; when the link comes
up the first time the address family is registered (miniport.py). Every change is counted.
"""

from __future__ import annotations

from cm.mcm.config import SIGNALLING_RING
from cm.mcm.rings import RxFrame
from firmware.signalling_link import LinkCause, SignallingLink


class HostSaal:
    """The host SSCOP. State it owns: ``saal`` (the SignallingLink), ``saal_up``."""

    def _init_saal(self) -> None:
        from cm.mcm.signalling import CODEC
        self.saal = SignallingLink(self.timer_clock, name=f"{self.name}.saal", side="user", params=self.cfg.sscop,
                                   codec=CODEC)
        self.saal.frame_out = self._saal_frame_out
        self.saal_up = False

    def _saal_stop(self) -> None:
        """At halt (under the lock): AAL-RELEASE.request when the link is up; its timers are left to
        expire into the halted driver, which ignores them (counted)."""
        self._stop_signalling()
        if self.saal.established:
            self.saal.release()
            self._ring_doorbells()
        self.saal.frame_out = None

    def _saal_frame_out(self, sdu: bytes) -> None:
        """SSCOP sends a PDU: one frame on the signalling ring (the doorbell waits for the lock's release)."""
        if self.halted:
            self.counters["saal_frames_after_halt"] += 1
            return
        self.tx[SIGNALLING_RING].send(self.cfg.signalling_vc, sdu)

    def _saal_frame_in(self, frame: RxFrame) -> None:
        """A frame of receive ring 1 (from the DPC, under the lock)."""
        if frame.vc != self.cfg.signalling_vc:
            self.counters["saal_frames_wrong_vc"] += 1
            return
        if frame.err:
            self.counters["saal_frames_errored"] += 1
            return
        self.saal.frame_in(frame.data, frame.slot)

    def _saal_link_state(self, up: bool, cause: LinkCause) -> None:
        """AAL-ESTABLISH/RELEASE indication or confirm (under the lock; the channel re-establishes a lost
        link by itself, signalling.py)."""
        self.saal_up = up
        self.counters[f"saal_link_{'up' if up else 'down'}.{getattr(cause, 'name', cause)}"] += 1
        if up and not self.af_registered:
            self._queue_work_item(self._register_address_family)


__all__ = ["HostSaal"]
