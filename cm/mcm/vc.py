"""VCs: the MCM's per-VC state (CallMgrVcContext), ProtocolCoCreateVc / ProtocolCoDeleteVc, and the
adapter's VC table, programmed through its VC window registers.

Opening an entry (docs/adapter.md, step 6), with the entry disabled: VC[i].HDR (VPI, VCI), the traffic
registers PCR, SCR, MBS, CDVT (slots), MAX_SDU, then VC[i].CTRL with AAL, SERVICE, RX_RING, TX_EN,
RX_EN. ATM_MEDIA_PARAMETERS map onto them directly (Transmit.PeakCellRate -> PCR, AverageCellRate ->
SCR, BurstLengthCells -> MBS, CellDelayVariationCLP0 (microseconds) -> CDVT, ServiceCategory ->
SERVICE, AALType -> AAL). Closing it: VC[i].CTRL with TX_EN = RX_EN = 0 (the adapter discards and counts
the cells still queued).

The order around NDIS (reference/condis-mcm.md; the WDK coisdn sample):
make-call: entry programmed -> NdisMCmActivateVc -> NdisMCmMakeCallComplete(SUCCESS);
close-call: entry disabled -> NdisMCmDeactivateVc -> NdisMCmCloseCallComplete.

Entry 0 (``McmConfig.signalling_vc``) is the signalling VC, VPI 0/VCI 5 on ring 1, opened at
initialisation; the others are handed out to calls and given back when their call is closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from cm.mcm.config import DATA_RING, SIGNALLING_RING
from cm.mcm.errors import McmHardwareError, McmStateError
from cm.ndis.handles import NdisVcHandle, Out
from cm.ndis.params import (AAL_TYPE_AAL5, ATM_FLOW_PARAMETERS, ATM_MEDIA_PARAMETERS, ATM_SERVICE_CATEGORY_CBR,
                            CO_CALL_PARAMETERS)
from cm.ndis.status import NDIS_STATUS, NDIS_STATUS_NOT_ACCEPTED, NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS
from firmware.signalling_link import SIGNALLING_VCI, SIGNALLING_VPI

if TYPE_CHECKING:
    from cm.mcm.parties import McmParty

TAG_VC = "McVc"  # pool tag of the per-VC state

#: atm.h AAL_TYPE_* -> the VC.CTRL.AAL field's names
_AAL_NAMES = {AAL_TYPE_AAL5: "AAL5", 1: "AAL0"}


class VcState(str, Enum):
    IDLE = "idle"  # created, no call
    MAKING = "making"  # ProtocolCmMakeCall pended: SETUP out
    CONNECTED = "connected"
    CLOSING = "closing"  # ProtocolCmCloseCall pended: RELEASE out
    CLOSED = "closed"  # the call is over; the VC waits for its delete


@dataclass(eq=False)
class McmVc:
    """CallMgrVcContext (also the MiniportVcContext): what the MCM keeps per VC.

    ``params``: the call's CO_CALL_PARAMETERS (as requested, then as established); ``contract``: the
    traffic the SETUP signalled (what the network admits and polices); ``shaping``: what the adapter
    shapes the VC at now; ``entry``: the adapter VC table entry while the call has one; ``ucall``: the
    Q.2931 call (signalling.py's object, opaque elsewhere); ``parties``: per-party state by endpoint
    reference; ``cause``: the cause the call was cleared with; ``failure``: the status a make-call fails
    with when the MCM itself cleared it (None: the cause's status)."""

    handle: NdisVcHandle
    state: VcState = VcState.IDLE
    params: CO_CALL_PARAMETERS | None = None
    contract: ATM_MEDIA_PARAMETERS | None = None
    shaping: ATM_FLOW_PARAMETERS | None = None
    entry: int | None = None
    vpi: int | None = None
    vci: int | None = None
    ucall: Any = None
    parties: dict[int, "McmParty"] = field(default_factory=dict)
    first: "McmParty | None" = None
    close_party: "McmParty | None" = None
    cause: int | None = None
    failure: int | None = None
    uni_gone: bool = False
    incoming_close: bool = False
    frames_sent: int = 0

    def __repr__(self) -> str:
        conn = "" if self.vpi is None else f" {self.vpi}/{self.vci}"
        return f"<McmVc {self.state.value}{conn} entry={self.entry} parties={sorted(self.parties)}>"


class VcTable:
    """ProtocolCoCreateVc / ProtocolCoDeleteVc and the adapter's VC table. State it owns: ``vcs`` (the
    live McmVc), ``_free_entries``."""

    def _init_vcs(self) -> None:
        n = self.hdr.cfg.vcs
        sig = self.cfg.signalling_vc
        if sig >= n:
            raise McmHardwareError("McmConfig.signalling_vc", sig, f"an entry of the adapter's VC table 0..{n - 1}")
        self.vcs: list[McmVc] = []
        self._free_entries = [i for i in range(n - 1, -1, -1) if i != sig]  # a stack: lowest first
        sscop_max = 4096 if self.cfg.sscop is None else self.cfg.sscop.max_k
        self._open_entry(sig, SIGNALLING_VPI, SIGNALLING_VCI, ATM_FLOW_PARAMETERS(ATM_SERVICE_CATEGORY_CBR),
                         ring=SIGNALLING_RING, rx=True, max_sdu=min(0xFFFF, sscop_max + 16))

    def _halt_vcs(self) -> None:
        """At halt: every entry a call still holds is disabled (NDIS closes calls before halting; what a
        broken client left open must not keep sending), and the signalling entry."""
        for vc in self.vcs:
            if vc.entry is not None:
                self._close_entry(vc.entry)
                self._free_entries.append(vc.entry)
                vc.entry = None
        self._close_entry(self.cfg.signalling_vc)

    # ------------------------------------------------------------------------------------------
    # the VC window

    def _open_entry(self, entry: int, vpi: int, vci: int, flow: ATM_FLOW_PARAMETERS, *, ring: int = DATA_RING,
                    rx: bool = False, aal: int = AAL_TYPE_AAL5, max_sdu: int = 0xFFFF, cdvt_us: int = 0) -> None:
        bus, hdr = self.res.bus, self.hdr
        bus.write32(hdr.off("VC.HDR", entry), hdr.bits("VC.HDR", VPI=vpi, VCI=vci))
        self._write_traffic(entry, flow, cdvt_us)
        bus.write32(hdr.off("VC.MAX_SDU", entry), max_sdu)
        bus.write32(hdr.off("VC.CTRL", entry), hdr.bits("VC.CTRL", AAL=_AAL_NAMES.get(aal, "AAL5"),
                                                          SERVICE=flow.ServiceCategory, RX_RING=ring, TX_EN=1,
                                                          RX_EN=int(rx)))
        self.counters["vc_entries_opened"] += 1

    def _write_traffic(self, entry: int, flow: ATM_FLOW_PARAMETERS, cdvt_us: int = 0) -> None:
        """PCR, SCR, MBS, CDVT of an entry: PCR above the line rate is the line rate (0); MBS at least
        1; SCR only below the PCR (else none: the PCR bounds the VC)."""
        bus, hdr = self.res.bus, self.hdr
        pcr = flow.PeakCellRate if 0 < flow.PeakCellRate < self.line_rate else 0
        top = pcr or self.line_rate
        scr = flow.AverageCellRate if 0 < flow.AverageCellRate < top else 0
        mbs = max(1, flow.BurstLengthCells)
        # order matters: the adapter checks SCR <= PCR and MBS >= 1 with SCR at each write
        bus.write32(hdr.off("VC.SCR", entry), 0)
        bus.write32(hdr.off("VC.PCR", entry), pcr)
        bus.write32(hdr.off("VC.MBS", entry), mbs)
        bus.write32(hdr.off("VC.SCR", entry), scr)
        bus.write32(hdr.off("VC.CDVT", entry), self.res.clock.slots(cdvt_us * 1e-6) if cdvt_us else 0)

    def _close_entry(self, entry: int) -> None:
        """VC[i].CTRL with TX_EN = RX_EN = 0, the other fields kept (read-modify-write)."""
        bus, hdr = self.res.bus, self.hdr
        off = hdr.off("VC.CTRL", entry)
        bus.write32(off, bus.read32(off) & ~(hdr.bit("VC.CTRL", "TX_EN") | hdr.bit("VC.CTRL", "RX_EN")))
        self.counters["vc_entries_closed"] += 1

    def _program_call_vc(self, vc: McmVc) -> bool:
        """The call's entry opened (under the lock): VPI/VCI from the network's connection identifier,
        traffic from the contract. False (and counted) when the table is full."""
        if vc.vpi is None:
            raise McmStateError(f"{vc!r}: no connection identifier from the network")
        if not self._free_entries:
            self.counters["vc_table_full"] += 1
            return False
        vc.entry = self._free_entries.pop()
        media = vc.contract or ATM_MEDIA_PARAMETERS()
        flow = vc.shaping or media.Transmit
        vc.shaping = flow
        self._open_entry(vc.entry, vc.vpi, vc.vci, flow, rx=bool(media.Receive.PeakCellRate),
                         aal=media.AALType, max_sdu=media.Receive.MaxSduSize or 0xFFFF,
                         cdvt_us=media.CellDelayVariationCLP0)
        return True

    def _release_call_vc(self, vc: McmVc) -> None:
        """The call's entry disabled and given back (under the lock)."""
        if vc.entry is not None:
            self._close_entry(vc.entry)
            self._free_entries.append(vc.entry)
            vc.entry = None

    def _reshape(self, vc: McmVc, flow: ATM_FLOW_PARAMETERS) -> None:
        """New traffic parameters for every party of the VC (PartyTrafficPolicy.CHANGE_FOR_ALL)."""
        vc.shaping = flow
        if vc.entry is not None:
            self._write_traffic(vc.entry, flow, (vc.contract or ATM_MEDIA_PARAMETERS()).CellDelayVariationCLP0)
            self.counters["vc_reshaped"] += 1

    # ------------------------------------------------------------------------------------------
    # ProtocolCoCreateVc / ProtocolCoDeleteVc (never PENDING)

    def ProtocolCoCreateVc(self, ProtocolAfContext: Any, NdisVcHandle: NdisVcHandle, ProtocolVcContext: Out) -> int:
        """A client creates a VC for an outgoing call: allocate the per-VC state."""
        vc = self.ndis.NdisAllocateMemoryWithTagPriority(self.adapter_handle, McmVc(NdisVcHandle), TAG_VC)
        if vc is None:
            return NDIS_STATUS_RESOURCES
        self._enter()
        try:
            self.vcs.append(vc)
        finally:
            self._leave()
        ProtocolVcContext.value = vc
        return NDIS_STATUS_SUCCESS

    def ProtocolCoDeleteVc(self, ProtocolVcContext: McmVc) -> int:
        """The VC is deleted (its call closed): free the per-VC state. NOT_ACCEPTED while a call is on it."""
        vc = ProtocolVcContext
        self._enter()
        try:
            if vc.state in (VcState.MAKING, VcState.CONNECTED, VcState.CLOSING):
                return NDIS_STATUS_NOT_ACCEPTED
            self._release_call_vc(vc)
            self.vcs.remove(vc)
        finally:
            self._leave()
        self.ndis.NdisFreeMemoryWithTagPriority(self.adapter_handle, vc, TAG_VC)
        return NDIS_STATUS_SUCCESS

    # ------------------------------------------------------------------------------------------
    # data: MiniportCoSendNetBufferLists

    def MiniportCoSendNetBufferLists(self, MiniportVcContext: McmVc, NetBufferLists: list[bytes],
                                     SendFlags: int = 0) -> list[int]:
        """Send AAL5 frames on a connected VC (ring 0). Returns one status per frame: SUCCESS (in the
        ring, or waiting for room), NDIS_STATUS_VC_NOT_ACTIVATED when the VC carries no active call."""
        vc = MiniportVcContext
        out = []
        self._enter()
        try:
            for frame in NetBufferLists:
                if vc.entry is None or vc.state is not VcState.CONNECTED:
                    out.append(NDIS_STATUS.VC_NOT_ACTIVATED)
                    self.counters["send_refused_not_active"] += 1
                    continue
                self.tx[DATA_RING].send(vc.entry, bytes(frame))
                vc.frames_sent += 1
                out.append(NDIS_STATUS_SUCCESS)
        finally:
            self._leave()
        return out

    def _data_frame_in(self, frame: Any) -> None:
        """A frame on a data VC: counted (no receive path is modelled; a point-to-multipoint root gets
        nothing from its leaves)."""
        self.counters["rx_data_errors" if frame.err else "rx_data_frames"] += 1


__all__ = ["McmVc", "TAG_VC", "VcState", "VcTable"]
